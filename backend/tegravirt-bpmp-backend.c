// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tegravirt-bpmp-backend: one per running domain that needs the BPMP. It serves the
 * domain's QEMU (device tegravirt-bpmp) on a Unix socket and turns each request into one
 * TEGRA_BPMP_HOST_IOC_XFER on the domain's narrowed /dev/bpmp-host file, which tegravirtd
 * hands it. Before it reads the first byte from a client it holds only those two fds and
 * stderr, runs as an unprivileged user without capabilities, with no_new_privs and a
 * seccomp allow-list (tegravirt-bpmp-backend(8)).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/tegra-bpmp-host-proxy.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "bpmp-wire.h"
#include "confine.h"
#include "tv-validate.h"

#define IO_TIMEOUT_MS 1000      /* a started request must arrive whole within this */

static void usage(FILE *f)
{
        fputs("usage: tegravirt-bpmp-backend --domain NAME (--listen-fd N | --socket PATH)\n"
              "                              (--bpmp-fd N | --bpmp-dev PATH)\n"
              "                              [--user NAME | --uid UID --gid GID] [--peer-uid UID] [--peer-pid PID]\n"
              "                              [--control-fd N] [--restrict KIND=IDS]...\n"
              "Serves the tegravirt-bpmp wire protocol v1 for one domain's QEMU.\n", f);
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly len bytes; the rest of a request once begun must arrive within IO_TIMEOUT_MS
 * (a client trickling bytes cannot hold the backend).
 * 1 done, 0 EOF before the first byte (first only), -1 error/EOF/timeout. */
static int read_full(int fd, void *buf, size_t len, bool first)
{
        size_t got = 0;
        long long deadline = -1;

        while (got < len) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                /* the caller's poll said the first byte is there; the rest usually came with it,
                 * so wait (bounded) only when it did not */
                ssize_t n = recv(fd, (char *)buf + got, len - got, first && got == 0 ? 0 : MSG_DONTWAIT);
                int r;

                if (n == 0)
                        return first && got == 0 ? 0 : -1;
                if (n > 0) {
                        got += n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -1;
                if (deadline < 0)
                        deadline = now_ms() + IO_TIMEOUT_MS;
                if (now_ms() >= deadline)
                        return -1;
                r = poll(&p, 1, (int)(deadline - now_ms()));
                if (r == 0 || (r < 0 && errno != EINTR))
                        return -1;
        }
        return 1;
}

static int write_full(int fd, const void *buf, size_t len)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                done += n;
        }
        return 0;
}

/* Denials are the guest's doing: logged, at most a few per second. */
static bool may_log(void)
{
        return tv_say_may("denials");
}

/* --restrict KIND=IDS (tests without tegravirtd): narrows the file with RESTRICT, as tegravirtd
 * does, before anything else; KIND clocks, resets, power_domains or parent_clocks, IDS
 * comma-separated decimal or "-" for none. */
static int restrict_fd(int fd, const char *spec)
{
        static const char *const kinds[] = { "clocks", "resets", "power_domains", "parent_clocks" };
        static struct tegra_bpmp_host_ids ids;
        const char *eq = strchr(spec, '='), *p;
        unsigned long v;
        char *end;

        memset(&ids, 0, sizeof(ids));
        ids.kind = TEGRA_BPMP_HOST_NR_KINDS;
        for (unsigned k = 0; eq && k < TEGRA_BPMP_HOST_NR_KINDS; k++)
                if ((size_t)(eq - spec) == strlen(kinds[k]) && !strncmp(spec, kinds[k], eq - spec))
                        ids.kind = k;
        if (!eq || ids.kind == TEGRA_BPMP_HOST_NR_KINDS)
                return -1;
        p = eq + 1;
        if (strcmp(p, "-") != 0) {
                for (;;) {
                        if (*p < '0' || *p > '9' || ids.count >= TEGRA_BPMP_HOST_MAX_IDS)
                                return -1;
                        errno = 0;
                        v = strtoul(p, &end, 10);
                        if (errno || v > UINT32_MAX || (*end && *end != ','))
                                return -1;
                        ids.ids[ids.count++] = (uint32_t)v;
                        if (!*end)
                                break;
                        p = end + 1;
                }
        }
        if (ioctl(fd, TEGRA_BPMP_HOST_IOC_RESTRICT, &ids) < 0) {
                tv_say("RESTRICT %s: %s", spec, tv_errname(errno));
                return -2;
        }
        return 0;
}

