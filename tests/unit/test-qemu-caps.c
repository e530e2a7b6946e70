// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: QEMU capability probing against fake QEMUs (shell scripts) and the real
 * Debian qemu-system-aarch64. Usage: test-qemu-caps FAKE_QEMU_DIR REAL_QEMU */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "qemu-caps.h"
#include "tv-fileio.h"
#include "tv-names.h"

#include "tv-tap.h"

static const char *fake_dir;

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool no_children_left(void)
{
        return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static bool err_is(const TvError *e, const char *name, const char *substr)
{
        if (!e->name || strcmp(e->name, name) != 0 || !strstr(e->message, substr)) {
                printf("# got %s: %s\n", e->name ? e->name : "(no error)", e->message);
                return false;
        }
        return true;
}

static char *fake(const char *name)
{
        static char buf[8][4096];
        static int n;
        char *b = buf[n++ % 8];

        snprintf(b, sizeof(buf[0]), "%s/%s", fake_dir, name);
        return b;
}

static int copy_file(const char *from, const char *to, int mode)
{
        char *data;
        size_t len;
        int fd, r;

        if (tv_read_file_at(AT_FDCWD, from, 1 << 20, &data, &len) < 0)
                return -1;
        fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        r = fd >= 0 && write(fd, data, len) == (ssize_t)len ? 0 : -1;
        if (fd >= 0)
                close(fd);
        free(data);
        return r;
}

/* A temp dir with fake-lib.sh and a copy of the named fake, plus an empty log file. */
static void stage(char *dir, const char *name, char *path, size_t size)
{
        char p[4096];

        strcpy(dir, "/tmp/tv-qemu-caps-XXXXXX");
        if (!mkdtemp(dir))
                abort();
        snprintf(p, sizeof(p), "%s/fake-lib.sh", dir);
        copy_file(fake("fake-lib.sh"), p, 0644);
        snprintf(path, size, "%s/%s", dir, name);
        copy_file(fake(name), path, 0755);
        snprintf(p, sizeof(p), "%s.log", path);
        close(open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
}

static void unstage(const char *dir)
{
        char cmd[4200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", dir);
}

static char *read_log(const char *path)
{
        char p[4200], *data = NULL;
        size_t len;

        snprintf(p, sizeof(p), "%s.log", path);
        if (tv_read_file_at(AT_FDCWD, p, 1 << 20, &data, &len) < 0)
                return strdup("");
        return data;
}

static int count_lines(const char *s)
{
        int n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void test_parse_version(void)
{
        static const struct {
                const char *text;
                int r;
                unsigned a, b, c;
        } cases[] = {
                { "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022\n", 0, 7, 2, 22 },
                { "QEMU emulator version 10.1.5\n", 0, 10, 1, 5 },
                { "QEMU emulator version 2.11.1(Debian 1:2.11+dfsg-1ubuntu7)\n", 0, 2, 11, 1 },
                { "QEMU emulator version 9.2.50 (v9.2.0-1234-gabcdef)\n", 0, 9, 2, 50 },
                { "QEMU emulator version 8.1", 0, 8, 1, 0 },
                { "warning: something\nQEMU emulator version 10.2.0\n", 0, 10, 2, 0 },
                { "", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version \n", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version 10\n", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version 10.\n", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version 1.2.\n", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version 1.2.3.4\n", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version 99999999999.1.1\n", -EINVAL, 0, 0, 0 },
                { "QEMU emulator version -1.2.3\n", -EINVAL, 0, 0, 0 },
                { "xQEMU emulator version 1.2.3\n", -EINVAL, 0, 0, 0 },
                { "Welcome to FooBar 3.1\n", -EINVAL, 0, 0, 0 },
        };
        unsigned a, b, c;
        int bad = 0;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r;

                a = b = c = 777;
                r = tv_qemu_parse_version(cases[i].text, &a, &b, &c);
                if (r != cases[i].r || (r == 0 && (a != cases[i].a || b != cases[i].b || c != cases[i].c))) {
                        printf("# version case %zu: r=%d %u.%u.%u\n", i, r, a, b, c);
                        bad++;
                }
        }
        CHECK(bad == 0, "version banners (Debian, Ghaf, old, git, two-part, garbage, overflow)");
        CHECK(tv_qemu_parse_version(NULL, &a, &b, &c) == -EINVAL, "version of NULL");
}

static void test_device_help(void)
{
        static const char out[] =
                "Controller/Bridge/Hub devices:\n"
                "name \"pci-bridge\", bus PCI, desc \"Standard PCI Bridge\"\n"
                "\n"
                "Misc devices:\n"
                "name \"vfio-platform\", bus System, desc \"VFIO-based platform device assignment\"\n"
                "name \"virtio-blk-pci\", bus PCI, alias \"virtio-blk\"\n"
                "name \"foo\", bus System, desc \"mentions name \\\"tegravirt-bpmp\\\" in passing\"\n"
                "  name \"indented\"\n"
                "name \"last-no-newline\"";

        CHECK(tv_qemu_device_help_has(out, "vfio-platform") && tv_qemu_device_help_has(out, "pci-bridge") &&
                      tv_qemu_device_help_has(out, "last-no-newline"),
              "device help: listed names");
        CHECK(tv_qemu_device_help_has(out, "virtio-blk"), "device help: alias");
        CHECK(!tv_qemu_device_help_has(out, "vfio") && !tv_qemu_device_help_has(out, "vfio-platformx") &&
                      !tv_qemu_device_help_has(out, "platform") && !tv_qemu_device_help_has(out, "tegravirt-bpmp") &&
                      !tv_qemu_device_help_has(out, "indented") && !tv_qemu_device_help_has(out, "System"),
              "device help: prefixes, suffixes, desc text and indented lines do not count");
        CHECK(!tv_qemu_device_help_has(out, "") && !tv_qemu_device_help_has(out, "a\"b") &&
                      !tv_qemu_device_help_has(out, "a\nb") && !tv_qemu_device_help_has(NULL, "x") &&
                      !tv_qemu_device_help_has(out, NULL),
              "device help: bad names");
        CHECK(!tv_qemu_device_help_has("", "vfio-platform") && !tv_qemu_device_help_has("name \"vfio-platform", "vfio-platform"),
              "device help: empty and cut-off output");
}

static void test_qmp(void)
{
        static const char greet[] = "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\n";
        static const struct {
                const char *tail;
                int r;
                bool has;
                const char *why;
        } cases[] = {
                { "{\"return\": {}}\n{\"return\": [{\"name\": \"nvidia_bpmp_guest\", \"parent\": \"sys-bus-device\"}]}\n", 0, true, NULL },
                { "{\"return\": {}}\n{\"return\": [{\"name\": \"pl011\", \"parent\": \"sys-bus-device\"}]}\n", 0, false, NULL },
                /* an event between the replies; pretty-printed, multi-line reply */
                { "{\"return\": {}}\n{\"timestamp\": {}, \"event\": \"X\", \"data\": {\"name\": \"nvidia_bpmp_guest\"}}\n"
                  "{\n  \"return\": [\n    {\"name\":\"nvidia_bpmp_guest\"}\n  ]\n}\n", 0, true, NULL },
                /* only in an event, not in the reply */
                { "{\"return\": {}}\n{\"event\": \"X\", \"data\": \"nvidia_bpmp_guest\"}\n{\"return\": []}\n", 0, false, NULL },
                /* in the qmp_capabilities reply only */
                { "{\"return\": {\"x\": \"nvidia_bpmp_guest\"}}\n{\"return\": []}\n", 0, false, NULL },
                /* prefixes, suffixes, escaped quotes */
                { "{\"return\": {}}\n{\"return\": [{\"name\": \"nvidia_bpmp_guest2\"}, {\"name\": \"x\\\"nvidia_bpmp_guest\\\"\"}]}\n", 0, false, NULL },
                /* braces inside strings do not confuse the depth */
                { "{\"return\": {}}\n{\"return\": [{\"name\": \"}}]]{\"}, {\"name\": \"nvidia_bpmp_guest\"}]}\n", 0, true, NULL },
                { "{\"return\": {}}\n{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}}\n", -1, false, "qom-list-types failed" },
                { "{\"error\": {\"class\": \"GenericError\"}}\n", -1, false, "qmp_capabilities" },
                { "{\"return\": {}}\n{\"return\": [{\"name\": \"nvidia_bpmp_guest\"", -1, false, "no reply to qom-list-types" },
                { "", -1, false, "no reply to qmp_capabilities" },
        };
        char buf[1024];
        TvError why = { 0 };
        bool has;
        int bad = 0;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r;

                snprintf(buf, sizeof(buf), "%s%s", greet, cases[i].tail);
                tv_error_clear(&why);
                r = tv_qemu_qmp_types_has(buf, "nvidia_bpmp_guest", &has, &why);
                if (r != cases[i].r || has != cases[i].has || (r == 0) == tv_error_is_set(&why) ||
                    (cases[i].why && (!tv_error_is_set(&why) || !strstr(why.message, cases[i].why) ||
                                      strcmp(why.name, TV_ERR_HOST_NOT_READY) != 0))) {
                        printf("# qmp case %zu: r=%d has=%d why=%s\n", i, r, has, why.name ? why.message : "-");
                        bad++;
                }
        }
        CHECK(bad == 0, "QMP transcripts (events, pretty printing, errors, cut-off, look-alikes)");
        tv_error_clear(&why);
        CHECK(tv_qemu_qmp_types_has("{\"return\": {}}\n{\"return\": []}\n", "nvidia_bpmp_guest", &has, &why) == -1 &&
                      strstr(why.message, "greeting"),
              "QMP: a reply before the greeting");
        tv_error_clear(&why);
        CHECK(tv_qemu_qmp_types_has("garbage\n", "nvidia_bpmp_guest", &has, &why) == -1 && strstr(why.message, "greeting"),
              "QMP: garbage");
        tv_error_clear(&why);
        CHECK(tv_qemu_qmp_types_has(greet, "a\"b", &has, &why) == -1 && tv_error_is_set(&why), "QMP: bad type name");
}

static void test_names(void)
{
        CHECK(strcmp(tv_bpmp_flavour_name(TV_BPMP_NONE), "none") == 0 &&
                      strcmp(tv_bpmp_flavour_name(TV_BPMP_BUILTIN_090C0000), "nvidia_bpmp_guest@0x090c0000") == 0 &&
                      strcmp(tv_bpmp_flavour_name(TV_BPMP_BUILTIN_090D0000), "nvidia_bpmp_guest@0x090d0000") == 0 &&
                      strcmp(tv_bpmp_flavour_name(TV_BPMP_DEVICE), "tegravirt-bpmp") == 0 &&
                      strcmp(tv_bpmp_flavour_name((TvBpmpFlavour)42), "unknown") == 0,
              "flavour names");
}

static void test_paths(void)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps;
        char *big = malloc(5000);
        TvError err = { 0 };
        int bad = 0;
        const char *const paths[] = { "", "qemu-system-aarch64", "./x", "/nonexistent/qemu", "/tmp",
                                      "/usr/bin/qemu\n-system-aarch64", "/usr/bin/\x7fqemu", "/dev/null" };

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                tv_error_clear(&err);
                if (tv_qemu_caps_get(c, paths[i], &caps, &err) != -1 || caps ||
                    !err_is(&err, TV_ERR_INVALID_ARGUMENT, "")) {
                        printf("# path case %zu accepted\n", i);
                        bad++;
                }
        }
        CHECK(bad == 0, "bad emulator paths: empty, relative, missing, directory, control chars, device");
        memset(big, 'a', 4999);
        big[0] = '/';
        big[4999] = 0;
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, big, &caps, &err) == -1 && err_is(&err, TV_ERR_INVALID_ARGUMENT, "longer than 4096"),
              "emulator path over 4096 bytes");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, NULL, &caps, &err) == -1 && err_is(&err, TV_ERR_INVALID_ARGUMENT, ""),
              "NULL emulator path");
        CHECK(tv_qemu_caps_cache_probe_count(c) == 0, "bad paths never ran anything");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_check(NULL, false, &err) == -1 && err_is(&err, TV_ERR_INVALID_ARGUMENT, ""), "check(NULL)");
        free(big);
        tv_qemu_caps_cache_free(c);
        tv_qemu_caps_cache_free(NULL);
}

