/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why a bind to vfio-platform failed, for the kernels we know: Linux 6.1 and 6.2
 * fail every probe without a vfio reset module (ENOENT) even with
 * reset_required=0, and since 6.1 vfio refuses a device whose IOMMU is not cache
 * coherent (EINVAL).
 */
#pragma once
#include <stdbool.h>
#include "sysfs.h"

/* The running kernel's release from <sysfs-root>/../proc/sys/kernel/osrelease, so a
 * redirected sysfs root brings its own /proc; -errno. */
int tv_host_kernel_release(TvHost *h, char **release);
/* 6.1 or 6.2: a vfio-platform without upstream's reset-optional fix (v6.3). */
bool tv_kernel_release_lacks_reset_fix(const char *release);
/* An explanation of a failed bind to vfio-platform (r: -errno), or NULL when there is
 * none to give or no memory. */
char *tv_vfio_bind_hint(TvHost *h, const char *pid, int r);
/* Whether PID's modalias shows no device-tree compatible (vfio-platform's other EINVAL). */
bool tv_vfio_device_lacks_compatible(TvHost *h, const char *pid);
