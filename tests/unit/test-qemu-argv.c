// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: the dumpdtb options taken from libvirt's qemu-argv (guest/qemu-argv.c).
 * Usage: test-qemu-argv FIXTURE-DIR [QEMU]
 * FIXTURE-DIR holds command lines libvirt 9.0 printed (virsh domxml-to-native qemu-argv);
 * with QEMU, each kept set is also run through QEMU's dumpdtb and the tree checked.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain-dtb.h"
#include "qemu-argv.h"
#include "qemu-caps.h"
#include "tv-names.h"

#include "tv-tap.h"

static const char *dir, *qemu;

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t n;

        if (!f)
                return NULL;
        buf = calloc(1, 65536);
        n = buf ? fread(buf, 1, 65535, f) : 0;
        fclose(f);
        if (buf && !n) {
                free(buf);
                buf = NULL;
        }
        return buf;
}

/* The kept options joined with single spaces. */
static char *joined(const TvDumpArgs *a)
{
        size_t len = 1;
        char *s;

        for (size_t i = 0; i < a->n; i++)
                len += strlen(a->args[i]) + 1;
        s = calloc(1, len);
        for (size_t i = 0; s && i < a->n; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, a->args[i]);
        }
        return s;
}

static int keep(const char *text, char **out, TvError *err)
{
        TvDumpArgs a;

        *out = NULL;
        tv_error_clear(err);
        if (tv_qemu_dump_args(text, &a, err) < 0)
                return -1;
        *out = joined(&a);
        tv_dump_args_clear(&a);
        return 0;
}

/* QEMU's tree for the kept options (plus what base_tree() adds) as dts text, or NULL. */
static char *dump_dts(const TvDumpArgs *a)
{
        char dtb[] = "/tmp/tv-argv-XXXXXX", cmd[600];
        const char *argv[80];
        size_t n = 0;
        char opt[64], *dts;
        int fd = mkstemp(dtb), status;
        pid_t pid;

        if (fd < 0)
                return NULL;
        close(fd);
        snprintf(opt, sizeof(opt), "dumpdtb=%s", dtb);
        argv[n++] = qemu;
        for (size_t i = 0; i < a->n && n < 70; i++)
                argv[n++] = a->args[i];
        argv[n++] = "-machine";
        argv[n++] = opt;
        argv[n++] = "-nodefaults";
        argv[n++] = "-nographic";
        argv[n] = NULL;
        pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                dup2(null, 1);
                dup2(null, 2);
                execv(qemu, (char *const *)argv);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                unlink(dtb);
                return NULL;
        }
        snprintf(cmd, sizeof(cmd), "dtc -q -I dtb -O dts %s > %s.dts 2>/dev/null", dtb, dtb);
        if (system(cmd) != 0) {
                unlink(dtb);
                return NULL;
        }
        snprintf(cmd, sizeof(cmd), "%s.dts", dtb);
        dts = slurp(cmd);
        unlink(cmd);
        unlink(dtb);
        return dts;
}

static void fixture(const char *name, const char *want, const char *in_tree)
{
        char path[4096], what[300], *text, *got = NULL;
        TvDumpArgs a;
        TvError err = { 0 };

        snprintf(path, sizeof(path), "%s/%s.argv", dir, name);
        text = slurp(path);
        snprintf(what, sizeof(what), "%s: fixture readable", name);
        CHECK(text, "%s", what);
        if (!text)
                return;
        snprintf(what, sizeof(what), "%s: kept options", name);
        if (keep(text, &got, &err) < 0)
                printf("# %s\n", err.message);
        else if (strcmp(got, want) != 0)
                printf("# got:  %s\n# want: %s\n", got, want);
        CHECK(got && !strcmp(got, want), "%s", what);
        free(got);
        if (qemu && tv_qemu_dump_args(text, &a, &err) == 0) {
                char *dts = dump_dts(&a);

                snprintf(what, sizeof(what), "%s: QEMU accepts them and its tree has %s", name, in_tree);
                CHECK(dts && strstr(dts, in_tree), "%s", what);
                free(dts);
                CHECK(!strcmp(a.emulator, "/usr/bin/qemu-system-aarch64"), "the emulator is libvirt's binary");
                tv_dump_args_clear(&a);
        }
        free(text);
}

