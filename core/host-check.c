// SPDX-License-Identifier: GPL-2.0-or-later
#include "host-check.h"
#include "bpmp-active.h"
#include "config.h"
#include "domain-edit.h"
#include "gpio-hazard.h"
#include "libvirt-conn.h"
#include "qemu-access.h"
#include "tv-names.h"
#include "tv-validate.h"
#include "vfio-diag.h"
#include "tv-macros.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Checks {
        TvCheck *v;
        size_t n;
        bool oom;
} Checks;

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
        char *s = NULL;

        return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static void add(Checks *c, const char *item, const char *status, const char *fix, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static void add(Checks *c, const char *item, const char *status, const char *fix, const char *fmt, ...)
{
        TvCheck *nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
        va_list ap;

        if (!nv) {
                c->oom = true;
                return;
        }
        c->v = nv;
        va_start(ap, fmt);
        nv[c->n] = (TvCheck){ .item = item, .status = status, .detail = vformat(fmt, ap), .fix = strdup(fix) };
        va_end(ap);
        if (!nv[c->n].detail || !nv[c->n].fix)
                c->oom = true;
        c->n++;
}

static void check_params(TvDaemon *d, Checks *c)
{
        char *v = NULL;

        if (tv_sysfs_driver_loaded(&d->host, TV_VFIO_DRIVER))
                add(c, "vfio-platform", "ok", "", "the vfio-platform driver is loaded");
        else
                add(c, "vfio-platform", "missing", "modprobe vfio-platform; echo vfio-platform > /etc/modules-load.d/tegravirt.conf",
                    "the vfio-platform driver is not loaded");
        if (tv_sysfs_param_read(&d->host, "vfio_platform", "reset_required", &v) == 0 && strcmp(v, "N") == 0)
                add(c, "reset_required", "ok", "", "vfio_platform.reset_required=N");
        else
                add(c, "reset_required", "missing", "add vfio_platform.reset_required=0 to the kernel command line and reboot",
                    "vfio_platform.reset_required is %s (Tegra devices have no vfio reset handler)", v ? v : "unreadable");
        free(v);
        v = NULL;
        if (tv_sysfs_param_read(&d->host, "vfio_iommu_type1", "allow_unsafe_interrupts", &v) == 0 && strcmp(v, "Y") == 0)
                add(c, "unsafe-interrupts", "ok", "", "vfio_iommu_type1.allow_unsafe_interrupts=Y");
        else if (d->config.allow_unsafe_interrupts)
                add(c, "unsafe-interrupts", "ok", "", "off now; tegravirtd turns it on at the first start (AllowUnsafeInterrupts=yes)");
        else
                add(c, "unsafe-interrupts", "missing",
                    "set AllowUnsafeInterrupts=yes in tegravirtd.conf or add vfio_iommu_type1.allow_unsafe_interrupts=1 to the kernel command line",
                    "vfio_iommu_type1.allow_unsafe_interrupts is off; Orin's SMMU has no MSI isolation");
        free(v);
}

#define TV_VFIO_RESET_FIX "apply kernel/patches/0004-vfio-platform-do-not-fail-probe-without-an-optional-reset.patch " \
        "to this kernel, or boot a kernel >= 6.3 or a JetPack 5.x/6.x kernel"

static bool any_device_on_vfio(TvDaemon *d)
{
        for (size_t i = 0; i < d->catalog->n_devices; i++) {
                const TvHostView *v = tv_daemon_host_view(d, &d->catalog->devices[i]);

                if (v->present && v->driver && strcmp(v->driver, TV_VFIO_DRIVER) == 0)
                        return true;
        }
        return false;
}

/* What the kernel's vfio-platform itself needs: the probe failures of 6.1 (see vfio-diag.h),
 * from the last failed bind, else from the release alone. */
static void check_vfio_kernel(TvDaemon *d, Checks *c)
{
        int e = d->hostdev.vfio_bind_errno;
        _cleanup_free_ char *hint = e ? tv_vfio_bind_hint(&d->host, d->hostdev.vfio_bind_device, -e) : NULL, *param = NULL, *release = NULL;

        if (e == ENOENT && hint && tv_sysfs_param_read(&d->host, "vfio_platform", "reset_required", &param) == 0 &&
            strcmp(param, "N") != 0)
                return;         /* the reset_required item says what to do */
        if (e == ENOENT && hint) {
                add(c, "vfio-reset-fix", "missing", TV_VFIO_RESET_FIX, "binding %s to vfio-platform failed (ENOENT): %s",
                    d->hostdev.vfio_bind_device, hint);
        } else if (e == EINVAL && hint && tv_vfio_device_lacks_compatible(&d->host, d->hostdev.vfio_bind_device)) {
                add(c, "vfio-compatible", "missing", "assign only devices that have a device-tree node",
                    "binding %s to vfio-platform failed (EINVAL): %s", d->hostdev.vfio_bind_device, hint);
        } else if (e == EINVAL && hint) {
                add(c, "cache-coherency", "missing",
                    "add dma-coherent to the SMMU node and the device node in the host device tree and reboot",
                    "binding %s to vfio-platform failed (EINVAL): %s", d->hostdev.vfio_bind_device, hint);
        } else if (tv_host_kernel_release(&d->host, &release) == 0 && tv_kernel_release_lacks_reset_fix(release) &&
                   !any_device_on_vfio(d)) {
                add(c, "vfio-reset-fix", "warning", TV_VFIO_RESET_FIX,
                    "kernel %s: unless it carries the reset-optional fix (upstream v6.3, commit 168a9c91fe0a), "
                    "its vfio-platform fails every Tegra device with ENOENT; known after the first bind", release);
        }
}

/* With a proxy that narrows: each domain's own /dev/bpmp-host (the ioctl ABI), and the active
 * sets still what the running domains need (a re-bound proxy starts empty). */
static void check_bpmp_files(TvDaemon *d, Checks *c)
{
        TvError err = { 0 };
        int fd = tv_bpmp_dev_open(&d->host, &err);

        if (fd >= 0) {
                close(fd);
                add(c, "bpmp-ioctl", "ok", "", "/dev/" TV_BPMP_DEV_NODE " speaks the ioctl ABI: each running domain gets "
                    "its own file, narrowed to its devices' clocks, resets and power domains");
        } else {
                add(c, "bpmp-ioctl", "missing", "install and load the BPMP host proxy of this release's kernel/ "
                    "(kernel/README.md)", "%s", err.message);
        }
        tv_error_clear(&err);
        if (tv_bpmp_active_verify(&d->bpmp, &d->state, d->catalog, &err) < 0)
                add(c, "bpmp-active", "missing", "systemctl restart tegravirtd (or prepare or release any domain): it "
                    "rewrites the active sets and reopens the domains' files", "%s", err.message);
        else if (d->bpmp.resyncs)
                add(c, "bpmp-active", "warning", "journalctl -k: find what re-bound the proxy; a running guest's BPMP "
                    "requests failed until then", "re-synced %u time%s since start-up, last %s", d->bpmp.resyncs,
                    d->bpmp.resyncs == 1 ? "" : "s", d->bpmp.resync_text ? d->bpmp.resync_text : "");
        else
                add(c, "bpmp-active", "ok", "", "the BPMP host proxy's active sets are what the running domains need, "
                    "and each of them holds its own narrowed /dev/" TV_BPMP_DEV_NODE);
        tv_error_clear(&err);
}

/* A whole GPIO controller whose host driver has bound since boot cannot go to vfio. */
static void check_gpio_controller(TvDaemon *d, const TvCatalogDevice *dev, Checks *c)
{
        const TvHostView *v = tv_daemon_host_view(d, dev);
        const TvStateEntry *e = tv_state_find(&d->state, dev->name);
        const char *ours = e && e->binding.phase != TV_PHASE_NONE ? e->binding.orig_driver : NULL;
        char *why = NULL;
        int r = tv_gpio_controller_hazard(&d->host, dev, v->driver, ours, &why);

        if (r != 0 && !why)
                c->oom = true;
        else if (r > 0)
                add(c, "gpio-host-driver", "missing", TV_GPIO_HAZARD_FIX, "%s", why);
        else if (r < 0)
                add(c, "gpio-host-driver", "warning", "mount -t debugfs none /sys/kernel/debug", "%s", why);
        else if (dev->kind && strcmp(dev->kind, "gpio") == 0 && dev->n_irqs)
                add(c, "gpio-host-driver", "ok", "", "the host driver of %s (%s) has not bound since boot",
                    dev->name, dev->platform_id);
        free(why);
}

static bool any_line_group(TvDaemon *d, const char *domain)
{
        for (size_t i = 0; i < d->catalog->n_line_groups; i++) {
                const char *owner = tv_daemon_line_group_domain(d, &d->catalog->line_groups[i]);

                if (*owner && (!*domain || strcmp(owner, domain) == 0))
                        return true;
        }
        return false;
}

/* Each running domain with line groups has its GPIO backend; its binary is there. */
static void check_gpio_backends(TvDaemon *d, const char *domain, Checks *c)
{
        const TvBackendProcs *b = &d->gpio_backends;
        bool any = false;

        for (size_t i = 0; i < d->catalog->n_line_groups; i++) {
                const char *owner = tv_daemon_line_group_domain(d, &d->catalog->line_groups[i]);
                const char *failed;
                pid_t pid;
                bool seen = false;

                if (!*owner || (*domain && strcmp(owner, domain) != 0))
                        continue;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(tv_daemon_line_group_domain(d, &d->catalog->line_groups[j]), owner) == 0;
                if (seen)
                        continue;
                any = true;
                pid = tv_backend_pid(b, owner);
                failed = tv_backend_failed(b, owner);
                if (pid > 0)
                        add(c, "gpio-backend", "ok", "", "%s: tegravirt-gpio-backend pid %d serves %s/domains/%s/"
                            TV_GPIO_BACKEND_SOCKET, owner, (int)pid, b->run_dir, owner);
                else if (failed)
                        add(c, "gpio-backend", "missing", "journalctl -u tegravirtd: its messages say why (e.g. a line "
                            "the host took: free it); then tegravirtctl prepare (or restart the domain)",
                            "%s: no GPIO backend runs: tegravirtd gave up after %u starts in a row failed (last: %s); "
                            "the guest's GPIO requests wait", owner, TV_BACKEND_MAX_FAILURES, failed);
                else if (tv_backend_known(b, owner))
                        add(c, "gpio-backend", "missing", "journalctl -u tegravirtd: why it died; it is restarted",
                            "%s: no GPIO backend runs (being restarted): the guest's GPIO requests wait until then",
                            owner);
        }
        if (any && access(b->path, X_OK) < 0)
                add(c, "gpio-backend", "missing", "install tegravirt-gpio-backend with tegravirtd",
                    "line groups are assigned, but the GPIO backend %s cannot run (%s): PrepareDomain will fail",
                    b->path, strerror(errno));
        else if (any)
                add(c, "gpio-backend", "ok", "", "%s runs for each running domain with line groups", b->path);
}

/* Each assigned GPIO line group: its controller stays with the host, no line is taken. */
static void check_line_groups(TvDaemon *d, const char *domain, Checks *c)
{
        for (size_t i = 0; i < d->catalog->n_line_groups; i++) {
                const TvLineGroup *g = &d->catalog->line_groups[i];
                const char *owner = tv_daemon_line_group_domain(d, g);
                TvError err = { 0 };

                if (!*owner || (*domain && strcmp(owner, domain) != 0))
                        continue;
                if (tv_daemon_line_group_hazard(d, g, &err) < 0)
                        add(c, "gpio-lines", "missing", strstr(err.message, "host overlay") ?
                            "tegravirtctl host-overlay without the controller, apply it and reboot" :
                            "free the line on the host (or change the line group in /etc/tegravirt/catalog.d)",
                            "%s", err.message);
                else
                        add(c, "gpio-lines", "ok", "", "the %zu line(s) of %s (for %s) are free on %s", g->n_lines,
                            g->name, owner, g->controller);
                tv_error_clear(&err);
        }
}

static void check_bpmp_backends(TvDaemon *d, Checks *c, const char *domain);

static void check_devices(TvDaemon *d, const char *domain, Checks *c)
{
        const char **pids = calloc(d->catalog->n_devices + 1, sizeof(char *));
        const TvCatalogDevice **bpmp_devs = calloc(d->catalog->n_devices + 1, sizeof(*bpmp_devs));
        size_t n_bpmp = 0;
        TvQemuAccess access;
        TvError err = { 0 };
        size_t n = 0;

        if (!pids || !bpmp_devs) {
                free(pids);
                free(bpmp_devs);
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < d->catalog->n_devices; i++) {
                const TvCatalogDevice *dev = &d->catalog->devices[i];
                const char *owner = tv_daemon_device_domain(d, dev);
                const TvHostView *v;

                if (!*owner || (*domain && strcmp(owner, domain) != 0))
                        continue;
                pids[n++] = dev->platform_id;
                if (dev->needs_bpmp)
                        bpmp_devs[n_bpmp++] = dev;
                v = tv_daemon_host_view(d, dev);
                if (!v->present)
                        add(c, "device", "missing", "enable the node in the host device tree", "%s (%s, for %s) is not on this host",
                            dev->name, dev->platform_id, owner);
                else if (v->group < 0 && d->config.allow_noiommu)
                        add(c, "iommu-group", "warning", "set AllowNoIommu=no in tegravirtd.conf on a host that runs guests",
                            "%s (%s) has no IOMMU group: AllowNoIommu=yes binds it in vfio's unsafe no-IOMMU mode",
                            dev->name, dev->platform_id);
                else if (v->group < 0)
                        add(c, "iommu-group", "missing",
                            "give the node its own SMMU stream (iommus = <&smmu_niso0 ...>) in the host device tree",
                            "%s (%s) has no IOMMU group", dev->name, dev->platform_id);
                if (v->present)
                        check_gpio_controller(d, dev, c);
        }
        if (n == 0 && any_line_group(d, domain)) {
                /* only GPIO line groups: nothing for vfio or qemu.conf (check_line_groups) */
        } else if (n == 0) {
                add(c, "assignments", "warning", "tegravirtctl assign DOMAIN DEVICE", "no devices are assigned%s%s",
                    *domain ? " to " : "", domain);
        } else if (!*d->config.qemu_conf) {
                add(c, "qemu.conf", "warning", "set QemuConf= in tegravirtd.conf", "the cgroup_device_acl check is off (QemuConf= is empty)");
        } else if (tv_qemu_access_find(&d->host, d->config.qemu_conf, pids, n, &access, &err) < 0) {
                add(c, "qemu.conf", "missing", "fix the file so libvirt can read it", "%s", err.message);
        } else if (access.missing[0]) {
                add(c, "qemu.conf", "missing", access.acl_line, "libvirt would deny QEMU %s (not in cgroup_device_acl of %s)",
                    access.missing, d->config.qemu_conf);
        } else {
                add(c, "qemu.conf", "ok", "", "cgroup_device_acl in %s lists every node QEMU will open", d->config.qemu_conf);
        }
        tv_error_clear(&err);
        if (n_bpmp && tv_bpmp_active_check_devices(&d->bpmp, bpmp_devs, n_bpmp, &err) == 0)
                add(c, "bpmp-proxy", "ok", "", "the BPMP host proxy allows every clock, reset and power domain these devices need");
        else if (n_bpmp && strstr(err.message, "cannot narrow"))
                add(c, "bpmp-proxy", "warning", "install tegravirt's kernel/ BPMP host proxy", "%s", err.message);
        else if (n_bpmp)
                add(c, "bpmp-proxy", "missing", "tegravirtctl host-overlay DEVICE..., apply it to the host device tree and reboot",
                    "%s", err.message);
        if (n_bpmp && !err.name) {
                check_bpmp_files(d, c);
                check_bpmp_backends(d, c, domain);
        }
        tv_error_clear(&err);
        free(bpmp_devs);
        free(pids);
}

/* Each running BPMP domain (it holds a narrowed file) has its backend. */
static void check_bpmp_backends(TvDaemon *d, Checks *c, const char *domain)
{
        for (TvBpmpDomain *bd = d->bpmp.domains; bd; bd = bd->next) {
                const char *failed;
                pid_t pid;

                if (bd->fd < 0 || (*domain && strcmp(bd->domain, domain) != 0))
                        continue;
                pid = tv_backend_pid(&d->backends, bd->domain);
                failed = tv_backend_failed(&d->backends, bd->domain);
                if (pid > 0)
                        add(c, "bpmp-backend", "ok", "", "%s: tegravirt-bpmp-backend pid %d serves %s/domains/%s/"
                            TV_BPMP_BACKEND_SOCKET, bd->domain, (int)pid, d->backends.run_dir, bd->domain);
                else if (failed)
                        add(c, "bpmp-backend", "missing", "journalctl -u tegravirtd: its messages say why; fix it, then "
                            "tegravirtctl prepare (or restart the domain)",
                            "%s: no BPMP backend runs: tegravirtd gave up after %u starts in a row failed (last: %s); "
                            "the guest's BPMP requests fail", bd->domain, TV_BACKEND_MAX_FAILURES, failed);
                else if (access(d->backends.path, X_OK) < 0)
                        add(c, "bpmp-backend", "missing", "install tegravirt-bpmp-backend with tegravirtd",
                            "%s: no BPMP backend runs: %s cannot run (%s)", bd->domain, d->backends.path,
                            strerror(errno));
                else
                        add(c, "bpmp-backend", "missing", "journalctl -u tegravirtd: why it died; it is restarted",
                            "%s: no BPMP backend runs (being restarted): the guest's BPMP requests fail until then",
                            bd->domain);
        }
}

/* The hook lives next to qemu.conf: <libvirt config dir>/hooks/qemu.d/tegravirt */
static void check_hook(TvDaemon *d, Checks *c)
{
        char *copy, *path = NULL;

        if (!*d->config.qemu_conf)
                return;
        copy = strdup(d->config.qemu_conf);
        if (!copy || asprintf(&path, "%s/hooks/qemu.d/tegravirt", dirname(copy)) < 0) {
                free(copy);
                c->oom = true;
                return;
        }
        if (access(path, X_OK) == 0)
                add(c, "hook", "ok", "", "%s is installed", path);
        else if (strcmp(path, TV_HOOK_INSTALLED) != 0 && access(TV_HOOK_INSTALLED, X_OK) == 0)
                add(c, "hook", "missing", "copy it there (or rebuild with meson -Dlibvirt_hooks_dir=), then 'systemctl reload libvirtd' (or virtqemud)",
                    "%s is missing: tegravirt installed its hook as " TV_HOOK_INSTALLED ", which this libvirt does not read", path);
        else
                add(c, "hook", "missing", "install tegravirt's hook there, then 'systemctl reload libvirtd' (or virtqemud)",
                    "%s is missing or not executable: virsh start would not bind the devices", path);
        free(path);
        free(copy);
}

/* The files dbus and polkit read, at the paths this build installed them to: a
 * running daemon outlives a removed policy until the bus reloads or it restarts. */
static void check_installed(Checks *c)
{
        if (access(TV_DBUS_POLICY_FILE, R_OK) == 0)
                add(c, "bus-policy", "ok", "", "%s is installed", TV_DBUS_POLICY_FILE);
        else
                add(c, "bus-policy", "missing", "install tegravirt's data/org.tegravirt.conf as " TV_DBUS_POLICY_FILE
                    " (meson install), then 'systemctl reload dbus'",
                    "%s is missing: the system bus will not let tegravirtd own org.tegravirt once it reloads", TV_DBUS_POLICY_FILE);
        if (access(TV_POLKIT_ACTION_FILE, R_OK) == 0)
                add(c, "polkit-action", "ok", "", "%s is installed", TV_POLKIT_ACTION_FILE);
        else
                add(c, "polkit-action", "missing", "install tegravirt's data/org.tegravirt.policy as " TV_POLKIT_ACTION_FILE
                    " (meson install)",
                    "%s is missing: polkit cannot grant org.tegravirt.manage, only root can change assignments",
                    TV_POLKIT_ACTION_FILE);
}

static void check_apparmor(TvDaemon *d, Checks *c)
{
        char *v = NULL;

        if (tv_sysfs_param_read(&d->host, "apparmor", "enabled", &v) == 0 && strcmp(v, "Y") == 0) {
                if (access(TV_APPARMOR_SNIPPET, R_OK) == 0)
                        add(c, "apparmor", "ok", "", "%s is installed", TV_APPARMOR_SNIPPET);
                else
                        add(c, "apparmor", "missing",
                            "install tegravirt's apparmor/tegravirt as " TV_APPARMOR_SNIPPET " and restart libvirtd",
                            "AppArmor is on and libvirt-qemu's profile does not let QEMU open /dev/vfio or its BPMP "
                            "backend's socket");
        }
        free(v);
}

/* Configured is not reachable: assign, unassign and repair need libvirt to answer. */
static void check_libvirt(TvDaemon *d, Checks *c)
{
        TvError err = { 0 };

        if (!tv_libvirt_enabled(d->libvirt))
                add(c, "libvirt", "warning", "set LibvirtUri= in tegravirtd.conf",
                    "the libvirt integration is off: assignments do not change domain definitions");
        else if (tv_libvirt_ping(d->libvirt, &err) < 0)
                add(c, "libvirt", "missing", "start libvirtd (systemctl start libvirtd, or virtqemud) or correct LibvirtUri= in tegravirtd.conf",
                    "%s is unreachable: assign, unassign and repair are refused until it answers (%s)",
                    tv_libvirt_uri(d->libvirt), err.message);
        else
                add(c, "libvirt", "ok", "", "definitions are rewritten through %s", tv_libvirt_uri(d->libvirt));
}

/* Kernel arguments the domain's devices need: in <os><cmdline> of a direct-kernel domain;
 * a disk-booting (UEFI) guest must get them from its own boot loader (GRUB replaces
 * /chosen/bootargs, and libvirt's <cmdline> needs <kernel>). */
static void check_kernel_args(TvDaemon *d, const char *domain, Checks *c)
{
        const TvCatalogDevice **devs = calloc(d->catalog->n_devices + 1, sizeof(*devs));
        char *args = NULL, *xml = NULL;
        size_t n, len = 0;
        TvDomainInfo info = { 0 };
        TvError err = { 0 };

        if (!devs) {
                c->oom = true;
                return;
        }
        n = tv_daemon_domain_devices(d, domain, devs);
        for (size_t i = 0; i < n; i++)
                for (char **k = devs[i]->kernel_args; k && *k; k++) {
                        size_t kl = strlen(*k);
                        char *na;
                        bool dup = false;

                        for (const char *p = args; p && (p = strstr(p, *k)); p += kl)
                                dup = dup || ((p == args || p[-1] == ' ') && (p[kl] == ' ' || !p[kl]));
                        if (dup)
                                continue;
                        na = realloc(args, len + kl + 2);
                        if (!na) {
                                c->oom = true;
                                goto out;
                        }
                        args = na;
                        if (len)
                                args[len++] = ' ';
                        memcpy(args + len, *k, kl + 1);
                        len += kl;
                }
        free(devs);
        devs = NULL;
        if (!args)
                return;
        if (tv_libvirt_get_xml(d->libvirt, domain, &xml, NULL, &err) < 0 ||
            tv_domain_inspect(xml, strlen(xml), &info, &err) < 0)
                add(c, "guest-kernel-args", "warning", "", "cannot read the definition of %s: %s; the guest needs: %s",
                    domain, err.message, args);
        else if (info.has_kernel)
                add(c, "guest-kernel-args", "ok", "", "%s are in <os><cmdline> of %s (direct kernel boot)", args, domain);
        else {
                char *fix = NULL;

                if (asprintf(&fix, "in the guest, add \"%s\" to GRUB_CMDLINE_LINUX in /etc/default/grub and run "
                                   "update-grub (or the boot loader's equivalent)", args) < 0)
                        c->oom = true;
                else
                        add(c, "guest-kernel-args", "warning", fix,
                            "%s boots from its disk (UEFI, no <kernel>): its boot loader sets the kernel command line, "
                            "so the guest must add %s itself", domain, args);
                free(fix);
        }
out:
        tv_domain_info_clear(&info);
        free(xml);
        free(args);
        free(devs);
}

int tv_host_check(TvDaemon *d, const char *domain, TvCheck **out, size_t *n, TvError *err)
{
        Checks c = { 0 };

        if (*domain && !tv_domain_name_valid(domain))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "'%.64s' is not a domain name tegravirt accepts", domain);
        check_params(d, &c);
        check_vfio_kernel(d, &c);
        check_devices(d, domain, &c);
        check_line_groups(d, domain, &c);
        check_gpio_backends(d, domain, &c);
        check_hook(d, &c);
        check_installed(&c);
        check_apparmor(d, &c);
        if (*domain && tv_libvirt_enabled(d->libvirt))
                check_kernel_args(d, domain, &c);
        check_libvirt(d, &c);
        if (c.oom) {
                tv_checks_free(c.v, c.n);
                return tv_error_oom(err);
        }
        *out = c.v;
        *n = c.n;
        return 0;
}

void tv_checks_free(TvCheck *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(c[i].detail);
                free(c[i].fix);
        }
        free(c);
}
