/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Will libvirt let QEMU open the nodes tegravirt hands it? (cgroup ACL + private /dev) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "sysfs.h"
#include "tv-error.h"

/* Checks that qemu_conf_path's cgroup_device_acl lists /dev/vfio/vfio, /dev/vfio/<group>
 * of every device in pids, and /dev/bpmp-host when needs_bpmp. The error carries the
 * exact cgroup_device_acl line to put in qemu.conf. qemu_conf_path NULL/"" skips. */
int tv_qemu_access_check(TvHost *host, const char *qemu_conf_path, const char *const *pids, size_t n,
                         bool needs_bpmp, TvError *err);
