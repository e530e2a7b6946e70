// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: name validation, state file and config parsers, atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon-config.h"
#include "state.h"
#include "tv-fileio.h"
#include "tv-names.h"
#include "tv-validate.h"

#include "tv-tap.h"


static void test_validate(void)
{
        char big[4097];

        memset(big, 'a', sizeof(big) - 1);
        big[4096] = 0;
        CHECK(tv_domain_name_valid("vm1") && tv_domain_name_valid("win10-clone_2.x+y"), "plain domain names");
        CHECK(!tv_domain_name_valid("") && !tv_domain_name_valid("../x") && !tv_domain_name_valid("a/b") &&
                      !tv_domain_name_valid(".hidden") && !tv_domain_name_valid("-rf") &&
                      !tv_domain_name_valid(big) && !tv_domain_name_valid("a b") &&
                      !tv_domain_name_valid("\xff\xfe"),
              "hostile domain names");
        CHECK(tv_device_token_valid("uarta") && tv_device_token_valid("3100000.serial"), "device tokens");
        CHECK(!tv_device_token_valid("..") && !tv_device_token_valid(".") && !tv_device_token_valid("a/b") &&
                      !tv_device_token_valid("") && !tv_device_token_valid(big) &&
                      !tv_device_token_valid("x\n") && !tv_device_token_valid("\xc3\xa9"),
              "hostile device tokens");
        CHECK(tv_utf8_valid("h\xc3\xa9llo", 6) && !tv_utf8_valid("\xc0\xaf", 2) && !tv_utf8_valid("\xed\xa0\x80", 3) &&
                      !tv_utf8_valid("\xe2\x82", 2) && !tv_utf8_valid("a\0b", 3),
              "UTF-8 validation (overlong, surrogate, truncated, NUL)");
}

static void test_state(void)
{
        static const char good[] =
                "tegravirt-state 1\n"
                "device uarta platform-id=3100000.serial domain=vm1 phase=bound driver=serial-tegra override=-\n"
                "# comment\n"
                "device gpu platform-id=17000000.gpu domain=- phase=detaching driver=- override=foo\n";
        static const char *const bad[] = {
                "",
                "tegravirt-state 2\n",
                "tegravirt-state 1\ndevice ../x platform-id=a domain=- phase=none driver=- override=-\n",
                "tegravirt-state 1\ndevice a platform-id=a/b domain=- phase=none driver=- override=-\n",
                "tegravirt-state 1\ndevice a platform-id=a domain=- phase=sideways driver=- override=-\n",
                "tegravirt-state 1\ndevice a platform-id=a domain=- phase=none driver=- \n",
                "tegravirt-state 1\ndevice a platform-id=a domain=- phase=none driver=- override=- extra=1\n",
                ("tegravirt-state 1\ndevice a platform-id=a domain=- phase=none driver=- override=-\n"
                 "device a platform-id=b domain=- phase=none driver=- override=-\n"),
                "tegravirt-state 1\ndevice a platform-id=a domain=v\xff phase=none driver=- override=-\n",
        };
        TvState s = { .dir_fd = -1 };
        TvError err = { 0 };
        char *text;

        CHECK(tv_state_parse_buffer(good, strlen(good), &s, &err) == 0 && s.n_entries == 2, "parse a good state file");
        CHECK(s.n_entries == 2 && strcmp(s.entries[0].domain, "vm1") == 0 &&
                      s.entries[0].binding.phase == TV_PHASE_BOUND &&
                      strcmp(s.entries[0].binding.orig_driver, "serial-tegra") == 0 &&
                      !s.entries[0].binding.orig_override && !s.entries[1].domain &&
                      s.entries[1].binding.phase == TV_PHASE_DETACHING &&
                      strcmp(s.entries[1].binding.orig_override, "foo") == 0,
              "state fields");
        text = tv_state_format(&s);
        CHECK(text && strstr(text, "device uarta platform-id=3100000.serial domain=vm1 phase=bound driver=serial-tegra override=-\n"),
              "state format");
        free(text);
        tv_state_free(&s);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char what[64];

                tv_error_clear(&err);
                s = (TvState){ .dir_fd = -1 };
                snprintf(what, sizeof(what), "bad state document %zu refused", i);
                CHECK(tv_state_parse_buffer(bad[i], strlen(bad[i]), &s, &err) < 0 &&
                              strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0 && s.n_entries == 0,
                      "%s", what);
                if (i == 0)
                        CHECK(strstr(err.message, "empty") && strstr(err.message, "remove it"),
                              "an empty state file is refused with what to do");
        }
}

