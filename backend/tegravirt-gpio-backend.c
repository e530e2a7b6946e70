// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tegravirt-gpio-backend: one per running domain with GPIO line groups. It is the virtio GPIO
 * device (virtio 1.2 section 5.17) of the domain's QEMU (vhost-user-gpio-device) on a Unix
 * socket, over our own vhost-user back end, and reaches exactly the domain's host lines, each
 * requested alone through the GPIO character device uAPI v2 (a real gpiochip or orin-sim's
 * simulated one). It requests the lines, closes the chips, and serves unprivileged, without
 * capabilities, with no_new_privs and a seccomp allow-list (tegravirt-gpio-backend(8)).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/gpio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "confine.h"
#include "gpio-lines.h"
#include "gpio-state.h"
#include "tv-gpio-cdev.h"
#include "tv-validate.h"
#include "vhost-user.h"
#include "virtio-gpio.h"

#define MAX_CHIPS 16

static void usage(FILE *f)
{
        fputs("usage: tegravirt-gpio-backend --domain NAME (--listen-fd N | --socket PATH)\n"
              "                              (--chip-fd N | --chip PATH)... --line CHIP:OFFSET:NAME...\n"
              "                              [--user NAME | --uid UID --gid GID] [--peer-uid UID] [--peer-pid PID]\n"
              "                              [--control-fd N] [--state-fd N]\n"
              "The virtio GPIO device (vhost-user) of one domain's QEMU on the given host lines.\n", f);
}

typedef struct Backend {
        int listen_fd;
        int control_fd;         /* tegravirtd: we ask "peer P", it answers allow/deny P; -1 none */
        char control_buf[64];
        size_t control_len;
        uid_t peer_uid;
        pid_t peer_pid;         /* only this pid is served (0: any of peer_uid, or ask) */
        int asking_fd;          /* a connection waiting for tegravirtd's answer; -1 none */
        pid_t asking_pid;
        TvVu *vu;               /* the connection served */
        unsigned long vu_gen;   /* counts connections served */
        pid_t vu_pid;
        unsigned n;
        TvLine *lines;
        const char **names;
        TvVgpio *dev;
        TvVuElem *held;         /* the eventq buffer each line holds (the model says which) */
        bool gone;              /* a host line reported ENODEV: exit for a restart */
        TvGstate *state;        /* --state-fd mapped (MAP_SHARED), or NULL */
        uint64_t lines_id;      /* of the --line list (tv_gstate_lines_id) */
        bool adopt;             /* the state is a dead predecessor's: the first connection continues it */
} Backend;

/* Errors the guest causes are logged, at most a few per second. */
static bool may_log(void)
{
        return tv_say_may("messages");
}

/* --- the device model's view of the host lines */
static int op_get(void *ud, unsigned gpio)
{
        Backend *b = ud;

        return tv_lines_get(&b->lines[gpio]);
}

static int op_set(void *ud, unsigned gpio, int value)
{
        Backend *b = ud;

        return tv_lines_set(&b->lines[gpio], value);
}

static int op_configure(void *ud, unsigned gpio, uint64_t flags, int out_value)
{
        Backend *b = ud;

        return tv_lines_configure(&b->lines[gpio], flags, out_value);
}

static bool op_is_output(void *ud, unsigned gpio)
{
        Backend *b = ud;

        return b->lines[gpio].output;
}

static void op_host_error(void *ud, unsigned gpio, const char *what, int err)
{
        Backend *b = ud;

        if (err == ENODEV)
                b->gone = true;
        if (err == ENODEV || may_log())
                tv_say("line %s (offset %u): %s: %s", b->names[gpio], b->lines[gpio].offset, what, tv_errname(err));
}

static void op_event_done(void *ud, unsigned gpio, uint8_t status)
{
        Backend *b = ud;
        TvVuElem *e = &b->held[gpio];

        if (!b->vu)
                return;
        /* the status byte: the model checked the buffer has one */
        for (unsigned i = 0; i < e->n_in; i++) {
                if (e->in[i].iov_len) {
                        *(uint8_t *)e->in[i].iov_base = status;
                        break;
                }
        }
        tv_vu_push(b->vu, 1, e, 1);
        tv_vu_notify(b->vu, 1);
}