static void test_fakes(void)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps;
        TvError err = { 0 };
        char *p;

        p = fake("qemu-10.2-upstream");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->major == 10 && caps->minor == 2 && caps->micro == 0 &&
                      !caps->has_vfio_platform && caps->bpmp == TV_BPMP_NONE && !caps->bpmp_unknown &&
                      strcmp(caps->path, p) == 0,
              "upstream 10.2: probed, no vfio-platform");
        tv_error_clear(&err);
        CHECK(caps && tv_qemu_caps_check(caps, false, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "QEMU 10.2 and later removed") && strstr(err.message, p) &&
                      strstr(err.message, "10.2.0") && strstr(err.message, "<= 10.1"),
              "upstream 10.2: refused, naming the binary, what it lacks and what to use");

        tv_error_clear(&err);
        p = fake("qemu-9.2-vfio");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->major == 9 && caps->minor == 2 &&
                      caps->has_vfio_platform && caps->bpmp == TV_BPMP_NONE && caps->bpmp_base == 0 &&
                      !caps->bpmp_unknown && !caps->has_vhost_user_gpio,
              "9.2: vfio-platform, no bridge, no vhost-user-gpio-device");
        CHECK(caps && tv_qemu_caps_check(caps, false, &err) == 0 && !err.name, "9.2: fine without BPMP");
        tv_error_clear(&err);
        CHECK(caps && tv_qemu_caps_check(caps, true, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "has no BPMP bridge") && strstr(err.message, p),
              "9.2: refused when BPMP is needed");

        tv_error_clear(&err);
        p = fake("qemu-8.1-bpmp-virt");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->major == 8 && caps->minor == 1 && caps->micro == 3 &&
                      caps->has_vfio_platform && caps->bpmp == TV_BPMP_BUILTIN_090C0000 &&
                      caps->bpmp_base == 0x090c0000,
              "bpmp-virt 8.1: built-in bridge at 0x090c0000");
        CHECK(caps && tv_qemu_caps_check(caps, true, &err) == 0, "bpmp-virt 8.1: accepted with BPMP");

        p = fake("qemu-10.1.5-ghaf");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->major == 10 && caps->minor == 1 && caps->micro == 5 &&
                      caps->has_vfio_platform && caps->bpmp == TV_BPMP_BUILTIN_090D0000 &&
                      caps->bpmp_base == 0x090d0000,
              "Ghaf 10.1.5: built-in bridge at 0x090d0000");
        CHECK(caps && tv_qemu_caps_check(caps, true, &err) == 0, "Ghaf 10.1.5: accepted with BPMP");

        p = fake("qemu-tegravirt-bpmp");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->bpmp == TV_BPMP_DEVICE && caps->bpmp_base == 0 &&
                      caps->has_vfio_platform && caps->has_vhost_user_gpio,
              "-device tegravirt-bpmp and -device vhost-user-gpio-device detected");
        CHECK(caps && tv_qemu_caps_check(caps, true, &err) == 0, "-device tegravirt-bpmp: accepted with BPMP");

        p = fake("qemu-no-qmp");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->has_vfio_platform && caps->bpmp == TV_BPMP_NONE &&
                      caps->bpmp_unknown && strstr(caps->bpmp_unknown_why, "exited with status 1") &&
                      strncmp(caps->bpmp_unknown_why, "/", 1) != 0,
              "QMP probe fails: bridge unknown, with the reason");
        CHECK(caps && tv_qemu_caps_check(caps, false, &err) == 0, "QMP probe fails: fine without BPMP");
        tv_error_clear(&err);
        CHECK(caps && tv_qemu_caps_check(caps, true, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "cannot tell whether") && strstr(err.message, p) &&
                      strstr(err.message, "-qmp stdio exited with status 1"),
              "QMP probe fails: refused when BPMP is needed, saying why");

        tv_error_clear(&err);
        p = fake("qemu-qmp-error");
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == 0 && caps->bpmp_unknown &&
                      strstr(caps->bpmp_unknown_why, "qom-list-types failed"),
              "QMP error reply: bridge unknown");

        p = fake("qemu-garbage");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == -1 && !caps &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "did not print \"QEMU emulator version") &&
                      strstr(err.message, "Welcome to FooBar"),
              "garbage output: refused, quoting what it printed");
        tv_error_clear(&err);
        p = fake("qemu-binary");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == -1 && err_is(&err, TV_ERR_HOST_NOT_READY, "binary data"),
              "binary output: refused");
        tv_error_clear(&err);
        p = fake("qemu-fails");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "--version exited with status 3") && strstr(err.message, p),
              "non-zero exit: refused with the status");
        tv_error_clear(&err);
        p = fake("qemu-flood");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, p, &caps, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "-device help printed more than 1048576 bytes"),
              "endless output: cut at 1 MiB and refused");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, fake("fake-lib.sh"), &caps, &err) == -1 &&
                      err_is(&err, TV_ERR_INVALID_ARGUMENT, "not executable"),
              "non-executable file refused");
        tv_error_clear(&err);
        CHECK(no_children_left(), "no child processes left after the fakes");
        tv_qemu_caps_cache_free(c);
}

