/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options of a domain's real QEMU command line that shape the guest device
 * tree. libvirt prints the command line it would run for a domain definition
 * (virConnectDomainXMLToNative "qemu-argv"); from it we keep -machine (all its
 * properties but those naming host resources or objects we drop), -accel, -cpu,
 * -smp, -m, -numa, -no-acpi, memory-backend-ram objects and virtio-iommu devices,
 * and drop everything that opens host resources (chardevs, drives, netdevs,
 * -device vfio-platform, -dtb, -kernel, ...). Then a dumpdtb with these options
 * gives the tree QEMU builds for that domain, so the only differences between
 * QEMU's tree and ours are the nodes we add.
 *
 * The text is external input: it is split like a POSIX shell would (words,
 * single quotes, backslashes) but anything a shell would expand is refused, and
 * every kept token is checked against a strict character set.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tv-error.h"

#define TV_QEMU_ARGV_MAX_BYTES  (256 * 1024)
#define TV_QEMU_ARGV_MAX_WORDS  4096

typedef struct TvDumpArgs {
        char *emulator;         /* the binary libvirt would run */
        char **args;            /* the kept options, in order, NULL-terminated */
        size_t n;
        char *dtb;              /* the -dtb QEMU would load (the last one), or NULL; not kept */
} TvDumpArgs;

/* Splits libvirt's qemu-argv text into words; *words NULL-terminated (tv_strv_free). */
int tv_qemu_argv_split(const char *text, char ***words, size_t *n, TvError *err);

/* The dump options of a qemu-argv text: leading NAME=value words are the
 * environment, the next word the binary. TV_ERR_INVALID_ARGUMENT with a message
 * naming the token for anything refused. */
int tv_qemu_dump_args(const char *native, TvDumpArgs *out, TvError *err);
void tv_dump_args_clear(TvDumpArgs *a);

/* "virt" or a versioned "virt-7.2": the machine whose tree guest-dtb.c extends. */
bool tv_qemu_virt_machine(const char *type);