/* A domain XML of the given arch/machine and extra elements, for tv_machine_from_xml(). */
static char *domain(const char *arch, const char *machine, const char *features, const char *cpu, const char *devs)
{
        char *x = NULL;

        if (asprintf(&x,
                     "<domain type='qemu'><name>m</name><memory unit='KiB'>131072</memory><vcpu>2</vcpu>"
                     "<os><type arch='%s' machine='%s'>hvm</type></os><features>%s</features>%s"
                     "<devices><emulator>/bin/sh</emulator>%s</devices></domain>",
                     arch, machine, features, cpu, devs) < 0)
                return NULL;
        return x;
}

static int fingerprint(const char *xml, uint64_t *fp)
{
        TvMachine m;
        TvError err = { 0 };
        int r;

        if (tv_machine_from_xml(xml, strlen(xml), &m, &err) < 0)
                return -1;
        r = tv_machine_fingerprint(&m, fp, &err);
        tv_machine_clear(&m);
        return r;
}

static void test_machine(void)
{
        static const char topo[] = "<cpu mode='custom'><model>cortex-a57</model>"
                                   "<topology sockets='1' dies='1' cores='2' threads='1'/></cpu>";
        char *base = domain("aarch64", "virt-7.2", "<acpi/>", "", ""), *x;
        uint64_t fp0 = 0, fp;
        TvMachine m;
        TvError err = { 0 };

        CHECK(base && fingerprint(base, &fp0) == 0, "an aarch64 virt-7.2 domain is accepted");
        x = domain("armv7l", "virt", "", "", "");
        CHECK(x && tv_machine_from_xml(x, strlen(x), &m, &err) < 0 && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT) &&
                      strstr(err.message, "architecture is 'armv7l'"),
              "an armv7l domain is refused by name");
        free(x);
        tv_error_clear(&err);
        x = domain("aarch64", "vexpress-a9", "", "", "");
        CHECK(x && tv_machine_from_xml(x, strlen(x), &m, &err) < 0 && strstr(err.message, "'vexpress-a9' is not"),
              "a vexpress-a9 domain is refused by name (QEMU's dumpdtb of it never finishes)");
        free(x);
        tv_error_clear(&err);
        x = domain("aarch64", "virtual", "", "", "");
        CHECK(x && tv_machine_from_xml(x, strlen(x), &m, &err) < 0, "machine 'virtual' is not virt");
        free(x);
        /* what changes QEMU's tree changes the fingerprint the prepare check compares */
        x = domain("aarch64", "virt-7.2", "<acpi/>", topo, "");
        CHECK(x && fingerprint(x, &fp) == 0 && fp != fp0, "a CPU topology changes the fingerprint");
        free(x);
        x = domain("aarch64", "virt-7.2", "", "", "");
        CHECK(x && fingerprint(x, &fp) == 0 && fp != fp0, "ACPI on/off changes the fingerprint");
        free(x);
        x = domain("aarch64", "virt-7.2", "<acpi/>", "", "<iommu model='smmuv3'/>");
        CHECK(x && fingerprint(x, &fp) == 0 && fp != fp0, "an IOMMU changes the fingerprint");
        free(x);
        x = domain("aarch64", "virt-7.2", "<acpi/>", "", "<serial type='pty'/>");
        CHECK(x && fingerprint(x, &fp) == 0 && fp == fp0, "a serial port does not");
        free(x);
        /* like libvirt, only elements and attributes in no namespace count (catalog/xml-util) */
        x = domain("aarch64", "virt-7.2", "<acpi/>", "", "<x:iommu xmlns:x='urn:x' model='smmuv3'/>");
        CHECK(x && fingerprint(x, &fp) == 0 && fp == fp0, "an IOMMU element in another namespace does not");
        free(x);
        x = domain("aarch64", "virt-7.2", "<acpi/>", "<cpu xmlns:x='urn:x' x:mode='host-passthrough'/>", "");
        CHECK(x && tv_machine_from_xml(x, strlen(x), &m, &err) == 0 && !strcmp(m.cpu, "max"),
              "a cpu mode= attribute in another namespace is not the CPU mode");
        tv_machine_clear(&m);
        free(x);
        free(base);
}

