// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon.h"
#include "config.h"
#include "bpmp-active.h"
#include "domain-dtb.h"
#include "domain-edit.h"
#include "domain-sync.h"
#include "domain-xml.h"
#include "gpio-hazard.h"
#include "job.h"
#include "libvirt-conn.h"
#include "log.h"
#include "qemu-access.h"
#include "qemu-caps.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-strv.h"
#include "tv-validate.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int record_state(void *userdata, bool durable, TvError *err)
{
        TvDaemon *d = userdata;

        return durable ? tv_state_save(&d->state, err) : tv_state_save_nosync(&d->state, err);
}

/* The record names a device and the platform id it bound; the catalog must still agree,
 * or two names (and two domains) would share one physical device. */
static int check_state_catalog(TvDaemon *d, TvError *err)
{
        for (size_t i = 0; i < d->state.n_entries; i++) {
                const TvStateEntry *e = &d->state.entries[i];
                const TvCatalogDevice *by_name = tv_catalog_find(d->catalog, e->device);
                const TvCatalogDevice *by_id = tv_catalog_find(d->catalog, e->platform_id);
                const char *owner = e->domain ? e->domain : "no domain";

                if (by_name && strcmp(by_name->platform_id, e->platform_id) != 0)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "the catalog moves %s from %s, where the state file records it (for %s, phase %s), "
                                            "to %s (a file in %s?); restore the catalog entry, start tegravirtd, unassign %s, "
                                            "then apply the change",
                                            e->device, e->platform_id, owner, tv_phase_to_string(e->binding.phase),
                                            by_name->platform_id, d->catalog_dir, e->device);
                if (by_id && strcmp(by_id->name, e->device) != 0)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "the catalog gives %s, which the state file records as %s (for %s), to device %s "
                                            "(a file in %s?); restore the catalog entry, start tegravirtd, unassign %s, "
                                            "then apply the change",
                                            e->platform_id, e->device, owner, by_id->name, d->catalog_dir, e->device);
        }
        return 0;
}

/* The cached host view, one per catalog device. */
static TvHostView *alloc_views(const TvCatalog *catalog)
{
        return calloc(catalog->n_devices ? catalog->n_devices : 1, sizeof(TvHostView));
}

static void free_views(TvHostView *view, const TvCatalog *catalog)
{
        for (size_t i = 0; view && i < catalog->n_devices; i++)
                free(view[i].driver);
        free(view);
}

static void note_own_define(void *userdata, const char *domain);

/* ... and for its line groups. */
static int sync_domain_lines(void *userdata, const char *domain, const TvLineGroup ***groups, size_t *n)
{
        TvDaemon *d = userdata;

        *groups = calloc(d->catalog->n_line_groups + 1, sizeof(**groups));
        if (!*groups)
                return -ENOMEM;
        *n = tv_daemon_domain_line_groups(d, domain, *groups);
        return 0;
}

/* domain-sync asks for the devices assigned to a domain at each step. */
static int sync_domain_devices(void *userdata, const char *domain, const TvCatalogDevice ***devs, size_t *n)
{
        TvDaemon *d = userdata;

        *devs = calloc(d->catalog->n_devices + 1, sizeof(**devs));
        if (!*devs)
                return -ENOMEM;
        *n = tv_daemon_domain_devices(d, domain, *devs);
        return 0;
}

/* AllowNoIommu=yes: said at every (re)load, never silently on */
static void warn_noiommu(const TvDaemon *d)
{
        if (d->config.allow_noiommu)
                tv_log(LOG_WARNING, "AllowNoIommu=yes: devices without an IOMMU group are bound in vfio's UNSAFE "
                       "no-IOMMU mode (no DMA isolation, no use for a VM); for test rigs only");
}

/* A BPMP backend's domain runs while it holds its narrowed /dev/bpmp-host. */
static bool bpmp_backend_running(void *userdata, const char *domain)
{
        TvDaemon *d = userdata;

        return tv_bpmp_active_domain_fd(&d->bpmp, domain) >= 0;
}

static int bpmp_backend_args(void *userdata, const char *domain, TvBackendArgs *a, TvError *err)
{
        TvDaemon *d = userdata;
        int fd = tv_bpmp_active_domain_fd(&d->bpmp, domain);

        return fd < 0 ? 1 : tv_bpmp_backend_args(fd, a, err);
}

/* The backend runs as, and accepts, QemuUser= (with QemuGroup=), as configured now. */
static void backend_user(TvDaemon *d)
{
        struct passwd *pw = d->config.qemu_user ? getpwnam(d->config.qemu_user) : NULL;
        struct group *gr = d->config.qemu_group ? getgrnam(d->config.qemu_group) : NULL;

        d->backends.uid = d->gpio_backends.uid = pw ? pw->pw_uid : (uid_t)-1;
        d->backends.gid = d->gpio_backends.gid = gr ? gr->gr_gid : pw ? pw->pw_gid : (gid_t)-1;
}

/* A re-bound proxy (the sync reopened every domain's file) leaves the backends on stale
 * files: each is replaced by one on its domain's new file. */
static void replace_stale_backends(TvDaemon *d)
{
        if (d->bpmp.resyncs == d->backends_resyncs)
                return;
        d->backends_resyncs = d->bpmp.resyncs;
        tv_backend_restart_all(&d->backends);
}

/* Starts the domain's BPMP backend on its narrowed file, when it has one. */
static int start_backend(TvDaemon *d, const char *domain, TvError *err)
{
        int fd = tv_bpmp_active_domain_fd(&d->bpmp, domain);

        replace_stale_backends(d);
        if (fd < 0)
                return 0;
        backend_user(d);
        return tv_backend_start(&d->backends, domain, err);
}

int tv_daemon_start_gpio_backend(TvDaemon *d, const char *domain, TvError *err)
{
        if (!tv_daemon_domain_has_lines(d, domain))
                return 0;
        backend_user(d);
        return tv_backend_start(&d->gpio_backends, domain, err);
}

int tv_daemon_init(TvDaemon *d, TvError *err)
{
        int r;

        d->state.dir_fd = -1;
        d->caller = TV_CALLER_DAEMON;
        d->host.sysfs_fd = d->host.dev_fd = -1;
        if (tv_config_defaults(&d->config) < 0)
                return tv_error_oom(err);
        if (tv_config_load(&d->config, d->config_path, err) < 0)
                return -1;
        d->hostdev_config = (TvHostdevConfig){
                .qemu_user = d->config.qemu_user,
                .qemu_group = d->config.qemu_group,
                .allow_unsafe_interrupts = d->config.allow_unsafe_interrupts,
                .allow_noiommu = d->config.allow_noiommu,
        };
        warn_noiommu(d);
        if (tv_catalog_load(d->catalog_path, d->catalog_dir, &d->catalog, err) < 0)
                return -1;
        r = tv_host_open(&d->host, d->sysfs_root, d->dev_root);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot open sysfs root %s or dev root %s: %s",
                                    d->sysfs_root, d->dev_root, strerror(-r));
        if (tv_state_open(&d->state, d->state_dir, err) < 0)
                return -1;
        if (check_state_catalog(d, err) < 0)
                return -1;
        d->state_dir_abs = realpath(d->state_dir, NULL);
        d->libvirt = tv_libvirt_new(d->config.libvirt_uri);
        d->qemu_caps = tv_qemu_caps_cache_new();
        d->jobs = tv_jobset_new(d->event);
        if (!d->state_dir_abs || !d->libvirt || !d->qemu_caps || !d->jobs)
                return tv_error_oom(err);
        d->sync = (TvDomainSync){
                .libvirt = d->libvirt,
                .qemu_caps = d->qemu_caps,
                .dtb = { .state_dir = d->state_dir_abs, .jobs = d->jobs },
                .config = &d->config,
                .run_dir = d->run_dir ? d->run_dir : TV_DEFAULT_RUN_DIR,
                .domain_devices = sync_domain_devices,
                .domain_lines = sync_domain_lines,
                .own_define = note_own_define,
                .userdata = d,
        };
        d->bpmp.host = &d->host;
        d->backends = (TvBackendProcs){
                .kind = &tv_bpmp_backend_kind,
                .event = d->event,
                .run_dir = d->run_dir ? d->run_dir : TV_DEFAULT_RUN_DIR,
                .path = d->bpmp_backend_path ? d->bpmp_backend_path : TV_DEFAULT_BPMP_BACKEND,
                .running = bpmp_backend_running,
                .args = bpmp_backend_args,
                .userdata = d,
        };
        d->gpio_backends = (TvBackendProcs){
                .kind = &tv_gpio_backend_kind,
                .event = d->event,
                .run_dir = d->backends.run_dir,
                .path = d->gpio_backend_path ? d->gpio_backend_path : TV_DEFAULT_GPIO_BACKEND,
                .running = tv_daemon_gpio_backend_running,
                .args = tv_daemon_gpio_backend_args,
                .control = tv_daemon_gpio_backend_control,
                .userdata = d,
        };
        d->hostdev = (TvHostdev){
                .host = &d->host,
                .config = &d->hostdev_config,
                .record = record_state,
                .userdata = d,
        };
        d->view = alloc_views(d->catalog);
        if (!d->view)
                return tv_error_oom(err);
        return 0;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + 1;
}

