// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit test of the guest DTB patcher.
 *   test-guest-dtb CATALOG.xml DATADIR
 * DATADIR (tests/unit/guest-dtb) holds virt-7.2.dtb (a QEMU 7.2 `virt` dumpdtb,
 * packed) and the placement goldens place-*.txt. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "catalog.h"
#include "guest-dtb.h"
#include "tv-tap.h"
#include "tv-fileio.h"
#include "tv-names.h"

static TvCatalog *cat;
static const char *datadir;
static char *base;
static size_t base_len;

static const TvCatalogDevice *dev(const char *name)
{
        const TvCatalogDevice *d = tv_catalog_find(cat, name);

        if (!d) {
                fprintf(stderr, "no catalog device %s\n", name);
                exit(1);
        }
        return d;
}

/* The placement as text, one line per device. */
static char *format_place(const TvCatalogDevice *const *devs, const TvGuestPlacement *p, size_t n)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s:", devs[i]->name);
                for (size_t r = 0; r < p[i].n_reg; r++)
                        fprintf(f, " reg 0x%" PRIx64 "+0x%" PRIx64, p[i].reg[r][0], p[i].reg[r][1]);
                fprintf(f, " irq");
                for (size_t q = 0; q < p[i].n_irq; q++)
                        fprintf(f, " %u", p[i].irq[q]);
                fprintf(f, "\n");
        }
        fclose(f);
        return buf;
}

static void golden_place(const char *golden, const char *const *names, size_t n)
{
        const TvCatalogDevice *devs[8];
        TvGuestPlacement p[8];
        TvError err = { 0 };
        char path[512], *want = NULL, *got, what[128];
        size_t len;

        for (size_t i = 0; i < n; i++)
                devs[i] = dev(names[i]);
        snprintf(path, sizeof(path), "%s/%s", datadir, golden);
        snprintf(what, sizeof(what), "placement %s", golden);
        CHECK(tv_guest_place(devs, n, p, &err) == 0, "%s", what);
        got = format_place(devs, p, n);
        CHECK(tv_read_file_at(AT_FDCWD, path, 65536, &want, &len) == 0 && strcmp(got, want) == 0, "%s", what);
        if (want && strcmp(got, want) != 0)
                printf("# got:\n%s# want:\n%s", got, want);
        free(got);
        free(want);
}

