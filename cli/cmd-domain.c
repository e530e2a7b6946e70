// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl assign, unassign, prepare, release. */
#include "tegravirtctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tv-validate.h"

/* The one line printed after a successful change. */
static void confirm(Ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void confirm(Ctl *ctl, const char *fmt, ...)
{
        va_list ap;

        if (ctl->json) {
                ctl_json_ok(stdout);
                return;
        }
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

int cmd_assign(Ctl *ctl, int argc, char **argv)
{
        const char *domain = argv[0];
        char *device = argv[1];
        int r;

        if (!ctl_check_domain(domain) || !ctl_check_device(device))
                return CTL_EXIT_USAGE;
        r = ctl_call_manager(ctl, "AssignDevice", NULL, "ss", domain, device);
        if (r != CTL_EXIT_OK)
                return r;
        confirm(ctl, "%s assigned to %s", device, domain);
        return CTL_EXIT_OK;
}

int cmd_unassign(Ctl *ctl, int argc, char **argv)
{
        const char *domain = argv[0];
        char *device = argv[1];
        int r;

        if (!ctl_check_domain(domain) || !ctl_check_device(device))
                return CTL_EXIT_USAGE;
        r = ctl_call_manager(ctl, "UnassignDevice", NULL, "ss", domain, device);
        if (r != CTL_EXIT_OK)
                return r;
        confirm(ctl, "%s unassigned from %s", device, domain);
        return CTL_EXIT_OK;
}

/* Reads all of fd, at most max bytes, into a NUL-terminated buffer. */
static int read_fd_capped(int fd, size_t max, char **ret, size_t *ret_len)
{
        size_t cap = 64 * 1024, len = 0;
        char *buf = malloc(cap + 1);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        char *nb;

                        if (cap > max) {
                                free(buf);
                                return -EFBIG;
                        }
                        cap *= 2;
                        nb = realloc(buf, cap + 1);
                        if (!nb) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        free(buf);
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max) {
                free(buf);
                return -EFBIG;
        }
        buf[len] = '\0';
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* Loads the --xml argument ("-" is stdin). Returns an exit status. */
static int load_xml(const char *path, char **ret)
{
        _cleanup_(freep_) char *shown = NULL;
        bool is_stdin = strcmp(path, "-") == 0;
        size_t len = 0;
        int fd, r;

        shown = is_stdin ? strdup("standard input") : ctl_escape(path, true, 256);
        if (!shown)
                return ctl_fail("out of memory");
        fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return ctl_fail("cannot open %s: %s", shown, strerror(errno));
        r = read_fd_capped(fd, CTL_XML_MAX, ret, &len);
        if (!is_stdin)
                close(fd);
        if (r == -EFBIG)
                return ctl_fail("domain XML from %s is larger than %u bytes", shown, CTL_XML_MAX);
        if (r < 0)
                return ctl_fail("cannot read %s: %s", shown, strerror(-r));
        if (!tv_utf8_valid(*ret, len)) {
                free(*ret);
                *ret = NULL;
                return ctl_fail("domain XML from %s is not valid UTF-8 or contains NUL bytes", shown);
        }
        return CTL_EXIT_OK;
}

int cmd_prepare(Ctl *ctl, int argc, char **argv)
{
        _cleanup_(freep_) char *xml = NULL;
        const char *domain = argv[0];
        int r;

        if (!ctl_check_domain(domain))
                return CTL_EXIT_USAGE;
        if (ctl->xml_path) {
                r = load_xml(ctl->xml_path, &xml);
                if (r != CTL_EXIT_OK)
                        return r;
        }
        r = ctl_call_manager(ctl, "PrepareDomain", NULL, "ss", domain, xml ? xml : "");
        if (r != CTL_EXIT_OK)
                return r;
        confirm(ctl, "%s prepared", domain);
        return CTL_EXIT_OK;
}

int cmd_release(Ctl *ctl, int argc, char **argv)
{
        const char *domain = argv[0];
        int r;

        if (!ctl_check_domain(domain))
                return CTL_EXIT_USAGE;
        r = ctl_call_manager(ctl, "ReleaseDomain", NULL, "s", domain);
        if (r != CTL_EXIT_OK)
                return r;
        confirm(ctl, "%s released", domain);
        return CTL_EXIT_OK;
}

int cmd_repair(Ctl *ctl, int argc, char **argv)
{
        const char *domain = argv[0];
        int r;

        if (!ctl_check_domain(domain))
                return CTL_EXIT_USAGE;
        r = ctl_call_manager(ctl, "RepairDomain", NULL, "s", domain);
        if (r != CTL_EXIT_OK)
                return r;
        confirm(ctl, "%s repaired: its definition carries what its assignments need, and nothing else", domain);
        return CTL_EXIT_OK;
}
