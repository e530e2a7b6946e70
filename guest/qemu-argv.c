// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu-argv.h"
#include "tv-names.h"
#include "tv-quote.h"
#include "tv-strv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX       1024    /* bytes of one kept option value */

/* A vector whose first allocation failure sticks: callers add freely and look once. */
typedef struct Vec {
        TvStrv s;
        bool oom;
} Vec;

static void vec_take(Vec *s, char *str)
{
        if (s->oom)
                free(str);
        else if (tv_strv_consume(&s->s, str) < 0)
                s->oom = true;
}

static void vec_add(Vec *s, const char *str)
{
        vec_take(s, strdup(str));
}

/* A word for a message: printable ASCII, cut at 60 bytes. */
static const char *shown(const char *s, char buf[72])
{
        return tv_quote(buf, 72, s, (size_t)-1, 60, TV_QUOTE_ASCII);
}

/* ---- splitting ---- */

/* Characters a shell would treat specially outside quotes. */
static bool shell_special(char c)
{
        return strchr("|&;<>()$`\"*?[]#~{}!", c) != NULL;
}

int tv_qemu_argv_split(const char *text, char ***words, size_t *n_out, TvError *err)
{
        Vec w = { 0 };
        char *cur = NULL;
        size_t len = 0, tl;
        bool in_word = false;
        int r = -1;

        *words = NULL;
        if (n_out)
                *n_out = 0;
        if (!text)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "no QEMU command line");
        tl = strnlen(text, TV_QEMU_ARGV_MAX_BYTES + 1);
        if (tl > TV_QEMU_ARGV_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the QEMU command line is longer than %d bytes",
                                    TV_QEMU_ARGV_MAX_BYTES);
        /* a word is never longer than the text */
        cur = malloc(tl + 1);
        if (!cur)
                return tv_error_oom(err);
        for (size_t i = 0; i <= tl; i++) {
                char c = text[i];

                if (c == 0 || c == ' ' || c == '\t' || c == '\n') {
                        if (in_word) {
                                cur[len] = 0;
                                if (w.s.n >= TV_QEMU_ARGV_MAX_WORDS) {
                                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                                     "the QEMU command line has more than %d words",
                                                     TV_QEMU_ARGV_MAX_WORDS);
                                        goto out;
                                }
                                vec_add(&w, cur);
                                len = 0;
                                in_word = false;
                        }
                        continue;
                }
                if ((unsigned char)c < 0x20 || c == 0x7f) {
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the QEMU command line contains a control character");
                        goto out;
                }
                in_word = true;
                if (c == '\\') {
                        if (text[i + 1] == '\n') {      /* line continuation */
                                i++;
                                in_word = len > 0;
                                continue;
                        }
                        if (!text[i + 1] || (unsigned char)text[i + 1] < 0x20) {
                                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                             "the QEMU command line has a stray backslash");
                                goto out;
                        }
                        cur[len++] = text[++i];
                } else if (c == '\'') {
                        for (i++; text[i] != '\''; i++) {
                                if (!text[i] || ((unsigned char)text[i] < 0x20 && text[i] != '\t')) {
                                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                                     "the QEMU command line has an unterminated quote");
                                        goto out;
                                }
                                cur[len++] = text[i];
                        }
                } else if (shell_special(c)) {
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                     "the QEMU command line has an unquoted '%c', which a shell would expand", c);
                        goto out;
                } else {
                        cur[len++] = c;
                }
        }
        if (w.oom) {
                tv_error_oom(err);
                goto out;
        }
        if (!(*words = tv_strv_steal(&w.s))) {
                tv_error_oom(err);
                goto out;
        }
        if (n_out)
                *n_out = tv_strv_length(*words);
        r = 0;
out:
        free(cur);
        tv_strv_clear(&w.s);
        return r;
}

/* ---- validating and filtering ---- */

static bool chars_ok(const char *s, const char *extra)
{
        size_t n = 0;

        if (!s || !*s)
                return false;
        for (; *s; s++, n++)
                if (n >= TOKEN_MAX ||
                    !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      (*s && strchr(extra, *s))))
                        return false;
        return true;
}

/* One key=value (or bare) element of a QEMU option list. */
typedef struct Prop {
        char *key;              /* NULL for a bare leading word (a type) */
        char *value;
} Prop;

typedef struct Props {
        Prop p[64];
        size_t n;
} Props;

static void props_clear(Props *ps)
{
        for (size_t i = 0; i < ps->n; i++) {
                free(ps->p[i].key);
                free(ps->p[i].value);
        }
        ps->n = 0;
}

