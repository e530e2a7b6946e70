// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpmp-backend.h"
#include "job.h"
#include "tv-fileio.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

#define RESTART_SOON_USEC (1000 * 1000)         /* a backend that died young waits this long */
#define RESTART_YOUNG_USEC (5 * 1000 * 1000)

typedef struct Waiter {
        TvBpmpBackendStoppedFn fn;
        void *userdata;
} Waiter;

struct TvBpmpBackend {
        TvBpmpBackends *owner;
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
        int control_fd;                 /* our end of its control channel ("pid N"); -1 adopted or none */
        pid_t qemu_pid;                 /* the domain's QEMU once DomainStarted named it, else 0 */
        pid_t told_pid;                 /* the QEMU pid the running backend knows (0: none) */
        Waiter *waiters;
        size_t n_waiters;
        TvBpmpBackend *next;
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

char *tv_bpmp_backend_socket(const char *run_dir, const char *domain)
{
        char *p = NULL;

        return asprintf(&p, "%s/domains/%s/%s", run_dir, domain, TV_BPMP_BACKEND_SOCKET) < 0 ? NULL : p;
}

/* Field 22 (starttime) of /proc/<pid>/stat, 0 when the process is gone; with comm, so a
 * recorded pid reused by something else is not taken for a backend. */
static unsigned long long proc_start(pid_t pid, bool *is_backend)
{
        char path[64], *buf = NULL, *p;
        unsigned long long start = 0;
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (tv_read_file_at(AT_FDCWD, path, 4096, &buf, &len) < 0)
                return 0;
        p = strrchr(buf, ')');
        if (is_backend)
                *is_backend = strstr(buf, "(tegravirt-bpmp") != NULL;
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
static void remove_files(TvBpmpBackends *b, const char *domain)
{
        _cleanup_free_ char *dir = domain_dir(b->run_dir, domain), *sock = NULL, *rec = NULL;

        if (!dir || asprintf(&sock, "%s/%s", dir, TV_BPMP_BACKEND_SOCKET) < 0 ||
            asprintf(&rec, "%s/%s", dir, TV_BPMP_BACKEND_RECORD) < 0)
                return;
        (void)unlink(sock);
        (void)unlink(rec);
        (void)rmdir(dir);
}

/* Binds a fresh socket beside the old one and renames it over it: QEMU never finds the
 * path missing. Owned by the QEMU user, mode 0600. */
static int make_socket(TvBpmpBackends *b, const char *domain, TvError *err)
{
        _cleanup_free_ char *path = tv_bpmp_backend_socket(b->run_dir, domain), *tmp = NULL;
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
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot create the BPMP backend socket %s: %s", path,
                                    strerror(e));
        }
        return TAKE_FD(fd);
}

static void be_free(TvBpmpBackend *be)
{
        TvBpmpBackends *b = be->owner;

        for (TvBpmpBackend **p = &b->list; *p; p = &(*p)->next)
                if (*p == be) {
                        *p = be->next;
                        break;
                }
        sd_event_source_disable_unref(be->watch);
        sd_event_source_disable_unref(be->timer);
        if (be->pidfd >= 0)
                close(be->pidfd);
        if (be->control_fd >= 0)
                close(be->control_fd);
        free(be->waiters);
        free(be->domain);
        free(be);
}

static TvBpmpBackend *be_find(const TvBpmpBackends *b, const char *domain)
{
        for (TvBpmpBackend *be = b->list; be; be = be->next)
                if (strcmp(be->domain, domain) == 0)
                        return be;
        return NULL;
}

static int on_own_exit(sd_event_source *s, const siginfo_t *si, void *userdata);

