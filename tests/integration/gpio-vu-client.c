// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gpio-vu-client: plays QEMU's vhost-user-gpio device (and the guest's driver) against
 * tegravirt-gpio-backend through tests/lib/vu-front. One command per stdin line, one answer
 * line per command on stdout:
 *   connect [noirq]          connect, negotiate, start both rings (F_IRQ acked unless noirq)
 *                            -> "connect: ok features=0x..." | "connect: failed ERR"
 *   config                   -> "config: ngpio=N names_size=M"
 *   names                    GET_NAMES -> "names: st=S len=L A,B,..."
 *   req TYPE GPIO VALUE [ROOM]  one request, kick, wait -> "req: st=S val=V len=L" | "req: none"
 *                            TYPE: names get-dir set-dir get set irq or a number
 *   raw HEX ROOM             a request of those bytes -> "raw: st=S len=L" | "raw: none"
 *   submit TYPE GPIO VALUE   queued and kicked, not waited for -> "submit: head=H"
 *   wait MS                  the next used request -> "wait: st=S val=V len=L" | "wait: none"
 *   evq GPIO                 an eventq buffer for GPIO -> "evq: head=H"
 *   ev MS                    the next used eventq buffer -> "ev: gpio=G status=S len=L" | "ev: none"
 *   disconnect               drop the connection as QEMU sees a dead backend (rings rewound
 *                            to the used idx) -> "disconnect: ok"
 *   reconnect                connect, negotiate, start again (SET_VRING_BASE = rewound) -> "reconnect: ok"
 *   stop                     GET_VRING_BASE of both rings (QEMU's vhost_dev_stop) -> "stop: ok"
 *   start                    the rings again (SET_VRING_BASE = the saved index) -> "start: ok"
 *   pid                      -> "pid: N"
 * Usage: gpio-vu-client [--uid UID] SOCKET
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <linux/virtio_gpio.h>
#include "vu-front.h"

#define F_VERSION_1 (1ull << 32)
#define F_PROTOCOL (1ull << 30)
#define F_IRQ (1ull << VIRTIO_GPIO_F_IRQ)

static VuFront *f;
static const char *sock;
static uint64_t acked;
static int ev_gpio[256];        /* eventq head -> the line its buffer is for */
static uint32_t names_size;

static int type_of(const char *s)
{
        static const char *const n[] = { NULL, "names", "get-dir", "set-dir", "get", "set", "irq" };

        for (int i = 1; i < 7; i++)
                if (!strcmp(s, n[i]))
                        return i;
        return (int)strtol(s, NULL, 0);
}

static int start(bool irq)
{
        uint64_t offer = 0;
        int r = vu_front_connect(f, sock);

        if (r == 0)
                r = vu_front_negotiate(f, &offer);
        if (r < 0)
                return r;
        acked = offer & (F_VERSION_1 | F_PROTOCOL | (irq ? F_IRQ : 0));
        return vu_front_start(f, acked);
}

static int submit(int type, unsigned gpio, unsigned value, size_t room)
{
        struct virtio_gpio_request q = { htole16((uint16_t)type), htole16((uint16_t)gpio), htole32(value) };
        int head = vu_front_submit(f, 0, &q, sizeof(q), room);

        if (head >= 0)
                vu_front_kick(f, 0);
        return head;
}

/* the next used request: "st=S val=V len=L" */
static void wait_req(const char *what, int ms)
{
        uint16_t head;
        uint32_t len;
        uint8_t res[2] = { 0xff, 0xff };

        if (vu_front_wait_used(f, 0, ms, &head, &len) != 1) {
                printf("%s: none\n", what);
                return;
        }
        vu_front_read_in(f, 0, head, res, sizeof(res));
        printf("%s: st=%u val=%u len=%u\n", what, res[0], len >= 2 ? res[1] : 0, len);
}

static void command(char *line)
{
        char *argv[8] = { 0 };
        int argc = 0;

        for (char *t = strtok(line, " \t\n"); t && argc < 8; t = strtok(NULL, " \t\n"))
                argv[argc++] = t;
        if (!argc)
                return;
        if (!strcmp(argv[0], "connect") || !strcmp(argv[0], "reconnect")) {
                int r = start(!(argc > 1 && !strcmp(argv[1], "noirq")));

                if (r < 0)
                        printf("%s: failed %s\n", argv[0], strerrorname_np(-r) ? strerrorname_np(-r) : "?");
                else if (argv[0][0] == 'c')
                        printf("connect: ok features=0x%llx\n", (unsigned long long)acked);
                else
                        printf("reconnect: ok\n");
        } else if (!strcmp(argv[0], "config")) {
                uint8_t c[8];

                if (vu_front_get_config(f, 0, c, 8) < 0) {
                        printf("config: failed\n");
                        return;
                }
                names_size = c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
                printf("config: ngpio=%u names_size=%u\n", c[0] | c[1] << 8, names_size);
        } else if (!strcmp(argv[0], "names")) {
                uint8_t buf[4096] = { 0 };
                uint16_t head;
                uint32_t len;
                size_t room = 1 + names_size;

                if (room > sizeof(buf) || submit(1, 0, 0, room) < 0 || vu_front_wait_used(f, 0, 3000, &head, &len) != 1) {
                        printf("names: none\n");
                        return;
                }
                vu_front_read_in(f, 0, head, buf, room);
                printf("names: st=%u len=%u ", buf[0], len);
                for (size_t i = 1; i < len && i < room; i++)
                        putchar(buf[i] ? buf[i] : (i + 1 < len ? ',' : '\n'));
                if (len <= 1)
                        putchar('\n');
        } else if (!strcmp(argv[0], "req") && argc >= 4) {
                if (submit(type_of(argv[1]), (unsigned)strtoul(argv[2], NULL, 0), (unsigned)strtoul(argv[3], NULL, 0),
                           argc > 4 ? strtoul(argv[4], NULL, 0) : 2) < 0)
                        printf("req: failed\n");
                else
                        wait_req("req", 3000);
        } else if (!strcmp(argv[0], "raw") && argc >= 3) {
                uint8_t b[64];
                size_t n = 0;
                uint16_t head;
                uint32_t len;
                uint8_t res[2] = { 0xff, 0xff };

                for (const char *p = argv[1]; p[0] && p[1] && n < sizeof(b); p += 2)
                        sscanf(p, "%2hhx", &b[n++]);
                if (vu_front_submit(f, 0, b, n, strtoul(argv[2], NULL, 0)) < 0) {
                        printf("raw: failed\n");
                        return;
                }
                vu_front_kick(f, 0);
                if (vu_front_wait_used(f, 0, 3000, &head, &len) != 1) {
                        printf("raw: none\n");
                        return;
                }
                vu_front_read_in(f, 0, head, res, sizeof(res));
                printf("raw: st=%u len=%u\n", len ? res[0] : 255, len);
        } else if (!strcmp(argv[0], "submit") && argc >= 4) {
                printf("submit: head=%d\n", submit(type_of(argv[1]), (unsigned)strtoul(argv[2], NULL, 0),
                                                   (unsigned)strtoul(argv[3], NULL, 0), 2));
        } else if (!strcmp(argv[0], "wait") && argc >= 2) {
                wait_req("wait", atoi(argv[1]));
        } else if (!strcmp(argv[0], "evq") && argc >= 2) {
                uint16_t g = htole16((uint16_t)strtoul(argv[1], NULL, 0));
                int head = vu_front_submit(f, 1, &g, sizeof(g), 1);

                if (head >= 0 && head < 256) {
                        ev_gpio[head] = (int)strtoul(argv[1], NULL, 0);
                        vu_front_kick(f, 1);
                }
                printf("evq: head=%d\n", head);
        } else if (!strcmp(argv[0], "ev") && argc >= 2) {
                uint16_t head;
                uint32_t len;
                uint8_t st = 0xff;

                if (vu_front_wait_used(f, 1, atoi(argv[1]), &head, &len) != 1) {
                        printf("ev: none\n");
                        return;
                }
                vu_front_read_in(f, 1, head, &st, 1);
                printf("ev: gpio=%d status=%u len=%u\n", head < 256 ? ev_gpio[head] : -1, len ? st : 255, len);
        } else if (!strcmp(argv[0], "disconnect")) {
                vu_front_disconnect(f);
                printf("disconnect: ok\n");
        } else if (!strcmp(argv[0], "stop") || !strcmp(argv[0], "start")) {
                int r = argv[0][2] == 'o' ? vu_front_stop(f) : vu_front_start(f, acked);

                printf("%s: %s\n", argv[0], r < 0 ? "failed" : "ok");
        } else if (!strcmp(argv[0], "pid")) {
                printf("pid: %d\n", (int)getpid());
        } else {
                printf("%s: unknown command\n", argv[0]);
        }
}

int main(int argc, char **argv)
{
        char line[512];
        int i = 1;

        if (argc > 2 && !strcmp(argv[1], "--uid")) {
                uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);

                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
                        perror("gpio-vu-client: --uid");
                        return 1;
                }
                i = 3;
        }
        if (i >= argc) {
                fputs("usage: gpio-vu-client [--uid UID] SOCKET\n", stderr);
                return 2;
        }
        sock = argv[i];
        setvbuf(stdout, NULL, _IOLBF, 0);
        f = vu_front_new(2, 64);
        if (!f)
                return 1;
        vu_front_set_timeout(f, 3000);
        while (fgets(line, sizeof(line), stdin))
                command(line);
        vu_front_free(f);
        return 0;
}