static bool props_add(Props *ps, const char *k, size_t kl, const char *v, size_t vl)
{
        if (ps->n >= sizeof(ps->p) / sizeof(ps->p[0]))
                return false;
        ps->p[ps->n].key = k ? strndup(k, kl) : NULL;
        ps->p[ps->n].value = strndup(v, vl);
        ps->n++;
        return (!k || ps->p[ps->n - 1].key) && ps->p[ps->n - 1].value;
}

/* "a=b,c=d" (first element may be bare). ",," (an escaped comma) is refused. */
static bool parse_keyval(const char *s, Props *ps)
{
        if (!*s || strstr(s, ",,"))
                return false;
        while (*s) {
                const char *end = strchrnul(s, ','), *eq = memchr(s, '=', (size_t)(end - s));
                bool ok;

                if (end == s)
                        return false;
                if (eq)
                        ok = eq > s && props_add(ps, s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1));
                else
                        ok = ps->n == 0 && props_add(ps, NULL, 0, s, (size_t)(end - s));
                if (!ok)
                        return false;
                s = *end ? end + 1 : end;
                if (*end && !*s)
                        return false;   /* trailing comma */
        }
        return true;
}

static const char *skip_ws(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* A flat JSON object of string, number and boolean members, as libvirt writes -object
 * and -device; no escapes (nothing we keep needs them). */
static bool parse_json(const char *s, Props *ps)
{
        s = skip_ws(s);
        if (*s++ != '{')
                return false;
        s = skip_ws(s);
        if (*s == '}')
                return !*skip_ws(s + 1);
        for (;;) {
                const char *k, *v;
                size_t kl, vl;

                if (*s++ != '"')
                        return false;
                k = s;
                while (*s && *s != '"' && *s != '\\')
                        s++;
                if (*s != '"')
                        return false;
                kl = (size_t)(s - k);
                s = skip_ws(s + 1);
                if (*s++ != ':')
                        return false;
                s = skip_ws(s);
                if (*s == '"') {
                        v = ++s;
                        while (*s && *s != '"' && *s != '\\')
                                s++;
                        if (*s != '"')
                                return false;
                        vl = (size_t)(s - v);
                        s++;
                } else {
                        v = s;
                        while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || *s == '-' || *s == '.')
                                s++;
                        vl = (size_t)(s - v);
                        if (!vl)
                                return false;   /* arrays and objects are not flat */
                }
                if (!kl || !props_add(ps, k, kl, v, vl))
                        return false;
                s = skip_ws(s);
                if (*s == '}')
                        return !*skip_ws(s + 1);
                if (*s++ != ',')
                        return false;
                s = skip_ws(s);
        }
}

static bool parse_props(const char *s, Props *ps)
{
        return *skip_ws(s) == '{' ? parse_json(s, ps) : parse_keyval(s, ps);
}

static const char *prop(const Props *ps, const char *key)
{
        for (size_t i = 0; i < ps->n; i++)
                if (ps->p[i].key && strcmp(ps->p[i].key, key) == 0)
                        return ps->p[i].value;
        return NULL;
}

/* The type: the bare leading word, or the given key ("type", "qom-type", "driver"). */
static const char *props_type(const Props *ps, const char *key)
{
        if (ps->n && !ps->p[0].key)
                return ps->p[0].value;
        return prop(ps, key);
}

bool tv_qemu_virt_machine(const char *t)
{
        if (!t)
                return false;
        if (strcmp(t, "virt") == 0)
                return true;
        if (strncmp(t, "virt-", 5) != 0 || !t[5])
                return false;
        for (t += 5; *t; t++)
                if (!((*t >= '0' && *t <= '9') || *t == '.'))
                        return false;
        return true;
}

/* Machine properties that name host files or objects/drives we drop, or that we set. */
static bool machine_prop_dropped(const char *key)
{
        static const char *const dropped[] = {
                "memory-backend", "pflash0", "pflash1", "dumpdtb", "dtb", "kernel", "initrd", "append",
                "firmware", "confidential-guest-support", "memory-encryption", NULL,
        };

        for (const char *const *d = dropped; *d; d++)
                if (strcmp(key, *d) == 0)
                        return true;
        return false;
}

static char *join_props(const Props *ps, const char *type)
{
        size_t cap = 1 + (type ? strlen(type) + 1 : 0);
        char *s, *p;

        for (size_t i = 0; i < ps->n; i++)
                if (ps->p[i].key)
                        cap += strlen(ps->p[i].key) + strlen(ps->p[i].value) + 2;
        s = p = malloc(cap);
        if (!s)
                return NULL;
        *p = 0;
        if (type)
                p += sprintf(p, "%s", type);
        for (size_t i = 0; i < ps->n; i++)
                if (ps->p[i].key)
                        p += sprintf(p, "%s%s=%s", p == s ? "" : ",", ps->p[i].key, ps->p[i].value);
        return s;
}

