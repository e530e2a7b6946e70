// SPDX-License-Identifier: GPL-2.0-or-later
/* The per-domain backend processes: backend-proc.h. */
#include "backend-proc.h"
#include "job.h"
#include "tv-fileio.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "tv-log.h"

#define RESTART_SOON_USEC (1000 * 1000)         /* a backend that died young waits this long, doubled */
#define RESTART_YOUNG_USEC (5 * 1000 * 1000)    /* ... each time in a row, up to RESTART_MAX_USEC */
#define RESTART_MAX_USEC (30 * 1000 * 1000)

typedef struct Waiter {
        TvBackendStoppedFn fn;
        void *userdata;
} Waiter;

struct TvBackendProc {
        TvBackendProcs *owner;
        char *domain;
        pid_t pid;                      /* 0 while none runs (waiting for a restart) */
        int pidfd;
        unsigned long long start;       /* /proc/<pid>/stat field 22 */
        bool own_child;                 /* ours to reap; else adopted from a previous tegravirtd */
        bool stopping;
        bool replacing;                 /* killed to be started again at once */
        uint64_t started_usec;
        sd_event_source *watch;         /* its death */
        sd_event_source *timer;         /* SIGKILL after SIGTERM, or the restart */
        int control_fd;                 /* our end of its control channel; -1 adopted or none */
        sd_event_source *control_watch; /* what the backend asks there (kinds with a control callback) */
        char control_buf[64];           /* a partial line from it */
        size_t control_len;
        pid_t qemu_pid;                 /* the domain's QEMU once DomainStarted named it, else 0 */
        pid_t told_pid;                 /* the QEMU pid the running backend knows (0: none) */
        unsigned failures;              /* starts in a row that died young or failed */
        bool gave_up;                   /* TV_BACKEND_MAX_FAILURES reached: not restarted until re-armed */
        char last_failure[96];          /* how the last of them ended */
        Waiter *waiters;
        size_t n_waiters;
        TvBackendProc *next;
};

static uint64_t mono_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *domain_dir(const char *run_dir, const char *domain)
{
        char *p = NULL;

        return asprintf(&p, "%s/domains/%s", run_dir, domain) < 0 ? NULL : p;
}

char *tv_backend_file(const char *run_dir, const char *domain, const char *name)
{
        char *p = NULL;

        return asprintf(&p, "%s/domains/%s/%s", run_dir, domain, name) < 0 ? NULL : p;
}