static void test_state_dir(void)
{
        char dir[] = "/tmp/tv-unit-XXXXXX", path[256];
        TvState s, t;
        TvError err = { 0 };
        TvStateEntry *e;

        CHECK(mkdtemp(dir) != NULL, "temp dir");
        snprintf(path, sizeof(path), "%s/state-dir", dir);
        CHECK(tv_state_open(&s, path, &err) == 0 && s.n_entries == 0, "open a fresh state dir");
        e = tv_state_ensure(&s, "uarta", "3100000.serial");
        e->domain = strdup("vm1");
        CHECK(tv_state_save(&s, &err) == 0, "save");
        CHECK(tv_state_open(&t, path, &err) == 0 && t.n_entries == 1 && strcmp(t.entries[0].domain, "vm1") == 0,
              "reload what was saved");
        tv_state_free(&t);
        snprintf(path, sizeof(path), "%s/state-dir/.state.tmp", dir);
        CHECK(access(path, F_OK) < 0, "no temp file left behind");
        snprintf(path, sizeof(path), "%s/state-dir/state", dir);
        {
                struct stat st;

                CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "state file is 0600");
        }
        tv_state_free(&s);
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        CHECK(system(path) == 0, "cleanup");
}

static void test_config(void)
{
        static const char *const bad[] = {
                "QemuUser=x\n",                         /* outside a section */
                "[Other]\n",
                "[Daemon]\nQemuUser=\n",
                "[Daemon]\nQemuUser=a b\n",
                "[Daemon]\nAllowUnsafeInterrupts=maybe\n",
                "[Daemon]\nAllowNoIommu=maybe\n",
                "[Daemon]\nNoSuchKey=1\n",
                "[Daemon]\njust a line\n",
                "[Daemon]\nQemuGroup=../etc\n",
                "[Daemon]\nBpmpBridge=090d0000\n",
                "[Daemon]\nBpmpBridge=0x090d0001\n",
                "[Daemon]\nBpmpBridge=maybe\n",
                "[Daemon]\nPrivilegedGroup=a b\n",
        };
        TvConfig c = { 0 };
        TvError err = { 0 };
        const char *good = "# test\n[Daemon]\n QemuUser = nobody \nQemuGroup=nogroup\r\nAllowUnsafeInterrupts=YES\n";

        CHECK(tv_config_defaults(&c) == 0 && strcmp(c.qemu_user, "libvirt-qemu") == 0 &&
                      strcmp(c.qemu_group, "kvm") == 0 && !c.allow_unsafe_interrupts && !c.allow_noiommu,
              "config defaults (unsafe interrupts and no-IOMMU mode off)");
        CHECK(tv_config_parse_buffer(&c, good, strlen(good), "t", &err) == 0 && !c.allow_noiommu,
              "no-IOMMU mode stays off unless the key is set");
        CHECK(tv_config_parse_buffer(&c, good, strlen(good), "t", &err) == 0 && strcmp(c.qemu_user, "nobody") == 0 &&
                      strcmp(c.qemu_group, "nogroup") == 0 && c.allow_unsafe_interrupts,
              "config parse");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char what[80];

                tv_error_clear(&err);
                snprintf(what, sizeof(what), "bad config %zu refused, old values kept", i);
                CHECK(tv_config_parse_buffer(&c, bad[i], strlen(bad[i]), "t", &err) < 0 &&
                              strcmp(c.qemu_user, "nobody") == 0 && c.allow_unsafe_interrupts && strstr(err.message, "t"),
                      "%s", what);
        }
        tv_error_clear(&err);
        CHECK(tv_config_parse_buffer(&c, "[Daemon]\nX=1\n", 13, "cfg", &err) < 0 && strstr(err.message, "line 2"),
              "config error names the line");
        {
                const char *b = "[Daemon]\nAllowNoIommu=yes\n";

                CHECK(tv_config_parse_buffer(&c, b, strlen(b), "t", &err) == 0 && c.allow_noiommu,
                      "AllowNoIommu=yes turns the no-IOMMU mode on");
                b = "[Daemon]\nAllowNoIommu=no\n";
                CHECK(tv_config_parse_buffer(&c, b, strlen(b), "t", &err) == 0 && !c.allow_noiommu,
                      "AllowNoIommu=no turns it off");
                b = "[Daemon]\nBpmpBridge=0x090d0000\nPrivilegedGroup=tegravirt\n";

                CHECK(tv_config_parse_buffer(&c, b, strlen(b), "t", &err) == 0 && c.bpmp_bridge == 1 &&
                              c.bpmp_base == 0x090d0000ULL && strcmp(c.privileged_group, "tegravirt") == 0,
                      "BpmpBridge address and PrivilegedGroup");
                b = "[Daemon]\nBpmpBridge=none\n";
                CHECK(tv_config_parse_buffer(&c, b, strlen(b), "t", &err) == 0 && c.bpmp_bridge == 0,
                      "BpmpBridge=none");
        }
        tv_config_free(&c);
}