static int bad(TvError *err, const char *opt, const char *val, const char *why)
{
        char b[72];

        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain's QEMU command line has %s %s, which %s", opt,
                            shown(val, b), why);
}

static int keep_machine(const char *val, Vec *out, bool *typed, TvError *err)
{
        Props ps = { 0 }, kept = { 0 };
        const char *type;
        char *joined;
        int r = -1;

        if (!parse_keyval(val, &ps)) {
                bad(err, "-machine", val, "tegravirt cannot read");
                goto out;
        }
        type = props_type(&ps, "type");
        if (type && !tv_qemu_virt_machine(type)) {
                bad(err, "-machine", val, "is not the aarch64 'virt' machine tegravirt supports");
                goto out;
        }
        for (size_t i = 0; i < ps.n; i++) {
                Prop *p = &ps.p[i];

                if (!p->key || strcmp(p->key, "type") == 0)
                        continue;
                if (machine_prop_dropped(p->key))
                        continue;
                if (!chars_ok(p->key, "-_.") || !chars_ok(p->value, "-_.")) {
                        bad(err, "-machine", val, "has a property with characters tegravirt does not pass on");
                        goto out;
                }
                kept.p[kept.n++] = (Prop){ p->key, p->value };
        }
        joined = join_props(&kept, type);
        kept.n = 0;     /* borrowed from ps */
        if (!joined || !*joined) {
                if (!joined)
                        out->oom = true;
                free(joined);
                r = 0;
                goto out;
        }
        *typed = *typed || type;
        vec_add(out, "-machine");
        vec_take(out, joined);
        r = 0;
out:
        props_clear(&ps);
        return r;
}

/* Does a -numa option of the command line take its memory from object id? */
static bool numa_uses(char *const *w, size_t n, const char *id)
{
        size_t il = strlen(id);

        for (size_t i = 0; i + 1 < n; i++) {
                const char *p = w[i + 1];

                if (strcmp(w[i], "-numa") != 0 && strcmp(w[i], "--numa") != 0)
                        continue;
                while ((p = strstr(p, "memdev="))) {
                        p += 7;
                        if (strncmp(p, id, il) == 0 && (p[il] == ',' || !p[il]))
                                return true;
                }
        }
        return false;
}

/* The RAM backends NUMA nodes take their memory from, as plain RAM of the same id and size
 * (a file or memfd backend would open host files; the tree only sees the size); other
 * objects (the machine's own RAM backend among them: -m gives the same RAM) are dropped. */
static int keep_object(const char *val, char *const *w, size_t nw, Vec *out, TvError *err)
{
        Props ps = { 0 };
        const char *type, *id, *size;
        char *s = NULL;
        int r = 0;

        if (!parse_props(val, &ps)) {
                props_clear(&ps);
                return 0;       /* not a RAM backend libvirt writes: nothing of the tree */
        }
        type = props_type(&ps, "qom-type");
        id = prop(&ps, "id");
        if (type && (strcmp(type, "memory-backend-ram") == 0 || strcmp(type, "memory-backend-file") == 0 ||
                     strcmp(type, "memory-backend-memfd") == 0) &&
            id && numa_uses(w, nw, id)) {
                size = prop(&ps, "size");
                if (!size || !chars_ok(id, "-_.") || !chars_ok(size, ""))
                        r = bad(err, "-object", val, "is a RAM backend without a plain id and size");
                else if (asprintf(&s, "memory-backend-ram,id=%s,size=%s", id, size) < 0)
                        out->oom = true;
                else {
                        vec_add(out, "-object");
                        vec_take(out, s);
                }
        }
        props_clear(&ps);
        return r;
}

/* virtio-iommu devices make nodes (and iommu-map) in the tree; other devices are dropped. */
static int keep_device(const char *val, Vec *out, TvError *err)
{
        static const char *const keys[] = { "id", "bus", "addr", NULL };
        Props ps = { 0 }, kept = { 0 };
        const char *type, *bus;
        char *s;
        int r = 0;

        if (!parse_props(val, &ps)) {
                props_clear(&ps);
                return 0;
        }
        type = props_type(&ps, "driver");
        if (type && (strcmp(type, "virtio-iommu") == 0 || strcmp(type, "virtio-iommu-pci") == 0 ||
                     strcmp(type, "virtio-iommu-device") == 0)) {
                bus = prop(&ps, "bus");
                if (bus && strcmp(bus, "pcie.0") != 0) {
                        r = bad(err, "-device", val, "is a virtio-iommu off the root bus pcie.0");
                        goto out;
                }
                for (const char *const *k = keys; *k; k++) {
                        const char *v = prop(&ps, *k);

                        if (!v)
                                continue;
                        if (!chars_ok(v, "-_.")) {
                                r = bad(err, "-device", val, "has a property with characters tegravirt does not pass on");
                                goto out;
                        }
                        kept.p[kept.n++] = (Prop){ (char *)*k, (char *)v };
                }
                s = join_props(&kept, type);
                kept.n = 0;
                vec_add(out, "-device");
                vec_take(out, s);
        }
out:
        props_clear(&ps);
        return r;
}

