// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's binding engine without the daemon, for the rig (tests/rig/README.md): the
 * same host/hostdev.c, host/sysfs.c and core/state.c calls tegravirtd's PrepareDomain,
 * ReleaseDomain and start-up reconciliation make (core/daemon.c), built static for aarch64
 * and run inside Debian's kernel against its real driver core. Not part of the product.
 *
 *   tv-rig-engine [--noiommu] [--state DIR] [--sysfs ROOT] [--dev ROOT] prepare PID...
 *   tv-rig-engine ... release PID...
 *   tv-rig-engine ... recover          reconcile every record, as tegravirtd does at start
 *   tv-rig-engine ... status           the state file as it is
 *   tv-rig-engine ... cycle N PID...   N prepare+release cycles in this one process (a resident
 *                                      daemon's cost, for bench/bench-rig.sh): prints the time
 *                                      per cycle and where it went
 *
 * prepare prints "group PID N" per device; errors go to stderr as "NAME: message".
 * Fault injection counts the engine's host steps: each sysfs write, vfio node chown and
 * state record (the calls from hostdev.o are wrapped with ld --wrap, so the engine's code
 * is unchanged):
 *   TV_RIG_KILL_AT=K   SIGKILL itself just before step K (K=1: before the first record)
 *   TV_RIG_FAIL_AT=K   step K fails with EIO without doing anything
 *   TV_RIG_TRACE=1     "step K: what" on stderr for every step
 * A static binary has no NSS: getpwnam/getgrnam are answered here for root only.
 */
#include "hostdev.h"
#include "state.h"
#include "sysfs.h"
#include "tv-error.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* where a cycle's time goes: the wrapped host steps, by kind (ns) */
enum { T_OVERRIDE, T_UNBIND, T_BIND, T_PROBE, T_CHOWN, T_RECORD, T_N };
static const char *const t_names[T_N] = { "driver_override", "unbind", "bind", "drivers_probe", "chown", "record" };
static unsigned long long t_spent[T_N];

static unsigned long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

#define TIMED(kind, call)                                        \
        ({                                                       \
                unsigned long long _t0 = now_ns();               \
                int _r = (call);                                 \
                t_spent[kind] += now_ns() - _t0;                 \
                _r;                                              \
        })

static unsigned step_no;
static unsigned kill_at, fail_at;
static bool trace;

/* 0: go on; -EIO: this step is to fail. Never returns at the kill step. */
static int step(const char *what, const char *arg)
{
        step_no++;
        if (trace)
                fprintf(stderr, "step %u: %s %s\n", step_no, what, arg ? arg : "");
        if (kill_at && step_no == kill_at) {
                fprintf(stderr, "tv-rig-engine: SIGKILL before step %u (%s %s)\n", step_no, what, arg ? arg : "");
                fflush(stderr);
                kill(getpid(), SIGKILL);
                pause();
        }
        if (fail_at && step_no == fail_at) {
                fprintf(stderr, "tv-rig-engine: injected EIO at step %u (%s %s)\n", step_no, what, arg ? arg : "");
                return -EIO;
        }
        return 0;
}

int __real_tv_sysfs_set_override(TvHost *h, const char *pid, const char *override);
int __real_tv_sysfs_bind(TvHost *h, const char *pid, const char *driver);
int __real_tv_sysfs_unbind(TvHost *h, const char *pid, const char *driver);
int __real_tv_sysfs_drivers_probe(TvHost *h, const char *pid);
int __real_tv_dev_vfio_group_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode);
int __real_tv_dev_vfio_noiommu_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode);
int __wrap_tv_sysfs_set_override(TvHost *h, const char *pid, const char *override);
int __wrap_tv_sysfs_bind(TvHost *h, const char *pid, const char *driver);
int __wrap_tv_sysfs_unbind(TvHost *h, const char *pid, const char *driver);
int __wrap_tv_sysfs_drivers_probe(TvHost *h, const char *pid);
int __wrap_tv_dev_vfio_group_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode);
int __wrap_tv_dev_vfio_noiommu_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode);
struct passwd *__wrap_getpwnam(const char *name);
struct group *__wrap_getgrnam(const char *name);

int __wrap_tv_sysfs_set_override(TvHost *h, const char *pid, const char *override)
{
        return step(override ? "driver_override" : "clear driver_override", pid) ?:
               TIMED(T_OVERRIDE, __real_tv_sysfs_set_override(h, pid, override));
}

