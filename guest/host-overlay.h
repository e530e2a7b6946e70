/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host DT overlay a set of catalog devices needs: the BPMP host proxy and each
 * device's own host changes (<host> in the catalog). */
#pragma once
#include <stddef.h>
#include "catalog.h"
#include "tv-error.h"

/* DTS source (/plugin/, compile with dtc -@) with
 *  - the bpmp_host_proxy node whose allowed-clocks/-resets/-power-domains are the union
 *    of the devices' resources (parent clocks included, as the catalog lists them), in
 *    first-seen order, when any device uses BPMP resources;
 *  - per device with <host>: a fragment on its node setting status "okay", the
 *    "tegravirt,passthrough" compatible when driver="off", and iommus = <&smmu sid>.
 * A device named twice counts once. Refuses two devices on one SMMU stream (they would
 * share an IOMMU group) and a set with nothing to change. */
int tv_host_overlay_dts(const TvCatalogDevice *const *devs, size_t n, char **dts, TvError *err);

/* The compatible that keeps host drivers off a device (documented in tegravirt-catalog(5)). */
#define TV_HOST_PASSTHROUGH_COMPATIBLE "tegravirt,passthrough"
