// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostdev's plan / record / act / rollback on a plain directory tree laid out like sysfs
 * (driver and iommu_group links, driver_override files, bind/unbind/drivers_probe files,
 * module parameters) and a /dev with vfio group files. No FUSE: the driver core's
 * answer to a write is played by __wrap_write (linked with -Wl,--wrap=write), which
 * moves the driver link, logs each act, and fails the one the test names. The FUSE
 * fixture (integration tests) keeps the kernel's semantics and error codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostdev.h"
#include "tv-fileio.h"
#include "tv-names.h"
#include "tv-tap.h"

/* the tree's paths are short; a truncated one would fail its check anyway */
#if defined(__GNUC__) && !defined(__clang__) /* gcc only: clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define A "3100000.serial"      /* group 1, alone */
#define B "3140000.serial"      /* group 2, with C */
#define C "3110000.serial"
#define HOST_DRV "serial-tegra"

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

static void make_tree(void)
{
        char cmd[PATH_MAX + 16];

        if (root[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
                if (system(cmd) != 0)
                        tap_diag("cannot remove %s", root);
        }
        snprintf(root, sizeof(root), "%s/tv-hostdev-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
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
        add_device(A, 1, HOST_DRV);
        add_device(B, 2, HOST_DRV);
        add_device(C, 2, HOST_DRV);
        act_log[0] = 0;
        fail_act = NULL;
        fail_errno = 0;
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

/* ---- the record callback: what was recorded, and the host at that moment ---- */

typedef struct Recorder {
        TvHostdevItem *items;
        size_t n;
        int calls, fail_call;   /* fail_call: the call (1-based) that fails, 0 never */
        char log[4096];         /* "durable A=detaching/serial-tegra host=serial-tegra;..." */
} Recorder;

static int record_cb(void *userdata, bool durable, TvError *err)
{
        Recorder *r = userdata;
        size_t len = strlen(r->log);

        r->calls++;
        len += (size_t)snprintf(r->log + len, sizeof(r->log) - len, "%s%s", len ? ";" : "",
                                durable ? "durable" : "after");
        for (size_t i = 0; i < r->n && len < sizeof(r->log); i++) {
                TvBinding *b = r->items[i].binding;

                len += (size_t)snprintf(r->log + len, sizeof(r->log) - len, " %s=%s/%s host=%s",
                                        r->items[i].platform_id, tv_phase_to_string(b->phase),
                                        b->orig_driver ? b->orig_driver : "-", driver_of(r->items[i].platform_id));
        }
        if (r->calls == r->fail_call)
                return tv_error_set(err, TV_ERR_FAILED, "disk full (test)");
        return 0;
}

/* ---- helpers ---- */

static TvHost host;
static TvHostdevConfig config = { .qemu_user = "nobody", .qemu_group = "nogroup" };

static void open_host(TvHostdev *hd, Recorder *rec, TvHostdevItem *items, size_t n)
{
        char sys[PATH_MAX], dev[PATH_MAX];

        snprintf(sys, sizeof(sys), "%s/sys", root);
        snprintf(dev, sizeof(dev), "%s/dev", root);
        if (tv_host_open(&host, sys, dev) < 0)
                tap_skip_all("cannot open the fake tree");
        memset(rec, 0, sizeof(*rec));
        rec->items = items;
        rec->n = n;
        *hd = (TvHostdev){ .host = &host, .config = &config, .record = record_cb, .userdata = rec };
}

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

/* ---- the cases ---- */

static void test_prepare_release(void)
{
        TvBinding b = { 0 };
        TvHostdevItem it = { .platform_id = A, .binding = &b };
        TvError err = { 0 };
        TvHostdev hd;
        Recorder rec;
        struct stat st;
        char p[PATH_MAX];
        struct passwd *pw = getpwnam("nobody");
        struct group *gr = getgrnam("nogroup");

        make_tree();
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == 0, "prepare %s: %s", A, err.name ? err.message : "ok");
        CHECK(strcmp(driver_of(A), TV_VFIO_DRIVER) == 0 && strcmp(override_of(A), TV_VFIO_DRIVER) == 0,
              "  ... on vfio-platform, driver_override vfio-platform");
        CHECK(b.phase == TV_PHASE_BOUND && b.orig_driver && strcmp(b.orig_driver, HOST_DRV) == 0 && !b.orig_override,
              "  ... the binding remembers serial-tegra and no override");
        CHECK(it.group == 1, "  ... IOMMU group 1 read from the iommu_group link");
        CHECK(same(rec.log, "durable " A "=detaching/serial-tegra host=serial-tegra;after " A "=bound/serial-tegra host=vfio-platform"),
              "  ... recorded (durably) before the first change, and again after the last");
        CHECK(same(act_log, "override vfio-platform;unbind serial-tegra " A ";bind vfio-platform " A),
              "  ... acts: override, unbind the host driver, bind vfio-platform");
        snprintf(p, sizeof(p), "%s/dev/vfio/1", root);
        CHECK(stat(p, &st) == 0 && pw && gr && st.st_uid == pw->pw_uid && st.st_gid == gr->gr_gid &&
                      (st.st_mode & 0777) == 0660,
              "  ... /dev/vfio/1 is nobody:nogroup 0660");

        act_log[0] = 0;
        rec.log[0] = 0;
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == 0 && act_log[0] == 0 && b.phase == TV_PHASE_BOUND,
              "prepare again: nothing to do (idempotent)");

        act_log[0] = 0;
        rec.log[0] = 0;
        CHECK(tv_hostdev_release(&hd, &it, 1, &err) == 0, "release %s: %s", A, err.name ? err.message : "ok");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && strcmp(override_of(A), "-") == 0,
              "  ... back on serial-tegra, override cleared");
        CHECK(b.phase == TV_PHASE_NONE && !b.orig_driver && !b.orig_override, "  ... the binding is reset");
        CHECK(same(rec.log, "durable " A "=reattaching/serial-tegra host=vfio-platform;after " A "=none/serial-tegra host=serial-tegra"),
              "  ... recorded (durably) before the first change, and again after the last");
        CHECK(same(act_log, "override -;unbind vfio-platform " A ";probe " A), "  ... acts: clear override, unbind, probe");
        tv_binding_reset(&b);
        tv_host_close(&host);
}

