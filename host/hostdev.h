/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Managed vfio-platform binding, after libvirt's managed PCI hostdevs:
 * detach from the host driver, bind vfio-platform, hand /dev/vfio/<group> to
 * QEMU; reattach restores the original driver. Each step is recorded (through
 * the caller's record callback) before the host is changed, and undone if a
 * later step fails, so a device is never left half-bound.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "sysfs.h"
#include "tv-error.h"

typedef enum TvPhase {
        TV_PHASE_NONE,          /* on its host driver (or as we found it) */
        TV_PHASE_DETACHING,     /* detach started; original state recorded */
        TV_PHASE_BOUND,         /* bound to vfio-platform by us */
        TV_PHASE_REATTACHING,   /* reattach started */
} TvPhase;

/* What we changed on one device, persisted by the caller. */
typedef struct TvBinding {
        TvPhase phase;
        char *orig_driver;      /* driver before detach, NULL if it was unbound */
        char *orig_override;    /* driver_override before detach, NULL if unset */
} TvBinding;

typedef struct TvHostdevConfig {
        const char *qemu_user;
        const char *qemu_group;
        bool allow_unsafe_interrupts;
        /* AllowNoIommu=: a device without an IOMMU group is accepted and bound in vfio's
         * unsafe no-IOMMU mode (/dev/vfio/noiommu-N, no DMA isolation); for the test rig
         * only, never on by default (tegravirtd.conf(5)) */
        bool allow_noiommu;
} TvHostdevConfig;

/* Persists every binding record; returns 0 or -1 with err set. durable: the record
 * comes before a host change and must survive a power loss (fsync); otherwise it
 * follows one, and the atomic replace is enough. */
typedef int (*TvRecordFn)(void *userdata, bool durable, TvError *err);

typedef struct TvHostdev {
        TvHost *host;
        const TvHostdevConfig *config;
        TvRecordFn record;
        void *userdata;
        /* the last failed bind to vfio-platform in a prepare (errno, 0 if none) */
        int vfio_bind_errno;
        char vfio_bind_device[64];
} TvHostdev;

/* One device of a prepare/release batch. */
typedef struct TvHostdevItem {
        const char *platform_id;
        bool needs_unsafe_interrupts;
        TvBinding *binding;     /* owned by the caller's state */
        int group;              /* out: the IOMMU group tv_hostdev_prepare read */
} TvHostdevItem;

const char *tv_phase_to_string(TvPhase p);
int tv_phase_from_string(const char *s, TvPhase *p);
void tv_binding_reset(TvBinding *b);

/* Module state checks for a batch: vfio-platform loaded, reset_required=N,
 * allow_unsafe_interrupts (written only when allowed by config and needed). */
int tv_hostdev_check_host(TvHostdev *hd, const TvHostdevItem *items, size_t n, TvError *err);

/* Detaches every item (already-bound ones are kept), checks IOMMU-group
 * viability (members outside the batch must be vfio-bound or driverless) and
 * fixes /dev/vfio/<group> ownership. All or nothing. With allow_noiommu, an item
 * without a group needs vfio.enable_unsafe_noiommu_mode=Y and gets its group from
 * vfio's bind: /dev/vfio/noiommu-<group>. */
int tv_hostdev_prepare(TvHostdev *hd, TvHostdevItem *items, size_t n, TvError *err);

/* Reattaches every item that we bound. Continues past failures (a failed
 * item is left bound to vfio-platform, never half-bound) and reports the first. */
int tv_hostdev_release(TvHostdev *hd, TvHostdevItem *items, size_t n, TvError *err);

/* Start-up reconciliation of one record: an interrupted detach or reattach is
 * rolled back to the original driver; a BOUND record is adopted if sysfs agrees.
 * *drift receives a human message when sysfs disagreed with the record. */
int tv_hostdev_recover(TvHostdev *hd, TvHostdevItem *item, char **drift, TvError *err);
