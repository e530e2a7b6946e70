// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's operations (core/daemon.h) with the libvirt integration off (LibvirtUri=
 * empty), on the fake sysfs tree of tests/lib/tv-fake-sysfs.h (linked with
 * -Wl,--wrap=write): assign / unassign keep the record, prepare / release move the
 * devices and keep the record and the host in step, reconcile finishes what a crash
 * interrupted. A fresh daemon on the same state dir shows what was persisted.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "tv-tap.h"
#include "tv-fake-sysfs.h"

#define A "3100000.serial"      /* uarta: group 1, alone */
#define B "3140000.serial"      /* uarte: group 2, with C */
#define C "3110000.serial"      /* uartb */
#define D "3130000.serial"      /* uartd: in the catalog, not on the platform bus */

/* three serial ports without BPMP resources or unsafe interrupts: nothing beyond the tree */
static const char catalog_xml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n"
        "  <device name=\"uarta\" platform-id=\"" A "\" kind=\"serial\">\n"
        "    <reg base=\"0x03100000\" size=\"0x10000\"/><interrupt spi=\"112\"/>\n"
        "    <guest><compatible>arm,sbsa-uart</compatible></guest>\n"
        "  </device>\n"
        "  <device name=\"uartb\" platform-id=\"" C "\" kind=\"serial\">\n"
        "    <reg base=\"0x03110000\" size=\"0x10000\"/><interrupt spi=\"113\"/>\n"
        "    <guest><compatible>arm,sbsa-uart</compatible></guest>\n"
        "  </device>\n"
        "  <device name=\"uartd\" platform-id=\"" D "\" kind=\"serial\">\n"
        "    <reg base=\"0x03130000\" size=\"0x10000\"/><interrupt spi=\"115\"/>\n"
        "    <guest><compatible>arm,sbsa-uart</compatible></guest>\n"
        "  </device>\n"
        "  <device name=\"uarte\" platform-id=\"" B "\" kind=\"serial\">\n"
        "    <reg base=\"0x03140000\" size=\"0x10000\"/><interrupt spi=\"116\"/>\n"
        "    <guest><compatible>arm,sbsa-uart</compatible></guest>\n"
        "  </device>\n"
        "</catalog>\n";

static const char config_text[] = "[Daemon]\nQemuUser=nobody\nQemuGroup=nogroup\nLibvirtUri=\nQemuConf=\nBpmpBridge=none\n"
                                   "AllowUnsafeInterrupts=yes\n";

static char sys_path[PATH_MAX], dev_path[PATH_MAX], state_path[PATH_MAX], catalog_path[PATH_MAX],
        catalog_dir[PATH_MAX], config_path[PATH_MAX];

static void make_tree(void)
{
        fake_sysfs_new("tv-daemon");
        add_device(A, 1, HOST_DRV);
        add_device(B, 2, HOST_DRV);
        add_device(C, 2, HOST_DRV);
        mkdirs("state");
        mkdirs("catalog.d");
        put("catalog.xml", catalog_xml);
        put("tegravirtd.conf", config_text);
        snprintf(sys_path, sizeof(sys_path), "%s/sys", root);
        snprintf(dev_path, sizeof(dev_path), "%s/dev", root);
        snprintf(state_path, sizeof(state_path), "%s/state", root);
        snprintf(catalog_path, sizeof(catalog_path), "%s/catalog.xml", root);
        snprintf(catalog_dir, sizeof(catalog_dir), "%s/catalog.d", root);
        snprintf(config_path, sizeof(config_path), "%s/tegravirtd.conf", root);
}

static sd_event *event;

/* A daemon on the tree (its paths set, not started). */
static void daemon_on_tree(TvDaemon *d)
{
        *d = (TvDaemon){ .sysfs_root = sys_path, .dev_root = dev_path, .state_dir = state_path,
                         .catalog_path = catalog_path, .catalog_dir = catalog_dir, .config_path = config_path,
                         .event = event };
}

/* A daemon started on the tree; false (a failed check) when it does not start. */
static bool start(TvDaemon *d)
{
        TvError err = { 0 };

        daemon_on_tree(d);
        if (tv_daemon_init(d, &err) == 0)
                return true;
        CHECK(false, "the daemon starts on the tree: %s", err.message);
        tv_error_clear(&err);
        tv_daemon_free(d);
        return false;
}

/* A new tree and a daemon started on it. */
static bool start_fresh(TvDaemon *d)
{
        make_tree();
        return start(d);
}