/* The driver's line configuration, recorded after the host line was changed and before the
 * request is answered: a crash before the record means the request is presented again. One
 * 32-bit store, so the record of a line is never half old, half new. */
static void op_line_changed(void *ud, unsigned gpio)
{
        Backend *b = ud;
        TvVgpioLineState st;
        TvGstateLine l;
        uint32_t word;

        if (!b->state)
                return;
        tv_vgpio_line_state(b->dev, gpio, &st);
        l = (TvGstateLine){ .dir = st.dir, .value = st.out_value < 0 ? 0xff : (uint8_t)st.out_value,
                            .irq_type = st.irq_type };
        memcpy(&word, &l, sizeof(word));
        __atomic_store_n((uint32_t *)(void *)&b->state->line[gpio], word, __ATOMIC_RELEASE);
}

static const TvVgpioOps vgpio_ops = {
        .line_changed = op_line_changed,
        .get = op_get,
        .set = op_set,
        .configure = op_configure,
        .is_output = op_is_output,
        .event_done = op_event_done,
        .host_error = op_host_error,
};

/* --- vhost-user */
static int vu_get_config(void *ud, uint32_t offset, uint8_t *buf, uint32_t len)
{
        Backend *b = ud;

        return tv_vgpio_get_config(b->dev, offset, buf, len);
}

/* Everything available on queue q now. Called on each kick and as soon as a ring starts:
 * a request the previous backend took but never answered is available again after QEMU
 * reconnects (it rewinds the ring to the used index), and nobody kicks for it. */
static void process(Backend *b, unsigned q)
{
        TvVuElem e;
        bool used = false;
        int r;

        if (!b->vu || !tv_vu_queue_started(b->vu, q))
                return;
        tv_vgpio_set_irq(b->dev, (tv_vu_acked_features(b->vu) >> VIRTIO_GPIO_F_IRQ) & 1);
        while ((r = tv_vu_pop(b->vu, q, &e)) > 0) {
                if (q == 0) {
                        tv_vu_push(b->vu, 0, &e, tv_vgpio_request(b->dev, e.out, e.n_out, e.in, e.n_in));
                        used = true;
                } else {
                        int g = tv_vgpio_event_parse(b->dev, e.out, e.n_out, e.in, e.n_in);

                        if (g < 0) {
                                if (may_log())
                                        tv_say("client: malformed eventq buffer returned empty");
                                tv_vu_push(b->vu, 1, &e, 0);
                                used = true;
                                continue;
                        }
                        b->held[g] = e;
                        tv_vgpio_event_arm(b->dev, (unsigned)g);
                }
        }
        if (r < 0 && may_log())
                tv_say("client: bad ring %u: %s", q, tv_errname(-r));
        if (used)
                tv_vu_notify(b->vu, q);
}

static void vu_queue_ready(void *ud, unsigned q, bool ready)
{
        Backend *b = ud;

        if (!ready) {
                /* pushes still work during this callback (vhost-user.h) */
                if (q == 1) {
                        tv_vgpio_return_buffers(b->dev);
                        tv_vgpio_forget_buffers(b->dev);
                }
                return;
        }
        process(b, q);
}

static void vu_queue_kick(void *ud, unsigned q)
{
        process(ud, q);
}

static const TvVuOps vu_ops = {
        .features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_GPIO_F_IRQ),
        .get_config = vu_get_config,
        .queue_ready = vu_queue_ready,
        .queue_kick = vu_queue_kick,
};

static void end_connection(Backend *b, const char *why)
{
        TvVgpioStats st = tv_vgpio_stats(b->dev);

        tv_say("client pid %d: %s (%lu requests, %lu failed, %lu interrupts)", (int)b->vu_pid, why, st.requests,
               st.errors, st.events);
        tv_vu_free(b->vu);
        b->vu = NULL;
        /* the next connection is a new driver */
        tv_vgpio_reset(b->dev);
        if (b->state)
                tv_gstate_init(b->state, b->n, b->lines_id);
}

