// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu-caps.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tv-names.h"

#define PATH_MAX_BYTES  4096
#define OUTPUT_CAP      (1024 * 1024)
#define CACHE_MAX       32      /* emulators per host are few; bounds a cache fed by domain XML */

#define BPMP_QOM_TYPE   "nvidia_bpmp_guest"
#define BPMP_DEVICE     "tegravirt-bpmp"

struct TvQemuCapsCache {
        TvQemuCaps *entries[CACHE_MAX];
        unsigned long used[CACHE_MAX];  /* LRU stamps */
        unsigned long clock;
        unsigned probes;
};

/* ---- parsers ---- */

static bool parse_uint(const char **p, unsigned *v)
{
        const char *s = *p;
        unsigned n = 0;

        if (*s < '0' || *s > '9')
                return false;
        while (*s >= '0' && *s <= '9') {
                if (n > 99999)
                        return false;
                n = n * 10 + (unsigned)(*s++ - '0');
        }
        *p = s;
        *v = n;
        return true;
}

int tv_qemu_parse_version(const char *text, unsigned *maj, unsigned *min, unsigned *mic)
{
        static const char banner[] = "QEMU emulator version ";
        const char *line;

        if (!text)
                return -EINVAL;
        for (line = text; line;) {
                const char *p = line, *nl = strchr(line, '\n');
                unsigned a, b, c = 0;

                line = nl ? nl + 1 : NULL;
                if (strncmp(p, banner, sizeof(banner) - 1) != 0)
                        continue;
                p += sizeof(banner) - 1;
                if (!parse_uint(&p, &a) || *p++ != '.' || !parse_uint(&p, &b))
                        return -EINVAL;
                if (*p == '.') {
                        p++;
                        if (!parse_uint(&p, &c))
                                return -EINVAL;
                }
                /* "7.2.22 (Debian ...)", "2.11.1(Debian ...)", "10.1.5": nothing numeric may follow */
                if (*p == '.' || (*p >= '0' && *p <= '9'))
                        return -EINVAL;
                *maj = a;
                *min = b;
                *mic = c;
                return 0;
        }
        return -EINVAL;
}

static bool name_token_ok(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
                        return false;
        return true;
}

/* s[0..len) is `"<name>"` */
static bool quoted_is(const char *s, size_t len, const char *name, size_t nlen)
{
        return len >= nlen + 2 && s[0] == '"' && memcmp(s + 1, name, nlen) == 0 && s[nlen + 1] == '"';
}

bool tv_qemu_device_help_has(const char *out, const char *name)
{
        static const char name_k[] = "name ", alias_k[] = ", alias ";
        size_t nlen;
        const char *line;

        if (!out || !name_token_ok(name))
                return false;
        nlen = strlen(name);
        /* lines look like: name "vfio-platform", bus System, desc "VFIO-based ..." */
        for (line = out; *line;) {
                const char *end = strchrnul(line, '\n');
                size_t len = (size_t)(end - line);

                if (len > sizeof(name_k) - 1 && memcmp(line, name_k, sizeof(name_k) - 1) == 0) {
                        const char *p = line + sizeof(name_k) - 1, *a;

                        if (quoted_is(p, (size_t)(end - p), name, nlen))
                                return true;
                        a = memmem(line, len, alias_k, sizeof(alias_k) - 1);
                        if (a) {
                                a += sizeof(alias_k) - 1;
                                if (quoted_is(a, (size_t)(end - a), name, nlen))
                                        return true;
                        }
                }
                line = *end ? end + 1 : end;
        }
        return false;
}

enum { MSG_OTHER, MSG_GREETING, MSG_RETURN, MSG_ERROR };

static int classify_key(const char *k, size_t len)
{
        if (len == 3 && memcmp(k, "QMP", 3) == 0)
                return MSG_GREETING;
        if (len == 6 && memcmp(k, "return", 6) == 0)
                return MSG_RETURN;
        if (len == 5 && memcmp(k, "error", 5) == 0)
                return MSG_ERROR;
        return MSG_OTHER;       /* events ("timestamp"/"event") and anything unknown */
}

/*
 * Not a JSON parser: it splits the stream into top-level objects by bracket depth (outside
 * strings), takes each object's first key as its kind, and compares string tokens of the
 * second reply with the type name. Enough for QEMU's one-object-per-line QMP output, and it
 * does not care about line breaks or spacing.
 */
