/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPMP host proxy (kernel/: nvidia,bpmp-host-proxy, /dev/bpmp-host) as sysfs shows
 * it: allowed_<kind> is the DT ceiling, active_<kind> the set it enforces, which the
 * daemon narrows to what running domains need (kernel/README.md, "Runtime narrowing").
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sysfs.h"
#include "tv-error.h"

#define TV_BPMP_PROXY_COMPATIBLE "nvidia,bpmp-host-proxy"
#define TV_BPMP_MAX_IDS 1024    /* per list; the driver's own bound is lower */
/* The catalog role of a clock the guest only enables as a parent (<clock role="parent">). */
#define TV_BPMP_PARENT_ROLE "parent"

typedef enum TvBpmpKind {
        TV_BPMP_CLOCKS,
        TV_BPMP_RESETS,
        TV_BPMP_POWER_DOMAINS,
        TV_BPMP_PARENT_CLOCKS,  /* catalog role="parent": enable and query only */
        TV_BPMP_KINDS
} TvBpmpKind;

typedef struct TvIdSet {
        uint32_t ids[TV_BPMP_MAX_IDS];
        size_t n;
} TvIdSet;

typedef struct TvBpmpProxy {
        char *pid;              /* its platform device; NULL when the host has no proxy */
        bool narrowing;         /* it has the active_* attributes (older proxies do not) */
        bool parent_class;      /* it has allowed_parent_clocks; else parents go in clocks */
        TvIdSet ceiling[TV_BPMP_KINDS];
        /* kept open, so a sync costs one read (and a write when it changes) per list,
         * and a removed attribute (driver unbound or rebound) shows as ENODEV */
        bool fds_open;
        int allowed_fd;         /* allowed_clocks, -1 on a proxy without it */
        int active_fd[TV_BPMP_KINDS];   /* -1 unless narrowing */
} TvBpmpProxy;

/* "clock", "reset", "power domain", "parent clock": for messages. */
const char *tv_bpmp_kind_noun(TvBpmpKind k);

bool tv_id_set_has(const TvIdSet *s, uint32_t id);
/* Adds id unless present; false when full. */
bool tv_id_set_add(TvIdSet *s, uint32_t id);
/* Parses an attribute value: decimal u32 IDs separated by single spaces, or empty. */
int tv_id_set_parse(const char *text, TvIdSet *out);

/* Finds the proxy (the platform device whose modalias names the compatible; `hint`,
 * when not NULL, is tried first) and reads its ceiling. p->pid stays NULL when there
 * is none. -1 with err set when its attributes cannot be read or make no sense. */
int tv_bpmp_proxy_probe(TvHost *h, const char *hint, TvBpmpProxy *p, TvError *err);
/* Reads active_<kind>: 0 or -errno (-ENODEV: the attribute is gone, probe again). */
int tv_bpmp_proxy_get_active(const TvBpmpProxy *p, TvBpmpKind k, TvIdSet *out);
/* Writes active_<kind> unless it already holds exactly these IDs: 1 written, 0 already
 * so, or -errno (-ENODEV: the attribute is gone, probe again). had (may be NULL) gets
 * what the attribute held before. */
int tv_bpmp_proxy_set_active(const TvBpmpProxy *p, TvBpmpKind k, const TvIdSet *want, TvIdSet *had);
/* Same IDs, in any order. */
bool tv_id_set_equal(const TvIdSet *a, const TvIdSet *b);
/* Whether the proxy found by the last probe is still bound (its attributes still there). */
bool tv_bpmp_proxy_alive(const TvBpmpProxy *p);
/* The IDs as the attribute takes them: "155 102", "" for none. */
char *tv_id_set_format(const TvIdSet *s);
void tv_bpmp_proxy_clear(TvBpmpProxy *p);

/*
 * /dev/bpmp-host, the ioctl ABI v1 (kernel/include/uapi/linux/tegra-bpmp-host-proxy.h): a
 * file's own sets start at the DT ceiling and can only narrow, so a file narrowed to one
 * domain's resources is that domain's capability (the global active sets still bound it).
 */
#define TV_BPMP_DEV_NODE "bpmp-host"    /* under the /dev root */

/* Opens <dev-root>/bpmp-host read-write (close-on-exec) and checks it speaks ABI v1: the
 * fd, or -1 with HostNotReady naming what is wrong (no node, an older proxy with the
 * write() ABI, another version). */
int tv_bpmp_dev_open(TvHost *h, TvError *err);
/* Narrows fd to exactly want[kind] for every kind (RESTRICT), then reads the sets back
 * (GET_IDS) and fails unless they are exactly that. -1 with err (HostNotReady when the
 * proxy refuses, Failed otherwise). */
int tv_bpmp_dev_restrict(int fd, const TvIdSet *want, TvError *err);
/* Whether the file still answers (VERSION): a proxy re-bound since the open gives ENODEV. */
bool tv_bpmp_dev_alive(int fd);