static void test_place(void)
{
        const char *one[] = { "uarta" };
        const char *two[] = { "gpio-main", "uarta" };
        const char *five[] = { "gpio-aon", "uarta", "gpio-main", "uarti", "uarte" };
        const TvCatalogDevice *devs[4];
        TvGuestPlacement p[4];
        TvError err = { 0 };

        golden_place("place-1.txt", one, 1);
        golden_place("place-2.txt", two, 2);
        golden_place("place-5.txt", five, 5);

        /* The reference values: first device at the bus base, SPI 112 = cell 0x70. */
        devs[0] = dev("uarta");
        CHECK(tv_guest_place(devs, 1, p, &err) == 0 && p[0].reg[0][0] == 0x0c000000 && p[0].reg[0][1] == 0x10000 &&
              p[0].n_irq == 1 && p[0].irq[0] == 0x70, "uarta alone at 0xc000000, SPI 112");

        /* Natural alignment leaves holes that later small windows fill (QEMU first fit). */
        devs[0] = dev("gpio-aon");
        devs[1] = dev("uarta");
        devs[2] = dev("gpio-aon");
        CHECK(tv_guest_place(devs, 3, p, &err) == 0 && p[1].reg[0][0] == 0x0c010000 &&
              p[2].reg[0][0] == 0x0c002000 && p[2].reg[1][0] == 0x0c003000, "4 KiB windows fill the hole before a 64 KiB one");

        /* The GPU's 16 MiB windows: alone 0x2001000 bytes > 32 MiB; with others refused too. */
        devs[0] = dev("uarta");
        devs[1] = dev("gpu");
        tv_error_clear(&err);
        CHECK(tv_guest_place(devs, 2, p, &err) < 0 && err.name && strcmp(err.name, TV_ERR_HOST_NOT_READY) == 0 &&
              strstr(err.message, "'gpu'") && strstr(err.message, "does not fit"), "gpu after uarta is refused");
        printf("# %s\n", err.message);
        tv_error_clear(&err);
        devs[0] = dev("gpu");
        CHECK(tv_guest_place(devs, 1, p, &err) < 0 && strstr(err.message, "'gpu'") && strstr(err.message, "0x2001000"),
              "gpu alone is refused, naming the 0x2001000 bytes it needs");
        printf("# %s\n", err.message);

        /* 48 + 48 interrupts do not fit 64. */
        devs[0] = dev("gpio-main");
        devs[1] = dev("gpio-main");
        tv_error_clear(&err);
        CHECK(tv_guest_place(devs, 2, p, &err) < 0 && strcmp(err.name, TV_ERR_HOST_NOT_READY) == 0 &&
              strstr(err.message, "needs 48 interrupts") && strstr(err.message, "only 16"), "IRQ exhaustion is refused");
        printf("# %s\n", err.message);
        tv_error_clear(&err);
        CHECK(tv_guest_place(devs, 0, p, &err) == 0, "no devices is fine");

        /* As many windows as the catalog accepts (TV_DEVICE_MAX_REGIONS), not one more. */
        {
                TvCatalogDevice many = *dev("uarta");
                TvRegion regs[TV_DEVICE_MAX_REGIONS + 1];

                for (size_t r = 0; r < TV_DEVICE_MAX_REGIONS + 1; r++)
                        regs[r] = (TvRegion){ .base = 0x3100000 + r * 0x1000, .size = 0x1000 };
                many.regions = regs;
                many.n_regions = TV_DEVICE_MAX_REGIONS;
                devs[0] = &many;
                tv_error_clear(&err);
                CHECK(tv_guest_place(devs, 1, p, &err) == 0 && p[0].n_reg == TV_DEVICE_MAX_REGIONS &&
                      p[0].reg[TV_DEVICE_MAX_REGIONS - 1][0] == 0x0c000000 + (TV_DEVICE_MAX_REGIONS - 1) * 0x1000,
                      "a device with the catalog's 16 windows is placed");
                many.n_regions = TV_DEVICE_MAX_REGIONS + 1;
                tv_error_clear(&err);
                CHECK(tv_guest_place(devs, 1, p, &err) < 0 && strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0 &&
                      strstr(err.message, "1 to 16"), "17 windows are refused");
        }
}

/* A catalog document with one device of nreg 4 KiB windows and nirq interrupts. */
static char *limits_doc(size_t nreg, size_t nirq)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                exit(2);
        fprintf(f, "<?xml version=\"1.0\"?>\n<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n"
                   "<device name=\"many\" platform-id=\"3100000.serial\" kind=\"serial\">\n");
        for (size_t r = 0; r < nreg; r++)
                fprintf(f, "<reg base=\"0x%zx\" size=\"0x1000\"/>\n", (size_t)0x3100000 + r * 0x1000);
        for (size_t q = 0; q < nirq; q++)
                fprintf(f, "<interrupt spi=\"%zu\"/>\n", 100 + q);
        fprintf(f, "<guest><compatible>x</compatible></guest>\n</device>\n</catalog>\n");
        if (fclose(f) != 0)
                exit(2);
        return buf;
}

/* The catalog accepts exactly what tv-limits.h says, and the placement takes all of it:
 * the two were once 16 and 8 windows. */
