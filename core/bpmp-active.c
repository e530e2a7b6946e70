// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpmp-active.h"
#include "bpmp-proxy.h"
#include "log.h"
#include "tv-macros.h"
#include "tv-names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The refs of the array kind k draws from; in_kind() picks its members. */
static void device_refs(const TvCatalogDevice *dev, TvBpmpKind k, const TvBpmpRef **refs, size_t *n)
{
        bool clk = k == TV_BPMP_CLOCKS || k == TV_BPMP_PARENT_CLOCKS;

        *refs = clk ? dev->clocks : k == TV_BPMP_RESETS ? dev->resets : dev->power_domains;
        *n = clk ? dev->n_clocks : k == TV_BPMP_RESETS ? dev->n_resets : dev->n_power_domains;
}

/* A clock of role "parent" is a parent clock (enable and query only) on a proxy that
 * has that class; on an older one it stays in clocks, as before. */
static bool in_kind(const TvBpmpProxy *p, TvBpmpKind k, const TvBpmpRef *r)
{
        bool parent = p->parent_class && r->role && strcmp(r->role, TV_BPMP_PARENT_ROLE) == 0;

        if (k == TV_BPMP_CLOCKS)
                return !parent;
        if (k == TV_BPMP_PARENT_CLOCKS)
                return parent;
        return true;
}

/* Looks for the proxy; the last platform id found is tried first. */
static TvBpmpProxy *find_proxy(TvBpmpActive *b, TvError *err)
{
        TvBpmpProxy *p = calloc(1, sizeof(*p));

        if (!p) {
                tv_error_oom(err);
                return NULL;
        }
        if (tv_bpmp_proxy_probe(b->host, b->pid, p, err) < 0) {
                free(p);
                return NULL;
        }
        if (p->pid && (!b->pid || strcmp(b->pid, p->pid) != 0)) {
                free(b->pid);
                b->pid = strdup(p->pid);
        }
        return p;
}

void tv_bpmp_active_forget(TvBpmpActive *b)
{
        if (b->proxy)
                tv_bpmp_proxy_clear(b->proxy);
        free(b->proxy);
        b->proxy = NULL;
}

static void domain_free(TvBpmpDomain *r)
{
        if (r->fd >= 0)
                close(r->fd);
        free(r->domain);
        free(r);
}

void tv_bpmp_active_free(TvBpmpActive *b)
{
        tv_bpmp_active_forget(b);
        while (b->domains) {
                TvBpmpDomain *r = b->domains;

                b->domains = r->next;
                domain_free(r);
        }
        free(b->pid);
        free(b->synced);
        free(b->resync_text);
        b->pid = NULL;
        b->synced = NULL;
        b->resync_text = NULL;
}

/*
 * The proxy as last found. Searching the platform bus and reading the ceiling costs
 * hundreds of sysfs reads, so that happens at start-up, when a device needs a proxy
 * none was found for, and when the one found stops answering (its attributes give
 * ENODEV once its driver is unbound or rebound: verify=true checks that first).
 */
static TvBpmpProxy *proxy(TvBpmpActive *b, bool need, bool verify, TvError *err)
{
        TvBpmpProxy *p = b->proxy;

        /* one that cannot narrow may be a proxy whose driver was away: look again */
        if (p && (p->pid ? p->narrowing && (!verify || tv_bpmp_proxy_alive(p)) : !need))
                return p;
        tv_bpmp_active_forget(b);
        b->proxy = find_proxy(b, err);
        return b->proxy;
}

