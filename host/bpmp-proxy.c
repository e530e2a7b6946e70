// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpmp-proxy.h"
#include "tv-fileio.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/tegra-bpmp-host-proxy.h>

static const char *const kind_attr[TV_BPMP_KINDS] = { "clocks", "resets", "power_domains", "parent_clocks" };

#define TV_BPMP_ATTR_MAX 4096  /* a sysfs page */

const char *tv_bpmp_kind_noun(TvBpmpKind k)
{
        static const char *const nouns[TV_BPMP_KINDS] = { "clock", "reset", "power domain", "parent clock" };

        return k < TV_BPMP_KINDS ? nouns[k] : "resource";
}

bool tv_id_set_has(const TvIdSet *s, uint32_t id)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->ids[i] == id)
                        return true;
        return false;
}

bool tv_id_set_add(TvIdSet *s, uint32_t id)
{
        if (tv_id_set_has(s, id))
                return true;
        if (s->n == TV_BPMP_MAX_IDS)
                return false;
        s->ids[s->n++] = id;
        return true;
}

int tv_id_set_parse(const char *text, TvIdSet *out)
{
        const char *p = text;

        out->n = 0;
        while (*p) {
                uint64_t v = 0;
                size_t len = 0;

                for (; p[len] >= '0' && p[len] <= '9'; len++) {
                        if (len == 10)
                                return -EBADMSG;
                        v = v * 10 + (uint64_t)(p[len] - '0');
                }
                if (len == 0 || v > UINT32_MAX || (p[len] && p[len] != ' ') || (p[len] == ' ' && !p[len + 1]))
                        return -EBADMSG;
                if (!tv_id_set_add(out, (uint32_t)v))
                        return -E2BIG;
                p += len + (p[len] == ' ');
        }
        return 0;
}

/* modalias "of:N<name>T<type>C<compat>C<compat>...": does it list the proxy's compatible? */
static bool modalias_is_proxy(const char *modalias)
{
        static const char needle[] = "C" TV_BPMP_PROXY_COMPATIBLE;
        const char *at = modalias;

        if (strncmp(modalias, "of:", 3) != 0)
                return false;
        while ((at = strstr(at, needle))) {
                char next = at[sizeof(needle) - 1];

                if (next == 0 || next == 'C')
                        return true;
                at++;
        }
        return false;
}

static bool is_proxy(TvHost *h, const char *pid)
{
        _cleanup_free_ char *m = NULL;

        return tv_sysfs_dev_attr_read(h, pid, "modalias", &m) == 0 && modalias_is_proxy(m);
}

static int read_ceiling(TvHost *h, TvBpmpProxy *p, TvError *err)
{
        char attr[32], *v = NULL;
        int r;

        for (int k = 0; k < TV_BPMP_KINDS; k++) {
                snprintf(attr, sizeof(attr), "allowed_%s", kind_attr[k]);
                r = tv_sysfs_dev_attr_read(h, p->pid, attr, &v);
                if (r == -ENOENT && k == 0) {
                        /* a proxy without our attributes: only the DT lists, no narrowing */
                        p->narrowing = false;
                        return 0;
                }
                if (r == -ENOENT && k == TV_BPMP_PARENT_CLOCKS) {
                        /* an older proxy: parent clocks are in allowed-clocks, fully controllable */
                        p->ceiling[k].n = 0;
                        continue;
                }
                if (k == TV_BPMP_PARENT_CLOCKS)
                        p->parent_class = r == 0;
                if (r == 0)
                        r = tv_id_set_parse(v, &p->ceiling[k]);
                free(v);
                v = NULL;
                if (r < 0)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "the BPMP host proxy %s: cannot read %s: %s", p->pid, attr,
                                            r == -EBADMSG ? "not a list of decimal IDs" : strerror(-r));
        }
        p->fds_open = true;
        p->allowed_fd = tv_sysfs_dev_attr_open(h, p->pid, "allowed_clocks", O_RDONLY);
        for (int k = 0; k < TV_BPMP_KINDS; k++) {
                snprintf(attr, sizeof(attr), "active_%s", kind_attr[k]);
                p->active_fd[k] = k == TV_BPMP_PARENT_CLOCKS && !p->parent_class
                                          ? -ENOENT : tv_sysfs_dev_attr_open(h, p->pid, attr, O_RDWR);
        }
        /* all three or none: a proxy without runtime narrowing has none */
        p->narrowing = p->active_fd[0] >= 0 && p->active_fd[1] >= 0 && p->active_fd[2] >= 0;
        if (p->narrowing && p->parent_class && p->active_fd[TV_BPMP_PARENT_CLOCKS] < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the BPMP host proxy %s: cannot open active_parent_clocks: %s",
                                    p->pid, strerror(-p->active_fd[TV_BPMP_PARENT_CLOCKS]));
        if (p->allowed_fd < 0 || (!p->narrowing && p->active_fd[0] != -ENOENT))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the BPMP host proxy %s: cannot open its attributes: %s",
                                    p->pid, strerror(-(p->allowed_fd < 0 ? p->allowed_fd : p->active_fd[0])));
        return 0;
}

