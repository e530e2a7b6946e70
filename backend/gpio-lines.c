// SPDX-License-Identifier: GPL-2.0-or-later
/* The line provider of tegravirt-gpio-backend (gpio-lines.h). */
#include "gpio-lines.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void used_by(struct gpio_v2_line_info *info, char *why, size_t why_len)
{
        info->consumer[sizeof(info->consumer) - 1] = 0;
        snprintf(why, why_len, "used by %s", info->consumer[0] ? info->consumer : "an unnamed consumer");
}

int tv_lines_request(int chip_fd, unsigned offset, const char *consumer, TvLine *out, char *why, size_t why_len)
{
        struct gpio_v2_line_info info = { .offset = offset };
        struct gpio_v2_line_request req = { .num_lines = 1 };
        int r;

        if (why_len)
                why[0] = 0;
        out->req.fd = out->req.ctl = -1;
        out->offset = offset;
        r = tv_gpio_chip_ioctl(chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, &info);
        if (r < 0)
                return r;
        if (info.flags & GPIO_V2_LINE_FLAG_USED) {
                used_by(&info, why, why_len);
                return -EBUSY;
        }
        req.offsets[0] = offset;
        snprintf(req.consumer, sizeof(req.consumer), "%s", consumer); /* cut to 31 characters */
        r = tv_gpio_line_request(chip_fd, &req, &out->req);
        if (r == -EBUSY && tv_gpio_chip_ioctl(chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, &info) == 0) {
                /* taken between the two calls */
                used_by(&info, why, why_len);
        }
        if (r < 0)
                return r;
        out->output = (info.flags & GPIO_V2_LINE_FLAG_OUTPUT) != 0;
        return 0;
}

int tv_lines_get(TvLine *l)
{
        struct gpio_v2_line_values v = { .mask = 1 };
        int r = tv_gpio_line_ioctl(&l->req, GPIO_V2_LINE_GET_VALUES_IOCTL, &v);

        return r < 0 ? r : (int)(v.bits & 1);
}

int tv_lines_set(TvLine *l, int value)
{
        struct gpio_v2_line_values v = { .mask = 1, .bits = value ? 1 : 0 };

        return tv_gpio_line_ioctl(&l->req, GPIO_V2_LINE_SET_VALUES_IOCTL, &v);
}

int tv_lines_configure(TvLine *l, uint64_t flags, int out_value)
{
        struct gpio_v2_line_config c = { .flags = flags };
        int r;

        if (flags & GPIO_V2_LINE_FLAG_OUTPUT) {
                c.num_attrs = 1;
                c.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
                c.attrs[0].attr.values = out_value ? 1 : 0;
                c.attrs[0].mask = 1;
        }
        r = tv_gpio_line_ioctl(&l->req, GPIO_V2_LINE_SET_CONFIG_IOCTL, &c);
        if (r == 0 && (flags & (GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_OUTPUT)))
                l->output = (flags & GPIO_V2_LINE_FLAG_OUTPUT) != 0;
        return r;
}

int tv_lines_read_event(TvLine *l, struct gpio_v2_line_event *ev)
{
        return tv_gpio_line_read_event(&l->req, ev);
}

void tv_lines_release(TvLine *l)
{
        tv_gpio_line_close(&l->req);
}
