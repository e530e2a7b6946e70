// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit test of the device catalog: the shipped tegra234.xml (argv[1]), lookups,
 * hostile and broken documents, and merging with an override directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "tv-names.h"
#include "tv-tap.h"

#define check CHECK

static bool has_str(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

static size_t strv_len(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

static const TvGuestProp *prop(const TvCatalogDevice *d, const char *name)
{
        for (size_t i = 0; i < d->n_guest_props; i++)
                if (strcmp(d->guest_props[i].name, name) == 0)
                        return &d->guest_props[i];
        return NULL;
}

static bool ref_is(const TvBpmpRef *r, uint32_t id, const char *name, const char *role)
{
        if (r->id != id || strcmp(r->name, name) != 0)
                return false;
        if (!role)
                return r->role == NULL;
        return r->role && strcmp(r->role, role) == 0;
}

/* ------------------------------------------------------------------------- */
/* The shipped catalog                                                       */

static void test_shipped(const TvCatalog *c)
{
        const TvCatalogDevice *d, *d2;
        const TvGuestProp *p;

        check(c->soc && strcmp(c->soc, "tegra234") == 0, "soc is tegra234");
        check(c->n_devices == 6, "6 devices shipped (got %zu)", c->n_devices);

        /* UARTA */
        d = tv_catalog_find(c, "uarta");
        check(d != NULL, "uarta found by name");
        if (!d)
                return;
        d2 = tv_catalog_find(c, "3100000.serial");
        check(d2 == d, "uarta found by platform id 3100000.serial");
        check(strcmp(d->platform_id, "3100000.serial") == 0, "uarta platform id");
        check(strcmp(d->kind, "serial") == 0, "uarta kind serial");
        check(d->n_regions == 1 && d->regions[0].base == 0x03100000 && d->regions[0].size == 0x10000 &&
                      d->regions[0].name == NULL,
              "uarta window 0x03100000/0x10000 without reg-name");
        check(d->n_irqs == 1 && d->host_irqs[0] == 112, "uarta SPI 112");
        check(d->host_node && strcmp(d->host_node, "/bus@0/serial@3100000") == 0 && d->host_driver_off &&
                      d->host_smmu && strcmp(d->host_smmu, "smmu_niso0") == 0 && d->host_stream_id == 0x7c,
              "uarta host overlay: /bus@0/serial@3100000, driver off, smmu_niso0 stream 0x7c");
        check(d->n_clocks == 2 && ref_is(&d->clocks[0], 155, "uarta", "serial") &&
                      ref_is(&d->clocks[1], 102, "pllp_out0", "parent"),
              "uarta clocks 155 serial, 102 parent (in that order)");
        check(d->n_resets == 1 && ref_is(&d->resets[0], 100, "uarta", "serial"), "uarta reset 100 serial");
        check(d->n_power_domains == 0, "uarta has no power domain");
        check(d->needs_bpmp, "uarta needs the BPMP bridge");
        check(d->needs_unsafe_interrupts, "uarta needs allow_unsafe_interrupts");
        check(has_str(d->kernel_args, "clk_ignore_unused") && has_str(d->kernel_args, "pd_ignore_unused"),
              "uarta kernel args contain clk_ignore_unused and pd_ignore_unused");
        check(strv_len(d->guest_compatible) == 1 && strcmp(d->guest_compatible[0], "nvidia,tegra194-hsuart") == 0,
              "uarta guest compatible nvidia,tegra194-hsuart");
        p = prop(d, "nvidia,memory-clients");
        check(p && p->type == TV_PROP_U32 && p->n_cells == 1 && p->cells[0] == 14, "uarta nvidia,memory-clients = <14>");
        check(strv_len(d->hazards) >= 2, "uarta has hazards");
        {
                bool pins = false, console = false;

                for (char **h = d->hazards; *h; h++) {
                        pins |= strstr(*h, "40-pin") && strstr(*h, "8") && strstr(*h, "10");
                        console |= strstr(*h, "virtio") && strstr(*h, "console");
                }
                check(pins, "uarta hazard names the 40-pin header pins 8/10");
                check(console, "uarta hazard recommends a virtio/pci-serial console");
        }
        check(d->description && !strchr(d->description, '\n'), "uarta description is one line");
        check(d->origin && strstr(d->origin, "tegra234.xml"), "uarta origin is the shipped file");

        /* UARTE */
        d = tv_catalog_find(c, "3140000.serial");
        check(d && strcmp(d->name, "uarte") == 0, "uarte found by platform id");
        if (d) {
                check(d->n_irqs == 1 && d->host_irqs[0] == 116, "uarte SPI 116");
                check(d->n_regions == 1 && d->regions[0].base == 0x03140000 && d->regions[0].size == 0x10000,
                      "uarte window");
                check(d->n_clocks == 2 && ref_is(&d->clocks[0], 159, "uarte", "serial") &&
                              ref_is(&d->clocks[1], 102, "pllp_out0", "parent"),
                      "uarte clocks 159 serial (TEGRA234_CLK_UARTE), 102 parent");
                check(d->n_resets == 1 && ref_is(&d->resets[0], 104, "uarte", "serial"),
                      "uarte reset 104 (TEGRA234_RESET_UARTE)");
                check(d->needs_bpmp && has_str(d->kernel_args, "clk_ignore_unused"), "uarte needs BPMP");
        }

        /* UARTI */
        d = tv_catalog_find(c, "uarti");
        check(d != NULL, "uarti found");
        if (d) {
                check(strcmp(d->platform_id, "31d0000.serial") == 0, "uarti platform id 31d0000.serial");
                check(d->n_irqs == 1 && d->host_irqs[0] == 285, "uarti SPI 285");
                check(!d->needs_bpmp && d->n_clocks == 0 && d->n_resets == 0 && d->n_power_domains == 0,
                      "uarti has no BPMP");
                check(d->kernel_args && strv_len(d->kernel_args) == 0, "uarti has no kernel args");
                check(strcmp(d->guest_compatible[0], "arm,sbsa-uart") == 0, "uarti guest compatible arm,sbsa-uart");
                p = prop(d, "current-speed");
                check(p && p->type == TV_PROP_U32 && p->n_cells == 1 && p->cells[0] == 115200,
                      "uarti current-speed 115200");
                check(d->needs_unsafe_interrupts, "uarti needs allow_unsafe_interrupts");
        }

        /* main GPIO */
        d = tv_catalog_find(c, "2200000.gpio");
        check(d != NULL, "main gpio found by platform id");
        if (d) {
                bool consecutive = d->n_irqs == 48;
                bool lines = false;

                for (size_t i = 0; consecutive && i < d->n_irqs; i++)
                        consecutive = d->host_irqs[i] == 288 + i;
                check(d->n_regions == 2 && d->regions[0].base == 0x02200000 && d->regions[0].size == 0x10000 &&
                              d->regions[1].base == 0x02210000 && d->regions[1].size == 0x10000,
                      "main gpio has two windows");
                check(d->n_regions == 2 && d->regions[0].name && strcmp(d->regions[0].name, "security") == 0 &&
                              d->regions[1].name && strcmp(d->regions[1].name, "gpio") == 0,
                      "main gpio reg-names security, gpio");
                check(consecutive, "main gpio has 48 IRQs, SPI 288..335");
                check(!d->needs_bpmp, "main gpio needs no BPMP");
                check(strcmp(d->guest_compatible[0], "nvidia,tegra234-gpio") == 0, "main gpio compatible");
                for (char **h = d->hazards; *h; h++)
                        lines |= strstr(*h, "164 lines") && strstr(*h, "force-recovery") != NULL;
                check(lines, "main gpio hazard: host loses all 164 lines incl. force-recovery");
                p = prop(d, "gpio-controller");
                check(p && p->type == TV_PROP_EMPTY, "main gpio is a gpio-controller (empty property)");
        }

        /* AON GPIO */
        d = tv_catalog_find(c, "gpio-aon");
        check(d != NULL, "aon gpio found");
        if (d) {
                check(strcmp(d->platform_id, "c2f0000.gpio") == 0, "aon gpio platform id c2f0000.gpio");
                check(d->n_regions == 2 && d->regions[0].base == 0x0c2f0000 && d->regions[0].size == 0x1000 &&
                              d->regions[1].base == 0x0c2f1000 && d->regions[1].size == 0x1000,
                      "aon gpio windows");
                check(d->n_irqs == 4 && d->host_irqs[0] == 56 && d->host_irqs[3] == 59, "aon gpio SPI 56..59");
                check(strcmp(d->guest_compatible[0], "nvidia,tegra234-gpio-aon") == 0, "aon gpio compatible");
                check(strv_len(d->hazards) >= 1, "aon gpio has hazards");
        }

        /* GPU */
        d = tv_catalog_find(c, "gpu");
        check(d != NULL, "gpu found");
        if (d) {
                check(strcmp(d->platform_id, "17000000.gpu") == 0, "gpu platform id 17000000.gpu");
                check(d->n_regions == 3 && d->regions[0].base == 0x17000000 && d->regions[0].size == 0x1000000 &&
                              d->regions[1].base == 0x18000000 && d->regions[1].size == 0x1000000 &&
                              d->regions[2].base == 0x03b41000 && d->regions[2].size == 0x1000,
                      "gpu windows");
                check(d->n_irqs == 4 && d->host_irqs[0] == 68 && d->host_irqs[1] == 70 && d->host_irqs[2] == 71 &&
                              d->host_irqs[3] == 67,
                      "gpu SPIs 68, 70, 71, 67");
                check(d->n_clocks == 3 && ref_is(&d->clocks[0], 304, "gpusys", "sysclk") &&
                              ref_is(&d->clocks[1], 41, "gpc0clk", "gpc0clk") &&
                              ref_is(&d->clocks[2], 236, "gpc1clk", "gpc1clk"),
                      "gpu clocks 304 sysclk, 41 gpc0clk, 236 gpc1clk");
                check(d->n_resets == 1 && d->resets[0].id == 19, "gpu reset 19");
                check(d->n_power_domains == 1 && d->power_domains[0].id == 35 &&
                              strcmp(d->power_domains[0].name, "gpu") == 0,
                      "gpu power domain 35");
                check(d->needs_bpmp && has_str(d->kernel_args, "pd_ignore_unused"), "gpu needs BPMP + its args");
                p = prop(d, "dma-coherent");
                check(p && p->type == TV_PROP_EMPTY, "gpu dma-coherent");
                p = prop(d, "interrupt-names");
                check(p && p->type == TV_PROP_STRING && strv_len(p->strings) == 4 &&
                              strcmp(p->strings[3], "nonstall") == 0,
                      "gpu interrupt-names has one name per interrupt");
                check(strv_len(d->hazards) >= 2, "gpu has hazards");
        }

        /* every device */
        for (size_t i = 0; i < c->n_devices; i++) {
                d = &c->devices[i];
                check(d->hazards && strv_len(d->hazards) >= 1 && d->kernel_args && d->guest_compatible &&
                              d->guest_compatible[0],
                      "%s: hazards, kernel args and compatible lists present", d->name);
                check(d->needs_bpmp == (d->n_clocks + d->n_resets + d->n_power_domains > 0),
                      "%s: needs_bpmp iff it has BPMP resources", d->name);
                check(d->needs_bpmp == has_str(d->kernel_args, "clk_ignore_unused"),
                      "%s: BPMP kernel args iff needs_bpmp", d->name);
        }

        {
                const TvLineGroup *g = tv_catalog_find_line_group(c, "header-pin7");

                check(g && strcmp(g->controller, "gpio-main") == 0 && g->n_lines == 1 && g->lines[0].offset == 106 &&
                              strcmp(g->lines[0].name, "header-7") == 0 && strcmp(g->lines[0].port, "PQ.06") == 0,
                      "header-pin7: header pin 7 is gpio-main line 106 (PQ.06)");
                g = tv_catalog_find_line_group(c, "header-aon");
                check(g && strcmp(g->controller, "gpio-aon") == 0 && g->n_lines == 6 && g->lines[0].offset == 9,
                      "header-aon: six lines of gpio-aon, header pin 16 first (PBB.01 = 9)");
                check(c->n_line_groups >= 3 && tv_catalog_find_line_group(c, "header-main"), "three header groups");
        }
        check(tv_catalog_find(c, "nonexistent") == NULL, "lookup of an unknown name fails");
        check(tv_catalog_find(c, "3100000") == NULL, "lookup needs the full platform id");
        check(tv_catalog_find(c, NULL) == NULL && tv_catalog_find(NULL, "uarta") == NULL, "lookup with NULL");
}

/* ------------------------------------------------------------------------- */
/* Broken and hostile documents                                              */

static const char base_doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                         /* 1 */
        "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n"           /* 2 */
        "  <bpmp>\n"                                                                           /* 3 */
        "    <clock id=\"155\" name=\"uarta\" parent=\"pllp_out0\"/>\n"                        /* 4 */
        "    <clock id=\"102\" name=\"pllp_out0\"/>\n"                                         /* 5 */
        "    <reset id=\"100\" name=\"uarta\"/>\n"                                             /* 6 */
        "    <kernel-arg>clk_ignore_unused</kernel-arg>\n"                                     /* 7 */
        "  </bpmp>\n"                                                                          /* 8 */
        "  <device name=\"uarta\" platform-id=\"3100000.serial\" kind=\"serial\">\n"           /* 9 */
        "    <description>UARTA</description>\n"                                               /* 10 */
        "    <reg base=\"0x03100000\" size=\"0x10000\"/>\n"                                    /* 11 */
        "    <interrupt spi=\"112\"/>\n"                                                       /* 12 */
        "    <guest><compatible>nvidia,tegra194-hsuart</compatible></guest>\n"                 /* 13 */
        "    <clock ref=\"uarta\" role=\"serial\"/>\n"                                         /* 14 */
        "    <clock ref=\"pllp_out0\" role=\"parent\"/>\n"                                     /* 15 */
        "    <reset ref=\"uarta\" role=\"serial\"/>\n"                                         /* 16 */
        "  </device>\n"                                                                        /* 17 */
        "  <device name=\"uarti\" platform-id=\"31d0000.serial\" kind=\"serial\">\n"           /* 18 */
        "    <reg base=\"0x031d0000\" size=\"0x10000\"/>\n"                                    /* 19 */
        "    <interrupt spi=\"285\"/>\n"                                                       /* 20 */
        "    <guest><compatible>arm,sbsa-uart</compatible></guest>\n"                          /* 21 */
        "  </device>\n"                                                                        /* 22 */
        "</catalog>\n";                                                                        /* 23 */

/* base_doc with the first occurrence of `from` replaced by `to` (malloc'd). */
static char *subst(const char *doc, const char *from, const char *to)
{
        const char *at = strstr(doc, from);
        size_t n;
        char *out;

        if (!at) {
                fprintf(stderr, "test bug: '%s' not in the document\n", from);
                exit(2);
        }
        n = strlen(doc) - strlen(from) + strlen(to);
        out = malloc(n + 1);
        if (!out)
                exit(2);
        memcpy(out, doc, (size_t)(at - doc));
        strcpy(out + (at - doc), to);
        strcat(out, at + strlen(from));
        return out;
}

/* Parses buf and expects a refusal whose message contains every needle. */
static void expect_fail_len(const char *what, const char *buf, size_t len, const char *const *needles)
{
        TvCatalog sentinel, *out = &sentinel;
        TvError err = { 0 };
        int r = tv_catalog_parse_buffer(buf, len, "/test/doc.xml", &out, &err);
        bool ok = r == -1 && out == &sentinel && err.name && strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0;

        for (const char *const *n = needles; ok && *n; n++)
                if (!strstr(err.message, *n))
                        ok = false;
        check(ok, "refused: %s -> \"%s\"", what, err.name ? err.message : "(accepted!)");
        if (r == 0 && out != &sentinel)
                tv_catalog_free(out);
}

#define EXPECT_FAIL_LEN(what, buf, len, ...) \
        expect_fail_len((what), (buf), (len), (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_FAIL(what, buf, ...) EXPECT_FAIL_LEN((what), (buf), strlen(buf), __VA_ARGS__)

/* Replaces `from` by `to` in base_doc and expects a refusal. */
#define EXPECT_SUBST_FAIL(what, from, to, ...)                   \
        do {                                                     \
                char *doc_ = subst(base_doc, (from), (to));      \
                EXPECT_FAIL((what), doc_, __VA_ARGS__);          \
                free(doc_);                                      \
        } while (0)

static TvCatalog *expect_ok(const char *what, const char *buf)
{
        TvCatalog *out = NULL;
        TvError err = { 0 };
        int r = tv_catalog_parse_buffer(buf, strlen(buf), "/test/doc.xml", &out, &err);

        check(r == 0 && out, "accepted: %s%s%s", what, err.name ? " -> " : "", err.name ? err.message : "");
        return r == 0 ? out : NULL;
}

static void test_documents(void)
{
        TvCatalog *c;
        char *doc;

        c = expect_ok("the minimal base document", base_doc);
        if (c) {
                const TvCatalogDevice *d = tv_catalog_find(c, "uarta");

                check(d && d->needs_unsafe_interrupts, "unsafe-interrupts defaults to required");
                check(d && strv_len(d->kernel_args) == 1, "kernel args are the <bpmp> ones");
                tv_catalog_free(c);
        }

        /* entities, DTDs */
        EXPECT_FAIL("billion laughs",
                    "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE lolz [\n"
                    " <!ENTITY lol \"lol\">\n"
                    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
                    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
                    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
                    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
                    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
                    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
                    "]>\n"
                    "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">&lol9;</catalog>\n",
                    "/test/doc.xml line 2", "DOCTYPE");
        EXPECT_FAIL("XXE via an external entity",
                    "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE catalog [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                    "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n"
                    "  <device name=\"x\" platform-id=\"1000.x\" kind=\"serial\"><description>&xxe;</description>\n"
                    "  <reg base=\"0x1000\" size=\"0x10\"/><guest><compatible>a</compatible></guest></device>\n"
                    "</catalog>\n",
                    "DOCTYPE");
        EXPECT_FAIL("external DTD",
                    "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE catalog SYSTEM \"http://example.invalid/catalog.dtd\">\n"
                    "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\"/>\n",
                    "DOCTYPE");
        EXPECT_SUBST_FAIL("an undeclared entity without DOCTYPE", "<description>UARTA</description>",
                          "<description>&xxe;</description>", "not well-formed", "line 10", "xxe");
        EXPECT_SUBST_FAIL("an XInclude element (never processed, refused by the schema/extraction)",
                          "<description>UARTA</description>",
                          "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"/etc/passwd\"/>",
                          "line 10", "unexpected element <include>");

        /* structure */
        EXPECT_FAIL_LEN("an empty document", "", 0, "empty");
        EXPECT_FAIL_LEN("a NULL buffer", NULL, 10, "no document");
        doc = strdup(base_doc);
        doc[strlen(doc) / 2] = 0;
        EXPECT_FAIL("truncated XML", doc, "/test/doc.xml line", "not well-formed XML");
        free(doc);
        EXPECT_SUBST_FAIL("the wrong namespace", "https://tegravirt.org/ns/catalog/1", "https://example.com/ns/1",
                          "root element must be <catalog xmlns=\"https://tegravirt.org/ns/catalog/1\">",
                          "https://example.com/ns/1");
        EXPECT_SUBST_FAIL("no namespace", " xmlns=\"https://tegravirt.org/ns/catalog/1\"", "", "without a namespace");
        EXPECT_SUBST_FAIL("an unknown element", "<interrupt spi=\"112\"/>", "<interrupt spi=\"112\"/><dma/>",
                          "line 12", "unexpected element <dma>");
        EXPECT_SUBST_FAIL("an unknown attribute", "kind=\"serial\">\n    <description>",
                          "kind=\"serial\" colour=\"red\">\n    <description>", "line 9",
                          "unexpected attribute 'colour'");
        EXPECT_SUBST_FAIL("elements out of schema order",
                          "    <interrupt spi=\"112\"/>\n    <guest><compatible>nvidia,tegra194-hsuart</compatible></guest>\n",
                          "    <guest><compatible>nvidia,tegra194-hsuart</compatible></guest>\n    <interrupt spi=\"112\"/>\n",
                          "/test/doc.xml line", "does not match the catalog schema");
        EXPECT_SUBST_FAIL("a device without <reg>", "    <reg base=\"0x03100000\" size=\"0x10000\"/>\n", "",
                          "line 9", "device 'uarta' has no <reg>");
        EXPECT_SUBST_FAIL("a missing soc", " soc=\"tegra234\"", "", "line 2", "no 'soc' attribute");

        /* encoding and size */
        EXPECT_SUBST_FAIL("non-UTF-8 bytes", "<description>UARTA</description>",
                          "<description>UART\xff\xfe</description>", "/test/doc.xml line 10", "not valid UTF-8");
        EXPECT_SUBST_FAIL("an overlong UTF-8 sequence", "<description>UARTA</description>",
                          "<description>\xc0\xafUARTA</description>", "line 10", "UTF-8");
        EXPECT_FAIL_LEN("a NUL byte", "<catalog\0/>", 11, "line 1", "NUL");
        EXPECT_SUBST_FAIL("a Latin-1 encoding declaration with Latin-1 bytes", "encoding=\"UTF-8\"",
                          "encoding=\"ISO-8859-1\"?><!-- \xe9 --><?x", "UTF-8");
        {
                size_t big = TV_CATALOG_MAX_BYTES + 1;
                char *huge = malloc(big);

                if (!huge)
                        exit(2);
                memset(huge, ' ', big);
                memcpy(huge, base_doc, strlen(base_doc));
                EXPECT_FAIL_LEN("oversized input", huge, big, "more than the limit of 1048576");
                free(huge);
        }
        {
                /* deep nesting stays within libxml2's limits and is refused, not crashed on */
                size_t depth = 5000, n = 0;
                char *deep = malloc(depth * 7 + 200);

                if (!deep)
                        exit(2);
                n += (size_t)sprintf(deep, "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"t\">");
                for (size_t i = 0; i < depth; i++)
                        n += (size_t)sprintf(deep + n, "<a>");
                EXPECT_FAIL_LEN("5000 nested elements", deep, n, "not well-formed");
                free(deep);
        }

        /* names */
        EXPECT_SUBST_FAIL("duplicate device names", "name=\"uarti\"", "name=\"uarta\"", "line 18",
                          "device name 'uarta' is already used by the device at line 9");
        EXPECT_SUBST_FAIL("a window copied without its platform id", "<reg base=\"0x031d0000\" size=\"0x10000\"/>",
                          "<reg base=\"0x03100000\" size=\"0x10000\"/>",
                          "platform-id '31d0000.serial' does not match the first <reg> base");
        {
                char *d1 = subst(base_doc, "platform-id=\"31d0000.serial\"", "platform-id=\"3100000.serial\"");
                char *d2 = subst(d1, "<reg base=\"0x031d0000\" size=\"0x10000\"/>",
                                 "<reg base=\"0x03100000\" size=\"0x10000\"/>");

                EXPECT_FAIL("duplicate platform ids", d2, "line 18",
                            "device 'uarti': platform-id '3100000.serial' is already used by device 'uarta' (line 9)");
                free(d1);
                free(d2);
        }
        EXPECT_SUBST_FAIL("an empty name", "name=\"uarti\"", "name=\"\"", "line 18", "device name '' is empty");
        {
                char name[4096 + 16] = "name=\"";

                memset(name + 6, 'a', 4096);
                strcpy(name + 6 + 4096, "\"");
                doc = subst(base_doc, "name=\"uarti\"", name);
                EXPECT_FAIL("a 4 KiB name", doc, "line 18", "is longer than 64 bytes", "aaa...");
                free(doc);
        }
        EXPECT_SUBST_FAIL("a name with '/'", "name=\"uarti\"", "name=\"../etc\"", "line 18",
                          "device name '../etc' may only contain [a-z0-9_-]");
        EXPECT_SUBST_FAIL("a name '..'", "name=\"uarti\"", "name=\"..\"", "device name '..' may only contain");
        EXPECT_SUBST_FAIL("a name with upper case", "name=\"uarti\"", "name=\"UARTI\"", "may only contain");
        EXPECT_SUBST_FAIL("a name starting with '-'", "name=\"uarti\"", "name=\"-uarti\"", "must not start with '-'");
        EXPECT_SUBST_FAIL("a name with a newline", "name=\"uarti\"", "name=\"a&#10;b\"", "device name 'a?b'");
        EXPECT_SUBST_FAIL("a platform id without a node name", "platform-id=\"31d0000.serial\"",
                          "platform-id=\"31d0000\"", "line 18", "is not '<unit address in lower-case hex>.<node name>'");
        EXPECT_SUBST_FAIL("a platform id with upper-case hex", "platform-id=\"31d0000.serial\"",
                          "platform-id=\"31D0000.serial\"", "is not '<unit address");
        EXPECT_SUBST_FAIL("a platform id with a slash", "platform-id=\"31d0000.serial\"",
                          "platform-id=\"31d0000.a/b\"", "is not '<unit address");
        EXPECT_SUBST_FAIL("a platform id not matching the first window", "platform-id=\"31d0000.serial\"",
                          "platform-id=\"31e0000.serial\"", "line 18",
                          "does not match the first <reg> base 0x031d0000 (expected '31d0000.serial')");

        /* BPMP */
        EXPECT_SUBST_FAIL("an undeclared clock", "<clock ref=\"pllp_out0\" role=\"parent\"/>",
                          "<clock ref=\"bar\" role=\"parent\"/>",
                          "catalog /test/doc.xml line 15: device 'uarta': clock 'bar' is not declared in <bpmp>");
        EXPECT_SUBST_FAIL("an undeclared reset", "<reset ref=\"uarta\" role=\"serial\"/>",
                          "<reset ref=\"pllp_out0\" role=\"serial\"/>", "line 16",
                          "reset 'pllp_out0' is not declared in <bpmp>");
        EXPECT_SUBST_FAIL("an undeclared power domain", "<reset ref=\"uarta\" role=\"serial\"/>",
                          "<reset ref=\"uarta\" role=\"serial\"/><power-domain ref=\"gpu\"/>", "line 16",
                          "power-domain 'gpu' is not declared");
        EXPECT_SUBST_FAIL("a missing parent clock on the device", "    <clock ref=\"pllp_out0\" role=\"parent\"/>\n",
                          "", "line 14", "clock 'uarta' has parent 'pllp_out0'", "add <clock ref=\"pllp_out0\"/>");
        EXPECT_SUBST_FAIL("an undeclared parent", "parent=\"pllp_out0\"", "parent=\"pllp\"", "line 4",
                          "clock 'uarta': parent 'pllp' is not declared");
        EXPECT_SUBST_FAIL("a parent loop", "<clock id=\"102\" name=\"pllp_out0\"/>",
                          "<clock id=\"102\" name=\"pllp_out0\" parent=\"uarta\"/>", "parent chain loops");
        EXPECT_SUBST_FAIL("a clock id written down twice", "<clock id=\"102\"", "<clock id=\"155\"", "line 5",
                          "clock id 155 is declared twice, as 'pllp_out0' and as 'uarta' (line 4)");
        EXPECT_SUBST_FAIL("a clock name declared twice", "name=\"pllp_out0\"/>", "name=\"uarta\"/>",
                          "line 5", "clock 'uarta' is declared twice (also line 4)");
        EXPECT_SUBST_FAIL("an id out of u32 range", "<reset id=\"100\"", "<reset id=\"4294967296\"", "line 6",
                          "is not a decimal number in 0..4294967295");
        EXPECT_SUBST_FAIL("a hex id", "<reset id=\"100\"", "<reset id=\"0x64\"", "line 6", "id '0x64'");
        EXPECT_SUBST_FAIL("a clock referenced twice", "<clock ref=\"pllp_out0\" role=\"parent\"/>",
                          "<clock ref=\"pllp_out0\" role=\"parent\"/><clock ref=\"uarta\" role=\"x\"/>", "line 15",
                          "clock 'uarta' is listed twice");
        EXPECT_SUBST_FAIL("roles on some clocks only", "<clock ref=\"pllp_out0\" role=\"parent\"/>",
                          "<clock ref=\"pllp_out0\"/>", "line 14", "either every clock reference has a role or none");
        EXPECT_SUBST_FAIL("a role used twice", "role=\"parent\"", "role=\"serial\"", "line 15",
                          "clock role 'serial' is used twice");
        EXPECT_SUBST_FAIL("a kernel arg with a space", "<kernel-arg>clk_ignore_unused</kernel-arg>",
                          "<kernel-arg>clk_ignore_unused init=/bin/sh</kernel-arg>", "line 7", "contains whitespace");
        EXPECT_SUBST_FAIL("a kernel arg with a quote", "<kernel-arg>clk_ignore_unused</kernel-arg>",
                          "<kernel-arg>a=\"b\"</kernel-arg>", "line 7", "contains a quote");
        EXPECT_SUBST_FAIL("a kernel arg with ESC (not even XML)", "<kernel-arg>clk_ignore_unused</kernel-arg>",
                          "<kernel-arg>a&#x1b;[2J</kernel-arg>", "line 7", "not well-formed");
        EXPECT_SUBST_FAIL("a kernel arg with DEL", "<kernel-arg>clk_ignore_unused</kernel-arg>",
                          "<kernel-arg>a&#x7f;</kernel-arg>", "line 7", "control character");
        EXPECT_SUBST_FAIL("a kernel arg with non-ASCII", "<kernel-arg>clk_ignore_unused</kernel-arg>",
                          "<kernel-arg>caf\xc3\xa9</kernel-arg>", "line 7", "non-ASCII");
        EXPECT_SUBST_FAIL("a hazard with a C1 control", "<description>UARTA</description>",
                          "<description>UARTA</description><hazard>a&#x9b;b</hazard>", "control character");
        EXPECT_SUBST_FAIL("an empty kernel arg", "<kernel-arg>clk_ignore_unused</kernel-arg>",
                          "<kernel-arg></kernel-arg>", "line 7", "is empty");

        /* windows and interrupts */
        EXPECT_SUBST_FAIL("malformed hex", "base=\"0x03100000\"", "base=\"0x0310000g\"", "line 11",
                          "device 'uarta': reg base '0x0310000g' is not a hex number");
        EXPECT_SUBST_FAIL("decimal instead of hex", "size=\"0x10000\"", "size=\"65536\"", "line 11",
                          "reg size '65536' is not a hex number");
        EXPECT_SUBST_FAIL("a 17-digit hex number", "base=\"0x03100000\"", "base=\"0x10000000000000000\"",
                          "line 11", "is not a hex number");
        EXPECT_SUBST_FAIL("an overflowing window", "<reg base=\"0x031d0000\" size=\"0x10000\"/>",
                          "<reg base=\"0xffffffffffff0000\" size=\"0x20000\"/>", "line 19",
                          "reg window 0xffffffffffff0000 + 0x20000 overflows 64 bits");
        EXPECT_SUBST_FAIL("a zero-sized window", "size=\"0x10000\"", "size=\"0x0\"", "line 11", "has size 0");
        EXPECT_SUBST_FAIL("overlapping windows of two devices", "<reg base=\"0x031d0000\" size=\"0x10000\"/>",
                          "<reg base=\"0x031d0000\" size=\"0x10000\"/><reg base=\"0x0310f000\" size=\"0x2000\"/>",
                          "line 19", "device 'uarti': reg window 0x310f000 overlaps window 0x3100000 of device 'uarta'");
        EXPECT_SUBST_FAIL("reg names on some windows only", "<reg base=\"0x031d0000\" size=\"0x10000\"/>",
                          "<reg base=\"0x031d0000\" size=\"0x10000\" name=\"a\"/><reg base=\"0x03200000\" size=\"0x10\"/>",
                          "either every <reg> has a name or none");
        EXPECT_SUBST_FAIL("an SPI out of range", "spi=\"285\"", "spi=\"988\"", "line 20", "is not a GIC SPI number");
        EXPECT_SUBST_FAIL("an interrupt listed twice", "<interrupt spi=\"285\"/>",
                          "<interrupt spi=\"285\"/><interrupt spi=\"285\"/>", "line 20", "spi 285 is listed twice");

        /* guest properties */
        EXPECT_SUBST_FAIL("a reserved property", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible>arm,sbsa-uart</compatible><property name=\"clocks\" type=\"u32\">1</property>",
                          "line 21", "property 'clocks' is written by tegravirt itself");
        EXPECT_SUBST_FAIL("a bad u32 cell", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible>arm,sbsa-uart</compatible><property name=\"x\" type=\"u32\">1 -2</property>",
                          "line 21", "'-2' is not a u32");
        EXPECT_SUBST_FAIL("a u32 cell out of range", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible>arm,sbsa-uart</compatible><property name=\"x\" type=\"u32\">0x100000000</property>",
                          "is not a u32");
        EXPECT_SUBST_FAIL("an empty property with a value", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible>arm,sbsa-uart</compatible><property name=\"x\" type=\"empty\">1</property>",
                          "has type 'empty' but a value");
        EXPECT_SUBST_FAIL("interrupt-names not matching the interrupts", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible>arm,sbsa-uart</compatible><property name=\"interrupt-names\" type=\"string\">"
                          "<value>a</value><value>b</value></property>",
                          "line 18", "interrupt-names must list 1 names");
        EXPECT_SUBST_FAIL("a property set twice", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible>arm,sbsa-uart</compatible><property name=\"x\" type=\"empty\"/>"
                          "<property name=\"x\" type=\"empty\"/>",
                          "property 'x' is set twice");
        EXPECT_SUBST_FAIL("a compatible with a space", "<compatible>arm,sbsa-uart</compatible>",
                          "<compatible> arm,sbsa-uart</compatible>", "line 21", "is not a valid compatible");
        EXPECT_SUBST_FAIL("a guest without compatible", "<guest><compatible>arm,sbsa-uart</compatible></guest>",
                          "<guest/>", "line 21", "<guest> has no <compatible>");
        EXPECT_SUBST_FAIL("a whitespace-only description", "<description>UARTA</description>",
                          "<description> \n </description>", "line 10", "device 'uarta': <description> is empty");

        /* <host>: the overlay's per-device changes */
#define HOST_GUEST "<guest><compatible>arm,sbsa-uart</compatible></guest>"
        doc = subst(base_doc, HOST_GUEST,
                    HOST_GUEST "<host node=\"/bus@0/serial@31d0000\" driver=\"off\">"
                               "<iommu smmu=\"smmu_niso0\" stream-id=\"0x7e\"/></host>");
        c = expect_ok("a <host> with node, driver off and iommu", doc);
        if (c) {
                const TvCatalogDevice *d = tv_catalog_find(c, "uarti");

                check(d && d->host_node && strcmp(d->host_node, "/bus@0/serial@31d0000") == 0 && d->host_driver_off &&
                              d->host_smmu && strcmp(d->host_smmu, "smmu_niso0") == 0 && d->host_stream_id == 0x7e,
                      "<host> parsed: node, driver off, smmu_niso0 stream 0x7e");
                d = tv_catalog_find(c, "uarta");
                check(d && !d->host_node && !d->host_smmu && !d->host_driver_off, "no <host>: no host changes");
                tv_catalog_free(c);
        }
        free(doc);
        doc = subst(base_doc, HOST_GUEST, HOST_GUEST "<host node=\"/serial@31d0000\"/>");
        c = expect_ok("a <host> with only a node (driver kept, iommus untouched)", doc);
        if (c) {
                const TvCatalogDevice *d = tv_catalog_find(c, "uarti");

                check(d && d->host_node && !d->host_driver_off && !d->host_smmu, "<host> without driver/iommu");
                tv_catalog_free(c);
        }
        free(doc);
        EXPECT_SUBST_FAIL("a host node that is not the platform device's", HOST_GUEST,
                          HOST_GUEST "<host node=\"/bus@0/serial@3100000\"/>", "line 21",
                          "device 'uarti': host node '/bus@0/serial@3100000' does not end in the node");
        EXPECT_SUBST_FAIL("a host node with another name", HOST_GUEST,
                          HOST_GUEST "<host node=\"/bus@0/uart@31d0000\"/>", "does not end in the node");
        EXPECT_SUBST_FAIL("a relative host node", HOST_GUEST, HOST_GUEST "<host node=\"serial@31d0000\"/>",
                          "line 21");
        EXPECT_SUBST_FAIL("a stream id over 16 bits", HOST_GUEST,
                          HOST_GUEST "<host node=\"/serial@31d0000\"><iommu smmu=\"s\" stream-id=\"0x10000\"/></host>",
                          "stream-id '0x10000' is not a number in 0..0xffff");
        EXPECT_SUBST_FAIL("an smmu that is not a label", HOST_GUEST,
                          HOST_GUEST "<host node=\"/serial@31d0000\"><iommu smmu=\"&amp;x\" stream-id=\"1\"/></host>",
                          "line 21");
        EXPECT_SUBST_FAIL("driver neither off nor keep", HOST_GUEST,
                          HOST_GUEST "<host node=\"/serial@31d0000\" driver=\"on\"/>", "line 21");
        EXPECT_SUBST_FAIL("two <host> elements", HOST_GUEST,
                          HOST_GUEST "<host node=\"/serial@31d0000\"/><host node=\"/serial@31d0000\"/>", "line 21");
#undef HOST_GUEST

        /* too many devices */
        {
                size_t cap = 300 * 260 + 1000, n;
                char *many = malloc(cap);

                if (!many)
                        exit(2);
                n = (size_t)sprintf(many, "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n");
                for (int i = 0; i < TV_CATALOG_MAX_DEVICES + 1; i++)
                        n += (size_t)sprintf(many + n,
                                             "<device name=\"d%d\" platform-id=\"%x.x\" kind=\"k\"><reg base=\"0x%x\" "
                                             "size=\"0x10\"/><guest><compatible>c</compatible></guest></device>\n",
                                             i, 0x1000 + i * 0x100, 0x1000 + i * 0x100);
                strcpy(many + n, "</catalog>\n");
                EXPECT_FAIL("more than TV_CATALOG_MAX_DEVICES devices", many, "more than 256 devices");
                free(many);
        }
}

/* ------------------------------------------------------------------------- */
/* GPIO line groups                                                          */

static const char gpio_doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n"
        "  <device name=\"gpio-main\" platform-id=\"2200000.gpio\" kind=\"gpio\">\n"
        "    <reg base=\"0x02200000\" size=\"0x10000\"/>\n"
        "    <guest><compatible>nvidia,tegra234-gpio</compatible></guest>\n"
        "  </device>\n"
        "  <device name=\"gpio-aon\" platform-id=\"c2f0000.gpio\" kind=\"gpio\">\n"
        "    <reg base=\"0x0c2f0000\" size=\"0x1000\"/>\n"
        "    <guest><compatible>nvidia,tegra234-gpio-aon</compatible></guest>\n"
        "  </device>\n"
        "  <device name=\"uarta\" platform-id=\"3100000.serial\" kind=\"serial\">\n"
        "    <reg base=\"0x03100000\" size=\"0x10000\"/>\n"
        "    <guest><compatible>nvidia,tegra194-hsuart</compatible></guest>\n"
        "  </device>\n"
        "  <line-group name=\"pins\" controller=\"gpio-main\">\n"
        "    <description>Two pins</description>\n"
        "    <line offset=\"106\" host-name=\"PQ.06\" name=\"header-7\"/>\n"
        "    <line offset=\"114\" host-name=\"PX.00\" name=\"after-the-hole\"/>\n"
        "  </line-group>\n"
        "  <line-group name=\"aon\" controller=\"gpio-aon\">\n"
        "    <line offset=\"31\" host-name=\"PGG.00\" name=\"last\"/>\n"
        "  </line-group>\n"
        "</catalog>\n";

#define EXPECT_GPIO_FAIL(what, from, to, ...)                    \
        do {                                                     \
                char *doc_ = subst(gpio_doc, (from), (to));      \
                EXPECT_FAIL((what), doc_, __VA_ARGS__);          \
                free(doc_);                                      \
        } while (0)

static void test_line_groups(void)
{
        TvCatalog *c = expect_ok("a document with line groups", gpio_doc);
        const TvLineGroup *g;

        if (c) {
                g = tv_catalog_find_line_group(c, "pins");
                check(g && strcmp(g->controller, "gpio-main") == 0 && g->n_lines == 2 &&
                              g->lines[0].offset == 106 && strcmp(g->lines[0].name, "header-7") == 0 &&
                              strcmp(g->lines[0].port, "PQ.06") == 0 && g->lines[1].offset == 114 &&
                              g->description && strcmp(g->description, "Two pins") == 0,
                      "line group 'pins': controller, lines in order with offsets, names and host names");
                check(g && tv_line_group_controller(c, g) == tv_catalog_find(c, "gpio-main"),
                      "its controller is the catalog device");
                g = tv_catalog_find_line_group(c, "aon");
                check(g && g->n_lines == 1 && g->lines[0].offset == 31 && !g->description,
                      "AON: the last of 32 lines is PGG.00");
                check(!tv_catalog_find_line_group(c, "gpio-main") && !tv_catalog_find(c, "pins"),
                      "groups and devices are looked up apart");
                tv_catalog_free(c);
        }
        /* the port table: offsets count each port's own pins, S..V are holes */
        EXPECT_GPIO_FAIL("the DT specifier (port * 8 + pin) instead of the offset",
                         "offset=\"106\" host-name=\"PQ.06\"", "offset=\"126\" host-name=\"PQ.06\"",
                         "line 17:", "offset 126 of nvidia,tegra234-gpio is PY.04, not PQ.06");
        EXPECT_GPIO_FAIL("X counted after holes S..V would be 146", "offset=\"114\"", "offset=\"146\"",
                         "offset 146 of nvidia,tegra234-gpio is PAD.00, not PX.00");
        EXPECT_GPIO_FAIL("beyond the 164 main lines", "offset=\"114\" host-name=\"PX.00\"", "offset=\"164\"",
                         "offset 164 is beyond the 164 lines of gpio-main");
        EXPECT_GPIO_FAIL("beyond the 32 AON lines", "offset=\"31\" host-name=\"PGG.00\"", "offset=\"32\"",
                         "offset 32 is beyond the 32 lines of gpio-aon");
        EXPECT_GPIO_FAIL("a host name of the other controller", "host-name=\"PGG.00\"", "host-name=\"PQ.06\"",
                         "offset 31 of nvidia,tegra234-gpio-aon is PGG.00, not PQ.06");
        EXPECT_GPIO_FAIL("a pin beyond a port's 8", "host-name=\"PX.00\"", "host-name=\"PX.08\"",
                         "host-name 'PX.08' is not a Tegra GPIO line name");
        EXPECT_GPIO_FAIL("an unknown controller", "controller=\"gpio-main\"", "controller=\"gpio-x\"",
                         "line group 'pins': controller 'gpio-x' is not a catalog device");
        EXPECT_GPIO_FAIL("a controller that is no GPIO", "controller=\"gpio-main\"", "controller=\"uarta\"",
                         "controller 'uarta' is of kind 'serial', not 'gpio'");
        EXPECT_GPIO_FAIL("a group named like a device", "name=\"pins\"", "name=\"uarta\"",
                         "line group 'uarta': the name is already the device");
        EXPECT_GPIO_FAIL("two groups of one name", "name=\"aon\"", "name=\"pins\"",
                         "line group name 'pins' is already used");
        EXPECT_GPIO_FAIL("one offset twice", "offset=\"114\" host-name=\"PX.00\"", "offset=\"106\"",
                         "line group 'pins': offset 106 is already its line 'header-7'");
        EXPECT_GPIO_FAIL("one line name twice", "name=\"after-the-hole\"", "name=\"header-7\"",
                         "line name 'header-7' is used twice");
        EXPECT_GPIO_FAIL("a line name with a space", "name=\"last\"", "name=\"la st\"", "line name 'la st' is not valid");
        EXPECT_GPIO_FAIL("a group without lines", "    <line offset=\"31\" host-name=\"PGG.00\" name=\"last\"/>\n", "",
                         "line group 'aon' has no <line>");
        EXPECT_GPIO_FAIL("an unknown attribute on <line>", "name=\"last\"", "name=\"last\" pull=\"up\"", "pull");
}

/* ------------------------------------------------------------------------- */
/* Merging with an override directory                                        */

static void write_file(const char *dir, const char *name, const char *content)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
                perror(path);
                exit(2);
        }
}

static void remove_file(const char *dir, const char *name)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        unlink(path);
}

#define OV_HEAD "<?xml version=\"1.0\"?>\n<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra234\">\n"

static const char ov_uarta[] = OV_HEAD
        "  <device name=\"uarta\" platform-id=\"3100000.serial\" kind=\"serial\" unsafe-interrupts=\"required\">\n"
        "    <description>UARTA with the mainline driver</description>\n"
        "    <reg base=\"0x03100000\" size=\"0x10000\"/>\n"
        "    <interrupt spi=\"112\"/>\n"
        "    <guest><compatible>nvidia,tegra234-uart</compatible><compatible>nvidia,tegra20-uart</compatible></guest>\n"
        "    <clock ref=\"uarta\"/>\n"
        "    <clock ref=\"pllp_out0\"/>\n"
        "    <reset ref=\"uarta\"/>\n"
        "    <kernel-arg>console=ttyAMA0</kernel-arg>\n"
        "  </device>\n"
        "</catalog>\n";

static const char ov_uartb[] = OV_HEAD
        "  <bpmp>\n"
        "    <clock id=\"156\" name=\"uartb\" parent=\"pllp_out0\"/>\n"
        "    <reset id=\"101\" name=\"uartb\"/>\n"
        "  </bpmp>\n"
        "  <device name=\"uartb\" platform-id=\"3110000.serial\" kind=\"serial\">\n"
        "    <reg base=\"0x03110000\" size=\"0x10000\"/>\n"
        "    <interrupt spi=\"113\"/>\n"
        "    <guest><compatible>nvidia,tegra194-hsuart</compatible></guest>\n"
        "    <clock ref=\"uartb\" role=\"serial\"/>\n"
        "    <clock ref=\"pllp_out0\" role=\"parent\"/>\n"
        "    <reset ref=\"uartb\" role=\"serial\"/>\n"
        "    <hazard>Test device.</hazard>\n"
        "  </device>\n"
        "</catalog>\n";

static const char ov_conflict[] = OV_HEAD
        "  <device name=\"other\" platform-id=\"3100000.serial\" kind=\"serial\">\n"
        "    <reg base=\"0x03100000\" size=\"0x10000\"/>\n"
        "    <guest><compatible>x</compatible></guest>\n"
        "  </device>\n"
        "</catalog>\n";

static const char ov_redefine[] = OV_HEAD
        "  <bpmp>\n"
        "    <clock id=\"999\" name=\"uarta\"/>\n"
        "  </bpmp>\n"
        "</catalog>\n";

static const char ov_reuse_id[] = OV_HEAD
        "  <bpmp>\n"
        "    <reset id=\"100\" name=\"my_uart\"/>\n"
        "  </bpmp>\n"
        "</catalog>\n";

static const char ov_same_decl[] = OV_HEAD
        "  <bpmp>\n"
        "    <clock id=\"102\" name=\"pllp_out0\"/>\n"
        "    <kernel-arg>clk_ignore_unused</kernel-arg>\n"
        "  </bpmp>\n"
        "</catalog>\n";

static TvCatalog *load(const char *shipped, const char *dir, TvError *err)
{
        TvCatalog sentinel, *out = &sentinel;

        tv_error_clear(err);
        if (tv_catalog_load(shipped, dir, &out, err) < 0) {
                if (out != &sentinel)
                        check(false, "a failed load left *out untouched");
                return NULL;
        }
        return out;
}

static void test_merge(const char *shipped)
{
        char dir[] = "/tmp/tv-catalog-test-XXXXXX";
        char missing[600];
        TvError err = { 0 };
        TvCatalog *c;
        const TvCatalogDevice *d;

        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                exit(2);
        }

        c = load(shipped, NULL, &err);
        check(c && c->n_devices == 6, "load without override dir");
        tv_catalog_free(c);
        snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
        c = load(shipped, missing, &err);
        check(c && c->n_devices == 6, "load with a missing override dir");
        tv_catalog_free(c);
        c = load(shipped, dir, &err);
        check(c && c->n_devices == 6, "load with an empty override dir");
        tv_catalog_free(c);

        write_file(dir, "10-uarta.xml", ov_uarta);
        write_file(dir, "20-uartb.xml", ov_uartb);
        write_file(dir, "README", "not xml at all <");
        write_file(dir, "30-broken.xml~", "<broken");
        write_file(dir, ".40-hidden.xml", "<broken");
        write_file(dir, "50-same.xml", ov_same_decl);
        c = load(shipped, dir, &err);
        check(c != NULL, "load with overrides%s%s", err.name ? ": " : "", err.name ? err.message : "");
        if (c) {
                char origin[600];

                snprintf(origin, sizeof(origin), "%s/10-uarta.xml", dir);
                check(c->n_devices == 7, "override adds one device (got %zu)", c->n_devices);
                d = tv_catalog_find(c, "uarta");
                check(d && d->description && strcmp(d->description, "UARTA with the mainline driver") == 0,
                      "override replaces uarta");
                check(d && d->origin && strcmp(d->origin, origin) == 0, "replaced uarta has the override's origin");
                check(d && strcmp(d->guest_compatible[0], "nvidia,tegra234-uart") == 0 &&
                              strv_len(d->guest_compatible) == 2,
                      "replaced uarta has the new compatible list");
                check(d && d->n_clocks == 2 && d->clocks[0].id == 155 && d->clocks[0].role == NULL,
                      "replaced uarta resolves against the shipped <bpmp>");
                check(d && strv_len(d->kernel_args) == 3 && strcmp(d->kernel_args[0], "clk_ignore_unused") == 0 &&
                              strcmp(d->kernel_args[2], "console=ttyAMA0") == 0,
                      "replaced uarta: BPMP args first, then its own");
                check(c->devices == d || c->devices[0].name[0] == 'u', "replacement keeps the device order");
                d = tv_catalog_find(c, "3110000.serial");
                check(d && strcmp(d->name, "uartb") == 0, "override adds uartb");
                check(d && d->n_clocks == 2 && ref_is(&d->clocks[0], 156, "uartb", "serial") &&
                              ref_is(&d->clocks[1], 102, "pllp_out0", "parent"),
                      "uartb clocks resolve across files (156 + shipped 102)");
                check(d && d->n_resets == 1 && d->resets[0].id == 101, "uartb reset 101");
                check(d && d->needs_bpmp && has_str(d->kernel_args, "pd_ignore_unused"), "uartb gets the BPMP args");
                d = tv_catalog_find(c, "gpu");
                check(d && d->n_clocks == 3, "untouched shipped devices are kept");
                tv_catalog_free(c);
        }

        write_file(dir, "30-conflict.xml", ov_conflict);
        c = load(shipped, dir, &err);
        check(!c && err.name && strstr(err.message, "30-conflict.xml line 3") &&
                      strstr(err.message, "platform-id '3100000.serial' is already used by device 'uarta'") &&
                      strstr(err.message, "10-uarta.xml line 3"),
              "a platform id conflict across files is refused -> \"%s\"", err.message);
        tv_catalog_free(c);
        remove_file(dir, "30-conflict.xml");

        write_file(dir, "30-redefine.xml", ov_redefine);
        c = load(shipped, dir, &err);
        check(!c && err.name && strstr(err.message, "30-redefine.xml line 4") &&
                      strstr(err.message, "clock 'uarta' is already declared with id 155 and parent 'pllp_out0'"),
              "redefining a BPMP resource is refused -> \"%s\"", err.message);
        tv_catalog_free(c);
        remove_file(dir, "30-redefine.xml");

        write_file(dir, "30-reuse.xml", ov_reuse_id);
        c = load(shipped, dir, &err);
        check(!c && err.name && strstr(err.message, "30-reuse.xml line 4") &&
                      strstr(err.message, "reset id 100 is already declared as 'uarta'"),
              "a BPMP id under a second name is refused -> \"%s\"", err.message);
        tv_catalog_free(c);
        remove_file(dir, "30-reuse.xml");

        write_file(dir, "60-broken.xml", "<?xml version=\"1.0\"?>\n<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\"\n");
        c = load(shipped, dir, &err);
        {
                char want[600];

                snprintf(want, sizeof(want), "catalog %s/60-broken.xml line", dir);
                check(!c && err.name && strcmp(err.name, TV_ERR_INVALID_ARGUMENT) == 0 && strstr(err.message, want),
                      "a broken override fails the whole load naming the file -> \"%s\"", err.message);
        }
        tv_catalog_free(c);
        remove_file(dir, "60-broken.xml");

        write_file(dir, "60-soc.xml", "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"tegra194\"/>\n");
        c = load(shipped, dir, &err);
        check(!c && err.name && strstr(err.message, "60-soc.xml") && strstr(err.message, "soc 'tegra194' does not match"),
              "an override for another SoC is refused -> \"%s\"", err.message);
        tv_catalog_free(c);
        remove_file(dir, "60-soc.xml");

        {
                char path[600];

                snprintf(path, sizeof(path), "%s/70-fifo.xml", dir);
                if (mkfifo(path, 0600) == 0) {
                        c = load(shipped, dir, &err);
                        check(!c && err.name && strstr(err.message, "70-fifo.xml: not a regular file"),
                              "a FIFO in the override dir is refused without blocking -> \"%s\"", err.message);
                        tv_catalog_free(c);
                        unlink(path);
                }
        }

        c = load("/nonexistent/tegra234.xml", dir, &err);
        check(!c && err.name && strstr(err.message, "catalog /nonexistent/tegra234.xml: cannot read"),
              "a missing shipped catalog is reported -> \"%s\"", err.message);
        tv_catalog_free(c);

        c = load(shipped, dir, &err);
        check(c && c->n_devices == 7, "after removing the bad files the load works again");
        tv_catalog_free(c);

        remove_file(dir, "10-uarta.xml");
        remove_file(dir, "20-uartb.xml");
        remove_file(dir, "README");
        remove_file(dir, "30-broken.xml~");
        remove_file(dir, ".40-hidden.xml");
        remove_file(dir, "50-same.xml");

        /* line groups: same name replaces, a new one is added, its controller may be shipped */
        write_file(dir, "60-lines.xml", OV_HEAD
                   "  <line-group name=\"header-pin7\" controller=\"gpio-main\">\n"
                   "    <line offset=\"96\" host-name=\"PP.04\" name=\"pin-22\"/>\n"
                   "  </line-group>\n"
                   "  <line-group name=\"my-aon\" controller=\"gpio-aon\">\n"
                   "    <line offset=\"8\" host-name=\"PBB.00\" name=\"pin-32\"/>\n"
                   "  </line-group>\n"
                   "</catalog>\n");
        c = load(shipped, dir, &err);
        {
                const TvLineGroup *g = c ? tv_catalog_find_line_group(c, "header-pin7") : NULL;
                const TvLineGroup *m = c ? tv_catalog_find_line_group(c, "my-aon") : NULL;

                check(g && g->n_lines == 1 && g->lines[0].offset == 96 && strstr(g->origin, "60-lines.xml"),
                      "an override line group replaces the shipped one of its name%s%s", err.name ? ": " : "",
                      err.name ? err.message : "");
                check(m && strcmp(m->controller, "gpio-aon") == 0, "an override adds a line group on a shipped controller");
        }
        tv_catalog_free(c);
        write_file(dir, "60-lines.xml", OV_HEAD
                   "  <line-group name=\"gpu\" controller=\"gpio-aon\">\n"
                   "    <line offset=\"8\" name=\"x\"/>\n"
                   "  </line-group>\n"
                   "</catalog>\n");
        c = load(shipped, dir, &err);
        check(!c && err.name && strstr(err.message, "60-lines.xml line 3") &&
                      strstr(err.message, "line group 'gpu': the name is already the device"),
              "an override line group named like a shipped device is refused -> \"%s\"", err.message);
        tv_catalog_free(c);
        remove_file(dir, "60-lines.xml");
        rmdir(dir);
}

int main(int argc, char **argv)
{
        TvCatalog *c = NULL;
        TvError err = { 0 };

        if (argc != 2) {
                fprintf(stderr, "usage: %s catalog/tegra234.xml\n", argv[0]);
                return 2;
        }
        check(tv_catalog_load(argv[1], NULL, &c, &err) == 0 && c, "load %s%s%s", argv[1], err.name ? ": " : "",
              err.name ? err.message : "");
        if (c) {
                test_shipped(c);
                tv_catalog_free(c);
        }
        test_documents();
        test_line_groups();
        test_merge(argv[1]);
        return tap_finish();
}
