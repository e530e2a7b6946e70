// SPDX-License-Identifier: GPL-2.0-or-later
#include "domain-sync.h"
#include "bpmp-backend.h"
#include "config.h"
#include "domain-dtb.h"
#include "domain-edit.h"
#include "gpio-backend.h"
#include "gpio-guest.h"
#include "guest-dtb.h"
#include "libvirt-conn.h"
#include "qemu-caps.h"
#include "tv-log.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* -chardev socket to the domain's BPMP backend (QEMU reconnects, every second, when it
 * restarts) and -device tegravirt-bpmp on it; the wire protocol is tegravirt-bpmp-backend(8). */
static int bridge_args(const char *run_dir, const char *domain, TvStrv *args)
{
        _cleanup_free_ char *sock = tv_bpmp_backend_socket(run_dir, domain), *esc = NULL, *chardev = NULL;

        if (!sock || !(esc = tv_qemu_opt_escape(sock)) ||
            asprintf(&chardev, "socket,id=" TV_BPMP_CHARDEV_ID ",path=%s,reconnect=1", esc) < 0)
                return -ENOMEM;
        if (tv_strv_push(args, "-chardev") < 0 || tv_strv_push(args, chardev) < 0 ||
            tv_strv_push(args, "-device") < 0 || tv_strv_push(args, "tegravirt-bpmp,chardev=" TV_BPMP_CHARDEV_ID) < 0)
                return -ENOMEM;
        return 0;
}

/* A domain's line groups and their lines as the guest numbers them. */
typedef struct Lines {
        const TvLineGroup **groups;
        size_t n;
        const char **names;             /* into the catalog */
        TvGuestGpio gpio;
} Lines;

static void lines_clear(Lines *l)
{
        free(l->groups);
        free(l->names);
        *l = (Lines){ 0 };
}

