/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest DTB of a domain: QEMU's own virt tree for the domain's machine
 * (dumpdtb, cached by fingerprint) patched with the assigned devices. It lives
 * at <state>/domains/<domain>.dtb with the machine fingerprint beside it, so a
 * DTB made for another machine is never used.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "catalog.h"
#include "gpio-guest.h"
#include "job.h"

/* What shapes QEMU's virt tree, as the domain XML says. */
typedef struct TvMachine {
        char *emulator;
        char *machine;          /* os/type@machine, e.g. "virt-7.2" */
        char *accel;            /* "kvm" or "tcg" from domain@type */
        char *cpu;              /* cpu model, "host" for host-passthrough */
        unsigned vcpus;
        unsigned long long mem_mib;
        char *gic;              /* features/gic@version or NULL */
        char *shape;            /* the rest that shapes the tree: CPU topology, current vCPUs, ACPI,
                                 * IOMMU model, NUMA cells (for the fingerprint) */
} TvMachine;

/* Refuses at once, by name, what is not an aarch64 'virt' guest (QEMU would never finish
 * a dumpdtb of some other machines). */
int tv_machine_from_xml(const char *xml, size_t len, TvMachine *m, TvError *err);
void tv_machine_clear(TvMachine *m);
/* Also covers the emulator binary (inode, mtime): an upgrade makes the DTB stale. */
int tv_machine_fingerprint(const TvMachine *m, uint64_t *fp, TvError *err);

/* Where a domain's guest DTB and the cached base trees live, and the jobs that run QEMU. */
typedef struct TvDtbStore {
        const char *state_dir;          /* absolute: the DTB path ends up in domain XML */
        TvJobSet *jobs;
} TvDtbStore;

/* The path reserved for the domain's guest DTB: <state_dir>/domains/<domain>.dtb (malloc'ed; NULL: out of memory). */
char *tv_domain_dtb_path(const char *state_dir, const char *domain);

/* Makes sure QEMU's base tree for the domain (the machine options of native, the command
 * line libvirt would run for xml: tv_libvirt_qemu_argv) is cached, running dumpdtb
 * (30 s timeout) as a job, one per base tree: 1 when it is cached already, 0 when a job
 * was started or joined (done is called once from the event loop), -1 with err. */
int tv_domain_dtb_fetch_base(const TvDtbStore *s, const char *domain, const char *xml, const char *native,
                             TvJobDoneFn done, void *userdata, TvError *err);
/* Writes the domain's DTB for devs and gpio (the line groups' virtio GPIO device, NULL for
 * none; xml: its definition, for the fingerprint), or removes it when n is 0 and gpio NULL
 * (xml and base_native unused). Never runs QEMU: the base tree fetched for
 * base_native must be cached (HostNotReady otherwise). base_native is libvirt's command line
 * for the definition as we wrote it, before libvirt canonicalized it (virt -> virt-7.2: same
 * tree, other command line). */
int tv_domain_dtb_update(const TvDtbStore *s, const char *domain, const char *xml, const char *base_native,
                         const TvCatalogDevice *const *devs, size_t n, uint64_t bpmp_base, const TvGuestGpio *gpio,
                         TvError *err);
/* PrepareDomain: refuses a DTB made for another machine than xml describes. */
int tv_domain_dtb_check(const TvDtbStore *s, const char *domain, const char *xml, TvError *err);
/* Removes every <state_dir>/domains/<domain>.dtb (and .fingerprint) of a domain keep() says
 * has no assignment left: a renamed, undefined or unassigned domain's leftovers. */
void tv_domain_dtb_prune(const TvDtbStore *s, bool (*keep)(void *userdata, const char *domain), void *userdata);