const TvHostView *tv_daemon_host_view(TvDaemon *d, const TvCatalogDevice *dev)
{
        TvHostView *v = &d->view[dev - d->catalog->devices];
        uint64_t now = now_usec();

        if (v->read_usec && now - v->read_usec < TV_VIEW_MAX_AGE_USEC)
                return v;
        free(v->driver);
        v->driver = NULL;
        v->present = tv_sysfs_get_driver(&d->host, dev->platform_id, &v->driver) == 0;
        if (!v->present || tv_sysfs_iommu_group(&d->host, dev->platform_id, &v->group) < 0)
                v->group = -1;
        v->read_usec = now;
        return v;
}

void tv_daemon_invalidate_view(TvDaemon *d, const char *domain)
{
        for (size_t i = 0; i < d->catalog->n_devices; i++) {
                if (domain) {
                        TvStateEntry *e = tv_state_find(&d->state, d->catalog->devices[i].name);

                        if (!e || !e->domain || strcmp(e->domain, domain) != 0)
                                continue;
                }
                d->view[i].read_usec = 0;
        }
}

static int check_domain(const char *domain, TvError *err)
{
        if (!tv_domain_name_valid(domain))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                    "'%.64s' is not a domain name tegravirt accepts (1-64 of A-Z a-z 0-9 _ . + -)",
                                    domain);
        return 0;
}

/* One caller's operation per domain at a time: its definition and DTB are in flux while it
 * waits. with_refresh: the daemon's own DTB refresh counts too (prepare needs the new DTB). */
static int check_not_busy(TvDaemon *d, const char *domain, bool with_refresh, TvError *err)
{
        if (tv_domain_busy(&d->sync, domain, with_refresh))
                return tv_error_set(err, TV_ERR_DOMAIN_BUSY,
                                    "domain %s has a call in progress that waits for QEMU (a capability probe or a "
                                    "device tree dump, up to 30 s each); retry when it has answered", domain);
        return 0;
}

static void set_drift(TvDaemon *d, const char *domain, const char *text)
{
        TvDomainDrift **pp, *x;

        for (pp = &d->drifts; *pp; pp = &(*pp)->next)
                if (strcmp((*pp)->domain, domain) == 0)
                        break;
        if (*pp) {
                x = *pp;
                *pp = x->next;
                free(x->domain);
                free(x->text);
                free(x);
        }
        if (!text || !*text)
                return;
        x = calloc(1, sizeof(*x));
        if (!x)
                return;
        x->domain = strdup(domain);
        x->text = strdup(text);
        if (!x->domain || !x->text) {
                free(x->domain);
                free(x->text);
                free(x);
                return;
        }
        x->next = d->drifts;
        d->drifts = x;
}

const char *tv_daemon_domain_drift(TvDaemon *d, const char *domain)
{
        for (TvDomainDrift *x = d->drifts; x; x = x->next)
                if (strcmp(x->domain, domain) == 0)
                        return x->text;
        return "";
}

/* We just redefined the domain, so its DEFINED event is ours, not an edit. */
static void note_own_define(void *userdata, const char *domain)
{
        TvDaemon *d = userdata;
        TvOwnDefine *x;

        for (x = d->own_defines; x; x = x->next)
                if (strcmp(x->domain, domain) == 0)
                        break;
        if (!x) {
                x = calloc(1, sizeof(*x));
                if (!x || !(x->domain = strdup(domain))) {
                        free(x);
                        return; /* worst case our own define gets inspected: harmless */
                }
                x->next = d->own_defines;
                d->own_defines = x;
        }
        x->pending++;
}

static bool take_own_define(TvDaemon *d, const char *domain)
{
        for (TvOwnDefine *x = d->own_defines; x; x = x->next)
                if (strcmp(x->domain, domain) == 0 && x->pending > 0) {
                        x->pending--;
                        return true;
                }
        return false;
}

/* The domain is gone: a later DEFINED of the same name is a new domain, not our redefine. */
static void forget_own_defines(TvDaemon *d, const char *domain)
{
        for (TvOwnDefine **pp = &d->own_defines; *pp; pp = &(*pp)->next)
                if (strcmp((*pp)->domain, domain) == 0) {
                        TvOwnDefine *x = *pp;

                        *pp = x->next;
                        free(x->domain);
                        free(x);
                        return;
                }
}

static void forget_all_own_defines(TvDaemon *d)
{
        while (d->own_defines) {
                TvOwnDefine *x = d->own_defines;

                d->own_defines = x->next;
                free(x->domain);
                free(x);
        }
}

bool tv_daemon_domain_assigned(TvDaemon *d, const char *domain)
{
        for (size_t i = 0; i < d->state.n_entries; i++)
                if (d->state.entries[i].domain && (!domain || strcmp(d->state.entries[i].domain, domain) == 0))
                        return true;
        return false;
}

static void on_refreshed(TvDomainSync *s, int r, bool running, TvError *err, void *userdata)
{
        char *domain = userdata;

        if (r < 0)
                tv_log(LOG_WARNING, "domain %s redefined: %s", domain ? domain : "?", err->message);
        else
                tv_log(LOG_INFO, "domain %s redefined: guest device tree regenerated", domain);
        free(domain);
}

static bool domain_has_assignments(TvDaemon *d, const char *domain)
{
        return tv_daemon_domain_assigned(d, domain);
}

/* The definition of a renamed domain was rewritten for its new name, or could not be. */
static void on_rename_synced(TvDomainSync *s, int r, bool running, TvError *err, void *userdata)
{
        TvDaemon *d = s->userdata;
        char *domain = userdata;

        (void)running;
        if (r < 0 && domain) {
                tv_log(LOG_WARNING, "domain %s renamed: %s", domain, err->message);
                set_drift(d, domain, "renamed: the definition still names the old domain's guest device tree; call "
                                     "RepairDomain (tegravirtctl repair) to rewrite it");
        }
        free(domain);
}

/* The definition of domain carries the record of info->owner_name with the same UUID, and
 * libvirt no longer knows that name: the domain was renamed (virsh domrename). Its
 * assignments follow it; the caller rewrites the definition (new DTB path). */
static bool adopt_rename(TvDaemon *d, const char *domain, const TvDomainInfo *info)
{
        const char *old = info->owner_name;
        TvError err = { 0 };
        bool moved = false;

        if (!info->has_tegravirt || !old || strcmp(old, domain) == 0 || !info->owner_uuid || !info->uuid ||
            strcasecmp(info->owner_uuid, info->uuid) != 0 || !domain_has_assignments(d, old) ||
            domain_has_assignments(d, domain) || tv_libvirt_domain_exists(d->libvirt, old, &err) != 0)
                return false;
        for (size_t i = 0; i < d->state.n_entries; i++) {
                TvStateEntry *e = &d->state.entries[i];
                char *name;

                if (!e->domain || strcmp(e->domain, old) != 0 || !(name = strdup(domain)))
                        continue;
                free(e->domain);
                e->domain = name;
                moved = true;
        }
        if (moved && tv_state_save(&d->state, &err) < 0) {
                tv_log(LOG_ERR, "domain %s renamed to %s: %s", old, domain, err.message);
                return false;
        }
        tv_error_clear(&err);
        tv_domain_dtb_update(&d->sync.dtb, old, NULL, NULL, NULL, 0, 0, NULL, &err); /* removes the old name's DTB */
        set_drift(d, old, NULL);
        forget_own_defines(d, old);
        tv_log(LOG_NOTICE, "domain %s was renamed to %s: its device assignments follow it", old, domain);
        return moved;
}

static bool domain_assigned(void *userdata, const char *domain)
{
        return tv_daemon_domain_assigned(userdata, domain);
}

/* The DTBs of domains with no assignment left go. */
static void prune_dtbs(TvDaemon *d)
{
        tv_domain_dtb_prune(&d->sync.dtb, domain_assigned, d);
}

