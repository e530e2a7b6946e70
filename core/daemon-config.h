/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/tegravirt/tegravirtd.conf: a small systemd-style "[Daemon]\nKey=Value" file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tv-error.h"

#define TV_CONFIG_MAX_BYTES (64 * 1024)

typedef struct TvConfig {
        char *qemu_user;                /* QemuUser=, default libvirt-qemu */
        char *qemu_group;               /* QemuGroup=, default kvm */
        bool allow_unsafe_interrupts;   /* AllowUnsafeInterrupts=, default no */
        bool allow_noiommu;             /* AllowNoIommu=, default no: vfio no-IOMMU mode, test rigs only */
        char *libvirt_uri;              /* LibvirtUri=, default qemu:///system; empty disables */
        char *qemu_conf;                /* QemuConf=, default /etc/libvirt/qemu.conf; empty skips the ACL check */
        int bpmp_bridge;                /* BpmpBridge=: -1 auto (probe), 0 none, 1 built-in at bpmp_base */
        unsigned long long bpmp_base;
        char *privileged_group;         /* PrivilegedGroup=: members may assign without polkit; NULL none */
        char *emulator;                 /* Emulator=: a QEMU with -device tegravirt-bpmp for domains whose own
                                         * emulator has no BPMP bridge; NULL or "" none */
        char *qemu_run_dir;             /* LibvirtQemuRunDir=, default /run/libvirt/qemu: libvirt's <domain>.pid */
        unsigned qemu_user_line;        /* line of QemuUser= / QemuGroup= in the file, 0 when defaulted */
        unsigned qemu_group_line;
} TvConfig;

int tv_config_defaults(TvConfig *c);
/* The i-th key tv_config_parse_buffer accepts, NULL past the last (tests/contracts.sh
 * compares them with tegravirtd.conf(5)). */
const char *tv_config_key_name(size_t i);
/* Parses a config document over the current values; on error c is unchanged. */
int tv_config_parse_buffer(TvConfig *c, const char *buf, size_t len, const char *origin, TvError *err);
/* QemuUser and QemuGroup name an existing user and group; the error names the file and line. */
int tv_config_check_accounts(const TvConfig *c, const char *origin, TvError *err);
/* Loads path (a missing file means defaults) and checks the accounts. */
int tv_config_load(TvConfig *c, const char *path, TvError *err);
void tv_config_free(TvConfig *c);