static void test_timeout(void)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps;
        TvError err = { 0 };
        char dir[64], path[4096], *log;
        uint64_t t0, ms;
        bool gone = true;
        int pids[2] = { 0, 0 };

        stage(dir, "qemu-hang", path, sizeof(path));
        t0 = now_ms();
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get_timeout(c, path, 1000, &caps, &err) == -1 && !caps &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "--version did not finish within 1000 ms"),
              "hanging QEMU: refused");
        ms = now_ms() - t0;
        printf("# hang probe took %llu ms\n", (unsigned long long)ms);
        CHECK(ms >= 1000 && ms < 3000, "hanging QEMU: killed after the 1 s timeout");
        CHECK(no_children_left(), "hanging QEMU: reaped, no zombie");
        log = read_log(path);
        CHECK(sscanf(log, "%d\n%d", &pids[0], &pids[1]) == 2, "hanging QEMU: it logged itself and its helper");
        /* the helper was not our child: it must be gone or a zombie waiting for init */
        for (int i = 0; i < 2 && pids[1]; i++) {
                char p[64], st[512] = "";
                FILE *f;

                snprintf(p, sizeof(p), "/proc/%d/stat", pids[i]);
                for (int tries = 0; tries < 100; tries++) {
                        f = fopen(p, "re");
                        if (!f) {
                                st[0] = 0;
                                break;
                        }
                        if (!fgets(st, sizeof(st), f))
                                st[0] = 0;
                        fclose(f);
                        if (strstr(st, ") Z "))
                                break;
                        usleep(10000);
                }
                if (st[0] && !strstr(st, ") Z "))
                        gone = false;
        }
        CHECK(gone, "hanging QEMU: its whole process group was killed");
        free(log);
        unstage(dir);

        tv_error_clear(&err);
        t0 = now_ms();
        CHECK(tv_qemu_caps_get_timeout(c, fake("qemu-qmp-hang"), 1000, &caps, &err) == 0 && caps->bpmp_unknown &&
                      caps->has_vfio_platform && strstr(caps->bpmp_unknown_why, "did not finish within 1000 ms"),
              "QMP probe hangs: killed, bridge unknown");
        ms = now_ms() - t0;
        CHECK(ms >= 1000 && ms < 3000, "QMP probe hangs: one timeout");
        CHECK(no_children_left(), "QMP probe hangs: reaped");
        tv_qemu_caps_cache_free(c);
}

