// SPDX-License-Identifier: GPL-2.0-or-later
#include "hostdev.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "vfio-diag.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VFIO TV_VFIO_DRIVER

static const char *const phase_names[] = {
        [TV_PHASE_NONE] = "none",
        [TV_PHASE_DETACHING] = "detaching",
        [TV_PHASE_BOUND] = "bound",
        [TV_PHASE_REATTACHING] = "reattaching",
};

const char *tv_phase_to_string(TvPhase p)
{
        return (unsigned)p < sizeof(phase_names) / sizeof(phase_names[0]) ? phase_names[p] : "?";
}

int tv_phase_from_string(const char *s, TvPhase *p)
{
        for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
                if (strcmp(s, phase_names[i]) == 0) {
                        *p = (TvPhase)i;
                        return 0;
                }
        return -EINVAL;
}

void tv_binding_reset(TvBinding *b)
{
        free(b->orig_driver);
        free(b->orig_override);
        b->orig_driver = b->orig_override = NULL;
        b->phase = TV_PHASE_NONE;
}

static bool streq_null(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int step_error(TvError *err, const char *pid, const char *step, int r)
{
        const char *name = r == -ENODEV || r == -ENOENT ? TV_ERR_HOST_NOT_READY : TV_ERR_FAILED;

        return tv_error_set(err, name, "%s: step %s failed: %s", pid, step, strerror(-r));
}

static int current_driver(TvHostdev *hd, const char *pid, char **drv)
{
        return tv_sysfs_get_driver(hd->host, pid, drv);
}

static bool driver_is(TvHostdev *hd, const char *pid, const char *want)
{
        _cleanup_free_ char *drv = NULL;

        return current_driver(hd, pid, &drv) == 0 && streq_null(drv, want);
}

/*
 * Puts a device back the way the binding says we found it: original override,
 * original driver. Used for rollback, reattach and recovery alike.
 * Returns 0 when the device is on its original driver afterwards.
 */
static int restore_original(TvHostdev *hd, const char *pid, TvBinding *b, const char **failed_step,
                            int *failed_errno)
{
        bool verified = false;  /* the last read, after the last change, showed the original driver */
        char *drv = NULL;
        int r;

        *failed_step = NULL;
        *failed_errno = 0;
        r = tv_sysfs_set_override(hd->host, pid, b->orig_override);
        if (r < 0) {
                *failed_step = "restore driver_override";
                goto fail;
        }
        r = current_driver(hd, pid, &drv);
        if (r < 0) {
                *failed_step = "read driver";
                goto fail;
        }
        if (drv && !streq_null(drv, b->orig_driver)) {
                r = tv_sysfs_unbind(hd->host, pid, drv);
                if (r < 0) {
                        *failed_step = "unbind";
                        goto fail;
                }
                free(drv);
                drv = NULL;
        } else if (streq_null(drv, b->orig_driver)) {
                verified = true; /* already where it belongs */
        }
        if (!drv && b->orig_driver) {
                r = tv_sysfs_drivers_probe(hd->host, pid);
                if (r < 0) {
                        *failed_step = "drivers_probe";
                        goto fail;
                }
                /* drivers_probe ignores probe errors; bind explicitly as a fallback */
                {
                        char *now = NULL;

                        r = current_driver(hd, pid, &now);
                        verified = r == 0 && streq_null(now, b->orig_driver);
                        if (r == 0 && !now) {
                                r = tv_sysfs_bind(hd->host, pid, b->orig_driver);
                                if (r < 0 && r != -EBUSY) {
                                        *failed_step = "bind original driver";
                                        free(now);
                                        goto fail;
                                }
                        }
                        free(now);
                }
        }
        free(drv);
        drv = NULL;
        if (!verified && !driver_is(hd, pid, b->orig_driver)) {
                *failed_step = "verify";
                r = -EIO;
                goto fail;
        }
        return 0;
fail:
        free(drv);
        *failed_errno = r;
        return r;
}

/* A probe failure the kernel reports only by its errno: say what it means and keep
 * it for tegravirtctl check. */
static void explain_vfio_bind(TvHostdev *hd, TvError *err, const char *pid, int r)
{
        _cleanup_free_ char *hint = tv_vfio_bind_hint(hd->host, r);
        size_t len = strlen(err->message);

        hd->vfio_bind_errno = -r;
        snprintf(hd->vfio_bind_device, sizeof(hd->vfio_bind_device), "%s", pid);
        if (hint)
                snprintf(err->message + len, sizeof(err->message) - len, "; %s", hint);
}

/* vfio-platform owns the device when the driver link says so. */
static int bind_vfio(TvHostdev *hd, const char *pid, const char *cur, const char **failed_step)
{
        int r;

        *failed_step = "driver_override";
        r = tv_sysfs_set_override(hd->host, pid, VFIO);
        if (r < 0)
                return r;
        if (cur && strcmp(cur, VFIO) != 0) {
                *failed_step = "unbind";
                r = tv_sysfs_unbind(hd->host, pid, cur);
                if (r < 0)
                        return r;
        }
        if (!cur || strcmp(cur, VFIO) != 0) {
                *failed_step = "bind";
                r = tv_sysfs_bind(hd->host, pid, VFIO);
                if (r < 0)
                        return r;
        }
        *failed_step = "verify";
        return driver_is(hd, pid, VFIO) ? 0 : -EIO;
}

/* Back to vfio-platform after a failed reattach, so the device is whole. */
static void rebind_after_failed_reattach(TvHostdev *hd, TvHostdevItem *it)
{
        const char *step;
        _cleanup_free_ char *cur = NULL;

        if (current_driver(hd, it->platform_id, &cur) < 0)
                return;
        if (bind_vfio(hd, it->platform_id, cur, &step) == 0)
                it->binding->phase = TV_PHASE_BOUND;
}

static bool in_batch(const TvHostdevItem *items, size_t n, const char *pid)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(items[i].platform_id, pid) == 0)
                        return true;
        return false;
}

