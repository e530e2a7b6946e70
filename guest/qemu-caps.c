// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu-caps.h"
#include "gpio-guest.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-quote.h"

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

static int qmp_bad(TvError *err, const char *why)
{
        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s", why);
}

/*
 * Not a JSON parser: it splits the stream into top-level objects by bracket depth (outside
 * strings), takes each object's first key as its kind, and compares string tokens of the
 * second reply with the type name. Enough for QEMU's one-object-per-line QMP output, and it
 * does not care about line breaks or spacing.
 */
int tv_qemu_qmp_types_has(const char *t, const char *type_name, bool *has, TvError *err)
{
        bool greeting = false, found = false;
        unsigned replies = 0;
        size_t i = 0, nlen;

        *has = false;
        if (!t || !name_token_ok(type_name))
                return qmp_bad(err, "bad arguments");
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
                        return qmp_bad(err, "QMP reply before the QMP greeting");
                }
                replies++;
                if (kind == MSG_ERROR) {
                        return qmp_bad(err, replies == 1 ? "QMP refused qmp_capabilities" : "QMP qom-list-types failed");
                }
                if (replies == 2) {
                        *has = found;
                        return 0;
                }
        }
        if (!greeting)
                return qmp_bad(err, "no QMP greeting (QEMU did not start the virt machine with TCG)");
        if (replies == 0)
                return qmp_bad(err, "no reply to qmp_capabilities");
        return qmp_bad(err, "no reply to qom-list-types");
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

/* Printable prefix of the first non-blank line, for messages about unexpected output. */
static void snippet(const char *s, size_t len, char *buf, size_t size)
{
        tv_quote(buf, size, s, len, 60, TV_QUOTE_LINE | TV_QUOTE_ASCII | TV_QUOTE_NO_ELLIPSIS);
}

/* A probe's stdout as text: 0 and *out (taken from res), or -1 naming what went wrong. */
static int capture_text(TvChildResult *res, const char *path, const char *what, unsigned timeout_ms, char **out,
                        size_t *out_len, TvError *err)
{
        if (tv_child_result_check(res, path, what, timeout_ms, OUTPUT_CAP, err) < 0)
                return -1;
        if (!res->out)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s printed nothing", path, what);
        if (memchr(res->out, 0, res->out_len))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s printed binary data, not QEMU output", path,
                                    what);
        *out = res->out;
        *out_len = res->out_len;
        res->out = NULL;
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

/* ---- probing ---- */

static const char *const version_args[] = { "--version", NULL };
static const char *const device_help_args[] = { "-machine", "none", "-nodefaults", "-nographic", "-device", "help",
                                                NULL };
static const char *const qmp_args[] = { "-machine", "virt,accel=tcg", "-nodefaults", "-nographic", "-S", "-qmp",
                                        "stdio", NULL };
static const char qmp_input[] = "{\"execute\":\"qmp_capabilities\"}\n"
                                "{\"execute\":\"qom-list-types\"}\n"
                                "{\"execute\":\"quit\"}\n";

static const struct {
        const char *const *args;
        const char *what;
        const char *input;
} probe_steps[] = {
        { version_args, "--version", NULL },
        { device_help_args, "-device help", NULL },
        { qmp_args, "-machine virt,accel=tcg -qmp stdio", qmp_input },
};

/* One probe of one binary: the three commands in turn, as a job keyed by the path. */
typedef struct Probe {
        TvQemuCapsCache *cache;
        char *path;
        unsigned timeout_ms;
        struct stat st;                 /* the binary when the probe started */
        TvQemuCaps *caps;
        size_t step;
        int attempt;
} Probe;

static void caps_free(TvQemuCaps *c);

static void probe_free(void *data)
{
        Probe *p = data;

        caps_free(p->caps);
        free(p->path);
        free(p);
}