int tv_bpmp_proxy_probe(TvHost *h, const char *hint, TvBpmpProxy *p, TvError *err)
{
        char **pids = NULL;
        int r;

        tv_bpmp_proxy_clear(p);
        if (hint && tv_device_token_valid(hint) && is_proxy(h, hint)) {
                p->pid = strdup(hint);
        } else {
                r = tv_sysfs_platform_devices(h, &pids);
                if (r < 0)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot list the platform devices: %s",
                                            strerror(-r));
                for (char **q = pids; *q && !p->pid; q++)
                        if (is_proxy(h, *q))
                                p->pid = strdup(*q);
                tv_strv_free(pids);
                if (!p->pid)
                        return 0;
        }
        if (!p->pid)
                return tv_error_oom(err);
        if (read_ceiling(h, p, err) < 0) {
                tv_bpmp_proxy_clear(p);
                return -1;
        }
        return 0;
}

static bool same_set(const TvIdSet *a, const TvIdSet *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!tv_id_set_has(b, a->ids[i]))
                        return false;
        return true;
}

char *tv_id_set_format(const TvIdSet *s)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                fprintf(f, "%s%u", i ? " " : "", s->ids[i]);
        return tv_memstream_close(f, &text);
}

/* One read(2) at offset 0: sysfs shows the attribute afresh. */
static int fd_read(int fd, char **out)
{
        _cleanup_free_ char *buf = malloc(TV_BPMP_ATTR_MAX + 1);
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        do {
                n = pread(fd, buf, TV_BPMP_ATTR_MAX, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = 0;
        *out = TAKE_PTR(buf);
        return 0;
}

bool tv_bpmp_proxy_alive(const TvBpmpProxy *p)
{
        _cleanup_free_ char *v = NULL;

        return p->fds_open && p->allowed_fd >= 0 && fd_read(p->allowed_fd, &v) == 0;
}

int tv_bpmp_proxy_get_active(const TvBpmpProxy *p, TvBpmpKind k, TvIdSet *out)
{
        _cleanup_free_ char *cur = NULL;
        int r;

        if (!p->narrowing || p->active_fd[k] < 0)
                return -ENODEV;
        r = fd_read(p->active_fd[k], &cur);
        return r < 0 ? r : tv_id_set_parse(cur, out);
}

bool tv_id_set_equal(const TvIdSet *a, const TvIdSet *b)
{
        return same_set(a, b);
}

int tv_bpmp_proxy_set_active(const TvBpmpProxy *p, TvBpmpKind k, const TvIdSet *want, TvIdSet *had)
{
        _cleanup_free_ char *cur = NULL, *text = NULL;
        _cleanup_free_ TvIdSet *have = malloc(sizeof(*have));
        ssize_t n;
        int r;

        if (!have)
                return -ENOMEM;
        /* read back every time: a rebound driver starts again empty */
        r = tv_bpmp_proxy_get_active(p, k, have);
        if (r < 0 && r != -EBADMSG && r != -E2BIG)
                return r;
        if (r < 0)
                have->n = 0;    /* unreadable: rewritten */
        if (had)
                *had = *have;
        if (r == 0 && same_set(have, want))
                return 0;
        cur = tv_id_set_format(want);
        if (!cur || asprintf(&text, "%s\n", cur) < 0) {
                text = NULL;    /* asprintf leaves it undefined on failure */
                return -ENOMEM;
        }
        /* one write(2), as sysfs wants */
        do {
                n = pwrite(p->active_fd[k], text, strlen(text), 0);
        } while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : (size_t)n == strlen(text) ? 1 : -EIO;
}

void tv_bpmp_proxy_clear(TvBpmpProxy *p)
{
        if (p->fds_open) {
                if (p->allowed_fd >= 0)
                        close(p->allowed_fd);
                for (int k = 0; k < TV_BPMP_KINDS; k++)
                        if (p->active_fd[k] >= 0)
                                close(p->active_fd[k]);
        }
        free(p->pid);
        memset(p, 0, sizeof(*p));
}

int tv_bpmp_dev_open(TvHost *h, TvError *err)
{
        struct tegra_bpmp_host_version v = { 0 };
        int fd = tv_dev_open(h, TV_BPMP_DEV_NODE, O_RDWR), r;

        if (fd == -ENOENT)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s/" TV_BPMP_DEV_NODE " is missing: the BPMP host proxy is not bound (load "
                                    "tegra-bpmp-host-proxy from tegravirt's kernel/)", h->dev_root);
        if (fd < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot open %s/" TV_BPMP_DEV_NODE ": %s",
                                    h->dev_root, strerror(-fd));
        do {
                r = ioctl(fd, TEGRA_BPMP_HOST_IOC_VERSION, &v);
        } while (r < 0 && errno == EINTR);
        r = r < 0 ? -errno : 0;
        if (r == 0 && v.version == TEGRA_BPMP_HOST_ABI_VERSION && v.nr_kinds >= TEGRA_BPMP_HOST_NR_KINDS)
                return fd;
        close(fd);
        if (r == -ENOTTY || r == -EINVAL)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the BPMP host proxy behind %s/" TV_BPMP_DEV_NODE " is older than this tegravirtd "
                                    "(the write() ABI, no ioctls), so a domain cannot get a file narrowed to its own "
                                    "clocks, resets and power domains: install the proxy from this release's kernel/",
                                    h->dev_root);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the BPMP host proxy's VERSION ioctl on %s/"
                                    TV_BPMP_DEV_NODE " failed: %s", h->dev_root, strerror(-r));
        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                            "the BPMP host proxy behind %s/" TV_BPMP_DEV_NODE " speaks ABI version %u with %u resource "
                            "kinds; this tegravirtd needs version %u with %u: install matching versions",
                            h->dev_root, v.version, v.nr_kinds, TEGRA_BPMP_HOST_ABI_VERSION, TEGRA_BPMP_HOST_NR_KINDS);
}