static void serve_connection(Backend *b, int fd, pid_t pid)
{
        b->vu = tv_vu_new(fd, 2, &vu_ops, b);
        if (!b->vu) {
                tv_say("client pid %d: out of memory, connection closed", (int)pid);
                return;
        }
        b->vu_pid = pid;
        b->vu_gen++;
        for (unsigned q = 0; b->state && q < TV_GSTATE_QUEUES; q++)
                tv_vu_set_record(b->vu, q, &b->state->queue[q], b->adopt);
        b->adopt = false;
        tv_say("serving client pid %d", (int)pid);
}

/* --- tegravirtd's control channel */
static void control_close(Backend *b, const char *why)
{
        if (why)
                tv_say("%s: control channel closed", why);
        close(b->control_fd);
        b->control_fd = -1;
        if (b->asking_fd >= 0) {
                tv_say("client pid %d refused: no answer from tegravirtd", (int)b->asking_pid);
                close(b->asking_fd);
                b->asking_fd = -1;
        }
}

static void control_line(Backend *b, char *line)
{
        unsigned long pid;
        const char *arg;

        if (!strncmp(line, "allow ", 6))
                arg = line + 6;
        else if (!strncmp(line, "deny ", 5))
                arg = line + 5;
        else if (!strncmp(line, "peer-pid ", 9))
                arg = line + 9;
        else
                arg = NULL;
        if (!arg || !tv_parse_uint(arg, INT_MAX, &pid) || !pid) {
                control_close(b, "bad control message");
                return;
        }
        if (line[0] == 'p') {
                /* the domain's QEMU (DomainStarted): from now on only it is served */
                b->peer_pid = (pid_t)pid;
                tv_say("the domain's QEMU is pid %d", (int)pid);
                if (b->vu && b->vu_pid != b->peer_pid)
                        end_connection(b, "not the domain's QEMU, connection closed");
                if (b->asking_fd >= 0 && b->asking_pid == b->peer_pid) {
                        int fd = b->asking_fd;

                        b->asking_fd = -1;
                        serve_connection(b, fd, (pid_t)pid);
                } else if (b->asking_fd >= 0) {
                        tv_say("client pid %d refused: not the domain's QEMU (pid %d)", (int)b->asking_pid, (int)pid);
                        close(b->asking_fd);
                        b->asking_fd = -1;
                }
                return;
        }
        if (b->asking_fd < 0 || (pid_t)pid != b->asking_pid)
                return; /* an answer about a connection that is gone */
        if (line[0] == 'a') {
                int fd = b->asking_fd;

                b->asking_fd = -1;
                serve_connection(b, fd, (pid_t)pid);
        } else {
                tv_say("client pid %d refused by tegravirtd", (int)pid);
                close(b->asking_fd);
                b->asking_fd = -1;
        }
}

static bool control_line_cb(void *ud, char *line)
{
        Backend *b = ud;

        control_line(b, line);
        return b->control_fd >= 0;
}

static void read_control(Backend *b)
{
        int r = tv_confine_read_lines(b->control_fd, b->control_buf, sizeof(b->control_buf), &b->control_len,
                                      control_line_cb, b);

        if (r == -3 || b->control_fd < 0)
                return; /* closed by control_line */
        if (r <= 0)
                control_close(b, r == 0 ? NULL : r == -1 ? "control channel error" : "control message too long");
}