/* Nothing waits for a job with libvirt off: every call must answer at once. */
static void never_done(TvDaemon *d, int r, TvError *err, void *userdata)
{
        tap_diag("unexpected deferred answer");
        abort();
}

static const char *state_of(TvDaemon *d, const char *name)
{
        const TvCatalogDevice *dev = tv_catalog_find(d->catalog, name);

        tv_daemon_invalidate_view(d, NULL);
        return dev ? tv_daemon_device_state(d, dev, NULL, NULL) : "?";
}

static const char *domain_of(TvDaemon *d, const char *name)
{
        TvStateEntry *e = tv_state_find(&d->state, name);

        return e && e->domain ? e->domain : "-";
}

static TvPhase phase_of(TvDaemon *d, const char *name)
{
        TvStateEntry *e = tv_state_find(&d->state, name);

        return e ? e->binding.phase : TV_PHASE_NONE;
}

/* Stops d and starts a new daemon on the same tree: the persisted phase of name, -1
 * when the daemon does not start. */
static int phase_after_restart(TvDaemon *d, const char *name)
{
        int phase = -1;

        tv_daemon_free(d);
        if (start(d)) {
                phase = (int)phase_of(d, name);
                tv_daemon_free(d);
        }
        return phase;
}

/* r is 0; else the error is shown (and cleared) */
static bool ok(int r, TvError *err)
{
        if (r == 0)
                return true;
        tap_diag("returned %d: %s", r, err->name ? err->message : "(no error set)");
        tv_error_clear(err);
        return false;
}

/* ---- the cases ---- */

static void test_assign_unassign(void)
{
        TvDaemon d;
        TvError err = { 0 };

        if (!start_fresh(&d))
                return;
        CHECK(d.catalog->n_devices == 4 && !tv_libvirt_enabled(d.libvirt), "started: 4 devices, libvirt off");
        CHECK(strcmp(state_of(&d, "uarta"), TV_STATE_AVAILABLE) == 0 && strcmp(state_of(&d, "uartd"), TV_STATE_MISSING) == 0,
              "uarta is available, uartd (not on the bus) missing");

        CHECK(ok(tv_daemon_assign(&d, "vm1", "uarta", never_done, NULL, &err), &err), "assign uarta to vm1");
        CHECK(strcmp(domain_of(&d, "uarta"), "vm1") == 0 && strcmp(state_of(&d, "uarta"), TV_STATE_ASSIGNED) == 0 &&
                      strcmp(tv_daemon_device_domain(&d, tv_catalog_find(d.catalog, "uarta")), "vm1") == 0,
              "  ... recorded for vm1, state assigned");
        CHECK(tv_daemon_domain_assigned(&d, "vm1") && !tv_daemon_domain_assigned(&d, "vm2") &&
                      tv_daemon_domain_assigned(&d, NULL),
              "  ... vm1 has an assignment, vm2 none");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && act_log[0] == 0, "  ... the host is not touched by an assign");
        CHECK(tv_daemon_assign(&d, "vm1", A, never_done, NULL, &err) == 0, "assign it again by platform id: nothing to do");

        CHECK(tv_daemon_assign(&d, "vm2", "uarta", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_DEVICE_BUSY, "uarta is assigned to domain vm1; unassign it there first"),
              "assign it to vm2: refused, naming vm1");
        tv_error_clear(&err);
        CHECK(tv_daemon_assign(&d, "vm2", "uartd", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "uartd (" D ") is not on this host's platform bus") &&
                      strcmp(domain_of(&d, "uartd"), "-") == 0,
              "assign a device missing from the host: refused, nothing recorded");
        tv_error_clear(&err);
        CHECK(tv_daemon_assign(&d, "vm2", "uartz", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_NO_SUCH_DEVICE, "no device 'uartz' in the catalog"),
              "assign an unknown device: NoSuchDevice");
        tv_error_clear(&err);
        CHECK(tv_daemon_assign(&d, "vm2", "../x", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_INVALID_ARGUMENT, "is not a device name"),
              "assign a malformed device name: InvalidArgument");
        tv_error_clear(&err);
        CHECK(tv_daemon_assign(&d, "vm 2", "uartb", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_INVALID_ARGUMENT, "is not a domain name tegravirt accepts") &&
                      strcmp(domain_of(&d, "uartb"), "-") == 0,
              "assign to a malformed domain name: InvalidArgument, nothing recorded");
        tv_error_clear(&err);
        CHECK(tv_daemon_unassign(&d, "vm2", "uarta", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_DEVICE_BUSY, "uarta is assigned to domain vm1, not vm2") &&
                      strcmp(domain_of(&d, "uarta"), "vm1") == 0,
              "unassign from the wrong domain: refused, the assignment stays");
        tv_error_clear(&err);
        tv_daemon_free(&d);

        /* the record survives a restart */
        if (!start(&d))
                return;
        CHECK(strcmp(domain_of(&d, "uarta"), "vm1") == 0, "after a restart uarta is still assigned to vm1");
        CHECK(tv_daemon_unassign(&d, "vm1", "uarta", never_done, NULL, &err) == 0 && strcmp(domain_of(&d, "uarta"), "-") == 0 &&
                      strcmp(state_of(&d, "uarta"), TV_STATE_AVAILABLE) == 0,
              "unassign it: available again");
        CHECK(tv_daemon_unassign(&d, "vm1", "uarta", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_INVALID_ARGUMENT, "uarta is not assigned to any domain"),
              "unassign it again: InvalidArgument");
        tv_error_clear(&err);
        tv_daemon_free(&d);
        if (start(&d)) {
                CHECK(strcmp(domain_of(&d, "uarta"), "-") == 0 && d.state.n_entries == 0,
                      "after a restart the record is empty");
                tv_daemon_free(&d);
        }
}

