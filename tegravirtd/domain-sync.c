// SPDX-License-Identifier: GPL-2.0-or-later
#include "domain-sync.h"
#include "domain-dtb.h"
#include "domain-edit.h"
#include "guest-dtb.h"
#include "libvirt-conn.h"
#include "qemu-caps.h"
#include "tv-names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

char *tv_domain_dtb_path(TvDaemon *d, const char *domain)
{
        char *p = NULL;

        if (asprintf(&p, "%s/domains/%s.dtb", d->state_dir_abs, domain) < 0)
                return NULL;
        return p;
}

/* A NULL-terminated vector we grow as we go; on OOM the caller sees -ENOMEM. */
typedef struct StrV {
        char **v;
        size_t n;
} StrV;

static int strv_push(StrV *s, const char *x, bool unique)
{
        char **nv;

        if (unique)
                for (size_t i = 0; i < s->n; i++)
                        if (strcmp(s->v[i], x) == 0)
                                return 0;
        nv = realloc(s->v, (s->n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        s->v = nv;
        s->v[s->n] = strdup(x);
        if (!s->v[s->n])
                return -ENOMEM;
        s->v[++s->n] = NULL;
        return 0;
}

static void strv_clear(StrV *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        s->v = NULL;
        s->n = 0;
}

/* The edit for devs, in catalog order (guest addresses follow it). */
static int build_edit(const TvCatalogDevice *const *devs, size_t n, const TvQemuCaps *caps, StrV *names,
                      StrV *args, StrV *kargs, TvError *err)
{
        bool bpmp = false;

        for (size_t i = 0; i < n; i++) {
                char *hostarg = NULL;
                int r;

                if (asprintf(&hostarg, "vfio-platform,host=%s", devs[i]->platform_id) < 0)
                        return tv_error_set(err, TV_ERR_FAILED, "out of memory");
                r = strv_push(names, devs[i]->name, false);
                if (r == 0)
                        r = strv_push(args, "-device", false);
                if (r == 0)
                        r = strv_push(args, hostarg, false);
                free(hostarg);
                for (char **k = devs[i]->kernel_args; r == 0 && k && *k; k++)
                        r = strv_push(kargs, *k, true);
                if (r < 0)
                        return tv_error_set(err, TV_ERR_FAILED, "out of memory");
                bpmp |= devs[i]->needs_bpmp;
        }
        /* our own bridge is a -device; the built-in ones of patched builds need no argument */
        if (bpmp && caps->bpmp == TV_BPMP_DEVICE &&
            (strv_push(args, "-device", false) < 0 || strv_push(args, "tegravirt-bpmp", false) < 0))
                return tv_error_set(err, TV_ERR_FAILED, "out of memory");
        return 0;
}

/* What emulator offers for devs, with BpmpBridge= applied, checked against their needs. */
static int effective_caps(TvDaemon *d, const char *emulator, const TvCatalogDevice *const *devs, size_t n,
                          TvQemuCaps *out, TvError *err)
{
        const TvQemuCaps *caps;
        bool bpmp = false;

        if (tv_qemu_caps_get(d->qemu_caps, emulator, &caps, err) < 0)
                return -1;
        *out = *caps;
        if (d->config.bpmp_bridge >= 0) {
                /* the admin knows this build's bridge better than the probe */
                out->bpmp = d->config.bpmp_bridge ? TV_BPMP_BUILTIN_090D0000 : TV_BPMP_NONE;
                out->bpmp_base = d->config.bpmp_bridge ? d->config.bpmp_base : 0;
                out->bpmp_unknown = false;
        }
        for (size_t i = 0; i < n; i++)
                bpmp |= devs[i]->needs_bpmp;
        return tv_qemu_caps_check(out, bpmp, err);
}

/* Refuses, before anything is written, a device set QEMU's platform bus cannot hold. */
static int check_placement(const TvCatalogDevice *const *devs, size_t n, TvError *err)
{
        TvGuestPlacement *place = calloc(n ? n : 1, sizeof(*place));
        int r = place ? tv_guest_place(devs, n, place, err) : tv_error_set(err, TV_ERR_FAILED, "out of memory");

        free(place);
        return r;
}

int tv_domain_refresh_dtb(TvDaemon *d, const char *domain, const char *xml, TvError *err)
{
        const TvCatalogDevice **devs = calloc(d->catalog->n_devices + 1, sizeof(*devs));
        TvDomainInfo info = { 0 };
        TvQemuCaps caps;
        size_t n;
        int r = -1;

        if (!devs)
                return tv_error_set(err, TV_ERR_FAILED, "out of memory");
        n = tv_daemon_domain_devices(d, domain, devs);
        if (n == 0)
                r = tv_domain_dtb_update(d, domain, xml, devs, 0, 0, err);
        else if (tv_domain_inspect(xml, strlen(xml), &info, err) == 0) {
                if (!info.emulator)
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML names no <emulator>");
                else if (effective_caps(d, info.emulator, devs, n, &caps, err) == 0)
                        r = tv_domain_dtb_update(d, domain, xml, devs, n, caps.bpmp_base, err);
        }
        tv_domain_info_clear(&info);
        free(devs);
        return r;
}

int tv_domain_sync(TvDaemon *d, const char *domain, bool *running, TvError *err)
{
        const TvCatalogDevice **devs = NULL;
        TvDomainInfo info = { 0 };
        TvDomainEdit edit = { 0 };
        StrV names = { 0 }, args = { 0 }, kargs = { 0 };
        TvQemuCaps caps = { 0 };
        char *xml = NULL, *out = NULL, *emulator = NULL, *dtb = NULL, *stored = NULL;
        size_t n;
        int r = -1;

        *running = false;
        if (!tv_libvirt_enabled(d->libvirt))
                return 0;
        devs = calloc(d->catalog->n_devices + 1, sizeof(*devs));
        if (!devs)
                return tv_error_set(err, TV_ERR_FAILED, "out of memory");
        n = tv_daemon_domain_devices(d, domain, devs);
        if (tv_libvirt_get_xml(d->libvirt, domain, &xml, running, err) < 0)
                goto out;
        if (tv_domain_inspect(xml, strlen(xml), &info, err) < 0)
                goto out;
        if (n > 0) {
                /* the emulator must carry what these devices need, or QEMU dies at start */
                if (info.emulator)
                        emulator = strdup(info.emulator);
                else if (tv_libvirt_default_emulator(d->libvirt, "qemu", &emulator, err) < 0)
                        goto out;
                if (!emulator)
                        goto oom;
                if (effective_caps(d, emulator, devs, n, &caps, err) < 0 || check_placement(devs, n, err) < 0 ||
                    build_edit(devs, n, &caps, &names, &args, &kargs, err) < 0)
                        goto out;
                dtb = tv_domain_dtb_path(d, domain);
                if (!dtb)
                        goto oom;
        }
        edit.devices = names.v;
        edit.qemu_args = args.v;
        edit.kernel_args = kargs.v;
        edit.dtb = dtb;
        if (tv_domain_edit_apply(xml, strlen(xml), &edit, &out, err) < 0)
                goto out;
        if (tv_libvirt_define(d->libvirt, out, err) < 0)
                goto out;
        tv_daemon_note_own_define(d, domain);
        /* the DTB follows the machine libvirt stored (it canonicalizes e.g. virt -> virt-7.2) */
        if (tv_libvirt_get_xml(d->libvirt, domain, &stored, NULL, err) < 0 ||
            tv_domain_dtb_update(d, domain, stored, devs, n, caps.bpmp_base, err) < 0) {
                TvError ignored = { 0 };

                /* put the definition back as it was: never a domain pointing at a DTB we could not make */
                if (tv_libvirt_define(d->libvirt, xml, &ignored) == 0)
                        tv_daemon_note_own_define(d, domain);
                goto out;
        }
        /* <cmdline> needs <kernel>: a disk-booting guest's boot loader must pass them */
        if (kargs.n && !info.has_kernel)
                fprintf(stderr, SD_NOTICE "domain %s boots from its disk: its boot loader must add the kernel "
                        "arguments %s needs (tegravirtctl check %s)\n", domain, n > 1 ? "its devices" : devs[0]->name,
                        domain);
        r = 0;
        goto out;
oom:
        tv_error_set(err, TV_ERR_FAILED, "out of memory");
out:
        if (r < 0)
                tv_error_prefix(err, "domain %s", domain);
        strv_clear(&names);
        strv_clear(&args);
        strv_clear(&kargs);
        tv_domain_info_clear(&info);
        free(devs);
        free(emulator);
        free(dtb);
        free(xml);
        free(out);
        free(stored);
        return r;
}