/* Why prepare must refuse a definition tegravirt did not write for this domain; NULL if none. */
static char *foreign_record(TvDaemon *d, const char *domain, const TvDomainInfo *info, bool assigned)
{
        char *msg = NULL;

        if (!info->has_tegravirt)
                return NULL;
        if (info->owner_name && (strcmp(info->owner_name, domain) != 0 ||
                                 (info->owner_uuid && info->uuid && strcasecmp(info->owner_uuid, info->uuid) != 0))) {
                if (asprintf(&msg,
                             "the definition of %s carries the tegravirt record of domain %s (UUID %s): it was copied "
                             "(virt-clone) or renamed while tegravirtd was not watching, and its vfio-platform arguments "
                             "and <dtb> belong to %s; run 'tegravirtctl repair %s' (it takes the assignments over after a "
                             "rename and removes the copied elements otherwise)",
                             domain, info->owner_name, info->owner_uuid ? info->owner_uuid : "unknown",
                             info->owner_name, domain) < 0)
                        msg = NULL;
                return msg;
        }
        if (!assigned && asprintf(&msg,
                                  "domain %s has no device assigned but its definition still carries tegravirt's "
                                  "vfio-platform arguments and <dtb> (copied from another domain?); run 'tegravirtctl "
                                  "repair %s' to remove them",
                                  domain, domain) < 0)
                msg = NULL;
        return msg;
}

/* Domains undefined while something of theirs stayed (see release_undefined). */
static bool undefined_kept(TvDaemon *d, const char *domain)
{
        return tv_strv_contains(d->undefined.v, domain);
}

static void forget_undefined(TvDaemon *d, const char *domain)
{
        for (size_t i = 0; i < d->undefined.n; i++)
                if (strcmp(d->undefined.v[i], domain) == 0) {
                        free(d->undefined.v[i]);
                        d->undefined.v[i] = d->undefined.v[--d->undefined.n];
                        d->undefined.v[d->undefined.n] = NULL;
                        return;
                }
}

/* An undefined domain's assignments go with it (devices and line groups), except what its
 * QEMU may still use: a device still bound, and line groups while its GPIO backend serves
 * a live QEMU of the domain (a running domain undefined runs on as a transient one). Those
 * go at ReleaseDomain (stopped). One pass, one save; true when some stay. */
static bool release_undefined(TvDaemon *d, const char *domain, bool stopped)
{
        const char *what = stopped ? "stopped after its undefine" : "undefined";
        bool keep_lines = !stopped && tv_daemon_gpio_qemu_live(d, domain);
        TvError err = { 0 };
        size_t devices = 0, lines = 0, kept_devices = 0, kept_lines = 0;

        for (size_t i = 0; i < d->state.n_entries; i++) {
                TvStateEntry *e = &d->state.entries[i];
                bool line;

                if (!e->domain || strcmp(e->domain, domain) != 0)
                        continue;
                line = tv_daemon_is_line_group_entry(d, e);
                if (e->binding.phase != TV_PHASE_NONE || (line && keep_lines)) {
                        *(line ? &kept_lines : &kept_devices) += 1;
                        continue;
                }
                tv_audit(&(TvAudit){ "unassign", domain, e->device, e->platform_id, TV_CALLER_DAEMON },
                         "the domain was undefined");
                *(line ? &lines : &devices) += 1;
                free(e->domain);
                e->domain = NULL;
        }
        if (kept_lines)
                tv_log(LOG_NOTICE, "domain %s undefined: its line groups stay with its running QEMU until it stops",
                       domain);
        if (kept_devices && !stopped)
                tv_log(LOG_NOTICE, "domain %s undefined: its devices bound to vfio-platform stay with it until "
                       "ReleaseDomain", domain);
        if (!devices && !lines)
                return kept_devices || kept_lines;
        if (tv_state_save(&d->state, &err) < 0)
                tv_log(LOG_ERR, "domain %s %s: %s", domain, what, err.message);
        /* a backend serves assignments; those released go with their backend (its lines are
         * free then), as ReleaseDomain would: the domain's QEMU is gone or goes without them */
        if (lines && !tv_daemon_domain_has_lines(d, domain))
                tv_backend_stop(&d->gpio_backends, domain, NULL, NULL);
        if (devices && !bpmp_backend_running(d, domain))
                tv_backend_stop(&d->backends, domain, NULL, NULL);
        if (lines)
                tv_log(LOG_NOTICE, "domain %s %s: its line groups were released", domain, what);
        if (devices)
                tv_log(LOG_NOTICE, "domain %s %s: its device assignments were released", domain, what);
        tv_error_clear(&err);
        tv_state_compact(&d->state);
        return kept_devices || kept_lines;
}

void tv_daemon_domain_event(TvDaemon *d, const char *domain, bool undefined)
{
        TvDomainInfo info = { 0 };
        TvError err = { 0 };
        char *xml = NULL;

        if (!tv_domain_name_valid(domain))
                return;
        if (undefined) {
                forget_own_defines(d, domain);
                set_drift(d, domain, NULL);
                bool had_devices = domain_has_assignments(d, domain);

                /* what stays is released when the domain stops (tv_daemon_release) */
                if (release_undefined(d, domain, false) && tv_strv_push_unique(&d->undefined, domain) < 0)
                        tv_log(LOG_ERR, "domain %s undefined: out of memory", domain);
                if (had_devices)
                        prune_dtbs(d);
                return;
        }
        /* defined again (a running transient domain made persistent): its assignments are its own */
        forget_undefined(d, domain);
        /* consumed first: our redefine after the last unassign has no assignments left to check */
        if (take_own_define(d, domain))
                return; /* the event of our own redefine: the XML is what we wrote */
        if (!tv_daemon_domain_assigned(d, NULL))
                return; /* nothing assigned anywhere: no record of ours can matter */
        if (tv_libvirt_get_xml(d->libvirt, domain, &xml, NULL, &err) < 0 ||
            tv_domain_inspect(xml, strlen(xml), &info, &err) < 0) {
                if (domain_has_assignments(d, domain))
                        tv_log(LOG_WARNING, "domain %s redefined, cannot check it: %s", domain, err.message);
        } else if (!domain_has_assignments(d, domain)) {
                char *why;

                if (adopt_rename(d, domain, &info)) {
                        char *name = strdup(domain);
                        bool running = false;
                        int r = name ? tv_domain_sync(&d->sync, domain, on_rename_synced, name, &running, &err)
                                     : tv_error_oom(&err);

                        if (r != 1)
                                on_rename_synced(&d->sync, r, running, &err, name);
                } else if ((why = foreign_record(d, domain, &info, false))) {
                        tv_log(LOG_WARNING, "domain %s: %s", domain, why);
                        free(why);
                }
        } else if (!info.has_tegravirt) {
                set_drift(d, domain,
                          "the definition lost everything tegravirt added (edited by another tool?); call RepairDomain "
                          "(tegravirtctl repair) to restore it");
        } else {
                char *text = NULL;

                /* every drift message says how to get out of it */
                if (info.drift && asprintf(&text, "%s; call RepairDomain (tegravirtctl repair %s) to restore it",
                                           info.drift, domain) < 0)
                        text = NULL;
                set_drift(d, domain, text ? text : info.drift);
                free(text);
                /* vCPUs, memory, machine or emulator may have changed: the DTB follows, or stays refused.
                 * An operation waiting for a job re-reads the definition when the job ends. */
                if (!tv_domain_busy(&d->sync, domain, true) && tv_domain_dtb_check(&d->sync.dtb, domain, xml, &err) < 0) {
                        TvError gerr = { 0 };
                        char *name = strdup(domain);
                        int r = name ? tv_domain_refresh_dtb(&d->sync, domain, on_refreshed, name, &gerr)
                                     : tv_error_oom(&gerr);

                        if (r != 1)
                                on_refreshed(&d->sync, r, false, &gerr, name);
                }
        }
        if (*tv_daemon_domain_drift(d, domain))
                tv_log(LOG_WARNING, "drift: domain %s: %s", domain, tv_daemon_domain_drift(d, domain));
        tv_domain_info_clear(&info);
        free(xml);
}

/* A call that waits for a job: what the bus layer gave us, and what to undo. */
typedef struct OpCall {
        char *domain, *device, *platform_id;
        uid_t caller; /* the D-Bus caller, for the audit record written when the job ends */
        TvDaemonDoneFn done;
        void *userdata;
} OpCall;

static void op_call_free(OpCall *c)
{
        if (!c)
                return;
        free(c->domain);
        free(c->device);
        free(c->platform_id);
        free(c);
}

static OpCall *op_call_new(TvDaemon *d, const char *domain, const TvCatalogDevice *dev, TvDaemonDoneFn done,
                           void *userdata)
{
        OpCall *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->domain = strdup(domain);
        c->device = dev ? strdup(dev->name) : NULL;
        c->platform_id = dev ? strdup(dev->platform_id) : NULL;
        c->caller = d->caller;
        c->done = done;
        c->userdata = userdata;
        if (!c->domain || (dev && (!c->device || !c->platform_id))) {
                op_call_free(c);
                return NULL;
        }
        return c;
}