int __wrap_tv_sysfs_bind(TvHost *h, const char *pid, const char *driver)
{
        return step("bind", pid) ?: TIMED(T_BIND, __real_tv_sysfs_bind(h, pid, driver));
}

int __wrap_tv_sysfs_unbind(TvHost *h, const char *pid, const char *driver)
{
        return step("unbind", pid) ?: TIMED(T_UNBIND, __real_tv_sysfs_unbind(h, pid, driver));
}

int __wrap_tv_sysfs_drivers_probe(TvHost *h, const char *pid)
{
        return step("drivers_probe", pid) ?: TIMED(T_PROBE, __real_tv_sysfs_drivers_probe(h, pid));
}

int __wrap_tv_dev_vfio_group_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode)
{
        return step("chown vfio group", NULL) ?: TIMED(T_CHOWN, __real_tv_dev_vfio_group_chown(h, group, uid, gid, mode));
}

int __wrap_tv_dev_vfio_noiommu_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode)
{
        return step("chown vfio noiommu group", NULL) ?:
               TIMED(T_CHOWN, __real_tv_dev_vfio_noiommu_chown(h, group, uid, gid, mode));
}

struct passwd *__wrap_getpwnam(const char *name)
{
        static struct passwd root = { .pw_name = (char *)"root", .pw_dir = (char *)"/", .pw_shell = (char *)"/bin/sh" };

        return strcmp(name, "root") == 0 ? &root : NULL;
}

struct group *__wrap_getgrnam(const char *name)
{
        static struct group root = { .gr_name = (char *)"root" };

        return strcmp(name, "root") == 0 ? &root : NULL;
}

static int record(void *userdata, bool durable, TvError *err)
{
        TvState *s = userdata;

        if (step(durable ? "record (durable)" : "record", NULL) < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot write the state file: %s", strerror(EIO));
        return TIMED(T_RECORD, durable ? tv_state_save(s, err) : tv_state_save_nosync(s, err));
}

static int fail(const TvError *err)
{
        fprintf(stderr, "%s: %s\n", err->name ? err->name : "?", err->message);
        return 1;
}

static int usage(void)
{
        fprintf(stderr, "usage: tv-rig-engine [--noiommu] [--state DIR] [--sysfs ROOT] [--dev ROOT] "
                        "prepare|release PID... | recover | status | cycle N PID...\n");
        return 2;
}

/* The items for pids, each with its record (created for prepare), as domain_items() gives them. */
static int items_for(TvState *s, char **pids, size_t n, bool create, TvHostdevItem *items, TvError *err)
{
        /* every entry first: tv_state_ensure may move the array the items point into */
        for (size_t i = 0; i < n; i++) {
                TvStateEntry *e;

                if (!tv_device_token_valid(pids[i]))
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "invalid device %s", pids[i]);
                e = create ? tv_state_ensure(s, pids[i], pids[i]) : tv_state_find(s, pids[i]);
                if (!e)
                        return create ? tv_error_oom(err)
                                      : tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s has no record", pids[i]);
                if (create && !e->domain && !(e->domain = strdup("rig")))
                        return tv_error_oom(err);
        }
        for (size_t i = 0; i < n; i++) {
                TvStateEntry *e = tv_state_find(s, pids[i]);

                items[i] = (TvHostdevItem){ .platform_id = e->platform_id, .binding = &e->binding, .group = -1 };
        }
        return 0;
}

/* N prepare+release cycles of the same batch; prints the time per cycle and its parts. */
static int cycle(TvHostdev *hd, TvState *s, char **pids, size_t n, unsigned long iters, TvHostdevItem *items,
                 TvError *err)
{
        unsigned long long t0, total, steps = 0;

        if (items_for(s, pids, n, true, items, err) < 0)
                return -1;
        t0 = now_ns();
        for (unsigned long i = 0; i < iters; i++)
                if (tv_hostdev_prepare(hd, items, n, err) < 0 || tv_hostdev_release(hd, items, n, err) < 0)
                        return -1;
        total = now_ns() - t0;
        printf("cycle %lu %.3f ms\n", iters, (double)total / 1e6 / (double)iters);
        for (int k = 0; k < T_N; k++) {
                printf("part %s %.3f ms\n", t_names[k], (double)t_spent[k] / 1e6 / (double)iters);
                steps += t_spent[k];
        }
        printf("part other %.3f ms\n", (double)(total - steps) / 1e6 / (double)iters);
        return 0;
}