/* Each key's refusal, word for word (the parser is a table of keys; its messages are a contract),
 * and the empty values that switch a feature off. */
static void test_config_messages(void)
{
        static const struct {
                const char *doc, *message;
        } cases[] = {
                { "[Daemon]\nQemuUser=a b\n", "t line 2: QemuUser must be a user/group name" },
                { "[Daemon]\nQemuGroup=../etc\n", "t line 2: QemuGroup must be a user/group name" },
                { "[Daemon]\nLibvirtUri=qemu:///sys tem\n", "t line 2: LibvirtUri must be a libvirt URI or empty" },
                { "[Daemon]\nBpmpBridge=0x1\n",
                  "t line 2: BpmpBridge takes auto, none or a page-aligned guest address like 0x090d0000" },
                { "[Daemon]\nPrivilegedGroup=a b\n", "t line 2: PrivilegedGroup must be a group name or empty" },
                { "[Daemon]\nQemuConf=etc/qemu.conf\n", "t line 2: QemuConf must be an absolute path or empty" },
                { "[Daemon]\nAllowUnsafeInterrupts=maybe\n", "t line 2: AllowUnsafeInterrupts takes yes or no" },
                { "[Daemon]\nAllowNoIommu=maybe\n", "t line 2: AllowNoIommu takes yes or no" },
                { "[Daemon]\nNoSuchKey=1\n", "t line 2: unknown key 'NoSuchKey'" },
                { "[Daemon]\nQemuConf=/a\n\nQemuConf=/b\n", "t line 4: QemuConf is set again (first on line 2); keep one" },
                { "[Other]\n", "t line 1: unknown section [Other] (only [Daemon])" },
                { "x=1\n", "t line 1: expected Key=Value inside [Daemon]" },
        };
        const char *off = "[Daemon]\nLibvirtUri=\nQemuConf=\nPrivilegedGroup=\n";
        TvConfig c = { 0 };
        TvError err = { 0 };

        CHECK(tv_config_defaults(&c) == 0, "defaults");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                bool same;

                tv_error_clear(&err);
                same = tv_config_parse_buffer(&c, cases[i].doc, strlen(cases[i].doc), "t", &err) < 0 && err.name &&
                       strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0 && strcmp(err.message, cases[i].message) == 0;
                if (!same)
                        tap_diag("got %s: %s", err.name ? err.name : "(none)", err.message);
                CHECK(same, "config refusal %zu: InvalidArgument '%s'", i, cases[i].message);
        }
        tv_error_clear(&err);
        c.privileged_group = strdup("tegravirt");
        CHECK(tv_config_parse_buffer(&c, off, strlen(off), "t", &err) == 0 && strcmp(c.libvirt_uri, "") == 0 &&
                      strcmp(c.qemu_conf, "") == 0 && !c.privileged_group,
              "empty LibvirtUri=, QemuConf=, PrivilegedGroup= switch their feature off");
        tv_config_free(&c);
}