int tv_bpmp_active_check_devices(TvBpmpActive *b, const TvCatalogDevice *const *devs, size_t n, TvError *err)
{
        bool needs = false;
        TvBpmpProxy *p = NULL;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                needs |= devs[i]->needs_bpmp;
        if (needs && !(p = proxy(b, true, true, err)))
                r = -1;
        for (size_t i = 0; r == 0 && needs && i < n; i++) {
                for (TvBpmpKind k = 0; r == 0 && k < TV_BPMP_KINDS; k++) {
                        const TvBpmpRef *refs;
                        size_t nr;

                        device_refs(devs[i], k, &refs, &nr);
                        if (k == TV_BPMP_PARENT_CLOCKS && !p->pid)
                                continue;       /* the clocks pass reported them */
                        if (nr && !p->pid)
                                r = tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                                 "%s needs the BPMP host proxy (%s, /dev/bpmp-host) for %s %u (%s), "
                                                 "but this host has none: add it to the host device tree "
                                                 "(tegravirtctl host-overlay %s)",
                                                 devs[i]->name, TV_BPMP_PROXY_COMPATIBLE, tv_bpmp_kind_noun(k),
                                                 refs[0].id, refs[0].name, devs[i]->name);
                        /* an older proxy shows no ceiling: its DT list applies unchecked */
                        for (size_t j = 0; r == 0 && p->narrowing && j < nr; j++)
                                if (in_kind(p, k, &refs[j]) && !tv_id_set_has(&p->ceiling[k], refs[j].id))
                                        r = tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                                         "%s needs BPMP %s %u (%s), which the host device tree does not "
                                                         "allow (allowed-%s of %s): regenerate the host overlay "
                                                         "(tegravirtctl host-overlay) and reboot",
                                                         devs[i]->name, tv_bpmp_kind_noun(k), refs[j].id, refs[j].name,
                                                         k == TV_BPMP_CLOCKS ? "clocks" : k == TV_BPMP_RESETS ? "resets"
                                                         : k == TV_BPMP_POWER_DOMAINS ? "power-domains" : "parent-clocks",
                                                         p->pid);
                }
        }
        if (r == 0 && needs && !p->narrowing)
                r = tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                 "the BPMP host proxy %s cannot narrow its allow-list (no active_* attributes): "
                                 "every guest may use all of its device-tree lists", p->pid);
        return r;
}

int tv_bpmp_active_check(TvBpmpActive *b, const TvCatalogDevice *const *devs, size_t n, TvError *err)
{
        int r = tv_bpmp_active_check_devices(b, devs, n, err);

        /* an older proxy still works: the DT lists apply, tv_bpmp_active_sync warns */
        if (r < 0 && strstr(err->message, "cannot narrow")) {
                tv_error_clear(err);
                r = 0;
        }
        return r;
}

/* A device that counts for the active sets: bound for a domain. Not one whose release began
 * (REATTACHING: the host driver gets it back once the sets no longer allow it), nor one of an
 * interrupted prepare (DETACHING: the sync comes after the bind; at start-up it goes back to
 * its host driver). */
static bool entry_counts(const TvStateEntry *e)
{
        return e->binding.phase == TV_PHASE_BOUND;
}

/* Adds what dev needs, within the ceiling (outside it the driver would refuse the whole list). */
static void add_device(const TvBpmpProxy *p, const TvCatalogDevice *dev, TvIdSet *want)
{
        for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++) {
                const TvBpmpRef *refs;
                size_t nr;

                device_refs(dev, k, &refs, &nr);
                for (size_t j = 0; j < nr; j++)
                        if (in_kind(p, k, &refs[j]) && tv_id_set_has(&p->ceiling[k], refs[j].id))
                                tv_id_set_add(&want[k], refs[j].id);
        }
}

static void union_of_running(const TvBpmpProxy *p, const TvState *state, const TvCatalog *catalog, TvIdSet *want)
{
        for (size_t i = 0; i < state->n_entries; i++) {
                const TvStateEntry *e = &state->entries[i];
                const TvCatalogDevice *dev = tv_catalog_find(catalog, e->device);

                if (entry_counts(e) && dev)
                        add_device(p, dev, want);
        }
}

static char *sets_text(const TvIdSet *s)
{
        char *ids[TV_BPMP_KINDS], *text = NULL;

        for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++)
                ids[k] = tv_id_set_format(&s[k]);
        if (asprintf(&text, "clocks [%s] resets [%s] power domains [%s] parent clocks [%s]", ids[0] ? ids[0] : "?",
                     ids[1] ? ids[1] : "?", ids[2] ? ids[2] : "?", ids[3] ? ids[3] : "?") < 0)
                text = NULL;
        for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++)
                free(ids[k]);
        return text;
}