int tv_backend_args_add(TvBackendArgs *a, const char *fmt, ...)
{
        char **v = realloc(a->argv, (a->n_argv + 1) * sizeof(*v));
        va_list ap;
        int r;

        if (!v)
                return -ENOMEM;
        a->argv = v;
        va_start(ap, fmt);
        r = vasprintf(&v[a->n_argv], fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        a->n_argv++;
        return 0;
}

int tv_backend_args_fd(TvBackendArgs *a, int fd, bool owned)
{
        if (fd < 0)
                return -EBADF;
        if (a->n_fds >= TV_BACKEND_MAX_FDS) {
                if (owned)
                        close(fd);
                return -E2BIG;
        }
        a->fds[a->n_fds] = fd;
        a->owned[a->n_fds] = owned;
        return a->first_fd + (int)a->n_fds++;
}

static void args_done(TvBackendArgs *a)
{
        for (size_t i = 0; i < a->n_fds; i++)
                if (a->owned[i])
                        close(a->fds[i]);
        for (size_t i = 0; i < a->n_argv; i++)
                free(a->argv[i]);
        free(a->argv);
        *a = (TvBackendArgs){ 0 };
}

/* Field 22 (starttime) of /proc/<pid>/stat, 0 when the process is gone; with comm, so a
 * recorded pid reused by something else is not taken for a backend. */
static unsigned long long proc_start(pid_t pid, const TvBackendKind *kind, bool *is_backend)
{
        char path[64], *buf = NULL, *p;
        unsigned long long start = 0;
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (tv_read_file_at(AT_FDCWD, path, 4096, &buf, &len) < 0)
                return 0;
        /* comm: the binary's name cut to 15 bytes */
        if (is_backend)
                *is_backend = (p = strchr(buf, '(')) && strncmp(p + 1, kind->binary, 15) == 0;
        p = strrchr(buf, ')');
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (p)
                start = strtoull(p + 1, NULL, 10);
        free(buf);
        return start;
}

static int mkdir_p(const char *run_dir, const char *domain)
{
        _cleanup_free_ char *domains = NULL, *dir = domain_dir(run_dir, domain);

        if (!dir || asprintf(&domains, "%s/domains", run_dir) < 0)
                return -ENOMEM;
        if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(domains, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Removes the socket, the record and the domain's directory (what a stop leaves). */
static void remove_files(TvBackendProcs *b, const char *domain)
{
        _cleanup_free_ char *dir = domain_dir(b->run_dir, domain), *sock = NULL, *rec = NULL;

        if (!dir || asprintf(&sock, "%s/%s", dir, b->kind->socket) < 0 ||
            asprintf(&rec, "%s/%s", dir, b->kind->record) < 0)
                return;
        (void)unlink(sock);
        (void)unlink(rec);
        (void)rmdir(dir);
}

/* The kind's state file goes only when the backend is stopped for good (a failed restart
 * keeps it for the next attempt). */
static void remove_state(TvBackendProcs *b, const char *domain)
{
        _cleanup_free_ char *path = b->kind->state ? tv_backend_file(b->run_dir, domain, b->kind->state) : NULL;

        if (path)
                (void)unlink(path);
}

/* --state-fd N: the kind's state file, created empty (the backend sizes it) owned by the user
 * the backend runs as, or the one a previous backend of this prepare left. */
static int state_arg(TvBackendProcs *b, const char *domain, TvBackendArgs *a, TvError *err)
{
        _cleanup_free_ char *path = tv_backend_file(b->run_dir, domain, b->kind->state);
        int fd, r;

        if (!path)
                return tv_error_oom(err);
        r = mkdir_p(b->run_dir, domain);
        fd = r < 0 ? r : open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0 || fchown(fd, b->uid, b->gid) < 0) {
                int e = fd < 0 ? (r < 0 ? -r : errno) : errno;

                if (fd >= 0)
                        close(fd);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot create the %s state file %s: %s", b->kind->what,
                                    path, strerror(e));
        }
        r = tv_backend_args_fd(a, fd, true);
        if (r < 0) {
                close(fd);
                return tv_error_set(err, TV_ERR_FAILED, "the %s of %s needs too many fds", b->kind->what, domain);
        }
        if (tv_backend_args_add(a, "--state-fd") < 0 || tv_backend_args_add(a, "%d", r) < 0)
                return tv_error_oom(err);
        return 0;
}

/* Binds a fresh socket beside the old one and renames it over it: QEMU never finds the
 * path missing. Owned by the QEMU user, mode 0600. */
static int make_socket(TvBackendProcs *b, const char *domain, TvError *err)
{
        _cleanup_free_ char *path = tv_backend_file(b->run_dir, domain, b->kind->socket), *tmp = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (!path || asprintf(&tmp, "%s.new", path) < 0)
                return tv_error_oom(err);
        if (strlen(tmp) >= sizeof(sa.sun_path))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the socket path %s is too long (at most %zu bytes)",
                                    path, sizeof(sa.sun_path) - 5);
        strcpy(sa.sun_path, tmp);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void)unlink(tmp);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chown(tmp, b->uid, b->gid) < 0 ||
            chmod(tmp, 0600) < 0 || listen(fd, 8) < 0 || rename(tmp, path) < 0) {
                int e = errno;

                (void)unlink(tmp);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot create the %s socket %s: %s", b->kind->what,
                                    path, strerror(e));
        }
        return TAKE_FD(fd);
}

static void be_free(TvBackendProc *be)
{
        TvBackendProcs *b = be->owner;

        for (TvBackendProc **p = &b->list; *p; p = &(*p)->next)
                if (*p == be) {
                        *p = be->next;
                        break;
                }
        sd_event_source_disable_unref(be->watch);
        sd_event_source_disable_unref(be->timer);
        sd_event_source_disable_unref(be->control_watch);
        if (be->pidfd >= 0)
                close(be->pidfd);
        if (be->control_fd >= 0)
                close(be->control_fd);
        free(be->waiters);
        free(be->domain);
        free(be);
}

static TvBackendProc *be_find(const TvBackendProcs *b, const char *domain)
{
        for (TvBackendProc *be = b->list; be; be = be->next)
                if (strcmp(be->domain, domain) == 0)
                        return be;
        return NULL;
}

