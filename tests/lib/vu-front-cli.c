// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vu-front-cli: tests/lib/vu-front as a line-oriented tool for shell tests, the bench and the
 * rig (libc only: builds static for aarch64 with vu-front.c). Usage:
 *   vu-front-cli SOCKET [NQUEUES [QSIZE]]     then one command a line on stdin:
 *   connect | disconnect                      (re)connect / drop like a dead back end looks to QEMU
 *   negotiate                                 -> ok features=0x.. protocol=0x..
 *   config OFF LEN                            -> ok HEX
 *   start [FEATURES]                          default: all offered -> ok
 *   stop                                      GET_VRING_BASE each queue -> ok last_avail=N,N..
 *   submit Q HEX INLEN                        -> ok head=N     (readable bytes HEX, INLEN writable)
 *   kick Q
 *   wait Q MS                                 -> ok head=N len=L HEX | timeout
 *   req Q HEX INLEN [MS]                      submit + kick + wait
 *   calls Q                                   -> ok N (interrupts since last asked)
 *   quit
 * Every command answers one line: "ok ...", "timeout" or "err <reason>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vu-front.h"

static int unhex(const char *s, unsigned char *out, size_t cap)
{
        size_t n = strlen(s);

        if (!strcmp(s, "-"))
                return 0;
        if (n % 2 || n / 2 > cap)
                return -1;
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;

                if (sscanf(s + 2 * i, "%2x", &v) != 1)
                        return -1;
                out[i] = (unsigned char)v;
        }
        return (int)(n / 2);
}

static void hex(const unsigned char *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("%02x", b[i]);
}

static void wait_print(VuFront *f, unsigned q, int ms)
{
        static unsigned char in[65536];
        uint16_t head;
        uint32_t len;
        size_t got;

        if (vu_front_wait_used(f, q, ms, &head, &len) != 1) {
                printf("timeout\n");
                return;
        }
        got = vu_front_read_in(f, q, head, in, len < sizeof(in) ? len : sizeof(in));
        printf("ok head=%u len=%u ", head, len);
        hex(in, got);
        printf("\n");
}

int main(int argc, char **argv)
{
        static unsigned char buf[65536];
        static char line[4 * 65536 + 64], a1[4 * 65536 + 1];
        char cmd[32];
        unsigned nq = argc > 2 ? (unsigned)atoi(argv[2]) : 2, qs = argc > 3 ? (unsigned)atoi(argv[3]) : 64;
        uint64_t offered = 0;
        VuFront *f;

        if (argc < 2) {
                fprintf(stderr, "usage: vu-front-cli SOCKET [NQUEUES [QSIZE]]\n");
                return 2;
        }
        f = vu_front_new(nq, (uint16_t)qs);
        if (!f) {
                fprintf(stderr, "vu-front-cli: bad queue count or size\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        while (fgets(line, sizeof(line), stdin)) {
                unsigned q = 0, u1 = 0, u2 = 0;
                unsigned long long ull = 0;
                int n, r;

                a1[0] = 0;
                n = sscanf(line, "%31s", cmd);
                if (n != 1)
                        continue;
                if (!strcmp(cmd, "quit")) {
                        break;
                } else if (!strcmp(cmd, "connect")) {
                        r = vu_front_connect(f, argv[1]);
                        r < 0 ? printf("err %s\n", strerror(-r)) : printf("ok\n");
                } else if (!strcmp(cmd, "disconnect")) {
                        vu_front_disconnect(f);
                        printf("ok\n");
                } else if (!strcmp(cmd, "negotiate")) {
                        r = vu_front_negotiate(f, &offered);
                        r < 0 ? printf("err %s\n", strerror(-r))
                              : printf("ok features=0x%llx protocol=0x%llx\n", (unsigned long long)offered,
                                       (unsigned long long)vu_front_protocol_features(f));
                } else if (!strcmp(cmd, "config") && sscanf(line, "%*s %u %u", &u1, &u2) == 2 && u2 <= 256) {
                        r = vu_front_get_config(f, u1, buf, u2);
                        if (r < 0) {
                                printf("err %s\n", strerror(-r));
                        } else {
                                printf("ok ");
                                hex(buf, u2);
                                printf("\n");
                        }
                } else if (!strcmp(cmd, "start")) {
                        if (sscanf(line, "%*s %llx", &ull) != 1)
                                ull = offered;
                        r = vu_front_start(f, ull);
                        r < 0 ? printf("err %s\n", strerror(-r)) : printf("ok\n");
                } else if (!strcmp(cmd, "stop")) {
                        r = vu_front_stop(f);
                        if (r < 0) {
                                printf("err %s\n", strerror(-r));
                        } else {
                                printf("ok last_avail=");
                                for (unsigned i = 0; i < nq; i++)
                                        printf("%s%u", i ? "," : "", vu_front_last_avail(f, i));
                                printf("\n");
                        }
                } else if ((!strcmp(cmd, "submit") || !strcmp(cmd, "req")) &&
                           sscanf(line, "%*s %u %262144s %u %u", &q, a1, &u1, &u2) >= 3 && q < nq) {
                        int len = unhex(a1, buf, sizeof(buf)), h;

                        if (len < 0) {
                                printf("err bad hex\n");
                                continue;
                        }
                        h = vu_front_submit(f, q, buf, (size_t)len, u1);
                        if (h < 0) {
                                printf("err %s\n", strerror(-h));
                        } else if (!strcmp(cmd, "submit")) {
                                printf("ok head=%d\n", h);
                        } else {
                                vu_front_kick(f, q);
                                wait_print(f, q, u2 ? (int)u2 : 5000);
                        }
                } else if (!strcmp(cmd, "kick") && sscanf(line, "%*s %u", &q) == 1 && q < nq) {
                        vu_front_kick(f, q);
                        printf("ok\n");
                } else if (!strcmp(cmd, "wait") && sscanf(line, "%*s %u %u", &q, &u1) == 2 && q < nq) {
                        wait_print(f, q, (int)u1);
                } else if (!strcmp(cmd, "calls") && sscanf(line, "%*s %u", &q) == 1 && q < nq) {
                        printf("ok %llu\n", (unsigned long long)vu_front_calls(f, q));
                } else {
                        printf("err bad command\n");
                }
        }
        vu_front_free(f);
        return 0;
}
