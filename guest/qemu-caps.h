/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a QEMU emulator binary can do for platform passthrough, probed once per
 * binary (path + dev + ino + mtime) so a missing capability is refused when a
 * device is assigned, with a message naming the binary, instead of a QEMU that
 * dies at domain start.
 *
 * Probes, each run without a shell, environment LC_ALL=C only, stdin /dev/null
 * (or a QMP socket), stdout capped at 1 MiB, stderr discarded, 10 s timeout, as
 * children the event loop watches (job.h), one probe per binary at a time:
 *   <qemu> --version
 *   <qemu> -machine none -nodefaults -nographic -device help
 *   <qemu> -machine virt,accel=tcg -nodefaults -nographic -S -qmp stdio
 *          (qmp_capabilities, qom-list-types, quit)
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "job.h"
#include "tv-error.h"

typedef enum TvBpmpFlavour {
        TV_BPMP_NONE,
        TV_BPMP_BUILTIN_090C0000,       /* nvidia_bpmp_guest in virt, bpmp-virt QEMU 7.2..9.x */
        TV_BPMP_BUILTIN_090D0000,       /* nvidia_bpmp_guest in virt, Ghaf QEMU 10.x */
        TV_BPMP_DEVICE,                 /* -device tegravirt-bpmp */
} TvBpmpFlavour;

#define TV_BPMP_BASE_090C0000   UINT64_C(0x090c0000)
#define TV_BPMP_BASE_090D0000   UINT64_C(0x090d0000)

typedef struct TvQemuCaps {
        char *path;
        dev_t dev;
        ino_t ino;
        struct timespec mtime;          /* path, dev, ino, mtime: the cache key */
        unsigned major, minor, micro;
        bool has_vfio_platform;
        bool has_vhost_user_gpio;       /* -device vhost-user-gpio-device (GPIO line groups) */
        TvBpmpFlavour bpmp;
        uint64_t bpmp_base;             /* guest PA of the bridge window, 0 if none or -device */
        /* The QMP probe failed, so whether a built-in bridge exists is unknown (bpmp is
         * TV_BPMP_NONE or TV_BPMP_DEVICE from -device help). Such entries are re-probed
         * on the next get; tv_qemu_caps_check() refuses them when a bridge is needed. */
        bool bpmp_unknown;
        char bpmp_unknown_why[256];
} TvQemuCaps;

typedef struct TvQemuCapsCache TvQemuCapsCache;

TvQemuCapsCache *tv_qemu_caps_cache_new(void);
void tv_qemu_caps_cache_free(TvQemuCapsCache *c);

/* The cached capabilities of emulator, if its path+dev+ino+mtime are unchanged: 1 and *out
 * (valid until the entry is re-probed or evicted: the cache keeps 32 binaries, the least
 * recently used goes, so use it right away), or 0 when it needs a probe. An entry whose
 * bridge is unknown (bpmp_unknown) counts as missing unless accept_unknown: it is probed
 * again on the next request. -1 for a bad path: TV_ERR_INVALID_ARGUMENT (relative,
 * control characters, longer than 4096 bytes, missing, not a regular executable file). */
int tv_qemu_caps_lookup(TvQemuCapsCache *c, const char *emulator, bool accept_unknown, const TvQemuCaps **out,
                        TvError *err);
/* Probes emulator as a job on jobs (or joins the probe of it that runs): 0 and done is
 * called once from the event loop; then tv_qemu_caps_lookup(..., true, ...) finds the
 * result. done's error: TV_ERR_HOST_NOT_READY when the binary cannot be run or does not
 * answer like QEMU (within timeout_ms per command); TV_ERR_FAILED when cancelled or for
 * local resource errors. -1 with err when nothing was started. */
int tv_qemu_caps_probe(TvQemuCapsCache *c, TvJobSet *jobs, const char *emulator, unsigned timeout_ms,
                       TvJobDoneFn done, void *userdata, TvError *err);

/* For tests and tools, never the daemon: lookup, else the same probe run to the end on a
 * private event loop. Errors as above. */
int tv_qemu_caps_get(TvQemuCapsCache *c, const char *emulator, const TvQemuCaps **out, TvError *err);

/* Passthrough always needs -device vfio-platform; needs_bpmp adds a BPMP bridge.
 * TV_ERR_HOST_NOT_READY with a message naming the binary, what it lacks and what to use. */
int tv_qemu_caps_check(const TvQemuCaps *caps, bool needs_bpmp, TvError *err);

const char *tv_bpmp_flavour_name(TvBpmpFlavour f);

/* Parsers, split out for unit tests and fuzzing. */
/* "QEMU emulator version X.Y[.Z]..." on some line; 0 or -EINVAL. */
int tv_qemu_parse_version(const char *text, unsigned *maj, unsigned *min, unsigned *mic);
/* A `name "<device_name>"` line (or an `alias "<device_name>"`) in -device help output. */
bool tv_qemu_device_help_has(const char *device_help_output, const char *device_name);
/* Scans the QMP transcript of the probe (greeting, reply to qmp_capabilities, reply to
 * qom-list-types, ...; events are skipped) and tells whether the qom-list-types reply holds
 * the quoted type name. 0, or -1 with err (HostNotReady) saying what is wrong. */
int tv_qemu_qmp_types_has(const char *transcript, const char *type_name, bool *has, TvError *err);

/* Internal, for tests: tv_qemu_caps_get() with another per-command timeout than
 * TV_QEMU_PROBE_TIMEOUT_MS, and the number of probes a cache has run. */
#define TV_QEMU_PROBE_TIMEOUT_MS 10000u
int tv_qemu_caps_get_timeout(TvQemuCapsCache *c, const char *emulator, unsigned timeout_ms,
                             const TvQemuCaps **out, TvError *err);
unsigned tv_qemu_caps_cache_probe_count(const TvQemuCapsCache *c);

/* QEMU exited non-zero, or did not finish: err names why. QEMU's own reason (the last line of
 * its stderr) is passed on, as TV_ERR_INVALID_ARGUMENT (the options, i.e. the domain's
 * configuration, are wrong) unless it is about KVM or a device node (TV_ERR_HOST_NOT_READY).
 * 0 when res is a clean exit. */
int tv_qemu_result_check(const TvChildResult *res, const char *emulator, const char *what, unsigned timeout_ms,
                         TvError *err);

/* Runs emulator with args (at most TV_QEMU_RUN_MAX_ARGS) to the end on a private event loop,
 * the way the daemon's jobs do (no shell, LC_ALL=C only, stdout discarded, killed after
 * timeout_ms), and checks the result with tv_qemu_result_check(). For tests and tools: the
 * daemon runs QEMU as a job (domain-dtb.c). */
#define TV_QEMU_RUN_MAX_ARGS TV_CHILD_MAX_ARGS
int tv_qemu_run(const char *emulator, const char *const *args, const char *what, unsigned timeout_ms,
                TvError *err);