static int on_own_exit(sd_event_source *s, const siginfo_t *si, void *userdata);

/* Through the pidfd: an adopted pid may have been reused by the time we signal it. */
static void be_signal(TvBackendProc *be, int sig)
{
        if (be->pidfd >= 0)
                (void)pidfd_send_signal(be->pidfd, sig, NULL, 0);
        else if (be->own_child)
                (void)kill(be->pid, sig);
}
static int on_adopted_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int watch(TvBackendProc *be)
{
        sd_event *e = be->owner->event;

        /* our child: by pid (it cannot be reused before we reap it), as job.c does */
        if (be->own_child)
                return sd_event_add_child(e, &be->watch, be->pid, WEXITED, on_own_exit, be);
        return sd_event_add_io(e, &be->watch, be->pidfd, EPOLLIN, on_adopted_exit, be);
}

/* "pid=N start=T[ qemu=Q]": Q the QEMU pid the backend serves, so a restarted tegravirtd
 * restarts it with --peer-pid Q. */
static int write_record(TvBackendProcs *b, const char *domain, pid_t pid, unsigned long long start, pid_t qemu)
{
        _cleanup_free_ char *dir = domain_dir(b->run_dir, domain), *text = NULL;
        _cleanup_close_ int dfd = -1;
        int len;

        if (!dir)
                return -ENOMEM;
        len = qemu ? asprintf(&text, "pid=%d start=%llu qemu=%d\n", (int)pid, start, (int)qemu)
                   : asprintf(&text, "pid=%d start=%llu\n", (int)pid, start);
        if (len < 0)
                return -ENOMEM;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return tv_write_file_replace_at(dfd, b->kind->record, text, len, 0644);
}

static void control_close(TvBackendProc *be)
{
        be->control_watch = sd_event_source_disable_unref(be->control_watch);
        if (be->control_fd >= 0)
                close(be->control_fd);
        be->control_fd = -1;
        be->control_len = 0;
}

/* Sends one line on the control channel without waiting: true when all of it went. */
static bool control_send(TvBackendProc *be, const char *line)
{
        size_t len = strlen(line);

        return be->control_fd >= 0 && send(be->control_fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len;
}

/* What the backend asks on its control channel ("peer <pid>"): answered at once. A line
 * too long or a channel that fails ends the channel; the backend then gets no answers. */
static int on_control(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        TvBackendProc *be = userdata;
        TvBackendProcs *b = be->owner;
        ssize_t n = recv(fd, be->control_buf + be->control_len, sizeof(be->control_buf) - 1 - be->control_len,
                         MSG_DONTWAIT);
        char *nl, answer[64];

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                control_close(be);
                return 0;
        }
        be->control_len += (size_t)n;
        be->control_buf[be->control_len] = 0;
        while ((nl = strchr(be->control_buf, '\n'))) {
                *nl = 0;
                if (b->control(b->userdata, be->domain, be->qemu_pid, be->control_buf, answer, sizeof(answer)) &&
                    !control_send(be, answer)) {
                        tv_log(LOG_ERR, "%s: %s: cannot answer on the control channel: closed", b->kind->log,
                               be->domain);
                        control_close(be);
                        return 0;
                }
                be->control_len -= (size_t)(nl + 1 - be->control_buf);
                memmove(be->control_buf, nl + 1, be->control_len + 1);
        }
        if (be->control_len >= sizeof(be->control_buf) - 1) {
                tv_log(LOG_ERR, "%s: %s: control line too long: channel closed", b->kind->log, be->domain);
                control_close(be);
        }
        return 0;
}

/* Runs the backend for be: socket, the kind's fds, fork (gated), record, exec, watch.
 * 1 when the domain no longer runs (nothing started). */
