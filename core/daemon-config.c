// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon-config.h"
#include "tv-fileio.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TV_DEFAULT_QEMU_RUN_DIR "/run/libvirt/qemu"

int tv_config_defaults(TvConfig *c)
{
        c->qemu_user = strdup("libvirt-qemu");
        c->qemu_group = strdup("kvm");
        c->allow_unsafe_interrupts = false;
        c->allow_noiommu = false;
        c->bpmp_bridge = -1;
        c->bpmp_base = 0;
        c->libvirt_uri = strdup("qemu:///system");
        c->qemu_conf = strdup("/etc/libvirt/qemu.conf");
        c->qemu_run_dir = strdup(TV_DEFAULT_QEMU_RUN_DIR);
        if (!c->qemu_user || !c->qemu_group || !c->libvirt_uri || !c->qemu_conf || !c->qemu_run_dir) {
                tv_config_free(c);
                return -ENOMEM;
        }
        return 0;
}

void tv_config_free(TvConfig *c)
{
        free(c->qemu_user);
        free(c->qemu_group);
        free(c->libvirt_uri);
        free(c->qemu_conf);
        free(c->privileged_group);
        free(c->emulator);
        free(c->qemu_run_dir);
        c->qemu_user = c->qemu_group = c->libvirt_uri = c->qemu_conf = c->privileged_group = c->emulator = NULL;
        c->qemu_run_dir = NULL;
}

static char *strip(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = 0;
        return s;
}

static int parse_bool(const char *v, bool *out)
{
        static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *out = true;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *out = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* A user or group name as useradd accepts it. */
static bool account_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 32 || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])))
                        return false;
        return true;
}

/* A key's parser: 0 and the value stored in n, -EINVAL for a value the key does not take
 * (the caller reports the key's `invalid` text), -ENOMEM. */
typedef int (*KeyParseFn)(TvConfig *n, char **field, const char *val);

