// SPDX-License-Identifier: GPL-2.0-or-later
/* caps-probe QEMU: runs the daemon's capability probe (guest/qemu-caps.c) on QEMU and prints
 * "version=X.Y.Z vfio-platform=0|1 bpmp=FLAVOUR unknown=0|1" and whether a domain needing
 * the BPMP would be accepted ("check=ok" or the refusal), for bridge-qtest.py. */
#include <stdio.h>

#include "qemu-caps.h"

int main(int argc, char **argv)
{
        TvQemuCapsCache *c;
        const TvQemuCaps *caps = NULL;
        TvError err = { 0 };
        int rc = 1;

        if (argc != 2) {
                fprintf(stderr, "usage: %s QEMU\n", argv[0]);
                return 2;
        }
        c = tv_qemu_caps_cache_new();
        if (!c)
                return 1;
        if (tv_qemu_caps_get(c, argv[1], &caps, &err) < 0) {
                printf("probe failed: %s\n", err.message);
        } else {
                printf("version=%u.%u.%u vfio-platform=%d bpmp=%s unknown=%d ", caps->major, caps->minor,
                       caps->micro, caps->has_vfio_platform, tv_bpmp_flavour_name(caps->bpmp), caps->bpmp_unknown);
                if (tv_qemu_caps_check(caps, true, &err) == 0) {
                        printf("check=ok\n");
                        rc = 0;
                } else {
                        printf("check=%s\n", err.message);
                }
        }
        tv_qemu_caps_cache_free(c);
        return rc;
}