static void test_limits_agree(void)
{
        TvCatalog *c = NULL;
        TvError err = { 0 };
        char *doc = limits_doc(TV_DEVICE_MAX_REGIONS, TV_DEVICE_MAX_IRQS);

        if (tv_catalog_parse_buffer(doc, strlen(doc), "limits.xml", &c, &err) == 0) {
                const TvCatalogDevice *devs[1] = { tv_catalog_find(c, "many") };
                TvGuestPlacement p[1];

                CHECK(devs[0] && tv_guest_place(devs, 1, p, &err) == 0 && p[0].n_reg == TV_DEVICE_MAX_REGIONS &&
                              p[0].n_irq == TV_DEVICE_MAX_IRQS,
                      "a device at the catalog's limits (16 windows, 64 interrupts) is placed whole");
                tv_catalog_free(c);
        } else {
                CHECK(false, "the catalog accepts 16 windows and 64 interrupts");
                printf("# %s\n", err.message);
        }
        free(doc);
        doc = limits_doc(TV_DEVICE_MAX_REGIONS + 1, 1);
        tv_error_clear(&err);
        c = NULL;
        CHECK(tv_catalog_parse_buffer(doc, strlen(doc), "limits.xml", &c, &err) < 0, "the catalog refuses 17 windows");
        free(doc);
        doc = limits_doc(1, TV_DEVICE_MAX_IRQS + 1);
        tv_error_clear(&err);
        CHECK(tv_catalog_parse_buffer(doc, strlen(doc), "limits.xml", &c, &err) < 0,
              "the catalog refuses 65 interrupts");
        free(doc);
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
        int node = fdt_path_offset(fdt, path);

        return node < 0 ? NULL : fdt_getprop(fdt, node, name, len);
}

static bool prop_cells(const void *fdt, const char *path, const char *name, const uint32_t *want, int n)
{
        int len;
        const fdt32_t *p = prop(fdt, path, name, &len);

        if (!p || len != n * 4)
                return false;
        for (int i = 0; i < n; i++)
                if (fdt32_to_cpu(p[i]) != want[i])
                        return false;
        return true;
}

static bool prop_bytes(const void *fdt, const char *path, const char *name, const void *want, int n)
{
        int len;
        const void *p = prop(fdt, path, name, &len);

        return p && len == n && memcmp(p, want, n) == 0;
}

static int build(const void *b, size_t len, const char *const *names, size_t n, uint64_t bpmp, void **out,
                 size_t *out_len, TvError *err)
{
        const TvCatalogDevice *devs[8];

        for (size_t i = 0; i < n; i++)
                devs[i] = dev(names[i]);
        tv_error_clear(err);
        return tv_guest_dtb_build(b, len, devs, n, bpmp, out, out_len, err);
}

static void test_build_uarta(void)
{
        static const char hsuart[] = "nvidia,tegra194-hsuart";
        static const char bpmp_compat[] = "nvidia,tegra234-bpmp\0nvidia,tegra186-bpmp";
        static const char names[] = "serial\0parent";
        static const char alias[] = "/platform-bus@c000000/serial@0";
        const char *uarta[] = { "uarta" };
        const char *sn = "/platform-bus@c000000/serial@0";
        TvError err = { 0 };
        uint32_t gic, ph;
        void *out = NULL;
        size_t len = 0;

        gic = fdt32_to_cpu(*(const fdt32_t *)prop(base, "/platform-bus@c000000", "interrupt-parent", NULL));
        CHECK(build(base, base_len, uarta, 1, 0x090c0000, &out, &len, &err) == 0, "uarta DTB builds");
        if (!out)
                return;
        CHECK(fdt_check_full(out, len) == 0 && fdt_totalsize(out) == len, "result is a valid packed FDT");
        ph = fdt_get_phandle(out, fdt_path_offset(out, "/bpmp"));
        CHECK(ph != 0 && ph != gic, "/bpmp has its own phandle");
        CHECK(prop_bytes(out, "/bpmp", "compatible", bpmp_compat, sizeof(bpmp_compat)), "/bpmp compatible");
        CHECK(prop_cells(out, "/bpmp", "virtual-pa", (uint32_t[]){ 0, 0x090c0000 }, 2), "/bpmp virtual-pa <0 0x90c0000>");
        CHECK(prop_cells(out, "/bpmp", "#clock-cells", (uint32_t[]){ 1 }, 1) &&
              prop_cells(out, "/bpmp", "#reset-cells", (uint32_t[]){ 1 }, 1) &&
              prop_cells(out, "/bpmp", "#power-domain-cells", (uint32_t[]){ 1 }, 1), "/bpmp cells");
        CHECK(prop_bytes(out, sn, "compatible", hsuart, sizeof(hsuart)), "uarta compatible");
        CHECK(prop_cells(out, sn, "reg", (uint32_t[]){ 0, 0x10000 }, 2), "uarta reg <0 0x10000> (bus-relative)");
        CHECK(prop_cells(out, sn, "interrupts", (uint32_t[]){ 0, 0x70, 4 }, 3), "uarta interrupts <0 0x70 4>");
        CHECK(prop_cells(out, sn, "interrupt-parent", &gic, 1), "uarta interrupt-parent is the base's GIC");
        CHECK(prop_cells(out, sn, "nvidia,memory-clients", (uint32_t[]){ 14 }, 1), "catalog u32 property");
        CHECK(prop_cells(out, sn, "clocks", (uint32_t[]){ ph, 155, ph, 102 }, 4), "clocks <&bpmp 155>, <&bpmp 102>");
        CHECK(prop_bytes(out, sn, "clock-names", names, sizeof(names)), "clock-names serial, parent");
        CHECK(prop_cells(out, sn, "resets", (uint32_t[]){ ph, 100 }, 2), "resets <&bpmp 100>");
        CHECK(prop_bytes(out, sn, "reset-names", "serial", 7), "reset-names serial");
        CHECK(!prop(out, sn, "power-domains", NULL), "no power-domains for uarta");
        CHECK(prop_bytes(out, "/aliases", "serial0", alias, sizeof(alias)), "alias serial0");
        CHECK(prop(out, "/pl011@9000000", "compatible", NULL) && prop(out, "/chosen", "stdout-path", NULL),
              "the base tree is kept");
        free(out);
}

