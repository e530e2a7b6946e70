// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvirt qemu hook, installed as /etc/libvirt/hooks/qemu.d/tegravirt.
 *
 * libvirt runs it for every operation on every domain:
 *     tegravirt DOMAIN OPERATION SUB-OPERATION EXTRA   (missing values are "-")
 * with the domain XML on stdin. It binds a domain's devices on "prepare begin"
 * and gives them back on "release end", both through tegravirtd on the system bus.
 *
 * Rules that shape this file:
 *  - Domains that do not use tegravirt cost one read of stdin and a substring search:
 *    no D-Bus, and libsystemd is not even loaded (dlopen'ed on demand).
 *  - libvirt has no timeout for hooks and holds the domain job while one runs, so
 *    every wait here is bounded: the D-Bus call has a timeout and an alarm backs
 *    everything else (stdin, connecting, authenticating).
 *  - A non-zero exit on "reconnect" kills the running guest: that path exits 0 always.
 *  - Messages go to stderr as one line each; libvirt shows it to "virsh start" on
 *    failure. Nothing is ever written to stdout (it is the XML for migrate/restore).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "config.h"
#include "tv-limits.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-quote.h"
#include "tv-validate.h"

#define PROG                    "tegravirt"
/* Past the cap we keep reading (and discarding) this much more so that libvirt's
 * writer sees the whole document consumed instead of EPIPE. */
#define HOOK_DRAIN_MAX          ((size_t)64 << 20)
#define HOOK_TIMEOUT_DEFAULT    30u
#define HOOK_TIMEOUT_MAX        600u
#define HOOK_LIBSYSTEMD         "libsystemd.so.0"
#define HOOK_NOT_RUNNING        "tegravirtd is not running: start it with 'systemctl start tegravirtd'"

typedef enum HookOp {
        OP_PREPARE,
        OP_RELEASE,
        OP_RECONNECT,
        OP_STARTED,     /* started begin: QEMU runs, the vCPUs do not yet */
        OP_FILTER,      /* migrate, restore: stdout would replace the XML; we never change it */
        OP_IGNORED,     /* start, stopped, attach: nothing to do */
        OP_UNKNOWN,
} HookOp;

typedef struct Input {
        char *buf;              /* the first TV_DOMAIN_XML_MAX_BYTES bytes, NUL-terminated (NULL when not kept) */
        size_t len;
        bool too_big;           /* more than TV_DOMAIN_XML_MAX_BYTES bytes arrived */
        bool tty;               /* stdin is a terminal: a person, not libvirt; never read it */
        int error;              /* errno of a failed read, 0 otherwise */
} Input;

static void input_clear(Input *in)
{
        free(in->buf);
        in->buf = NULL;
}

typedef struct Hook {
        const char *domain;
        const char *op_name;
        const char *subop;
        HookOp op;
        unsigned timeout_sec;
        struct timespec deadline;  /* CLOCK_MONOTONIC: start + timeout */
} Hook;

/* ---- messages ---- */

/* Prints "tegravirt: MESSAGE\n" with a single write, so concurrent hooks never interleave. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        char line[1536];
        va_list ap;
        int n;

        memcpy(line, PROG ": ", sizeof(PROG ": "));
        va_start(ap, fmt);
        n = vsnprintf(line + sizeof(PROG ": ") - 1, sizeof(line) - sizeof(PROG ": ") - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        n = (int)strlen(line);
        line[n++] = '\n';
        while (write(STDERR_FILENO, line, (size_t)n) < 0 && errno == EINTR)
                ;
}

static const char *shown_domain(const Hook *h)
{
        static char buf[3 * TV_NAME_MAX];

        tv_quote(buf, sizeof(buf), h->domain, (size_t)-1, 2 * TV_NAME_MAX, 0);
        return buf;
}

/* ---- the deadline ---- */

static volatile sig_atomic_t alarm_exit_code;
/* What the alarm says: 0 reading stdin, 1 talking to the bus, 2 nothing (the one
 * line about the outcome has been printed already). */
static volatile sig_atomic_t alarm_phase;
static char alarm_msg[3][256];

static void on_alarm(int sig)
{
        const char *m = alarm_msg[alarm_phase >= 0 && alarm_phase <= 2 ? alarm_phase : 2];

        (void)!write(STDERR_FILENO, m, strlen(m));
        _exit(alarm_exit_code);
}

/* Bounds the waits that have no timeout of their own: reading stdin (the whole
 * timeout), then connecting and authenticating to the bus (see call_manager). */
static void arm_alarm(const Hook *h)
{
        struct sigaction sa = { .sa_handler = on_alarm };

        snprintf(alarm_msg[0], sizeof(alarm_msg[0]),
                 PROG ": timed out after %u s reading the domain XML from standard input\n", h->timeout_sec);
        snprintf(alarm_msg[1], sizeof(alarm_msg[1]),
                 PROG ": timed out after %u s talking to tegravirtd on the system bus\n", h->timeout_sec);
        alarm_exit_code = h->op == OP_PREPARE ? 1 : 0;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        alarm(h->timeout_sec);
}

static uint64_t usec_left(const Hook *h)
{
        struct timespec now;
        int64_t left;

        clock_gettime(CLOCK_MONOTONIC, &now);
        left = (int64_t)(h->deadline.tv_sec - now.tv_sec) * 1000000 +
               (h->deadline.tv_nsec - now.tv_nsec) / 1000;
        return left > 1000 ? (uint64_t)left : 1000;
}

static unsigned parse_timeout(void)
{
        const char *s = getenv("TEGRAVIRT_HOOK_TIMEOUT");
        char *end = NULL, shown[40];
        unsigned long v;

        if (!s)
                return HOOK_TIMEOUT_DEFAULT;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno == 0 && end != s && *end == '\0' && s[0] >= '0' && s[0] <= '9' &&
            v >= 1 && v <= HOOK_TIMEOUT_MAX)
                return (unsigned)v;
        tv_quote(shown, sizeof(shown), s, (size_t)-1, 32, 0);
        say("ignoring TEGRAVIRT_HOOK_TIMEOUT='%s': expected 1-%u seconds; using %u",
            shown, HOOK_TIMEOUT_MAX, HOOK_TIMEOUT_DEFAULT);
        return HOOK_TIMEOUT_DEFAULT;
}