static void on_repaired(TvDomainSync *s, int r, bool running, TvError *err, void *userdata)
{
        TvDaemon *d = s->userdata;
        OpCall *c = userdata;

        if (r == 0) {
                set_drift(d, c->domain, NULL);
                tv_audit(&(TvAudit){ "repair", c->domain, NULL, NULL, c->caller }, "definition re-synced with the record");
        }
        c->done(d, r, err, c->userdata);
        op_call_free(c);
}

int tv_daemon_repair(TvDaemon *d, const char *domain, TvDaemonDoneFn done, void *userdata, TvError *err)
{
        bool running = false;
        OpCall *c;
        int r;

        if (check_domain(domain, err) < 0)
                return -1;
        if (!tv_libvirt_enabled(d->libvirt))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the libvirt integration is off (LibvirtUri= is empty)");
        if (check_not_busy(d, domain, false, err) < 0)
                return -1;
        /* renamed while we were not watching: the assignments follow the definition */
        if (!domain_has_assignments(d, domain)) {
                TvDomainInfo info = { 0 };
                char *xml = NULL;

                if (tv_libvirt_get_xml(d->libvirt, domain, &xml, NULL, err) < 0 ||
                    tv_domain_inspect(xml, strlen(xml), &info, err) < 0) {
                        tv_domain_info_clear(&info);
                        free(xml);
                        return -1;
                }
                adopt_rename(d, domain, &info);
                tv_domain_info_clear(&info);
                free(xml);
        }
        c = op_call_new(d, domain, NULL, done, userdata);
        if (!c)
                return tv_error_oom(err);
        /* with no assignment this removes every element tegravirt added (a clone's copies) */
        r = tv_domain_sync(&d->sync, domain, on_repaired, c, &running, err);
        if (r == 1)
                return 1;
        op_call_free(c);
        if (r < 0)
                return -1;
        set_drift(d, domain, NULL);
        tv_audit(&(TvAudit){ "repair", domain, NULL, NULL, d->caller }, "definition re-synced with the record");
        return 0;
}

static void on_domain_event(void *userdata, const char *domain, TvDomainEvent event)
{
        TvDaemon *d = userdata;

        tv_daemon_domain_event(d, domain, event == TV_DOMAIN_UNDEFINED);
        if (d->hooks.changed)
                d->hooks.changed(d->hooks.userdata);
}

void tv_daemon_watch_domains(TvDaemon *d)
{
        TvStrv domains = { 0 };

        d->watching = true;
        tv_libvirt_watch_domains(d->libvirt, on_domain_event, d);
        /* What changed while nobody watched (an edit while tegravirtd was down, an upgrade
         * that made a DTB's fingerprint stale) is looked at as if libvirt had just reported
         * each domain with assignments: drift shows, a stale DTB is made again. */
        for (size_t i = 0; i < d->state.n_entries; i++)
                if (d->state.entries[i].domain && tv_strv_push_unique(&domains, d->state.entries[i].domain) < 0)
                        break;
        for (size_t i = 0; i < domains.n; i++)
                on_domain_event(d, domains.v[i], TV_DOMAIN_DEFINED);
        tv_strv_clear(&domains);
}

int tv_daemon_reload(TvDaemon *d, TvError *err)
{
        _cleanup_(tv_catalog_freep) TvCatalog *fresh = NULL;
        _cleanup_free_ TvHostView *view = NULL;
        _cleanup_(tv_libvirt_freep) TvLibvirt *lv = NULL;
        _cleanup_(tv_config_free) TvConfig cfg = { 0 };
        TvCatalog *old = d->catalog;

        if (tv_config_defaults(&cfg) < 0)
                return tv_error_oom(err);
        if (tv_config_load(&cfg, d->config_path, err) < 0 ||
            tv_catalog_load(d->catalog_path, d->catalog_dir, &fresh, err) < 0)
                return -1;
        for (size_t i = 0; i < d->state.n_entries; i++) {
                const TvStateEntry *s = &d->state.entries[i];
                const TvCatalogDevice *nd = tv_catalog_find(fresh, s->device);
                const TvLineGroup *ng = tv_catalog_find_line_group(fresh, s->device);

                if (ng && tv_daemon_is_line_group_entry(d, s))
                        continue; /* its lines may change: it holds nothing on the host yet */
                if (!nd || strcmp(nd->platform_id, s->platform_id) != 0)
                        return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                            "the new catalog drops or moves %s, which is assigned; unassign it first",
                                            s->device);
        }
        view = alloc_views(fresh);
        /* a changed LibvirtUri= gets a new connection; an unchanged one keeps its events and state */
        if (!view || (strcmp(cfg.libvirt_uri ? cfg.libvirt_uri : "", tv_libvirt_uri(d->libvirt)) != 0 &&
                      !(lv = tv_libvirt_new(cfg.libvirt_uri))))
                return tv_error_oom(err);
        if (d->hooks.catalog_prepare && d->hooks.catalog_prepare(d->hooks.userdata, fresh) < 0)
                return tv_error_oom(err);
        /* nothing fails from here on */
        free_views(d->view, old);
        d->view = TAKE_PTR(view);
        d->catalog = TAKE_PTR(fresh);
        tv_config_free(&d->config);
        d->config = cfg;
        cfg = (TvConfig){ 0 };
        d->hostdev_config.qemu_user = d->config.qemu_user;
        d->hostdev_config.qemu_group = d->config.qemu_group;
        d->hostdev_config.allow_unsafe_interrupts = d->config.allow_unsafe_interrupts;
        d->hostdev_config.allow_noiommu = d->config.allow_noiommu;
        warn_noiommu(d);
        if (lv) {
                /* operations waiting for a job go on with the new connection at their next step */
                tv_libvirt_free(d->libvirt);
                d->libvirt = d->sync.libvirt = TAKE_PTR(lv);
                forget_all_own_defines(d); /* their DEFINED events were the old connection's */
                if (d->watching)
                        tv_libvirt_watch_domains(d->libvirt, on_domain_event, d);
                tv_log(LOG_NOTICE, "libvirt integration %s%s",
                       tv_libvirt_enabled(d->libvirt) ? "now through " : "off", tv_libvirt_uri(d->libvirt));
        }
        if (d->hooks.reloaded)
                d->hooks.reloaded(d->hooks.userdata, old);
        tv_catalog_free(old);
        return 0;
}

void tv_daemon_stop(TvDaemon *d)
{
        tv_jobset_cancel(d->jobs, "tegravirtd is stopping");
        tv_backends_cancel(&d->backends);
        tv_backends_cancel(&d->gpio_backends);
}

void tv_daemon_free(TvDaemon *d)
{
        while (d->drifts)
                set_drift(d, d->drifts->domain, NULL);
        forget_all_own_defines(d);
        tv_strv_clear(&d->undefined);
        if (d->catalog)
                free_views(d->view, d->catalog);
        d->view = NULL;
        if (d->catalog)
                tv_catalog_free(d->catalog);
        d->catalog = NULL;
        tv_state_free(&d->state);
        tv_host_close(&d->host);
        tv_libvirt_free(d->libvirt);
        d->libvirt = NULL;
        tv_jobset_free(d->jobs);        /* before what its jobs point to */
        d->jobs = NULL;
        tv_qemu_caps_cache_free(d->qemu_caps);
        d->qemu_caps = NULL;
        free(d->state_dir_abs);
        d->state_dir_abs = NULL;
        tv_backends_free(&d->backends); /* left running: the next start adopts them */
        tv_backends_free(&d->gpio_backends);
        tv_bpmp_active_free(&d->bpmp);
        tv_config_free(&d->config);
}

const TvCatalogDevice *tv_daemon_resolve(TvDaemon *d, const char *token, TvError *err)
{
        const TvCatalogDevice *dev;

        if (!tv_device_token_valid(token)) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "'%.64s' is not a device name: use a catalog name such as uarta or a platform id such as 3100000.serial",
                             token);
                return NULL;
        }
        dev = tv_catalog_find(d->catalog, token);
        if (!dev)
                tv_error_set(err, TV_ERR_NO_SUCH_DEVICE,
                             "no device '%s' in the catalog; 'tegravirtctl list' shows the devices", token);
        return dev;
}


/* The assignment is recorded before the definition changes; a failed change takes it back. */
static int assign_end(TvDaemon *d, const char *domain, const char *device, uid_t caller, int r, bool running)
{
        TvStateEntry *e = tv_state_find(&d->state, device);

        if (r < 0) {
                TvError ignored = { 0 };

                /* only our own record: an undefine may have released it meanwhile */
                if (e && e->domain && strcmp(e->domain, domain) == 0) {
                        free(e->domain);
                        e->domain = NULL;
                        tv_state_save(&d->state, &ignored);
                }
                tv_state_compact(&d->state);
                return -1;
        }
        tv_audit(&(TvAudit){ "assign", domain, device, e ? e->platform_id : NULL, caller }, "%s",
                 running ? "the domain runs: takes effect at its next start" : "assigned");
        return 0;
}