static void test_build_more(void)
{
        const char *five[] = { "gpio-aon", "uarta", "gpio-main", "uarti", "uarte" };
        const char *uarti[] = { "uarti" };
        const char *uarta[] = { "uarta" };
        TvError err = { 0 };
        void *out = NULL, *out2 = NULL, *big, *b2;
        size_t len, len2;
        uint32_t irqs[48 * 3];
        int n = 0, node;

        CHECK(build(base, base_len, five, 5, 0x090d0000, &out, &len, &err) == 0, "five-device DTB builds");
        if (!out)
                return;
        /* gpio-aon at 0 (4 KiB + 4 KiB, SPI 112..115), uarta 0x10000 (116), gpio-main 0x20000/0x30000 (117..164) */
        for (int i = 0; i < 48; i++) {
                irqs[3 * i] = 0;
                irqs[3 * i + 1] = 117 + i;
                irqs[3 * i + 2] = 4;
        }
        CHECK(prop_cells(out, "/platform-bus@c000000/gpio@20000", "interrupts", irqs, 48 * 3), "gpio-main 48 interrupts");
        CHECK(prop_cells(out, "/platform-bus@c000000/gpio@20000", "reg", (uint32_t[]){ 0x20000, 0x10000, 0x30000, 0x10000 }, 4),
              "gpio-main two windows");
        CHECK(prop_bytes(out, "/platform-bus@c000000/gpio@20000", "reg-names", "security\0gpio", 14), "reg-names");
        CHECK(prop_cells(out, "/platform-bus@c000000/gpio@20000", "#address-cells", (uint32_t[]){ 0 }, 1) &&
              prop(out, "/platform-bus@c000000/gpio@20000", "gpio-controller", &n) && n == 0, "gpio controller props");
        CHECK(prop_cells(out, "/platform-bus@c000000/gpio@0", "reg", (uint32_t[]){ 0, 0x1000, 0x1000, 0x1000 }, 4),
              "gpio-aon at the bus base");
        CHECK(prop_bytes(out, "/aliases", "serial1", "/platform-bus@c000000/serial@40000", 35) &&
              prop_bytes(out, "/aliases", "serial2", "/platform-bus@c000000/serial@50000", 35), "serial aliases in order");
        /* nodes in -device order */
        node = fdt_first_subnode(out, fdt_path_offset(out, "/platform-bus@c000000"));
        CHECK(node >= 0 && strcmp(fdt_get_name(out, node, NULL), "gpio@0") == 0, "first node is the first device");
        CHECK(prop_cells(out, "/bpmp", "virtual-pa", (uint32_t[]){ 0, 0x090d0000 }, 2), "QEMU 10 bridge address");

        /* An already patched tree is refused as a base. */
        CHECK(build(out, len, uarta, 1, 0x090d0000, &out2, &len2, &err) < 0 &&
              strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0 && strstr(err.message, "already has child nodes"),
              "a patched tree is not a base");
        free(out);

        /* No BPMP needed: no /bpmp, bridge address ignored. */
        CHECK(build(base, base_len, uarti, 1, 0, &out, &len, &err) == 0 && fdt_path_offset(out, "/bpmp") < 0 &&
              prop(out, "/platform-bus@c000000/serial@0", "current-speed", NULL), "uarti needs no /bpmp");
        free(out);
        out = NULL;
        CHECK(build(base, base_len, uarta, 1, 0, &out, &len, &err) < 0 && strcmp(err.name, TV_ERR_HOST_NOT_READY) == 0 &&
              strstr(err.message, "'uarta'") && strstr(err.message, "BPMP"), "uarta without a BPMP bridge is refused");
        printf("# %s\n", err.message);

        /* A real dumpdtb is 1 MiB of mostly free space. */
        big = malloc(1 << 20);
        CHECK(fdt_open_into(base, big, 1 << 20) == 0 && build(big, 1 << 20, uarta, 1, 0x090c0000, &out, &len, &err) == 0 &&
              len < 64 * 1024, "a 1 MiB dump works and the result is packed");
        free(out);
        out = NULL;

        /* Older QEMU: /platform@c000000 with identity ranges → serial@c000000, reg <0xc000000 ...>. */
        b2 = malloc(1 << 20);
        fdt_open_into(base, b2, 1 << 20);
        node = fdt_path_offset(b2, "/platform-bus@c000000");
        fdt_set_name(b2, node, "platform@c000000");
        fdt_setprop(b2, node, "ranges", (uint32_t[]){ cpu_to_fdt32(0xc000000), 0, cpu_to_fdt32(0xc000000),
                                                      cpu_to_fdt32(0x2000000) }, 16);
        /* and an existing serial0 alias, and a /bpmp from a patched QEMU */
        fdt_setprop_string(b2, fdt_add_subnode(b2, 0, "aliases"), "serial0", "/pl011@9000000");
        node = fdt_add_subnode(b2, 0, "bpmp");
        fdt_setprop(b2, node, "virtual-pa", (uint32_t[]){ 0, cpu_to_fdt32(0x090d0000) }, 8);
        CHECK(build(b2, 1 << 20, uarta, 1, 0, &out, &len, &err) == 0 &&
              prop_cells(out, "/platform@c000000/serial@c000000", "reg", (uint32_t[]){ 0xc000000, 0x10000 }, 2) &&
              prop_bytes(out, "/aliases", "serial1", "/platform@c000000/serial@c000000", 33) &&
              prop_cells(out, "/bpmp", "virtual-pa", (uint32_t[]){ 0, 0x090d0000 }, 2),
              "identity ranges, taken serial0, /bpmp from the base");
        free(out);
        out = NULL;
        CHECK(build(b2, 1 << 20, uarta, 1, 0x090c0000, &out, &len, &err) < 0 && strstr(err.message, "disagrees"),
              "a base /bpmp at another address is refused");
        printf("# %s\n", err.message);
        free(b2);
        free(big);
}