/* What one command said, into p->caps. -1 ends the probe. */
static int probe_result(Probe *p, TvChildResult *res, TvError *err)
{
        TvQemuCaps *caps = p->caps;
        const char *path = p->path;
        TvError qerr = { 0 };
        _cleanup_free_ char *text = NULL;
        char snip[64];
        bool builtin = false;
        size_t len;

        switch (p->step) {
        case 0:
                if (capture_text(res, path, "--version", p->timeout_ms, &text, &len, err) < 0)
                        return -1;
                if (tv_qemu_parse_version(text, &caps->major, &caps->minor, &caps->micro) < 0) {
                        snippet(text, len, snip, sizeof(snip));
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "%s --version did not print \"QEMU emulator version X.Y.Z\" (it printed \"%s\"); "
                                            "is it a QEMU system emulator?", path, snip);
                }
                return 0;
        case 1:
                if (capture_text(res, path, "-device help", p->timeout_ms, &text, &len, err) < 0)
                        return -1;
                if (strncmp(text, "name \"", 6) != 0 && !strstr(text, "\nname \"")) {
                        snippet(text, len, snip, sizeof(snip));
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "%s -device help listed no devices (it printed \"%s\")", path, snip);
                }
                caps->has_vfio_platform = tv_qemu_device_help_has(text, TV_VFIO_DRIVER);
                caps->has_vhost_user_gpio = tv_qemu_device_help_has(text, TV_GUEST_GPIO_QEMU_DEVICE);
                caps->bpmp = tv_qemu_device_help_has(text, BPMP_DEVICE) ? TV_BPMP_DEVICE : TV_BPMP_NONE;
                return 0;
        }
        /* The built-in bridge has no -device entry; its QOM type shows in qom-list-types. */
        if (capture_text(res, path, probe_steps[2].what, p->timeout_ms, &text, &len, &qerr) < 0) {
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
                TvError qmp = { 0 };

                if (tv_qemu_qmp_types_has(text, BPMP_QOM_TYPE, &builtin, &qmp) < 0) {
                        caps->bpmp_unknown = true;
                        snprintf(caps->bpmp_unknown_why, sizeof(caps->bpmp_unknown_why),
                                 "QMP probe (-machine virt,accel=tcg -qmp stdio): %.200s", qmp.message);
                }
        }
        /* A built-in bridge exists in every virt VM whatever the command line says, so it wins. */
        if (builtin) {
                bool moved = caps->major >= 10;   /* 0x090c0000 is VIRT_ACPI_PCIHP from QEMU 10 */

                caps->bpmp = moved ? TV_BPMP_BUILTIN_090D0000 : TV_BPMP_BUILTIN_090C0000;
                caps->bpmp_base = moved ? TV_BPMP_BASE_090D0000 : TV_BPMP_BASE_090C0000;
        }
        return 0;
}

static void on_probe_child(TvChildResult *res, void *userdata);

/* (Re)starts the probe at its first command. */
static int probe_begin(TvJob *j, Probe *p, TvError *err)
{
        caps_free(p->caps);
        p->caps = calloc(1, sizeof(*p->caps));
        if (!p->caps || !(p->caps->path = strdup(p->path)))
                return tv_error_oom(err);
        p->step = 0;
        p->cache->probes++;
        return 0;
}

static int probe_run_step(TvJob *j, Probe *p, TvError *err)
{
        TvChildSpec spec = {
                .path = p->path,
                .args = probe_steps[p->step].args,
                .input = probe_steps[p->step].input,
                .timeout_ms = p->timeout_ms,
                .out_cap = OUTPUT_CAP,
        };

        return tv_job_run(j, &spec, on_probe_child, err);
}

static void cache_store(TvQemuCapsCache *c, TvQemuCaps *caps);

static void on_probe_child(TvChildResult *res, void *userdata)
{
        TvJob *j = userdata;
        Probe *p = tv_job_data(j);
        TvError err = { 0 };
        struct stat st2;

        if (probe_result(p, res, &err) < 0)
                goto fail;
        if (++p->step < sizeof(probe_steps) / sizeof(probe_steps[0])) {
                if (probe_run_step(j, p, &err) < 0)
                        goto fail;
                return;
        }
        /* A binary replaced during the probe would cache results under the wrong key: retry once. */
        if (path_check(p->path, &st2, &err) < 0)
                goto fail;
        if (st2.st_dev != p->st.st_dev || st2.st_ino != p->st.st_ino || st2.st_mtim.tv_sec != p->st.st_mtim.tv_sec ||
            st2.st_mtim.tv_nsec != p->st.st_mtim.tv_nsec) {
                if (p->attempt++ == 1) {
                        tv_error_set(&err, TV_ERR_HOST_NOT_READY, "emulator %s kept changing while being probed",
                                     p->path);
                        goto fail;
                }
                p->st = st2;
                if (probe_begin(j, p, &err) < 0 || probe_run_step(j, p, &err) < 0)
                        goto fail;
                return;
        }
        p->caps->dev = p->st.st_dev;
        p->caps->ino = p->st.st_ino;
        p->caps->mtime = p->st.st_mtim;
        cache_store(p->cache, p->caps);
        p->caps = NULL;
        tv_job_finish(j, NULL);
        return;
fail:
        tv_job_finish(j, &err);
}

