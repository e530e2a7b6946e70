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

static void append(char *buf, size_t size, const char *s)
{
        size_t len = strlen(buf);

        if (len < size - 1)
                snprintf(buf + len, size - len, "%s", s);
}

int tv_qemu_access_check(TvHost *host, const char *qemu_conf_path, const char *const *pids, size_t n,
                         bool needs_bpmp, TvError *err)
{
        TvQemuConf conf;
        char missing[1024] = "", line[3072] = "cgroup_device_acl = [ ", node[64];
        const char *need[130];
        size_t n_need = 0;
        bool any = false;

        if (!qemu_conf_path || !*qemu_conf_path)
                return 0;
        if (tv_qemu_conf_load(qemu_conf_path, &conf, err) < 0)
                return -1;
        need[n_need++] = "/dev/vfio/vfio";
        if (needs_bpmp)
                need[n_need++] = "/dev/bpmp-host";
        for (size_t i = 0; i < n && n_need < 128; i++) {
                int group = -1;

                if (tv_sysfs_iommu_group(host, pids[i], &group) < 0 || group < 0)
                        continue; /* the binding step reports a missing group */
                snprintf(node, sizeof(node), "/dev/vfio/%d", group);
                need[n_need] = strdup(node);
                if (need[n_need])
                        n_need++;
        }
        for (size_t i = 0; i < n_need; i++) {
                if (tv_qemu_conf_allows(&conf, need[i]))
                        continue;
                append(missing, sizeof(missing), any ? ", " : "");
                append(missing, sizeof(missing), need[i]);
                any = true;
        }
        if (any) {
                const char *const *base = conf.has_acl ? (const char *const *)conf.acl : default_acl;

                for (const char *const *p = base; p && *p; p++) {
                        append(line, sizeof(line), "\"");
                        append(line, sizeof(line), *p);
                        append(line, sizeof(line), "\", ");
                }
                for (size_t i = 0; i < n_need; i++) {
                        if (tv_qemu_conf_allows(&conf, need[i]))
                                continue;
                        append(line, sizeof(line), "\"");
                        append(line, sizeof(line), need[i]);
                        append(line, sizeof(line), "\", ");
                }
                append(line, sizeof(line), "]");
                tv_error_set(err, TV_ERR_HOST_NOT_READY,
                             "libvirt would deny QEMU %s (not in cgroup_device_acl of %s); set: %s, then restart libvirtd",
                             missing, qemu_conf_path, line);
        }
        for (size_t i = needs_bpmp ? 2 : 1; i < n_need; i++)
                free((char *)need[i]);
        tv_qemu_conf_clear(&conf);
        return any ? -1 : 0;
}