typedef struct Server {
        int listen_fd;
        int bpmp_fd;
        int conn;
        int control_fd;         /* tegravirtd announces the QEMU pid here ("pid N\n"); -1: none */
        char control_buf[32];
        size_t control_len;
        uid_t peer_uid;
        pid_t peer_pid;         /* 0: any process of peer_uid (no control channel) */
        bool pid_pending;       /* a control channel and no pid yet: hold connections, serve none */
        pid_t conn_pid;         /* the held connection's peer */
        unsigned long served;
} Server;

/* 0 served, 1 connection ended, -1 the proxy is gone (ENODEV): exit so tegravirtd restarts
 * us with a fresh file. */
static int serve_one(Server *s)
{
        uint8_t hdr[TV_BPMP_WIRE_HEADER], out[TV_BPMP_WIRE_HEADER + TV_BPMP_WIRE_MAX_DATA];
        struct tegra_bpmp_host_xfer x;
        TvBpmpWireRequest req;
        TvBpmpWireReply rep = { 0 };
        const char *why = NULL;
        int r = read_full(s->conn, hdr, sizeof(hdr), true);

        if (r <= 0) {
                if (r < 0)
                        tv_say("client: incomplete request header, connection closed");
                return 1;
        }
        if (tv_bpmp_wire_parse_request(hdr, &req, &why) < 0) {
                tv_say("client: malformed request (%s), connection closed", why);
                return 1;
        }
        memset(&x, 0, sizeof(x));
        x.mrq = req.mrq;
        x.tx_size = req.tx_size;
        x.rx_size = req.rx_size;
        if (req.tx_size && read_full(s->conn, x.tx, req.tx_size, false) <= 0) {
                tv_say("client: incomplete request payload, connection closed");
                return 1;
        }
        rep.seq = req.seq;
        if (ioctl(s->bpmp_fd, TEGRA_BPMP_HOST_IOC_XFER, &x) < 0) {
                rep.err = -errno;
                if (errno == EPERM && may_log())
                        tv_say("MRQ %u denied by the proxy's policy (EPERM)", req.mrq);
                else if (errno != EPERM)
                        tv_say("MRQ %u: %s", req.mrq, tv_errname(errno));
        } else if (x.rx_size > req.rx_size) {
                rep.err = -EIO; /* the proxy never does that */
        } else {
                rep.ret = x.ret;
                rep.rx_size = x.rx_size;
        }
        tv_bpmp_wire_encode_reply(&rep, out);
        if (rep.err == 0)
                memcpy(out + TV_BPMP_WIRE_HEADER, x.rx, rep.rx_size);
        if (write_full(s->conn, out, TV_BPMP_WIRE_HEADER + (rep.err ? 0 : rep.rx_size)) < 0) {
                tv_say("client: cannot reply: %s", tv_errname(errno));
                return 1;
        }
        s->served++;
        return rep.err == -ENODEV ? -1 : 0;
}

/* The held connection's peer against the announced pid: it is served, or closed. */
static void check_held(Server *s)
{
        if (s->conn < 0 || s->pid_pending || !s->peer_pid || s->conn_pid == s->peer_pid)
                return;
        tv_say("client refused: pid %d is not the domain's QEMU (pid %d)", (int)s->conn_pid, (int)s->peer_pid);
        close(s->conn);
        s->conn = -1;
}

/* "pid N\n" from tegravirtd: the domain's QEMU. A later announcement replaces it (the
 * domain was started again). EOF or garbage: the channel is closed, the state kept. */
static bool control_line(void *ud, char *line)
{
        Server *s = ud;
        unsigned long pid;

        if (strncmp(line, "pid ", 4) != 0 || !tv_parse_uint(line + 4, INT_MAX, &pid) || !pid) {
                tv_say("bad control message \"%s\": control channel closed", line);
                return false;
        }
        s->peer_pid = (pid_t)pid;
        s->pid_pending = false;
        tv_say("the domain's QEMU is pid %d", (int)s->peer_pid);
        return true;
}