static int write_all(int fd, const char *s, size_t len)
{
        while (len) {
                ssize_t n = write(fd, s, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                s += n;
                len -= n;
        }
        return 0;
}

/* One connection at a time, of the expected uid (and pid once known); with a control
 * channel and no pid known, tegravirtd is asked and nothing is read from the client before
 * it answers. */
static void accept_client(Backend *b)
{
        struct ucred cred;
        int fd = tv_confine_accept(b->listen_fd, b->peer_uid, b->peer_pid, &cred);

        if (fd < 0)
                return;
        if (b->vu || b->asking_fd >= 0) {
                tv_say("client pid %d refused: pid %d is connected already (one connection at a time)", (int)cred.pid,
                       (int)(b->vu ? b->vu_pid : b->asking_pid));
                close(fd);
                return;
        }
        if (b->peer_pid || b->control_fd < 0) {
                serve_connection(b, fd, cred.pid);
                return;
        }
        char ask[32];
        int n = snprintf(ask, sizeof(ask), "peer %d\n", (int)cred.pid);

        if (write_all(b->control_fd, ask, (size_t)n) < 0) {
                tv_say("client pid %d refused: cannot ask tegravirtd: %s", (int)cred.pid, tv_errname(errno));
                close(fd);
                return;
        }
        tv_say("client pid %d uid %u connected; held until tegravirtd answers", (int)cred.pid, (unsigned)cred.uid);
        b->asking_fd = fd;
        b->asking_pid = cred.pid;
}

static void host_events(Backend *b, unsigned i)
{
        struct gpio_v2_line_event ev;
        int r = tv_lines_read_event(&b->lines[i], &ev);

        if (r < 0) {
                op_host_error(b, i, "reading an edge event", -r);
                if (r != -EINTR)
                        b->gone = true; /* the line's event channel is broken */
                return;
        }
        if (r > 0)
                tv_vgpio_host_event(b->dev, i, ev.id);
}

static int serve(Backend *b)
{
        size_t max = 3 + 8 + b->n;
        struct pollfd *p = calloc(max, sizeof(*p));

        if (!p)
                return -1;
        while (!b->gone) {
                unsigned n_vu = 0, base = 3 + b->n;
                unsigned long gen = b->vu_gen;
                int r;

                p[0] = (struct pollfd){ .fd = b->listen_fd, .events = POLLIN };
                p[1] = (struct pollfd){ .fd = b->control_fd, .events = POLLIN };
                /* a client waiting for tegravirtd's answer: not read, only watched for its end */
                p[2] = (struct pollfd){ .fd = b->asking_fd, .events = POLLRDHUP };
                for (unsigned i = 0; i < b->n; i++)
                        p[3 + i] = (struct pollfd){ .fd = b->lines[i].req.fd, .events = POLLIN };
                if (b->vu)
                        n_vu = tv_vu_poll_fds(b->vu, p + base, (unsigned)(max - base));
                r = poll(p, base + n_vu, -1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        tv_say("poll: %s", tv_errname(errno));
                        break;
                }
                if (b->control_fd >= 0 && p[1].revents)
                        read_control(b);
                if (b->asking_fd >= 0 && p[2].fd == b->asking_fd && p[2].revents) {
                        tv_say("client pid %d went away before tegravirtd answered", (int)b->asking_pid);
                        close(b->asking_fd);
                        b->asking_fd = -1;
                }
                /* the control channel may have ended or replaced the connection polled */
                if (b->vu && n_vu && b->vu_gen == gen && tv_vu_dispatch(b->vu, p + base, n_vu) < 0)
                        end_connection(b, "connection ended");
                for (unsigned i = 0; i < b->n && !b->gone; i++) {
                        if (p[3 + i].revents & POLLIN)
                                host_events(b, i);
                        else if (p[3 + i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                                tv_say("line %s (offset %u): the chip is gone", b->names[i], b->lines[i].offset);
                                b->gone = true;
                        }
                }
                if (p[0].revents & POLLIN)
                        accept_client(b);
        }
        free(p);
        tv_say("a host line is gone (ENODEV): exiting for a restart");
        return -1;
}

/* The state file (before the confinement: it may be sized here). A file of other lines, of
 * another version or inconsistent is discarded (logged) and started afresh. */
static TvGstate *map_state(int fd, unsigned n, uint64_t id, bool *adopt)
{
        size_t size = tv_gstate_size(n);
        struct stat st;
        const char *why = NULL;
        void *p;

        *adopt = false;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                tv_say("--state-fd %d: not a regular file", fd);
                return NULL;
        }
        if (st.st_size != 0 && (uint64_t)st.st_size != size)
                why = "wrong size";
        if ((uint64_t)st.st_size != size && (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)) {
                tv_say("--state-fd %d: cannot size it: %s", fd, tv_errname(errno));
                return NULL;
        }
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                tv_say("--state-fd %d: cannot map it: %s", fd, tv_errname(errno));
                return NULL;
        }
        if (st.st_size == 0) {
                tv_gstate_init(p, n, id);
                return p;
        }
        if (!why)
                why = tv_gstate_check(p, size, n, id);
        if (why) {
                tv_say("state file discarded (%s): lines and interrupts start as a new device's", why);
                tv_gstate_init(p, n, id);
                return p;
        }
        *adopt = true;
        return p;
}

