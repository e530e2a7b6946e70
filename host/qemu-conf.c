// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu-conf.h"
#include "tv-fileio.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

typedef struct Lexer {
        const char *p, *end;
        unsigned line;
} Lexer;

static void skip_space(Lexer *lx)
{
        while (lx->p < lx->end) {
                if (*lx->p == '#') {
                        while (lx->p < lx->end && *lx->p != '\n')
                                lx->p++;
                } else if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' || *lx->p == '\n') {
                        if (*lx->p == '\n')
                                lx->line++;
                        lx->p++;
                } else {
                        break;
                }
        }
}

/* A "..." string (libvirt's conf strings have no escapes we need to honour beyond \"). */
static int read_string(Lexer *lx, char **out)
{
        const char *start;

        if (lx->p >= lx->end || *lx->p != '"')
                return -EINVAL;
        start = ++lx->p;
        while (lx->p < lx->end && *lx->p != '"') {
                if (*lx->p == '\n' || (*lx->p == '\\' && ++lx->p >= lx->end))
                        return -EINVAL;
                lx->p++;
        }
        if (lx->p >= lx->end)
                return -EINVAL;
        *out = strndup(start, (size_t)(lx->p - start));
        lx->p++;
        return *out ? 0 : -ENOMEM;
}

/* [ "a", "b", ] ; also accepts a bare scalar so we can skip any value */
static int read_value(Lexer *lx, char ***list, bool *is_list)
{
        _cleanup_(tv_strv_clear) TvStrv v = { 0 };

        skip_space(lx);
        *is_list = lx->p < lx->end && *lx->p == '[';
        if (!*is_list) {
                if (lx->p < lx->end && *lx->p == '"') {
                        char *s = NULL;
                        int r = read_string(lx, &s);

                        free(s);
                        return r;
                }
                while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '#')
                        lx->p++; /* numbers, booleans */
                return 0;
        }
        lx->p++;
        for (;;) {
                char *s = NULL;
                int r;

                skip_space(lx);
                if (lx->p < lx->end && *lx->p == ']') {
                        lx->p++;
                        break;
                }
                r = read_string(lx, &s);
                if (r < 0 || v.n >= 4096) {
                        free(s);
                        return r < 0 ? r : -E2BIG;
                }
                if (tv_strv_consume(&v, s) < 0)
                        return -ENOMEM;
                skip_space(lx);
                if (lx->p < lx->end && *lx->p == ',')
                        lx->p++;
        }
        *list = tv_strv_steal(&v);
        return *list ? 0 : -ENOMEM;
}

int tv_qemu_conf_parse(const char *buf, size_t len, TvQemuConf *out, TvError *err)
{
        Lexer lx = { buf, buf + len, 1 };
        TvQemuConf c = { 0 };

        if (len > TV_QEMU_CONF_MAX_BYTES || !tv_utf8_valid(buf, len))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "qemu.conf is too large or not UTF-8 text");
        for (;;) {
                const char *key;
                size_t klen;
                char **list = NULL;
                bool is_list;
                int r;

                skip_space(&lx);
                if (lx.p >= lx.end)
                        break;
                key = lx.p;
                while (lx.p < lx.end && ((*lx.p >= 'a' && *lx.p <= 'z') || (*lx.p >= '0' && *lx.p <= '9') ||
                                         *lx.p == '_'))
                        lx.p++;
                klen = (size_t)(lx.p - key);
                skip_space(&lx);
                if (klen == 0 || lx.p >= lx.end || *lx.p != '=') {
                        tv_qemu_conf_clear(&c);
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "qemu.conf line %u: expected key = value",
                                            lx.line);
                }
                lx.p++;
                r = read_value(&lx, &list, &is_list);
                if (r < 0) {
                        tv_qemu_conf_clear(&c);
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "qemu.conf line %u: bad value", lx.line);
                }
                if (is_list && klen == 17 && strncmp(key, "cgroup_device_acl", klen) == 0) {
                        tv_strv_free(c.acl);
                        c.acl = list;
                        c.has_acl = true;
                } else if (is_list && klen == 10 && strncmp(key, "namespaces", klen) == 0) {
                        c.has_namespaces = true;
                        c.namespaces_off = !list[0];
                        tv_strv_free(list);
                } else {
                        tv_strv_free(list);
                }
        }
        *out = c;
        return 0;
}

int tv_qemu_conf_load(const char *path, TvQemuConf *out, TvError *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = tv_read_file_at(AT_FDCWD, path, TV_QEMU_CONF_MAX_BYTES, &buf, &len);

        memset(out, 0, sizeof(*out));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot read %s: %s", path, strerror(-r));
        r = tv_qemu_conf_parse(buf, len, out, err);
        if (r < 0)
                tv_error_prefix(err, "%s", path);
        return r;
}

bool tv_qemu_conf_allows(const TvQemuConf *c, const char *dev_path)
{
        return c->has_acl && tv_strv_contains(c->acl, dev_path);
}

void tv_qemu_conf_clear(TvQemuConf *c)
{
        tv_strv_free(c->acl);
        memset(c, 0, sizeof(*c));
}
