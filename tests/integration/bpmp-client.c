// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bpmp-client: a test client of tegravirt-bpmp-backend speaking the wire protocol v1
 * (backend/bpmp-wire.h) the way QEMU's tegravirt-bpmp device does, on ONE connection.
 *
 *   bpmp-client [--uid UID] SOCKET STEP...
 *
 * --uid switches to UID (and its gid 65534) before connecting. Each step prints one line:
 *   clk enable|disable|is-enabled ID   MRQ_CLK (16-byte request, rx 16): "clk: err=E ret=R rx=N"
 *   reset assert|deassert ID           MRQ_RESET (8 bytes, rx 8): "reset: err=E ret=R rx=N"
 *   xfer MRQ TXBYTES RXSIZE            zero-filled request: "xfer: err=E ret=R rx=N"
 *   raw HEX                            sends raw bytes, then "raw: closed" when the backend
 *                                      closes within 2 s, else "raw: open"
 *   pause                              prints "pause: ok", waits for a line on stdin
 * With "-" as the only step it plays a long-lived QEMU: it reads steps from stdin, one line
 * each, on the same connection; "connect" (re)connects from the same process ("connect: ok");
 * a closed connection prints "<step>: closed" and waits for the next line.
 * A connection refused or closed prints "<step>: closed" and ends (exit 1); bad arguments
 * exit 2; a reply that breaks the protocol prints "<step>: bad reply (FIELD)" and exits 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "bpmp-wire.h"

#define MRQ_RESET 20
#define MRQ_CLK 22

static uint32_t seq = 1;

static unsigned long number(const char *s)
{
        char *end;
        unsigned long v = strtoul(s, &end, 0);

        if (!*s || *end) {
                fprintf(stderr, "not a number: %s\n", s);
                exit(2);
        }
        return v;
}

static int read_all(int fd, void *buf, size_t len, int timeout_ms)
{
        size_t got = 0;

        while (got < len) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                if (poll(&p, 1, timeout_ms) <= 0)
                        return -1;
                n = recv(fd, (char *)buf + got, len - got, 0);
                if (n <= 0)
                        return -1;
                got += n;
        }
        return 0;
}