static int lines_get(TvDomainSync *s, const char *domain, Lines *l)
{
        size_t total = 0;

        *l = (Lines){ 0 };
        if (!s->domain_lines)
                return 0;
        if (s->domain_lines(s->userdata, domain, &l->groups, &l->n) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                total += l->groups[i]->n_lines;
        if (!(l->names = calloc(total + 1, sizeof(*l->names)))) {
                lines_clear(l);
                return -ENOMEM;
        }
        for (size_t i = 0; i < l->n; i++)
                for (size_t k = 0; k < l->groups[i]->n_lines; k++)
                        l->names[l->gpio.n++] = l->groups[i]->lines[k].name;
        l->gpio.names = l->names;
        return 0;
}

/* The edit for devs, in catalog order (guest addresses follow it), then the line groups:
 * all of them share one vhost-user GPIO device. */
static int build_edit(const TvDomainSync *s, const char *domain, const TvCatalogDevice *const *devs, size_t n,
                      const Lines *lines, const TvQemuCaps *caps, TvStrv *names, TvStrv *args, TvStrv *kargs,
                      TvError *err)
{
        bool bpmp = false;

        for (size_t i = 0; i < n; i++) {
                char *hostarg = NULL;
                int r;

                if (asprintf(&hostarg, "vfio-platform,host=%s", devs[i]->platform_id) < 0)
                        return tv_error_oom(err);
                r = tv_strv_push(names, devs[i]->name);
                if (r == 0)
                        r = tv_strv_push(args, "-device");
                if (r == 0)
                        r = tv_strv_consume(args, hostarg);
                else
                        free(hostarg);
                for (char **k = devs[i]->kernel_args; r == 0 && k && *k; k++)
                        r = tv_strv_push_unique(kargs, *k);
                if (r < 0)
                        return tv_error_oom(err);
                bpmp |= devs[i]->needs_bpmp;
        }
        /* our own bridge is a -device; the built-in ones of patched builds need no argument */
        if (bpmp && caps->bpmp == TV_BPMP_DEVICE && bridge_args(s->run_dir, domain, args) < 0)
                return tv_error_oom(err);
        for (size_t i = 0; i < lines->n; i++)
                if (tv_strv_push(names, lines->groups[i]->name) < 0)
                        return tv_error_oom(err);
        if (lines->n) {
                _cleanup_free_ char *sock = tv_gpio_backend_socket(s->run_dir, domain);

                if (!sock || tv_guest_gpio_qemu_args(sock, args) < 0)
                        return tv_error_oom(err);
        }
        return 0;
}

/* The caps check failed because the emulator has no BPMP bridge these devices need (and
 * not for another reason: no vfio-platform, a bridge it cannot tell). */
static bool lacks_bridge(const TvQemuCaps *caps, const TvCatalogDevice *const *devs, size_t n)
{
        bool bpmp = false;

        for (size_t i = 0; i < n; i++)
                bpmp |= devs[i]->needs_bpmp;
        return bpmp && caps->path && caps->has_vfio_platform && caps->bpmp == TV_BPMP_NONE && !caps->bpmp_unknown;
}

/* Without Emulator=, the refusal names the QEMU this project builds with the bridge. */
static void bridge_hint(const TvQemuCaps *caps, TvError *err)
{
        tv_error_clear(err);
        tv_error_set(err, TV_ERR_HOST_NOT_READY,
                     "%s (QEMU %u.%u.%u) has no BPMP bridge, which devices with BPMP clocks, resets or power domains "
                     "need; use the QEMU with -device tegravirt-bpmp that tools/build-qemu.sh installs as %s: set "
                     "Emulator=%s in tegravirtd.conf and assign again (or a QEMU with a built-in bridge, e.g. "
                     "Ghaf's ghaf-qemu-bpmp 10.1.5)",
                     caps->path, caps->major, caps->minor, caps->micro, TV_DEFAULT_BRIDGE_QEMU, TV_DEFAULT_BRIDGE_QEMU);
}

/* An operation on one domain that may wait for jobs (QEMU probe, dumpdtb). Each time a
 * job ends it starts over from what libvirt and the record say now, so nothing that
 * changed meanwhile is overwritten; the define happens in the same step as that read. */
struct TvDomainOp {
        TvDomainSync *s;
        char *domain;
        bool refresh;                   /* only the DTB (after a redefine), not the definition */
        unsigned rounds;                /* jobs waited for */
        char *probed;                   /* the emulator a probe just ended for */
        TvSyncDoneFn done;
        void *userdata;
        struct TvDomainOp *next;
};

/* probe, dump, and a retry of each if the emulator or machine changed meanwhile */
#define MAX_ROUNDS 4

static void on_job(const TvError *jerr, void *userdata);

/* Before waiting for another job. */
static int round_check(TvDomainOp *op, TvError *err)
{
        if (op->rounds >= MAX_ROUNDS)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the emulator or machine of domain %s kept changing while QEMU was asked; retry",
                                    op->domain);
        return 0;
}

/* What emulator offers for devs, with BpmpBridge= applied, checked against their needs.
 * 0 with *out, 1 when a probe was started or joined (the operation goes on when it ends). */
static int effective_caps(TvDomainOp *op, const char *emulator, const TvCatalogDevice *const *devs, size_t n,
                          bool lines, TvQemuCaps *out, TvError *err)
{
        TvDomainSync *s = op->s;
        const TvQemuCaps *caps;
        bool bpmp = false;
        int r;

        /* an entry whose bridge stayed unknown is good enough right after its own probe */
        r = tv_qemu_caps_lookup(s->qemu_caps, emulator, op->probed && strcmp(op->probed, emulator) == 0, &caps, err);
        if (r < 0)
                return -1;
        if (r == 0) {
                free(op->probed);
                op->probed = strdup(emulator);
                if (!op->probed)
                        return tv_error_oom(err);
                if (round_check(op, err) < 0 ||
                    tv_qemu_caps_probe(s->qemu_caps, s->dtb.jobs, emulator, TV_QEMU_PROBE_TIMEOUT_MS, on_job, op, err) < 0)
                        return -1;
                op->rounds++;
                return 1;
        }
        *out = *caps;
        if (s->config->bpmp_bridge >= 0) {
                /* the admin knows this build's bridge better than the probe */
                out->bpmp = s->config->bpmp_bridge ? TV_BPMP_BUILTIN_090D0000 : TV_BPMP_NONE;
                out->bpmp_base = s->config->bpmp_bridge ? s->config->bpmp_base : 0;
                out->bpmp_unknown = false;
        }
        for (size_t i = 0; i < n; i++)
                bpmp |= devs[i]->needs_bpmp;
        /* line groups alone need no vfio-platform */
        if (n && tv_qemu_caps_check(out, bpmp, err) < 0)
                return -1;
        if (lines && !out->has_vhost_user_gpio)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s (QEMU %u.%u.%u) has no -device " TV_GUEST_GPIO_QEMU_DEVICE ", which GPIO line "
                                    "groups need (QEMU 7.2 and later have it; the one tools/build-qemu.sh installs "
                                    "as %s also offers the guest GPIO interrupts): set Emulator=%s in tegravirtd.conf "
                                    "and assign again",
                                    out->path, out->major, out->minor, out->micro, TV_DEFAULT_BRIDGE_QEMU,
                                    TV_DEFAULT_BRIDGE_QEMU);
        /* -device tegravirt-bpmp sits on the platform bus after the devices (build_edit's order) */
        if (bpmp && out->bpmp == TV_BPMP_DEVICE && tv_guest_place_bridge(devs, n, &out->bpmp_base, err) < 0)
                return -1;
        return 0;
}

