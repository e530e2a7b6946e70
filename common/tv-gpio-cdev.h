/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GPIO character device (uAPI v2), real or simulated: a kernel gpiochip is driven with
 * ioctl(2); orin-sim's simulated chip is a Unix SOCK_SEQPACKET socket that carries the same
 * ioctls with the same <linux/gpio.h> structs as messages ("ioctl over a socket"). The
 * transport is picked by fstat(): S_ISSOCK -> messages, anything else -> ioctl(2).
 *
 * Wire (host byte order, one message per send):
 *   request  { u32 magic TV_GPIO_SOCK_MAGIC; u32 ioctl_nr; u8 arg[_IOC_SIZE(nr)] }
 *   reply    { u32 magic; i32 err (0 or positive errno); u8 arg[_IOC_SIZE(nr)] when _IOC_READ }
 * A GET_LINE reply with err 0 carries two fds in SCM_RIGHTS: [event socket, control socket].
 * Line ioctls go over the control socket with the same framing; the event socket carries one
 * struct gpio_v2_line_event per message. Closing both fds releases the request. */
#pragma once
#include <linux/gpio.h>

#define TV_GPIO_SOCK_MAGIC 0x53475654u /* "TVGS" */

/* Opens a GPIO chip: a character device (open O_RDWR|O_CLOEXEC) or, when path is a Unix socket
 * (stat follows symlinks), a connected SOCK_SEQPACKET|SOCK_CLOEXEC socket. fd or -errno. */
int tv_gpio_chip_open(const char *path);
/* A chip ioctl (GPIO_GET_CHIPINFO_IOCTL, GPIO_V2_GET_LINEINFO_IOCTL): 0 or -errno. */
int tv_gpio_chip_ioctl(int chip_fd, unsigned long req, void *arg);

typedef struct TvGpioLineReq {
        int fd;         /* poll()/read() it for struct gpio_v2_line_event records (kernel semantics) */
        int ctl;        /* where line ioctls go; == fd for the kernel's chardev */
} TvGpioLineReq;
/* GPIO_V2_GET_LINE_IOCTL: 0 with *out filled (both CLOEXEC), or -errno. req->fd is set too. */
int tv_gpio_line_request(int chip_fd, struct gpio_v2_line_request *req, TvGpioLineReq *out);
/* GPIO_V2_LINE_SET_CONFIG_IOCTL, GPIO_V2_LINE_GET_VALUES_IOCTL, GPIO_V2_LINE_SET_VALUES_IOCTL: 0/-errno */
int tv_gpio_line_ioctl(const TvGpioLineReq *l, unsigned long req, void *arg);
/* Reads one event (kernel: read(2) of sizeof(struct gpio_v2_line_event)); 1, 0 (none: EAGAIN), -errno. */
int tv_gpio_line_read_event(const TvGpioLineReq *l, struct gpio_v2_line_event *ev);
void tv_gpio_line_close(TvGpioLineReq *l);   /* closes both (once when equal), sets -1 */
