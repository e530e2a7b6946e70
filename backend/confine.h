/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Confinement shared by the per-domain backends (tegravirt-bpmp-backend,
 * tegravirt-gpio-backend): the fds they keep, the listening socket, the switch to an
 * unprivileged user with no_new_privs, and a seccomp allow-list. */
#ifndef TV_CONFINE_H
#define TV_CONFINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The program's log line prefix ("tegravirt-gpio-backend[vm1]: "); set before any tv_say. */
extern const char *tv_say_prog;
extern const char *tv_say_domain;
/* One line on stderr with one write(2): seccomp-safe (no stdio buffers, no locale). */
__attribute__((format(printf, 1, 2))) void tv_say(const char *fmt, ...);
/* "EINVAL": a constant string, so no locale file is ever opened (seccomp allows no open) */
const char *tv_errname(int e);
/* For what the guest causes: whether to log one more (at most 5 a second; the next second
 * starts with "N more <what> not logged"). */
bool tv_say_may(const char *what);
/* decimal, no sign, <= max */
bool tv_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* The ids to serve as: --user NAME's, or --uid/--gid (*uid, *gid not ULONG_MAX), or the ones it
 * runs as. 0, or -1 (logged: no such user). */
int tv_confine_ids(const char *user, unsigned long *uid, unsigned long *gid);
/* --control-fd N is an open pipe or socket: 0, or -1 (logged). */
int tv_confine_check_control(int fd);
/* The listening socket: path's (created, chowned to uid:gid when root) or listen_fd; checked to
 * be a listening stream socket. fd or -1 (logged). */
int tv_confine_socket(const char *path, int listen_fd, uid_t uid, gid_t gid);
/* Accepts one client of peer_uid (and peer_pid when not 0): its fd with *cred, or -1 (none
 * pending, or refused: closed and logged "client refused: ..."). */
struct ucred;
int tv_confine_accept(int listen_fd, uid_t peer_uid, pid_t peer_pid, struct ucred *cred);

/* Closes every fd >= 3 not in keep[], makes stdin and stdout /dev/null (unless kept). 0/-1. */
int tv_confine_close_fds(const int *keep, size_t n_keep);
/* A fresh listening SOCK_STREAM Unix socket at path (a stale one is removed); fd or -1 (logged). */
int tv_confine_listen(const char *path);
bool tv_confine_is_listening(int fd);
/* setgroups/setresgid/setresuid (when root), refuses to go on as root, sets no_new_privs. */
int tv_confine_drop(uid_t uid, gid_t gid);
/* The backends' common system calls plus extra_nrs; ioctl only with the commands in ioctls
 * (none: ioctl kills). Anything else kills the process. 0/-1 (logged). */
int tv_confine_seccomp(const uint32_t *ioctls, size_t n_ioctls, const int *extra_nrs, size_t n_extra);

/* A line-based control channel from tegravirtd: reads what is there into buf (size bytes, *len
 * of them used) and calls on_line for each complete line, without its '\n'; on_line returns
 * false for a line it refuses (reading stops there). 1: go on; 0: EOF; -1: read error;
 * -2: a line longer than the buffer; -3: on_line refused one. The caller closes on <= 0. */
int tv_confine_read_lines(int fd, char *buf, size_t size, size_t *len, bool (*on_line)(void *ud, char *line), void *ud);

/* Ends the process under the filter: exit_group(2) itself, no atexit handlers and no
 * sanitizer exit hooks (LeakSanitizer's would need system calls the filter kills). */
__attribute__((noreturn)) void tv_confine_exit(int code);

#endif
