// SPDX-License-Identifier: GPL-2.0-or-later
/* Confinement shared by the per-domain backends (confine.h). */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

const char *tv_say_prog = "tegravirt-backend";
const char *tv_say_domain = "?";

void tv_say(const char *fmt, ...)
{
        char line[512];
        int n = snprintf(line, sizeof(line), "%s[%s]: ", tv_say_prog, tv_say_domain);
        va_list ap;

        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof(line))
                n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(line) - 1)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        (void)!write(STDERR_FILENO, line, n);
}

const char *tv_errname(int e)
{
        const char *n = strerrorname_np(e);

        return n ? n : "unknown error";
}

bool tv_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
        char *end;

        if (!s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        *out = strtoul(s, &end, 10);
        return errno == 0 && *end == 0 && *out <= max;
}

bool tv_say_may(const char *what)
{
        static time_t window;
        static unsigned count;
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec != window) {
                if (count > 5)
                        tv_say("%u more %s not logged", count - 5, what);
                window = now.tv_sec;
                count = 0;
        }
        return ++count <= 5;
}

int tv_confine_ids(const char *user, unsigned long *uid, unsigned long *gid)
{
        if (user) {
                struct passwd *pw = getpwnam(user);

                if (!pw) {
                        tv_say("no such user: %s", user);
                        return -1;
                }
                *uid = pw->pw_uid;
                *gid = pw->pw_gid;
        } else if (*uid == ULONG_MAX) {
                *uid = geteuid();
                *gid = getegid();
        }
        return 0;
}

int tv_confine_check_control(int fd)
{
        struct stat st;

        if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
                tv_say("--control-fd %d is not an open pipe or socket", fd);
                return -1;
        }
        return 0;
}

int tv_confine_socket(const char *path, int listen_fd, uid_t uid, gid_t gid)
{
        int fd = path ? tv_confine_listen(path) : listen_fd;

        if (fd < 0)
                return -1;
        if (!tv_confine_is_listening(fd)) {
                tv_say("fd %d is not a listening stream socket", fd);
                return -1;
        }
        if (path && geteuid() == 0 && chown(path, uid, gid) < 0) {
                tv_say("cannot chown %s: %s", path, tv_errname(errno));
                return -1;
        }
        return fd;
}

int tv_confine_accept(int listen_fd, uid_t peer_uid, pid_t peer_pid, struct ucred *cred)
{
        socklen_t len = sizeof(*cred);
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return -1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0) {
                tv_say("client refused: no peer credentials: %s", tv_errname(errno));
                close(fd);
                return -1;
        }
        if (cred->uid != peer_uid || (peer_pid && cred->pid != peer_pid)) {
                tv_say("client refused: pid %d uid %u (expected uid %u%s)", (int)cred->pid, (unsigned)cred->uid,
                       (unsigned)peer_uid, peer_pid ? " and the domain's QEMU pid" : "");
                close(fd);
                return -1;
        }
        return fd;
}

int tv_confine_read_lines(int fd, char *buf, size_t size, size_t *len, bool (*on_line)(void *ud, char *line), void *ud)
{
        ssize_t n = read(fd, buf + *len, size - 1 - *len);
        char *nl;

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 1;
        if (n <= 0)
                return n < 0 ? -1 : 0;
        *len += n;
        buf[*len] = 0;
        while ((nl = strchr(buf, '\n'))) {
                *nl = 0;
                if (!on_line(ud, buf))
                        return -3;
                *len -= nl + 1 - buf;
                memmove(buf, nl + 1, *len + 1);
        }
        return *len >= size - 1 ? -2 : 1;
}

static bool kept(int fd, const int *keep, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (keep[i] == fd)
                        return true;
        return false;
}

int tv_confine_close_fds(const int *keep, size_t n_keep)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null < 0)
                return -1;
        for (int fd = 0; fd <= 1; fd++)
                if (!kept(fd, keep, n_keep) && dup2(null, fd) < 0)
                        return -1;
        close(null);
        for (int fd = 3; fd < 65536; fd++) {
                if (kept(fd, keep, n_keep))
                        continue;
                if (close(fd) < 0 && errno != EBADF)
                        return -1;
        }
        return 0;
}

