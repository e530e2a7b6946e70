/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeps a libvirt domain's persistent definition in step with its assignments:
 * -device vfio-platform args, <os><dtb>, guest kernel args and our metadata.
 * libvirt ignores hook output at start, so this happens at assign time.
 */
#pragma once
#include "daemon.h"

/* Path reserved for the domain's generated guest DTB: <state-dir>/domains/<domain>.dtb */
char *tv_domain_dtb_path(TvDaemon *d, const char *domain);

/* Rewrites and redefines the domain for its current assignments (none: reverts
 * everything tegravirt added). No-op when libvirt integration is disabled.
 * *running tells whether the change waits for the next start. */
int tv_domain_sync(TvDaemon *d, const char *domain, bool *running, TvError *err);

/* Rewrites the domain's DTB for its current machine (xml: the definition libvirt just
 * reported), without redefining the domain: its tegravirt elements are unchanged. */
int tv_domain_refresh_dtb(TvDaemon *d, const char *domain, const char *xml, TvError *err);

/* Removes every <state-dir>/domains/<domain>.dtb (and .fingerprint) of a domain that has
 * no assignment left: a renamed, undefined or unassigned domain's leftovers. */
void tv_domain_dtb_prune(TvDaemon *d);