/* The QEMU command line libvirt would run for xml: what shapes QEMU's tree (domain-dtb.c). */
static int native_argv(TvDomainSync *s, const char *xml, char **native, TvError *err)
{
        if (!tv_libvirt_enabled(s->libvirt))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the guest device tree follows libvirt's QEMU command line, and LibvirtUri= is empty");
        return tv_libvirt_qemu_argv(s->libvirt, xml, native, err);
}

/* 1 when QEMU's base tree for xml's machine is being dumped (the operation goes on when it ends).
 * *native: libvirt's command line for xml, asked for here unless already known (the caller frees it). */
static int fetch_base(TvDomainOp *op, const char *xml, char **native, TvError *err)
{
        int r;

        if (round_check(op, err) < 0)
                return -1;
        if (!*native && native_argv(op->s, xml, native, err) < 0)
                return -1;
        r = tv_domain_dtb_fetch_base(&op->s->dtb, op->domain, xml, *native, on_job, op, err);
        if (r < 0)
                return -1;
        if (r == 1)
                return 0;
        op->rounds++;
        return 1;
}
/* Refuses, before anything is written, a device set QEMU's platform bus cannot hold. */
static int check_placement(const TvCatalogDevice *const *devs, size_t n, TvError *err)
{
        TvGuestPlacement *place = calloc(n ? n : 1, sizeof(*place));
        int r = place ? tv_guest_place(devs, n, place, err) : tv_error_oom(err);

        free(place);
        return r;
}

static int refresh_step(TvDomainOp *op, TvError *err)
{
        TvDomainSync *s = op->s;
        const TvCatalogDevice **devs = NULL;
        TvDomainInfo info = { 0 };
        TvQemuCaps caps;
        Lines lines;
        char *xml = NULL, *native = NULL;
        size_t n = 0;
        int r = -1;

        if (s->domain_devices(s->userdata, op->domain, &devs, &n) < 0)
                return tv_error_oom(err);
        if (lines_get(s, op->domain, &lines) < 0) {
                free(devs);
                return tv_error_oom(err);
        }
        if (n == 0 && lines.n == 0)
                r = tv_domain_dtb_update(&s->dtb, op->domain, NULL, NULL, devs, 0, 0, NULL, err);
        else if (tv_libvirt_get_xml(s->libvirt, op->domain, &xml, NULL, err) == 0 &&
                 tv_domain_inspect(xml, strlen(xml), &info, err) == 0) {
                if (!info.emulator)
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML names no <emulator>");
                else if ((r = effective_caps(op, info.emulator, devs, n, lines.n > 0, &caps, err)) == 0 &&
                         (r = fetch_base(op, xml, &native, err)) == 0)
                        r = tv_domain_dtb_update(&s->dtb, op->domain, xml, native, devs, n, caps.bpmp_base,
                                                 lines.n ? &lines.gpio : NULL, err);
        }
        lines_clear(&lines);
        tv_domain_info_clear(&info);
        free(devs);
        free(xml);
        free(native);
        return r;
}

