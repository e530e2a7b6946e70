/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Will libvirt let QEMU open the nodes tegravirt hands it? (cgroup ACL + private /dev) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "sysfs.h"
#include "tv-error.h"

#define TV_QEMU_ACCESS_MAX_NODES 130

typedef struct TvQemuAccess {
        char missing[1024];     /* the nodes QEMU would be denied, ", "-separated; "" when none */
        char acl_line[3072];    /* the whole cgroup_device_acl line that would allow them */
} TvQemuAccess;

/* What qemu_conf_path's cgroup_device_acl lacks for these devices. */
int tv_qemu_access_find(TvHost *host, const char *qemu_conf_path, const char *const *pids, size_t n,
                        TvQemuAccess *out, TvError *err);

/* Checks that qemu_conf_path's cgroup_device_acl lists /dev/vfio/vfio and /dev/vfio/<group>
 * of every device in pids (QEMU never opens /dev/bpmp-host: the domain's BPMP backend does).
 * The error carries the exact cgroup_device_acl line to put in qemu.conf. qemu_conf_path
 * NULL/"" skips. */
int tv_qemu_access_check(TvHost *host, const char *qemu_conf_path, const char *const *pids, size_t n, TvError *err);
