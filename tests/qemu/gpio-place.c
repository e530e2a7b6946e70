// SPDX-License-Identifier: GPL-2.0-or-later
/* gpio-place SOCKET BASE.dtb OUT.dtb NAME...
 * What tegravirtd gives a domain with GPIO line groups, for tests/qemu/gpio-placement.py
 * to hold against QEMU: prints the QEMU arguments of the vhost-user GPIO device on SOCKET
 * (tv_guest_gpio_qemu_args, one a line) and writes OUT.dtb, the guest DTB made from the
 * dumpdtb BASE.dtb with the lines NAME... (tv_guest_dtb_build_gpio). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "guest-dtb.h"
#include "gpio-guest.h"
#include "tv-fileio.h"

int main(int argc, char **argv)
{
        TvStrv args = { 0 };
        TvGuestGpio gpio = { (const char *const *)argv + 4, (size_t)argc - 4 };
        TvError err = { 0 };
        void *base = NULL, *out = NULL;
        size_t base_len = 0, out_len = 0;
        FILE *f;
        int rc = 1;

        if (argc < 5) {
                fprintf(stderr, "usage: %s SOCKET BASE.dtb OUT.dtb NAME...\n", argv[0]);
                return 2;
        }
        if (tv_guest_gpio_qemu_args(argv[1], &args) < 0)
                return 1;
        for (size_t i = 0; i < args.n; i++)
                printf("%s\n", args.v[i]);
        if (tv_read_file_at(AT_FDCWD, argv[2], TV_GUEST_DTB_MAX_BYTES, (char **)&base, &base_len) < 0) {
                fprintf(stderr, "cannot read %s\n", argv[2]);
                goto out;
        }
        if (tv_guest_dtb_build_gpio(base, base_len, NULL, 0, 0, &gpio, &out, &out_len, &err) < 0) {
                fprintf(stderr, "%s\n", err.message);
                goto out;
        }
        f = fopen(argv[3], "wb");
        if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
                perror(argv[3]);
                goto out;
        }
        rc = 0;
out:
        tv_strv_clear(&args);
        free(base);
        free(out);
        return rc;
}
