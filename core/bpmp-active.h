/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeps the BPMP host proxy's active sets at what the running domains' devices need. */
#pragma once
#include "bpmp-proxy.h"
#include "catalog.h"
#include "state.h"

typedef struct TvBpmpActive {
        TvHost *host;                   /* not owned */
        char *pid;                      /* where the proxy was last found */
        TvBpmpProxy *proxy;             /* the proxy as last found */
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
 * it; so it follows every prepare and release and is redone at start-up. Nothing to do
 * without a proxy or with one that cannot narrow. */
int tv_bpmp_active_sync(TvBpmpActive *b, const TvState *state, const TvCatalog *catalog, TvError *err);

/* Drops the cached proxy (its fds); the next check or sync finds it again. */
void tv_bpmp_active_forget(TvBpmpActive *b);
/* Drops everything (shutdown). */
void tv_bpmp_active_free(TvBpmpActive *b);
