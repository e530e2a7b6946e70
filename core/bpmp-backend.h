/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-domain BPMP backends (tegravirt-bpmp-backend(8)): one per running domain that
 * holds a narrowed /dev/bpmp-host file (bpmp-active.h). tegravirtd creates the listening
 * socket <run-dir>/domains/<domain>/bpmp.sock itself, so it listens before PrepareDomain
 * returns, and hands the backend that socket and a dup of the domain's file. Each backend
 * is recorded in <run-dir>/domains/<domain>/backend ("pid=N start=T[ qemu=Q]", T the
 * process's start time in /proc/N/stat, Q the QEMU it serves) before it may exec, so a restarted daemon adopts it; a
 * backend that dies while its domain runs is started again. The event loop never waits
 * on one: death is a pidfd event, a stop is SIGTERM, then SIGKILL after a timeout.
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "tv-error.h"

#define TV_BPMP_BACKEND_SOCKET  "bpmp.sock"
#define TV_BPMP_BACKEND_RECORD  "backend"
#define TV_BPMP_CHARDEV_ID      "tvbpmp0"      /* -chardev id in the domain XML */
#define TV_BPMP_BACKEND_STOP_USEC (2 * 1000 * 1000)     /* SIGTERM, then SIGKILL after this */

typedef struct TvBpmpBackend TvBpmpBackend;
/* gone: the backend is gone; false when tegravirtd stops first (tv_bpmp_backends_cancel). */
typedef void (*TvBpmpBackendStoppedFn)(void *userdata, bool gone);

typedef struct TvBpmpBackends {
        sd_event *event;                /* not owned */
        const char *run_dir;            /* /run/tegravirt unless redirected */
        const char *path;               /* the backend binary */
        uid_t uid;                      /* it runs as (and accepts) the QEMU user */
        gid_t gid;
        /* the domain's narrowed /dev/bpmp-host, -1 when it no longer runs (restarts ask) */
        int (*domain_fd)(void *userdata, const char *domain);
        void *userdata;
        TvBpmpBackend *list;
        unsigned restarts;              /* since start-up, for tests and CheckHost */
} TvBpmpBackends;

/* The socket path of domain's backend (malloc'ed), NULL on OOM. */
char *tv_bpmp_backend_socket(const char *run_dir, const char *domain);

/* Starts domain's backend on bpmp_fd (dup'ed) unless one runs: the socket listens when
 * this returns 0. -1 with err (HostNotReady naming the binary or directory, DomainBusy
 * while its previous backend is being stopped); nothing is left behind. */
int tv_bpmp_backend_start(TvBpmpBackends *b, const char *domain, int bpmp_fd, TvError *err);
/* Stops domain's backend: 0 when it has none (nothing to wait for), else 1 and stopped is
 * called from the event loop once it is gone and its socket and record are removed. */
int tv_bpmp_backend_stop(TvBpmpBackends *b, const char *domain, TvBpmpBackendStoppedFn stopped, void *userdata);
/* Replaces every running backend by a new one (SIGTERM; restarted on the domain's current
 * file once gone): after the proxy was re-bound their files are stale (ENODEV). */
void tv_bpmp_backend_restart_all(TvBpmpBackends *b);
/* The domain's QEMU (pid qemu) started: its backend serves that process only, from now on
 * and after restarts (recorded). Told on the backend's control channel, or, for an adopted
 * backend that has none, by replacing it with one started with --peer-pid. -1 with err
 * HostNotReady when domain has no backend. */
int tv_bpmp_backend_started(TvBpmpBackends *b, const char *domain, pid_t qemu, TvError *err);
/* The backend's pid, 0 when domain has none. */
pid_t tv_bpmp_backend_pid(const TvBpmpBackends *b, const char *domain);
/* Start-up: adopts every recorded backend that still lives and whose domain still holds a
 * file, stops those of domains that no longer run, removes dead records, and starts one for
 * every running domain (names[0..n)) that has none. */
void tv_bpmp_backend_adopt(TvBpmpBackends *b, const char *const *running, size_t n);
/* Tells every caller still waiting for a stop that it will not happen (daemon shutdown). */
void tv_bpmp_backends_cancel(TvBpmpBackends *b);
/* Forgets every backend without stopping it (daemon shutdown: the next start adopts them). */
void tv_bpmp_backends_free(TvBpmpBackends *b);