static void test_rollback(void)
{
        TvBinding b[2] = { 0 };
        TvHostdevItem it[2] = { { .platform_id = A, .binding = &b[0] }, { .platform_id = B, .binding = &b[1] } };
        TvError err = { 0 };
        TvHostdev hd;
        Recorder rec;

        /* B's group mate C is on a host driver: refused before anything is recorded */
        make_tree();
        open_host(&hd, &rec, &it[1], 1);
        CHECK(tv_hostdev_prepare(&hd, &it[1], 1, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "IOMMU group 2 of " B " also holds " C ", which is bound to host driver serial-tegra"),
              "a group mate on its host driver is refused, named");
        CHECK(rec.calls == 0 && act_log[0] == 0 && b[1].phase == TV_PHASE_NONE, "  ... nothing recorded, nothing done");
        tv_host_close(&host);

        /* the second device's bind fails: the first is rolled back too */
        tv_error_clear(&err);
        make_tree();
        bind_link(C, TV_VFIO_DRIVER); /* C is out of the way */
        fail_act = "bind vfio-platform " B;
        fail_errno = EINVAL;
        open_host(&hd, &rec, it, 2);
        CHECK(tv_hostdev_prepare(&hd, it, 2, &err) == -1 && err_is(&err, TV_ERR_FAILED, B ": step bind failed"),
              "a failed bind fails the batch, naming the device and the step");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && strcmp(override_of(A), "-") == 0 &&
                      strcmp(driver_of(B), HOST_DRV) == 0 && strcmp(override_of(B), "-") == 0,
              "  ... both devices back on serial-tegra without override");
        CHECK(b[0].phase == TV_PHASE_NONE && b[1].phase == TV_PHASE_NONE && !b[0].orig_driver && !b[1].orig_driver,
              "  ... both bindings reset");
        CHECK(same(rec.log, "durable " A "=detaching/serial-tegra host=serial-tegra " B "=detaching/serial-tegra host=serial-tegra;"
                            "after " A "=none/serial-tegra host=serial-tegra " B "=none/serial-tegra host=serial-tegra"),
              "  ... one durable record before, the rollback recorded after");
        tv_host_close(&host);

        /* vfio-platform accepts the bind but does not take the device: the verify catches it */
        tv_error_clear(&err);
        make_tree();
        fail_act = "bind vfio-platform " A;
        fail_errno = 0;
        open_host(&hd, &rec, it, 1);
        CHECK(tv_hostdev_prepare(&hd, it, 1, &err) == -1 && err_is(&err, TV_ERR_FAILED, A ": step verify failed"),
              "a bind that does not take is caught by the verify step");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && strcmp(override_of(A), "-") == 0 && b[0].phase == TV_PHASE_NONE,
              "  ... back on serial-tegra, the override restored, the binding reset");
        tv_host_close(&host);

        /* the record before the first change cannot be written: the host is left alone */
        tv_error_clear(&err);
        make_tree();
        open_host(&hd, &rec, it, 1);
        rec.fail_call = 1;
        CHECK(tv_hostdev_prepare(&hd, it, 1, &err) == -1 &&
                      err_is(&err, TV_ERR_FAILED, "cannot record the binding state, host left unchanged"),
              "an unwritable record fails the prepare");
        CHECK(act_log[0] == 0 && strcmp(driver_of(A), HOST_DRV) == 0 && b[0].phase == TV_PHASE_NONE && !b[0].orig_driver,
              "  ... nothing on the host changed, the plan is forgotten");
        tv_host_close(&host);
        tv_binding_reset(&b[0]);
        tv_binding_reset(&b[1]);
}