static int sync_step(TvDomainOp *op, bool *running, TvError *err)
{
        TvDomainSync *s = op->s;
        const char *domain = op->domain;
        const TvCatalogDevice **devs = NULL;
        TvDomainInfo info = { 0 };
        TvDomainEdit edit = { 0 };
        _cleanup_(tv_strv_clear) TvStrv names = { 0 }, args = { 0 }, kargs = { 0 };
        TvQemuCaps caps = { 0 };
        Lines lines = { 0 };
        char *xml = NULL, *out = NULL, *emulator = NULL, *dtb = NULL, *stored = NULL, *native = NULL;
        size_t n = 0;
        int r = -1;

        *running = false;
        if (s->domain_devices(s->userdata, domain, &devs, &n) < 0)
                return tv_error_oom(err);
        if (lines_get(s, domain, &lines) < 0) {
                free(devs);
                return tv_error_oom(err);
        }
        if (tv_libvirt_get_xml(s->libvirt, domain, &xml, running, err) < 0)
                goto out;
        if (tv_domain_inspect(xml, strlen(xml), &info, err) < 0)
                goto out;
        if (n > 0 || lines.n > 0) {
                /* the emulator must carry what these devices need, or QEMU dies at start */
                /* the domain's own emulator: the one before ours, when Emulator= replaced it */
                const char *own = info.emulator_ours ? info.emulator_original : info.emulator;

                if (own)
                        emulator = strdup(own);
                else if (tv_libvirt_default_emulator(s->libvirt, "qemu", &emulator, err) < 0)
                        goto out;
                if (!emulator)
                        goto oom;
                if (lines.n && s->config->emulator && *s->config->emulator &&
                    strcmp(s->config->emulator, emulator) != 0) {
                        /* Emulator= is our QEMU: its vhost-user-gpio offers VIRTIO_GPIO_F_IRQ (guest
                         * interrupts), which no probe can see; line groups run on it */
                        free(emulator);
                        if (!(emulator = strdup(s->config->emulator)))
                                goto oom;
                        edit.emulator = emulator;
                } else if (lines.n && (!s->config->emulator || !*s->config->emulator)) {
                        tv_log(LOG_NOTICE, "domain %s: its GPIO line groups run on %s; unless that QEMU's "
                               "vhost-user-gpio offers VIRTIO_GPIO_F_IRQ (the one tools/build-qemu.sh builds does: "
                               "Emulator=), the guest gets no GPIO interrupts", domain, emulator);
                }
                r = effective_caps(op, emulator, devs, n, lines.n > 0, &caps, err);
                if (r < 0 && lacks_bridge(&caps, devs, n)) {
                        const char *conf = s->config->emulator;

                        if (conf && *conf && strcmp(conf, emulator) != 0) {
                                /* Emulator= has -device tegravirt-bpmp: the domain runs on it */
                                tv_error_clear(err);
                                free(emulator);
                                if (!(emulator = strdup(conf)))
                                        goto oom;
                                caps = (TvQemuCaps){ 0 };
                                r = effective_caps(op, emulator, devs, n, lines.n > 0, &caps, err);
                                edit.emulator = emulator;
                        } else if (!conf || !*conf) {
                                bridge_hint(&caps, err);
                        }
                }
                if (r == 0 && (check_placement(devs, n, err) < 0 ||
                               build_edit(s, domain, devs, n, &lines, &caps, &names, &args, &kargs, err) < 0))
                        r = -1;
                if (r != 0)
                        goto out;
                r = -1;
                dtb = tv_domain_dtb_path(s->dtb.state_dir, domain);
                if (!dtb)
                        goto oom;
        }
        edit.devices = names.v;
        edit.qemu_args = args.v;
        edit.kernel_args = kargs.v;
        edit.dtb = dtb;
        edit.shared_memory = lines.n > 0;
        if (tv_domain_edit_apply(xml, strlen(xml), &edit, &out, err) < 0)
                goto out;
        /* the tree QEMU builds for the definition as we write it (our edit may turn ACPI off),
         * before the define: the domain never points at a DTB we could not make */
        if ((n > 0 || lines.n > 0) && (r = fetch_base(op, out, &native, err)) != 0)
                goto out;
        r = -1;
        if (tv_libvirt_define(s->libvirt, out, err) < 0)
                goto out;
        s->own_define(s->userdata, domain);
        /* the DTB follows the machine libvirt stored (it canonicalizes e.g. virt -> virt-7.2); its
         * base tree is the one of the definition as we wrote it (native: libvirt's line for out) */
        if (tv_libvirt_get_xml(s->libvirt, domain, &stored, NULL, err) < 0 ||
            tv_domain_dtb_update(&s->dtb, domain, stored, native, devs, n, caps.bpmp_base,
                                 lines.n ? &lines.gpio : NULL, err) < 0) {
                TvError ignored = { 0 };

                /* put the definition back as it was: never a domain pointing at a DTB we could not make */
                if (tv_libvirt_define(s->libvirt, xml, &ignored) == 0)
                        s->own_define(s->userdata, domain);
                goto out;
        }
        /* <cmdline> needs <kernel>: a disk-booting guest's boot loader must pass them */
        if (kargs.n && !info.has_kernel)
                tv_log(LOG_NOTICE, "domain %s boots from its disk: its boot loader must add the kernel "
                        "arguments %s needs (tegravirtctl check %s)", domain, n > 1 ? "its devices" : devs[0]->name,
                        domain);
        r = 0;
        goto out;
oom:
        r = tv_error_oom(err);
out:
        lines_clear(&lines);
        tv_domain_info_clear(&info);
        free(devs);
        free(emulator);
        free(dtb);
        free(xml);
        free(out);
        free(stored);
        free(native);
        return r;
}