/* ---- stdin ---- */

/* Reads stdin to the end: the first TV_DOMAIN_XML_MAX_BYTES bytes are kept when keep is set,
 * the rest (up to HOOK_DRAIN_MAX) is discarded. Never reads a terminal. */
static void read_input(Input *in, bool keep)
{
        static char scratch[64 * 1024];
        size_t cap = 0, drained = 0;

        *in = (Input){ 0 };
        if (isatty(STDIN_FILENO)) {
                in->tty = true;
                return;
        }
        if (keep) {
                cap = 64 * 1024;
                in->buf = malloc(cap + 1);
                if (!in->buf) {
                        in->error = ENOMEM;
                        keep = false;
                }
        }
        for (;;) {
                char *dst = scratch;
                size_t room = sizeof(scratch);
                ssize_t n;

                if (keep && in->len < (size_t)TV_DOMAIN_XML_MAX_BYTES) {
                        if (in->len == cap) {
                                size_t max = TV_DOMAIN_XML_MAX_BYTES, ncap = cap * 2 > max ? max : cap * 2;
                                char *nb = realloc(in->buf, ncap + 1);

                                if (!nb) {
                                        in->error = ENOMEM;
                                        break;
                                }
                                in->buf = nb;
                                cap = ncap;
                        }
                        dst = in->buf + in->len;
                        room = cap - in->len;
                } else if (drained >= HOOK_DRAIN_MAX) {
                        break;
                }
                n = read(STDIN_FILENO, dst, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        /* a closed stdin (EBADF) is an empty one */
                        if (errno != EBADF)
                                in->error = errno;
                        break;
                }
                if (n == 0)
                        break;
                if (dst == scratch) {
                        drained += (size_t)n;
                        in->too_big = in->buf != NULL;
                } else {
                        in->len += (size_t)n;
                }
        }
        if (in->buf)
                in->buf[in->len] = '\0';
}

/* Whether the document names our metadata namespace; a plain substring search,
 * because the hook must not parse XML for domains that are not ours. */
static bool mentions_tegravirt(const Input *in)
{
        return in->buf && memmem(in->buf, in->len, TV_DOMAIN_NS, sizeof(TV_DOMAIN_NS) - 1);
}

/* Why the XML cannot be used, or NULL. */
static const char *input_problem(const Input *in)
{
        static char buf[160];

        if (in->tty)
                return "no domain XML: standard input is a terminal (libvirt passes the XML on stdin)";
        if (in->error) {
                snprintf(buf, sizeof(buf), "cannot read the domain XML from standard input: %s",
                         strerror(in->error));
                return buf;
        }
        if (in->too_big)
                return "the domain XML on standard input is larger than " TV_DOMAIN_XML_MAX_TEXT;
        if (in->len == 0)
                return "no domain XML on standard input (libvirt always passes it)";
        return NULL;
}

