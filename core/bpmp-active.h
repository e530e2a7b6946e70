/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeps the BPMP host proxy's active sets at what the running domains' devices need. */
#pragma once
#include "bpmp-proxy.h"
#include "catalog.h"
#include "state.h"

/*
 * The runtime record of a running domain whose devices need the BPMP: its own /dev/bpmp-host
 * file, narrowed (sealed) to exactly those devices' clocks, resets, power domains and parent
 * clocks. It is what the domain's BPMP backend will be handed (the bridge issue after issue
 * 12); until then tegravirtd keeps it open for as long as the domain runs.
 */
typedef struct TvBpmpDomain {
        char *domain;
        int fd;
        struct TvBpmpDomain *next;
} TvBpmpDomain;

typedef struct TvBpmpActive {
        TvHost *host;                   /* not owned */
        char *pid;                      /* where the proxy was last found */
        TvBpmpProxy *proxy;             /* the proxy as last found */
        TvBpmpDomain *domains;          /* one per running domain that needs the BPMP */
        /* what the active sets held after our last sync; NULL before the first one. A proxy
         * found holding something else was re-bound (a fresh probe starts empty). */
        TvIdSet *synced;
        unsigned resyncs;               /* times that happened since start-up */
        char *resync_text;              /* the last time, for CheckHost */
} TvBpmpActive;

/* Whether the proxy lets these devices' guests use every BPMP resource they need:
 * -1 with HostNotReady naming device and resource when not, or naming the proxy when
 * it has no runtime narrowing (then err says "cannot narrow"). */
int tv_bpmp_active_check_devices(TvBpmpActive *b, const TvCatalogDevice *const *devs, size_t n, TvError *err);

/* Refuses (HostNotReady) to prepare a domain with these devices when one needs a BPMP
 * clock, reset or power domain outside the proxy's DT ceiling, or needs the proxy and
 * the host has none; the message names the device and the resource. A proxy that cannot
 * narrow is accepted (tv_bpmp_active_sync warns). Changes nothing. */
int tv_bpmp_active_check(TvBpmpActive *b, const TvCatalogDevice *const *devs, size_t n, TvError *err);

/* Sets the proxy's active clocks, resets and power domains to the union of the catalog
 * resources of every device bound (or being bound) for a domain, as state records
 * it; a device whose release began (REATTACHING) no longer counts, so a release narrows
 * before the host driver gets the device back. It follows every prepare and release and
 * is redone at start-up. When the proxy no longer holds what the last sync left (it was
 * re-bound and started empty) the sets are rewritten and every running domain's file is
 * opened again (the old ones give ENODEV). The kernel's write returns once no transfer
 * checked against the old set is still running. Nothing to do without a proxy or with
 * one that cannot narrow. */
int tv_bpmp_active_sync(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvError *err);

/* Opens domain's runtime record: a fresh /dev/bpmp-host narrowed to exactly what devs need
 * (RESTRICT, verified with GET_IDS). Call it once the active sets include the domain.
 * Nothing to do (0) when no device needs the BPMP or the proxy cannot narrow at all (an
 * older proxy, warned about by the sync). -1 with HostNotReady when the proxy has no
 * ioctl ABI or the node is missing. Replaces a record the domain had. */
int tv_bpmp_active_open_domain(TvBpmpActive *b, const char *domain, const TvCatalogDevice *const *devs, size_t n,
                               TvError *err);
/* Closes domain's file (the kernel undoes whatever it enabled, asserted or powered on);
 * true when it had one. */
bool tv_bpmp_active_close_domain(TvBpmpActive *b, const char *domain);
/* The domain's narrowed file, -1 when it has none. */
int tv_bpmp_active_domain_fd(const TvBpmpActive *b, const char *domain);
/* Opens the record of every domain state shows bound that has none (start-up, and after
 * the proxy was re-bound); failures are logged. */
void tv_bpmp_active_open_running(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog);
/* For CheckHost: whether the proxy's active sets are what the running domains need and
 * each of them holds its file (0), else -1 with err saying what is off. */
int tv_bpmp_active_verify(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvError *err);

/* Drops the cached proxy (its fds); the next check or sync finds it again. */
void tv_bpmp_active_forget(TvBpmpActive *b);
/* Drops everything (shutdown), closing the domains' files. */
void tv_bpmp_active_free(TvBpmpActive *b);
