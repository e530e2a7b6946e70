/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes the event loop watches instead of waiting for (QEMU probes,
 * dumpdtb). A child runs without a shell in its own process group, with
 * environment LC_ALL=C only and no inherited fds; sd-event reads its stdout
 * (and stderr) through pipes, reaps it with a child source and kills the whole
 * group at the timeout. SIGCHLD must be blocked (sd-event's rule).
 *
 * A TvJob is one piece of work under a key (an emulator path, a DTB path) that
 * runs children one after another. A second caller for the same key waits for
 * the running job instead of starting another; every waiter is told once, from
 * the event loop, when the job ends. No sd-bus here.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>
#include "tv-error.h"

#define TV_CHILD_MAX_ARGS 62 /* a domain's machine options (qemu-argv.c) plus ours */

typedef struct TvChildSpec {
        const char *path;
        const char *const *args;        /* argv[1..], NULL-terminated, at most TV_CHILD_MAX_ARGS */
        const char *input;              /* sent on stdin (a socket kept open until the end); NULL: /dev/null */
        unsigned timeout_ms;
        size_t out_cap;                 /* stdout kept; more kills the child (too_big). 0: stdout is /dev/null */
        size_t err_cap;                 /* stderr kept (the rest dropped). 0: stderr is /dev/null */
} TvChildSpec;

typedef struct TvChildResult {
        int read_errno;                 /* reading the output failed */
        bool timed_out;                 /* killed at the timeout */
        bool too_big;                   /* killed: stdout went over out_cap */
        bool exited;                    /* exited with code; else killed by signal */
        int code;
        int signal;
        char *out;                      /* stdout, NUL-terminated (NULL if nothing was read); done may take it */
        size_t out_len;
        char *err;                      /* stderr, likewise */
        size_t err_len;
} TvChildResult;

typedef struct TvChild TvChild;
typedef void (*TvChildDoneFn)(TvChildResult *res, void *userdata);

/* Spawns spec->path; 0, or -errno when it cannot run (nothing is left behind).
 * done is called once from the event loop after the child exited and its output
 * ended; the TvChild is freed when done returns. */
int tv_child_start(sd_event *e, const TvChildSpec *spec, TvChildDoneFn done, void *userdata, TvChild **out);
/* Kills the child's process group and reaps it now (shutdown); done is not called. */
void tv_child_kill(TvChild *c);

/* 0 when the child exited with status 0 in time; else -1 with err (HostNotReady)
 * naming path and what: killed at the timeout, killed for too much output,
 * exit status or signal (with the first line of stderr when it was kept). */
int tv_child_result_check(const TvChildResult *res, const char *path, const char *what, unsigned timeout_ms,
                          size_t out_cap, TvError *err);

typedef struct TvJobSet TvJobSet;
typedef struct TvJob TvJob;
/* err is NULL when the job succeeded. */
typedef void (*TvJobDoneFn)(const TvError *err, void *userdata);

TvJobSet *tv_jobset_new(sd_event *e);
/* Cancels what still runs (see tv_jobset_cancel), then frees. */
void tv_jobset_free(TvJobSet *s);
/* Ends every job with TV_ERR_FAILED "why" after killing and reaping its child;
 * jobs started later fail the same way at once. */
void tv_jobset_cancel(TvJobSet *s, const char *why);
/* Number of jobs running. */
size_t tv_jobset_count(const TvJobSet *s);

/* The job running under key, or NULL. */
TvJob *tv_job_find(TvJobSet *s, const char *key);
/* A new job under key (none may run under it); data is its private state, freed
 * by free_data (may be NULL) with the job. NULL with err after tv_jobset_cancel. */
TvJob *tv_job_new(TvJobSet *s, const char *key, void *data, void (*free_data)(void *), TvError *err);
void *tv_job_data(TvJob *j);
/* Adds a caller to be told when the job ends; 0 or -ENOMEM. */
int tv_job_wait(TvJob *j, TvJobDoneFn done, void *userdata);
/* Runs spec as the job's child (one at a time); done gets the TvJob as userdata.
 * 0 or -1 (err): the caller then ends the job. */
int tv_job_run(TvJob *j, const TvChildSpec *spec, TvChildDoneFn done, TvError *err);
/* Ends the job: every waiter is told (err NULL: success), then the job is freed. */
void tv_job_finish(TvJob *j, const TvError *err);

/*
 * A long-lived service child (the per-domain BPMP backend). tv_service_spawn forks a child
 * that holds fds[i] as fd 3+i, stdin and stdout on /dev/null, the caller's stderr, no other
 * fd, an empty signal mask and default handlers, in its own session, and that waits on a
 * gate before it execs: the caller learns the pid first (to record it), then
 * tv_service_gate(gate, true) lets it exec; tv_service_gate(gate, false) makes it exit 127
 * at once. The caller watches and reaps it (pidfd). 0 or -errno (nothing left behind).
 */
int tv_service_spawn(const char *path, const char *const *args, const int *fds, size_t n_fds, pid_t *pid,
                     int *gate);
void tv_service_gate(int gate, bool go);
