// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DomainStarted: libvirt's "started" hook runs after QEMU exists and before the guest's
 * vCPUs run. tegravirtd then reads QEMU's pid from libvirt's pid file (a small file, no
 * waiting), checks it is a live process of the QEMU user, and tells the domain's BPMP
 * and GPIO backends to serve that process only (tegravirt-bpmp-backend(8),
 * tegravirt-gpio-backend(8)). Before that, the GPIO backend asks about each process that
 * connects: it is served when it is the domain's QEMU by its command line.
 */
#include "daemon.h"
#include "tv-fileio.h"
#include "tv-log.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* "N" or "N\n", N a pid > 1. */
static pid_t parse_pid(const char *text, size_t len)
{
        unsigned long v = 0;
        size_t i = 0;

        if (len && text[len - 1] == '\n')
                len--;
        if (!len || len > 10)
                return 0;
        for (; i < len; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return 0;
                v = v * 10 + (unsigned long)(text[i] - '0');
        }
        return v > 1 && v <= INT_MAX ? (pid_t)v : 0;
}

/* 0 when pid is a live (not zombie) process whose real, effective, saved and fs uids are
 * uid; -ESRCH gone, -EPERM another uid. */
static int check_process(pid_t pid, uid_t uid)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *u, *st;
        unsigned ids[4];
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        if (tv_read_file_at(AT_FDCWD, path, 16384, &text, &len) < 0)
                return -ESRCH;
        st = strstr(text, "\nState:");
        if (st && (st[8] == 'Z' || st[8] == 'X'))
                return -ESRCH;
        u = strstr(text, "\nUid:");
        if (!u || sscanf(u + 5, "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
                return -ESRCH;
        for (int i = 0; i < 4; i++)
                if (ids[i] != (unsigned)uid)
                        return -EPERM;
        return 0;
}

int tv_daemon_domain_started(TvDaemon *d, const char *domain, TvError *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        bool bpmp, gpio;
        pid_t pid;
        int r;

        if (!tv_domain_name_valid(domain))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "'%.64s' is not a valid domain name", domain);
        bpmp = tv_bpmp_active_domain_fd(&d->bpmp, domain) >= 0;
        gpio = tv_daemon_domain_has_lines(d, domain);
        /* a domain without BPMP devices or GPIO lines has no backend: nothing to tell */
        if (!bpmp && !gpio)
                return 0;
        if (asprintf(&path, "%s/%s.pid", d->config.qemu_run_dir, domain) < 0)
                return tv_error_oom(err);
        r = tv_read_file_at(AT_FDCWD, path, 64, &text, &len);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot read the QEMU pid of %s from %s: %s (is "
                                    "LibvirtQemuRunDir= libvirt's QEMU run directory?)", domain, path, strerror(-r));
        pid = parse_pid(text, len);
        if (!pid)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s does not hold a process id", path);
        r = check_process(pid, d->backends.uid);
        if (r == -ESRCH)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the QEMU of %s (pid %d, from %s) does not run",
                                    domain, (int)pid, path);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "pid %d (from %s) does not run as the QEMU user "
                                    "(uid %u): not serving it the devices of %s", (int)pid, path,
                                    (unsigned)d->backends.uid, domain);
        if (bpmp && tv_backend_started(&d->backends, domain, pid, err) < 0)
                return -1;
        if (gpio && tv_backend_started(&d->gpio_backends, domain, pid, err) < 0)
                return -1;
        tv_log(LOG_INFO, "domain %s started: its backends serve QEMU pid %d only", domain, (int)pid);
        return 0;
}

/* Whether cmdline (NUL-separated) has -name guest=<domain> or -name guest=<domain>,...
 * (libvirt's form). */
static bool names_guest(const char *cmdline, size_t len, const char *domain)
{
        size_t dl = strlen(domain);

        for (size_t i = 0; i < len;) {
                const char *arg = cmdline + i;
                size_t al = strnlen(arg, len - i);

                i += al + 1;
                if (strcmp(arg, "-name") != 0 || i >= len)
                        continue;
                arg = cmdline + i;
                al = strnlen(arg, len - i);
                return strncmp(arg, "guest=", 6) == 0 && al >= 6 + dl && strncmp(arg + 6, domain, dl) == 0 &&
                       (arg[6 + dl] == 0 || arg[6 + dl] == ',');
        }
        return false;
}

bool tv_daemon_qemu_peer_ok(TvDaemon *d, const char *domain, pid_t pid, pid_t qemu)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        size_t len = 0;

        if (check_process(pid, d->gpio_backends.uid) < 0)
                return false;
        if (qemu && pid == qemu)
                return true;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        /* QEMU's command line from libvirt is a few KiB; a bigger one is not read whole */
        if (tv_read_file_at(AT_FDCWD, path, 256 * 1024, &text, &len) < 0)
                return false;
        return names_guest(text, len, domain);
}

bool tv_daemon_gpio_qemu_live(TvDaemon *d, const char *domain)
{
        pid_t qemu = tv_backend_qemu(&d->gpio_backends, domain);

        /* qemu 0: the pid is checked again (it may be gone, or reused by another process) */
        return qemu > 0 && tv_daemon_qemu_peer_ok(d, domain, qemu, 0);
}