int tv_qemu_qmp_types_has(const char *t, const char *type_name, bool *has, const char **why)
{
        bool greeting = false, found = false;
        unsigned replies = 0;
        size_t i = 0, nlen;

        *has = false;
        *why = NULL;
        if (!t || !name_token_ok(type_name)) {
                *why = "bad arguments";
                return -EPROTO;
        }
        nlen = strlen(type_name);
        for (;;) {
                size_t depth = 0, str_start = 0;
                bool in_str = false, esc = false, have_key = false;
                int kind = MSG_OTHER;

                while (t[i] && t[i] != '{')
                        i++;
                if (!t[i])
                        break;
                for (; t[i]; i++) {
                        char ch = t[i];

                        if (in_str) {
                                if (esc) {
                                        esc = false;
                                } else if (ch == '\\') {
                                        esc = true;
                                } else if (ch == '"') {
                                        in_str = false;
                                        if (!have_key && depth == 1) {
                                                have_key = true;
                                                kind = classify_key(t + str_start + 1, i - str_start - 1);
                                        } else if (kind == MSG_RETURN && replies == 1 &&
                                                   i - str_start - 1 == nlen &&
                                                   memcmp(t + str_start + 1, type_name, nlen) == 0) {
                                                found = true;
                                        }
                                }
                        } else if (ch == '"') {
                                in_str = true;
                                str_start = i;
                        } else if (ch == '{' || ch == '[') {
                                depth++;
                        } else if (ch == '}' || ch == ']') {
                                if (--depth == 0) {
                                        i++;
                                        break;
                                }
                        }
                }
                if (depth != 0)
                        break;  /* cut off: QEMU died or the output cap was hit */
                if (kind == MSG_GREETING) {
                        greeting = true;
                        continue;
                }
                if (kind != MSG_RETURN && kind != MSG_ERROR)
                        continue;
                if (!greeting) {
                        *why = "QMP reply before the QMP greeting";
                        return -EPROTO;
                }
                replies++;
                if (kind == MSG_ERROR) {
                        *why = replies == 1 ? "QMP refused qmp_capabilities" : "QMP qom-list-types failed";
                        return -EPROTO;
                }
                if (replies == 2) {
                        *has = found;
                        return 0;
                }
        }
        if (!greeting)
                *why = "no QMP greeting (QEMU did not start the virt machine with TCG)";
        else if (replies == 0)
                *why = "no reply to qmp_capabilities";
        else
                *why = "no reply to qom-list-types";
        return -EPROTO;
}

const char *tv_bpmp_flavour_name(TvBpmpFlavour f)
{
        switch (f) {
        case TV_BPMP_NONE:
                return "none";
        case TV_BPMP_BUILTIN_090C0000:
                return "nvidia_bpmp_guest@0x090c0000";
        case TV_BPMP_BUILTIN_090D0000:
                return "nvidia_bpmp_guest@0x090d0000";
        case TV_BPMP_DEVICE:
                return "tegravirt-bpmp";
        }
        return "unknown";
}

/* ---- running the binary ---- */

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Our fds must not be 0..2, or dup2(fd, fd) in the child would keep them close-on-exec. */
static int above_stdio(int fd)
{
        int nfd;

        if (fd < 0 || fd > 2)
                return fd;
        nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return nfd;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* Printable prefix of the first line, for messages about unexpected output. */
static void snippet(const char *s, size_t len, char *buf, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < len && s[i] != '\n' && n + 1 < size && n < 60; i++)
                buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        buf[n] = 0;
}

/*
 * Runs path with args (no shell, env LC_ALL=C, stderr to /dev/null, own process group),
 * feeding `input` on a stdin socket that stays open until the end, or /dev/null.
 * Collects stdout up to OUTPUT_CAP. After timeout_ms the whole group is SIGKILLed; the
 * child is always reaped. 0 only for exit status 0; else -1 with err naming `what`.
 */