static void test_release_failure(void)
{
        TvBinding b = { 0 };
        TvHostdevItem it = { .platform_id = A, .binding = &b };
        TvError err = { 0 };
        TvHostdev hd;
        Recorder rec;

        make_tree();
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == 0, "prepare %s", A);
        /* vfio-platform will not let go of the device */
        fail_act = "unbind vfio-platform " A;
        fail_errno = EBUSY;
        rec.log[0] = 0;
        CHECK(tv_hostdev_release(&hd, &it, 1, &err) == -1 && err.name && strstr(err.message, "left bound to vfio-platform"),
              "a reattach that fails says the device was left on vfio-platform");
        CHECK(strcmp(driver_of(A), TV_VFIO_DRIVER) == 0 && strcmp(override_of(A), TV_VFIO_DRIVER) == 0 &&
                      b.phase == TV_PHASE_BOUND && b.orig_driver && strcmp(b.orig_driver, HOST_DRV) == 0,
              "  ... whole: on vfio-platform with its override, the binding still remembers serial-tegra");
        CHECK(strstr(rec.log, "durable " A "=reattaching") == rec.log && strstr(rec.log, ";after " A "=bound/serial-tegra"),
              "  ... recorded as reattaching before, bound after");
        tv_error_clear(&err);
        fail_act = NULL;
        CHECK(tv_hostdev_release(&hd, &it, 1, &err) == 0 && strcmp(driver_of(A), HOST_DRV) == 0, "a second release succeeds");
        tv_binding_reset(&b);
        tv_host_close(&host);
}

