// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: qemu.conf reading and the QEMU device-access check. */
#include <stdio.h>
#include <string.h>
#include "qemu-conf.h"
#include "tv-names.h"

#include "tv-tap.h"


int main(void)
{
        static const char good[] =
                "# comment with \"quotes\" and = signs\n"
                "user = \"root\"\nmax_files = 2048\nvnc_tls = 1\n"
                "cgroup_device_acl = [\n  \"/dev/null\", \"/dev/kvm\", # trailing comment\n"
                "  \"/dev/vfio/vfio\",\n  \"/dev/vfio/3\",\n]\n"
                "namespaces = [ ]\n";
        static const char *const bad[] = {
                "cgroup_device_acl = [ \"/dev/null\"",
                "cgroup_device_acl = [ \"/dev/null\n\" ]",
                "= 3",
                "user \"root\"",
                "cgroup_device_acl = [ /dev/null ]",
                "user = \"unterminated",
        };
        TvQemuConf c;
        TvError err = { 0 };

        CHECK(tv_qemu_conf_parse(good, strlen(good), &c, &err) == 0, "parse a qemu.conf");
        CHECK(c.has_acl && tv_qemu_conf_allows(&c, "/dev/vfio/3") && tv_qemu_conf_allows(&c, "/dev/vfio/vfio") &&
                      !tv_qemu_conf_allows(&c, "/dev/vfio/4") && !tv_qemu_conf_allows(&c, "/dev/bpmp-host"),
              "cgroup_device_acl entries");
        CHECK(c.has_namespaces && c.namespaces_off, "namespaces = [] means no private /dev");
        tv_qemu_conf_clear(&c);
        CHECK(tv_qemu_conf_parse("", 0, &c, &err) == 0 && !c.has_acl && !tv_qemu_conf_allows(&c, "/dev/null"),
              "empty file: libvirt defaults, none of ours");
        tv_qemu_conf_clear(&c);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char what[64];

                tv_error_clear(&err);
                snprintf(what, sizeof(what), "malformed qemu.conf %zu refused with a line number", i);
                CHECK(tv_qemu_conf_parse(bad[i], strlen(bad[i]), &c, &err) < 0 && strstr(err.message, "line") &&
                              strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0,
                      "%s", what);
        }
        CHECK(tv_qemu_conf_load("/nonexistent/qemu.conf", &c, &err) == 0 && !c.has_acl, "missing file = defaults");
        return tap_finish();
}
