// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu-access.h"
#include "qemu-conf.h"
#include "tv-names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libvirt's built-in list, used when qemu.conf does not set one */
static const char *const default_acl[] = {
        "/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/ptmx", "/dev/kvm", NULL,
};

/* Appends s, cutting at the end of buf (the lines are far shorter in practice). */
static void append(char *buf, size_t size, const char *s)
{
        size_t len = strlen(buf), add = strlen(s);

        if (len + add >= size)
                add = size - 1 - len;
        memcpy(buf + len, s, add);
        buf[len + add] = 0;
}

int tv_qemu_access_find(TvHost *host, const char *qemu_conf_path, const char *const *pids, size_t n,
                        TvQemuAccess *out, TvError *err)
{
        char need[TV_QEMU_ACCESS_MAX_NODES][32];
        size_t n_need = 0;
        TvQemuConf conf;
        const char *const *base;

        out->missing[0] = 0;
        snprintf(out->acl_line, sizeof(out->acl_line), "cgroup_device_acl = [ ");
        if (tv_qemu_conf_load(qemu_conf_path, &conf, err) < 0)
                return -1;
        /* not /dev/bpmp-host: the domain's tegravirt-bpmp-backend holds it, QEMU has a socket */
        snprintf(need[n_need++], sizeof(need[0]), "/dev/vfio/vfio");
        for (size_t i = 0; i < n && n_need < TV_QEMU_ACCESS_MAX_NODES; i++) {
                int group = -1;

                if (tv_sysfs_iommu_group(host, pids[i], &group) < 0 || group < 0)
                        continue; /* the binding step reports a missing group */
                snprintf(need[n_need++], sizeof(need[0]), "/dev/vfio/%d", group);
        }
        /* the line to set: what qemu.conf (or libvirt's default) has, plus what is missing */
        base = conf.has_acl ? (const char *const *)conf.acl : default_acl;
        for (const char *const *p = base; p && *p; p++) {
                append(out->acl_line, sizeof(out->acl_line), "\"");
                append(out->acl_line, sizeof(out->acl_line), *p);
                append(out->acl_line, sizeof(out->acl_line), "\", ");
        }
        for (size_t i = 0; i < n_need; i++) {
                if (tv_qemu_conf_allows(&conf, need[i]))
                        continue;
                append(out->missing, sizeof(out->missing), out->missing[0] ? ", " : "");
                append(out->missing, sizeof(out->missing), need[i]);
                append(out->acl_line, sizeof(out->acl_line), "\"");
                append(out->acl_line, sizeof(out->acl_line), need[i]);
                append(out->acl_line, sizeof(out->acl_line), "\", ");
        }
        append(out->acl_line, sizeof(out->acl_line), "]");
        tv_qemu_conf_clear(&conf);
        return 0;
}

int tv_qemu_access_check(TvHost *host, const char *qemu_conf_path, const char *const *pids, size_t n, TvError *err)
{
        TvQemuAccess a;

        if (!qemu_conf_path || !*qemu_conf_path)
                return 0;
        if (tv_qemu_access_find(host, qemu_conf_path, pids, n, &a, err) < 0)
                return -1;
        if (!a.missing[0])
                return 0;
        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                            "libvirt would deny QEMU %s (not in cgroup_device_acl of %s); set: %s, then restart libvirtd",
                            a.missing, qemu_conf_path, a.acl_line);
}