static void test_recover(void)
{
        TvBinding b = { 0 };
        TvHostdevItem it = { .platform_id = A, .binding = &b };
        TvError err = { 0 };
        TvHostdev hd;
        Recorder rec;
        char *drift = NULL;

        /* a crash between the bind and the record after it: detaching, on vfio-platform */
        make_tree();
        bind_link(A, TV_VFIO_DRIVER);
        put("sys/devices/platform/" A "/driver_override", "vfio-platform\n");
        b.phase = TV_PHASE_DETACHING;
        b.orig_driver = strdup(HOST_DRV);
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_recover(&hd, &it, &drift, &err) == 0 && !drift, "recover an interrupted detach");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && strcmp(override_of(A), "-") == 0 && b.phase == TV_PHASE_NONE &&
                      !b.orig_driver,
              "  ... back on serial-tegra, override cleared, binding reset");
        CHECK(rec.calls == 1 && strstr(rec.log, "after " A "=none"), "  ... and recorded");
        tv_host_close(&host);

        /* recorded as bound, but someone put it back on its host driver */
        make_tree();
        b.phase = TV_PHASE_BOUND;
        b.orig_driver = strdup(HOST_DRV);
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_recover(&hd, &it, &drift, &err) == 0 && drift &&
                      strstr(drift, "recorded as bound to vfio-platform but sysfs shows serial-tegra"),
              "a bound record that sysfs contradicts is reported as drift, naming the driver");
        CHECK(b.phase == TV_PHASE_NONE && strcmp(driver_of(A), HOST_DRV) == 0, "  ... the host is the truth");
        free(drift);
        drift = NULL;
        tv_host_close(&host);

        /* recorded as bound, and it is: adopted without a change */
        make_tree();
        bind_link(A, TV_VFIO_DRIVER);
        b.phase = TV_PHASE_BOUND;
        b.orig_driver = strdup(HOST_DRV);
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_recover(&hd, &it, &drift, &err) == 0 && !drift && b.phase == TV_PHASE_BOUND && act_log[0] == 0 &&
                      rec.calls == 0,
              "a bound record that sysfs confirms is adopted as it is");
        tv_binding_reset(&b);
        tv_host_close(&host);
}

static void test_check_host(void)
{
        TvBinding b = { 0 };
        TvHostdevItem it = { .platform_id = A, .binding = &b, .needs_unsafe_interrupts = true };
        TvHostdevConfig allow = config;
        TvError err = { 0 };
        TvHostdev hd;
        Recorder rec;

        make_tree();
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_check_host(&hd, &it, 1, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "AllowUnsafeInterrupts=yes"),
              "unsafe interrupts off and not allowed: refused, naming the config key");
        CHECK(act_log[0] == 0, "  ... and the parameter left alone");
        tv_error_clear(&err);
        allow.allow_unsafe_interrupts = true;
        hd.config = &allow;
        CHECK(tv_hostdev_check_host(&hd, &it, 1, &err) == 0 &&
                      same(act_log, "write module/vfio_iommu_type1/parameters/allow_unsafe_interrupts Y"),
              "allowed by the config: the parameter is written");
        tv_host_close(&host);

        tv_error_clear(&err);
        make_tree();
        put("sys/module/vfio_platform/parameters/reset_required", "Y\n");
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "vfio_platform.reset_required=0") && rec.calls == 0,
              "reset_required=Y: refused before anything is recorded");
        tv_host_close(&host);

        tv_error_clear(&err);
        make_tree();
        {
                char cmd[PATH_MAX + 64];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/bus/platform/drivers/vfio-platform'", root);
                CHECK(system(cmd) == 0, "unload vfio-platform from the tree");
        }
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == -1 && err_is(&err, TV_ERR_HOST_NOT_READY, "modprobe vfio-platform"),
              "vfio-platform not loaded: refused, saying to modprobe it");
        tv_host_close(&host);

        tv_error_clear(&err);
        make_tree();
        open_host(&hd, &rec, &it, 1);
        it.platform_id = "3150000.serial";
        it.needs_unsafe_interrupts = false;
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == -1 && err_is(&err, TV_ERR_HOST_NOT_READY, "not on this host's platform bus"),
              "a device missing from the platform bus is refused");
        tv_host_close(&host);
        tv_binding_reset(&b);
}

int main(void)
{
        char cmd[PATH_MAX + 16];

        if (!getpwnam("nobody") || !getgrnam("nogroup"))
                tap_skip_all("needs the user nobody and the group nogroup");
        if (geteuid() != 0)
                tap_skip_all("needs root (chown of /dev/vfio/<group>)");
        test_prepare_release();
        test_rollback();
        test_release_failure();
        test_recover();
        test_check_host();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        CHECK(system(cmd) == 0, "remove the fake tree");
        return tap_finish();
}
