// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A stand-in vhost-user device on backend/vhost-user.c for tests with a real QEMU:
 *   vu-echo-backend SOCKET hold|echo|all [STATE-FILE]
 * listens on SOCKET (replacing a stale one), serves one connection as a 2-queue device
 * (virtio-gpio's id and config shape: ngpio 2): "hold" pops requests and never answers (a
 * backend about to die), "echo" copies a request's readable bytes into its writable ones,
 * except that a request starting with 'H' is held the first time its head comes (it is
 * forgotten when the ring stops) and answered when presented again; "all" answers every one.
 * With STATE-FILE the queues keep their records (TvVuRecord) there, offered for adoption.
 * Logs one line per event on stderr: "ready Q 0|1", "pop Q HEAD", "push Q HEAD LEN".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "vhost-user.h"

static TvVu *vu;
static bool echo;
static bool held_once[65536];

static int get_config(void *ud, uint32_t off, uint8_t *buf, uint32_t len)
{
        static const uint8_t cfg[8] = { 2, 0, 0, 0, 0, 0, 0, 0 };      /* ngpio 2, no names */

        (void)ud;
        if (off > sizeof(cfg) || len > sizeof(cfg) - off)
                return -EINVAL;
        memcpy(buf, cfg + off, len);
        return 0;
}

static void queue_ready(void *ud, unsigned q, bool ready)
{
        (void)ud;
        fprintf(stderr, "ready %u %d\n", q, ready);
}

static void queue_kick(void *ud, unsigned q)
{
        TvVuElem e;

        (void)ud;
        while (tv_vu_pop(vu, q, &e) == 1) {
                uint32_t n = 0;

                fprintf(stderr, "pop %u %u\n", q, e.head);
                if (!echo)
                        continue;
                if (e.n_out && e.out[0].iov_len && *(const char *)e.out[0].iov_base == 'H' &&
                    !held_once[e.head]) {
                        held_once[e.head] = true;
                        fprintf(stderr, "hold %u %u\n", q, e.head);
                        continue;
                }
                for (unsigned i = 0; i < e.n_out && i < e.n_in; i++) {
                        size_t k = e.out[i].iov_len < e.in[i].iov_len ? e.out[i].iov_len : e.in[i].iov_len;

                        memcpy(e.in[i].iov_base, e.out[i].iov_base, k);
                        n += (uint32_t)k;
                }
                tv_vu_push(vu, q, &e, n);
                tv_vu_notify(vu, q);
                fprintf(stderr, "push %u %u %u\n", q, e.head, n);
        }
}

static const TvVuOps ops = {
        .features = (1ull << 32) | (1ull << 29) | 1,   /* VERSION_1, EVENT_IDX, device bit 0 */
        .get_config = get_config, .queue_ready = queue_ready, .queue_kick = queue_kick,
};

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int l, c;

        TvVuRecord *recs = NULL;

        if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
            (strcmp(argv[2], "hold") && strcmp(argv[2], "echo") && strcmp(argv[2], "all"))) {
                fprintf(stderr, "usage: vu-echo-backend SOCKET hold|echo|all [STATE-FILE]\n");
                return 2;
        }
        setvbuf(stderr, NULL, _IOLBF, 0);
        echo = strcmp(argv[2], "hold") != 0;
        if (!strcmp(argv[2], "all")) /* answers every buffer: none is held */
                memset(held_once, 1, sizeof(held_once));
        if (argc == 4) { /* the queue records, kept across backend processes (vhost-user.h) */
                int sf = open(argv[3], O_RDWR | O_CREAT | O_CLOEXEC, 0600);

                if (sf < 0 || ftruncate(sf, 2 * sizeof(TvVuRecord)) < 0 ||
                    (recs = mmap(NULL, 2 * sizeof(TvVuRecord), PROT_READ | PROT_WRITE, MAP_SHARED, sf, 0)) == MAP_FAILED) {
                        perror("vu-echo-backend: state file");
                        return 1;
                }
                close(sf);
        }
        strcpy(sa.sun_path, argv[1]);
        unlink(argv[1]);
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
                perror("vu-echo-backend: listen");
                return 1;
        }
        fprintf(stderr, "listening\n");
        c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        close(l);
        vu = tv_vu_new(c, 2, &ops, NULL);
        if (!vu)
                return 1;
        for (unsigned q = 0; recs && q < 2; q++)
                tv_vu_set_record(vu, q, &recs[q], true);
        fprintf(stderr, "connected\n");
        for (;;) {
                struct pollfd p[8];
                unsigned n = tv_vu_poll_fds(vu, p, 8);

                if (poll(p, n, -1) < 0 && errno != EINTR)
                        break;
                if (tv_vu_dispatch(vu, p, n) < 0)
                        break;
        }
        tv_vu_free(vu);
        fprintf(stderr, "closed\n");
        return 0;
}