static int ids_ioctl(int fd, unsigned long req, struct tegra_bpmp_host_ids *ids)
{
        int r;

        do {
                r = ioctl(fd, req, ids);
        } while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : 0;
}

int tv_bpmp_dev_restrict(int fd, const TvIdSet *want, TvError *err)
{
        _cleanup_free_ struct tegra_bpmp_host_ids *ids = malloc(sizeof(*ids));
        _cleanup_free_ TvIdSet *got = malloc(sizeof(*got));

        _Static_assert(TV_BPMP_KINDS == TEGRA_BPMP_HOST_NR_KINDS, "one RESTRICT per kind");
        if (!ids || !got)
                return tv_error_oom(err);
        for (int k = 0; k < TV_BPMP_KINDS; k++) {
                int r;

                if (want[k].n > TEGRA_BPMP_HOST_MAX_IDS)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%zu BPMP %ss, the proxy takes at most %u",
                                            want[k].n, tv_bpmp_kind_noun(k), TEGRA_BPMP_HOST_MAX_IDS);
                memset(ids, 0, sizeof(*ids));
                ids->kind = (uint32_t)k;
                ids->count = (uint32_t)want[k].n;
                memcpy(ids->ids, want[k].ids, want[k].n * sizeof(ids->ids[0]));
                r = ids_ioctl(fd, TEGRA_BPMP_HOST_IOC_RESTRICT, ids);
                if (r == -EPERM)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the BPMP host proxy refused to narrow a fresh "
                                            "/dev/" TV_BPMP_DEV_NODE " file to these %ss (outside its device-tree "
                                            "ceiling)", tv_bpmp_kind_noun(k));
                if (r < 0)
                        return tv_error_set(err, TV_ERR_FAILED, "cannot narrow /dev/" TV_BPMP_DEV_NODE " to its %ss: %s",
                                            tv_bpmp_kind_noun(k), strerror(-r));
                memset(ids, 0, sizeof(*ids));
                ids->kind = (uint32_t)k;
                r = ids_ioctl(fd, TEGRA_BPMP_HOST_IOC_GET_IDS, ids);
                got->n = 0;
                for (uint32_t i = 0; r == 0 && i < ids->count && i < TEGRA_BPMP_HOST_MAX_IDS; i++)
                        tv_id_set_add(got, ids->ids[i]);
                if (r < 0)
                        return tv_error_set(err, TV_ERR_FAILED, "cannot read back the %ss of /dev/" TV_BPMP_DEV_NODE
                                            ": %s", tv_bpmp_kind_noun(k), strerror(-r));
                /* the proxy says what the file may use now: exactly what was asked, or it is not ours */
                if (ids->count != got->n || !same_set(got, &want[k]))
                        return tv_error_set(err, TV_ERR_FAILED, "/dev/" TV_BPMP_DEV_NODE " was narrowed to other %ss "
                                            "than asked (%u instead of %zu)", tv_bpmp_kind_noun(k), ids->count,
                                            want[k].n);
        }
        return 0;
}

bool tv_bpmp_dev_alive(int fd)
{
        struct tegra_bpmp_host_version v;
        int r;

        do {
                r = ioctl(fd, TEGRA_BPMP_HOST_IOC_VERSION, &v);
        } while (r < 0 && errno == EINTR);
        return r == 0;
}