static int op_step(TvDomainOp *op, bool *running, TvError *err)
{
        int r;

        *running = false;
        r = op->refresh ? refresh_step(op, err) : sync_step(op, running, err);
        if (r < 0 && !op->refresh)
                tv_error_prefix(err, "domain %s", op->domain);
        return r;
}

static void op_free(TvDomainOp *op)
{
        for (TvDomainOp **pp = &op->s->ops; *pp; pp = &(*pp)->next)
                if (*pp == op) {
                        *pp = op->next;
                        break;
                }
        free(op->domain);
        free(op->probed);
        free(op);
}

static void on_job(const TvError *jerr, void *userdata)
{
        TvDomainOp *op = userdata;
        TvError err = { 0 };
        bool running = false;
        int r;

        if (jerr) {
                err = *jerr;
                if (!op->refresh)
                        tv_error_prefix(&err, "domain %s", op->domain);
                r = -1;
        } else {
                r = op_step(op, &running, &err);
                if (r == 1)
                        return; /* waits for the next job */
        }
        /* unlinked before done: the caller may start the next operation on this domain */
        op->done(op->s, r, running, &err, op->userdata);
        op_free(op);
}

static int op_start(TvDomainSync *s, const char *domain, bool refresh, TvSyncDoneFn done, void *userdata,
                    bool *running, TvError *err)
{
        TvDomainOp *op = calloc(1, sizeof(*op));
        int r;

        if (!op || !(op->domain = strdup(domain))) {
                free(op);
                return tv_error_oom(err);
        }
        op->s = s;
        op->refresh = refresh;
        op->done = done;
        op->userdata = userdata;
        op->next = s->ops;
        s->ops = op;
        r = op_step(op, running, err);
        if (r != 1)
                op_free(op);
        return r;
}

bool tv_domain_busy(TvDomainSync *s, const char *domain, bool with_refresh)
{
        for (TvDomainOp *op = s->ops; op; op = op->next)
                if (strcmp(op->domain, domain) == 0 && (with_refresh || !op->refresh))
                        return true;
        return false;
}

int tv_domain_refresh_dtb(TvDomainSync *s, const char *domain, TvSyncDoneFn done, void *userdata, TvError *err)
{
        bool running;

        return op_start(s, domain, true, done, userdata, &running, err);
}

int tv_domain_sync(TvDomainSync *s, const char *domain, TvSyncDoneFn done, void *userdata, bool *running,
                   TvError *err)
{
        *running = false;
        if (!tv_libvirt_enabled(s->libvirt))
                return 0;
        return op_start(s, domain, false, done, userdata, running, err);
}