static void test_prepare_release(void)
{
        TvDaemon d;
        TvError err = { 0 };

        if (!start_fresh(&d))
                return;
        CHECK(tv_daemon_prepare(&d, "vm1", NULL, &err) == 0 && act_log[0] == 0,
              "prepare a domain without devices: nothing to do");
        CHECK(tv_daemon_assign(&d, "vm1", "uarta", never_done, NULL, &err) == 0, "assign uarta to vm1");
        CHECK(ok(tv_daemon_prepare(&d, "vm1", NULL, &err), &err), "prepare vm1");
        CHECK(strcmp(driver_of(A), TV_VFIO_DRIVER) == 0 && phase_of(&d, "uarta") == TV_PHASE_BOUND &&
                      strcmp(state_of(&d, "uarta"), TV_STATE_ACTIVE) == 0,
              "  ... uarta on vfio-platform, recorded bound, state active");
        CHECK(tv_daemon_unassign(&d, "vm1", "uarta", never_done, NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_DEVICE_BUSY, "is in use by domain vm1 (bound to vfio-platform)"),
              "unassign while bound: refused");
        tv_error_clear(&err);
        CHECK(tv_daemon_prepare(&d, "vm1", "<domain type='kvm'><name>vm2</name></domain>", &err) == -1 &&
                      err_is(&err, TV_ERR_INVALID_ARGUMENT, "the domain XML describes another domain than vm1"),
              "prepare with another domain's XML: refused");
        tv_error_clear(&err);
        tv_daemon_free(&d);

        /* the binding survives a restart, and reconcile adopts it as it is */
        if (!start(&d))
                return;
        act_log[0] = 0;
        tv_daemon_reconcile(&d);
        CHECK(phase_of(&d, "uarta") == TV_PHASE_BOUND && strcmp(driver_of(A), TV_VFIO_DRIVER) == 0 && act_log[0] == 0,
              "after a restart, reconcile adopts the bound uarta without a change");
        CHECK(ok(tv_daemon_release(&d, "vm1", &err), &err), "release vm1");
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && phase_of(&d, "uarta") == TV_PHASE_NONE &&
                      strcmp(domain_of(&d, "uarta"), "vm1") == 0 && strcmp(state_of(&d, "uarta"), TV_STATE_ASSIGNED) == 0,
              "  ... uarta back on serial-tegra, still assigned to vm1");
        CHECK(tv_daemon_release(&d, "vm1", &err) == 0, "release again: nothing to do");

        /* uarte's group mate uartb is on its host driver: prepare refuses and changes nothing */
        CHECK(tv_daemon_assign(&d, "vm2", "uarte", never_done, NULL, &err) == 0, "assign uarte to vm2");
        act_log[0] = 0;
        CHECK(tv_daemon_prepare(&d, "vm2", NULL, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "cannot prepare domain vm2: IOMMU group 2 of " B " also holds " C),
              "prepare vm2 with uarte's group mate on the host: refused, named");
        tv_error_clear(&err);
        CHECK(act_log[0] == 0 && phase_of(&d, "uarte") == TV_PHASE_NONE && strcmp(driver_of(B), HOST_DRV) == 0,
              "  ... nothing done, nothing recorded as bound");

        /* the bind fails half-way: the device goes back, the record says so */
        fail_act = "bind vfio-platform " A;
        fail_errno = EINVAL;
        CHECK(tv_daemon_prepare(&d, "vm1", NULL, &err) == -1 && err_is(&err, TV_ERR_FAILED, A ": step bind failed"),
              "prepare vm1 with a failing bind: refused, naming the step");
        tv_error_clear(&err);
        fail_act = NULL;
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && phase_of(&d, "uarta") == TV_PHASE_NONE &&
                      strcmp(domain_of(&d, "uarta"), "vm1") == 0,
              "  ... uarta rolled back to serial-tegra, still assigned, not bound");
        CHECK(phase_after_restart(&d, "uarta") == (int)TV_PHASE_NONE, "after a restart the record shows no binding");
}