/* A predecessor's line configuration back on the host lines, before anything is served. */
static void restore_lines(Backend *b)
{
        unsigned n = 0;

        for (unsigned i = 0; i < b->n; i++) {
                const TvGstateLine *l = &b->state->line[i];
                TvVgpioLineState st = { .dir = l->dir, .out_value = l->value == 0xff ? -1 : l->value,
                                        .irq_type = l->irq_type };
                int r;

                if (!st.dir && st.out_value < 0 && !st.irq_type)
                        continue;
                r = tv_vgpio_restore_line(b->dev, i, &st);
                if (r < 0) {
                        tv_say("line %s (offset %u): recorded configuration not restored: %s", b->names[i],
                               b->lines[i].offset, tv_errname(-r));
                        continue;
                }
                n++;
        }
        if (n)
                tv_say("restored the guest's configuration of %u lines from the state file", n);
}

/* --line CHIP:OFFSET:NAME */
static bool parse_line(const char *s, unsigned n_chips, unsigned *chip, unsigned *offset, const char **name)
{
        unsigned long c, o;
        char buf[32];
        const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        if (!c2 || (size_t)(c1 - s) >= sizeof(buf) || (size_t)(c2 - c1 - 1) >= sizeof(buf))
                return false;
        memcpy(buf, s, c1 - s);
        buf[c1 - s] = 0;
        if (!tv_parse_uint(buf, MAX_CHIPS - 1, &c) || c >= n_chips)
                return false;
        memcpy(buf, c1 + 1, c2 - c1 - 1);
        buf[c2 - c1 - 1] = 0;
        if (!tv_parse_uint(buf, UINT16_MAX, &o))
                return false;
        *chip = (unsigned)c;
        *offset = (unsigned)o;
        *name = c2 + 1;
        return tv_vgpio_name_valid(*name);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "domain", required_argument, NULL, 'n' },
                { "listen-fd", required_argument, NULL, 'l' },
                { "socket", required_argument, NULL, 's' },
                { "chip-fd", required_argument, NULL, 'f' },
                { "chip", required_argument, NULL, 'C' },
                { "line", required_argument, NULL, 'L' },
                { "user", required_argument, NULL, 'U' },
                { "uid", required_argument, NULL, 'u' },
                { "gid", required_argument, NULL, 'g' },
                { "peer-uid", required_argument, NULL, 'p' },
                { "peer-pid", required_argument, NULL, 'P' },
                { "control-fd", required_argument, NULL, 'c' },
                { "state-fd", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *sock_path = NULL, *user = NULL, *chip_paths[MAX_CHIPS] = { 0 };
        int chip_fds[MAX_CHIPS];
        /* fixed storage: nothing to free on the early exits */
        static const char *line_specs[TV_VGPIO_MAX_LINES], *names[TV_VGPIO_MAX_LINES];
        static unsigned line_chip[TV_VGPIO_MAX_LINES], line_off[TV_VGPIO_MAX_LINES];
        static TvLine lines[TV_VGPIO_MAX_LINES];
        static TvVuElem held[TV_VGPIO_MAX_LINES];
        static int keep[2 * TV_VGPIO_MAX_LINES + 2];
        unsigned n_chips = 0;
        unsigned long listen_fd = ULONG_MAX, uid = ULONG_MAX, gid = ULONG_MAX, peer_uid = ULONG_MAX, peer_pid = 0,
                      control_fd = ULONG_MAX, state_fd = ULONG_MAX, v;
        Backend b = { .control_fd = -1, .asking_fd = -1, .lines = lines, .names = names, .held = held };
        char consumer[GPIO_MAX_NAME_SIZE + 16];
        int c;
        size_t n_keep = 0;

        tv_say_prog = "tegravirt-gpio-backend";
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                bool ok = true;

                switch (c) {
                case 'n': tv_say_domain = optarg; ok = tv_domain_name_valid(optarg); break;
                case 'l': ok = tv_parse_uint(optarg, INT_MAX, &listen_fd); break;
                case 's': sock_path = optarg; break;
                case 'f':
                case 'C':
                        ok = n_chips < MAX_CHIPS;
                        if (ok && c == 'f') {
                                ok = tv_parse_uint(optarg, INT_MAX, &v);
                                chip_fds[n_chips] = (int)v;
                        } else if (ok) {
                                chip_fds[n_chips] = -1;
                                chip_paths[n_chips] = optarg;
                        }
                        n_chips++;
                        break;
                case 'L':
                        ok = b.n < TV_VGPIO_MAX_LINES;
                        if (ok)
                                line_specs[b.n++] = optarg;
                        break;
                case 'U': user = optarg; break;
                case 'u': ok = tv_parse_uint(optarg, UINT_MAX - 1, &uid); break;
                case 'g': ok = tv_parse_uint(optarg, UINT_MAX - 1, &gid); break;
                case 'p': ok = tv_parse_uint(optarg, UINT_MAX - 1, &peer_uid); break;
                case 'P': ok = tv_parse_uint(optarg, INT_MAX, &peer_pid) && peer_pid > 0; break;
                case 'c': ok = tv_parse_uint(optarg, INT_MAX, &control_fd); break;
                case 'S': ok = tv_parse_uint(optarg, INT_MAX, &state_fd); break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
                if (!ok) {
                        tv_say("invalid option value: %s", optarg);
                        return 2;
                }
        }
        if (optind != argc || !strcmp(tv_say_domain, "?") || (listen_fd == ULONG_MAX) == !sock_path || !n_chips ||
            !b.n || (user && (uid != ULONG_MAX || gid != ULONG_MAX)) || ((uid == ULONG_MAX) != (gid == ULONG_MAX))) {
                usage(stderr);
                return 2;
        }
        for (unsigned i = 0; i < b.n; i++) {
                if (!parse_line(line_specs[i], n_chips, &line_chip[i], &line_off[i], &b.names[i])) {
                        tv_say("invalid --line %s (CHIP:OFFSET:NAME: CHIP the index of a --chip/--chip-fd, NAME "
                               "1 to %d printable characters without spaces)", line_specs[i], TV_VGPIO_NAME_MAX);
                        return 2;
                }
                for (unsigned j = 0; j < i; j++) {
                        if (line_chip[j] == line_chip[i] && line_off[j] == line_off[i]) {
                                tv_say("line %u:%u given twice", line_chip[i], line_off[i]);
                                return 2;
                        }
                        if (!strcmp(b.names[j], b.names[i])) {
                                tv_say("guest line name %s given twice", b.names[i]);
                                return 2;
                        }
                }
        }
        if (tv_confine_ids(user, &uid, &gid) < 0)
                return 2;
        if (peer_uid == ULONG_MAX)
                peer_uid = uid; /* QEMU runs as the user we serve as */
        b.peer_uid = (uid_t)peer_uid;
        b.peer_pid = (pid_t)peer_pid;
        if (control_fd != ULONG_MAX) {
                if (tv_confine_check_control((int)control_fd) < 0)
                        return 1;
                b.control_fd = (int)control_fd;
        }
        /* the chips: opened (or inherited), checked, used for the requests, closed */
        for (unsigned i = 0; i < n_chips; i++) {
                struct gpiochip_info info;
                int r;

                if (chip_paths[i]) {
                        chip_fds[i] = tv_gpio_chip_open(chip_paths[i]);
                        if (chip_fds[i] < 0) {
                                tv_say("cannot open GPIO chip %s: %s", chip_paths[i], tv_errname(-chip_fds[i]));
                                return 1;
                        }
                }
                r = tv_gpio_chip_ioctl(chip_fds[i], GPIO_GET_CHIPINFO_IOCTL, &info);
                if (r < 0) {
                        tv_say("chip %u (%s): not a GPIO chip: %s", i, chip_paths[i] ? chip_paths[i] : "inherited fd",
                               tv_errname(-r));
                        return 1;
                }
        }
        snprintf(consumer, sizeof(consumer), "tegravirt:%s", tv_say_domain);
        for (unsigned i = 0; i < b.n; i++) {
                char why[80];
                int r = tv_lines_request(chip_fds[line_chip[i]], line_off[i], consumer, &b.lines[i], why, sizeof(why));

                if (r < 0) {
                        tv_say("cannot request line %s (chip %u offset %u): %s%s%s", b.names[i], line_chip[i], line_off[i],
                               tv_errname(-r), why[0] ? ", " : "", why);
                        return 1;
                }
        }
        for (unsigned i = 0; i < n_chips; i++)
                close(chip_fds[i]);
        if (state_fd != ULONG_MAX) {
                b.lines_id = tv_gstate_lines_id(line_specs, b.n);
                b.state = map_state((int)state_fd, b.n, b.lines_id, &b.adopt);
                if (!b.state)
                        return 1;
                close((int)state_fd); /* the mapping stays */
        }
        b.listen_fd = tv_confine_socket(sock_path, (int)listen_fd, (uid_t)uid, (gid_t)gid);
        if (b.listen_fd < 0)
                return 1;
        keep[n_keep++] = b.listen_fd;
        keep[n_keep++] = b.control_fd;
        for (unsigned i = 0; i < b.n; i++) {
                keep[n_keep++] = b.lines[i].req.fd;
                keep[n_keep++] = b.lines[i].req.ctl;
        }
        if (tv_confine_close_fds(keep, n_keep) < 0) {
                tv_say("cannot close inherited fds: %s", tv_errname(errno));
                return 1;
        }
        /* the default SIGTERM action ends us: the lines are released by the kernel (or orin-sim)
         * when their fds close; tegravirtd removes the socket */
        signal(SIGPIPE, SIG_IGN);
        /* ioctl only with the three line commands (a kernel chip; the simulated chip's are messages) */
        static const uint32_t ioctls[] = { (uint32_t)GPIO_V2_LINE_SET_CONFIG_IOCTL, (uint32_t)GPIO_V2_LINE_GET_VALUES_IOCTL,
                                           (uint32_t)GPIO_V2_LINE_SET_VALUES_IOCTL };
        /* vhost-user: the memory table's fds are mmap()ed after fstat() gives their size */
        static const int extra[] = { __NR_fstat, __NR_newfstatat, __NR_fcntl };
        if (tv_confine_drop((uid_t)uid, (gid_t)gid) < 0 ||
            tv_confine_seccomp(ioctls, sizeof(ioctls) / sizeof(ioctls[0]), extra, sizeof(extra) / sizeof(extra[0])) < 0)
                return 1;
        b.dev = tv_vgpio_new(b.n, b.names, &vgpio_ops, &b); /* names checked above */
        if (!b.dev)
                tv_confine_exit(1);
        if (b.adopt)
                restore_lines(&b);
        tv_say("serving %u lines on %s uid %u for peer uid %u%s", b.n, sock_path ? sock_path : "the inherited socket",
               (unsigned)uid, (unsigned)peer_uid,
               peer_pid ? " (one pid)" : b.control_fd >= 0 ? " (tegravirtd decides on each client)" : "");
        serve(&b);
        tv_confine_exit(1);
}