static int set_string(char **field, const char *val)
{
        char *copy = strdup(val);

        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int parse_account(TvConfig *n, char **field, const char *val)
{
        return account_name_valid(val) ? set_string(field, val) : -EINVAL;
}

/* a URI is printable ASCII without spaces; empty turns libvirt off */
static int parse_uri(TvConfig *n, char **field, const char *val)
{
        bool ok = strlen(val) < 1024;

        for (const char *p = val; ok && *p; p++)
                ok = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
        return ok ? set_string(field, val) : -EINVAL;
}

/* auto: probe the emulator; none; or the built-in bridge's guest address */
static int parse_bpmp_bridge(TvConfig *n, char **field, const char *val)
{
        char *end = NULL;
        unsigned long long base;

        if (strcmp(val, "auto") == 0) {
                n->bpmp_bridge = -1;
                return 0;
        }
        if (strcmp(val, "none") == 0) {
                n->bpmp_bridge = 0;
                return 0;
        }
        errno = 0;
        base = strtoull(val, &end, 16);
        if (strncmp(val, "0x", 2) != 0 || errno || !end || *end || base == 0 || base > 0xffffffffffULL ||
            (base & 0xfff))
                return -EINVAL;
        n->bpmp_bridge = 1;
        n->bpmp_base = base;
        return 0;
}

/* empty: nobody */
static int parse_group_or_empty(TvConfig *n, char **field, const char *val)
{
        if (!*val) {
                free(*field);
                *field = NULL;
                return 0;
        }
        return parse_account(n, field, val);
}

static int parse_path_or_empty(TvConfig *n, char **field, const char *val)
{
        if (*val && (val[0] != '/' || strlen(val) >= 4096 || strstr(val, "/../")))
                return -EINVAL;
        return set_string(field, val);
}

static int parse_path(TvConfig *n, char **field, const char *val)
{
        return *val ? parse_path_or_empty(n, field, val) : -EINVAL;
}

static int parse_unsafe_interrupts(TvConfig *n, char **field, const char *val)
{
        return parse_bool(val, &n->allow_unsafe_interrupts);
}

static int parse_noiommu(TvConfig *n, char **field, const char *val)
{
        return parse_bool(val, &n->allow_noiommu);
}

/* The keys of [Daemon]: the one list the parser, the docs' contract test
 * (tests/contracts.sh through tv_config_key_name) and the line bookkeeping use.
 * QemuUser and QemuGroup stay first: their lines are kept for error messages. */
static const struct ConfigKey {
        const char *name;
        KeyParseFn parse;
        size_t field;           /* offset of the char * it sets, or SIZE_MAX */
        const char *invalid;    /* the error after "ORIGIN line N: " */
} config_keys[] = {
        { "QemuUser", parse_account, offsetof(TvConfig, qemu_user), "QemuUser must be a user/group name" },
        { "QemuGroup", parse_account, offsetof(TvConfig, qemu_group), "QemuGroup must be a user/group name" },
        { "LibvirtUri", parse_uri, offsetof(TvConfig, libvirt_uri), "LibvirtUri must be a libvirt URI or empty" },
        { "BpmpBridge", parse_bpmp_bridge, SIZE_MAX,
          "BpmpBridge takes auto, none or a page-aligned guest address like 0x090d0000" },
        { "PrivilegedGroup", parse_group_or_empty, offsetof(TvConfig, privileged_group),
          "PrivilegedGroup must be a group name or empty" },
        { "QemuConf", parse_path_or_empty, offsetof(TvConfig, qemu_conf), "QemuConf must be an absolute path or empty" },
        { "AllowUnsafeInterrupts", parse_unsafe_interrupts, SIZE_MAX, "AllowUnsafeInterrupts takes yes or no" },
        { "AllowNoIommu", parse_noiommu, SIZE_MAX, "AllowNoIommu takes yes or no" },
        { "Emulator", parse_path_or_empty, offsetof(TvConfig, emulator), "Emulator must be an absolute path or empty" },
        { "LibvirtQemuRunDir", parse_path, offsetof(TvConfig, qemu_run_dir),
          "LibvirtQemuRunDir must be an absolute path" },
};
#define N_CONFIG_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

const char *tv_config_key_name(size_t i)
{
        return i < N_CONFIG_KEYS ? config_keys[i].name : NULL;
}

int tv_config_parse_buffer(TvConfig *c, const char *buf, size_t len, const char *origin, TvError *err)
{
        TvConfig n = { 0 };
        unsigned seen[N_CONFIG_KEYS] = { 0 };
        char *copy, *line, *save = NULL;
        bool in_daemon = false;
        unsigned no = 0;
        int r = 0;

        if (len > TV_CONFIG_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s: file too large", origin);
        if (!tv_utf8_valid(buf, len))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s: not UTF-8 text", origin);
        copy = strndup(buf, len);
        n.qemu_user = strdup(c->qemu_user ? c->qemu_user : "libvirt-qemu");
        n.qemu_group = strdup(c->qemu_group ? c->qemu_group : "kvm");
        n.allow_unsafe_interrupts = c->allow_unsafe_interrupts;
        n.allow_noiommu = c->allow_noiommu;
        n.bpmp_bridge = c->bpmp_bridge;
        n.bpmp_base = c->bpmp_base;
        n.libvirt_uri = strdup(c->libvirt_uri ? c->libvirt_uri : "qemu:///system");
        n.qemu_conf = strdup(c->qemu_conf ? c->qemu_conf : "/etc/libvirt/qemu.conf");
        n.privileged_group = c->privileged_group ? strdup(c->privileged_group) : NULL;
        n.emulator = c->emulator ? strdup(c->emulator) : NULL;
        n.qemu_run_dir = strdup(c->qemu_run_dir ? c->qemu_run_dir : TV_DEFAULT_QEMU_RUN_DIR);
        if (!copy || !n.qemu_user || !n.qemu_group || !n.libvirt_uri || !n.qemu_conf || (c->emulator && !n.emulator) ||
            !n.qemu_run_dir) {
                free(copy);
                tv_config_free(&n);
                return tv_error_oom(err);
        }
        /* strsep keeps empty lines so line numbers stay right */
        save = copy;
        while ((line = strsep(&save, "\n"))) {
                const struct ConfigKey *k = NULL;
                char *key, *val, *eq;

                no++;
                line = strip(line);
                if (!*line || line[0] == '#' || line[0] == ';')
                        continue;
                if (line[0] == '[') {
                        in_daemon = strcmp(line, "[Daemon]") == 0;
                        if (!in_daemon) {
                                r = tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                                 "%s line %u: unknown section %s (only [Daemon])", origin, no, line);
                                break;
                        }
                        continue;
                }
                eq = strchr(line, '=');
                if (!in_daemon || !eq) {
                        r = tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                         "%s line %u: expected Key=Value inside [Daemon]", origin, no);
                        break;
                }
                *eq = 0;
                key = strip(line);
                val = strip(eq + 1);
                for (size_t i = 0; i < N_CONFIG_KEYS && !k; i++)
                        if (strcmp(key, config_keys[i].name) == 0)
                                k = &config_keys[i];
                if (!k) {
                        r = tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s line %u: unknown key '%.64s'", origin,
                                         no, key);
                        break;
                }
                /* a second value would silently win: refuse it and name both lines */
                if (seen[k - config_keys]) {
                        r = tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                         "%s line %u: %s is set again (first on line %u); keep one", origin, no, key,
                                         seen[k - config_keys]);
                        break;
                }
                seen[k - config_keys] = no;
                r = k->parse(&n, k->field == SIZE_MAX ? NULL : (char **)((char *)&n + k->field), val);
                if (r == -EINVAL) {
                        r = tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s line %u: %s", origin, no, k->invalid);
                        break;
                }
                if (r < 0) {
                        r = tv_error_oom(err);
                        break;
                }
        }
        free(copy);
        if (r < 0) {
                tv_config_free(&n);
                return -1;
        }
        n.qemu_user_line = seen[0] ? seen[0] : c->qemu_user_line;
        n.qemu_group_line = seen[1] ? seen[1] : c->qemu_group_line;
        tv_config_free(c);
        *c = n;
        return 0;
}