/* QEMU options without a value; every other option takes one. */
static bool no_value(const char *o)
{
        static const char *const flags[] = {
                "S", "no-user-config", "nodefaults", "no-shutdown", "no-acpi", "no-hpet", "no-reboot",
                "nographic", "enable-kvm", "usb", "mem-prealloc", "snapshot", "daemonize", "full-screen",
                "no-fd-bootchk", "no-quit", "alt-grab", "ctrl-grab", "win2k-hack", "rtc-td-hack",
                "only-migratable", "preconfig", "enable-fips", "no-frame", "portrait", "sdl", "curses",
                "semihosting", "singlestep", "s", "nodefconfig", "enable-sync-profile", "no-kvm",
                "no-kvm-irqchip", "no-kvm-pit", "no-kvm-pit-reinjection", "old-param", "no-graphic", NULL,
        };

        for (const char *const *f = flags; *f; f++)
                if (strcmp(o, *f) == 0)
                        return true;
        return false;
}

int tv_qemu_dump_args(const char *native, TvDumpArgs *out, TvError *err)
{
        char **w = NULL, b[72];
        size_t n = 0, i = 0;
        bool typed = false;
        Vec v = { 0 };
        int r = -1;

        *out = (TvDumpArgs){ 0 };
        if (tv_qemu_argv_split(native, &w, &n, err) < 0)
                return -1;
        /* NAME=value ... before the binary */
        while (i < n && (w[i][0] == '_' || (w[i][0] >= 'A' && w[i][0] <= 'Z') || (w[i][0] >= 'a' && w[i][0] <= 'z')) &&
               strchr(w[i], '=') && strspn(w[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                                            (size_t)(strchr(w[i], '=') - w[i]))
                i++;
        if (i >= n || w[i][0] != '/') {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain's QEMU command line names no absolute emulator");
                goto out;
        }
        if (!(out->emulator = strdup(w[i++])))
                goto oom;
        for (; i < n; i++) {
                const char *o = w[i], *val;

                if (o[0] != '-')
                        continue;       /* a bare image file name: a host resource */
                o += o[1] == '-' ? 2 : 1;
                if (no_value(o)) {
                        if (strcmp(o, "no-acpi") == 0)
                                vec_add(&v, "-no-acpi");
                        continue;
                }
                if (i + 1 >= n) {
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain's QEMU command line ends in %s without its value",
                                     shown(w[i], b));
                        goto out;
                }
                val = w[++i];
                if (strcmp(o, "machine") == 0 || strcmp(o, "M") == 0) {
                        if (keep_machine(val, &v, &typed, err) < 0)
                                goto out;
                } else if (strcmp(o, "accel") == 0 || strcmp(o, "cpu") == 0 || strcmp(o, "smp") == 0 ||
                           strcmp(o, "m") == 0 || strcmp(o, "numa") == 0) {
                        /* accel=tcg, cortex-a57,pmu=off, 2,sockets=2, size=1048576k, node,nodeid=0,cpus=0-1 */
                        if (!chars_ok(val, "-_.,=+:")) {
                                bad(err, w[i - 1], val, "has characters tegravirt does not pass on");
                                goto out;
                        }
                        vec_add(&v, w[i - 1][1] == '-' ? w[i - 1] + 1 : w[i - 1]);
                        vec_add(&v, val);
                } else if (strcmp(o, "object") == 0) {
                        if (keep_object(val, w, n, &v, err) < 0)
                                goto out;
                } else if (strcmp(o, "device") == 0) {
                        if (keep_device(val, &v, err) < 0)
                                goto out;
                } else if (strcmp(o, "dtb") == 0) {
                        /* the last one wins in QEMU */
                        free(out->dtb);
                        if (!(out->dtb = strdup(val)))
                                goto oom;
                }
        }
        if (v.oom)
                goto oom;
        if (!typed) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain's QEMU command line has no -machine type");
                goto out;
        }
        out->n = v.s.n;
        out->args = tv_strv_steal(&v.s);
        if (!out->args)
                goto oom;
        r = 0;
        goto out;
oom:
        tv_error_oom(err);
out:
        tv_strv_free(w);
        tv_strv_clear(&v.s);
        if (r < 0)
                tv_dump_args_clear(out);
        return r;
}

void tv_dump_args_clear(TvDumpArgs *a)
{
        free(a->emulator);
        free(a->dtb);
        tv_strv_free(a->args);
        *a = (TvDumpArgs){ 0 };
}