static int run_capture_err(const char *path, const char *const *args, const char *what, const char *input,
                           int errfd, unsigned timeout_ms, char **out, size_t *out_len, TvError *err)
{
        static char *const envp[] = { (char *)"LC_ALL=C", NULL };
        char *argv[TV_QEMU_RUN_MAX_ARGS + 2];
        size_t n_args = 0, len = 0, cap = 0;
        char *buf = NULL;
        int nullfd = -1, outp[2] = { -1, -1 }, sv[2] = { -1, -1 };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        bool timed_out = false, too_big = false, io_failed = false, exited = false;
        uint64_t deadline;
        int status = 0, io_errno = 0, r;
        pid_t pid;

        *out = NULL;
        *out_len = 0;
        argv[n_args++] = (char *)path;
        for (; *args && n_args + 1 < sizeof(argv) / sizeof(argv[0]); args++)
                argv[n_args++] = (char *)*args;
        argv[n_args] = NULL;

        nullfd = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
        if (nullfd < 0 || pipe2(outp, O_CLOEXEC) < 0)
                goto sys_fail;
        outp[0] = above_stdio(outp[0]);
        outp[1] = above_stdio(outp[1]);
        if (outp[0] < 0 || outp[1] < 0)
                goto sys_fail;
        /* a socket rather than a pipe for stdin: send(MSG_NOSIGNAL) cannot SIGPIPE the daemon */
        if (input) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        goto sys_fail;
                sv[0] = above_stdio(sv[0]);
                sv[1] = above_stdio(sv[1]);
                if (sv[0] < 0 || sv[1] < 0)
                        goto sys_fail;
        }

        if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
                errno = r;
                goto sys_fail;
        }
        if ((r = posix_spawnattr_init(&attr)) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                errno = r;
                goto sys_fail;
        }
        sigemptyset(&none);
        sigfillset(&all);
        r = posix_spawn_file_actions_adddup2(&fa, input ? sv[1] : nullfd, 0);
        r = r ?: posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
        r = r ?: posix_spawn_file_actions_adddup2(&fa, errfd >= 0 ? errfd : nullfd, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        /* the daemon's own fds, even ones opened without O_CLOEXEC by a library */
        r = r ?: posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
        /* own group, so a timeout kills helpers that inherited stdout too; default signal state */
        r = r ?: posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                        POSIX_SPAWN_SETSIGDEF);
        r = r ?: posix_spawnattr_setpgroup(&attr, 0);
        r = r ?: posix_spawnattr_setsigmask(&attr, &none);
        r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
        r = r ?: posix_spawn(&pid, path, &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close_fd(&outp[1]);
        close_fd(&sv[1]);
        close_fd(&nullfd);
        if (r != 0) {
                close_fd(&outp[0]);
                close_fd(&sv[0]);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot run %s: %s", path, strerror(r));
        }

        deadline = now_ms() + timeout_ms;
        if (input) {
                size_t off = 0, ilen = strlen(input);

                /* a few hundred bytes into an empty socket buffer: does not block */
                while (off < ilen) {
                        ssize_t w = send(sv[0], input + off, ilen - off, MSG_NOSIGNAL);

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;  /* child gone; its exit status tells */
                        off += (size_t)w;
                }
        }

        for (;;) {
                struct pollfd pfd = { .fd = outp[0], .events = POLLIN };
                uint64_t now = now_ms();
                ssize_t n;

                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                r = poll(&pfd, 1, deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now));
                if (r < 0 && errno != EINTR) {
                        io_failed = true;
                        io_errno = errno;
                        break;
                }
                if (r <= 0)
                        continue;
                if (len == cap) {
                        size_t ncap = cap ? cap * 2 : 16384;
                        char *nb;

                        if (ncap > OUTPUT_CAP + 1)
                                ncap = OUTPUT_CAP + 1;
                        if (len == ncap) {
                                too_big = true;
                                break;
                        }
                        nb = realloc(buf, ncap + 1);
                        if (!nb) {
                                io_failed = true;
                                io_errno = ENOMEM;
                                break;
                        }
                        buf = nb;
                        cap = ncap;
                }
                n = read(outp[0], buf + len, cap - len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0) {
                        io_failed = true;
                        io_errno = errno;
                }
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len > OUTPUT_CAP) {
                        too_big = true;
                        break;
                }
        }
        close_fd(&outp[0]);

        /* stdout closed: give the child the rest of the time to exit, without reaping yet */
        for (unsigned nap = 1; !timed_out && !too_big && !io_failed;) {
                siginfo_t si = { 0 };

                if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno != EINTR) {
                        io_failed = true;
                        io_errno = errno;
                        break;
                }
                if (si.si_pid == pid) {
                        exited = true;
                        break;
                }
                if (now_ms() >= deadline) {
                        timed_out = true;
                        break;
                }
                usleep(nap * 1000);
                nap = nap < 50 ? nap * 2 : 50;
        }
        /* The leader is not reaped yet, so the group id cannot have been reused. */
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close_fd(&sv[0]);

        if (timed_out || too_big || io_failed || !exited) {
                free(buf);
                if (timed_out)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s did not finish within %u ms; killed it",
                                            path, what, timeout_ms);
                if (too_big)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s printed more than %d bytes", path,
                                            what, OUTPUT_CAP);
                return tv_error_set(err, TV_ERR_FAILED, "reading the output of %s %s failed: %s", path, what,
                                    strerror(io_errno));
        }
        if (WIFSIGNALED(status) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(buf);
                if (WIFSIGNALED(status))
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s was killed by signal %d", path, what,
                                            WTERMSIG(status));
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s exited with status %d", path, what,
                                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        if (!buf)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s printed nothing", path, what);
        buf[len] = 0;
        if (memchr(buf, 0, len)) {
                free(buf);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s printed binary data, not QEMU output", path,
                                    what);
        }
        *out = buf;
        *out_len = len;
        return 0;