/* Through the pidfd: an adopted pid may have been reused by the time we signal it. */
static void be_signal(TvBpmpBackend *be, int sig)
{
        if (be->pidfd >= 0)
                (void)pidfd_send_signal(be->pidfd, sig, NULL, 0);
        else if (be->own_child)
                (void)kill(be->pid, sig);
}
static int on_adopted_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int watch(TvBpmpBackend *be)
{
        sd_event *e = be->owner->event;

        /* our child: by pid (it cannot be reused before we reap it), as job.c does */
        if (be->own_child)
                return sd_event_add_child(e, &be->watch, be->pid, WEXITED, on_own_exit, be);
        return sd_event_add_io(e, &be->watch, be->pidfd, EPOLLIN, on_adopted_exit, be);
}

/* "pid=N start=T[ qemu=Q]": Q the QEMU pid the backend serves, so a restarted tegravirtd
 * restarts it with --peer-pid Q. */
static int write_record(TvBpmpBackends *b, const char *domain, pid_t pid, unsigned long long start, pid_t qemu)
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
        return tv_write_file_replace_at(dfd, TV_BPMP_BACKEND_RECORD, text, len, 0644);
}

/* Runs the backend for be on bpmp_fd: socket, fork (gated), record, exec, watch. */
static int spawn(TvBpmpBackend *be, int bpmp_fd, TvError *err)
{
        TvBpmpBackends *b = be->owner;
        char uid[16], gid[16], qemu[16];
        /* fd 5: the control channel; with the QEMU pid known already (a restart while the
         * domain runs) it is given at once */
        const char *args[] = { "--domain", be->domain, "--listen-fd", "3", "--bpmp-fd", "4", "--uid", uid,
                               "--gid", gid, "--peer-uid", uid, "--control-fd", "5",
                               be->qemu_pid ? "--peer-pid" : NULL, qemu, NULL };
        _cleanup_close_ int lfd = -1, ours = -1, theirs = -1;
        int fds[3], ctl[2], gate = -1, r;
        const char *what;
        pid_t pid;

        if (access(b->path, X_OK) < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot run the BPMP backend %s: %s (install "
                                    "tegravirt-bpmp-backend with tegravirtd)", b->path, strerror(errno));
        if (b->uid == (uid_t)-1 || b->uid == 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the BPMP backend needs an unprivileged QemuUser= "
                                    "to run as (and to accept); it is not set or is root");
        snprintf(uid, sizeof(uid), "%u", (unsigned)b->uid);
        snprintf(gid, sizeof(gid), "%u", (unsigned)b->gid);
        snprintf(qemu, sizeof(qemu), "%d", (int)be->qemu_pid);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot create the BPMP backend's control channel: %s",
                                    strerror(errno));
        ours = ctl[0];
        theirs = ctl[1];
        /* a write of one line to an empty channel never blocks; if it would, it fails */
        (void)fcntl(ours, F_SETFL, O_NONBLOCK);
        (void)shutdown(ours, SHUT_RD);
        r = mkdir_p(b->run_dir, be->domain);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot create %s/domains/%s: %s", b->run_dir,
                                    be->domain, strerror(-r));
        lfd = make_socket(b, be->domain, err);
        if (lfd < 0)
                return -1;
        fds[0] = lfd;
        fds[1] = bpmp_fd;
        fds[2] = theirs;
        r = tv_service_spawn(b->path, args, fds, 3, &pid, &gate);
        if (r < 0) {
                remove_files(b, be->domain);
                return tv_error_set(err, TV_ERR_FAILED, "cannot start %s: %s", b->path, strerror(-r));
        }
        be->pid = pid;
        be->own_child = true;
        /* optional for our own child (valgrind lacks pidfd_open): kill() is safe until we reap it */
        be->pidfd = pidfd_open(pid, 0);
        be->start = proc_start(pid, NULL);
        what = "record";
        /* recorded before it may exec: a tegravirtd restarted from here on adopts it */
        r = !be->start ? -ESRCH : write_record(b, be->domain, pid, be->start, be->qemu_pid);
        if (r == 0) {
                r = watch(be);
                what = "watch";
        }
        if (r < 0) {
                int status;

                tv_service_gate(gate, false);
                /* it exits at once when the gate closes: a wait of microseconds, not of a child's work */
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                sd_event_source_disable_unref(be->watch);
                be->watch = NULL;
                if (be->pidfd >= 0)
                        close(be->pidfd);
                be->pidfd = -1;
                be->pid = 0;
                remove_files(b, be->domain);
                return tv_error_set(err, TV_ERR_FAILED, "cannot %s the BPMP backend of %s: %s", what, be->domain,
                                    strerror(-r));
        }
        tv_service_gate(gate, true);
        if (be->control_fd >= 0)
                close(be->control_fd);
        be->control_fd = TAKE_FD(ours);
        be->told_pid = be->qemu_pid;
        be->started_usec = mono_usec();
        tv_log(LOG_INFO, "bpmp-backend: %s: started pid %d on %s/domains/%s/%s", be->domain, (int)pid, b->run_dir,
               be->domain, TV_BPMP_BACKEND_SOCKET);
        return 0;
}

