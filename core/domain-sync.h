/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeps a libvirt domain's persistent definition in step with its assignments:
 * -device vfio-platform args, <os><dtb>, guest kernel args and our metadata.
 * libvirt ignores hook output at start, so this happens at assign time.
 */
#pragma once
#include "daemon.h"

typedef struct TvDomainOp TvDomainOp;

/* Path reserved for the domain's generated guest DTB: <state-dir>/domains/<domain>.dtb */
char *tv_domain_dtb_path(TvDaemon *d, const char *domain);

/* A domain operation that waited for a job ends: r is 0 or -1 (err); running tells
 * whether the change waits for the domain's next start. */
typedef void (*TvSyncDoneFn)(TvDaemon *d, int r, bool running, TvError *err, void *userdata);

/* Rewrites and redefines the domain for its current assignments (none: reverts
 * everything tegravirt added). No-op when libvirt integration is disabled.
 * A QEMU probe or dumpdtb the change needs runs as a job (job.h), and the domain is
 * re-read and redefined when it ends. Returns 0 or -1 (err) when done at once, with
 * *running; 1 when waiting for a job: done is called once from the event loop, and
 * until then tv_domain_busy() is true for the domain. */
int tv_domain_sync(TvDaemon *d, const char *domain, TvSyncDoneFn done, void *userdata, bool *running, TvError *err);

/* Rewrites the domain's DTB for its current machine (as libvirt has it now), without
 * redefining the domain: its tegravirt elements are unchanged. Returns as tv_domain_sync. */
int tv_domain_refresh_dtb(TvDaemon *d, const char *domain, TvSyncDoneFn done, void *userdata, TvError *err);

/* An operation on domain waits for a job. */
/* An operation on domain waits for a job; with_refresh: the daemon's own DTB refresh after a
 * redefinition counts too. A caller's assign, unassign or repair may run beside a refresh:
 * each step re-reads the definition and the record, and the refresh only rewrites the DTB. */
bool tv_domain_busy(TvDaemon *d, const char *domain, bool with_refresh);

/* Removes every <state-dir>/domains/<domain>.dtb (and .fingerprint) of a domain that has
 * no assignment left: a renamed, undefined or unassigned domain's leftovers. */
void tv_domain_dtb_prune(TvDaemon *d);