/* group: pid's, as tv_sysfs_device_info read it */
static int check_group(TvHostdev *hd, const TvHostdevItem *items, size_t n, const char *pid, int group,
                       TvError *err)
{
        _cleanup_strv_ char **members = NULL;
        int r;

        if (group < 0 && hd->config->allow_noiommu)
                return 0; /* vfio's no-IOMMU mode gives it a group of its own when it binds */
        if (group < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s has no IOMMU group; give it its own SMMU stream (iommus = <&smmu_niso0 ...>) in the host device tree",
                                    pid);
        r = tv_sysfs_group_devices(hd->host, group, &members);
        if (r < 0)
                return step_error(err, pid, "list IOMMU group", r);
        for (char **m = members; *m; m++) {
                _cleanup_free_ char *drv = NULL;

                if (in_batch(items, n, *m))
                        continue;
                r = current_driver(hd, *m, &drv);
                if (r == 0 && drv && strcmp(drv, VFIO) != 0)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "IOMMU group %d of %s also holds %s, which is bound to host driver %s; "
                                            "assign %s to the same domain or unbind it from %s",
                                            group, pid, *m, drv, *m, drv);
        }
        return 0;
}

/* Only with AllowNoIommu=yes: vfio must be in its no-IOMMU mode, or the bind gives no group. */
static int check_noiommu_mode(TvHostdev *hd, const char *pid, TvError *err)
{
        _cleanup_free_ char *v = NULL;

        if (tv_sysfs_param_read(hd->host, "vfio", "enable_unsafe_noiommu_mode", &v) == 0 && strcmp(v, "Y") == 0)
                return 0;
        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                            "%s has no IOMMU group and AllowNoIommu=yes, but vfio is not in its no-IOMMU mode "
                            "(vfio.enable_unsafe_noiommu_mode=1)", pid);
}

static int resolve_qemu_ids(const TvHostdevConfig *c, uid_t *uid, gid_t *gid, TvError *err)
{
        struct passwd *pw = getpwnam(c->qemu_user);
        struct group *gr = getgrnam(c->qemu_group);

        if (!pw)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "QEMU user '%s' does not exist; install libvirt-daemon-system or set QemuUser= in tegravirtd.conf",
                                    c->qemu_user);
        if (!gr)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "QEMU group '%s' does not exist; set QemuGroup= in tegravirtd.conf",
                                    c->qemu_group);
        *uid = pw->pw_uid;
        *gid = gr->gr_gid;
        return 0;
}