int main(int argc, char **argv)
{
        const char *state_dir = "/tmp/tv-rig-state", *sysfs = "/sys", *dev = "/dev", *v;
        TvHostdevConfig cfg = { .qemu_user = "root", .qemu_group = "root" };
        TvHostdev hd = { 0 };
        TvHost host = { .sysfs_fd = -1, .dev_fd = -1 };
        TvState state = { .dir_fd = -1 };
        TvError err = { 0 };
        TvHostdevItem *items = NULL;
        const char *cmd;
        int i = 1, r, rc = 0;
        size_t n;

        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--noiommu") == 0)
                        cfg.allow_noiommu = true;
                else if (i + 1 < argc && strcmp(argv[i], "--state") == 0)
                        state_dir = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--sysfs") == 0)
                        sysfs = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--dev") == 0)
                        dev = argv[++i];
                else
                        return usage();
        }
        if (i >= argc)
                return usage();
        cmd = argv[i++];
        n = (size_t)(argc - i);
        if ((v = getenv("TV_RIG_KILL_AT")))
                kill_at = (unsigned)strtoul(v, NULL, 10);
        if ((v = getenv("TV_RIG_FAIL_AT")))
                fail_at = (unsigned)strtoul(v, NULL, 10);
        trace = getenv("TV_RIG_TRACE") != NULL;

        if (tv_state_open(&state, state_dir, &err) < 0)
                return fail(&err);
        r = tv_host_open(&host, sysfs, dev);
        if (r < 0) {
                fprintf(stderr, "cannot open %s and %s: %s\n", sysfs, dev, strerror(-r));
                tv_state_free(&state);
                return 1;
        }
        hd = (TvHostdev){ .host = &host, .config = &cfg, .record = record, .userdata = &state };
        items = calloc(n ? n : 1, sizeof(*items));
        if (!items) {
                rc = fail(&(TvError){ TV_ERR_FAILED, "out of memory" });
                goto out;
        }
        if (strcmp(cmd, "prepare") == 0 && n) {
                if (items_for(&state, argv + i, n, true, items, &err) < 0 || tv_hostdev_prepare(&hd, items, n, &err) < 0)
                        rc = fail(&err);
                for (size_t k = 0; rc == 0 && k < n; k++)
                        printf("group %s %d\n", items[k].platform_id, items[k].group);
                tv_state_compact(&state);
        } else if (strcmp(cmd, "release") == 0 && n) {
                if (items_for(&state, argv + i, n, false, items, &err) < 0 || tv_hostdev_release(&hd, items, n, &err) < 0)
                        rc = fail(&err);
                tv_state_compact(&state);
        } else if (strcmp(cmd, "recover") == 0 && !n) {
                /* tv_daemon_reconcile() without the daemon's view and audit */
                for (size_t k = 0; k < state.n_entries; k++) {
                        TvStateEntry *e = &state.entries[k];
                        TvHostdevItem it = { .platform_id = e->platform_id, .binding = &e->binding };
                        char *drift = NULL;

                        if (e->binding.phase == TV_PHASE_NONE)
                                continue;
                        printf("recover %s %s\n", e->platform_id, tv_phase_to_string(e->binding.phase));
                        if (tv_hostdev_recover(&hd, &it, &drift, &err) < 0)
                                rc = fail(&err);
                        tv_error_clear(&err);
                        if (drift)
                                printf("drift %s\n", drift);
                        free(drift);
                }
                tv_state_compact(&state);
                if (tv_state_save(&state, &err) < 0)
                        rc = fail(&err);
        } else if (strcmp(cmd, "cycle") == 0 && n >= 2) {
                unsigned long iters = strtoul(argv[i], NULL, 10);

                if (!iters || cycle(&hd, &state, argv + i + 1, n - 1, iters, items, &err) < 0)
                        rc = err.name ? fail(&err) : usage();
                tv_state_compact(&state);
        } else if (strcmp(cmd, "status") == 0 && !n) {
                char *text = tv_state_format(&state);

                fputs(text ? text : "", stdout);
                free(text);
        } else {
                rc = usage();
        }
out:
        free(items);
        tv_state_free(&state);
        tv_host_close(&host);
        return rc;
}
