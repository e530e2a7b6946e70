/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Platform-bus access under a redirectable sysfs and /dev root. Every path is
 * resolved with openat2(RESOLVE_IN_ROOT) so nothing outside the roots can be
 * reached, whatever the names or the symlinks in the tree say.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "tv-strv.h"

typedef struct TvHost {
        int sysfs_fd;
        int dev_fd;
        char *sysfs_root;
        char *dev_root;
        struct TvDevDir *dev_dirs;      /* device directories walked to once (sysfs.c) */
        unsigned n_dev_dirs;
        /* GIC SPI -> Linux IRQ, read once from kernel/irq (gpio-irq.c): fixed for a boot */
        uint32_t *irq_spi;
        int *irq_num;
        size_t n_irq_map;
        bool irq_map_read;
} TvHost;

int tv_host_open(TvHost *h, const char *sysfs_root, const char *dev_root);
void tv_host_close(TvHost *h);

/* All functions return 0 or -errno. Device ids must pass tv_device_token_valid. */
bool tv_sysfs_device_exists(TvHost *h, const char *pid);
/* What the pre-flight checks need of one device, from one walk to its directory. */
typedef struct TvDeviceInfo {
        char *driver;           /* NULL when unbound */
        char *override;         /* NULL when unset */
        int group;              /* -1 without an IOMMU group */
} TvDeviceInfo;
/* -ENODEV when the device is not there; free the strings with tv_device_info_clear. */
int tv_sysfs_device_info(TvHost *h, const char *pid, TvDeviceInfo *info);
void tv_device_info_clear(TvDeviceInfo *info);
/* *driver = NULL when unbound. */
int tv_sysfs_get_driver(TvHost *h, const char *pid, char **driver);
/* *override = NULL when unset ("(null)" or empty). */
int tv_sysfs_get_override(TvHost *h, const char *pid, char **override);
/* override NULL clears it. */
int tv_sysfs_set_override(TvHost *h, const char *pid, const char *override);
int tv_sysfs_bind(TvHost *h, const char *pid, const char *driver);
int tv_sysfs_unbind(TvHost *h, const char *pid, const char *driver);
int tv_sysfs_drivers_probe(TvHost *h, const char *pid);
bool tv_sysfs_driver_loaded(TvHost *h, const char *driver);
/* *group = -1 when the device has no IOMMU group. */
int tv_sysfs_iommu_group(TvHost *h, const char *pid, int *group);
/* NULL-terminated list of the platform ids in a group; free with tv_strv_free. */
int tv_sysfs_group_devices(TvHost *h, int group, char ***pids);
/* NULL-terminated list of /sys/bus/platform/devices; free with tv_strv_free. */
int tv_sysfs_platform_devices(TvHost *h, char ***pids);
/* A device attribute other than the driver core's (trailing newline stripped). attr is
 * a plain name from our own code, never from outside. */
int tv_sysfs_dev_attr_read(TvHost *h, const char *pid, const char *attr, char **value);
int tv_sysfs_dev_attr_write(TvHost *h, const char *pid, const char *attr, const char *value);
/* An fd on a device attribute (O_RDONLY/O_RDWR), to read and write it again without
 * walking the path each time; -errno. Once the attribute is removed the fd gives ENODEV. */
int tv_sysfs_dev_attr_open(TvHost *h, const char *pid, const char *attr, int flags);
/* Any file under the sysfs root (debugfs sits at kernel/debug), by a relative path from
 * our own code; up to a page, trailing newline stripped. */
int tv_sysfs_read(TvHost *h, const char *path, char **value);
/* The names in a directory under the sysfs root (NULL-terminated; tv_strv_free). */
int tv_sysfs_list(TvHost *h, const char *dir, char ***names);
/* Reads /sys/module/<mod>/parameters/<param> (trailing newline stripped). */
int tv_sysfs_param_read(TvHost *h, const char *mod, const char *param, char **value);
int tv_sysfs_param_write(TvHost *h, const char *mod, const char *param, const char *value);
/* A node under the /dev root (a plain name from our own code, e.g. "bpmp-host"), opened with
 * flags | O_CLOEXEC | O_NOCTTY; fd or -errno. */
int tv_dev_open(TvHost *h, const char *name, int flags);
/* /dev/vfio/<group>: exists? chown/chmod. */
bool tv_dev_vfio_group_exists(TvHost *h, int group);
int tv_dev_vfio_group_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode);
/* The same for /dev/vfio/noiommu-<group> (vfio's unsafe no-IOMMU mode). */
int tv_dev_vfio_noiommu_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode);