/* ---- D-Bus, through libsystemd loaded on demand ---- */

#define SD_FN(f) __typeof__(f) *f
static struct {
        void *handle;
        SD_FN(sd_bus_open_system);
        SD_FN(sd_bus_set_method_call_timeout);
        SD_FN(sd_bus_call_method);
        SD_FN(sd_bus_error_set_errno);
        SD_FN(sd_bus_error_free);
        SD_FN(sd_bus_flush_close_unref);
} sd;

static int load_libsystemd(void)
{
        const char *err;

        sd.handle = dlopen(HOOK_LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
        if (!sd.handle) {
                err = dlerror();
                say("cannot load " HOOK_LIBSYSTEMD ": %s", err ? err : "unknown error");
                return -1;
        }
#define SD_LOAD(f) if (!(sd.f = (__typeof__(sd.f))dlsym(sd.handle, #f))) goto missing
        SD_LOAD(sd_bus_open_system);
        SD_LOAD(sd_bus_set_method_call_timeout);
        SD_LOAD(sd_bus_call_method);
        SD_LOAD(sd_bus_error_set_errno);
        SD_LOAD(sd_bus_error_free);
        SD_LOAD(sd_bus_flush_close_unref);
#undef SD_LOAD
        return 0;
missing:
        err = dlerror();
        say("cannot use " HOOK_LIBSYSTEMD " (systemd 246 or later is needed): %s", err ? err : "symbol missing");
        return -1;
}

static bool name_is(const sd_bus_error *e, const char *name)
{
        return e->name && strcmp(e->name, name) == 0;
}

static bool name_has_prefix(const sd_bus_error *e, const char *prefix)
{
        return e->name && strncmp(e->name, prefix, strlen(prefix)) == 0;
}

/* Prints the one line for a failed call. */
static void report_call_error(const Hook *h, const char *member, const sd_bus_error *e, int r)
{
        char msg[1024];

        if (r == -ETIMEDOUT || name_is(e, SD_BUS_ERROR_TIMEOUT) || name_is(e, SD_BUS_ERROR_NO_REPLY)) {
                say("%s for domain '%s' timed out after %u s: tegravirtd did not answer (%s)",
                    member, shown_domain(h), h->timeout_sec, e->name ? e->name : SD_BUS_ERROR_TIMEOUT);
                return;
        }
        /* No owner, or bus activation could not start one. */
        if (name_is(e, SD_BUS_ERROR_SERVICE_UNKNOWN) || name_is(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
            name_has_prefix(e, "org.freedesktop.DBus.Error.Spawn.") ||
            name_is(e, "org.freedesktop.systemd1.NoSuchUnit")) {
                say(HOOK_NOT_RUNNING " (%s)", e->name);
                return;
        }
        tv_quote(msg, sizeof(msg), e->message && e->message[0] ? e->message : strerror(r < 0 ? -r : EIO),
                 (size_t)-1, 900, 0);
        say("%s (%s)", msg, e->name ? e->name : "unknown error");
}

/* Calls Manager1.member(domain[, xml]). Returns 0, or -1 after printing one line. */
static int call_manager(const Hook *h, const char *member, const char *xml)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        /* The method call timeout fires first with a better message; the alarm only
         * backs up what sd-bus waits for without it (its auth timeout is 90 s). */
        alarm_phase = 1;
        alarm((unsigned)((usec_left(h) + 999999) / 1000000) + 1);
        if (load_libsystemd() < 0)
                return -1;
        r = sd.sd_bus_open_system(&bus);
        if (r < 0) {
                say(HOOK_NOT_RUNNING " (cannot connect to the system bus: %s)", strerror(-r));
                goto out;
        }
        r = sd.sd_bus_set_method_call_timeout(bus, usec_left(h));
        if (r >= 0) {
                if (xml)
                        r = sd.sd_bus_call_method(bus, TV_BUS_NAME, TV_MANAGER_PATH, TV_MANAGER_IFACE, member,
                                                  &error, NULL, "ss", h->domain, xml);
                else
                        r = sd.sd_bus_call_method(bus, TV_BUS_NAME, TV_MANAGER_PATH, TV_MANAGER_IFACE, member,
                                                  &error, NULL, "s", h->domain);
        }
        if (r < 0) {
                /* a local failure carries no D-Bus error: name it after errno */
                if (!error.name)
                        sd.sd_bus_error_set_errno(&error, r);
                report_call_error(h, member, &error, r);
        }
out:
        /* The outcome is known and printed: a slow cleanup must not change it. */
        alarm_phase = 2;
        alarm_exit_code = r < 0 && (h->op == OP_PREPARE || h->op == OP_STARTED) ? 1 : 0;
        sd.sd_bus_error_free(&error);
        sd.sd_bus_flush_close_unref(bus);
        /* libsystemd stays loaded: the process ends right after, and unloading
         * libraries with thread-local state buys nothing but risk. */
        return r < 0 ? -1 : 0;
}

/* ---- operations ---- */

/* prepare begin: the last point where the start can be refused. */
static int op_prepare(const Hook *h)
{
        _cleanup_(input_clear) Input in = { 0 };
        const char *problem;

        read_input(&in, true);
        /* Without the XML we cannot tell whether the domain is ours; libvirt always
         * passes it, so refusing only ever stops a broken caller. */
        problem = input_problem(&in);
        if (problem) {
                say("refusing to prepare domain '%s': %s", shown_domain(h), problem);
                return 1;
        }
        if (!mentions_tegravirt(&in))
                return 0;
        if (strcmp(h->subop, "begin") != 0) {
                say("refusing to prepare domain '%s': unexpected sub-operation for prepare (expected 'begin')",
                    shown_domain(h));
                return 1;
        }
        if (!tv_domain_name_valid(h->domain)) {
                say("refusing to prepare domain '%s': tegravirt domain names are 1-%d characters of "
                    "[A-Za-z0-9_.+-], not starting with '.' or '-'", shown_domain(h), TV_NAME_MAX);
                return 1;
        }
        if (!tv_utf8_valid(in.buf, in.len)) {
                say("refusing to prepare domain '%s': the domain XML is not UTF-8 text", shown_domain(h));
                return 1;
        }
        return call_manager(h, "PrepareDomain", in.buf) < 0 ? 1 : 0;
}

/* What domain-sync writes for a domain whose BPMP transfers go to its backend
 * (-device tegravirt-bpmp,chardev=...) or whose GPIO line groups go to its GPIO backend
 * (gpio-guest.h): only such a domain needs DomainStarted, the backend serves that QEMU only. */
#define HOOK_BPMP_DEVICE "tegravirt-bpmp,chardev="
#define HOOK_GPIO_DEVICE "vhost-user-gpio-device,chardev="

/* started begin: QEMU runs, the guest's vCPUs not yet. The domain's BPMP and GPIO backends learn
 * which process to serve; without that they serve nothing and the guest's calls fail,
 * so for such a domain a failure fails the start. Other domains: no D-Bus at all. */
static int op_started(const Hook *h)
{
        _cleanup_(input_clear) Input in = { 0 };

        read_input(&in, true);
        if (input_problem(&in) || !mentions_tegravirt(&in) ||
            (!strstr(in.buf, HOOK_BPMP_DEVICE) && !strstr(in.buf, HOOK_GPIO_DEVICE)))
                return 0;
        if (strcmp(h->subop, "begin") != 0 || !tv_domain_name_valid(h->domain))
                return 0; /* prepare refused such a name already */
        alarm_exit_code = 1;
        return call_manager(h, "DomainStarted", NULL) < 0 ? 1 : 0;
}

/* release end: libvirt ignores the result, and also runs it after a failed start. */
static int op_release(const Hook *h)
{
        _cleanup_(input_clear) Input in = { 0 };
        const char *problem;

        read_input(&in, true);
        if (strcmp(h->subop, "end") != 0) {
                char shown[80];

                tv_quote(shown, sizeof(shown), h->subop, (size_t)-1, 40, 0);
                say("ignoring 'release %s' of domain '%s' (libvirt sends 'release end')", shown, shown_domain(h));
                return 0;
        }
        /* When the XML cannot be read we release anyway: it is idempotent, and a device
         * left on vfio-platform after its guest stopped is the worse outcome. */
        problem = input_problem(&in);
        if (!problem && !mentions_tegravirt(&in))
                return 0;
        if (!tv_domain_name_valid(h->domain)) {
                if (!problem)
                        say("cannot release domain '%s': not a valid tegravirt domain name", shown_domain(h));
                return 0;
        }
        call_manager(h, "ReleaseDomain", NULL);
        return 0;
}

/*
 * Checks a domain of ours that is still running when libvirt restarts. Whatever it
 * finds is only reported: exiting non-zero here would make libvirt kill the guest.
 * tegravirtd reconciles its own record with sysfs when it starts, so there is
 * nothing to ask it yet. A per-domain call to the daemon belongs here, made with
 * call_manager() (for this operation its timeout alarm exits 0 too) and its
 * result only printed.
 */
static void check_running_domain(const Hook *h, const Input *in)
{
        if (!tv_domain_name_valid(h->domain))
                say("domain '%s' uses tegravirt but its name is not a valid tegravirt domain name",
                    shown_domain(h));
}

static int op_reconnect(const Hook *h)
{
        _cleanup_(input_clear) Input in = { 0 };
        const char *problem;

        read_input(&in, true);
        problem = input_problem(&in);
        if (problem)
                say("reconnect of domain '%s': %s; leaving it alone", shown_domain(h), problem);
        else if (mentions_tegravirt(&in))
                check_running_domain(h, &in);
        return 0;
}

/* ---- main ---- */

static const struct {
        const char *name;
        HookOp op;
} ops[] = {
        { "prepare",   OP_PREPARE },
        { "release",   OP_RELEASE },
        { "reconnect", OP_RECONNECT },
        { "migrate",   OP_FILTER },
        { "restore",   OP_FILTER },
        { "start",     OP_IGNORED },
        { "started",   OP_STARTED },
        { "stopped",   OP_IGNORED },
        { "attach",    OP_IGNORED },
};

static HookOp lookup_op(const char *name)
{
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
                if (strcmp(ops[i].name, name) == 0)
                        return ops[i].op;
        return OP_UNKNOWN;
}

static void usage(FILE *f)
{
        fputs("Usage: tegravirt DOMAIN OPERATION SUB-OPERATION [EXTRA] <DOMAIN-XML\n"
              "       tegravirt --help | --version\n"
              "\n"
              "libvirt qemu hook of tegravirt, installed as /etc/libvirt/hooks/qemu.d/tegravirt.\n"
              "Domains whose XML names https://tegravirt.org/ns/domain/1 get their platform\n"
              "devices bound by tegravirtd on 'prepare begin' and released on 'release end';\n"
              "on 'started begin' a domain with a BPMP bridge or GPIO line groups names its QEMU to tegravirtd;\n"
              "every other call reads standard input and exits 0.\n"
              "\n"
              "Environment: TEGRAVIRT_HOOK_TIMEOUT  seconds to wait for tegravirtd (1-600, default 30)\n"
              "See tegravirt-hook(8).\n", f);
}

/* libvirt hands us 0-2; a missing one would be reused by the bus socket and our
 * messages would go there. */
static void ensure_std_fds(void)
{
        for (int fd = 0; fd <= 2; fd++)
                if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
                        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

                        if (n >= 0 && n != fd) {
                                dup2(n, fd);
                                close(n);
                        }
                }
}

