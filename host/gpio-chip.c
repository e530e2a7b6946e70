// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-chip.h"
#include "tv-gpio-cdev.h"
#include "tv-macros.h"
#include "tv-strv.h"

#include <errno.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tv_gpio_chip_index(TvHost *h, const char *pid, int *index)
{
        _cleanup_strv_ char **names = NULL;
        char dir[PATH_MAX];
        int r;

        if (snprintf(dir, sizeof(dir), "bus/platform/devices/%s", pid) >= (int)sizeof(dir))
                return -ENAMETOOLONG;
        r = tv_sysfs_list(h, dir, &names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                char *end;
                long v;

                if (strncmp(*n, "gpiochip", 8) != 0 || !(*n)[8])
                        continue;
                v = strtol(*n + 8, &end, 10);
                if (*end || v < 0 || v > 65535)
                        continue;
                *index = (int)v;
                return 0;
        }
        return -ENOENT;
}

int tv_gpio_lines_use(TvHost *h, int index, const uint32_t *offsets, size_t n, TvGpioLineUse *out,
                      uint32_t *n_lines)
{
        struct gpiochip_info ci;
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        int r;

        /* a kernel character device, or the test fixture's simulated chip (a socket) */
        if (snprintf(path, sizeof(path), "%s/gpiochip%d", h->dev_root, index) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        fd = tv_gpio_chip_open(path);
        if (fd < 0)
                return fd;
        memset(&ci, 0, sizeof(ci));
        r = tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
        if (r < 0)
                return r;
        *n_lines = ci.lines;
        for (size_t i = 0; i < n; i++) {
                struct gpio_v2_line_info li;

                if (offsets[i] >= ci.lines)
                        return -EINVAL;
                memset(&li, 0, sizeof(li));     /* the kernel refuses non-zero padding */
                li.offset = offsets[i];
                r = tv_gpio_chip_ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li);
                if (r < 0)
                        return r;
                out[i].used = (li.flags & GPIO_V2_LINE_FLAG_USED) != 0;
                snprintf(out[i].consumer, sizeof(out[i].consumer), "%.*s", (int)sizeof(li.consumer),
                         li.consumer);
        }
        return 0;
}