static int spawn(TvBackendProc *be, TvError *err)
{
        TvBackendProcs *b = be->owner;
        const TvBackendKind *k = b->kind;
        TvBackendArgs a = { .first_fd = 4 };
        _cleanup_free_ const char **argv = NULL;
        _cleanup_close_ int lfd = -1, ours = -1, theirs = -1;
        int fds[TV_BACKEND_MAX_FDS + 2], ctl[2], gate = -1, r, cfd;
        size_t n = 0;
        const char *what;
        char tell[32];
        pid_t pid;

        if (access(b->path, X_OK) < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot run the %s %s: %s (install %s with tegravirtd)",
                                    k->what, b->path, strerror(errno), k->binary);
        if (b->uid == (uid_t)-1 || b->uid == 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the %s needs an unprivileged QemuUser= to run as (and "
                                    "to accept); it is not set or is root", k->what);
        r = b->args(b->userdata, be->domain, &a, err);
        if (r == 0 && k->state)
                r = state_arg(b, be->domain, &a, err);
        if (r != 0) {
                args_done(&a);
                return r;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
                args_done(&a);
                return tv_error_set(err, TV_ERR_FAILED, "cannot create the %s's control channel: %s", k->what,
                                    strerror(errno));
        }
        ours = ctl[0];
        theirs = ctl[1];
        /* a write of one line to an empty channel never blocks; if it would, it fails */
        (void)fcntl(ours, F_SETFL, O_NONBLOCK);
        if (!b->control)
                (void)shutdown(ours, SHUT_RD);
        cfd = tv_backend_args_fd(&a, theirs, false);
        argv = calloc(a.n_argv + 20, sizeof(*argv));
        if (cfd < 0 || !argv) {
                args_done(&a);
                return cfd < 0 ? tv_error_set(err, TV_ERR_FAILED, "the %s of %s needs too many fds", k->what,
                                              be->domain) : tv_error_oom(err);
        }
        snprintf(tell, sizeof(tell), "%d", (int)be->qemu_pid);
        argv[n++] = "--domain";
        argv[n++] = be->domain;
        argv[n++] = "--listen-fd";
        argv[n++] = "3";
        for (size_t i = 0; i < a.n_argv; i++)
                argv[n++] = a.argv[i];
        if (tv_backend_args_add(&a, "%u", (unsigned)b->uid) < 0 || tv_backend_args_add(&a, "%u", (unsigned)b->gid) < 0 ||
            tv_backend_args_add(&a, "%d", cfd) < 0) {
                args_done(&a);
                return tv_error_oom(err);
        }
        argv[n++] = "--uid";
        argv[n++] = a.argv[a.n_argv - 3];
        argv[n++] = "--gid";
        argv[n++] = a.argv[a.n_argv - 2];
        argv[n++] = "--peer-uid";
        argv[n++] = a.argv[a.n_argv - 3];
        argv[n++] = "--control-fd";
        argv[n++] = a.argv[a.n_argv - 1];
        if (be->qemu_pid) { /* a restart while the domain runs: the QEMU is known */
                argv[n++] = "--peer-pid";
                argv[n++] = tell;
        }
        argv[n] = NULL;
        r = mkdir_p(b->run_dir, be->domain);
        if (r < 0) {
                args_done(&a);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot create %s/domains/%s: %s", b->run_dir,
                                    be->domain, strerror(-r));
        }
        lfd = make_socket(b, be->domain, err);
        if (lfd < 0) {
                args_done(&a);
                return -1;
        }
        fds[0] = lfd;
        memcpy(fds + 1, a.fds, a.n_fds * sizeof(int));
        r = tv_service_spawn(b->path, argv, fds, a.n_fds + 1, &pid, &gate);
        args_done(&a);
        if (r < 0) {
                remove_files(b, be->domain);
                return tv_error_set(err, TV_ERR_FAILED, "cannot start %s: %s", b->path, strerror(-r));
        }
        be->pid = pid;
        be->own_child = true;
        /* optional for our own child (valgrind lacks pidfd_open): kill() is safe until we reap it */
        be->pidfd = pidfd_open(pid, 0);
        be->start = proc_start(pid, k, NULL);
        what = "record";
        /* recorded before it may exec: a tegravirtd restarted from here on adopts it */
        r = !be->start ? -ESRCH : write_record(b, be->domain, pid, be->start, be->qemu_pid);
        if (r == 0) {
                r = watch(be);
                what = "watch";
        }
        if (r == 0 && b->control) {
                r = sd_event_add_io(b->event, &be->control_watch, ours, EPOLLIN, on_control, be);
                what = "watch the control channel of";
        }
        if (r < 0) {
                int status;

                tv_service_gate(gate, false);
                /* it exits at once when the gate closes: a wait of microseconds, not of a child's work */
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                be->watch = sd_event_source_disable_unref(be->watch);
                be->control_watch = sd_event_source_disable_unref(be->control_watch);
                if (be->pidfd >= 0)
                        close(be->pidfd);
                be->pidfd = -1;
                be->pid = 0;
                remove_files(b, be->domain);
                return tv_error_set(err, TV_ERR_FAILED, "cannot %s the %s of %s: %s", what, k->what, be->domain,
                                    strerror(-r));
        }
        tv_service_gate(gate, true);
        if (be->control_fd >= 0)
                close(be->control_fd);
        be->control_fd = TAKE_FD(ours);
        be->control_len = 0;
        be->told_pid = be->qemu_pid;
        be->started_usec = mono_usec();
        tv_log(LOG_INFO, "%s: %s: started pid %d on %s/domains/%s/%s", k->log, be->domain, (int)pid, b->run_dir,
               be->domain, k->socket);
        return 0;
}