static void read_control(Server *s)
{
        int r = tv_confine_read_lines(s->control_fd, s->control_buf, sizeof(s->control_buf), &s->control_len,
                                      control_line, s);

        if (r == 0 && s->pid_pending)
                tv_say("the control channel closed before the QEMU pid was announced: serving nobody");
        if (r == -2)
                tv_say("control message too long: control channel closed");
        if (r <= 0) {
                close(s->control_fd);
                s->control_fd = -1;
        }
        check_held(s);
}

/* A new client replaces the current one (QEMU reconnects after losing its connection);
 * only the expected uid (and pid, when known) is accepted; before the pid is announced a
 * connection of the right uid is held unserved. */
static void accept_client(Server *s)
{
        struct ucred cred;
        int fd = tv_confine_accept(s->listen_fd, s->peer_uid, s->peer_pid, &cred);

        if (fd < 0)
                return;
        if (s->conn >= 0) {
                tv_say("client pid %d replaces the previous connection", (int)cred.pid);
                close(s->conn);
        } else {
                tv_say("client pid %d uid %u connected%s", (int)cred.pid, (unsigned)cred.uid,
                    s->pid_pending ? "; held until tegravirtd names the domain's QEMU" : "");
        }
        s->conn = fd;
        s->conn_pid = cred.pid;
}

