/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stub until the implementation lands: every call fails with -ENOSYS. */
#include <errno.h>
#include <unistd.h>
#include "tv-gpio-cdev.h"

int tv_gpio_chip_open(const char *path) { (void)path; return -ENOSYS; }
int tv_gpio_chip_ioctl(int chip_fd, unsigned long req, void *arg) { (void)chip_fd; (void)req; (void)arg; return -ENOSYS; }
int tv_gpio_line_request(int chip_fd, struct gpio_v2_line_request *req, TvGpioLineReq *out)
{ (void)chip_fd; (void)req; out->fd = out->ctl = -1; return -ENOSYS; }
int tv_gpio_line_ioctl(const TvGpioLineReq *l, unsigned long req, void *arg) { (void)l; (void)req; (void)arg; return -ENOSYS; }
int tv_gpio_line_read_event(const TvGpioLineReq *l, struct gpio_v2_line_event *ev) { (void)l; (void)ev; return -ENOSYS; }
void tv_gpio_line_close(TvGpioLineReq *l)
{
        if (l->fd >= 0)
                close(l->fd);
        if (l->ctl >= 0 && l->ctl != l->fd)
                close(l->ctl);
        l->fd = l->ctl = -1;
}
