// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostdev's plan / record / act / rollback on a plain directory tree laid out like sysfs
 * (tests/lib/tv-fake-sysfs.h: the driver core is played at write(2), linked with
 * -Wl,--wrap=write).
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostdev.h"
#include "vfio-diag.h"
#include "tv-tap.h"
#include "tv-fake-sysfs.h"

#define A "3100000.serial"      /* group 1, alone */
#define B "3140000.serial"      /* group 2, with C */
#define C "3110000.serial"

static void make_tree(void)
{
        fake_sysfs_new("tv-hostdev");
        add_device(A, 1, HOST_DRV);
        add_device(B, 2, HOST_DRV);
        add_device(C, 2, HOST_DRV);
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

/* AllowNoIommu's no-IOMMU mode: the group vfio creates when it binds. It must be read only
 * after the bind; here it appears with the first record (after the pre-flight checks, before
 * the first host change), which the driver core in tests/rig does for real at the bind. */
static int record_noiommu_cb(void *userdata, bool durable, TvError *err)
{
        Recorder *r = userdata;

        if (r->calls == 0) {
                link_to("../../../kernel/iommu_groups/5", "sys/devices/platform/" A "/iommu_group");
                put("dev/vfio/noiommu-5", "");
        }
        return record_cb(userdata, durable, err);
}

static void test_noiommu(void)
{
        TvBinding b = { 0 };
        TvHostdevItem it = { .platform_id = A, .binding = &b };
        TvError err = { 0 };
        TvHostdev hd;
        Recorder rec;
        struct stat st;
        char p[PATH_MAX];
        struct passwd *pw = getpwnam("nobody");

        make_tree();
        snprintf(p, sizeof(p), "%s/sys/devices/platform/" A "/iommu_group", root);
        unlink(p);
        open_host(&hd, &rec, &it, 1);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, A " has no IOMMU group; give it its own SMMU stream"),
              "no IOMMU group, no-IOMMU mode not allowed (the default): refused");
        CHECK(rec.calls == 0 && act_log[0] == 0 && b.phase == TV_PHASE_NONE, "  ... nothing recorded, nothing done");

        config.allow_noiommu = true;
        tv_error_clear(&err);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "but vfio is not in its no-IOMMU mode (vfio.enable_unsafe_noiommu_mode=1)"),
              "no-IOMMU mode allowed, vfio not in it: refused");
        CHECK(rec.calls == 0 && act_log[0] == 0 && b.phase == TV_PHASE_NONE, "  ... nothing recorded, nothing done");

        mkdirs("sys/module/vfio/parameters");
        put("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
        hd.record = record_noiommu_cb;
        tv_error_clear(&err);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == 0, "no-IOMMU mode: prepare %s: %s", A, err.name ? err.message : "ok");
        CHECK(it.group == 5 && strcmp(driver_of(A), TV_VFIO_DRIVER) == 0, "  ... on vfio-platform, group 5 read after the bind");
        snprintf(p, sizeof(p), "%s/dev/vfio/noiommu-5", root);
        CHECK(stat(p, &st) == 0 && pw && st.st_uid == pw->pw_uid && (st.st_mode & 0777) == 0660,
              "  ... /dev/vfio/noiommu-5 is nobody's, 0660");
        CHECK(tv_hostdev_release(&hd, &it, 1, &err) == 0 && strcmp(driver_of(A), HOST_DRV) == 0 &&
                      strcmp(override_of(A), "-") == 0,
              "  ... release: back on serial-tegra");
        tv_host_close(&host);

        /* vfio gives no group (not in no-IOMMU mode after all): rolled back */
        make_tree();
        snprintf(p, sizeof(p), "%s/sys/devices/platform/" A "/iommu_group", root);
        unlink(p);
        mkdirs("sys/module/vfio/parameters");
        put("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
        open_host(&hd, &rec, &it, 1);
        tv_error_clear(&err);
        CHECK(tv_hostdev_prepare(&hd, &it, 1, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, A ": no IOMMU group after binding vfio-platform in vfio's no-IOMMU mode"),
              "no group after the bind: fails, naming the device");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && strcmp(override_of(A), "-") == 0 && b.phase == TV_PHASE_NONE,
              "  ... rolled back to serial-tegra, override cleared, binding reset");
        tv_host_close(&host);
        config.allow_noiommu = false;
        tv_binding_reset(&b);
}

/* The releases whose vfio-platform fails without a reset module (6.1, 6.2; fixed in 6.3). */
static void test_release_lacks_reset_fix(void)
{
        static const struct { const char *release; bool lacks; } cases[] = {
                { "6.1.0-31-arm64", true }, { "6.1", true }, { "6.2.16", true },
                { "6.3.0", false }, { "6.10.2", false }, { "6.12.9-tegra", false },
                { "5.15.136-tegra", false }, { "6.0.12", false }, { "7.1", false }, { "", false }, { "6", false },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                CHECK(tv_kernel_release_lacks_reset_fix(cases[i].release) == cases[i].lacks,
                      "release '%s' %s the vfio-platform reset fix", cases[i].release,
                      cases[i].lacks ? "lacks" : "does not lack");
}

int main(void)
{
        fake_sysfs_require();
        test_prepare_release();
        test_rollback();
        test_release_failure();
        test_recover();
        test_check_host();
        test_noiommu();
        test_release_lacks_reset_fix();
        CHECK(fake_sysfs_remove(), "remove the fake tree");
        return tap_finish();
}