static int serve(Server *s)
{
        for (;;) {
                /* a held connection is not read until the pid is known (a negative fd: skipped) */
                struct pollfd p[3] = { { .fd = s->listen_fd, .events = POLLIN },
                                       { .fd = s->pid_pending ? -1 : s->conn, .events = POLLIN },
                                       { .fd = s->control_fd, .events = POLLIN } };
                int r = poll(p, 3, -1);

                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        tv_say("poll: %s", tv_errname(errno));
                        return -1;
                }
                if (s->control_fd >= 0 && p[2].revents) {
                        read_control(s);
                        continue;
                }
                if (s->conn >= 0 && !s->pid_pending && p[1].revents) {
                        r = serve_one(s);
                        if (r < 0) {
                                tv_say("the BPMP host proxy is gone (ENODEV): exiting for a fresh file");
                                return -1;
                        }
                        if (r > 0) {
                                close(s->conn);
                                s->conn = -1;
                        }
                }
                if (p[0].revents & POLLIN)
                        accept_client(s);
        }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "domain", required_argument, NULL, 'n' },
                { "listen-fd", required_argument, NULL, 'l' },
                { "socket", required_argument, NULL, 's' },
                { "bpmp-fd", required_argument, NULL, 'b' },
                { "bpmp-dev", required_argument, NULL, 'B' },
                { "user", required_argument, NULL, 'U' },
                { "uid", required_argument, NULL, 'u' },
                { "gid", required_argument, NULL, 'g' },
                { "peer-uid", required_argument, NULL, 'p' },
                { "peer-pid", required_argument, NULL, 'P' },
                { "restrict", required_argument, NULL, 'R' },
                { "control-fd", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *sock_path = NULL, *dev_path = NULL, *user = NULL, *restricts[TEGRA_BPMP_HOST_NR_KINDS * 2];
        size_t n_restricts = 0;
        unsigned long listen_fd = ULONG_MAX, bpmp_fd = ULONG_MAX, uid = ULONG_MAX, gid = ULONG_MAX,
                      peer_uid = ULONG_MAX, peer_pid = 0, control_fd = ULONG_MAX;
        struct tegra_bpmp_host_version ver;
        Server s = { .conn = -1, .control_fd = -1 };
        int c;

        tv_say_prog = "tegravirt-bpmp-backend";
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                bool ok = true;

                switch (c) {
                case 'n': tv_say_domain = optarg; ok = tv_domain_name_valid(optarg); break;
                case 'l': ok = tv_parse_uint(optarg, INT_MAX, &listen_fd); break;
                case 's': sock_path = optarg; break;
                case 'b': ok = tv_parse_uint(optarg, INT_MAX, &bpmp_fd); break;
                case 'B': dev_path = optarg; break;
                case 'U': user = optarg; break;
                case 'u': ok = tv_parse_uint(optarg, UINT_MAX - 1, &uid); break;
                case 'g': ok = tv_parse_uint(optarg, UINT_MAX - 1, &gid); break;
                case 'p': ok = tv_parse_uint(optarg, UINT_MAX - 1, &peer_uid); break;
                case 'P': ok = tv_parse_uint(optarg, INT_MAX, &peer_pid) && peer_pid > 0; break;
                case 'c': ok = tv_parse_uint(optarg, INT_MAX, &control_fd); break;
                case 'R':
                        ok = n_restricts < sizeof(restricts) / sizeof(restricts[0]);
                        if (ok)
                                restricts[n_restricts++] = optarg;
                        break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
                if (!ok) {
                        tv_say("invalid option value: %s", optarg);
                        return 2;
                }
        }
        if (optind != argc || !strcmp(tv_say_domain, "?") || (listen_fd == ULONG_MAX) == !sock_path ||
            (bpmp_fd == ULONG_MAX) == !dev_path || (user && (uid != ULONG_MAX || gid != ULONG_MAX)) ||
            ((uid == ULONG_MAX) != (gid == ULONG_MAX))) {
                usage(stderr);
                return 2;
        }
        if (tv_confine_ids(user, &uid, &gid) < 0)
                return 2;
        if (peer_uid == ULONG_MAX)
                peer_uid = uid; /* QEMU runs as the user we serve as */
        s.peer_uid = peer_uid;
        s.peer_pid = (pid_t)peer_pid;
        if (control_fd != ULONG_MAX) {
                if (tv_confine_check_control((int)control_fd) < 0)
                        return 1;
                s.control_fd = (int)control_fd;
                /* with --peer-pid (a restart while the domain runs) the pid is known already */
                s.pid_pending = !peer_pid;
        }
        s.bpmp_fd = dev_path ? open(dev_path, O_RDWR | O_CLOEXEC) : (int)bpmp_fd;
        if (s.bpmp_fd < 0) {
                tv_say("cannot open %s: %s", dev_path, tv_errname(errno));
                return 1;
        }
        if (ioctl(s.bpmp_fd, TEGRA_BPMP_HOST_IOC_VERSION, &ver) < 0 || ver.version != TEGRA_BPMP_HOST_ABI_VERSION) {
                tv_say("fd %d is not a /dev/bpmp-host of ABI version %d", s.bpmp_fd, TEGRA_BPMP_HOST_ABI_VERSION);
                return 1;
        }
        for (size_t i = 0; i < n_restricts; i++) {
                int r = restrict_fd(s.bpmp_fd, restricts[i]);

                if (r == -1)
                        tv_say("invalid --restrict %s (KIND=IDS: clocks, resets, power_domains or parent_clocks; "
                            "IDS 1,2,3 or -)", restricts[i]);
                if (r < 0)
                        return r == -1 ? 2 : 1;
        }
        s.listen_fd = tv_confine_socket(sock_path, (int)listen_fd, uid, gid);
        if (s.listen_fd < 0)
                return 1;
        if (tv_confine_close_fds((int[]){ s.listen_fd, s.bpmp_fd, s.control_fd }, 3) < 0) {
                tv_say("cannot close inherited fds: %s", tv_errname(errno));
                return 1;
        }
        /* the default SIGTERM/SIGPIPE actions end us; nothing to clean up (tegravirtd removes the socket) */
        signal(SIGPIPE, SIG_IGN);
        /* ioctl only with the two proxy commands */
        if (tv_confine_drop(uid, gid) < 0 ||
            tv_confine_seccomp((const uint32_t[]){ (uint32_t)TEGRA_BPMP_HOST_IOC_XFER, (uint32_t)TEGRA_BPMP_HOST_IOC_VERSION }, 2,
                               NULL, 0) < 0)
                return 1;
        tv_say("serving %s uid %u for peer uid %u%s", sock_path ? sock_path : "the inherited socket", (unsigned)uid,
            (unsigned)peer_uid, peer_pid ? " (one pid)" : s.pid_pending ? " (pid announced on the control channel)" : "");
        serve(&s);
        tv_confine_exit(1);
}