int tv_hostdev_check_host(TvHostdev *hd, const TvHostdevItem *items, size_t n, TvError *err)
{
        bool need_unsafe = false;
        _cleanup_free_ char *v = NULL;
        int r;

        if (!tv_sysfs_driver_loaded(hd->host, VFIO))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the vfio-platform driver is not loaded; run 'modprobe vfio-platform' or add it to /etc/modules-load.d");
        r = tv_sysfs_param_read(hd->host, "vfio_platform", "reset_required", &v);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "cannot read vfio_platform.reset_required: %s", strerror(-r));
        if (strcmp(v, "N") != 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "vfio_platform.reset_required is %s but Tegra devices have no vfio reset handler; "
                                    "add vfio_platform.reset_required=0 to the kernel command line (it is read-only at runtime) and reboot",
                                    v);
        free(v);
        v = NULL;
        for (size_t i = 0; i < n; i++)
                need_unsafe |= items[i].needs_unsafe_interrupts;
        if (!need_unsafe)
                return 0;
        r = tv_sysfs_param_read(hd->host, "vfio_iommu_type1", "allow_unsafe_interrupts", &v);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "cannot read vfio_iommu_type1.allow_unsafe_interrupts: %s (is vfio_iommu_type1 loaded?)",
                                    strerror(-r));
        if (strcmp(v, "Y") == 0)
                return 0;
        if (!hd->config->allow_unsafe_interrupts)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "vfio_iommu_type1.allow_unsafe_interrupts is off and Orin's SMMU has no MSI isolation; "
                                    "set AllowUnsafeInterrupts=yes in tegravirtd.conf or add vfio_iommu_type1.allow_unsafe_interrupts=1 to the kernel command line");
        r = tv_sysfs_param_write(hd->host, "vfio_iommu_type1", "allow_unsafe_interrupts", "Y");
        if (r < 0)
                return step_error(err, "vfio_iommu_type1", "allow_unsafe_interrupts", r);
        return 0;
}

/* Persists the batch's records; errors go to err when given. Only a record written
 * before a host change needs the fsyncs (see TvRecordFn). */
static int record(TvHostdev *hd, bool durable, TvError *err)
{
        TvError ignored = { 0 };

        return hd->record(hd->userdata, durable, err ? err : &ignored);
}

/* Restores every DETACHING/REATTACHING item of the batch to its original driver.
 * Items that cannot be restored keep their phase, recorded for the next start. */
static void restore_batch(TvHostdev *hd, TvHostdevItem *items, size_t n, TvError *err)
{
        for (size_t i = n; i-- > 0;) {
                TvBinding *b = items[i].binding;
                const char *step;
                int rerr;

                if (b->phase != TV_PHASE_DETACHING && b->phase != TV_PHASE_REATTACHING)
                        continue;
                if (restore_original(hd, items[i].platform_id, b, &step, &rerr) < 0) {
                        tv_error_prefix(err, "rollback of %s (%s: %s) failed too, recorded for the next start",
                                        items[i].platform_id, step, strerror(-rerr));
                        continue;
                }
                b->phase = TV_PHASE_NONE;
        }
        record(hd, false, NULL); /* if this fails, the next start restores again: harmless */
        for (size_t i = 0; i < n; i++)
                if (items[i].binding->phase == TV_PHASE_NONE)
                        tv_binding_reset(items[i].binding);
}

/* Plans to restore exactly what each item is bound to now: info[i], as the pre-flight
 * checks read it (read again after recovering an interrupted step). */
static int plan_detach(TvHostdev *hd, TvHostdevItem *items, size_t n, TvDeviceInfo *info, TvError *err)
{
        for (size_t i = 0; i < n; i++) {
                TvBinding *b = items[i].binding;
                const char *pid = items[i].platform_id;
                char *cur = NULL, *ovr = NULL, *drift = NULL;
                int r;

                if (b->phase == TV_PHASE_DETACHING || b->phase == TV_PHASE_REATTACHING) {
                        /* an interrupted step: put the device back first, then start over */
                        r = tv_hostdev_recover(hd, &items[i], &drift, err);
                        free(drift);
                        if (r < 0)
                                return -1;
                        tv_device_info_clear(&info[i]);
                        r = tv_sysfs_device_info(hd->host, pid, &info[i]);
                        if (r < 0)
                                return step_error(err, pid, "read current driver", r);
                }
                if (b->phase == TV_PHASE_BOUND && streq_null(info[i].driver, VFIO))
                        continue; /* already ours: prepare is idempotent */
                tv_binding_reset(b);
                cur = info[i].driver;
                ovr = info[i].override;
                info[i].driver = info[i].override = NULL;
                if (cur && strcmp(cur, VFIO) == 0) {
                        /* found on vfio already (bound by hand): adopt it, and since
                         * that is where it was, release leaves it there (libvirt does
                         * the same for a device it found on its stub driver) */
                        b->orig_driver = cur;
                        b->orig_override = ovr;
                        b->phase = TV_PHASE_BOUND;
                        continue;
                }
                b->orig_driver = cur;
                b->orig_override = ovr;
                b->phase = TV_PHASE_DETACHING;
        }
        return 0;
}

