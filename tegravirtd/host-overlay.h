/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host DT overlay that enables the BPMP host proxy for a set of catalog devices. */
#pragma once
#include <stddef.h>
#include "catalog.h"
#include "tv-error.h"

/* DTS source (/plugin/) with the bpmp_host_proxy node whose allowed-clocks/-resets/
 * -power-domains are the union of the devices' resources (parent clocks included, as the
 * catalog lists them), in first-seen order. Refuses a set that needs no BPMP. */
int tv_host_overlay_dts(const TvCatalogDevice *const *devs, size_t n, char **dts, TvError *err);
