/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeps a libvirt domain's persistent definition in step with its assignments:
 * -device vfio-platform args, <os><dtb>, guest kernel args and our metadata; for GPIO line
 * groups the vhost-user GPIO device (gpio-guest.h) and shared memfd guest memory.
 * libvirt ignores hook output at start, so this happens at assign time.
 * It knows nothing of the daemon: the assignments come through domain_devices.
 */
#pragma once
#include <stdbool.h>
#include "catalog.h"
#include "daemon-config.h"
#include "domain-dtb.h"
#include "libvirt-conn.h"
#include "qemu-caps.h"

typedef struct TvDomainOp TvDomainOp;

typedef struct TvDomainSync {
        TvLibvirt *libvirt;             /* not owned; follows a reload (LibvirtUri=) */
        TvQemuCapsCache *qemu_caps;     /* not owned */
        TvDtbStore dtb;                 /* the state dir and the jobs that run QEMU */
        const TvConfig *config;         /* BpmpBridge=, Emulator=, as loaded now */
        const char *run_dir;            /* the BPMP and GPIO backends' sockets (bpmp-, gpio-backend.h) */
        /* The devices assigned to domain now, in catalog order (the -device order guest addresses
         * follow): a malloc'ed array in *devs, *n of them; -1 when out of memory. Asked again at
         * every step, so an assignment that changed while a job ran is seen. */
        int (*domain_devices)(void *userdata, const char *domain, const TvCatalogDevice ***devs, size_t *n);
        /* The GPIO line groups assigned to domain now, in assignment order (their lines, in
         * order, are the guest's dense line numbers, as the GPIO backend gets them): a malloc'ed
         * array in *groups; -1 when out of memory. NULL: no line groups. */
        int (*domain_lines)(void *userdata, const char *domain, const TvLineGroup ***groups, size_t *n);
        /* We just redefined domain: its next DEFINED event is ours, not an edit. */
        void (*own_define)(void *userdata, const char *domain);
        void *userdata;
        TvDomainOp *ops;                /* operations waiting for a job */
} TvDomainSync;

/* A domain operation that waited for a job ends: r is 0 or -1 (err); running tells
 * whether the change waits for the domain's next start. */
typedef void (*TvSyncDoneFn)(TvDomainSync *s, int r, bool running, TvError *err, void *userdata);

/* Rewrites and redefines the domain for its current assignments (none: reverts
 * everything tegravirt added). No-op when libvirt integration is disabled.
 * A QEMU probe or dumpdtb the change needs runs as a job (job.h), and the domain is
 * re-read and redefined when it ends. Returns 0 or -1 (err) when done at once, with
 * *running; 1 when waiting for a job: done is called once from the event loop, and
 * until then tv_domain_busy() is true for the domain. */
int tv_domain_sync(TvDomainSync *s, const char *domain, TvSyncDoneFn done, void *userdata, bool *running,
                   TvError *err);

/* Rewrites the domain's DTB for its current machine (as libvirt has it now), without
 * redefining the domain: its tegravirt elements are unchanged. Returns as tv_domain_sync. */
int tv_domain_refresh_dtb(TvDomainSync *s, const char *domain, TvSyncDoneFn done, void *userdata, TvError *err);

/* An operation on domain waits for a job; with_refresh: the daemon's own DTB refresh after a
 * redefinition counts too. A caller's assign, unassign or repair may run beside a refresh:
 * each step re-reads the definition and the record, and the refresh only rewrites the DTB. */
bool tv_domain_busy(TvDomainSync *s, const char *domain, bool with_refresh);