/* The proxy held something else than our last sync left: re-bound (or written by hand). */
static void note_resync(TvBpmpActive *b, const TvBpmpProxy *p, const TvIdSet *had)
{
        _cleanup_free_ char *was = sets_text(had), *want = sets_text(b->synced);
        char when[32] = "?";
        time_t now = time(NULL);
        struct tm tm;

        if (localtime_r(&now, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        b->resyncs++;
        free(b->resync_text);
        if (asprintf(&b->resync_text, "at %s the BPMP host proxy %s held %s instead of %s (re-bound? a fresh probe "
                     "starts empty): tegravirtd rewrote its active sets and reopened the running domains' "
                     "/dev/bpmp-host files", when, p->pid, was ? was : "?", want ? want : "?") < 0)
                b->resync_text = NULL;
        tv_audit(&(TvAudit){ "bpmp-active", NULL, NULL, p->pid, TV_CALLER_DAEMON }, "%s",
                 b->resync_text ? b->resync_text : "the proxy lost its active sets: rewritten");
}

/* One pass; *stale when the proxy stopped answering (find it again and retry), *lost when
 * it held other sets than our last sync left. */
static int sync_once(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvBpmpProxy *p, bool *stale,
                     bool *lost, TvError *err)
{
        _cleanup_free_ TvIdSet *want = NULL, *had = NULL;
        bool written = false;
        int r = 0;

        *stale = false;
        if (!p->pid || !p->narrowing) {
                if (p->pid)
                        tv_log(LOG_WARNING, "the BPMP host proxy %s cannot narrow its allow-list: every guest "
                               "may use all of its device-tree lists", p->pid);
                return 0;
        }
        want = calloc(TV_BPMP_KINDS, sizeof(*want));
        had = calloc(TV_BPMP_KINDS, sizeof(*had));
        if (!want || !had)
                return tv_error_oom(err);
        union_of_running(p, state, catalog, want);
        for (TvBpmpKind k = 0; r == 0 && k < TV_BPMP_KINDS; k++) {
                int e;

                if (k == TV_BPMP_PARENT_CLOCKS && !p->parent_class)
                        continue;
                e = tv_bpmp_proxy_set_active(p, k, &want[k], &had[k]);

                if (e == -ENODEV || e == -ENOENT)
                        *stale = true;
                if (e < 0)
                        r = tv_error_set(err, TV_ERR_FAILED, "cannot set the BPMP host proxy's active %ss on %s: %s",
                                         tv_bpmp_kind_noun(k), p->pid, strerror(-e));
                else if (b->synced && !tv_id_set_equal(&had[k], &b->synced[k]))
                        *lost = true;
                written |= e > 0;
        }
        if (written) {
                _cleanup_free_ char *ids = sets_text(want);

                tv_audit(&(TvAudit){ "bpmp-active", NULL, NULL, p->pid, TV_CALLER_DAEMON }, "active %s%s",
                         ids ? ids : "?", r < 0 ? " (partly: a write failed)" : "");
        }
        if (*lost && r == 0)
                note_resync(b, p, had);
        free(b->synced);
        b->synced = NULL;
        if (r == 0)
                b->synced = TAKE_PTR(want);
        return r;
}

static void close_all(TvBpmpActive *b)
{
        while (b->domains) {
                TvBpmpDomain *r = b->domains;

                b->domains = r->next;
                domain_free(r);
        }
}

int tv_bpmp_active_sync(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvError *err)
{
        bool lost = false;

        for (int attempt = 0;; attempt++) {
                TvBpmpProxy *p = proxy(b, false, false, err);
                bool stale;
                int r;

                if (!p)
                        return -1;
                r = sync_once(b, state, catalog, p, &stale, &lost, err);
                if (!stale || attempt > 0) {
                        /* the old files of a re-bound proxy give ENODEV: every running domain gets a new one */
                        if (r == 0 && lost) {
                                close_all(b);
                                tv_bpmp_active_open_running(b, state, catalog);
                        }
                        return r;
                }
                /* unbound or rebound since it was found: find it again, once */
                tv_error_clear(err);
                tv_bpmp_active_forget(b);
        }
}

static TvBpmpDomain *find_domain(const TvBpmpActive *b, const char *domain)
{
        for (TvBpmpDomain *r = b->domains; r; r = r->next)
                if (strcmp(r->domain, domain) == 0)
                        return r;
        return NULL;
}

bool tv_bpmp_active_close_domain(TvBpmpActive *b, const char *domain)
{
        for (TvBpmpDomain **pp = &b->domains; *pp; pp = &(*pp)->next) {
                TvBpmpDomain *r = *pp;

                if (strcmp(r->domain, domain) != 0)
                        continue;
                *pp = r->next;
                domain_free(r);
                return true;
        }
        return false;
}

int tv_bpmp_active_domain_fd(const TvBpmpActive *b, const char *domain)
{
        const TvBpmpDomain *r = find_domain(b, domain);

        return r ? r->fd : -1;
}

int tv_bpmp_active_open_domain(TvBpmpActive *b, const char *domain, const TvCatalogDevice *const *devs, size_t n,
                               TvError *err)
{
        _cleanup_free_ TvIdSet *want = NULL;
        TvBpmpProxy *p;
        TvBpmpDomain *r;
        bool needs = false;
        int fd;

        for (size_t i = 0; i < n; i++)
                needs |= devs[i]->needs_bpmp;
        if (!needs)
                return 0;
        p = proxy(b, true, false, err);
        if (!p)
                return -1;
        if (!p->pid || !p->narrowing)
                return 0;       /* no proxy (refused before) or one without runtime narrowing (warned) */
        want = calloc(TV_BPMP_KINDS, sizeof(*want));
        if (!want)
                return tv_error_oom(err);
        for (size_t i = 0; i < n; i++)
                add_device(p, devs[i], want);
        fd = tv_bpmp_dev_open(b->host, err);
        if (fd < 0)
                return -1;
        if (tv_bpmp_dev_restrict(fd, want, err) < 0) {
                close(fd);
                return -1;
        }
        r = find_domain(b, domain);
        if (r) {
                close(r->fd);   /* the older file: the kernel undoes what it did */
        } else {
                r = calloc(1, sizeof(*r));
                if (!r || !(r->domain = strdup(domain))) {
                        free(r);
                        close(fd);
                        return tv_error_oom(err);
                }
                r->next = b->domains;
                b->domains = r;
        }
        r->fd = fd;
        return 0;
}

void tv_bpmp_active_open_running(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog)
{
        const TvCatalogDevice **devs = calloc(state->n_entries + 1, sizeof(*devs));

        if (!devs)
                return;
        for (size_t i = 0; i < state->n_entries; i++) {
                const char *domain = state->entries[i].domain;
                TvError err = { 0 };
                size_t n = 0;
                bool first = true;

                if (!domain || !entry_counts(&state->entries[i]) || find_domain(b, domain))
                        continue;
                for (size_t j = 0; j < state->n_entries; j++) {
                        const TvStateEntry *e = &state->entries[j];
                        const TvCatalogDevice *dev;

                        if (!e->domain || strcmp(e->domain, domain) != 0 || !entry_counts(e))
                                continue;
                        first &= j >= i;
                        if ((dev = tv_catalog_find(catalog, e->device)))
                                devs[n++] = dev;
                }
                if (first && tv_bpmp_active_open_domain(b, domain, devs, n, &err) < 0)
                        tv_log(LOG_ERR, "domain %s runs without its own narrowed /dev/" TV_BPMP_DEV_NODE ": %s", domain,
                               err.message);
                tv_error_clear(&err);
        }
        free(devs);
}

int tv_bpmp_active_verify(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvError *err)
{
        _cleanup_free_ TvIdSet *want = NULL, *have = NULL;
        TvBpmpProxy *p = proxy(b, false, true, err);
        bool same = true;

        if (!p)
                return -1;
        if (!p->pid || !p->narrowing)
                return 0;       /* the bpmp-proxy item says so */
        want = calloc(TV_BPMP_KINDS, sizeof(*want));
        have = calloc(TV_BPMP_KINDS, sizeof(*have));
        if (!want || !have)
                return tv_error_oom(err);
        union_of_running(p, state, catalog, want);
        for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++) {
                int r;

                if (k == TV_BPMP_PARENT_CLOCKS && !p->parent_class)
                        continue;
                r = tv_bpmp_proxy_get_active(p, k, &have[k]);
                if (r < 0)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot read the BPMP host proxy's active %ss "
                                            "on %s: %s", tv_bpmp_kind_noun(k), p->pid, strerror(-r));
                same &= tv_id_set_equal(&have[k], &want[k]);
        }
        if (!same) {
                _cleanup_free_ char *h = sets_text(have), *w = sets_text(want);

                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the BPMP host proxy %s enforces %s, but the running domains need %s (re-bound? a "
                                    "fresh probe starts empty): their guests' BPMP requests fail until tegravirtd "
                                    "rewrites them at its next PrepareDomain or ReleaseDomain",
                                    p->pid, h ? h : "?", w ? w : "?");
        }
        for (size_t i = 0; i < state->n_entries; i++) {
                const TvStateEntry *e = &state->entries[i];
                const TvCatalogDevice *dev = tv_catalog_find(catalog, e->device);
                const TvBpmpDomain *r;

                if (!e->domain || !entry_counts(e) || !dev || !dev->needs_bpmp)
                        continue;
                r = find_domain(b, e->domain);
                if (!r)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "domain %s runs without its own narrowed "
                                            "/dev/" TV_BPMP_DEV_NODE " (see the daemon's log)", e->domain);
                if (!tv_bpmp_dev_alive(r->fd))
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the narrowed /dev/" TV_BPMP_DEV_NODE " of "
                                            "domain %s no longer answers (the proxy was re-bound): tegravirtd opens "
                                            "a new one at its next PrepareDomain or ReleaseDomain", e->domain);
        }
        return 0;
}