static void on_assign_synced(TvDomainSync *s, int r, bool running, TvError *err, void *userdata)
{
        TvDaemon *d = s->userdata;
        OpCall *c = userdata;

        r = assign_end(d, c->domain, c->device, c->caller, r, running);
        c->done(d, r, err, c->userdata);
        op_call_free(c);
}

static int line_group_op(TvDaemon *d, const char *domain, const TvLineGroup *g, bool unassign, TvDaemonDoneFn done,
                         void *userdata, TvError *err);

int tv_daemon_assign(TvDaemon *d, const char *domain, const char *device, TvDaemonDoneFn done, void *userdata,
                     TvError *err)
{
        const TvCatalogDevice *dev;
        TvStateEntry *e;
        bool running = false;
        OpCall *c;
        int r;

        if (check_domain(domain, err) < 0)
                return -1;
        if (tv_catalog_find_line_group(d->catalog, device))
                return line_group_op(d, domain, tv_catalog_find_line_group(d->catalog, device), false, done,
                                     userdata, err);
        if (!(dev = tv_daemon_resolve(d, device, err)) || check_not_busy(d, domain, false, err) < 0)
                return -1;
        e = tv_state_find(&d->state, dev->name);
        if (e && e->domain) {
                if (strcmp(e->domain, domain) == 0)
                        return 0;
                return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                    "%s is assigned to domain %s; unassign it there first", dev->name, e->domain);
        }
        if (e && e->binding.phase != TV_PHASE_NONE)
                return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                    "%s is still bound to vfio-platform from an earlier assignment; release it first",
                                    dev->name);
        if (!tv_sysfs_device_exists(&d->host, dev->platform_id))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s (%s) is not on this host's platform bus; enable its node in the host device tree",
                                    dev->name, dev->platform_id);
        if (tv_daemon_controller_lines_check(d, dev, err) < 0)
                return -1;
        c = op_call_new(d, domain, dev, done, userdata);
        if (!c)
                return tv_error_oom(err);
        e = tv_state_ensure(&d->state, dev->name, dev->platform_id);
        if (!e) {
                op_call_free(c);
                return tv_error_oom(err);
        }
        e->domain = strdup(domain);
        if (!e->domain || tv_state_save(&d->state, err) < 0) {
                free(e->domain);
                e->domain = NULL;
                tv_state_compact(&d->state);
                op_call_free(c);
                return tv_error_oom(err);
        }
        /* recorded first: a crash before the redefine shows up as drift, never as a lost device;
         * meanwhile the device is taken, so nobody else can assign it */
        r = tv_domain_sync(&d->sync, domain, on_assign_synced, c, &running, err);
        if (r == 1)
                return 1;
        r = assign_end(d, domain, c->device, c->caller, r, running);
        op_call_free(c);
        return r;
}

/* The record drops the assignment first; a failed change of the definition puts it back. */
static int unassign_end(TvDaemon *d, const char *domain, const char *device, const char *platform_id, uid_t caller,
                        int r, TvError *err)
{
        if (r < 0) {
                TvStateEntry *e;
                TvError ignored = { 0 }, lerr = { 0 };

                /* libvirt no longer knows the domain: there is no definition left to edit */
                if (tv_libvirt_domain_exists(d->libvirt, domain, &lerr) == 0) {
                        tv_error_clear(err);
                        tv_state_compact(&d->state);
                        if (!domain_has_assignments(d, domain))
                                set_drift(d, domain, NULL);
                        prune_dtbs(d);
                        tv_audit(&(TvAudit){ "unassign", domain, device, platform_id, caller },
                                 "unassigned from a domain libvirt no longer knows");
                        return 0;
                }
                tv_error_clear(&lerr);
                /* the definition still carries the device: keep the record true, unless someone
                 * took the device meanwhile (then the definition shows as drift) */
                e = tv_state_ensure(&d->state, device, platform_id);
                if (e && !e->domain) {
                        e->domain = strdup(domain);
                        tv_state_save(&d->state, &ignored);
                } else if (e && strcmp(e->domain, domain) != 0) {
                        tv_log(LOG_WARNING, "%s: unassign from %s failed after it went to %s", device,
                                domain, e->domain);
                }
                if (tv_libvirt_ping(d->libvirt, &lerr) < 0) {
                        /* refused rather than queued: the definition must never outlive the record silently */
                        tv_error_clear(err);
                        tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                     "libvirt at %s is unreachable, nothing was changed: %s stays assigned to %s and "
                                     "its definition keeps the device; start libvirtd (or virtqemud) and unassign again",
                                     tv_libvirt_uri(d->libvirt), device, domain);
                }
                tv_error_clear(&lerr);
                return -1;
        }
        tv_state_compact(&d->state);
        tv_audit(&(TvAudit){ "unassign", domain, device, platform_id, caller }, "unassigned");
        return 0;
}

static void on_unassign_synced(TvDomainSync *s, int r, bool running, TvError *err, void *userdata)
{
        TvDaemon *d = s->userdata;
        OpCall *c = userdata;

        r = unassign_end(d, c->domain, c->device, c->platform_id, c->caller, r, err);
        c->done(d, r, err, c->userdata);
        op_call_free(c);
}

/* A line group's (un)assignment is recorded first (daemon-lines.c), then the definition
 * follows: the domain's one GPIO device and shared memory (domain-sync.c). When it cannot,
 * the record goes back: an assignment is dropped (assign_end), an unassignment restored
 * (unassign_end). */
static int lines_synced_end(TvDaemon *d, OpCall *c, bool unassign, int r, TvError *err)
{
        if (r >= 0)
                return 0;
        return unassign ? unassign_end(d, c->domain, c->device, c->platform_id, c->caller, r, err) :
                          assign_end(d, c->domain, c->device, c->caller, r, false);
}

static void on_lines_synced(TvDomainSync *s, int r, bool running, TvError *err, void *userdata)
{
        TvDaemon *d = s->userdata;
        OpCall *c = userdata;

        /* only an unassignment keeps the platform id, to restore the record */
        r = lines_synced_end(d, c, c->platform_id != NULL, r, err);
        c->done(d, r, err, c->userdata);
        op_call_free(c);
}

static OpCall *lines_call_new(TvDaemon *d, const char *domain, const char *group, const char *platform_id,
                              TvDaemonDoneFn done, void *userdata)
{
        OpCall *c = op_call_new(d, domain, NULL, done, userdata);

        if (c && (!(c->device = strdup(group)) || (platform_id && !(c->platform_id = strdup(platform_id))))) {
                op_call_free(c);
                return NULL;
        }
        return c;
}

static int line_group_op(TvDaemon *d, const char *domain, const TvLineGroup *g, bool unassign, TvDaemonDoneFn done,
                         void *userdata, TvError *err)
{
        TvStateEntry *e = tv_state_find(&d->state, g->name);
        bool running = false;
        OpCall *c;
        int r;

        if (check_not_busy(d, domain, false, err) < 0)
                return -1;
        if (!unassign && e && e->domain && strcmp(e->domain, domain) == 0)
                return 0;
        c = lines_call_new(d, domain, g->name, unassign ? (e ? e->platform_id : "") : NULL, done, userdata);
        if (!c)
                return tv_error_oom(err);
        r = unassign ? tv_daemon_unassign_lines(d, domain, g, err) : tv_daemon_assign_lines(d, domain, g, err);
        if (r < 0) {
                op_call_free(c);
                return -1;
        }
        r = tv_domain_sync(&d->sync, domain, on_lines_synced, c, &running, err);
        if (r == 1)
                return 1;
        r = lines_synced_end(d, c, unassign, r, err);
        op_call_free(c);
        return r;
}