/* The cache slot holding path, or CACHE_MAX. */
static size_t cache_slot(const TvQemuCapsCache *c, const char *path)
{
        for (size_t i = 0; i < CACHE_MAX; i++)
                if (c->entries[i] && strcmp(c->entries[i]->path, path) == 0)
                        return i;
        return CACHE_MAX;
}

static void cache_store(TvQemuCapsCache *c, TvQemuCaps *caps)
{
        size_t slot = cache_slot(c, caps->path);

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
        }
        caps_free(c->entries[slot]);
        c->entries[slot] = caps;
        c->used[slot] = ++c->clock;
}

int tv_qemu_caps_lookup(TvQemuCapsCache *c, const char *emulator, bool accept_unknown, const TvQemuCaps **out,
                        TvError *err)
{
        struct stat st;
        size_t slot;

        *out = NULL;
        if (!c)
                return tv_error_set(err, TV_ERR_FAILED, "no QEMU capability cache");
        if (path_check(emulator, &st, err) < 0)
                return -1;
        slot = cache_slot(c, emulator);
        if (slot == CACHE_MAX || !same_file(c->entries[slot], &st) ||
            (c->entries[slot]->bpmp_unknown && !accept_unknown))
                return 0;
        c->used[slot] = ++c->clock;
        *out = c->entries[slot];
        return 1;
}

int tv_qemu_caps_probe(TvQemuCapsCache *c, TvJobSet *jobs, const char *emulator, unsigned timeout_ms,
                       TvJobDoneFn done, void *userdata, TvError *err)
{
        char key[PATH_MAX_BYTES + 16];
        Probe *p;
        TvJob *j;

        if (!c)
                return tv_error_set(err, TV_ERR_FAILED, "no QEMU capability cache");
        snprintf(key, sizeof(key), "probe:%s", emulator ? emulator : "");
        /* one probe per binary: later callers wait for the running one */
        j = tv_job_find(jobs, key);
        if (j)
                return tv_job_wait(j, done, userdata) < 0 ? tv_error_oom(err) : 0;
        p = calloc(1, sizeof(*p));
        if (!p)
                return tv_error_oom(err);
        p->cache = c;
        p->timeout_ms = timeout_ms;
        p->path = strdup(emulator ? emulator : "");
        if (!p->path) {
                probe_free(p);
                return tv_error_oom(err);
        }
        if (path_check(emulator, &p->st, err) < 0) {
                probe_free(p);
                return -1;
        }
        j = tv_job_new(jobs, key, p, probe_free, err);
        if (!j)
                return -1;
        if (probe_begin(j, p, err) < 0 || probe_run_step(j, p, err) < 0 || tv_job_wait(j, done, userdata) < 0) {
                tv_error_oom(err);
                tv_job_finish(j, err);
                return -1;
        }
        return 0;
}

typedef struct SyncWait {
        bool done;
        TvError err;
} SyncWait;

static void sync_done(const TvError *err, void *userdata)
{
        SyncWait *w = userdata;

        w->done = true;
        if (err)
                w->err = *err;
}

