// SPDX-License-Identifier: GPL-2.0-or-later
/* gen-guest-dtb [--time N] BASE.dtb OUT.dtb CATALOG.xml BPMP_BASE DEVICE...
 * Patches a QEMU dumpdtb with the catalog devices (by name or platform id, in
 * -device order) through tv_guest_dtb_build() and prints where each landed.
 * --time N also runs the build step N times and prints each run's time
 * (bench/bench-guest-dtb.sh). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "guest-dtb.h"
#include "tv-fileio.h"

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
        const TvCatalogDevice **devs;
        TvGuestPlacement *pl;
        TvCatalog *cat = NULL;
        TvError err = { 0 };
        char *base = NULL, *end;
        size_t base_len, out_len, n;
        void *out = NULL;
        unsigned long long bpmp;
        long runs = 0;
        FILE *f;
        int rc;

        if (argc > 2 && strcmp(argv[1], "--time") == 0) {
                runs = strtol(argv[2], NULL, 10);
                argv += 2;
                argc -= 2;
        }
        if (argc < 5) {
                fprintf(stderr, "usage: gen-guest-dtb [--time N] BASE.dtb OUT.dtb CATALOG.xml BPMP_BASE DEVICE...\n");
                return 2;
        }
        bpmp = strtoull(argv[4], &end, 0);
        if (*end) {
                fprintf(stderr, "gen-guest-dtb: bad BPMP_BASE '%s'\n", argv[4]);
                return 2;
        }
        rc = tv_read_file_at(AT_FDCWD, argv[1], TV_GUEST_DTB_MAX_BYTES + 1, &base, &base_len);
        if (rc < 0) {
                fprintf(stderr, "gen-guest-dtb: %s: %s\n", argv[1], strerror(-rc));
                return 1;
        }
        if (tv_catalog_load(argv[3], NULL, &cat, &err) < 0) {
                fprintf(stderr, "gen-guest-dtb: %s\n", err.message);
                free(base);
                return 1;
        }
        n = (size_t)argc - 5;
        devs = calloc(n + 1, sizeof(*devs));
        pl = calloc(n + 1, sizeof(*pl));
        if (!devs || !pl)
                return 1;
        for (size_t i = 0; i < n; i++) {
                devs[i] = tv_catalog_find(cat, argv[5 + i]);
                if (!devs[i]) {
                        fprintf(stderr, "gen-guest-dtb: no device '%s' in the catalog\n", argv[5 + i]);
                        rc = 1;
                        goto out;
                }
        }
        if (tv_guest_place(devs, n, pl, &err) < 0 ||
            tv_guest_dtb_build(base, base_len, devs, n, bpmp, &out, &out_len, &err) < 0) {
                fprintf(stderr, "gen-guest-dtb: %s: %s\n", err.name, err.message);
                rc = 1;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                printf("%s:", devs[i]->name);
                for (size_t r = 0; r < pl[i].n_reg; r++)
                        printf(" reg 0x%" PRIx64 "+0x%" PRIx64, pl[i].reg[r][0], pl[i].reg[r][1]);
                for (size_t q = 0; q < pl[i].n_irq; q++)
                        printf(" spi %u", pl[i].irq[q]);
                printf("\n");
        }
        f = fopen(argv[2], "wb");
        if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
                fprintf(stderr, "gen-guest-dtb: cannot write %s\n", argv[2]);
                rc = 1;
                goto out;
        }
        for (long r = 0; r < runs; r++) {
                double t0 = now_us();
                void *o;
                size_t l;

                if (tv_guest_dtb_build(base, base_len, devs, n, bpmp, &o, &l, &err) < 0) {
                        rc = 1;
                        goto out;
                }
                printf("run %ld: %.1f us\n", r + 1, now_us() - t0);
                free(o);
        }
        rc = 0;
out:
        free(out);
        free(pl);
        free(devs);
        free(base);
        tv_catalog_free(cat);
        return rc;
}