static TvBackendProc *be_new(TvBackendProcs *b, const char *domain)
{
        TvBackendProc *be = calloc(1, sizeof(*be));

        if (!be || !(be->domain = strdup(domain))) {
                free(be);
                return NULL;
        }
        be->owner = b;
        be->pidfd = -1;
        be->control_fd = -1;
        be->next = b->list;
        b->list = be;
        return be;
}

int tv_backend_start(TvBackendProcs *b, const char *domain, TvError *err)
{
        TvBackendProc *be = be_find(b, domain);

        if (be && be->stopping)
                return tv_error_set(err, TV_ERR_DOMAIN_BUSY, "the %s of %s is still stopping; retry", b->kind->what,
                                    domain);
        if (be && be->pid)
                return 0;
        if (!be && !(be = be_new(b, domain)))
                return tv_error_oom(err);
        /* a prepare re-arms one that gave up, or starts one waiting for its restart now */
        be->timer = sd_event_source_disable_unref(be->timer);
        be->failures = 0;
        be->gave_up = false;
        if (spawn(be, err) != 0) {
                remove_state(b, domain);
                remove_files(b, domain);
                be_free(be);
                return tv_error_is_set(err) ? -1 : 0;
        }
        return 0;
}

pid_t tv_backend_pid(const TvBackendProcs *b, const char *domain)
{
        TvBackendProc *be = be_find(b, domain);

        return be ? be->pid : 0;
}

bool tv_backend_known(const TvBackendProcs *b, const char *domain)
{
        TvBackendProc *be = be_find(b, domain);

        return be && !be->stopping;
}

const char *tv_backend_failed(const TvBackendProcs *b, const char *domain)
{
        TvBackendProc *be = be_find(b, domain);

        return be && be->gave_up && !be->stopping ? be->last_failure : NULL;
}

pid_t tv_backend_qemu(const TvBackendProcs *b, const char *domain)
{
        TvBackendProc *be = be_find(b, domain);

        return be ? be->qemu_pid : 0;
}

/* Gone: tell the waiters of a stop, or start it again while its domain runs. */
static void gone(TvBackendProc *be, const char *how);
static void schedule_restart(TvBackendProc *be, bool failed, const char *how);

static int on_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
        TvBackendProc *be = userdata;
        TvBackendProcs *b = be->owner;
        TvError err = { 0 };
        int r;

        be->timer = sd_event_source_disable_unref(be->timer);
        r = b->running(b->userdata, be->domain) ? spawn(be, &err) : 1;
        if (r > 0) {
                remove_state(b, be->domain);
                remove_files(b, be->domain);
                be_free(be);
                return 0;
        }
        if (r < 0) {
                tv_log(LOG_ERR, "%s: %s: %s", b->kind->log, be->domain, err.message);
                schedule_restart(be, true, err.message);
                tv_error_clear(&err);
                return 0;
        }
        b->restarts++;
        return 0;
}

/* Starts be again after a delay that doubles with each start in a row that failed (died
 * within RESTART_YOUNG_USEC, or could not start), and gives up after
 * TV_BACKEND_MAX_FAILURES of them: a cause that lasts (a line the host took) is not
 * retried forever. A prepare (tv_backend_start) or DomainStarted re-arms it. */
