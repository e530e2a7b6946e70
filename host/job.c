// SPDX-License-Identifier: GPL-2.0-or-later
#include "job.h"
#include "tv-names.h"
#include "tv-quote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One captured stream: a pipe the event loop reads until EOF. */
typedef struct Stream {
        int fd;
        sd_event_source *src;
        char *buf;
        size_t len, cap, limit;
        bool eof;
        bool kill_when_full;            /* stdout: more than limit is an error; stderr: dropped */
        struct TvChild *child;
} Stream;

struct TvChild {
        pid_t pid;
        bool exited;                    /* waited for: the pid and group id may be reused now */
        siginfo_t si;
        int in_fd;                      /* our end of the stdin socket, kept until the end */
        Stream out, err;
        sd_event_source *child_src, *timer_src;
        TvChildResult res;
        TvChildDoneFn done;
        void *userdata;
};

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* Our fds must not be 0..2, or dup2(fd, fd) in the child would keep them close-on-exec. */
static int above_stdio(int fd)
{
        int nfd;

        if (fd < 0 || fd > 2)
                return fd;
        nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return nfd;
}

static void stream_close(Stream *s)
{
        s->src = sd_event_source_disable_unref(s->src);
        close_fd(&s->fd);
        s->eof = true;
}

static void child_free(TvChild *c)
{
        if (!c)
                return;
        stream_close(&c->out);
        stream_close(&c->err);
        c->child_src = sd_event_source_disable_unref(c->child_src);
        c->timer_src = sd_event_source_disable_unref(c->timer_src);
        close_fd(&c->in_fd);
        free(c->out.buf);
        free(c->err.buf);
        free(c->res.out);
        free(c->res.err);
        free(c);
}

/* While the leader is not waited for, its group id cannot have been reused. */
static void kill_group(TvChild *c)
{
        if (!c->exited)
                kill(-c->pid, SIGKILL);
}

static void maybe_done(TvChild *c)
{
        if (!c->exited || !c->out.eof || !c->err.eof)
                return;
        if (c->si.si_code == CLD_EXITED) {
                c->res.exited = true;
                c->res.code = c->si.si_status;
        } else {
                c->res.signal = c->si.si_status;
        }
        c->res.out = c->out.buf;
        c->res.out_len = c->out.len;
        c->res.err = c->err.buf;
        c->res.err_len = c->err.len;
        c->out.buf = c->err.buf = NULL;
        c->done(&c->res, c->userdata);
        child_free(c);
}

static int on_stream(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Stream *s = userdata;
        TvChild *c = s->child;
        /* stdout keeps one byte more than its limit to notice the overflow; stderr drops the rest */
        size_t max_cap = s->limit + (s->kill_when_full ? 1 : 0);

        for (;;) {
                char sink[4096], *dst = sink;
                size_t room = sizeof(sink);
                ssize_t n;

                if (s->len == s->cap && s->cap < max_cap) {
                        size_t ncap = s->cap ? s->cap * 2 : 4096;
                        char *nb;

                        if (ncap > max_cap)
                                ncap = max_cap;
                        nb = realloc(s->buf, ncap + 1);
                        if (!nb) {
                                c->res.read_errno = ENOMEM;
                                kill_group(c);
                                stream_close(s);
                                break;
                        }
                        s->buf = nb;
                        s->cap = ncap;
                }
                if (s->len < s->cap) {
                        dst = s->buf + s->len;
                        room = s->cap - s->len;
                }
                n = read(fd, dst, room);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0) {
                        if (n < 0)
                                c->res.read_errno = errno;
                        stream_close(s);
                        break;
                }
                if (dst == sink)
                        continue;
                s->len += (size_t)n;
                s->buf[s->len] = 0;
                if (s->len > s->limit) {
                        c->res.too_big = true;
                        kill_group(c);
                        stream_close(s);
                        break;
                }
        }
        maybe_done(c);
        return 0;
}

static int on_child_exit(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        TvChild *c = userdata;

        c->si = *si;
        /* helpers it left behind must not keep our pipes open; still safe: sd-event reaps after us */
        kill(-c->pid, SIGKILL);
        c->exited = true;
        maybe_done(c);
        return 0;
}

static int on_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        TvChild *c = userdata;

        c->res.timed_out = true;
        kill_group(c);
        /* a grandchild that left the group may hold a pipe: stop reading */
        stream_close(&c->out);
        stream_close(&c->err);
        maybe_done(c);
        return 0;
}