int tv_config_check_accounts(const TvConfig *c, const char *origin, TvError *err)
{
        const char *what[2] = { "QemuUser", "QemuGroup" }, *name[2] = { c->qemu_user, c->qemu_group };
        unsigned line[2] = { c->qemu_user_line, c->qemu_group_line };

        for (int i = 0; i < 2; i++) {
                bool found;

                errno = 0;
                found = i == 0 ? getpwnam(name[i]) != NULL : getgrnam(name[i]) != NULL;
                if (found)
                        continue;
                if (line[i])
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "%s line %u: %s=%s: no such %s on this host (QEMU runs as the user and group "
                                            "of 'user' and 'group' in qemu.conf)",
                                            origin, line[i], what[i], name[i], i == 0 ? "user" : "group");
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                    "%s: %s is not set and its default %s does not exist on this host (is libvirt "
                                    "installed?); set %s= to the %s QEMU runs as",
                                    origin, what[i], name[i], what[i], i == 0 ? "user" : "group");
        }
        return 0;
}

int tv_config_load(TvConfig *c, const char *path, TvError *err)
{
        char *buf = NULL;
        size_t len = 0;
        int r = tv_read_file_at(AT_FDCWD, path, TV_CONFIG_MAX_BYTES, &buf, &len);

        if (r == -ENOENT)
                return tv_config_check_accounts(c, path, err);
        if (r < 0)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "cannot read %s: %s", path, strerror(-r));
        r = tv_config_parse_buffer(c, buf, len, path, err);
        free(buf);
        /* an unknown account would only fail at the first prepare, far from the typo */
        if (r == 0)
                r = tv_config_check_accounts(c, path, err);
        return r;
}
