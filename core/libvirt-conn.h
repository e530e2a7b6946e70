/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's libvirt connection: read and redefine a domain's persistent
 * XML. Never used for a domain while its hook call is in flight (libvirt holds
 * the domain job then): PrepareDomain/ReleaseDomain work from the XML given.
 */
#pragma once
#include <stdbool.h>
#include "tv-error.h"

typedef struct TvLibvirt TvLibvirt;

typedef enum TvDomainEvent {
        TV_DOMAIN_DEFINED,      /* (re)defined: an edit may have dropped our elements */
        TV_DOMAIN_UNDEFINED,
} TvDomainEvent;

typedef void (*TvDomainEventFn)(void *userdata, const char *domain, TvDomainEvent event);

/* uri NULL or "" disables libvirt integration (assignments are only recorded). */
TvLibvirt *tv_libvirt_new(const char *uri);
void tv_libvirt_free(TvLibvirt *lv);
/* For _cleanup_(tv_libvirt_freep). */
void tv_libvirt_freep(TvLibvirt **lv);
bool tv_libvirt_enabled(const TvLibvirt *lv);
const char *tv_libvirt_uri(const TvLibvirt *lv);

/* Persistent (inactive) XML of a domain, with secure data so a redefine loses nothing. */
int tv_libvirt_get_xml(TvLibvirt *lv, const char *domain, char **xml, bool *running, TvError *err);
/* Connects (or reconnects) and makes one call: 0 when libvirt answers. */
int tv_libvirt_ping(TvLibvirt *lv, TvError *err);
/* 1 when libvirt has a domain of that name, 0 when it has none, -1 when it cannot say. */
int tv_libvirt_domain_exists(TvLibvirt *lv, const char *domain, TvError *err);
/* Defines xml (validated against libvirt's schema); returns the XML libvirt stored. */
int tv_libvirt_define(TvLibvirt *lv, const char *xml, TvError *err);
/* Delivers define/undefine events through the libvirt event loop (tv_libvirt_loop_register
 * must have run). Connects now if possible; after libvirtd goes away it reconnects on its own. */
void tv_libvirt_watch_domains(TvLibvirt *lv, TvDomainEventFn fn, void *userdata);

/* The QEMU command line libvirt would run for xml (virConnectDomainXMLToNative "qemu-argv"),
 * malloc'ed. A refusal is TV_ERR_INVALID_ARGUMENT with libvirt's reason. */
int tv_libvirt_qemu_argv(TvLibvirt *lv, const char *xml, char **argv, TvError *err);

/* The emulator libvirt would use for an aarch64 domain without <emulator>. */
int tv_libvirt_default_emulator(TvLibvirt *lv, const char *virttype, char **path, TvError *err);