/* A copy of base with edit() applied, in a 1 MiB buffer. */
static void refused(const char *what, void (*edit)(void *fdt, size_t *len), const char *needle)
{
        const char *uarta[] = { "uarta" };
        size_t len = 1 << 20;
        void *b = calloc(1, len);
        void *out = NULL;
        size_t out_len;
        TvError err = { 0 };
        char buf[256];
        int rc;

        fdt_open_into(base, b, (int)len);
        edit(b, &len);
        rc = build(b, len, uarta, 1, 0x090c0000, &out, &out_len, &err);
        snprintf(buf, sizeof(buf), "refused: %s", what);
        CHECK(rc < 0 && !out && err.name && strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0 &&
              (!needle || strstr(err.message, needle)), "%s", buf);
        printf("# %s\n", err.message);
        free(out);
        free(b);
}

static void e_truncate(void *f, size_t *len) { fdt_pack(f); *len = fdt_totalsize(f) - 1; }
static void e_half(void *f, size_t *len) { fdt_pack(f); *len = fdt_totalsize(f) / 2; }
static void e_tiny(void *f, size_t *len) { *len = 8; }
static void e_magic(void *f, size_t *len) { ((uint8_t *)f)[0] ^= 0xff; }
static void e_totalsize(void *f, size_t *len) { fdt_set_totalsize(f, 0x7fffffff); }
static void e_struct_off(void *f, size_t *len) { fdt_set_off_dt_struct(f, 0xfffffff0); }
static void e_strings_size(void *f, size_t *len) { fdt_set_size_dt_strings(f, 0x7ffffff0); }
static void e_version3(void *f, size_t *len)
{
        fdt_set_version(f, 3);
        fdt_set_last_comp_version(f, 3);
}
static void e_toobig(void *f, size_t *len) { *len = TV_GUEST_DTB_MAX_BYTES + 1; }
static void e_garbage_struct(void *f, size_t *len)
{
        memset((char *)f + fdt_off_dt_struct(f) + 8, 0xa5, 64);
}
static void e_no_bus(void *f, size_t *len) { fdt_del_node(f, fdt_path_offset(f, "/platform-bus@c000000")); }
static void e_no_ranges(void *f, size_t *len)
{
        fdt_delprop(f, fdt_path_offset(f, "/platform-bus@c000000"), "ranges");
}
static void e_bad_ranges(void *f, size_t *len)
{
        fdt_setprop_u32(f, fdt_path_offset(f, "/platform-bus@c000000"), "ranges", 0);
}
static void e_other_ranges(void *f, size_t *len)
{
        fdt_setprop(f, fdt_path_offset(f, "/platform-bus@c000000"), "ranges",
                    (uint32_t[]){ 0, 0, cpu_to_fdt32(0xd000000), cpu_to_fdt32(0x2000000) }, 16);
}
static void e_root_cells(void *f, size_t *len) { fdt_delprop(f, 0, "#address-cells"); }
static void e_root_cells3(void *f, size_t *len) { fdt_setprop_u32(f, 0, "#size-cells", 3); }
static void e_gic_cells(void *f, size_t *len)
{
        fdt_setprop_u32(f, fdt_path_offset(f, "/intc@8000000"), "#interrupt-cells", 2);
}
static void e_no_gic(void *f, size_t *len)
{
        fdt_setprop_u32(f, fdt_path_offset(f, "/platform-bus@c000000"), "interrupt-parent", 0x1234);
}
static void e_bus_compat(void *f, size_t *len)
{
        fdt_setprop_string(f, fdt_path_offset(f, "/platform-bus@c000000"), "compatible", "simple-bus");
}

