/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure transform of a libvirt domain definition (no libvirt calls): adds what QEMU
 * needs for the assigned platform devices and records it in <metadata>, so that a
 * later call can take exactly that back out again. The format of the record is
 * described in tegravirt-domain-metadata(5) and xml-schemas/domain-metadata.rng.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tv-error.h"
#include "tv-limits.h"        /* TV_DOMAIN_XML_MAX_BYTES */
#include "tv-names.h"         /* TV_DOMAIN_NS */

#define TV_DOMAIN_NS_PREFIX     "tegravirt"
#define TV_QEMU_NS              "http://libvirt.org/schemas/domain/qemu/1.0"

/* The largest domain XML document the parser takes. */
/* Input limits, on top of TV_DOMAIN_XML_MAX_BYTES for the document. */
#define TV_DOMAIN_EDIT_MAX_TOKENS     1024      /* per list (devices, qemu args, kernel args) */
#define TV_DOMAIN_EDIT_MAX_TOKEN_LEN  4096      /* bytes per token or path */

typedef struct TvDomainEdit {
        char **devices;      /* catalog names assigned to the domain, NULL-terminated; NULL or empty = only revert */
        char **qemu_args;    /* tokens to add at the end of <qemu:commandline>, in order, NULL-terminated */
        const char *dtb;     /* absolute path for <os><dtb>, or NULL to leave <dtb> alone */
        char **kernel_args;  /* tokens to append to <os><cmdline> unless already present, NULL-terminated */
        const char *emulator; /* absolute path for <devices><emulator> (the previous one is recorded and
                               * restored by the revert), or NULL to leave <emulator> alone */
        bool shared_memory;  /* vhost-user devices (GPIO line groups): guest RAM in shared memfd
                              * (<memoryBacking><source type='memfd'/><access mode='shared'/>); a
                              * <memoryBacking> or NUMA cell that says otherwise is refused */
} TvDomainEdit;

/* First removes exactly what an earlier apply recorded in our metadata (the run of
 * qemu args we added, the dtb we set -- restoring the user's previous one --, the
 * <features><acpi/> we removed and the cmdline tokens we appended), then applies edit
 * and records it. Everything else is kept. With no devices, qemu_args, dtb and
 * kernel_args must be empty (revert only).
 * dtb needs direct kernel boot (<os><kernel>) or UEFI firmware, and refuses a domain
 * with its own <dtb>; setting it removes <features><acpi/> (with ACPI the guest never
 * sees the tree). kernel_args go into <os><cmdline> of a direct-kernel domain only; a
 * disk-booting guest must get them from its boot loader (the caller reports them).
 * out is a NUL-terminated malloc'ed XML document without an XML declaration. */
int tv_domain_edit_apply(const char *xml, size_t len, const TvDomainEdit *edit, char **out, TvError *err);

typedef struct TvDomainInfo {
        char *name;
        char *uuid;          /* NULL when the definition has no <uuid> */
        char *emulator;      /* NULL when the definition has no <devices><emulator> */
        bool emulator_ours;  /* <emulator> is the one our record says we set ... */
        char *emulator_original; /* ... in place of this one (NULL: there was none) */
        bool has_kernel;
        bool has_firmware;   /* UEFI: <os firmware='efi'> or <loader> */
        bool has_tegravirt;  /* our metadata element is present */
        char *owner_name;    /* name= and uuid= our metadata was written for; NULL when absent */
        char *owner_uuid;    /* (records older than these attributes) */
        char **devices;      /* from our metadata, NULL-terminated (empty list if none) */
        char *drift;         /* NULL if everything our metadata records is in place, else sentences
                              * naming what is missing or changed, separated by "; " */
} TvDomainInfo;

int tv_domain_inspect(const char *xml, size_t len, TvDomainInfo *info, TvError *err);
void tv_domain_info_clear(TvDomainInfo *info);