static int stream_open(sd_event *e, TvChild *c, Stream *s, size_t limit, bool kill_when_full, int *child_end)
{
        int p[2];

        s->child = c;
        s->limit = limit;
        s->kill_when_full = kill_when_full;
        if (limit == 0) {
                s->eof = true;
                return 0;
        }
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        s->fd = above_stdio(p[0]);
        *child_end = above_stdio(p[1]);
        if (s->fd < 0 || *child_end < 0)
                return -EMFILE;
        /* the child's end must block: QEMU does not expect EAGAIN on stdout */
        if (fcntl(*child_end, F_SETFL, 0) < 0)
                return -errno;
        return sd_event_add_io(e, &s->src, s->fd, EPOLLIN, on_stream, s);
}

int tv_child_start(sd_event *e, const TvChildSpec *spec, TvChildDoneFn done, void *userdata, TvChild **out)
{
        static char *const envp[] = { (char *)"LC_ALL=C", NULL };
        char *argv[TV_CHILD_MAX_ARGS + 2];
        size_t n_args = 0;
        int nullfd = -1, out_w = -1, err_w = -1, sv[2] = { -1, -1 }, r;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        TvChild *c;

        *out = NULL;
        argv[n_args++] = (char *)spec->path;
        for (const char *const *a = spec->args; a && *a; a++) {
                if (n_args > TV_CHILD_MAX_ARGS)
                        return -E2BIG;
                argv[n_args++] = (char *)*a;
        }
        argv[n_args] = NULL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->in_fd = c->out.fd = c->err.fd = -1;
        c->done = done;
        c->userdata = userdata;
        nullfd = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
        if (nullfd < 0) {
                r = -errno;
                goto fail;
        }
        r = stream_open(e, c, &c->out, spec->out_cap, true, &out_w);
        if (r >= 0)
                r = stream_open(e, c, &c->err, spec->err_cap, false, &err_w);
        if (r < 0)
                goto fail;
        /* a socket rather than a pipe for stdin: send(MSG_NOSIGNAL) cannot SIGPIPE the daemon */
        if (spec->input) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                        r = -errno;
                        goto fail;
                }
                sv[0] = above_stdio(sv[0]);
                sv[1] = above_stdio(sv[1]);
                if (sv[0] < 0 || sv[1] < 0) {
                        r = -EMFILE;
                        goto fail;
                }
        }
        if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
                r = -r;
                goto fail;
        }
        if ((r = posix_spawnattr_init(&attr)) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                r = -r;
                goto fail;
        }
        sigemptyset(&none);
        sigfillset(&all);
        r = posix_spawn_file_actions_adddup2(&fa, spec->input ? sv[1] : nullfd, 0);
        r = r ?: posix_spawn_file_actions_adddup2(&fa, out_w >= 0 ? out_w : nullfd, 1);
        r = r ?: posix_spawn_file_actions_adddup2(&fa, err_w >= 0 ? err_w : nullfd, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        /* the daemon's own fds, even ones opened without O_CLOEXEC by a library */
        r = r ?: posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
        /* own group, so the timeout kills helpers that inherited stdout too; default signal state
         * (the daemon blocks SIGCHLD and the signals sd-event handles) */
        r = r ?: posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                         POSIX_SPAWN_SETSIGDEF);
        r = r ?: posix_spawnattr_setpgroup(&attr, 0);
        r = r ?: posix_spawnattr_setsigmask(&attr, &none);
        r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
        r = r ?: posix_spawn(&c->pid, spec->path, &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close_fd(&out_w);
        close_fd(&err_w);
        close_fd(&sv[1]);
        close_fd(&nullfd);
        if (r != 0) {
                r = -r;
                goto fail;
        }
        c->in_fd = sv[0];
        sv[0] = -1;
        r = sd_event_add_child(e, &c->child_src, c->pid, WEXITED, on_child_exit, c);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &c->timer_src, CLOCK_MONOTONIC,
                                               (uint64_t)spec->timeout_ms * 1000, 1000, on_timeout, c);
        if (r < 0) {
                tv_child_kill(c);
                return r;
        }
        if (spec->input) {
                size_t off = 0, ilen = strlen(spec->input);

                /* a few hundred bytes into an empty socket buffer: does not block */
                while (off < ilen) {
                        ssize_t w = send(c->in_fd, spec->input + off, ilen - off, MSG_NOSIGNAL | MSG_DONTWAIT);

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;  /* child gone or input too big; its exit status tells */
                        off += (size_t)w;
                }
        }
        *out = c;
        return 0;