int tv_daemon_unassign(TvDaemon *d, const char *domain, const char *device, TvDaemonDoneFn done, void *userdata,
                       TvError *err)
{
        const TvCatalogDevice *dev;
        TvStateEntry *e;
        bool running = false;
        OpCall *c;
        char *old;
        int r;

        if (check_domain(domain, err) < 0)
                return -1;
        if (tv_catalog_find_line_group(d->catalog, device))
                return line_group_op(d, domain, tv_catalog_find_line_group(d->catalog, device), true, done,
                                     userdata, err);
        if (!(dev = tv_daemon_resolve(d, device, err)) || check_not_busy(d, domain, false, err) < 0)
                return -1;
        e = tv_state_find(&d->state, dev->name);
        if (!e || !e->domain)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s is not assigned to any domain", dev->name);
        if (strcmp(e->domain, domain) != 0)
                return tv_error_set(err, TV_ERR_DEVICE_BUSY, "%s is assigned to domain %s, not %s", dev->name,
                                    e->domain, domain);
        if (e->binding.phase != TV_PHASE_NONE)
                return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                    "%s is in use by domain %s (bound to vfio-platform); stop the domain or ReleaseDomain first",
                                    dev->name, domain);
        c = op_call_new(d, domain, dev, done, userdata);
        if (!c)
                return tv_error_oom(err);
        old = e->domain;
        e->domain = NULL;
        if (tv_state_save(&d->state, err) < 0) {
                e->domain = old;
                op_call_free(c);
                return -1;
        }
        free(old);
        r = tv_domain_sync(&d->sync, domain, on_unassign_synced, c, &running, err);
        if (r == 1)
                return 1;
        r = unassign_end(d, domain, c->device, c->platform_id, c->caller, r, err);
        op_call_free(c);
        return r;
}

/* Items for every device assigned to domain, in catalog order (deterministic). */
size_t tv_daemon_domain_devices(TvDaemon *d, const char *domain, const TvCatalogDevice **out)
{
        size_t n = 0;

        for (size_t c = 0; c < d->catalog->n_devices; c++) {
                TvStateEntry *e = tv_state_find(&d->state, d->catalog->devices[c].name);

                if (e && e->domain && strcmp(e->domain, domain) == 0)
                        out[n++] = &d->catalog->devices[c];
        }
        return n;
}

static int domain_items(TvDaemon *d, const char *domain, TvHostdevItem **out, size_t *n_out)
{
        TvHostdevItem *items = calloc(d->state.n_entries ? d->state.n_entries : 1, sizeof(*items));
        size_t n = 0;

        if (!items)
                return -ENOMEM;
        for (size_t c = 0; c < d->catalog->n_devices; c++) {
                TvStateEntry *e = tv_state_find(&d->state, d->catalog->devices[c].name);

                if (!e || !e->domain || strcmp(e->domain, domain) != 0)
                        continue;
                items[n++] = (TvHostdevItem){
                        .platform_id = e->platform_id,
                        .needs_unsafe_interrupts = d->catalog->devices[c].needs_unsafe_interrupts,
                        .binding = &e->binding,
                        .group = -1,
                };
        }
        *out = items;
        *n_out = n;
        return 0;
}

/* The proxy must let the domain's devices have their BPMP resources. */
static int bpmp_check(TvDaemon *d, const char *domain, TvError *err)
{
        _cleanup_free_ const TvCatalogDevice **devs = calloc(d->catalog->n_devices + 1, sizeof(*devs));
        size_t n = devs ? tv_daemon_domain_devices(d, domain, devs) : 0;

        if (!devs)
                return tv_error_oom(err);
        return tv_bpmp_active_check(&d->bpmp, devs, n, err);
}

/* QEMU must be allowed to open what we hand it, or it fails at start with an obscure EPERM. */
static int check_qemu_access(TvDaemon *d, const char *domain, const TvHostdevItem *items, size_t n, TvError *err)
{
        _cleanup_free_ const char **pids = calloc(n, sizeof(char *));

        if (!pids)
                return tv_error_oom(err);
        for (size_t i = 0; i < n; i++)
                pids[i] = items[i].platform_id;
        return tv_qemu_access_check(&d->host, d->config.qemu_conf, pids, n, err);
}

/* The record in the definition lists exactly the devices assigned to domain. */
static bool same_devices(TvDaemon *d, const char *domain, char **listed)
{
        _cleanup_free_ const TvCatalogDevice **devs = calloc(d->catalog->n_devices + 1, sizeof(*devs));
        _cleanup_free_ const TvLineGroup **groups = calloc(d->catalog->n_line_groups + 1, sizeof(*groups));
        size_t n, ng, m = 0;
        bool same = true;

        if (!devs || !groups)
                return true; /* out of memory: no reason to refuse */
        n = tv_daemon_domain_devices(d, domain, devs);
        ng = tv_daemon_domain_line_groups(d, domain, groups);
        for (; listed && listed[m]; m++) {
                bool found = false;

                for (size_t i = 0; i < n && !found; i++)
                        found = strcmp(devs[i]->name, listed[m]) == 0;
                for (size_t i = 0; i < ng && !found; i++)
                        found = strcmp(groups[i]->name, listed[m]) == 0;
                same &= found;
        }
        return same && m == n + ng;
}

/* QEMU must start with what tegravirt wrote for this domain, or with none of it: a definition
 * that lost our -device arguments would run without the devices it was bound for, and one that
 * carries another domain's record would point QEMU at that domain's devices and DTB. */
static int check_definition(TvDaemon *d, const char *domain, const char *xml, TvError *err)
{
        TvDomainInfo info = { 0 };
        bool assigned = domain_has_assignments(d, domain);
        const char *drift = tv_daemon_domain_drift(d, domain);
        _cleanup_free_ char *why = NULL;
        int r = 0;

        if (!tv_libvirt_enabled(d->libvirt))
                return 0; /* plain QEMU: the caller's command line is not ours to check */
        if (xml && *xml) {
                if (tv_domain_inspect(xml, strlen(xml), &info, err) < 0)
                        return -1;
                /* the XML QEMU is about to get is the truth; the recorded drift may predate a fix */
                why = foreign_record(d, domain, &info, assigned);
                if (!info.has_tegravirt)
                        drift = "the definition lost everything tegravirt added (edited by another tool?)";
                else if (assigned && !same_devices(d, domain, info.devices))
                        drift = "the definition was written for other devices than the ones assigned (an older "
                                "copy defined again?)";
                else
                        drift = info.drift ? info.drift : "";
        }
        if (why)
                r = tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s", why);
        else if (assigned && *drift && strstr(drift, "tegravirtctl repair"))
                r = tv_error_set(err, TV_ERR_HOST_NOT_READY, /* a recorded drift already says what to do */
                                 "its definition is not what tegravirt wrote, so QEMU would start without the devices "
                                 "bound for it: %s", drift);
        else if (assigned && *drift)
                r = tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                 "its definition is not what tegravirt wrote (%s), so QEMU would start without the "
                                 "devices bound for it; run 'tegravirtctl repair %s' (RepairDomain) to restore them",
                                 drift, domain);
        tv_domain_info_clear(&info);
        return r;
}

/* hostdev has just read or verified where the device is: the cached view takes that
 * instead of sysfs being read again for the change announcements. group < 0: unknown,
 * the view is read again. */
static void view_set(TvDaemon *d, const char *pid, const char *driver, int group)
{
        const TvCatalogDevice *dev = tv_catalog_find(d->catalog, pid);
        TvHostView *v;
        char *copy = NULL;

        if (!dev)
                return;
        v = &d->view[dev - d->catalog->devices];
        if (group < 0 || (driver && !(copy = strdup(driver)))) {
                v->read_usec = 0;
                return;
        }
        free(v->driver);
        v->driver = copy;
        v->present = true;
        v->group = group;
        v->read_usec = now_usec();
}

/* The items' phases before a prepare or release, so only the devices it changed are audited. */
static TvPhase *phases_of(const TvHostdevItem *items, size_t n)
{
        TvPhase *p = calloc(n ? n : 1, sizeof(*p));

        for (size_t i = 0; p && i < n; i++)
                p[i] = items[i].binding->phase;
        return p;
}

static void audit_items(TvDaemon *d, const char *action, const char *domain, const TvHostdevItem *items,
                        size_t n, const TvPhase *was, TvPhase now, const char *text)
{
        for (size_t i = 0; was && i < n; i++) {
                const TvCatalogDevice *dev = tv_catalog_find(d->catalog, items[i].platform_id);

                if (was[i] != now && items[i].binding->phase == now)
                        tv_audit(&(TvAudit){ action, domain, dev ? dev->name : NULL, items[i].platform_id, d->caller },
                                 "%s", text);
        }
}

/* The domain's runtime record: its own /dev/bpmp-host narrowed to its devices (bpmp-active.h). */
static int open_domain_bpmp(TvDaemon *d, const char *domain, TvError *err)
{
        _cleanup_free_ const TvCatalogDevice **devs = calloc(d->catalog->n_devices + 1, sizeof(*devs));
        size_t n;

        if (!devs)
                return tv_error_oom(err);
        n = tv_daemon_domain_devices(d, domain, devs);
        return tv_bpmp_active_open_domain(&d->bpmp, domain, devs, n, err);
}

