/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-domain backend processes (tegravirt-bpmp-backend(8), tegravirt-gpio-backend(8)):
 * at most one of each kind per domain. tegravirtd creates the listening socket
 * <run-dir>/domains/<domain>/<kind socket> itself, so it listens before PrepareDomain
 * returns, and hands the backend that socket, the kind's fds and a control channel. Each
 * backend is recorded in <run-dir>/domains/<domain>/<kind record> ("pid=N start=T[ qemu=Q]",
 * T the process's start time in /proc/N/stat, Q the QEMU it serves) before it may exec, so
 * a restarted daemon adopts it; a backend that dies while its domain runs is started again.
 * The event loop never waits on one: death is a pidfd (or child) event, a stop is SIGTERM,
 * then SIGKILL after a timeout, and the control channel is non-blocking both ways.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "tv-error.h"

#define TV_BACKEND_STOP_USEC (2 * 1000 * 1000)  /* SIGTERM, then SIGKILL after this */
#define TV_BACKEND_MAX_FDS 32                   /* the kind's own fds (after the listening socket) */
/* Starts in a row that died within 5 s (or could not start) before tegravirtd gives up on a
 * backend; it waits 1 s, 2 s, 4 s, ... between them. */
#define TV_BACKEND_MAX_FAILURES 5

/* What differs between the kinds: names, and the backend's command-line dialect. */
typedef struct TvBackendKind {
        const char *log;                /* log prefix: "bpmp-backend" */
        const char *what;               /* in messages: "BPMP backend" */
        const char *binary;             /* "tegravirt-bpmp-backend"; its first 15 bytes are the comm checked on adoption */
        const char *socket;             /* file name of the socket in the domain's run directory */
        const char *record;             /* file name of the record there */
        const char *tell;               /* control message naming the domain's QEMU: "<tell> <pid>\n" */
        /* file name of a state file there that outlives each backend process (the backend
         * keeps what a successor needs in it), passed opened as --state-fd N; created at the
         * first start, removed when the backend is stopped for good. NULL: none. */
        const char *state;
} TvBackendKind;

/* A start's kind-specific part, filled by TvBackendProcs.args. */
typedef struct TvBackendArgs {
        int fds[TV_BACKEND_MAX_FDS];    /* become fds first_fd, first_fd+1, ... in the backend */
        bool owned[TV_BACKEND_MAX_FDS]; /* closed after the start (else the caller's) */
        size_t n_fds;
        char **argv;                    /* malloc'ed strings */
        size_t n_argv;
        int first_fd;                   /* the number the first of fds gets */
} TvBackendArgs;

/* Appends one argument (printf format); 0 or -ENOMEM. */
int tv_backend_args_add(TvBackendArgs *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends fd (owned: closed with the args); its number in the backend, or -E2BIG/-EBADF. */
int tv_backend_args_fd(TvBackendArgs *a, int fd, bool owned);

typedef struct TvBackendProc TvBackendProc;
/* gone: the backend is gone; false when tegravirtd stops first (tv_backends_cancel). */
typedef void (*TvBackendStoppedFn)(void *userdata, bool gone);

typedef struct TvBackendProcs {
        const TvBackendKind *kind;
        sd_event *event;                /* not owned */
        const char *run_dir;            /* /run/tegravirt unless redirected */
        const char *path;               /* the backend binary */
        uid_t uid;                      /* it runs as (and accepts) the QEMU user */
        gid_t gid;
        /* Whether domain still runs (a backend that dies is then started again). */
        bool (*running)(void *userdata, const char *domain);
        /* The kind's fds and arguments for a start of domain's backend: 0; 1 when the domain
         * no longer runs (nothing starts); -1 with err. */
        int (*args)(void *userdata, const char *domain, TvBackendArgs *a, TvError *err);
        /* A line the backend wrote on its control channel (without the newline); the answer
         * to send ("...\n") into buf, or false for none. NULL: the channel is write-only. */
        bool (*control)(void *userdata, const char *domain, pid_t qemu, const char *line, char *buf, size_t size);
        void *userdata;
        TvBackendProc *list;
        unsigned restarts;              /* since start-up, for tests and CheckHost */
} TvBackendProcs;

/* <run_dir>/domains/<domain>/<name> (malloc'ed), NULL on OOM. */
char *tv_backend_file(const char *run_dir, const char *domain, const char *name);

/* Starts domain's backend unless one runs: the socket listens when this returns 0. -1
 * with err (HostNotReady naming the binary or directory, DomainBusy while its previous
 * backend is being stopped, or what args said); nothing is left behind. */
int tv_backend_start(TvBackendProcs *b, const char *domain, TvError *err);
/* Stops domain's backend: 0 when it has none (nothing to wait for), else 1 and stopped is
 * called from the event loop once it is gone and its socket and record are removed
 * (stopped NULL: 0, nobody waits). */
int tv_backend_stop(TvBackendProcs *b, const char *domain, TvBackendStoppedFn stopped, void *userdata);
/* Replaces every running backend by a new one (SIGKILL; started again once gone). */
void tv_backend_restart_all(TvBackendProcs *b);
/* The domain's QEMU (pid qemu) started: its backend serves that process only, from now on
 * and after restarts (recorded). Told on the backend's control channel, or, for an adopted
 * backend that has none, by replacing it; one tegravirtd gave up on is started again. -1
 * with err HostNotReady when domain has none (or what its start said). */
int tv_backend_started(TvBackendProcs *b, const char *domain, pid_t qemu, TvError *err);
/* The backend's pid, 0 when domain has none; the QEMU pid it was told, 0 none. */
pid_t tv_backend_pid(const TvBackendProcs *b, const char *domain);
/* Whether domain has a backend, running or waiting to be started again. */
bool tv_backend_known(const TvBackendProcs *b, const char *domain);
/* How the last start of domain's backend failed when tegravirtd gave up on it
 * (TV_BACKEND_MAX_FAILURES in a row), else NULL. */
const char *tv_backend_failed(const TvBackendProcs *b, const char *domain);
pid_t tv_backend_qemu(const TvBackendProcs *b, const char *domain);
/* Start-up: adopts every recorded backend that still lives and whose domain still runs,
 * stops those of domains that no longer run (and replaces, for a kind with a control
 * callback, one that no QEMU pid was recorded for: it would serve any peer without asking),
 * starts one for a running domain whose
 * recorded backend died meanwhile, removes dead records, and starts one for every
 * running[0..n) that has none. */
void tv_backend_adopt(TvBackendProcs *b, const char *const *running, size_t n);
/* Tells every caller still waiting for a stop that it will not happen (daemon shutdown). */
void tv_backends_cancel(TvBackendProcs *b);
/* Forgets every backend without stopping it (daemon shutdown: the next start adopts them). */
void tv_backends_free(TvBackendProcs *b);