int tv_confine_listen(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                tv_say("socket path too long: %s", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        (void)unlink(path); /* a stale socket of a dead backend */
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
                tv_say("cannot listen on %s: %s", path, tv_errname(errno));
                close(fd);
                return -1;
        }
        return fd;
}

bool tv_confine_is_listening(int fd)
{
        int v = 0, type = 0;
        socklen_t len = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
                return false;
        len = sizeof(type);
        return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

int tv_confine_drop(uid_t uid, gid_t gid)
{
        if (geteuid() == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
                        tv_say("cannot switch to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid, tv_errname(errno));
                        return -1;
                }
        } else if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
                tv_say("not root: can only run as uid %u gid %u", (unsigned)geteuid(), (unsigned)getegid());
                return -1;
        }
        /* after a change away from uid 0 the kernel clears every capability; an unprivileged
         * start never had any. Checked, not assumed: */
        if (geteuid() == 0 || getuid() == 0) {
                tv_say("refusing to serve as root");
                return -1;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                tv_say("PR_SET_NO_NEW_PRIVS: %s", tv_errname(errno));
                return -1;
        }
        return 0;
}

#if defined(__x86_64__)
#define TV_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TV_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp allow-list: add this architecture"
#endif

/* What serving needs in both backends (reading, writing and accepting on sockets, poll,
 * memory, signals' return, exit). */
static const int common_nrs[] = {
        __NR_read, __NR_write, __NR_recvfrom, __NR_recvmsg, __NR_sendto, __NR_sendmsg, __NR_accept4,
        __NR_getsockopt, __NR_ppoll,
#ifdef __NR_poll
        __NR_poll,
#endif
        __NR_close, __NR_clock_gettime, __NR_brk, __NR_mmap, __NR_munmap, __NR_madvise, __NR_futex,
        __NR_rt_sigreturn, __NR_rt_sigprocmask, __NR_restart_syscall, __NR_getpid, __NR_gettid,
        __NR_tgkill, __NR_exit, __NR_exit_group,
        /* a sanitizer build's runtime resets its signal stack on the way out */
        __NR_sigaltstack,
        /* glibc's malloc takes its tcache key from getrandom on the first allocation, which
         * may come after the filter (nothing allocated before it with --uid/--gid) */
        __NR_getrandom,
};

#define TV_SECCOMP_MAX 160

int tv_confine_seccomp(const uint32_t *ioctls, size_t n_ioctls, const int *extra_nrs, size_t n_extra)
{
        struct sock_filter f[TV_SECCOMP_MAX];
        size_t n = 0, n_common = sizeof(common_nrs) / sizeof(common_nrs[0]);

        if (8 + 4 + n_ioctls + 2 * (n_common + n_extra) + 1 > TV_SECCOMP_MAX || n_ioctls > 200) {
                tv_say("seccomp allow-list too long");
                return -1;
        }
#define EMIT(x) (f[n++] = (struct sock_filter)x)
        EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
        EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TV_AUDIT_ARCH, 1, 0));
        EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
        EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
        /* x32 system calls: not ours */
        EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
        EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
        if (n_ioctls) {
                /* ioctl: only the listed commands (args[1] low word; the high word must be 0).
                 * Layout: JEQ ioctl (else skip the block), LD hi, JEQ 0 (else kill), LD lo,
                 * one JEQ per command (to allow), kill, allow. */
                size_t block = 3 + n_ioctls + 2;

                EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, block));
                EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4));
                EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, n_ioctls + 1));
                EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
                for (size_t i = 0; i < n_ioctls; i++)
                        EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ioctls[i], n_ioctls - i, 0));
                EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
                EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
                /* the accumulator holds the nr again for what follows */
                EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
        }
        for (size_t i = 0; i < n_common + n_extra; i++) {
                int nr = i < n_common ? common_nrs[i] : extra_nrs[i - n_common];

                EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1));
                EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        }
        EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#undef EMIT
        struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };

        if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
                tv_say("cannot install the seccomp filter: %s", tv_errname(errno));
                return -1;
        }
        return 0;
}

void tv_confine_exit(int code)
{
        for (;;)
                syscall(__NR_exit_group, code);
}
