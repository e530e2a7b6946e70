/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Limits that more than one component enforces, defined once. A limit named in a man
 * page is quoted there with the same value (tests/contracts.sh checks what it can). */
#pragma once

/* A libvirt domain XML document, wherever it enters: the hook's standard input, the
 * --xml file of `tegravirtctl prepare`, PrepareDomain's argument, what the daemon gets
 * from libvirt. libvirt's RPC carries no string longer than this (REMOTE_STRING_MAX),
 * so no definition libvirt hands out is larger. */
#define TV_DOMAIN_XML_MAX_BYTES (4 * 1024 * 1024)
#define TV_DOMAIN_XML_MAX_TEXT  "4 MiB"

/* Per catalog device: register windows (<reg>) and interrupts. The catalog refuses
 * more; the guest placement and its node take as many. 64 interrupts: QEMU's
 * platform bus has 64 lines in all (TV_PLATFORM_BUS_IRQS). */
#define TV_DEVICE_MAX_REGIONS   16
#define TV_DEVICE_MAX_IRQS      64

/* A domain's guest DTB in the state directory: printf(fmt, state_dir, domain). */
#define TV_DOMAIN_DTB_DIR       "domains"
#define TV_DOMAIN_DTB_PATH_FMT  "%s/" TV_DOMAIN_DTB_DIR "/%s.dtb"
