/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A plain directory tree laid out like sysfs (driver and iommu_group links,
 * driver_override files, bind/unbind/drivers_probe files, module parameters) and a /dev
 * with vfio group files, for the unit tests of hostdev and the daemon. No FUSE: the
 * driver core's answer to a write is played by __wrap_write (link the test with
 * -Wl,--wrap=write), which moves the driver link, logs each act in act_log, and fails
 * the act the test names in fail_act. The FUSE fixture (integration tests) keeps the
 * kernel's semantics and error codes. Include after tv-tap.h; every function is static
 * (one translation unit per test).
 */
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tv-error.h"
#include "tv-fileio.h"
#include "tv-names.h"

/* the tree's paths are short; a truncated one would fail its check anyway */
#if defined(__GNUC__) && !defined(__clang__) /* gcc only: clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
/* not every test uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"

#define HOST_DRV "serial-tegra"  /* every device's host driver */

/* ---- the fake tree ---- */

static char root[PATH_MAX];     /* the temp dir: root/sys, root/dev */
static char act_log[4096];      /* "unbind serial-tegra 3100000.serial;bind ..." */
static const char *fail_act;    /* an act ("bind vfio-platform A") that fails ... */
static int fail_errno;          /* ... with this errno, or is ignored when 0 */

/* ---- the fake tree ---- */

static void put(const char *rel, const char *text)
{
        char p[PATH_MAX];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        f = fopen(p, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                tap_diag("cannot write %s", p);
}

static void mkdirs(const char *rel)
{
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
                *s = 0;
                mkdir(p, 0755);
                *s = '/';
        }
        mkdir(p, 0755);
}

static void link_to(const char *target, const char *rel)
{
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        unlink(p);
        if (symlink(target, p) < 0)
                tap_diag("cannot link %s", p);
}

/* A file of the tree, NULL when absent; valid until the next call. */
static char *read_rel(const char *rel)
{
        static char *buf;
        char p[PATH_MAX];

        free(buf);
        buf = NULL;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        return tv_read_file_at(AT_FDCWD, p, 4096, &buf, NULL) == 0 ? buf : NULL;
}

/* The driver a device's link names, "" when unbound. */
static const char *driver_of(const char *pid)
{
        static char buf[PATH_MAX];
        char p[PATH_MAX];
        ssize_t n;
        const char *base;

        snprintf(p, sizeof(p), "%s/sys/devices/platform/%s/driver", root, pid);
        n = readlink(p, buf, sizeof(buf) - 1);
        if (n < 0)
                return "";
        buf[n] = 0;
        base = strrchr(buf, '/');
        return base ? base + 1 : buf;
}

static void bind_link(const char *pid, const char *drv)
{
        char rel[PATH_MAX], target[PATH_MAX];

        snprintf(rel, sizeof(rel), "sys/devices/platform/%s/driver", pid);
        snprintf(target, sizeof(target), "../../../bus/platform/drivers/%s", drv);
        link_to(target, rel);
}

static void add_device(const char *pid, int group, const char *drv)
{
        char rel[PATH_MAX], target[PATH_MAX];

        snprintf(rel, sizeof(rel), "sys/devices/platform/%s", pid);
        mkdirs(rel);
        snprintf(rel, sizeof(rel), "sys/devices/platform/%s/uevent", pid);
        put(rel, "OF_NAME=serial\n");
        snprintf(rel, sizeof(rel), "sys/devices/platform/%s/driver_override", pid);
        put(rel, "(null)\n");
        snprintf(rel, sizeof(rel), "sys/bus/platform/devices/%s", pid);
        snprintf(target, sizeof(target), "../../../devices/platform/%s", pid);
        link_to(target, rel);
        snprintf(rel, sizeof(rel), "sys/devices/platform/%s/iommu_group", pid);
        snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
        link_to(target, rel);
        snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices", group);
        mkdirs(rel);
        snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", group, pid);
        snprintf(target, sizeof(target), "../../../../devices/platform/%s", pid);
        link_to(target, rel);
        snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
        put(rel, "");
        if (drv)
                bind_link(pid, drv);
}

static void add_driver(const char *drv)
{
        char rel[PATH_MAX];

        snprintf(rel, sizeof(rel), "sys/bus/platform/drivers/%s", drv);
        mkdirs(rel);
        snprintf(rel, sizeof(rel), "sys/bus/platform/drivers/%s/bind", drv);
        put(rel, "");
        snprintf(rel, sizeof(rel), "sys/bus/platform/drivers/%s/unbind", drv);
        put(rel, "");
}

/* A fresh tree (the last one removed): sysfs with the platform bus, the host driver and
 * vfio-platform loaded, their module parameters off, an empty /dev/vfio; no devices
 * (add_device). name: the temp dir's prefix. */
