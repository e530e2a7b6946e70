/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest DTB of a domain: QEMU's own virt tree for the domain's machine
 * (dumpdtb, cached by fingerprint) patched with the assigned devices. It lives
 * at <state>/domains/<domain>.dtb with the machine fingerprint beside it, so a
 * DTB made for another machine is never used.
 */
#pragma once
#include <stdint.h>
#include "daemon.h"
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

/* Makes sure QEMU's base tree for the domain (the machine options of the command line libvirt
 * would run for xml) is cached, running dumpdtb
 * (30 s timeout) as a job, one per base tree: 1 when it is cached already, 0 when a job
 * was started or joined (done is called once from the event loop), -1 with err. */
int tv_domain_dtb_fetch_base(TvDaemon *d, const char *domain, const char *xml, TvJobDoneFn done, void *userdata,
                             TvError *err);
/* Writes the domain's DTB for devs (xml: its definition, for the fingerprint), or removes it
 * when n is 0. Never runs QEMU: the base tree fetched for base_xml (NULL: xml) must be cached
 * (HostNotReady otherwise). base_xml is the definition as we wrote it, before libvirt
 * canonicalized it (virt -> virt-7.2: same tree, other command line). */
int tv_domain_dtb_update(TvDaemon *d, const char *domain, const char *xml, const char *base_xml,
                         const TvCatalogDevice *const *devs, size_t n, uint64_t bpmp_base, TvError *err);
/* PrepareDomain: refuses a DTB made for another machine than xml describes. */
int tv_domain_dtb_check(TvDaemon *d, const char *domain, const char *xml, TvError *err);