static void schedule_restart(TvBackendProc *be, bool failed, const char *how)
{
        TvBackendProcs *b = be->owner;
        uint64_t delay = 0;

        if (failed) {
                be->failures++;
                snprintf(be->last_failure, sizeof(be->last_failure), "%s", how);
        } else {
                be->failures = 0;
        }
        if (be->failures >= TV_BACKEND_MAX_FAILURES) {
                be->gave_up = true;
                tv_log(LOG_ERR, "%s: %s: gave up: %u starts of %s in a row failed within %u s (last: %s); its own "
                       "messages are above; fix the cause, then PrepareDomain %s (or DomainStarted) starts it again",
                       b->kind->log, be->domain, be->failures, b->kind->binary, RESTART_YOUNG_USEC / 1000000, how,
                       be->domain);
                return;
        }
        if (be->failures) /* 1 s, 2 s, 4 s, ... */
                delay = be->failures > 5 ? RESTART_MAX_USEC : (uint64_t)RESTART_SOON_USEC << (be->failures - 1);
        if (delay > RESTART_MAX_USEC)
                delay = RESTART_MAX_USEC;
        if (failed)
                tv_log(LOG_ERR, "%s: %s: restarting in %u s (%u of %u starts in a row failed)", b->kind->log,
                       be->domain, (unsigned)(delay / 1000000), be->failures, TV_BACKEND_MAX_FAILURES);
        if (sd_event_add_time_relative(b->event, &be->timer, CLOCK_MONOTONIC, delay, 0, on_restart, be) < 0)
                tv_log(LOG_ERR, "%s: %s: cannot schedule the restart", b->kind->log, be->domain);
}

static void gone(TvBackendProc *be, const char *how)
{
        TvBackendProcs *b = be->owner;
        bool young;

        sd_event_source_disable_unref(be->watch);
        be->watch = NULL;
        sd_event_source_disable_unref(be->timer);
        be->timer = NULL;
        if (be->pidfd >= 0)
                close(be->pidfd);
        be->pidfd = -1;
        be->pid = 0;
        control_close(be);
        be->told_pid = 0;
        if (be->stopping || !b->running(b->userdata, be->domain)) {
                Waiter *w = be->waiters;
                size_t n = be->n_waiters;

                tv_log(LOG_INFO, "%s: %s: stopped (%s)", b->kind->log, be->domain, how);
                remove_state(b, be->domain);
                remove_files(b, be->domain);
                be->waiters = NULL;
                be_free(be);
                for (size_t i = 0; i < n; i++)
                        w[i].fn(w[i].userdata, true);
                free(w);
                return;
        }
        young = !be->replacing && mono_usec() - be->started_usec < RESTART_YOUNG_USEC;
        if (be->replacing)
                tv_log(LOG_INFO, "%s: %s: replaced (%s)", b->kind->log, be->domain, how);
        else
                tv_log(LOG_ERR, "%s: %s: died (%s) while the domain runs; restarting%s", b->kind->log, be->domain,
                       how, young ? " (it died young)" : "");
        if (be->replacing) { /* ours: neither a failure nor a success */
                be->replacing = false;
                if (sd_event_add_time_relative(b->event, &be->timer, CLOCK_MONOTONIC, 0, 0, on_restart, be) < 0)
                        tv_log(LOG_ERR, "%s: %s: cannot schedule the restart", b->kind->log, be->domain);
                return;
        }
        schedule_restart(be, young, how);
}

static int on_own_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        char how[64];

        if (si->si_code == CLD_EXITED)
                snprintf(how, sizeof(how), "exit status %d", si->si_status);
        else
                snprintf(how, sizeof(how), "signal %s", sigabbrev_np(si->si_status) ?: "?");
        gone(userdata, how);
        return 0;
}

static int on_adopted_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        gone(userdata, "adopted, not our child");
        return 0;
}

static int on_kill_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        TvBackendProc *be = userdata;

        tv_log(LOG_WARNING, "%s: %s: pid %d still runs %u ms after SIGTERM: SIGKILL", be->owner->kind->log,
               be->domain, (int)be->pid, TV_BACKEND_STOP_USEC / 1000);
        be_signal(be, SIGKILL);
        return 0;
}

