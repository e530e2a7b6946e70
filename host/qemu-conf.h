/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What libvirt's qemu.conf says about device access: the cgroup_device_acl list
 * (every entry is also created in QEMU's private /dev) and the namespaces setting.
 * QEMU opens /dev/vfio/N and /dev/bpmp-host only through qemu:commandline, which
 * libvirt does not see, so these must be listed there by hand.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tv-error.h"

#define TV_QEMU_CONF_MAX_BYTES (1024 * 1024)

typedef struct TvQemuConf {
        bool has_acl;           /* cgroup_device_acl is set (else libvirt's default list) */
        char **acl;             /* NULL-terminated */
        bool has_namespaces;
        bool namespaces_off;    /* namespaces = [] : no private /dev */
} TvQemuConf;

int tv_qemu_conf_parse(const char *buf, size_t len, TvQemuConf *out, TvError *err);
/* Missing file: libvirt's defaults (no ACL entry of ours). */
int tv_qemu_conf_load(const char *path, TvQemuConf *out, TvError *err);
bool tv_qemu_conf_allows(const TvQemuConf *c, const char *dev_path);
void tv_qemu_conf_clear(TvQemuConf *c);