int tv_bpmp_backend_start(TvBpmpBackends *b, const char *domain, int bpmp_fd, TvError *err)
{
        TvBpmpBackend *be = be_find(b, domain);

        if (be && be->stopping)
                return tv_error_set(err, TV_ERR_DOMAIN_BUSY, "the BPMP backend of %s is still stopping; retry",
                                    domain);
        if (be && be->pid)
                return 0;
        if (!be) {
                be = calloc(1, sizeof(*be));
                if (!be || !(be->domain = strdup(domain))) {
                        free(be);
                        return tv_error_oom(err);
                }
                be->owner = b;
                be->pidfd = -1;
                be->control_fd = -1;
                be->next = b->list;
                b->list = be;
        }
        sd_event_source_disable_unref(be->timer);
        be->timer = NULL;
        if (spawn(be, bpmp_fd, err) < 0) {
                be_free(be);
                return -1;
        }
        return 0;
}

pid_t tv_bpmp_backend_pid(const TvBpmpBackends *b, const char *domain)
{
        TvBpmpBackend *be = be_find(b, domain);

        return be ? be->pid : 0;
}

/* Gone: tell the waiters of a stop, or start it again while its domain runs. */
static void gone(TvBpmpBackend *be, const char *how);

static int on_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
        TvBpmpBackend *be = userdata;
        TvBpmpBackends *b = be->owner;
        TvError err = { 0 };
        int fd = b->domain_fd(b->userdata, be->domain);

        sd_event_source_disable_unref(be->timer);
        be->timer = NULL;
        if (fd < 0) {
                remove_files(b, be->domain);
                be_free(be);
                return 0;
        }
        if (spawn(be, fd, &err) < 0) {
                tv_log(LOG_ERR, "bpmp-backend: %s: %s; retrying", be->domain, err.message);
                tv_error_clear(&err);
                sd_event_add_time_relative(b->event, &be->timer, CLOCK_MONOTONIC, RESTART_YOUNG_USEC, 0,
                                           on_restart, be);
                return 0;
        }
        b->restarts++;
        return 0;
}

