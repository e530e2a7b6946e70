// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpmp-active.h"
#include "bpmp-proxy.h"
#include "log.h"
#include "tv-names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void tv_bpmp_active_free(TvBpmpActive *b)
{
        tv_bpmp_active_forget(b);
        free(b->pid);
        b->pid = NULL;
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

/* One pass; *stale when the proxy stopped answering (find it again and retry). */
static int sync_once(const TvState *state, const TvCatalog *catalog, TvBpmpProxy *p, bool *stale, TvError *err)
{
        TvIdSet *want = NULL;
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
        if (!want)
                return tv_error_oom(err);
        for (size_t i = 0; i < state->n_entries; i++) {
                const TvStateEntry *e = &state->entries[i];
                const TvCatalogDevice *dev = tv_catalog_find(catalog, e->device);

                if (e->binding.phase == TV_PHASE_NONE || !dev)
                        continue;
                for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++) {
                        const TvBpmpRef *refs;
                        size_t nr;

                        device_refs(dev, k, &refs, &nr);
                        /* outside the ceiling the driver would refuse the whole list */
                        for (size_t j = 0; j < nr; j++)
                                if (in_kind(p, k, &refs[j]) && tv_id_set_has(&p->ceiling[k], refs[j].id))
                                        tv_id_set_add(&want[k], refs[j].id);
                }
        }
        for (TvBpmpKind k = 0; r == 0 && k < TV_BPMP_KINDS; k++) {
                int e;

                if (k == TV_BPMP_PARENT_CLOCKS && !p->parent_class)
                        continue;
                e = tv_bpmp_proxy_set_active(p, k, &want[k]);

                if (e == -ENODEV || e == -ENOENT)
                        *stale = true;
                if (e < 0)
                        r = tv_error_set(err, TV_ERR_FAILED, "cannot set the BPMP host proxy's active %ss on %s: %s",
                                         tv_bpmp_kind_noun(k), p->pid, strerror(-e));
                written |= e > 0;
        }
        if (written) {
                char *ids[TV_BPMP_KINDS];

                for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++)
                        ids[k] = tv_id_set_format(&want[k]);
                tv_audit(&(TvAudit){ "bpmp-active", NULL, NULL, p->pid, TV_CALLER_DAEMON },
                         "active clocks [%s] resets [%s] power domains [%s] parent clocks [%s]%s",
                         ids[0] ? ids[0] : "?", ids[1] ? ids[1] : "?", ids[2] ? ids[2] : "?", ids[3] ? ids[3] : "?",
                         r < 0 ? " (partly: a write failed)" : "");
                for (TvBpmpKind k = 0; k < TV_BPMP_KINDS; k++)
                        free(ids[k]);
        }
        free(want);
        return r;
}

int tv_bpmp_active_sync(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvError *err)
{
        for (int attempt = 0;; attempt++) {
                TvBpmpProxy *p = proxy(b, false, false, err);
                bool stale;
                int r;

                if (!p)
                        return -1;
                r = sync_once(state, catalog, p, &stale, err);
                if (!stale || attempt > 0)
                        return r;
                /* unbound or rebound since it was found: find it again, once */
                tv_error_clear(err);
                tv_bpmp_active_forget(b);
        }
}