static void forget_plan(TvHostdevItem *items, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (items[i].binding->phase == TV_PHASE_DETACHING)
                        tv_binding_reset(items[i].binding);
}

static void free_info(TvDeviceInfo *info, size_t n)
{
        for (size_t i = 0; i < n; i++)
                tv_device_info_clear(&info[i]);
        free(info);
}

int tv_hostdev_prepare(TvHostdev *hd, TvHostdevItem *items, size_t n, TvError *err)
{
        TvDeviceInfo *info;
        int *groups;
        uid_t uid = 0;
        gid_t gid = 0;

        if (tv_hostdev_check_host(hd, items, n, err) < 0)
                return -1;
        if (resolve_qemu_ids(hd->config, &uid, &gid, err) < 0)
                return -1;
        groups = calloc(n ? n : 1, sizeof(int));
        info = calloc(n ? n : 1, sizeof(*info));
        if (!groups || !info) {
                free(groups);
                free(info);
                return tv_error_oom(err);
        }
        /* one walk to each device's directory: presence, driver, override, group */
        for (size_t i = 0; i < n; i++) {
                int r = tv_sysfs_device_info(hd->host, items[i].platform_id, &info[i]);

                if (r == -ENODEV) {
                        tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                     "%s is not on this host's platform bus; enable its node in the host device tree",
                                     items[i].platform_id);
                        goto fail;
                }
                if (r < 0) {
                        step_error(err, items[i].platform_id, "read driver, override and iommu_group", r);
                        goto fail;
                }
                groups[i] = items[i].group = info[i].group;
                if (check_group(hd, items, n, items[i].platform_id, groups[i], err) < 0)
                        goto fail;
                if (groups[i] < 0 && check_noiommu_mode(hd, items[i].platform_id, err) < 0)
                        goto fail;
        }
        /* one record for the whole batch, before the first host change */
        if (plan_detach(hd, items, n, info, err) < 0) {
                forget_plan(items, n);
                goto fail;
        }
        if (record(hd, true, err) < 0) {
                tv_error_prefix(err, "cannot record the binding state, host left unchanged");
                forget_plan(items, n);
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                const char *step;
                int r;

                if (items[i].binding->phase != TV_PHASE_DETACHING)
                        continue;
                r = bind_vfio(hd, items[i].platform_id, items[i].binding->orig_driver, &step);
                if (r < 0) {
                        step_error(err, items[i].platform_id, step, r);
                        if (strcmp(step, "bind") == 0)
                                explain_vfio_bind(hd, err, items[i].platform_id, r);
                        goto rollback;
                }
        }
        /* no group before the bind (AllowNoIommu=yes only): vfio's no-IOMMU group now */
        for (size_t i = 0; i < n; i++) {
                int r;

                if (groups[i] >= 0)
                        continue;
                r = tv_sysfs_iommu_group(hd->host, items[i].platform_id, &groups[i]);
                if (r < 0 || groups[i] < 0) {
                        tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                     "%s: no IOMMU group after binding vfio-platform in vfio's no-IOMMU mode",
                                     items[i].platform_id);
                        goto rollback;
                }
                items[i].group = groups[i];
        }
        /* the group node exists only once every member is on vfio */
        for (size_t i = 0; i < n; i++) {
                /* one open: a missing node is ENOENT */
                int r = tv_dev_vfio_group_chown(hd->host, groups[i], uid, gid, 0660);

                if (r == -ENOENT && hd->config->allow_noiommu)
                        r = tv_dev_vfio_noiommu_chown(hd->host, groups[i], uid, gid, 0660);
                if (r == -ENOENT && hd->config->allow_noiommu) {
                        tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                     "%s: neither /dev/vfio/%d nor /dev/vfio/noiommu-%d appeared after binding vfio-platform",
                                     items[i].platform_id, groups[i], groups[i]);
                        goto rollback;
                }
                if (r == -ENOENT) {
                        tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                     "%s: /dev/vfio/%d did not appear after binding vfio-platform",
                                     items[i].platform_id, groups[i]);
                        goto rollback;
                }
                if (r < 0) {
                        step_error(err, items[i].platform_id, "vfio group permissions", r);
                        goto rollback;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (items[i].binding->phase == TV_PHASE_DETACHING)
                        items[i].binding->phase = TV_PHASE_BOUND;
        if (record(hd, false, err) < 0) {
                /* the record still says "detaching": make the host agree with it */
                for (size_t i = 0; i < n; i++)
                        if (items[i].binding->phase == TV_PHASE_BOUND && items[i].binding->orig_driver)
                                items[i].binding->phase = TV_PHASE_DETACHING;
                goto rollback;
        }
        hd->vfio_bind_errno = 0;
        free(groups);
        free_info(info, n);
        return 0;
rollback:
        restore_batch(hd, items, n, err);
fail:
        free(groups);
        free_info(info, n);
        return -1;
}

