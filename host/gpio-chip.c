// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-chip.h"
#include "tv-macros.h"
#include "tv-strv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

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
        char name[32];

        snprintf(name, sizeof(name), "gpiochip%d", index);
        fd = tv_dev_open(h, name, O_RDONLY);
        if (fd < 0)
                return fd;
        memset(&ci, 0, sizeof(ci));
        if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0)
                return -errno;
        *n_lines = ci.lines;
        for (size_t i = 0; i < n; i++) {
                struct gpio_v2_line_info li;

                if (offsets[i] >= ci.lines)
                        return -EINVAL;
                memset(&li, 0, sizeof(li));     /* the kernel refuses non-zero padding */
                li.offset = offsets[i];
                if (ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0)
                        return -errno;
                out[i].used = (li.flags & GPIO_V2_LINE_FLAG_USED) != 0;
                snprintf(out[i].consumer, sizeof(out[i].consumer), "%.*s", (int)sizeof(li.consumer),
                         li.consumer);
        }
        return 0;
}
