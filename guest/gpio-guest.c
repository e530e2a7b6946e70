// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-guest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tv_qemu_opt_escape(const char *v)
{
        size_t extra = 0, j = 0;
        char *out;

        for (const char *p = v; *p; p++)
                extra += *p == ',';
        out = malloc(strlen(v) + extra + 1);
        for (const char *p = v; out && *p; p++) {
                out[j++] = *p;
                if (*p == ',')
                        out[j++] = ',';
        }
        if (out)
                out[j] = 0;
        return out;
}

int tv_guest_gpio_qemu_args(const char *socket, TvStrv *args)
{
        char *esc = tv_qemu_opt_escape(socket), *chardev = NULL;
        int r = -ENOMEM;

        /* reconnect=1: QEMU dials the backend again, every second, when it restarts */
        if (!esc || asprintf(&chardev, "socket,id=" TV_GUEST_GPIO_CHARDEV ",path=%s,reconnect=1", esc) < 0)
                goto out;
        if (tv_strv_push(args, "-chardev") < 0) {
                free(chardev);
                goto out;
        }
        if (tv_strv_consume(args, chardev) < 0)
                goto out;
        if (tv_strv_push(args, "-device") < 0 ||
            tv_strv_push(args, TV_GUEST_GPIO_QEMU_DEVICE ",chardev=" TV_GUEST_GPIO_CHARDEV ",id=" TV_GUEST_GPIO_DEVICE_ID
                               ",bus=" TV_GUEST_GPIO_BUS) < 0 ||
            tv_strv_push(args, "-global") < 0 || tv_strv_push(args, "virtio-mmio.force-legacy=false") < 0)
                goto out;
        r = 0;
out:
        free(esc);
        return r;
}
