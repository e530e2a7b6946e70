/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Everything the host needs before a domain with tegravirt devices can start, each with its fix. */
#pragma once
#include <stddef.h>
#include "daemon.h"

typedef struct TvCheck {
        const char *item;       /* short name, e.g. "vfio-platform" */
        const char *status;     /* "ok", "missing" or "warning" */
        char *detail;           /* what was found */
        char *fix;              /* the exact thing to do, "" when ok */
} TvCheck;

#define TV_APPARMOR_SNIPPET "/etc/apparmor.d/abstractions/libvirt-qemu.d/tegravirt"

/* domain "" checks for every assigned device. */
int tv_host_check(TvDaemon *d, const char *domain, TvCheck **out, size_t *n, TvError *err);
void tv_checks_free(TvCheck *c, size_t n);