sys_fail:
        r = errno;
        close_fd(&nullfd);
        close_fd(&outp[0]);
        close_fd(&outp[1]);
        close_fd(&sv[0]);
        close_fd(&sv[1]);
        return tv_error_set(err, TV_ERR_FAILED, "cannot set up pipes to run %s: %s", path, strerror(r));
}

static int run_capture(const char *path, const char *const *args, const char *what, const char *input,
                       unsigned timeout_ms, char **out, size_t *out_len, TvError *err)
{
        return run_capture_err(path, args, what, input, -1, timeout_ms, out, out_len, err);
}

/* ---- probing ---- */

static const char *const version_args[] = { "--version", NULL };
static const char *const device_help_args[] = { "-machine", "none", "-nodefaults", "-nographic", "-device", "help",
                                                NULL };
static const char *const qmp_args[] = { "-machine", "virt,accel=tcg", "-nodefaults", "-nographic", "-S", "-qmp",
                                        "stdio", NULL };
static const char qmp_input[] = "{\"execute\":\"qmp_capabilities\"}\n"
                                "{\"execute\":\"qom-list-types\"}\n"
                                "{\"execute\":\"quit\"}\n";

static int probe(const char *path, unsigned timeout_ms, TvQemuCaps *caps, TvError *err)
{
        TvError qerr = { 0 };
        char *text, snip[64];
        const char *why;
        bool builtin = false;
        size_t len;

        if (run_capture(path, version_args, "--version", NULL, timeout_ms, &text, &len, err) < 0)
                return -1;
        if (tv_qemu_parse_version(text, &caps->major, &caps->minor, &caps->micro) < 0) {
                snippet(text, len, snip, sizeof(snip));
                free(text);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s --version did not print \"QEMU emulator version X.Y.Z\" (it printed \"%s\"); "
                                    "is it a QEMU system emulator?", path, snip);
        }
        free(text);

        if (run_capture(path, device_help_args, "-device help", NULL, timeout_ms, &text, &len, err) < 0)
                return -1;
        if (strncmp(text, "name \"", 6) != 0 && !strstr(text, "\nname \"")) {
                snippet(text, len, snip, sizeof(snip));
                free(text);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s -device help listed no devices (it printed \"%s\")", path, snip);
        }
        caps->has_vfio_platform = tv_qemu_device_help_has(text, TV_VFIO_DRIVER);
        caps->bpmp = tv_qemu_device_help_has(text, BPMP_DEVICE) ? TV_BPMP_DEVICE : TV_BPMP_NONE;
        free(text);

        /* The built-in bridge has no -device entry; its QOM type shows in qom-list-types. */
        if (run_capture(path, qmp_args, "-machine virt,accel=tcg -qmp stdio", qmp_input, timeout_ms, &text, &len,
                        &qerr) < 0) {
                const char *m = qerr.message;
                size_t plen = strlen(path), n;

                /* the check's message names the binary already */
                if (strncmp(m, path, plen) == 0 && m[plen] == ' ')
                        m += plen + 1;
                n = strnlen(m, sizeof(caps->bpmp_unknown_why) - 1);
                memcpy(caps->bpmp_unknown_why, m, n);
                caps->bpmp_unknown_why[n] = 0;
                caps->bpmp_unknown = true;
        } else {
                if (tv_qemu_qmp_types_has(text, BPMP_QOM_TYPE, &builtin, &why) < 0) {
                        caps->bpmp_unknown = true;
                        snprintf(caps->bpmp_unknown_why, sizeof(caps->bpmp_unknown_why),
                                 "QMP probe (-machine virt,accel=tcg -qmp stdio): %s", why);
                }
                free(text);
        }
        /* A built-in bridge exists in every virt VM whatever the command line says, so it wins. */
        if (builtin) {
                bool moved = caps->major >= 10;   /* 0x090c0000 is VIRT_ACPI_PCIHP from QEMU 10 */

                caps->bpmp = moved ? TV_BPMP_BUILTIN_090D0000 : TV_BPMP_BUILTIN_090C0000;
                caps->bpmp_base = moved ? TV_BPMP_BASE_090D0000 : TV_BPMP_BASE_090C0000;
        }
        return 0;
}