static void test_env(void)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps;
        TvError err = { 0 };
        char dir[64], path[4096], *log;
        int leak, fd;

        /* an fd without O_CLOEXEC must not reach QEMU, nor our environment */
        fd = open("/dev/null", O_RDONLY);
        leak = dup2(fd, 57);
        if (fd >= 0)
                close(fd);
        setenv("TV_TEST_SECRET", "1", 1);
        stage(dir, "qemu-env", path, sizeof(path));
        CHECK(tv_qemu_caps_get(c, path, &caps, &err) == 0 && caps->has_vfio_platform && !caps->bpmp_unknown,
              "env fake probed");
        log = read_log(path);
        CHECK(strstr(log, "\nLC_ALL=C\n") && !strstr(log, "TV_TEST_SECRET") && !strstr(log, "\nHOME="),
              "environment is only LC_ALL=C");
        CHECK(strstr(log, "fd 0 /dev/null") && strstr(log, "fd 1 pipe:") && strstr(log, "fd 2 /dev/null") &&
                      strstr(log, "fd 0 socket:"),
              "stdin /dev/null (socket for QMP), stdout a pipe, stderr /dev/null");
        CHECK(!strstr(log, "fd 57 "), "daemon fds are not inherited");
        CHECK(strstr(log, "args: --version\n") &&
                      strstr(log, "args: -machine none -nodefaults -nographic -device help\n") &&
                      strstr(log, "args: -machine virt,accel=tcg -nodefaults -nographic -S -qmp stdio\n"),
              "probe command lines");
        free(log);
        unstage(dir);
        if (leak >= 0)
                close(leak);
        unsetenv("TV_TEST_SECRET");
        tv_qemu_caps_cache_free(c);
}

