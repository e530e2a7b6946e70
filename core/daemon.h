/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's state and the operations behind the D-Bus methods (no sd-bus here). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include "bpmp-active.h"
#include "bpmp-backend.h"
#include "gpio-backend.h"
#include "catalog.h"
#include "daemon-config.h"
#include "domain-sync.h"
#include "hostdev.h"
#include "libvirt-conn.h"
#include "state.h"
#include "sysfs.h"
#include "tv-error.h"
#include "tv-strv.h"

/* A domain whose definition lost what tegravirt put there (virsh edit, virt-manager). */
typedef struct TvDomainDrift {
        char *domain;
        char *text;
        struct TvDomainDrift *next;
} TvDomainDrift;

/* What sysfs said about one catalog device, cached so reads do not hit sysfs every call. */
typedef struct TvHostView {
        bool present;
        char *driver;           /* NULL when unbound */
        int group;              /* -1 when none */
        uint64_t read_usec;     /* CLOCK_MONOTONIC of the read; 0 = must re-read */
} TvHostView;

/* A cached view older than this is re-read on the next request (no timers: idle stays idle). */
#define TV_VIEW_MAX_AGE_USEC (250 * 1000)

/* We redefined this domain: its next `pending` DEFINED events are ours, not edits. */
typedef struct TvOwnDefine {
        char *domain;
        unsigned pending;
        struct TvOwnDefine *next;
} TvOwnDefine;

/* What the layer above (the bus service) registered to hear; core never calls up otherwise. */
typedef struct TvDaemonHooks {
        /* A reload is about to replace the catalog by fresh: make room for its devices, or
         * return <0 to refuse the reload (nothing changed yet). */
        int (*catalog_prepare)(void *userdata, const TvCatalog *fresh);
        /* A reload replaced the catalog (old is valid during the call) and the configuration. */
        void (*reloaded)(void *userdata, const TvCatalog *old);
        /* libvirt told us about a domain and its devices' state or drift may have changed. */
        void (*changed)(void *userdata);
        void *userdata;
} TvDaemonHooks;

typedef struct TvDaemon {
        /* paths (defaults are the real ones; tests redirect them) */
        const char *sysfs_root;
        const char *dev_root;
        const char *state_dir;
        const char *catalog_path;
        const char *catalog_dir;
        const char *config_path;
        const char *run_dir;            /* runtime files: the BPMP backends' sockets and records */
        const char *bpmp_backend_path;  /* tegravirt-bpmp-backend */
        const char *gpio_backend_path;  /* tegravirt-gpio-backend */

        char *state_dir_abs;            /* absolute: it ends up in domain XML */

        TvCatalog *catalog;
        TvConfig config;
        TvHostdevConfig hostdev_config;
        TvHost host;
        TvState state;
        TvHostdev hostdev;

        TvLibvirt *libvirt;             /* rebuilt by a reload that changes LibvirtUri= */
        TvQemuCapsCache *qemu_caps;
        TvJobSet *jobs;                 /* QEMU probes and dumps the event loop watches */
        TvDomainSync sync;              /* domain operations (and those waiting for a job) */

        sd_event *event;
        TvHostView *view;               /* per catalog device */
        TvDomainDrift *drifts;
        struct TvOwnDefine *own_defines;
        /* domains libvirt undefined that keep assignments their QEMU may still use (bound
         * devices, line groups of a running transient domain): released at ReleaseDomain */
        TvStrv undefined;
        TvBpmpActive bpmp;              /* the BPMP host proxy as last found */
        TvBackendProcs backends;        /* one tegravirt-bpmp-backend per domain holding a BPMP file */
        TvBackendProcs gpio_backends;   /* one tegravirt-gpio-backend per running domain with line groups */
        unsigned backends_resyncs;      /* bpmp.resyncs the backends' files date from */
        bool watching;                  /* libvirt domain events are delivered (tv_daemon_watch_domains) */
        TvDaemonHooks hooks;
        uid_t caller;                   /* D-Bus caller of the running operation, for the audit trail */
} TvDaemon;

