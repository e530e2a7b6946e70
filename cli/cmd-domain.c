// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl assign, unassign, prepare, release. */
#include "tegravirtctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tv-fileio.h"
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

/* Loads the --xml argument ("-" is stdin). Returns an exit status. */
static int load_xml(const char *path, char **ret)
{
        _cleanup_free_ char *shown = NULL;
        bool is_stdin = strcmp(path, "-") == 0;
        size_t len = 0;
        _cleanup_close_ int fd = -1;    /* stdin is not ours to close */
        int r;

        shown = is_stdin ? strdup("standard input") : ctl_escape(path, true, 256);
        if (!shown)
                return ctl_oom();
        if (!is_stdin) {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return ctl_fail("cannot open %s: %s", shown, strerror(errno));
        }
        r = tv_read_fd(is_stdin ? STDIN_FILENO : fd, TV_DOMAIN_XML_MAX_BYTES, ret, &len);
        if (r == -EFBIG)
                return ctl_fail("domain XML from %s is larger than %u bytes (" TV_DOMAIN_XML_MAX_TEXT ")", shown,
                                (unsigned)TV_DOMAIN_XML_MAX_BYTES);
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
        _cleanup_free_ char *xml = NULL;
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