int main(int argc, char **argv)
{
        static const struct {
                const char *text, *why;
        } refused[] = {
                { "/usr/bin/qemu -machine virt -cpu $(id)", "an unquoted $" },
                { "/usr/bin/qemu -machine virt -cpu `id`", "a backtick" },
                { "/usr/bin/qemu -machine virt -cpu 'max", "an unterminated quote" },
                { "/usr/bin/qemu -machine virt;id", "a semicolon" },
                { "/usr/bin/qemu -machine 'virt,x=a;b'", "a machine property with a ';'" },
                { "/usr/bin/qemu -machine 'virt,,x=1'", "an escaped comma in -machine" },
                { "/usr/bin/qemu -machine vexpress-a9", "a machine other than virt" },
                { "/usr/bin/qemu -machine type=versatilepb", "type= naming another machine" },
                { "/usr/bin/qemu -machine virt -cpu 'max ; rm'", "a -cpu with spaces" },
                { "/usr/bin/qemu -machine virt -smp '2,sockets=$X'", "a -smp with a $" },
                { "/usr/bin/qemu -accel tcg -m 128", "no -machine" },
                { "LC_ALL=C qemu-system-aarch64 -machine virt", "a relative binary" },
                { "/usr/bin/qemu -machine virt -cpu", "an option without its value" },
                { "/usr/bin/qemu -machine virt -device '{\"driver\":\"virtio-iommu\",\"bus\":\"pci.3\"}'",
                  "a virtio-iommu behind a root port" },
                { "/usr/bin/qemu -machine virt -object '{\"qom-type\":\"memory-backend-ram\",\"id\":\"n0\","
                  "\"size\":\"1;2\"}' -numa node,memdev=n0",
                  "a RAM backend size that is not a number" },
                { "/usr/bin/qemu -machine virt\x01", "a control character" },
                { "", "an empty command line" },
        };
        char *got = NULL, *big;
        TvError err = { 0 };

        if (argc < 2) {
                fprintf(stderr, "usage: %s FIXTURE-DIR [QEMU]\n", argv[0]);
                return 2;
        }
        dir = argv[1];
        qemu = argc > 2 && access(argv[2], X_OK) == 0 ? argv[2] : NULL;
        if (!qemu)
                printf("# no QEMU: the kept options are not run\n");

        test_machine();

        /* what libvirt 9.0 printed for virt-install-like domains */
        fixture("uefi-smmuv3-gic2",
                "-machine virt-7.2,usb=off,gic-version=2,iommu=smmuv3,dump-guest-core=off -accel tcg -cpu cortex-a57 "
                "-m 128 -smp 2,sockets=2,cores=1,threads=1",
                "smmuv3@9050000");
        fixture("uefi-virtio-iommu",
                "-machine virt-7.2,usb=off,gic-version=2,dump-guest-core=off -accel tcg -cpu cortex-a57 -m 128 "
                "-smp 2,sockets=2,cores=1,threads=1 -device virtio-iommu,id=iommu0,bus=pcie.0,addr=0x2",
                "iommu-map = <0x00 0x");
        fixture("numa-topology",
                "-machine virt-7.2,usb=off,gic-version=2,dump-guest-core=off -accel tcg -cpu cortex-a57 -m 128 "
                "-smp 2,sockets=1,dies=1,cores=2,threads=1 -object memory-backend-ram,id=ram-node0,size=67108864 "
                "-numa node,nodeid=0,cpus=0,memdev=ram-node0 -object memory-backend-ram,id=ram-node1,size=67108864 "
                "-numa node,nodeid=1,cpus=1,memdev=ram-node1 -no-acpi",
                "numa-node-id = <0x01>");

        if (qemu) {
                /* a failed dump passes QEMU's own reason on, as the domain's configuration */
                static const char *const args[] = { "-machine", "virt,dumpdtb=/dev/null", "-accel", "tcg", "-cpu",
                                                    "host", "-nodefaults", "-nographic", NULL };

                tv_error_clear(&err);
                CHECK(tv_qemu_run(qemu, args, "dumpdtb", 20000, &err) < 0 && err.name &&
                              !strcmp(err.name, TV_ERR_INVALID_ARGUMENT) &&
                              strstr(err.message, "refused the domain's machine: unable to find CPU model 'host'"),
                      "dumpdtb with -cpu host under TCG: QEMU's reason, InvalidArgument");
                printf("# %s\n", err.message);
        }

        /* host resources and what we set ourselves are dropped; merged -machine options kept in order */
        CHECK(keep("A=1 B='x y' /usr/bin/qemu-system-aarch64 -machine virt,dumpdtb=/etc/passwd,dtb=/x,accel=tcg "
                   "-dtb /var/lib/tegravirt/domains/vm.dtb -kernel /boot/Image -initrd /i -append 'console=ttyAMA0 x' "
                   "-device vfio-platform,host=3100000.serial -device '{\"driver\":\"virtio-blk-pci\",\"drive\":\"d\"}' "
                   "-drive file=/dev/sda,if=none -netdev tap,id=n -chardev pty,id=c -S -no-user-config "
                   "--machine gic-version=3 -object '{\"qom-type\":\"memory-backend-file\",\"id\":\"f\","
                   "\"mem-path\":\"/dev/shm/x\"}' -no-acpi -smp 1 -global foo.bar=1 image.qcow2",
                   &got, &err) == 0 &&
                      !strcmp(got, "-machine virt,accel=tcg -machine gic-version=3 -no-acpi -smp 1"),
              "dumpdtb/dtb/-dtb/-kernel/-append/vfio-platform/drives/netdevs/file backends dropped");
        if (got && strcmp(got, "-machine virt,accel=tcg -machine gic-version=3 -no-acpi -smp 1"))
                printf("# got %s\n", got);
        free(got);
        CHECK(keep("/usr/bin/qemu \\\n -machine \\\n virt-7.2 -cpu max\\,pmu=off", &got, &err) == 0 &&
                      !strcmp(got, "-machine virt-7.2 -cpu max,pmu=off"),
              "backslash escapes and line continuations");
        free(got);
        CHECK(keep("/usr/bin/qemu -machine virt -object memory-backend-ram,id=n0,size=1 -object "
                   "memory-backend-ram,id=mach-virt.ram,size=2 -numa node,memdev=n0",
                   &got, &err) == 0 &&
                      !strcmp(got, "-machine virt -object memory-backend-ram,id=n0,size=1 -numa node,memdev=n0"),
              "only RAM backends of NUMA nodes are kept (mach-virt.ram is QEMU's own id)");
        free(got);

        CHECK(keep("/usr/bin/qemu -machine virt -object '{\"qom-type\":\"memory-backend-file\",\"id\":\"n0\","
                   "\"mem-path\":\"/dev/hugepages/libvirt/qemu\",\"size\":1073741824}' -numa node,memdev=n0",
                   &got, &err) == 0 &&
                      !strcmp(got, "-machine virt -object memory-backend-ram,id=n0,size=1073741824 -numa node,memdev=n0"),
              "a hugepage NUMA backend becomes plain RAM of the same size (no host file opened)");
        free(got);
        {
                TvDumpArgs a;

                CHECK(tv_qemu_dump_args("/usr/bin/qemu -machine virt -dtb /var/lib/tegravirt/domains/vm.dtb -dtb "
                                        "/home/me/my.dtb",
                                        &a, &err) == 0 &&
                              a.dtb && !strcmp(a.dtb, "/home/me/my.dtb"),
                      "the -dtb QEMU would load (the last one) is reported, not kept");
                tv_dump_args_clear(&a);
        }

        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                char what[800];
                int r = keep(refused[i].text, &got, &err);

                snprintf(what, sizeof(what), "refused: %s (%s)", refused[i].why, err.message);
                CHECK(r < 0 && !got && err.name && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT), "%s", what);
                free(got);
        }
        big = malloc(TV_QEMU_ARGV_MAX_BYTES + 64);
        if (big) {
                strcpy(big, "/usr/bin/qemu -machine virt");
                memset(big + strlen(big), ' ', TV_QEMU_ARGV_MAX_BYTES);
                big[TV_QEMU_ARGV_MAX_BYTES + 30] = 0;
                CHECK(keep(big, &got, &err) < 0 && strstr(err.message, "longer than"), "refused: an oversized text");
                free(big);
        }
        return tap_finish();
}