fail:
        close_fd(&nullfd);
        close_fd(&out_w);
        close_fd(&err_w);
        close_fd(&sv[0]);
        close_fd(&sv[1]);
        child_free(c);
        return r;
}

void tv_child_kill(TvChild *c)
{
        if (!c)
                return;
        /* drop the child source first: we reap the pid ourselves */
        c->child_src = sd_event_source_disable_unref(c->child_src);
        if (!c->exited) {
                kill(-c->pid, SIGKILL);
                while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                c->exited = true;
        }
        child_free(c);
}

/* First line of captured stderr, printable, for messages. */
static void first_line(const char *s, size_t len, char *buf, size_t size)
{
        tv_quote(buf, size, s, len, 200, TV_QUOTE_LINE | TV_QUOTE_ASCII | TV_QUOTE_NO_ELLIPSIS);
}

int tv_child_result_check(const TvChildResult *res, const char *path, const char *what, unsigned timeout_ms,
                          size_t out_cap, TvError *err)
{
        char said[256] = "";

        if (res->err_len)
                first_line(res->err, res->err_len, said, sizeof(said));
        if (res->timed_out)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s did not finish within %u ms; killed it", path,
                                    what, timeout_ms);
        if (res->too_big)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s printed more than %zu bytes", path, what,
                                    out_cap);
        if (res->read_errno)
                return tv_error_set(err, TV_ERR_FAILED, "reading the output of %s %s failed: %s", path, what,
                                    strerror(res->read_errno));
        if (!res->exited)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s was killed by signal %d%s%s", path, what,
                                    res->signal, *said ? ": " : "", said);
        if (res->code != 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s %s exited with status %d%s%s", path, what,
                                    res->code, *said ? ": " : "", said);
        return 0;
}

/* ---- jobs ---- */

typedef struct Waiter {
        TvJobDoneFn done;
        void *userdata;
        struct Waiter *next;
} Waiter;

struct TvJob {
        TvJobSet *set;
        char *key;
        void *data;
        void (*free_data)(void *);
        TvChild *child;
        TvChildDoneFn child_done;
        Waiter *waiters, **tail;
        struct TvJob *next;
};

struct TvJobSet {
        sd_event *event;
        TvJob *jobs;
        char *stopped;                  /* why new jobs are refused */
};

TvJobSet *tv_jobset_new(sd_event *e)
{
        TvJobSet *s = calloc(1, sizeof(*s));

        if (s)
                s->event = sd_event_ref(e);
        return s;
}

void tv_jobset_free(TvJobSet *s)
{
        if (!s)
                return;
        tv_jobset_cancel(s, "tegravirtd is stopping");
        sd_event_unref(s->event);
        free(s->stopped);
        free(s);
}

size_t tv_jobset_count(const TvJobSet *s)
{
        size_t n = 0;

        for (TvJob *j = s ? s->jobs : NULL; j; j = j->next)
                n++;
        return n;
}

void tv_jobset_cancel(TvJobSet *s, const char *why)
{
        TvError err = { 0 };

        if (!s)
                return;
        if (!s->stopped)
                s->stopped = strdup(why);
        tv_error_set(&err, TV_ERR_FAILED, "cancelled: %s", why);
        /* a waiter may react by starting nothing new (refused now), but it may end other jobs */
        while (s->jobs) {
                TvJob *j = s->jobs;

                tv_child_kill(j->child);
                j->child = NULL;
                tv_job_finish(j, &err);
        }
}

TvJob *tv_job_find(TvJobSet *s, const char *key)
{
        for (TvJob *j = s->jobs; j; j = j->next)
                if (strcmp(j->key, key) == 0)
                        return j;
        return NULL;
}

TvJob *tv_job_new(TvJobSet *s, const char *key, void *data, void (*free_data)(void *), TvError *err)
{
        TvJob *j;

        if (s->stopped) {
                tv_error_set(err, TV_ERR_FAILED, "cancelled: %s", s->stopped);
                goto fail;
        }
        j = calloc(1, sizeof(*j));
        if (!j || !(j->key = strdup(key))) {
                free(j);
                tv_error_oom(err);
                goto fail;
        }
        j->set = s;
        j->data = data;
        j->free_data = free_data;
        j->tail = &j->waiters;
        j->next = s->jobs;
        s->jobs = j;
        return j;
fail:
        if (free_data)
                free_data(data);
        return NULL;
}