static int path_check(const char *path, struct stat *st, TvError *err)
{
        size_t len;

        if (!path || !*path)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "no emulator path given");
        len = strnlen(path, PATH_MAX_BYTES + 1);
        if (len > PATH_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "emulator path is longer than %d bytes",
                                    PATH_MAX_BYTES);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "emulator path contains a control character");
        if (path[0] != '/')
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "emulator path %s is not absolute", path);
        if (stat(path, st) < 0)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "emulator %s: %s", path, strerror(errno));
        if (!S_ISREG(st->st_mode))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "emulator %s is not a regular file", path);
        if (!(st->st_mode & 0111) || faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "emulator %s is not executable", path);
        return 0;
}

static bool same_file(const TvQemuCaps *c, const struct stat *st)
{
        return c->dev == st->st_dev && c->ino == st->st_ino && c->mtime.tv_sec == st->st_mtim.tv_sec &&
               c->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void caps_free(TvQemuCaps *c)
{
        if (c) {
                free(c->path);
                free(c);
        }
}

TvQemuCapsCache *tv_qemu_caps_cache_new(void)
{
        return calloc(1, sizeof(TvQemuCapsCache));
}

void tv_qemu_caps_cache_free(TvQemuCapsCache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < CACHE_MAX; i++)
                caps_free(c->entries[i]);
        free(c);
}

unsigned tv_qemu_caps_cache_probe_count(const TvQemuCapsCache *c)
{
        return c ? c->probes : 0;
}

int tv_qemu_caps_get_timeout(TvQemuCapsCache *c, const char *emulator, unsigned timeout_ms,
                             const TvQemuCaps **out, TvError *err)
{
        struct stat st, st2;
        TvQemuCaps *caps;
        size_t slot = CACHE_MAX;

        *out = NULL;
        if (!c)
                return tv_error_set(err, TV_ERR_FAILED, "no QEMU capability cache");
        if (path_check(emulator, &st, err) < 0)
                return -1;
        for (size_t i = 0; i < CACHE_MAX; i++)
                if (c->entries[i] && strcmp(c->entries[i]->path, emulator) == 0) {
                        slot = i;
                        break;
                }
        if (slot < CACHE_MAX && same_file(c->entries[slot], &st) && !c->entries[slot]->bpmp_unknown) {
                c->used[slot] = ++c->clock;
                *out = c->entries[slot];
                return 0;
        }
        /* stale or failed before: drop it; the caller's old pointer dies with a re-probe */
        if (slot < CACHE_MAX) {
                caps_free(c->entries[slot]);
                c->entries[slot] = NULL;
        }

        /* A binary replaced during the probe would cache results under the wrong key: retry once. */
        for (int attempt = 0;; attempt++) {
                caps = calloc(1, sizeof(*caps));
                if (!caps || !(caps->path = strdup(emulator))) {
                        free(caps);
                        return tv_error_set(err, TV_ERR_FAILED, "out of memory");
                }
                c->probes++;
                if (probe(emulator, timeout_ms, caps, err) < 0) {
                        caps_free(caps);
                        return -1;
                }
                if (path_check(emulator, &st2, err) < 0) {
                        caps_free(caps);
                        return -1;
                }
                if (st2.st_dev == st.st_dev && st2.st_ino == st.st_ino &&
                    st2.st_mtim.tv_sec == st.st_mtim.tv_sec && st2.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
                        break;
                caps_free(caps);
                if (attempt == 1)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "emulator %s kept changing while being probed",
                                            emulator);
                st = st2;
        }
        caps->dev = st.st_dev;
        caps->ino = st.st_ino;
        caps->mtime = st.st_mtim;

        if (slot == CACHE_MAX) {
                /* a free slot, else the least recently used entry goes */
                slot = 0;
                for (size_t i = 0; i < CACHE_MAX; i++) {
                        if (!c->entries[i]) {
                                slot = i;
                                break;
                        }
                        if (c->used[i] < c->used[slot])
                                slot = i;
                }
                caps_free(c->entries[slot]);
        }
        c->entries[slot] = caps;
        c->used[slot] = ++c->clock;
        *out = caps;
        return 0;
}

