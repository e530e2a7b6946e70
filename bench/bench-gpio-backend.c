// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-gpio-backend CHIP DIRECT_OFFSET SOCKET ITER
 * The per-request cost of tegravirt-gpio-backend vs the same operation called directly on its
 * line provider (backend/gpio-lines.c): ITER SET_VALUE requests of guest line 0 through the
 * backend on SOCKET (tests/lib/vu-front plays QEMU and the guest's driver: submit, kick, wait
 * for the used entry), and ITER tv_lines_set() of host line DIRECT_OFFSET of CHIP (requested
 * here, as the backend requests its lines, and made an output). Both alternate for 5 rounds;
 * the best round of each is printed in ns per request, with the ratio:
 *   "direct N ns/request; through the backend M ns/request; ratio R"
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/virtio_gpio.h>

#include "gpio-lines.h"
#include "tv-gpio-cdev.h"
#include "vu-front.h"

#define F_VERSION_1 (1ull << 32)
#define F_PROTOCOL (1ull << 30)

static long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int vu_req(VuFront *f, uint16_t type, uint16_t gpio, uint32_t value)
{
        struct virtio_gpio_request q = { htole16(type), htole16(gpio), htole32(value) };
        uint8_t res[2] = { 0xff, 0xff };
        uint16_t head;
        uint32_t len;

        if (vu_front_submit(f, 0, &q, sizeof(q), 2) < 0)
                return -1;
        vu_front_kick(f, 0);
        if (vu_front_wait_used(f, 0, 5000, &head, &len) != 1)
                return -1;
        vu_front_read_in(f, 0, head, res, sizeof(res));
        return res[0] == VIRTIO_GPIO_STATUS_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
        TvLine line;
        char why[128];
        uint64_t offer = 0;
        long long best_d = 0, best_v = 0;

        if (argc != 5) {
                fprintf(stderr, "usage: %s CHIP DIRECT_OFFSET SOCKET ITER\n", argv[0]);
                return 2;
        }
        unsigned off = (unsigned)strtoul(argv[2], NULL, 0);
        long n = strtol(argv[4], NULL, 0);
        int chip = tv_gpio_chip_open(argv[1]);
        if (chip < 0 || n <= 0) {
                fprintf(stderr, "cannot open %s\n", argv[1]);
                return 1;
        }
        if (tv_lines_request(chip, off, "bench", &line, why, sizeof(why)) < 0 ||
            tv_lines_configure(&line, GPIO_V2_LINE_FLAG_OUTPUT, 0) < 0) {
                fprintf(stderr, "cannot request line %u as output %s\n", off, why);
                return 1;
        }
        VuFront *f = vu_front_new(2, 64);
        if (!f || vu_front_connect(f, argv[3]) < 0 || vu_front_negotiate(f, &offer) < 0 ||
            vu_front_start(f, offer & (F_VERSION_1 | F_PROTOCOL)) < 0 ||
            vu_req(f, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_OUT) < 0) {
                fprintf(stderr, "cannot drive the backend on %s\n", argv[3]);
                return 1;
        }
        for (int round = 0; round < 5; round++) {
                long long t0 = now_ns();
                for (long i = 0; i < n; i++)
                        if (tv_lines_set(&line, (int)(i & 1)) < 0) {
                                fprintf(stderr, "direct set failed\n");
                                return 1;
                        }
                long long t1 = now_ns();
                for (long i = 0; i < n; i++)
                        if (vu_req(f, VIRTIO_GPIO_MSG_SET_VALUE, 0, (uint32_t)(i & 1)) < 0) {
                                fprintf(stderr, "SET_VALUE through the backend failed\n");
                                return 1;
                        }
                long long t2 = now_ns();
                if (!round || t1 - t0 < best_d)
                        best_d = t1 - t0;
                if (!round || t2 - t1 < best_v)
                        best_v = t2 - t1;
        }
        printf("direct %lld ns/request; through the backend %lld ns/request; ratio %.2f\n", best_d / n, best_v / n,
               (double)best_v / (double)best_d);
        vu_front_free(f);
        tv_lines_release(&line);
        return 0;
}