static void test_cache(void)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps, *caps2;
        TvError err = { 0 };
        char dir[64], path[4096], tmp[4200], *log;
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { 0 } };
        struct stat st;

        stage(dir, "qemu-9.2-vfio", path, sizeof(path));
        CHECK(tv_qemu_caps_get(c, path, &caps, &err) == 0 && tv_qemu_caps_cache_probe_count(c) == 1,
              "cache: first get probes");
        stat(path, &st);
        CHECK(caps && caps->dev == st.st_dev && caps->ino == st.st_ino && caps->mtime.tv_sec == st.st_mtim.tv_sec &&
                      caps->mtime.tv_nsec == st.st_mtim.tv_nsec,
              "cache: key is dev, ino, mtime");
        CHECK(tv_qemu_caps_get(c, path, &caps2, &err) == 0 && caps2 == caps && tv_qemu_caps_cache_probe_count(c) == 1,
              "cache: second get is a hit (same pointer, no probe)");
        log = read_log(path);
        CHECK(count_lines(log) == 3, "cache: the binary ran three times in all");
        free(log);

        times[1].tv_sec = st.st_mtim.tv_sec + 10;
        utimensat(AT_FDCWD, path, times, 0);
        CHECK(tv_qemu_caps_get(c, path, &caps, &err) == 0 && tv_qemu_caps_cache_probe_count(c) == 2 &&
                      caps->mtime.tv_sec == st.st_mtim.tv_sec + 10,
              "cache: touching the file re-probes");
        CHECK(tv_qemu_caps_get(c, path, &caps2, &err) == 0 && caps2 == caps && tv_qemu_caps_cache_probe_count(c) == 2,
              "cache: then hits again");

        /* replaced by another binary with the same mtime: a new inode */
        snprintf(tmp, sizeof(tmp), "%s.new", path);
        copy_file(fake("qemu-10.1.5-ghaf"), tmp, 0755);
        times[1] = caps->mtime;
        utimensat(AT_FDCWD, tmp, times, 0);
        rename(tmp, path);
        CHECK(tv_qemu_caps_get(c, path, &caps, &err) == 0 && tv_qemu_caps_cache_probe_count(c) == 3 &&
                      caps->bpmp == TV_BPMP_BUILTIN_090D0000,
              "cache: a replaced binary (new inode) re-probes");

        /* a failed probe is not cached, and drops the stale entry */
        copy_file(fake("qemu-fails"), tmp, 0755);
        rename(tmp, path);
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, path, &caps, &err) == -1 && tv_qemu_caps_cache_probe_count(c) == 4,
              "cache: broken replacement refused");
        tv_error_clear(&err);
        CHECK(tv_qemu_caps_get(c, path, &caps, &err) == -1 && tv_qemu_caps_cache_probe_count(c) == 5,
              "cache: failures are not cached");
        tv_error_clear(&err);
        unstage(dir);

        /* an unknown bridge (QMP failed) is probed again next time */
        CHECK(tv_qemu_caps_get(c, fake("qemu-no-qmp"), &caps, &err) == 0 && caps->bpmp_unknown &&
                      tv_qemu_caps_get(c, fake("qemu-no-qmp"), &caps, &err) == 0 &&
                      tv_qemu_caps_cache_probe_count(c) == 7,
              "cache: an entry with an unknown bridge is re-probed");
        tv_qemu_caps_cache_free(c);
}