int tv_qemu_caps_get(TvQemuCapsCache *c, const char *emulator, const TvQemuCaps **out, TvError *err)
{
        return tv_qemu_caps_get_timeout(c, emulator, TV_QEMU_PROBE_TIMEOUT_MS, out, err);
}

/* QEMU's own reason, from what it wrote to stderr: its first error line, without the
 * "<binary>: " prefix, printable ASCII only. */
static void qemu_reason(int fd, char *buf, size_t size)
{
        char raw[1024], *line = raw, *p;
        ssize_t n = pread(fd, raw, sizeof(raw) - 1, 0);
        size_t k = 0;

        buf[0] = 0;
        if (n <= 0)
                return;
        raw[n] = 0;
        /* skip warnings: the error is the last line QEMU printed */
        for (p = raw; (p = strchr(p, '\n')) && p[1]; p++)
                line = p + 1;
        if ((p = strstr(line, ": ")) && memchr(line, ' ', (size_t)(p - line)) == NULL &&
            memmem(line, (size_t)(p - line), "qemu", 4))
                line = p + 2;
        for (; *line && *line != '\n' && k + 1 < size; line++)
                buf[k++] = (*line >= 0x20 && *line < 0x7f) ? *line : '?';
        buf[k] = 0;
}

int tv_qemu_run(const char *emulator, const char *const *args, const char *what, unsigned timeout_ms,
                TvError *err)
{
        TvError run = { 0 };
        char *out = NULL, reason[300];
        size_t len = 0;
        int errfd = memfd_create("qemu-stderr", MFD_CLOEXEC), r;

        r = run_capture_err(emulator, args, what, NULL, errfd, timeout_ms, &out, &len, &run);
        free(out);
        if (r < 0) {
                reason[0] = 0;
                if (errfd >= 0 && strstr(run.message, "exited with status"))
                        qemu_reason(errfd, reason, sizeof(reason));
                if (!reason[0])
                        tv_error_set(err, run.name, "%s", run.message);
                else if (strstr(reason, "KVM") || strstr(reason, "kvm") || strstr(reason, "/dev/"))
                        tv_error_set(err, TV_ERR_HOST_NOT_READY, "QEMU (%s) failed: %s", emulator, reason);
                else    /* QEMU refused the options the domain's definition makes */
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "QEMU (%s) refused the domain's machine: %s",
                                     emulator, reason);
        }
        if (errfd >= 0)
                close(errfd);
        return r;
}

int tv_qemu_caps_check(const TvQemuCaps *caps, bool needs_bpmp, TvError *err)
{
        if (!caps)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "no QEMU capabilities to check");
        if (!caps->has_vfio_platform) {
                if (caps->major > 10 || (caps->major == 10 && caps->minor >= 2))
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "%s (QEMU %u.%u.%u) has no -device vfio-platform: QEMU 10.2 and later "
                                            "removed it; use a QEMU <= 10.1 (e.g. Debian 12's qemu-system-arm 7.2) "
                                            "or a build that carries it (e.g. Ghaf's ghaf-qemu-bpmp 10.1.5)",
                                            caps->path, caps->major, caps->minor, caps->micro);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s (QEMU %u.%u.%u) has no -device vfio-platform: it is not an Arm system "
                                    "emulator or was built without CONFIG_VFIO_PLATFORM; use a qemu-system-aarch64 "
                                    "with VFIO platform support (Debian: package qemu-system-arm)",
                                    caps->path, caps->major, caps->minor, caps->micro);
        }
        if (!needs_bpmp || (caps->bpmp != TV_BPMP_NONE && !caps->bpmp_unknown))
                return 0;
        /* even with -device tegravirt-bpmp listed: an unseen built-in bridge would be a second one */
        if (caps->bpmp_unknown)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "cannot tell whether %s (QEMU %u.%u.%u) has a BPMP bridge, which these devices "
                                    "need: %s", caps->path, caps->major, caps->minor, caps->micro,
                                    caps->bpmp_unknown_why);
        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                            "%s (QEMU %u.%u.%u) has no BPMP bridge (neither the built-in " BPMP_QOM_TYPE
                            " of the bpmp-virt/Ghaf QEMU builds nor -device " BPMP_DEVICE
                            "), which devices with BPMP clocks, resets or power domains need; use a QEMU that "
                            "has one, e.g. Ghaf's ghaf-qemu-bpmp 10.1.5 or a bpmp-virt QEMU 8.x/9.x",
                            caps->path, caps->major, caps->minor, caps->micro);
}