static void gone(TvBpmpBackend *be, const char *how)
{
        TvBpmpBackends *b = be->owner;
        uint64_t delay;

        sd_event_source_disable_unref(be->watch);
        be->watch = NULL;
        sd_event_source_disable_unref(be->timer);
        be->timer = NULL;
        if (be->pidfd >= 0)
                close(be->pidfd);
        be->pidfd = -1;
        be->pid = 0;
        if (be->control_fd >= 0)
                close(be->control_fd);
        be->control_fd = -1;
        be->told_pid = 0;
        if (be->stopping || b->domain_fd(b->userdata, be->domain) < 0) {
                Waiter *w = be->waiters;
                size_t n = be->n_waiters;

                tv_log(LOG_INFO, "bpmp-backend: %s: stopped (%s)", be->domain, how);
                remove_files(b, be->domain);
                be->waiters = NULL;
                be_free(be);
                for (size_t i = 0; i < n; i++)
                        w[i].fn(w[i].userdata, true);
                free(w);
                return;
        }
        delay = !be->replacing && mono_usec() - be->started_usec < RESTART_YOUNG_USEC ? RESTART_SOON_USEC : 0;
        if (be->replacing)
                tv_log(LOG_INFO, "bpmp-backend: %s: replaced (%s) to serve the domain's new file", be->domain, how);
        else
                tv_log(LOG_ERR, "bpmp-backend: %s: died (%s) while the domain runs; restarting%s", be->domain, how,
                       delay ? " in 1 s" : "");
        be->replacing = false;
        if (sd_event_add_time_relative(b->event, &be->timer, CLOCK_MONOTONIC, delay, 0, on_restart, be) < 0)
                tv_log(LOG_ERR, "bpmp-backend: %s: cannot schedule the restart", be->domain);
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
        TvBpmpBackend *be = userdata;

        tv_log(LOG_WARNING, "bpmp-backend: %s: pid %d still runs %u ms after SIGTERM: SIGKILL", be->domain,
               (int)be->pid, TV_BPMP_BACKEND_STOP_USEC / 1000);
        be_signal(be, SIGKILL);
        return 0;
}

int tv_bpmp_backend_stop(TvBpmpBackends *b, const char *domain, TvBpmpBackendStoppedFn stopped, void *userdata)
{
        TvBpmpBackend *be = be_find(b, domain);
        Waiter *w;

        if (!be)
                return 0;
        if (!be->pid) { /* waiting for a restart: nothing runs */
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
                if (sd_event_add_time_relative(b->event, &be->timer, CLOCK_MONOTONIC, TV_BPMP_BACKEND_STOP_USEC, 0,
                                               on_kill_timeout, be) < 0)
                        be_signal(be, SIGKILL);
        }
        return stopped ? 1 : 0;
}

void tv_bpmp_backend_restart_all(TvBpmpBackends *b)
{
        for (TvBpmpBackend *be = b->list; be; be = be->next)
                if (be->pid && !be->stopping && !be->replacing) {
                        be->replacing = true;
                        be_signal(be, SIGKILL);
                }
}