void *tv_job_data(TvJob *j)
{
        return j->data;
}

int tv_job_wait(TvJob *j, TvJobDoneFn done, void *userdata)
{
        Waiter *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        w->done = done;
        w->userdata = userdata;
        *j->tail = w;
        j->tail = &w->next;
        return 0;
}

static void on_job_child(TvChildResult *res, void *userdata)
{
        TvJob *j = userdata;

        j->child = NULL;        /* freed when this returns */
        j->child_done(res, j);
}

int tv_job_run(TvJob *j, const TvChildSpec *spec, TvChildDoneFn done, TvError *err)
{
        int r;

        if (j->child)
                return tv_error_set(err, TV_ERR_FAILED, "internal error: job %s already runs a child", j->key);
        if (j->set->stopped)
                return tv_error_set(err, TV_ERR_FAILED, "cancelled: %s", j->set->stopped);
        j->child_done = done;
        r = tv_child_start(j->set->event, spec, on_job_child, j, &j->child);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot run %s: %s", spec->path, strerror(-r));
        return 0;
}

void tv_job_finish(TvJob *j, const TvError *err)
{
        Waiter *w;

        for (TvJob **pp = &j->set->jobs; *pp; pp = &(*pp)->next)
                if (*pp == j) {
                        *pp = j->next;
                        break;
                }
        /* unlinked first: a waiter may start a new job under the same key */
        tv_child_kill(j->child);
        while ((w = j->waiters)) {
                j->waiters = w->next;
                w->done(err && err->name ? err : NULL, w->userdata);
                free(w);
        }
        if (j->free_data)
                j->free_data(j->data);
        free(j->key);
        free(j);
}

int tv_service_spawn(const char *path, const char *const *args, const int *fds, size_t n_fds, pid_t *pid,
                     int *gate)
{
        const char *argv[TV_CHILD_MAX_ARGS + 2];
        static const char *const envp[] = { "LC_ALL=C", NULL };
        int pipefd[2], nullfd;
        size_t n = 0;
        pid_t p;

        if (n_fds > 8)
                return -EINVAL;
        argv[n++] = path;
        for (; args && args[n - 1] && n <= TV_CHILD_MAX_ARGS; n++)
                argv[n] = args[n - 1];
        if (args && args[n - 1])
                return -E2BIG;
        argv[n] = NULL;
        nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nullfd < 0)
                return -errno;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                int e = -errno;

                close(nullfd);
                return e;
        }
        p = fork();
        if (p < 0) {
                int e = -errno;

                close(nullfd);
                close(pipefd[0]);
                close(pipefd[1]);
                return e;
        }
        if (p == 0) {
                /* only async-signal-safe calls from here: the daemon may have threads */
                int high[8], gate_fd;
                sigset_t none;
                char go = 0;

                /* the gate's write end: held here too, the read below would never see EOF */
                close(pipefd[1]);
                sigemptyset(&none);
                for (int s = 1; s < NSIG; s++)
                        signal(s, SIG_DFL);
                sigprocmask(SIG_SETMASK, &none, NULL);
                setsid();
                gate_fd = fcntl(pipefd[0], F_DUPFD, 64);
                for (size_t i = 0; i < n_fds; i++)
                        high[i] = fcntl(fds[i], F_DUPFD, 64);
                if (gate_fd < 0 || dup2(nullfd, 0) < 0 || dup2(nullfd, 1) < 0)
                        _exit(127);
                for (size_t i = 0; i < n_fds; i++)
                        if (high[i] < 0 || dup2(high[i], 3 + (int)i) < 0)
                                _exit(127);
                if (read(gate_fd, &go, 1) != 1 || go != 1)
                        _exit(127);
                close_range(3 + n_fds, ~0U, 0);
                execve(path, (char *const *)argv, (char *const *)envp);
                _exit(127);
        }
        close(nullfd);
        close(pipefd[0]);
        *pid = p;
        *gate = pipefd[1];
        return 0;
}

void tv_service_gate(int gate, bool go)
{
        char c = 1;

        if (go)
                (void)!write(gate, &c, 1);
        close(gate);
}