static void test_refusals(void)
{
        refused("truncated by one byte", e_truncate, "not a valid");
        refused("cut in half", e_half, "not a valid");
        refused("8 bytes", e_tiny, "truncated");
        refused("bad magic", e_magic, "not a valid");
        refused("huge totalsize", e_totalsize, NULL);
        refused("struct offset out of range", e_struct_off, NULL);
        refused("strings size out of range", e_strings_size, NULL);
        refused("larger than 2 MiB", e_toobig, "at most");
        refused("FDT version 3 (crashed libfdt 1.6.1 fdt_check_full)", e_version3, "version 17");
        refused("garbage in the structure block", e_garbage_struct, NULL);
        refused("no platform bus", e_no_bus, "no platform bus");
        refused("bus without ranges", e_no_ranges, "no ranges");
        refused("malformed ranges", e_bad_ranges, "malformed ranges");
        refused("ranges elsewhere", e_other_ranges, "do not map");
        refused("root without #address-cells", e_root_cells, "#address-cells");
        refused("root #size-cells 3", e_root_cells3, "#size-cells");
        refused("GIC with 2 interrupt cells", e_gic_cells, "#interrupt-cells");
        refused("dangling interrupt-parent", e_no_gic, "interrupt controller");
        refused("bus not qemu,platform", e_bus_compat, "qemu,platform");
}