int tv_qemu_caps_get_timeout(TvQemuCapsCache *c, const char *emulator, unsigned timeout_ms,
                             const TvQemuCaps **out, TvError *err)
{
        SyncWait w = { 0 };
        sigset_t chld, old;
        sd_event *e = NULL;
        TvJobSet *jobs = NULL;
        int r = tv_qemu_caps_lookup(c, emulator, false, out, err);

        if (r != 0)
                return r < 0 ? -1 : 0;
        /* the same probe the daemon runs, on a private event loop (sd-event watches children
         * only with SIGCHLD blocked) */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &chld, &old);
        if (sd_event_new(&e) < 0 || !(jobs = tv_jobset_new(e)))
                r = tv_error_oom(err);
        else
                r = tv_qemu_caps_probe(c, jobs, emulator, timeout_ms, sync_done, &w, err);
        while (r == 0 && !w.done)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        r = tv_error_set(err, TV_ERR_FAILED, "event loop failed while probing %s", emulator);
        tv_jobset_free(jobs);
        sd_event_unref(e);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return -1;
        if (w.err.name) {
                *err = w.err;
                return -1;
        }
        if (tv_qemu_caps_lookup(c, emulator, true, out, err) != 1)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "emulator %s changed while being probed", emulator);
        return 0;
}

int tv_qemu_caps_get(TvQemuCapsCache *c, const char *emulator, const TvQemuCaps **out, TvError *err)
{
        return tv_qemu_caps_get_timeout(c, emulator, TV_QEMU_PROBE_TIMEOUT_MS, out, err);
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

/* The line QEMU died with: the last one of its stderr (warnings come first), without the
 * "qemu-system-aarch64: " prefix, printable ASCII only. */
static void qemu_reason(const char *raw, size_t len, char *buf, size_t size)
{
        const char *line = raw, *end = raw + len, *p;

        buf[0] = 0;
        if (!raw || !len)
                return;
        while (end > raw && (end[-1] == '\n' || end[-1] == '\r'))
                end--;
        for (p = raw; p < end; p++)
                if (*p == '\n')
                        line = p + 1;
        p = memmem(line, (size_t)(end - line), ": ", 2);
        if (p && !memchr(line, ' ', (size_t)(p - line)) && memmem(line, (size_t)(p - line), "qemu", 4))
                line = p + 2;
        tv_quote(buf, size, line, (size_t)(end - line), size, TV_QUOTE_ASCII | TV_QUOTE_NO_ELLIPSIS);
}

int tv_qemu_result_check(const TvChildResult *res, const char *emulator, const char *what, unsigned timeout_ms,
                         TvError *err)
{
        char reason[300];

        if (tv_child_result_check(res, emulator, what, timeout_ms, 0, err) == 0)
                return 0;
        if (!res->exited || res->code == 0 || res->timed_out || res->too_big || res->read_errno)
                return -1;
        qemu_reason(res->err, res->err_len, reason, sizeof(reason));
        if (!reason[0])
                return -1;
        tv_error_clear(err);
        if (strstr(reason, "KVM") || strstr(reason, "kvm") || strstr(reason, "/dev/"))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "QEMU (%s) failed: %s", emulator, reason);
        /* QEMU refused the options the domain's definition makes */
        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "QEMU (%s) refused the domain's machine: %s", emulator,
                            reason);
}

typedef struct SyncRun {
        bool done;
        const char *emulator, *what;
        unsigned timeout_ms;
        int r;
        TvError err;
} SyncRun;

static void sync_run_done(TvChildResult *res, void *userdata)
{
        SyncRun *s = userdata;

        s->done = true;
        s->r = tv_qemu_result_check(res, s->emulator, s->what, s->timeout_ms, &s->err);
}

int tv_qemu_run(const char *emulator, const char *const *args, const char *what, unsigned timeout_ms,
                TvError *err)
{
        SyncRun s = { .emulator = emulator, .what = what, .timeout_ms = timeout_ms };
        TvChildSpec spec = { .path = emulator, .args = args, .timeout_ms = timeout_ms, .err_cap = 4096 };
        TvChild *child = NULL;
        sigset_t chld, old;
        sd_event *e = NULL;
        int r;

        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &chld, &old);
        if (sd_event_new(&e) < 0)
                r = tv_error_oom(err);
        else if ((r = tv_child_start(e, &spec, sync_run_done, &s, &child)) < 0)
                r = tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot run %s: %s", emulator, strerror(-r));
        while (r == 0 && !s.done)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        r = tv_error_set(err, TV_ERR_FAILED, "event loop failed while running %s", emulator);
        sd_event_unref(e);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return -1;
        if (s.r < 0) {
                *err = s.err;
                return -1;
        }
        return 0;
}