/* Loads config, catalog and state and opens the roots. */
int tv_daemon_init(TvDaemon *d, TvError *err);
void tv_daemon_free(TvDaemon *d);
/* Reloads the configuration and the catalog (SIGHUP) and rebuilds what they change: the
 * cached host views, the hostdev settings, and the libvirt connection when LibvirtUri=
 * changed (its domain events follow it). Refuses (keeping everything) a catalog that drops
 * or moves an assigned device, or a file that does not load. */
int tv_daemon_reload(TvDaemon *d, TvError *err);
/* Delivers libvirt's define/undefine events to tv_daemon_domain_event, then hooks.changed. */
void tv_daemon_watch_domains(TvDaemon *d);
/* Start-up reconciliation of the record with sysfs; logs drift. */
void tv_daemon_reconcile(TvDaemon *d);

/* The catalog devices assigned to domain, in catalog order (the -device order guest
 * addresses follow). out holds at least catalog->n_devices entries. */
size_t tv_daemon_domain_devices(TvDaemon *d, const char *domain, const TvCatalogDevice **out);

/* Whether any device is assigned to domain (NULL: to any domain). */
bool tv_daemon_domain_assigned(TvDaemon *d, const char *domain);

/* Resolves a catalog name or platform id, validating it first. */
const TvCatalogDevice *tv_daemon_resolve(TvDaemon *d, const char *token, TvError *err);

/* An operation that waited for a job (a QEMU probe, dumpdtb) ends: r is 0 or -1 (err). */
typedef void (*TvDaemonDoneFn)(TvDaemon *d, int r, TvError *err, void *userdata);

/* Assign, unassign and repair return 0 or -1 (err) when done at once, or 1 when they
 * wait for a job: done is called once, later, from the event loop. Meanwhile other
 * calls for the domain (but ReleaseDomain) are refused with TV_ERR_DOMAIN_BUSY. */
int tv_daemon_assign(TvDaemon *d, const char *domain, const char *device, TvDaemonDoneFn done, void *userdata,
                     TvError *err);
int tv_daemon_unassign(TvDaemon *d, const char *domain, const char *device, TvDaemonDoneFn done, void *userdata,
                       TvError *err);
int tv_daemon_prepare(TvDaemon *d, const char *domain, const char *domain_xml, TvError *err);
/* ReleaseDomain: stops the domain's BPMP backend (SIGTERM, SIGKILL after a timeout; the
 * loop keeps running), then tv_daemon_release. 0/-1 at once when it had none, else 1 and
 * done is called later. */
int tv_daemon_release_async(TvDaemon *d, const char *domain, TvDaemonDoneFn done, void *userdata, TvError *err);
int tv_daemon_release(TvDaemon *d, const char *domain, TvError *err);
/* libvirt's "started" hook: the domain's QEMU runs (its pid in <LibvirtQemuRunDir>/<domain>.pid,
 * a live process of the QEMU user) and its BPMP backend now serves that process only
 * (core/qemu-peer.c). 0 and nothing done for a domain without BPMP devices; -1 with
 * HostNotReady when the pid cannot be read or checked, or no backend runs. */
int tv_daemon_domain_started(TvDaemon *d, const char *domain, TvError *err);

/* Forgets the cached host view of every device assigned to domain (NULL: all). */
void tv_daemon_invalidate_view(TvDaemon *d, const char *domain);
const TvHostView *tv_daemon_host_view(TvDaemon *d, const TvCatalogDevice *dev);
/* State of one device; *driver (may be NULL) points into the cached view. */
const char *tv_daemon_device_state(TvDaemon *d, const TvCatalogDevice *dev, const char **driver, int *group);
const char *tv_daemon_device_domain(TvDaemon *d, const TvCatalogDevice *dev);
/* "" when the domain's definition carries everything tegravirt added. */
const char *tv_daemon_domain_drift(TvDaemon *d, const char *domain);
/* libvirt told us a domain was (re)defined or undefined. */
void tv_daemon_domain_event(TvDaemon *d, const char *domain, bool undefined);
/* Re-applies tegravirt's elements to the domain's definition and clears its drift. */
int tv_daemon_repair(TvDaemon *d, const char *domain, TvDaemonDoneFn done, void *userdata, TvError *err);
/* Shutdown: kills and reaps running jobs; the calls waiting for them fail (TV_ERR_FAILED). */
void tv_daemon_stop(TvDaemon *d);