int tv_backend_stop(TvBackendProcs *b, const char *domain, TvBackendStoppedFn stopped, void *userdata)
{
        TvBackendProc *be = be_find(b, domain);
        Waiter *w;

        if (!be)
                return 0;
        if (!be->pid) { /* waiting for a restart: nothing runs */
                remove_state(b, domain);
                remove_files(b, domain);
                be_free(be);
                return 0;
        }
        if (stopped) {
                w = realloc(be->waiters, (be->n_waiters + 1) * sizeof(*w));
                if (w) {
                        be->waiters = w;
                        w[be->n_waiters++] = (Waiter){ stopped, userdata };
                }
        }
        if (!be->stopping) {
                be->stopping = true;
                sd_event_source_disable_unref(be->timer);
                be->timer = NULL;
                be_signal(be, SIGTERM);
                if (sd_event_add_time_relative(b->event, &be->timer, CLOCK_MONOTONIC, TV_BACKEND_STOP_USEC, 0,
                                               on_kill_timeout, be) < 0)
                        be_signal(be, SIGKILL);
        }
        return stopped ? 1 : 0;
}

void tv_backend_restart_all(TvBackendProcs *b)
{
        for (TvBackendProc *be = b->list; be; be = be->next)
                if (be->pid && !be->stopping && !be->replacing) {
                        be->replacing = true;
                        be_signal(be, SIGKILL);
                }
}

/* The record of a backend a previous tegravirtd started: "pid=N start=T[ qemu=Q]". */
static int read_record(TvBackendProcs *b, const char *domain, pid_t *pid, unsigned long long *start, pid_t *qemu)
{
        _cleanup_free_ char *dir = domain_dir(b->run_dir, domain), *path = NULL, *text = NULL;
        size_t len;
        int p;

        if (!dir || asprintf(&path, "%s/%s", dir, b->kind->record) < 0)
                return -ENOMEM;
        if (tv_read_file_at(AT_FDCWD, path, 256, &text, &len) < 0)
                return -ENOENT;
        int q = 0, n = sscanf(text, "pid=%d start=%llu qemu=%d", &p, start, &q);

        if (n < 2 || p <= 1 || q < 0)
                return -EINVAL;
        *pid = p;
        *qemu = q;
        return 0;
}

static bool listed(const char *const *names, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(names[i], name) == 0)
                        return true;
        return false;
}

static void adopt_one(TvBackendProcs *b, const char *domain, bool running)
{
        const TvBackendKind *k = b->kind;
        unsigned long long start = 0;
        pid_t pid = 0, qemu = 0;
        bool is_backend = false;
        int pidfd = -1;
        TvBackendProc *be = NULL;

        if (read_record(b, domain, &pid, &start, &qemu) == 0 && (pidfd = pidfd_open(pid, 0)) >= 0 &&
            (proc_start(pid, k, &is_backend) != start || !is_backend)) {
                close(pidfd);
                pidfd = -1;
        } else if (pidfd < 0 && pid && errno == ENOSYS && proc_start(pid, k, &is_backend) == start && is_backend) {
                /* no pidfd (valgrind): it could not be watched; it goes, a new one is started */
                tv_log(LOG_WARNING, "%s: %s: cannot watch pid %d without pidfd_open: killed", k->log, domain, (int)pid);
                (void)kill(pid, SIGKILL);
        }
        if (pidfd < 0) {
                TvError err = { 0 };

                if (!pid) /* no record of this kind: the directory may be another kind's */
                        return;
                tv_log(LOG_NOTICE, "%s: %s: the recorded backend pid %d is gone", k->log, domain, (int)pid);
                if (!running)
                        remove_state(b, domain);
                remove_files(b, domain);
                if (!running || !(be = be_new(b, domain)))
                        return;
                /* a running domain gets a new one, for the QEMU the old one served */
                be->qemu_pid = qemu;
                if (spawn(be, &err) != 0) {
                        if (tv_error_is_set(&err))
                                tv_log(LOG_ERR, "%s: %s: %s", k->log, domain, err.message);
                        tv_error_clear(&err);
                        be_free(be);
                }
                return;
        }
        if (!(be = be_new(b, domain))) {
                close(pidfd);
                return;
        }
        be->pid = pid;
        be->pidfd = pidfd;
        /* control_fd -1: its channel's other end died with the previous tegravirtd */
        be->qemu_pid = be->told_pid = qemu;
        be->start = start;
        be->started_usec = mono_usec() - RESTART_YOUNG_USEC;
        if (watch(be) < 0) {
                tv_log(LOG_ERR, "%s: %s: cannot watch the adopted pid %d", k->log, domain, (int)pid);
                be->watch = NULL;
        }
        tv_log(LOG_INFO, "%s: %s: adopted pid %d%s", k->log, domain, (int)pid,
               running ? "" : "; its domain no longer runs: stopping it");
        if (!running) {
                tv_backend_stop(b, domain, NULL, NULL);
        } else if (b->control && !qemu) {
                /* it would ask about each peer on a channel that died with the previous
                 * tegravirtd, and without an answer serve any process of the QEMU user: a
                 * new one asks us. A connected QEMU reconnects; pending requests are
                 * presented again. One that knows its QEMU (qemu=) serves only it: kept. */
                tv_log(LOG_NOTICE, "%s: %s: adopted pid %d has no control channel and no QEMU pid: replaced",
                       k->log, domain, (int)pid);
                be->replacing = true;
                be_signal(be, SIGKILL);
        }
}