/*
 * Gives the domain's devices back to their host drivers in the order the BPMP needs: the
 * domain's narrowed /dev/bpmp-host is closed first (the proxy undoes what it enabled or
 * asserted), then the release is recorded (REATTACHING) and the proxy's active sets are
 * narrowed to what still runs (the kernel's write waits for transfers in flight), and only
 * then do the host drivers get the devices. When the narrowing fails, the record is rolled
 * back and the devices stay on vfio-platform for a retry.
 */
static int release_items(TvDaemon *d, const char *domain, TvHostdevItem *items, size_t n, TvError *err)
{
        _cleanup_free_ TvPhase *was = phases_of(items, n);
        bool any = false;
        TvError e2 = { 0 };
        int r;

        if (!was)
                return tv_error_oom(err);
        /* a backend still running here (a caller that did not stop it first) goes now; its
         * dup of the file closes when it is gone; one waiting to be restarted (or given up
         * on) is forgotten with its socket and record */
        tv_backend_stop(&d->backends, domain, NULL, NULL);
        tv_bpmp_active_close_domain(&d->bpmp, domain);
        for (size_t i = 0; i < n; i++) {
                if (items[i].binding->phase == TV_PHASE_NONE)
                        continue;
                items[i].binding->phase = TV_PHASE_REATTACHING;
                any = true;
        }
        r = any ? record_state(d, true, err) : 0;
        if (r == 0)
                r = tv_bpmp_active_sync(&d->bpmp, &d->state, d->catalog, err);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        items[i].binding->phase = was[i];
                if (any && record_state(d, true, &e2) < 0)
                        tv_log(LOG_ERR, "%s", e2.message); /* the next start rolls the release forward */
                tv_error_clear(&e2);
                if (open_domain_bpmp(d, domain, &e2) < 0 || start_backend(d, domain, &e2) < 0)
                        tv_log(LOG_ERR, "%s", e2.message);
                tv_error_clear(&e2);
                tv_error_prefix(err, "the BPMP host proxy was not narrowed, so the devices stay on vfio-platform "
                                "(release again to retry)");
                return -1;
        }
        r = tv_hostdev_release(&d->hostdev, items, n, err);
        /* a device that could not be reattached is back on vfio-platform for the domain: widen again */
        if (r < 0 && tv_bpmp_active_sync(&d->bpmp, &d->state, d->catalog, &e2) < 0)
                tv_log(LOG_ERR, "%s", e2.message);
        tv_error_clear(&e2);
        return r;
}

/* A GPIO controller not yet on vfio-platform whose host driver has bound since boot: its
 * IRQs would fail in the guest (gpio-hazard.h), so refuse before touching anything. When
 * the kernel does not tell (no debugfs), go on: CheckHost warns about it. */
static int gpio_check(TvDaemon *d, const TvHostdevItem *items, size_t n, TvError *err)
{
        for (size_t i = 0; i < n; i++) {
                const TvCatalogDevice *dev = tv_catalog_find(d->catalog, items[i].platform_id);
                _cleanup_free_ char *why = NULL;
                int r;

                if (!dev || items[i].binding->phase != TV_PHASE_NONE)
                        continue;
                /* phase NONE: no binding of ours, so the record names no unbind */
                r = tv_gpio_controller_hazard(&d->host, dev, tv_daemon_host_view(d, dev)->driver, NULL, &why);
                if (r != 0 && !why)
                        return tv_error_oom(err);
                if (r > 0)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s; to pass it through whole: "
                                            TV_GPIO_HAZARD_FIX, why);
                if (r < 0)
                        tv_log(LOG_WARNING, "%s", why);
        }
        return 0;
}

int tv_daemon_prepare(TvDaemon *d, const char *domain, const char *domain_xml, TvError *err)
{
        _cleanup_free_ TvPhase *was = NULL;
        _cleanup_free_ TvHostdevItem *items = NULL;
        bool bound;
        size_t n;
        int r;

        /* refused rather than queued: the hook's own timeout would expire first */
        if (check_domain(domain, err) < 0 || check_not_busy(d, domain, true, err) < 0 ||
            tv_daemon_prepare_lines_check(d, domain, err) < 0)
                return -1;
        if (domain_xml && *domain_xml) {
                _cleanup_free_ char *name = NULL;

                if (tv_domain_xml_name(domain_xml, strlen(domain_xml), &name, err) < 0)
                        return -1;
                if (strcmp(name, domain) != 0)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "the domain XML describes another domain than %s", domain);
        }
        if (check_definition(d, domain, domain_xml, err) < 0) {
                tv_error_prefix(err, "cannot prepare domain %s", domain);
                return -1;
        }
        if (domain_items(d, domain, &items, &n) < 0)
                return tv_error_oom(err);
        r = n ? check_qemu_access(d, domain, items, n, err) : 0;
        /* the hook hands us the live XML: its machine must be the one the DTB was made for */
        if (r == 0 && n && domain_xml && *domain_xml && tv_libvirt_enabled(d->libvirt))
                r = tv_domain_dtb_check(&d->sync.dtb, domain, domain_xml, err);
        if (r == 0 && n)
                r = bpmp_check(d, domain, err);
        if (r == 0 && n)
                r = gpio_check(d, items, n, err);
        was = r == 0 && n ? phases_of(items, n) : NULL;
        if (r == 0 && n)
                r = tv_hostdev_prepare(&d->hostdev, items, n, err);
        bound = r == 0 && n;
        /* the proxy's active set follows the record: widen it now, then open the domain's own
         * narrowed file; or undo the prepare */
        /* ... and start its BPMP backend on that file: its socket listens before we return */
        if (r == 0 && n && (tv_bpmp_active_sync(&d->bpmp, &d->state, d->catalog, err) < 0 ||
                            open_domain_bpmp(d, domain, err) < 0 || start_backend(d, domain, err) < 0))
                r = -1;
        /* the domain's GPIO lines: its backend requests them; its socket listens too */
        if (r == 0 && tv_daemon_start_gpio_backend(d, domain, err) < 0)
                r = -1;
        if (r < 0 && bound) {
                TvError undo = { 0 };

                if (release_items(d, domain, items, n, &undo) < 0)
                        tv_log(LOG_ERR, "cannot undo the prepare of %s: %s", domain, undo.message);
                tv_error_clear(&undo);
                tv_state_compact(&d->state);
        }
        if (r == 0)
                audit_items(d, "prepare", domain, items, n, was, TV_PHASE_BOUND, "bound to vfio-platform");
        for (size_t i = 0; i < n; i++)
                view_set(d, items[i].platform_id, TV_VFIO_DRIVER, r == 0 ? items[i].group : -1);
        if (r < 0)
                tv_error_prefix(err, "cannot prepare domain %s", domain);
        return r;
}

int tv_daemon_release(TvDaemon *d, const char *domain, TvError *err)
{
        bool known = true;
        char **orig;
        _cleanup_free_ TvPhase *was = NULL;
        _cleanup_free_ TvHostdevItem *items = NULL;
        size_t n;
        int r;

        if (check_domain(domain, err) < 0)
                return -1;
        /* a GPIO backend still running here (a caller that did not stop it first) goes now */
        tv_backend_stop(&d->gpio_backends, domain, NULL, NULL);
        if (domain_items(d, domain, &items, &n) < 0)
                return tv_error_oom(err);
        was = phases_of(items, n);
        orig = calloc(n ? n : 1, sizeof(*orig));
        for (size_t i = 0; orig && i < n; i++)
                if (items[i].binding->orig_driver && !(orig[i] = strdup(items[i].binding->orig_driver)))
                        known = false;
        known = was && orig && known;
        r = release_items(d, domain, items, n, err);
        audit_items(d, "release", domain, items, n, was, TV_PHASE_NONE, "back on its host driver");
        /* a released device was verified back on its original driver; the group stays */
        for (size_t i = 0; i < n; i++) {
                const TvCatalogDevice *dev = tv_catalog_find(d->catalog, items[i].platform_id);
                const TvHostView *v = dev ? &d->view[dev - d->catalog->devices] : NULL;
                bool back = known && was[i] != TV_PHASE_NONE && items[i].binding->phase == TV_PHASE_NONE;

                if (!known || was[i] != TV_PHASE_NONE)
                        view_set(d, items[i].platform_id, back ? orig[i] : NULL,
                                 back && v && v->present ? v->group : -1);
        }
        for (size_t i = 0; orig && i < n; i++)
                free(orig[i]);
        free(orig);
        if (r < 0)
                tv_error_prefix(err, "cannot release domain %s", domain);
        /* undefined while it ran: libvirt forgets the domain as it stops, so what it kept goes
         * now (a device not reattached stays, for the next release) */
        if (undefined_kept(d, domain) && !release_undefined(d, domain, true)) {
                forget_undefined(d, domain);
                prune_dtbs(d);
        }
        tv_state_compact(&d->state);
        replace_stale_backends(d);
        return r;
}

