/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeps the BPMP host proxy's active sets at what the running domains' devices need. */
#pragma once
#include "daemon.h"

/* Whether the proxy lets these devices' guests use every BPMP resource they need:
 * -1 with HostNotReady naming device and resource when not, or naming the proxy when
 * it has no runtime narrowing (then err says "cannot narrow"). */
int tv_daemon_bpmp_check_devices(TvDaemon *d, const TvCatalogDevice *const *devs, size_t n, TvError *err);

/* Refuses (HostNotReady) to prepare a domain when one of its devices needs a BPMP
 * clock, reset or power domain outside the proxy's DT ceiling, or needs the proxy and
 * the host has none; the message names the device and the resource. Changes nothing. */
int tv_daemon_bpmp_check(TvDaemon *d, const char *domain, TvError *err);

/* Sets the proxy's active clocks, resets and power domains to the union of the catalog
 * resources of every device bound (or being bound) for a domain, as the state records
 * it; so it follows every prepare and release and is redone at start-up. Nothing to do
 * without a proxy or with one that cannot narrow. */
int tv_daemon_bpmp_sync(TvDaemon *d, TvError *err);

/* Drops the cached proxy (its fds); the next check or sync finds it again. */
void tv_daemon_bpmp_forget(TvDaemon *d);