int main(int argc, char **argv)
{
        Hook h = { 0 };
        Input in;

        ensure_std_fds();
        /* an early-closed stderr must not turn into a kill (fatal on reconnect) */
        signal(SIGPIPE, SIG_IGN);

        if (argc == 2 && strcmp(argv[1], "--help") == 0) {
                usage(stdout);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
                puts("tegravirt-hook " PACKAGE_VERSION);
                return 0;
        }
        if (argc < 3) {
                usage(stderr);
                h.op = OP_IGNORED;
        } else {
                h.domain = argv[1];
                h.op_name = argv[2];
                h.subop = argc > 3 ? argv[3] : "-";
                h.op = lookup_op(h.op_name);
        }

        h.timeout_sec = parse_timeout();
        clock_gettime(CLOCK_MONOTONIC, &h.deadline);
        h.deadline.tv_sec += h.timeout_sec;
        arm_alarm(&h);

        switch (h.op) {
        case OP_PREPARE:
                return op_prepare(&h);
        case OP_RELEASE:
                return op_release(&h);
        case OP_RECONNECT:
                return op_reconnect(&h);
        case OP_STARTED:
                return op_started(&h);
        case OP_UNKNOWN: {
                char shown[80];

                tv_quote(shown, sizeof(shown), h.op_name, (size_t)-1, 40, 0);
                say("ignoring unknown operation '%s' (see tegravirt-hook(8))", shown);
                break;
        }
        case OP_FILTER:         /* empty stdout: the XML stays as it is */
        case OP_IGNORED:
                break;
        }
        read_input(&in, false);
        return 0;
}