void tv_backend_adopt(TvBackendProcs *b, const char *const *running, size_t n)
{
        _cleanup_free_ char *domains = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;

        if (asprintf(&domains, "%s/domains", b->run_dir) < 0)
                return;
        dir = opendir(domains);
        while (dir && (de = readdir(dir))) {
                if (de->d_name[0] == '.' || !tv_domain_name_valid(de->d_name) || be_find(b, de->d_name))
                        continue;
                adopt_one(b, de->d_name,
                          listed(running, n, de->d_name) || b->running(b->userdata, de->d_name));
        }
        for (size_t i = 0; i < n; i++) {
                TvError err = { 0 };

                if (!tv_backend_pid(b, running[i]) && tv_backend_start(b, running[i], &err) < 0)
                        tv_log(LOG_ERR, "%s: %s: %s", b->kind->log, running[i], err.message);
                tv_error_clear(&err);
        }
}

int tv_backend_started(TvBackendProcs *b, const char *domain, pid_t qemu, TvError *err)
{
        TvBackendProc *be = be_find(b, domain);
        char line[32];
        int r;

        if (!be || be->stopping)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "no %s runs for domain %s (PrepareDomain starts it)",
                                    b->kind->what, domain);
        be->qemu_pid = qemu;
        if (!be->pid && be->gave_up) { /* re-armed: it starts knowing the pid */
                be->failures = 0;
                be->gave_up = false;
                if (spawn(be, err) == 0)
                        return 0;
                be->gave_up = true;
                return tv_error_is_set(err) ? -1 : 0;
        }
        if (!be->pid) /* waiting for a restart: it starts knowing the pid */
                return 0;
        if (be->told_pid != qemu) {
                snprintf(line, sizeof(line), "%s %d\n", b->kind->tell, (int)qemu);
                if (control_send(be, line)) {
                        be->told_pid = qemu;
                        tv_log(LOG_INFO, "%s: %s: serves QEMU pid %d", b->kind->log, domain, (int)qemu);
                }
        }
        /* recorded once it knows: a record with qemu= is a backend that serves that pid only
         * (adoption keeps it); a replacement records it when it starts */
        if (be->told_pid == qemu) {
                r = write_record(b, domain, be->pid, be->start, qemu);
                if (r < 0)
                        return tv_error_set(err, TV_ERR_FAILED, "cannot record the QEMU pid of %s: %s", domain,
                                            strerror(-r));
                return 0;
        }
        /* adopted (its channel died with the previous tegravirtd) or dying: its replacement
         * knows the pid from the start */
        if (!be->replacing) {
                tv_log(LOG_INFO, "%s: %s: no control channel to pid %d: replaced to serve QEMU pid %d", b->kind->log,
                       domain, (int)be->pid, (int)qemu);
                be->replacing = true;
                be_signal(be, SIGKILL);
        }
        return 0;
}

void tv_backends_cancel(TvBackendProcs *b)
{
        for (TvBackendProc *be = b->list; be; be = be->next) {
                Waiter *w = be->waiters;
                size_t n = be->n_waiters;

                be->waiters = NULL;
                be->n_waiters = 0;
                for (size_t i = 0; i < n; i++)
                        w[i].fn(w[i].userdata, false);
                free(w);
        }
}

void tv_backends_free(TvBackendProcs *b)
{
        tv_backends_cancel(b);
        while (b->list)
                be_free(b->list);
}