/* A second value for a key, or an account that does not exist, is refused with file and line. */
static void test_config_refusals(void)
{
        char dir[] = "/tmp/tv-config.XXXXXX", path[64], cmd[96];
        TvConfig c = { 0 };
        TvError err = { 0 };
        const char *dup = "[Daemon]\nQemuUser=nobody\n\nQemuUser=root\n";
        FILE *f;

        CHECK(tv_config_defaults(&c) == 0, "defaults");
        CHECK(tv_config_parse_buffer(&c, dup, strlen(dup), "cfg", &err) < 0 && strstr(err.message, "cfg line 4") &&
                      strstr(err.message, "QemuUser") && strstr(err.message, "line 2") &&
                      strcmp(c.qemu_user, "libvirt-qemu") == 0,
              "a duplicate key is refused, naming both lines");
        tv_error_clear(&err);
        dup = "[Daemon]\nAllowUnsafeInterrupts=no\nAllowUnsafeInterrupts=yes\n";
        CHECK(tv_config_parse_buffer(&c, dup, strlen(dup), "cfg", &err) < 0 && strstr(err.message, "line 3") &&
                      !c.allow_unsafe_interrupts,
              "a duplicate boolean is refused, the first value is not silently replaced");
        tv_config_free(&c);
        if (!mkdtemp(dir)) {
                CHECK(0, "mkdtemp");
                return;
        }
        snprintf(path, sizeof(path), "%s/tegravirtd.conf", dir);
        f = fopen(path, "w");
        CHECK(f && fputs("# x\n[Daemon]\nQemuUser=nobody\nQemuGroup=tv-no-such-group-x\n", f) >= 0 && fclose(f) == 0,
              "write config");
        tv_error_clear(&err);
        CHECK(tv_config_defaults(&c) == 0 && tv_config_load(&c, path, &err) < 0 && strstr(err.message, path) &&
                      strstr(err.message, "line 4") && strstr(err.message, "tv-no-such-group-x"),
              "an unknown QemuGroup is refused at load with file and line");
        tv_config_free(&c);
        f = fopen(path, "w");
        CHECK(f && fputs("[Daemon]\nQemuUser=tv-no-such-user-x\nQemuGroup=nogroup\n", f) >= 0 && fclose(f) == 0,
              "write config");
        tv_error_clear(&err);
        CHECK(tv_config_defaults(&c) == 0 && tv_config_load(&c, path, &err) < 0 && strstr(err.message, "line 2") &&
                      strstr(err.message, "no such user"),
              "an unknown QemuUser is refused at load with file and line");
        tv_config_free(&c);
        f = fopen(path, "w");
        CHECK(f && fputs("[Daemon]\nQemuUser=nobody\nQemuGroup=nogroup\n", f) >= 0 && fclose(f) == 0,
              "write config");
        tv_error_clear(&err);
        CHECK(tv_config_defaults(&c) == 0 && tv_config_load(&c, path, &err) == 0 && c.qemu_user_line == 2 &&
                      c.qemu_group_line == 3,
              "existing accounts load");
        tv_config_free(&c);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0, "cleanup");
}

int main(void)
{
        test_validate();
        test_state();
        test_state_dir();
        test_config();
        test_config_refusals();
        test_config_messages();
        return tap_finish();
}