static void fake_sysfs_new(const char *name)
{
        char cmd[PATH_MAX + 16];

        if (root[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
                if (system(cmd) != 0)
                        tap_diag("cannot remove %s", root);
        }
        snprintf(root, sizeof(root), "%s/%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
        if (!mkdtemp(root))
                tap_skip_all("cannot make a temp dir");
        mkdirs("dev/vfio");
        mkdirs("sys/bus/platform/devices");
        mkdirs("sys/module/vfio_platform/parameters");
        mkdirs("sys/module/vfio_iommu_type1/parameters");
        put("sys/module/vfio_platform/parameters/reset_required", "N\n");
        put("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
        put("sys/bus/platform/drivers_probe", "");
        add_driver(HOST_DRV);
        add_driver(TV_VFIO_DRIVER);
        act_log[0] = 0;
        fail_act = NULL;
        fail_errno = 0;
}

/* Skips the test where the tree cannot work: /dev/vfio/<group> is chowned to nobody:nogroup. */
static void fake_sysfs_require(void)
{
        if (!getpwnam("nobody") || !getgrnam("nogroup"))
                tap_skip_all("needs the user nobody and the group nogroup");
        if (geteuid() != 0)
                tap_skip_all("needs root (chown of /dev/vfio/<group>)");
}

/* Removes the tree at the end of the test. */
static bool fake_sysfs_remove(void)
{
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0;
}

/* ---- the driver core, played at write(2) ---- */

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

static void log_act(const char *act)
{
        size_t len = strlen(act_log);

        snprintf(act_log + len, sizeof(act_log) - len, "%s%s", len ? ";" : "", act);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
        char proc[64], path[PATH_MAX], sys[PATH_MAX], val[256], act[512];
        const char *rel, *name;
        ssize_t len;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        len = readlink(proc, path, sizeof(path) - 1);
        snprintf(sys, sizeof(sys), "%s/sys/", root);
        if (len < 0 || !root[0] || n >= sizeof(val) || (path[len] = 0, strncmp(path, sys, strlen(sys)) != 0))
                return __real_write(fd, buf, n);
        rel = path + strlen(sys);
        name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        memcpy(val, buf, n);
        val[n] = 0;
        val[strcspn(val, "\n")] = 0;
        if (strcmp(name, "bind") == 0 || strcmp(name, "unbind") == 0) {
                char drv[128];

                sscanf(rel, "bus/platform/drivers/%127[^/]", drv);
                snprintf(act, sizeof(act), "%s %s %s", name, drv, val);
        } else if (strcmp(name, "drivers_probe") == 0) {
                snprintf(act, sizeof(act), "probe %s", val);
        } else if (strcmp(name, "driver_override") == 0) {
                snprintf(act, sizeof(act), "override %s", val[0] ? val : "-");
        } else {
                snprintf(act, sizeof(act), "write %s %s", rel, val);
        }
        log_act(act);
        if (fail_act && strcmp(act, fail_act) == 0) {
                if (fail_errno) {
                        errno = fail_errno;
                        return -1;
                }
                return (ssize_t)n; /* accepted, nothing happens (a probe that fails quietly) */
        }
        if (strcmp(name, "bind") == 0) {
                char drv[128];

                if (*driver_of(val)) {
                        errno = EBUSY;
                        return -1;
                }
                sscanf(rel, "bus/platform/drivers/%127[^/]", drv);
                bind_link(val, drv);
                return (ssize_t)n;
        }
        if (strcmp(name, "unbind") == 0) {
                char p[PATH_MAX];

                snprintf(p, sizeof(p), "%s/sys/devices/platform/%s/driver", root, val);
                if (unlink(p) < 0) {
                        errno = ENODEV;
                        return -1;
                }
                return (ssize_t)n;
        }
        if (strcmp(name, "drivers_probe") == 0) {
                /* the override if set, else the device's host driver */
                char rel_ovr[PATH_MAX];
                const char *ovr;

                snprintf(rel_ovr, sizeof(rel_ovr), "sys/devices/platform/%s/driver_override", val);
                ovr = read_rel(rel_ovr);
                if (!*driver_of(val)) {
                        char drv[128];

                        snprintf(drv, sizeof(drv), "%s", ovr && *ovr && *ovr != '\n' && strncmp(ovr, "(null)", 6) ? ovr : HOST_DRV);
                        drv[strcspn(drv, "\n")] = 0;
                        bind_link(val, drv);
                }
                return (ssize_t)n;
        }
        /* any other attribute stores the value written, as sysfs does */
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, n, 0) != (ssize_t)n)
                return -1;
        return (ssize_t)n;
}

/* ---- checks ---- */

static const char *override_of(const char *pid)
{
        char rel[PATH_MAX];
        char *v;

        snprintf(rel, sizeof(rel), "sys/devices/platform/%s/driver_override", pid);
        v = read_rel(rel);
        if (!v)
                return "?";
        v[strcspn(v, "\n")] = 0;
        return *v && strcmp(v, "(null)") ? v : "-";
}

static bool err_is(const TvError *e, const char *name, const char *text)
{
        bool ok = e->name && strcmp(e->name, name) == 0 && strstr(e->message, text);

        if (!ok)
                tap_diag("error %s: %s", e->name ? e->name : "(none)", e->message);
        return ok;
}

static bool same(const char *got, const char *want)
{
        if (strcmp(got, want) == 0)
                return true;
        tap_diag("got:  %s", got);
        tap_diag("want: %s", want);
        return false;
}
