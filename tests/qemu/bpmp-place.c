// SPDX-License-Identifier: GPL-2.0-or-later
/* bpmp-place CATALOG.xml [DEVICE...]
 * Prints the guest PA (0x...) where tv_guest_place_bridge() says QEMU maps
 * -device tegravirt-bpmp given after DEVICEs (catalog names, in -device order; the
 * name "tegravirt-bpmp" stands for another bridge window), for tests/qemu/bridge-qtest.py
 * to compare with QEMU's `info mtree`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "guest-dtb.h"

int main(int argc, char **argv)
{
        TvRegion win = { .size = TV_BPMP_WINDOW_SIZE };
        TvCatalogDevice bridge = { .name = (char *)"tegravirt-bpmp", .regions = &win, .n_regions = 1 };
        const TvCatalogDevice **devs;
        TvCatalog *cat = NULL;
        TvError err = { 0 };
        uint64_t base = 0;
        int n = argc - 2, rc = 1;

        if (argc < 2) {
                fprintf(stderr, "usage: %s CATALOG.xml [DEVICE...]\n", argv[0]);
                return 2;
        }
        if (tv_catalog_load(argv[1], NULL, &cat, &err) < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], err.message);
                return 1;
        }
        devs = calloc(n + 1, sizeof(*devs));
        if (!devs)
                goto out;
        for (int i = 0; i < n; i++) {
                devs[i] = strcmp(argv[i + 2], "tegravirt-bpmp") == 0 ? &bridge : tv_catalog_find(cat, argv[i + 2]);
                if (!devs[i]) {
                        fprintf(stderr, "%s: no such catalog device\n", argv[i + 2]);
                        goto out;
                }
        }
        if (tv_guest_place_bridge(devs, n, &base, &err) < 0) {
                fprintf(stderr, "%s: %s\n", err.name, err.message);
                goto out;
        }
        printf("0x%" PRIx64 "\n", base);
        rc = 0;
out:
        free(devs);
        tv_catalog_free(cat);
        return rc;
}