typedef struct ReleaseCall {
        TvDaemon *d;
        char *domain;
        TvDaemonDoneFn done;
        void *userdata;
        uid_t caller;
        unsigned pending;               /* backends still stopping */
        bool cancelled;                 /* one will not stop: tegravirtd is stopping */
} ReleaseCall;

static void on_backend_stopped(void *userdata, bool gone)
{
        ReleaseCall *c = userdata;
        TvError err = { 0 };
        int r;

        c->cancelled |= !gone;
        if (--c->pending)
                return;
        c->d->caller = c->caller;
        if (!c->cancelled)
                r = tv_daemon_release(c->d, c->domain, &err);
        else
                r = tv_error_set(&err, TV_ERR_FAILED, "cannot release domain %s: tegravirtd is stopping", c->domain);
        c->done(c->d, r, &err, c->userdata);
        tv_error_clear(&err);
        free(c->domain);
        free(c);
}

int tv_daemon_release_async(TvDaemon *d, const char *domain, TvDaemonDoneFn done, void *userdata, TvError *err)
{
        ReleaseCall *c;

        if (check_domain(domain, err) < 0)
                return -1;
        if (!tv_backend_pid(&d->backends, domain) && !tv_backend_pid(&d->gpio_backends, domain))
                return tv_daemon_release(d, domain, err);
        c = calloc(1, sizeof(*c));
        if (!c || !(c->domain = strdup(domain))) {
                free(c);
                return tv_error_oom(err);
        }
        *c = (ReleaseCall){ d, c->domain, done, userdata, d->caller, 0, false };
        /* the GPIO backend's lines are free once it is gone; stopped calls come from the loop */
        if (tv_backend_stop(&d->gpio_backends, domain, on_backend_stopped, c) > 0)
                c->pending++;
        if (tv_backend_stop(&d->backends, domain, on_backend_stopped, c) > 0)
                c->pending++;
        if (c->pending)
                return 1;
        free(c->domain);
        free(c);
        return tv_daemon_release(d, domain, err);
}

/* The device is on the driver and override the record says it had before the step began. */
static bool still_as_found(TvDaemon *d, const TvStateEntry *e)
{
        _cleanup_free_ char *drv = NULL, *ovr = NULL;

        return tv_sysfs_get_driver(&d->host, e->platform_id, &drv) == 0 &&
               tv_sysfs_get_override(&d->host, e->platform_id, &ovr) == 0 &&
               !drv == !e->binding.orig_driver && (!drv || strcmp(drv, e->binding.orig_driver) == 0) &&
               !ovr == !e->binding.orig_override && (!ovr || strcmp(ovr, e->binding.orig_override) == 0);
}

/* Backends a previous tegravirtd started: adopted while their domain runs, else stopped;
 * a running domain without one gets one. */
static void adopt_backends(TvDaemon *d)
{
        size_t n = 0;
        const char **names;

        for (TvBpmpDomain *bd = d->bpmp.domains; bd; bd = bd->next)
                n++;
        names = calloc(n + 1, sizeof(*names));
        if (!names)
                return;
        n = 0;
        for (TvBpmpDomain *bd = d->bpmp.domains; bd; bd = bd->next)
                if (bd->fd >= 0)
                        names[n++] = bd->domain;
        backend_user(d);
        tv_backend_adopt(&d->backends, names, n);
        /* a GPIO backend's record says its domain was prepared and not released */
        tv_backend_adopt(&d->gpio_backends, NULL, 0);
        free(names);
}

void tv_daemon_reconcile(TvDaemon *d)
{
        TvError serr = { 0 };

        /* an interrupted release (REATTACHING) is rolled forward below: the proxy must stop
         * allowing its resources before the host driver gets the device */
        if (tv_bpmp_active_sync(&d->bpmp, &d->state, d->catalog, &serr) < 0)
                tv_log(LOG_ERR, "reconcile: %s", serr.message);
        tv_error_clear(&serr);
        for (size_t i = 0; i < d->state.n_entries; i++) {
                TvStateEntry *e = &d->state.entries[i];
                TvHostdevItem it = { .platform_id = e->platform_id, .binding = &e->binding };
                TvError err = { 0 };
                char *drift = NULL;
                TvPhase was = e->binding.phase;
                bool untouched;

                if (!tv_catalog_find(d->catalog, e->device) && !tv_catalog_find_line_group(d->catalog, e->device))
                        tv_log(LOG_WARNING, "state: %s (%s) is no longer in the catalog; its record is kept",
                                e->device, e->platform_id);
                if (was == TV_PHASE_NONE)
                        continue;
                untouched = was != TV_PHASE_BOUND && still_as_found(d, e);
                if (tv_hostdev_recover(&d->hostdev, &it, &drift, &err) < 0)
                        tv_log(LOG_ERR, "reconcile: %s: %s", e->device, err.message);
                else if (untouched)
                        tv_log(LOG_NOTICE, "reconcile: %s: interrupted %s step: the device was still (or "
                                "again) as recorded before it, nothing to roll back; record cleared",
                                e->device, tv_phase_to_string(was));
                else if (was != TV_PHASE_BOUND)
                        tv_audit(&(TvAudit){ "reconcile", e->domain, e->device, e->platform_id, TV_CALLER_DAEMON },
                                 "interrupted %s step rolled back, host driver restored", tv_phase_to_string(was));
                else if (e->binding.phase == TV_PHASE_NONE)
                        tv_audit(&(TvAudit){ "reconcile", e->domain, e->device, e->platform_id, TV_CALLER_DAEMON },
                                 "not on vfio-platform as recorded: recorded host driver restored");
                else if (!drift)
                        tv_log(LOG_INFO, "reconcile: %s: adopted, still bound to vfio-platform for %s",
                                e->device, e->domain ? e->domain : "(no domain)");
                if (drift)
                        tv_log(LOG_WARNING, "drift: %s", drift);
                free(drift);
        }
        tv_state_compact(&d->state);
        for (size_t c = 0; c < d->catalog->n_devices; c++) {
                const TvCatalogDevice *dev = &d->catalog->devices[c];
                TvStateEntry *e = tv_state_find(&d->state, dev->name);
                char *drv = NULL;

                if (tv_sysfs_get_driver(&d->host, dev->platform_id, &drv) == 0 && drv &&
                    strcmp(drv, TV_VFIO_DRIVER) == 0 && (!e || e->binding.phase == TV_PHASE_NONE))
                        tv_log(LOG_NOTICE, "%s (%s) is bound to vfio-platform by someone else; left alone",
                                dev->name, dev->platform_id);
                free(drv);
        }
        {
                TvError err = { 0 };

                if (tv_bpmp_active_sync(&d->bpmp, &d->state, d->catalog, &err) < 0)
                        tv_log(LOG_ERR, "reconcile: %s", err.message);
                tv_error_clear(&err);
                /* the domains still running get their own narrowed files again */
                tv_bpmp_active_open_running(&d->bpmp, &d->state, d->catalog);
                adopt_backends(d);
        }
        prune_dtbs(d);
}

const char *tv_daemon_device_domain(TvDaemon *d, const TvCatalogDevice *dev)
{
        TvStateEntry *e = tv_state_find(&d->state, dev->name);

        return e && e->domain ? e->domain : "";
}

const char *tv_daemon_device_state(TvDaemon *d, const TvCatalogDevice *dev, const char **driver, int *group)
{
        const TvHostView *v = tv_daemon_host_view(d, dev);
        TvStateEntry *e = tv_state_find(&d->state, dev->name);
        TvPhase phase = e ? e->binding.phase : TV_PHASE_NONE;

        if (driver)
                *driver = v->driver;
        if (group)
                *group = v->group;
        if (!v->present)
                return TV_STATE_MISSING;
        if (phase == TV_PHASE_DETACHING || phase == TV_PHASE_REATTACHING)
                return TV_STATE_TRANSITION;
        if (v->driver && strcmp(v->driver, TV_VFIO_DRIVER) == 0)
                return phase == TV_PHASE_BOUND ? TV_STATE_ACTIVE : TV_STATE_FOREIGN;
        if (phase == TV_PHASE_BOUND)
                return TV_STATE_TRANSITION; /* recorded bound, not on vfio: drift */
        return e && e->domain ? TV_STATE_ASSIGNED : TV_STATE_AVAILABLE;
}

const char *tv_daemon_unsafe_interrupts(TvDaemon *d)
{
        char *v = NULL;
        bool on = tv_sysfs_param_read(&d->host, "vfio_iommu_type1", "allow_unsafe_interrupts", &v) == 0 &&
                  strcmp(v, "Y") == 0;

        free(v);
        if (on)
                return "enabled";
        return d->config.allow_unsafe_interrupts ? "allowed" : "disabled";
}