static int xfer(int fd, const char *step, uint32_t mrq, const void *tx, uint32_t tx_size, uint32_t rx_size)
{
        uint8_t buf[TV_BPMP_WIRE_HEADER + TV_BPMP_WIRE_MAX_DATA];
        TvBpmpWireRequest req = { .seq = seq++, .mrq = mrq, .tx_size = tx_size, .rx_size = rx_size };
        TvBpmpWireReply rep;
        const char *why = NULL;

        tv_bpmp_wire_encode_request(&req, buf);
        memcpy(buf + TV_BPMP_WIRE_HEADER, tx, tx_size);
        if (send(fd, buf, TV_BPMP_WIRE_HEADER + tx_size, MSG_NOSIGNAL) != (ssize_t)(TV_BPMP_WIRE_HEADER + tx_size) ||
            read_all(fd, buf, TV_BPMP_WIRE_HEADER, 5000) < 0) {
                printf("%s: closed\n", step);
                return -1;
        }
        if (tv_bpmp_wire_parse_reply(buf, &req, &rep, &why) < 0 ||
            read_all(fd, buf + TV_BPMP_WIRE_HEADER, rep.rx_size, 5000) < 0) {
                printf("%s: bad reply (%s)\n", step, why ? why : "payload");
                return -1;
        }
        printf("%s: err=%d ret=%d rx=%u\n", step, rep.err, rep.ret, rep.rx_size);
        return 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int run_steps(int fd, int argc, char **argv, int i);

static int connect_to(const struct sockaddr_un *sa)
{
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
                printf("connect: %s\n", strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

/* "-": steps from stdin, one line each (see the top). */
static int run_stdin(const struct sockaddr_un *sa, int fd)
{
        char line[512];

        while (fgets(line, sizeof(line), stdin)) {
                char *tok[16], *save = NULL, *t;
                int n = 0;

                for (t = strtok_r(line, " \t\n", &save); t && n < 16; t = strtok_r(NULL, " \t\n", &save))
                        tok[n++] = t;
                if (!n)
                        continue;
                if (!strcmp(tok[0], "connect")) {
                        if (fd >= 0)
                                close(fd);
                        fd = connect_to(sa);
                        if (fd >= 0)
                                printf("connect: ok\n");
                        continue;
                }
                if (fd < 0) {
                        printf("%s: closed\n", tok[0]);
                        continue;
                }
                switch (run_steps(fd, n, tok, 0)) {
                case 1:
                        close(fd);
                        fd = -1;
                        break;
                case 2:
                        printf("%s: bad step\n", tok[0]);
                        break;
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int i = 1, fd, r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc > 3 && !strcmp(argv[1], "--uid")) {
                uid_t uid = number(argv[2]);

                if (setgid(65534) < 0 || setuid(uid) < 0) {
                        perror("setuid");
                        return 2;
                }
                i = 3;
        }
        if (i >= argc || strlen(argv[i]) >= sizeof(sa.sun_path))
                return 2;
        strcpy(sa.sun_path, argv[i++]);
        fd = connect_to(&sa);
        if (i + 1 == argc && !strcmp(argv[i], "-"))
                return run_stdin(&sa, fd);
        if (fd < 0)
                return 1;
        r = run_steps(fd, argc, argv, i);
        close(fd);
        return r;
}

/* argv[i..argc) on fd: 0 done, 1 closed (printed), 2 a bad step. */
static int run_steps(int fd, int argc, char **argv, int i)
{
        for (; i < argc; i++) {
                const char *s = argv[i];

                if (!strcmp(s, "clk") && i + 2 < argc) {
                        static const struct { const char *n; uint32_t c; } cmds[] = {
                                { "enable", 7 }, { "disable", 8 }, { "is-enabled", 6 } };
                        uint32_t w[4] = { 0 }, cmd = 0;

                        for (size_t j = 0; j < sizeof(cmds) / sizeof(cmds[0]); j++)
                                if (!strcmp(argv[i + 1], cmds[j].n))
                                        cmd = cmds[j].c;
                        if (!cmd)
                                return 2;
                        w[0] = cmd << 24 | (uint32_t)number(argv[i + 2]);
                        if (xfer(fd, s, MRQ_CLK, w, 16, 16) < 0)
                                return 1;
                        i += 2;
                } else if (!strcmp(s, "reset") && i + 2 < argc) {
                        uint32_t w[2] = { !strcmp(argv[i + 1], "assert") ? 1 : 2, (uint32_t)number(argv[i + 2]) };

                        if (xfer(fd, s, MRQ_RESET, w, 8, 8) < 0)
                                return 1;
                        i += 2;
                } else if (!strcmp(s, "xfer") && i + 3 < argc) {
                        uint8_t tx[TV_BPMP_WIRE_MAX_DATA] = { 0 };
                        unsigned long txs = number(argv[i + 2]);

                        if (txs > sizeof(tx))
                                return 2;
                        if (xfer(fd, s, number(argv[i + 1]), tx, txs, number(argv[i + 3])) < 0)
                                return 1;
                        i += 3;
                } else if (!strcmp(s, "raw") && i + 1 < argc) {
                        const char *h = argv[++i];
                        uint8_t b[256];
                        size_t n = 0;
                        char c;

                        for (; h[0] && h[1] && n < sizeof(b); h += 2) {
                                if (hexval(h[0]) < 0 || hexval(h[1]) < 0)
                                        return 2;
                                b[n++] = hexval(h[0]) << 4 | hexval(h[1]);
                        }
                        if (send(fd, b, n, MSG_NOSIGNAL) != (ssize_t)n) {
                                printf("raw: closed\n");
                                return 1;
                        }
                        /* the backend closes at once on a bad header; a short one after its 1 s timeout */
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        if (poll(&p, 1, 2000) == 1 && recv(fd, &c, 1, 0) <= 0) {
                                printf("raw: closed\n");
                                return 1;
                        }
                        printf("raw: open\n");
                } else if (!strcmp(s, "pause")) {
                        char line[16];

                        printf("pause: ok\n");
                        if (!fgets(line, sizeof(line), stdin))
                                return 0;
                } else {
                        fprintf(stderr, "bad step: %s\n", s);
                        return 2;
                }
        }
        return 0;
}