/* GPIO line groups: the virtio GPIO node under the transport of virtio-mmio-bus.0. */
static void test_build_gpio(void)
{
        static const char names[] = "header-7\0header-11\0header-13";
        const char *const three[] = { "header-7", "header-11", "header-13" };
        const char *const bad_name[] = { "ok", "" };
        const char *gn = "/virtio_mmio@a000000/gpio";
        TvGuestGpio g = { three, 3 };
        const TvCatalogDevice *devs[1] = { dev("uarta") };
        TvError err = { 0 };
        void *out = NULL, *again = NULL;
        size_t len = 0, len2 = 0;
        int n = 0;

        CHECK(tv_guest_dtb_build_gpio(base, base_len, NULL, 0, 0, &g, &out, &len, &err) == 0,
              "gpio: DTB with only line groups builds (%s)", err.message);
        if (!out)
                return;
        CHECK(fdt_check_full(out, len) == 0, "gpio: result is a valid FDT");
        CHECK(prop_bytes(out, gn, "compatible", "virtio,device29", sizeof("virtio,device29")),
              "gpio: %s compatible virtio,device29", gn);
        CHECK(prop_bytes(out, gn, "gpio-controller", "", 0) && prop_bytes(out, gn, "interrupt-controller", "", 0),
              "gpio: gpio-controller and interrupt-controller");
        CHECK(prop_cells(out, gn, "#gpio-cells", (uint32_t[]){ 2 }, 1) &&
                      prop_cells(out, gn, "#interrupt-cells", (uint32_t[]){ 2 }, 1),
              "gpio: #gpio-cells and #interrupt-cells are 2");
        CHECK(prop_bytes(out, gn, "gpio-line-names", names, sizeof(names)), "gpio: gpio-line-names in guest order");
        CHECK(prop_cells(out, "/virtio_mmio@a000000", "reg", (uint32_t[]){ 0, 0x0a000000, 0, 0x200 }, 4),
              "gpio: its parent is the transport at 0x0a000000 (virtio-mmio-bus.0)");
        for (int node = fdt_node_offset_by_compatible(out, -1, "virtio,device29"); node >= 0;
             node = fdt_node_offset_by_compatible(out, node, "virtio,device29"))
                n++;
        CHECK(n == 1, "gpio: exactly one virtio,device29 node (%d)", n);
        CHECK(fdt_path_offset(out, "/virtio_mmio@a000200/gpio") < 0, "gpio: no node under another transport");
        /* a patched tree cannot be patched again: the transport has a child now */
        tv_error_clear(&err);
        CHECK(tv_guest_dtb_build_gpio(out, len, NULL, 0, 0, &g, &again, &len2, &err) < 0 &&
                      strstr(err.message, "already has child nodes"),
              "gpio: a transport that has children is refused (%s)", err.message);
        free(out);
        out = NULL;
        CHECK(tv_guest_dtb_build_gpio(base, base_len, devs, 1, 0x090c0000, &g, &out, &len, &err) == 0 &&
                      fdt_path_offset(out, "/platform-bus@c000000/serial@0") >= 0 && fdt_path_offset(out, gn) >= 0,
              "gpio: with a platform device too, both nodes are there");
        free(out);
        out = NULL;
        g = (TvGuestGpio){ bad_name, 2 };
        tv_error_clear(&err);
        CHECK(tv_guest_dtb_build_gpio(base, base_len, NULL, 0, 0, &g, &out, &len, &err) < 0 && !out &&
                      strstr(err.message, "GPIO line 1 has an empty or too long name"),
              "gpio: an empty line name is refused (%s)", err.message);
        g = (TvGuestGpio){ three, 0 };
        tv_error_clear(&err);
        CHECK(tv_guest_dtb_build_gpio(base, base_len, NULL, 0, 0, &g, &out, &len, &err) < 0 && !out,
              "gpio: no lines is refused");
}

int main(int argc, char **argv)
{
        TvError err = { 0 };
        char path[512];

        if (argc != 3) {
                fprintf(stderr, "usage: test-guest-dtb CATALOG.xml DATADIR\n");
                return 2;
        }
        datadir = argv[2];
        if (tv_catalog_load(argv[1], NULL, &cat, &err) < 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
        }
        snprintf(path, sizeof(path), "%s/virt-7.2.dtb", datadir);
        if (tv_read_file_at(AT_FDCWD, path, 1 << 21, &base, &base_len) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                return 1;
        }
        test_place();
        test_limits_agree();
        test_build_uarta();
        test_build_more();
        test_refusals();
        test_build_gpio();
        free(base);
        tv_catalog_free(cat);
        return tap_finish();
}