/* A crash left a record in the middle of a step: a restart's reconcile finishes it. */
static void test_reconcile(void)
{
        TvDaemon d;
        TvError err = { 0 };
        TvStateEntry *e;

        if (!start_fresh(&d))
                return;
        CHECK(tv_daemon_assign(&d, "vm1", "uarta", never_done, NULL, &err) == 0 &&
                      tv_daemon_prepare(&d, "vm1", NULL, &err) == 0,
              "uarta assigned to vm1 and prepared");
        /* as if the daemon died after the bind, before the record after it */
        e = tv_state_find(&d.state, "uarta");
        if (e)
                e->binding.phase = TV_PHASE_DETACHING;
        CHECK(e && tv_state_save(&d.state, &err) == 0, "record uarta as detaching");
        tv_daemon_free(&d);
        if (!start(&d))
                return;
        CHECK(strcmp(state_of(&d, "uarta"), TV_STATE_TRANSITION) == 0, "before reconcile uarta shows transition");
        tv_daemon_reconcile(&d);
        CHECK(strcmp(driver_of(A), HOST_DRV) == 0 && phase_of(&d, "uarta") == TV_PHASE_NONE &&
                      strcmp(domain_of(&d, "uarta"), "vm1") == 0,
              "reconcile rolls the interrupted detach back: serial-tegra, not bound, still assigned");
        CHECK(phase_after_restart(&d, "uarta") == (int)TV_PHASE_NONE, "  ... and the record says so after a restart");

        /* recorded as bound, but someone put it back on its host driver */
        if (!start(&d))
                return;
        CHECK(tv_daemon_prepare(&d, "vm1", NULL, &err) == 0 && phase_of(&d, "uarta") == TV_PHASE_BOUND, "prepare vm1 again");
        tv_daemon_free(&d);
        bind_link(A, HOST_DRV);
        if (!start(&d))
                return;
        tv_daemon_reconcile(&d);
        CHECK(phase_of(&d, "uarta") == TV_PHASE_NONE && strcmp(state_of(&d, "uarta"), TV_STATE_ASSIGNED) == 0,
              "a bound record that the host contradicts is cleared by reconcile (the host is the truth)");
        tv_daemon_free(&d);
}

/* The daemon refuses a catalog that gives a recorded device's platform id to another name. */
static void test_catalog_moved(void)
{
        TvDaemon d;
        TvError err = { 0 };
        char *moved, *at;

        if (!start_fresh(&d))
                return;
        CHECK(tv_daemon_assign(&d, "vm1", "uarta", never_done, NULL, &err) == 0, "assign uarta to vm1");
        tv_daemon_free(&d);
        moved = strdup(catalog_xml);
        at = moved ? strstr(moved, "name=\"uarta\"") : NULL;
        if (at)
                memcpy(at, "name=\"uartq\"", 12);
        put("catalog.xml", moved ? moved : "");
        free(moved);
        daemon_on_tree(&d);
        CHECK(tv_daemon_init(&d, &err) == -1 &&
                      err_is(&err, TV_ERR_INVALID_ARGUMENT, "the catalog gives " A ", which the state file records as uarta"),
              "a catalog that renames an assigned device is refused at start, naming both");
        tv_error_clear(&err);
        tv_daemon_free(&d);
}

int main(void)
{
        fake_sysfs_require();
        if (sd_event_new(&event) < 0)
                tap_skip_all("cannot create an event loop");
        test_assign_unassign();
        test_prepare_release();
        test_reconcile();
        test_catalog_moved();
        sd_event_unref(event);
        CHECK(fake_sysfs_remove(), "remove the fake tree");
        return tap_finish();
}