int tv_hostdev_release(TvHostdev *hd, TvHostdevItem *items, size_t n, TvError *err)
{
        bool any = false;
        int ret = 0;

        for (size_t i = 0; i < n; i++) {
                if (items[i].binding->phase == TV_PHASE_NONE)
                        continue;
                items[i].binding->phase = TV_PHASE_REATTACHING;
                any = true;
        }
        if (!any)
                return 0;
        if (record(hd, true, err) < 0) {
                for (size_t i = 0; i < n; i++)
                        if (items[i].binding->phase == TV_PHASE_REATTACHING)
                                items[i].binding->phase = TV_PHASE_BOUND;
                tv_error_prefix(err, "cannot record the binding state, host left unchanged");
                return -1;
        }
        /* reverse order, like libvirt's reattach */
        for (size_t i = n; i-- > 0;) {
                TvBinding *b = items[i].binding;
                const char *step;
                int rerr;

                if (b->phase != TV_PHASE_REATTACHING)
                        continue;
                if (restore_original(hd, items[i].platform_id, b, &step, &rerr) == 0) {
                        b->phase = TV_PHASE_NONE;
                        continue;
                }
                step_error(err, items[i].platform_id, step, rerr);
                ret = -1;
                /* back to vfio-platform so the device is whole and release can be retried */
                rebind_after_failed_reattach(hd, &items[i]);
                if (b->phase == TV_PHASE_BOUND)
                        tv_error_prefix(err, "left bound to vfio-platform, release again to retry");
        }
        if (record(hd, false, ret < 0 ? NULL : err) < 0)
                return -1; /* memory and disk disagree: the next start re-restores */
        for (size_t i = 0; i < n; i++)
                if (items[i].binding->phase == TV_PHASE_NONE)
                        tv_binding_reset(items[i].binding);
        return ret;
}

int tv_hostdev_recover(TvHostdev *hd, TvHostdevItem *it, char **drift, TvError *err)
{
        TvBinding *b = it->binding;
        const char *pid = it->platform_id, *step;
        char *cur = NULL;
        int r, rerr;

        *drift = NULL;
        switch (b->phase) {
        case TV_PHASE_NONE:
                return 0;
        case TV_PHASE_BOUND:
                r = current_driver(hd, pid, &cur);
                if (r == 0 && cur && strcmp(cur, VFIO) == 0) {
                        free(cur);
                        return 0; /* adopt */
                }
                if (r < 0 && asprintf(drift, "%s: recorded as bound to vfio-platform but it is gone from sysfs",
                                      pid) < 0)
                        *drift = NULL;
                else if (r == 0 && asprintf(drift, "%s: recorded as bound to vfio-platform but sysfs shows %s",
                                            pid, cur ? cur : "no driver") < 0)
                        *drift = NULL;
                free(cur);
                if (r < 0)
                        return 0; /* keep the record until the device is back */
                /* someone else moved it: the host is the truth, restore what we recorded */
                break;
        case TV_PHASE_DETACHING:
        case TV_PHASE_REATTACHING:
                break;
        }
        if (!tv_sysfs_device_exists(hd->host, pid))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s: device is gone, record kept", pid);
        r = restore_original(hd, pid, b, &step, &rerr);
        if (r < 0)
                return step_error(err, pid, step, rerr);
        b->phase = TV_PHASE_NONE;
        if (hd->record(hd->userdata, false, err) < 0)
                return -1;
        tv_binding_reset(b);
        return 0;
}