static void test_eviction(void)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps;
        TvError err = { 0 };
        char dir[] = "/tmp/tv-qemu-caps-XXXXXX", link[4200];
        unsigned n;
        int ok = 0;

        if (!mkdtemp(dir))
                abort();
        snprintf(link, sizeof(link), "%s/fake-lib.sh", dir);
        copy_file(fake("fake-lib.sh"), link, 0644);
        /* 40 names for one binary: the cache keeps 32, dropping the least recently used */
        for (int i = 0; i < 40; i++) {
                snprintf(link, sizeof(link), "%s/q%02d", dir, i);
                if (symlink(fake("qemu-9.2-vfio"), link) == 0 && tv_qemu_caps_get(c, link, &caps, &err) == 0)
                        ok++;
                if (i > 0 && i < 36) {  /* keeps q00 recently used */
                        snprintf(link, sizeof(link), "%s/q00", dir);
                        tv_qemu_caps_get(c, link, &caps, &err);
                }
        }
        n = tv_qemu_caps_cache_probe_count(c);
        CHECK(ok == 40 && n == 40, "eviction: 40 distinct paths probed once each");
        snprintf(link, sizeof(link), "%s/q00", dir);
        tv_qemu_caps_get(c, link, &caps, &err);
        snprintf(link, sizeof(link), "%s/q39", dir);
        tv_qemu_caps_get(c, link, &caps, &err);
        CHECK(tv_qemu_caps_cache_probe_count(c) == n, "eviction: recently used entries stay");
        snprintf(link, sizeof(link), "%s/q01", dir);
        tv_qemu_caps_get(c, link, &caps, &err);
        CHECK(tv_qemu_caps_cache_probe_count(c) == n + 1, "eviction: the least recently used went");
        tv_qemu_caps_cache_free(c);
        unstage(dir);
}