/* The record of a backend a previous tegravirtd started: "pid=N start=T[ qemu=Q]". */
static int read_record(TvBpmpBackends *b, const char *domain, pid_t *pid, unsigned long long *start, pid_t *qemu)
{
        _cleanup_free_ char *dir = domain_dir(b->run_dir, domain), *path = NULL, *text = NULL;
        size_t len;
        int p;

        if (!dir || asprintf(&path, "%s/%s", dir, TV_BPMP_BACKEND_RECORD) < 0)
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

static void adopt_one(TvBpmpBackends *b, const char *domain, bool running)
{
        unsigned long long start = 0;
        pid_t pid = 0, qemu = 0;
        bool is_backend = false;
        int pidfd = -1;
        TvBpmpBackend *be = NULL;

        if (read_record(b, domain, &pid, &start, &qemu) == 0 && (pidfd = pidfd_open(pid, 0)) >= 0 &&
            (proc_start(pid, &is_backend) != start || !is_backend)) {
                close(pidfd);
                pidfd = -1;
        } else if (pidfd < 0 && pid && errno == ENOSYS && proc_start(pid, &is_backend) == start && is_backend) {
                /* no pidfd (valgrind): it could not be watched; it goes, a new one is started */
                tv_log(LOG_WARNING, "bpmp-backend: %s: cannot watch pid %d without pidfd_open: killed", domain,
                       (int)pid);
                (void)kill(pid, SIGKILL);
        }
        if (pidfd < 0) {
                if (pid)
                        tv_log(LOG_NOTICE, "bpmp-backend: %s: the recorded backend pid %d is gone", domain, (int)pid);
                remove_files(b, domain);
                /* a running domain gets a new one below, for the QEMU the old one served */
                if (running && qemu && (be = calloc(1, sizeof(*be))) && (be->domain = strdup(domain))) {
                        be->owner = b;
                        be->pidfd = be->control_fd = -1;
                        be->qemu_pid = qemu;
                        be->next = b->list;
                        b->list = be;
                } else if (be) {
                        free(be);
                }
                return;
        }
        be = calloc(1, sizeof(*be));
        if (!be || !(be->domain = strdup(domain))) {
                free(be);
                close(pidfd);
                return;
        }
        be->owner = b;
        be->pid = pid;
        be->pidfd = pidfd;
        be->control_fd = -1; /* its channel's other end died with the previous tegravirtd */
        be->qemu_pid = be->told_pid = qemu;
        be->start = start;
        be->started_usec = mono_usec() - RESTART_YOUNG_USEC;
        be->next = b->list;
        b->list = be;
        if (watch(be) < 0) {
                tv_log(LOG_ERR, "bpmp-backend: %s: cannot watch the adopted pid %d", domain, (int)pid);
                be->watch = NULL;
        }
        tv_log(LOG_INFO, "bpmp-backend: %s: adopted pid %d%s", domain, (int)pid,
               running ? "" : "; its domain no longer runs: stopping it");
        if (!running)
                tv_bpmp_backend_stop(b, domain, NULL, NULL);
}

void tv_bpmp_backend_adopt(TvBpmpBackends *b, const char *const *running, size_t n)
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
                adopt_one(b, de->d_name, listed(running, n, de->d_name));
        }
        for (size_t i = 0; i < n; i++) {
                TvError err = { 0 };
                int fd = b->domain_fd(b->userdata, running[i]);
                TvBpmpBackend *be = be_find(b, running[i]);

                if (fd >= 0 && (!be || !be->pid) && tv_bpmp_backend_start(b, running[i], fd, &err) < 0)
                        tv_log(LOG_ERR, "bpmp-backend: %s: %s", running[i], err.message);
                tv_error_clear(&err);
        }
}

int tv_bpmp_backend_started(TvBpmpBackends *b, const char *domain, pid_t qemu, TvError *err)
{
        TvBpmpBackend *be = be_find(b, domain);
        char line[32];
        int len, r;

        if (!be || be->stopping)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "no BPMP backend runs for domain %s (PrepareDomain "
                                    "starts it)", domain);
        be->qemu_pid = qemu;
        if (!be->pid) /* waiting for a restart: it starts with --peer-pid */
                return 0;
        r = write_record(b, domain, be->pid, be->start, qemu);
        if (r < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot record the QEMU pid of %s: %s", domain, strerror(-r));
        if (be->told_pid == qemu)
                return 0;
        len = snprintf(line, sizeof(line), "pid %d\n", (int)qemu);
        if (be->control_fd >= 0 && send(be->control_fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) == len) {
                be->told_pid = qemu;
                tv_log(LOG_INFO, "bpmp-backend: %s: serves QEMU pid %d", domain, (int)qemu);
                return 0;
        }
        /* adopted (its channel died with the previous tegravirtd) or dying: its replacement
         * gets --peer-pid */
        if (!be->replacing) {
                tv_log(LOG_INFO, "bpmp-backend: %s: no control channel to pid %d: replaced to serve QEMU pid %d",
                       domain, (int)be->pid, (int)qemu);
                be->replacing = true;
                be_signal(be, SIGKILL);
        }
        return 0;
}

void tv_bpmp_backends_cancel(TvBpmpBackends *b)
{
        for (TvBpmpBackend *be = b->list; be; be = be->next) {
                Waiter *w = be->waiters;
                size_t n = be->n_waiters;

                be->waiters = NULL;
                be->n_waiters = 0;
                for (size_t i = 0; i < n; i++)
                        w[i].fn(w[i].userdata, false);
                free(w);
        }
}

void tv_bpmp_backends_free(TvBpmpBackends *b)
{
        tv_bpmp_backends_cancel(b);
        while (b->list)
                be_free(b->list);
}