/* GPIO line groups (daemon-lines.c). A group is assigned like a device (AssignDevice) and
 * recorded in the state with the platform id "lines:<controller's platform id>"; the
 * definition gets the domain's one vhost-user GPIO device and shared memory (domain-sync.c),
 * so it counts for tv_daemon_domain_assigned() like a device. */
#define TV_LINE_GROUP_PID_PREFIX "lines:"
bool tv_daemon_is_line_group_entry(const TvDaemon *d, const TvStateEntry *e);
int tv_daemon_assign_lines(TvDaemon *d, const char *domain, const TvLineGroup *g, TvError *err);
int tv_daemon_unassign_lines(TvDaemon *d, const char *domain, const TvLineGroup *g, TvError *err);
const char *tv_daemon_line_group_domain(TvDaemon *d, const TvLineGroup *g);
/* The line groups assigned to domain, in assignment order (the state's order): out has room
 * for the catalog's n_line_groups. Their lines, in this order, are the guest's GPIO lines
 * 0, 1, ... (the domain's DTB and the backend's --line order). */
size_t tv_daemon_domain_line_groups(TvDaemon *d, const char *domain, const TvLineGroup **out);
/* A whole controller cannot go to a domain while lines of it are assigned: -1 (err naming
 * the group and its domain) or 0. */
int tv_daemon_controller_lines_check(TvDaemon *d, const TvCatalogDevice *dev, TvError *err);
/* The host's side of a line group: its controller on its host driver, a gpiochip, and no
 * line the host uses (GPIO uAPI line info); -1 with err naming the consumer, or 0. */
int tv_daemon_line_group_hazard(TvDaemon *d, const TvLineGroup *g, TvError *err);
/* PrepareDomain of a domain holding line groups: their hazards (above). */
int tv_daemon_prepare_lines_check(TvDaemon *d, const char *domain, TvError *err);
/* Whether domain holds a line group. */
bool tv_daemon_domain_has_lines(TvDaemon *d, const char *domain);
/* The domain's GPIO backend (gpio-backend.h) at PrepareDomain, when it holds line groups:
 * its socket listens when this returns 0; -1 with err, nothing left behind. */
int tv_daemon_start_gpio_backend(TvDaemon *d, const char *domain, TvError *err);
/* TvBackendProcs callbacks of the GPIO backends: the domain still holds lines; the
 * controllers' chip fds and --line arguments; the answer to "peer <pid>". */
bool tv_daemon_gpio_backend_running(void *userdata, const char *domain);
int tv_daemon_gpio_backend_args(void *userdata, const char *domain, TvBackendArgs *a, TvError *err);
bool tv_daemon_gpio_backend_control(void *userdata, const char *domain, pid_t qemu, const char *line, char *buf,
                                    size_t size);
/* Whether pid may talk to domain's backends: a live process of the QEMU user whose -name
 * is guest=<domain>[,...], or the QEMU pid DomainStarted named (qemu). */
bool tv_daemon_qemu_peer_ok(TvDaemon *d, const char *domain, pid_t pid, pid_t qemu);
/* Whether domain's GPIO backend serves a QEMU of the domain (named by DomainStarted) that
 * still runs: a live process of the QEMU user whose -name is the domain's. */
bool tv_daemon_gpio_qemu_live(TvDaemon *d, const char *domain);

/* "disabled" (config forbids), "allowed" (we may enable), "enabled" (host has it on). */
const char *tv_daemon_unsafe_interrupts(TvDaemon *d);