static void test_real(const char *qemu)
{
        TvQemuCapsCache *c = tv_qemu_caps_cache_new();
        const TvQemuCaps *caps;
        TvError err = { 0 };
        uint64_t t0, ms;
        int r;

        if (access(qemu, X_OK) != 0) {
                /* CI installs qemu-system-arm; a missing binary is a failure, not a skip */
                CHECK(false, "real QEMU %s is not installed (Debian: apt-get install qemu-system-arm)", qemu);
                tv_qemu_caps_cache_free(c);
                return;
        }
        t0 = now_ms();
        r = tv_qemu_caps_get(c, qemu, &caps, &err);
        ms = now_ms() - t0;
        if (r < 0)
                printf("# %s: %s\n", err.name, err.message);
        else
                printf("# %s: QEMU %u.%u.%u vfio-platform=%d bpmp=%s unknown=%d, probed in %llu ms\n", qemu,
                       caps->major, caps->minor, caps->micro, caps->has_vfio_platform,
                       tv_bpmp_flavour_name(caps->bpmp), caps->bpmp_unknown, (unsigned long long)ms);
        CHECK(r == 0 && caps->major >= 7 && caps->has_vfio_platform && caps->bpmp == TV_BPMP_NONE &&
                      !caps->bpmp_unknown && caps->bpmp_base == 0,
              "real qemu-system-aarch64: version, vfio-platform, QMP probe without a bridge");
        CHECK(r == 0 && tv_qemu_caps_check(caps, false, &err) == 0, "real qemu-system-aarch64: fine without BPMP");
        tv_error_clear(&err);
        CHECK(r == 0 && tv_qemu_caps_check(caps, true, &err) == -1 &&
                      err_is(&err, TV_ERR_HOST_NOT_READY, "has no BPMP bridge") && strstr(err.message, qemu),
              "real qemu-system-aarch64: refused when BPMP is needed");
        t0 = now_ms();
        CHECK(tv_qemu_caps_get(c, qemu, &caps, &err) == 0 && tv_qemu_caps_cache_probe_count(c) == 1,
              "real qemu-system-aarch64: cached");
        printf("# cached get took %llu ms\n", (unsigned long long)(now_ms() - t0));
        CHECK(no_children_left(), "real qemu-system-aarch64: reaped");
        tv_qemu_caps_cache_free(c);
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: %s FAKE_QEMU_DIR REAL_QEMU\n", argv[0]);
                return 2;
        }
        fake_dir = argv[1];
        test_parse_version();
        test_device_help();
        test_qmp();
        test_names();
        test_paths();
        test_fakes();
        test_timeout();
        test_env();
        test_cache();
        test_eviction();
        test_real(argv[2]);
        return tap_finish();
}
