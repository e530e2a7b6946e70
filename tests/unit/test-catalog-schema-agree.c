// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalog's two copies of its value rules agree: xml-schemas/catalog.rng
 * (argv[1]) and the C checks of catalog/ (catalog-values.c and the extraction).
 *
 * The test reads the schema, lists every attribute and text slot it types (the
 * element path, the <data> patterns and facets or the <value> choices behind
 * it) and fails when a slot has no row in slots[] below, or a row no slot. For
 * each slot it puts values into one document that is valid everywhere else:
 * the seeds, every seed with each byte (printable ASCII, tab, some non-ASCII)
 * put in and put over each position, and runs of one character up to the
 * lengths the schema names (each number in the slot's pattern quantifiers and
 * length facets, -2..+2). The schema's verdict comes from libxml2's RelaxNG
 * validation (what `xmllint --relaxng` runs) of the value against the slot's
 * own patterns, cut out of the schema file into a small grammar (fast), and
 * for a share of the values also of the whole document against the whole
 * schema (the two must agree). The C parser reads the whole document with its
 * schema pass switched off. The C
 * side must accept exactly what the schema accepts, except where the row's
 * `stricter` names a rule the schema cannot express (numeric ranges, the
 * device-tree path ending in the device's own node, whitespace-only prose).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>

#include "catalog-internal.h"
#include "tv-tap.h"
#include "xml-errors.h"

#define RNG_NS "http://relaxng.org/ns/structure/1.0"
#define MAX_SLOTS 64
#define MAX_NUMS 16

/* ------------------------------------------------------------------------- */
/* The schema's slots                                                        */

typedef struct SchemaSlot {
        char path[160];         /* "/catalog/device@name", "/catalog/device/hazard" */
        xmlNodePtr data[4];     /* <data> elements that type it */
        size_t n_data;
        xmlNodePtr pat[4];      /* its patterns: <attribute>s, or <data>/<value>/<list> for text */
        size_t n_pat;
        xmlRelaxNGPtr alone;    /* a grammar of <v> typed by pat[] alone */
        size_t n_values;        /* <value> choices */
        bool list;              /* a whitespace-separated <list> */
        bool seen;              /* matched by a row of slots[] */
} SchemaSlot;

static SchemaSlot schema_slots[MAX_SLOTS];
static size_t n_schema_slots;
static xmlNodePtr defines[64];
static size_t n_defines;

static bool rng_is(xmlNodePtr n, const char *name)
{
        return n && n->type == XML_ELEMENT_NODE && n->ns && strcmp((const char *)n->ns->href, RNG_NS) == 0 &&
               strcmp((const char *)n->name, name) == 0;
}

static char *rng_attr(xmlNodePtr n, const char *name)
{
        return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

static xmlNodePtr define_find(const char *name)
{
        for (size_t i = 0; i < n_defines; i++) {
                char *dn = rng_attr(defines[i], "name");
                bool hit = dn && strcmp(dn, name) == 0;

                xmlFree(dn);
                if (hit)
                        return defines[i];
        }
        return NULL;
}

static SchemaSlot *slot_get(const char *path)
{
        for (size_t i = 0; i < n_schema_slots; i++)
                if (strcmp(schema_slots[i].path, path) == 0)
                        return &schema_slots[i];
        if (n_schema_slots >= MAX_SLOTS) {
                fprintf(stderr, "too many schema slots\n");
                exit(1);
        }
        snprintf(schema_slots[n_schema_slots].path, sizeof(schema_slots[0].path), "%s", path);
        return &schema_slots[n_schema_slots++];
}

static void pat_add(SchemaSlot *s, xmlNodePtr n)
{
        for (size_t i = 0; i < s->n_pat; i++)
                if (s->pat[i] == n)
                        return;
        if (s->n_pat >= 4) {
                fprintf(stderr, "%s: more than 4 patterns\n", s->path);
                exit(1);
        }
        s->pat[s->n_pat++] = n;
}

/* Walks a pattern; values met outside an <attribute> type the text of `path`. */
static void walk(xmlNodePtr n, const char *path, const char *attr_path, bool in_list, int depth)
{
        char sub[160];

        if (depth > 40) {
                fprintf(stderr, "schema nests too deep (a recursive define?)\n");
                exit(1);
        }
        for (xmlNodePtr k = n->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (rng_is(k, "element")) {
                        char *name = rng_attr(k, "name");

                        snprintf(sub, sizeof(sub), "%s/%s", path, name ? name : "?");
                        xmlFree(name);
                        walk(k, sub, NULL, false, depth + 1);
                } else if (rng_is(k, "attribute")) {
                        char *name = rng_attr(k, "name");

                        snprintf(sub, sizeof(sub), "%s@%s", path, name ? name : "?");
                        xmlFree(name);
                        pat_add(slot_get(sub), k);
                        walk(k, path, sub, false, depth + 1);
                } else if (rng_is(k, "ref")) {
                        char *name = rng_attr(k, "name");
                        xmlNodePtr d = name ? define_find(name) : NULL;

                        if (!d) {
                                fprintf(stderr, "schema: <ref name=\"%s\"> has no define\n", name ? name : "?");
                                exit(1);
                        }
                        xmlFree(name);
                        walk(d, path, attr_path, in_list, depth + 1);
                } else if (rng_is(k, "data") || rng_is(k, "value")) {
                        SchemaSlot *s = slot_get(attr_path ? attr_path : path);

                        if (!attr_path && !in_list)
                                pat_add(s, k);
                        if (rng_is(k, "value")) {
                                s->n_values++;
                        } else if (s->n_data < 4) {
                                s->data[s->n_data++] = k;
                        }
                        s->list |= in_list;
                } else if (rng_is(k, "list")) {
                        if (!attr_path)
                                pat_add(slot_get(path), k);
                        walk(k, path, attr_path, true, depth + 1);
                } else if (rng_is(k, "param")) {
                        continue;
                } else {
                        /* choice, group, optional, zeroOrMore, oneOrMore, interleave */
                        walk(k, path, attr_path, in_list, depth + 1);
                }
        }
}

static void dump_node(xmlBufferPtr b, xmlNodePtr n)
{
        xmlNodeDump(b, n->doc, n, 0, 0);
}

/* A grammar whose one element <v> holds what the slot may hold: the same
 * patterns, so validating <v>VALUE</v> is the schema's verdict on the slot
 * (main() checks that against whole documents too). */
static xmlRelaxNGPtr slot_grammar(const SchemaSlot *s)
{
        xmlBufferPtr b = xmlBufferCreate();
        xmlRelaxNGParserCtxtPtr pc;
        xmlRelaxNGPtr g;

        xmlBufferCat(b, (const xmlChar *)"<grammar xmlns=\"" RNG_NS "\" datatypeLibrary=\""
                                          "http://www.w3.org/2001/XMLSchema-datatypes\">"
                                          "<start><element name=\"v\"><choice>");
        for (size_t i = 0; i < s->n_pat; i++) {
                if (rng_is(s->pat[i], "attribute")) {
                        for (xmlNodePtr k = s->pat[i]->children; k; k = k->next)
                                if (k->type == XML_ELEMENT_NODE)
                                        dump_node(b, k);
                } else {
                        dump_node(b, s->pat[i]);
                }
        }
        xmlBufferCat(b, (const xmlChar *)"</choice></element></start>");
        for (size_t i = 0; i < n_defines; i++)
                dump_node(b, defines[i]);
        xmlBufferCat(b, (const xmlChar *)"</grammar>");
        pc = xmlRelaxNGNewMemParserCtxt((const char *)xmlBufferContent(b), xmlBufferLength(b));
        g = pc ? xmlRelaxNGParse(pc) : NULL;
        xmlRelaxNGFreeParserCtxt(pc);
        if (!g)
                fprintf(stderr, "%s: the slot grammar does not compile:\n%s\n", s->path, xmlBufferContent(b));
        xmlBufferFree(b);
        return g;
}

/* Every number the slot's patterns and facets name: the lengths to probe. */
static size_t slot_numbers(const SchemaSlot *s, long *nums)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_data; i++)
                for (xmlNodePtr p = s->data[i]->children; p; p = p->next) {
                        xmlChar *v;

                        if (!rng_is(p, "param"))
                                continue;
                        v = xmlNodeGetContent(p);
                        for (const char *c = (const char *)v; c && *c; c++) {
                                char *end;
                                long x;

                                if (!isdigit((unsigned char)*c) ||
                                    (c != (const char *)v && isdigit((unsigned char)c[-1])))
                                        continue;
                                x = strtol(c, &end, 10);
                                if (n < MAX_NUMS && x > 0 && x < 100000)
                                        nums[n++] = x;
                        }
                        xmlFree(v);
                }
        return n;
}

/* ------------------------------------------------------------------------- */
/* The document the values go into                                           */

/* Placeholders @name@; one slot's value replaces its placeholder wherever it
 * stands (a reference and the resource it names stay together). */
static const char template_doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<catalog xmlns=\"https://tegravirt.org/ns/catalog/1\" soc=\"@soc@\">\n"
        "  <bpmp>\n"
        "    <clock id=\"@clkid@\" name=\"@clkname@\"/>\n"
        "    <clock id=\"7\" name=\"pclk\" parent=\"@clkparent@\"/>\n"
        "    <clock id=\"8\" name=\"@clkparent@\"/>\n"
        "    <clock id=\"9\" name=\"@cref@\"/>\n"
        "    <reset id=\"@rstid@\" name=\"@rstname@\"/>\n"
        "    <reset id=\"9\" name=\"@rref@\"/>\n"
        "    <power-domain id=\"@pdid@\" name=\"@pdname@\"/>\n"
        "    <power-domain id=\"9\" name=\"@pref@\"/>\n"
        "    <kernel-arg>@bpmparg@</kernel-arg>\n"
        "  </bpmp>\n"
        "  <device name=\"@devname@\" platform-id=\"@pid@\" kind=\"@kind@\" unsafe-interrupts=\"@unsafe@\">\n"
        "    <description>@desc@</description>\n"
        "    <reg base=\"@pidbase@\" size=\"0x1000\"/>\n"
        "    <interrupt spi=\"@spi@\"/>\n"
        "    <guest>\n"
        "      <compatible>@compat@</compatible>\n"
        "      <property name=\"@propname@\" type=\"empty\"/>\n"
        "      <property name=\"x-typed\" type=\"@proptype@\">@proptypetext@</property>\n"
        "      <property name=\"x-cells\" type=\"u32\">@cells@</property>\n"
        "      <property name=\"x-str\" type=\"string\"><value>@strval@</value></property>\n"
        "    </guest>\n"
        "    <clock ref=\"@cref@\" role=\"@crole@\"/>\n"
        "    <reset ref=\"@rref@\" role=\"@rrole@\"/>\n"
        "    <power-domain ref=\"@pref@\" role=\"@prole@\"/>\n"
        "    <kernel-arg>@devarg@</kernel-arg>\n"
        "    <hazard>@hazard@</hazard>\n"
        "  </device>\n"
        "  <device name=\"b\" platform-id=\"@basepid@\" kind=\"b\">\n"
        "    <reg base=\"@base@\" size=\"@size@\" name=\"@regname@\"/>\n"
        "    <guest><compatible>b</compatible></guest>\n"
        "  </device>\n"
        "  <device name=\"@lgctl@\" platform-id=\"7ffe0000.gpio\" kind=\"gpio\">\n"
        "    <reg base=\"0x7ffe0000\" size=\"0x1000\"/>\n"
        "    <guest><compatible>g</compatible></guest>\n"
        "  </device>\n"
        "  <line-group name=\"@lgname@\" controller=\"@lgctl@\">\n"
        "    <description>@lgdesc@</description>\n"
        "    <line offset=\"@lgoff@\" name=\"@lgline@\" host-name=\"@lghost@\"/>\n"
        "  </line-group>\n"
        "  <device name=\"c\" platform-id=\"7fff0000.host\" kind=\"c\">\n"
        "    <reg base=\"0x7fff0000\" size=\"0x1000\"/>\n"
        "    <guest><compatible>c</compatible></guest>\n"
        "    <host node=\"@hostnode@\" driver=\"@driver@\"><iommu smmu=\"@smmu@\" stream-id=\"@sid@\"/></host>\n"
        "  </device>\n"
        "</catalog>\n";

/* ---- where C is stricter than the schema, on purpose ---- */

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

/* A u32 cell's value (decimal or 0x hex) or -1 when it is not one; > UINT32_MAX kept. */
static long double number_of(const char *s)
{
        long double v = 0;

        if (s[0] == '0' && s[1] == 'x' && s[2]) {
                for (s += 2; *s; s++) {
                        if (!isxdigit((unsigned char)*s))
                                return -1;
                        v = v * 16 + (isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10);
                }
                return v;
        }
        if (!all_digits(s))
                return -1;
        for (; *s; s++)
                v = v * 10 + (*s - '0');
        return v;
}

/* the catalog's "id" and "spi" are u32s; the schema only says "1..10 digits" */
static bool over_u32(const char *v)
{
        return number_of(v) > 4294967295.0L;
}

static bool spi_stricter(const char *v)
{
        return number_of(v) > 987;      /* GIC SPI INTIDs 32..1019 */
}

static bool sid_stricter(const char *v)
{
        return number_of(v) > 0xffff;   /* ARM SMMU stream IDs are 16 bits */
}

static bool cells_stricter(const char *v)
{
        char *dup = strdup(v), *save = NULL;
        bool r = false;

        for (char *t = strtok_r(dup, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save))
                r |= over_u32(t);
        free(dup);
        return r;
}

static bool size_stricter(const char *v)
{
        long double n = number_of(v);

        /* a window of size 0, or one from base 0x8000000 that reaches device c's at 0x7fff0000 */
        return n == 0 || n > 0x7fff0000 - 0x8000000;
}

/* the host node must end in the device's own node (<name>@<unit> of its platform id) */
static bool hostnode_stricter(const char *v)
{
        static const char own[] = "/host@7fff0000";
        size_t l = strlen(v);

        return l > 512 || l < strlen(own) || strcmp(v + l - strlen(own), own) != 0;
}

/* prose is folded (whitespace runs to one space); empty, control characters
 * (C1 included) or more than 2048 bytes after folding are refused */
static bool prose_stricter(const char *v)
{
        size_t folded = 0;
        bool space = false, any = false;

        for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
                if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
                        space = any;
                        continue;
                }
                if (*s < 0x20 || *s == 0x7f || (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f))
                        return true;
                folded += 1 + space;
                space = false;
                any = true;
        }
        return !any || folded > 2048;
}

typedef struct SlotRow {
        const char *path;
        const char *placeholder;
        const char *seeds[3];
        bool (*stricter)(const char *v);
} SlotRow;

static const SlotRow slots[] = {
        { "/catalog@soc", "soc", { "tegra234" }, NULL },
        { "/catalog/bpmp/clock@id", "clkid", { "100", "4294967295" }, over_u32 },
        { "/catalog/bpmp/clock@name", "clkname", { "uarta" }, NULL },
        { "/catalog/bpmp/clock@parent", "clkparent", { "par_0-x" }, NULL },
        { "/catalog/bpmp/reset@id", "rstid", { "100" }, over_u32 },
        { "/catalog/bpmp/reset@name", "rstname", { "rst_a" }, NULL },
        { "/catalog/bpmp/power-domain@id", "pdid", { "100" }, over_u32 },
        { "/catalog/bpmp/power-domain@name", "pdname", { "pd-a" }, NULL },
        { "/catalog/bpmp/kernel-arg", "bpmparg", { "a=b,c:~!#" }, NULL },
        { "/catalog/device@name", "devname", { "main-0_x" }, NULL },
        { "/catalog/device@platform-id", "pid", { "3100000.ser_A-9", "0.x" }, NULL },
        { "/catalog/device@kind", "kind", { "serial_0-x" }, NULL },
        { "/catalog/device@unsafe-interrupts", "unsafe", { "required", "not-required" }, NULL },
        { "/catalog/device/description", "desc", { "Two  words\tand é." }, prose_stricter },
        { "/catalog/device/reg@base", "base", { "0x8000000", "0x0000000008000000" }, NULL },
        { "/catalog/device/reg@size", "size", { "0x1000", "0xFfF" }, size_stricter },
        { "/catalog/device/reg@name", "regname", { "Ab0_.,+-" }, NULL },
        { "/catalog/device/interrupt@spi", "spi", { "987", "0" }, spi_stricter },
        { "/catalog/device/guest/compatible", "compat", { "nv,t194-hs", "A._+-" }, NULL },
        { "/catalog/device/guest/property@name", "propname", { "x,._+?#-Z9" }, NULL },
        { "/catalog/device/guest/property@type", "proptype", { "empty", "u32", "string" }, NULL },
        { "/catalog/device/guest/property", "cells", { "0xFFFFFFFF 4294967295", "1" }, cells_stricter },
        { "/catalog/device/guest/property/value", "strval", { " ~a ", "x" }, NULL },
        { "/catalog/device/host@node", "hostnode", { "/bus@0/host@7fff0000", "/A,b._+-c@9af/host@7fff0000" },
          hostnode_stricter },
        { "/catalog/device/host@driver", "driver", { "off", "keep" }, NULL },
        { "/catalog/device/host/iommu@smmu", "smmu", { "smmu_niso0", "_A9" }, NULL },
        { "/catalog/device/host/iommu@stream-id", "sid", { "0x6", "65535" }, sid_stricter },
        { "/catalog/device/clock@ref", "cref", { "cl-k_0" }, NULL },
        { "/catalog/device/clock@role", "crole", { "Ab0_.,+-" }, NULL },
        { "/catalog/device/reset@ref", "rref", { "rs-t_0" }, NULL },
        { "/catalog/device/reset@role", "rrole", { "serial" }, NULL },
        { "/catalog/device/power-domain@ref", "pref", { "p-d_0" }, NULL },
        { "/catalog/device/power-domain@role", "prole", { "x" }, NULL },
        { "/catalog/device/kernel-arg", "devarg", { "con=tT0,1" }, NULL },
        { "/catalog/device/hazard", "hazard", { "Do not\n  unplug." }, prose_stricter },
        { "/catalog/line-group@name", "lgname", { "hdr-7_x" }, NULL },
        { "/catalog/line-group@controller", "lgctl", { "gpio-x_0" }, NULL },
        { "/catalog/line-group/description", "lgdesc", { "Pin  7\tof é." }, prose_stricter },
        { "/catalog/line-group/line@offset", "lgoff", { "106", "4294967295" }, over_u32 },
        { "/catalog/line-group/line@name", "lgline", { "Hdr-7_.x", "a" }, NULL },
        { "/catalog/line-group/line@host-name", "lghost", { "PQ.06", "PAA.00" }, NULL },
};
#define N_SLOTS (sizeof(slots) / sizeof(slots[0]))

static const char *cur[N_SLOTS];        /* the value of each slot in the next document */

static const char *value_of(const char *placeholder)
{
        for (size_t i = 0; i < N_SLOTS; i++)
                if (strcmp(slots[i].placeholder, placeholder) == 0)
                        return cur[i];
        return NULL;
}

/* Values that follow from others, so one slot can change alone. */
static void derived(const char *name, char *out, size_t size)
{
        if (strcmp(name, "pidbase") == 0) {
                /* the platform id's unit address is the first window's base */
                const char *pid = value_of("pid"), *dot = strchr(pid, '.');
                size_t hl = dot ? (size_t)(dot - pid) : 0;
                bool hex = hl >= 1 && hl <= 16;

                for (size_t i = 0; hex && i < hl; i++)
                        hex = isxdigit((unsigned char)pid[i]);
                if (hex)
                        snprintf(out, size, "0x%.*s", (int)hl, pid);
                else
                        snprintf(out, size, "0x3100000");
        } else if (strcmp(name, "basepid") == 0) {
                long double b = number_of(value_of("base"));

                if (b >= 0 && b <= 18446744073709551615.0L && strncmp(value_of("base"), "0x", 2) == 0)
                        snprintf(out, size, "%" PRIx64 ".b", (uint64_t)strtoull(value_of("base") + 2, NULL, 16));
                else
                        snprintf(out, size, "8000000.b");
        } else if (strcmp(name, "proptypetext") == 0) {
                const char *t = value_of("proptype");

                snprintf(out, size, "%s", strcmp(t, "u32") == 0 ? "1 2" : strcmp(t, "string") == 0 ? "<value>s</value>" : "");
        } else {
                fprintf(stderr, "template: unknown placeholder @%s@\n", name);
                exit(1);
        }
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
        if (*len + n + 1 > *cap) {
                *cap = (*len + n + 1) * 2;
                *buf = realloc(*buf, *cap);
                if (!*buf)
                        abort();
        }
        memcpy(*buf + *len, s, n);
        *len += n;
        (*buf)[*len] = 0;
}

/* XML-escapes s (the value is data, whatever bytes it holds). */
static void append_escaped(char **buf, size_t *len, size_t *cap, const char *s)
{
        for (; *s; s++) {
                const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;"
                              : *s == '\t' ? "&#9;" : *s == '\n' ? "&#10;" : *s == '\r' ? "&#13;" : NULL;

                if (e)
                        append(buf, len, cap, e, strlen(e));
                else
                        append(buf, len, cap, s, 1);
        }
}

static char *build_doc(size_t *len_out)
{
        char *buf = NULL, name[32];
        size_t len = 0, cap = 0;

        for (const char *p = template_doc; *p;) {
                const char *at = strchr(p, '@'), *end;
                const char *v;

                if (!at) {
                        append(&buf, &len, &cap, p, strlen(p));
                        break;
                }
                append(&buf, &len, &cap, p, (size_t)(at - p));
                end = strchr(at + 1, '@');
                snprintf(name, sizeof(name), "%.*s", (int)(end - at - 1), at + 1);
                v = value_of(name);
                if (v) {
                        append_escaped(&buf, &len, &cap, v);
                } else {
                        char d[64];

                        derived(name, d, sizeof(d));
                        append(&buf, &len, &cap, d, strlen(d));     /* already markup */
                }
                p = end + 1;
        }
        *len_out = len;
        return buf;
}

/* ------------------------------------------------------------------------- */
/* The two judges                                                            */

static xmlRelaxNGPtr schema;

static void quiet_structured(void *ctx, TV_XML_ERROR_CONST xmlError *e)
{
}

static void quiet_generic(void *ctx, const char *msg, ...)
{
}

static bool validates(xmlRelaxNGPtr g, const char *buf, size_t len)
{
        xmlDocPtr doc = xmlReadMemory(buf, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                                  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
        xmlRelaxNGValidCtxtPtr v;
        int r;

        if (!doc)
                return false;
        v = xmlRelaxNGNewValidCtxt(g);
        xmlRelaxNGSetValidStructuredErrors(v, quiet_structured, NULL);
        r = xmlRelaxNGValidateDoc(v, doc);
        xmlRelaxNGFreeValidCtxt(v);
        xmlFreeDoc(doc);
        return r == 0;
}

static bool schema_accepts(const char *buf, size_t len)
{
        return validates(schema, buf, len);
}

static const SchemaSlot *slot_of[N_SLOTS];      /* the schema's slot for each row */

/* The slot's own grammar on <v>VALUE</v>. */
static bool schema_accepts_value(size_t slot, const char *v)
{
        char *buf = NULL;
        size_t len = 0, cap = 0;
        bool r;

        append(&buf, &len, &cap, "<v>", 3);
        append_escaped(&buf, &len, &cap, v);
        append(&buf, &len, &cap, "</v>", 4);
        r = validates(slot_of[slot]->alone, buf, len);
        free(buf);
        return r;
}

/* The C parser alone: no schema pass, then the checks across the document. */
static bool c_accepts(const char *buf, size_t len, TvError *err)
{
        Cat *cat = NULL;
        TvCatalog *out = NULL;

        tv_error_clear(err);
        if (cat_parse_doc(buf, len, "agree", NULL, &cat, err) < 0)
                return false;
        if (cat_finalize(cat, &out, err) < 0)
                return false;
        tv_catalog_free(out);
        return true;
}

/* ------------------------------------------------------------------------- */
/* Probing one slot                                                          */

typedef struct Tally {
        size_t n, schema_yes, schema_no, disagree;
        size_t cross, cross_differ;     /* whole-document validations, and how many differed */
} Tally;

static void printable(char *out, size_t size, const char *s)
{
        size_t j = 0, l = strlen(s);

        for (size_t i = 0; s[i] && j + 8 < size; i++)
                j += (size_t)snprintf(out + j, size - j, (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f
                                                                 ? "%c" : "\\x%02x", (unsigned char)s[i]);
        if (l > 60) {
                snprintf(out, size, "(%zu bytes: %.20s...)", l, s);
        }
}

static void probe(size_t slot, const char *v, Tally *t)
{
        size_t len;
        char *doc;
        bool s, c, want;
        TvError err = { 0 };

        cur[slot] = v;
        doc = build_doc(&len);
        s = schema_accepts_value(slot, v);
        /* the slot's grammar stands for the whole schema: checked on a share of the values */
        if (t->n % 16 == 0 || t->cross < 64) {
                t->cross++;
                if (schema_accepts(doc, len) != s && t->cross_differ++ < 3) {
                        char p[200];

                        printable(p, sizeof(p), v);
                        printf("# %s = '%s': the whole document and the slot's grammar disagree\n",
                               slots[slot].path, p);
                }
        }
        c = c_accepts(doc, len, &err);
        want = s && !(slots[slot].stricter && slots[slot].stricter(v));
        t->n++;
        if (s)
                t->schema_yes++;
        else
                t->schema_no++;
        if (c != want) {
                char p[200];

                if (t->disagree++ < 6) {
                        printable(p, sizeof(p), v);
                        printf("# %s = '%s': schema %s, C %s (wanted %s)%s%s\n", slots[slot].path, p,
                               s ? "accepts" : "refuses", c ? "accepts" : "refuses", want ? "accept" : "refuse",
                               c ? "" : ": ", c ? "" : err.message);
                }
        }
        free(doc);
        cur[slot] = slots[slot].seeds[0];
}

static const char *const extra_bytes[] = { "\t", "\xc3\xa9", "\xc2\x85", "\xe2\x80\xa8", "\n" };

static void probe_mutations(size_t slot, const char *seed, const long *nums, size_t n_nums, Tally *t)
{
        size_t l = strlen(seed);
        char *v = malloc(l + 100010);

        if (!v)
                abort();
        probe(slot, seed, t);
        probe(slot, "", t);
        for (size_t pos = 0; pos <= l; pos++) {
                for (int b = 0x20; b < 0x7f + 5; b++) {
                        char ins[5];

                        if (b < 0x7f) {
                                ins[0] = (char)b;
                                ins[1] = 0;
                        } else {
                                snprintf(ins, sizeof(ins), "%s", extra_bytes[b - 0x7f]);
                        }
                        /* put in before pos */
                        snprintf(v, l + 16, "%.*s%s%s", (int)pos, seed, ins, seed + pos);
                        probe(slot, v, t);
                        /* put over pos */
                        if (pos < l) {
                                snprintf(v, l + 16, "%.*s%s%s", (int)pos, seed, ins, seed + pos + 1);
                                probe(slot, v, t);
                        }
                }
        }
        /* runs: the character at pos repeated to each length the schema names */
        for (size_t pos = 0; pos < l; pos++) {
                if ((seed[pos] & 0xc0) == 0x80)
                        continue;
                for (size_t k = 0; k < n_nums; k++)
                        for (long d = -2; d <= 2; d++)
                                for (int total = 0; total < 2; total++) {
                                        /* run of nums[k]+d, or a value of nums[k]+d bytes */
                                        long run = total ? nums[k] + d - (long)l + 1 : nums[k] + d;
                                        size_t j = 0;

                                        if (run < 1 || run > 100000)
                                                continue;
                                        memcpy(v, seed, pos);
                                        j = pos;
                                        for (long r = 0; r < run; r++)
                                                v[j++] = seed[pos];
                                        strcpy(v + j, seed + pos + 1);
                                        probe(slot, v, t);
                                }
        }
        free(v);
}

int main(int argc, char **argv)
{
        xmlDocPtr rng;
        xmlRelaxNGParserCtxtPtr pc;
        xmlNodePtr start = NULL;
        TvXmlErrorScope sv;

        if (argc != 2) {
                fprintf(stderr, "usage: %s CATALOG_RNG\n", argv[0]);
                return 2;
        }
        xmlInitParser();
        tv_xml_errors_push(&sv, NULL, quiet_structured, quiet_generic);
        rng = xmlReadFile(argv[1], NULL, XML_PARSE_NONET);
        pc = xmlRelaxNGNewParserCtxt(argv[1]);
        schema = pc ? xmlRelaxNGParse(pc) : NULL;
        xmlRelaxNGFreeParserCtxt(pc);
        if (!rng || !schema) {
                fprintf(stderr, "cannot read the schema %s\n", argv[1]);
                return 1;
        }
        for (xmlNodePtr n = xmlDocGetRootElement(rng)->children; n; n = n->next) {
                if (rng_is(n, "define") && n_defines < sizeof(defines) / sizeof(defines[0]))
                        defines[n_defines++] = n;
                if (rng_is(n, "start"))
                        start = n;
        }
        CHECK(start != NULL, "schema has a <start>");
        if (!start)
                return 1;
        walk(start, "", NULL, false, 0);

        /* every data type is a string (the facets below assume it) */
        for (size_t i = 0; i < n_schema_slots; i++)
                for (size_t k = 0; k < schema_slots[i].n_data; k++) {
                        char *type = rng_attr(schema_slots[i].data[k], "type");
                        char what[512];

                        snprintf(what, sizeof(what), "%.200s: data type '%.40s' is string", schema_slots[i].path,
                                 type ? type : "?");
                        CHECK(type && strcmp(type, "string") == 0, "%s", what);
                        xmlFree(type);
                }

        /* the rows cover the schema's slots exactly */
        for (size_t i = 0; i < N_SLOTS; i++) {
                SchemaSlot *s = NULL;
                char what[512];

                for (size_t k = 0; k < n_schema_slots; k++)
                        if (strcmp(schema_slots[k].path, slots[i].path) == 0)
                                s = &schema_slots[k];
                snprintf(what, sizeof(what), "row %.200s is a slot of the schema", slots[i].path);
                CHECK(s != NULL, "%s", what);
                if (s) {
                        s->seen = true;
                        s->alone = slot_grammar(s);
                        snprintf(what, sizeof(what), "%.200s: its own grammar compiles", slots[i].path);
                        CHECK(s->alone != NULL, "%s", what);
                        if (!s->alone)
                                return 1;
                }
                slot_of[i] = s;
                cur[i] = slots[i].seeds[0];
        }
        for (size_t k = 0; k < n_schema_slots; k++) {
                char what[512];

                snprintf(what, sizeof(what), "schema slot %.200s (%zu patterns, %zu values%s) has a row in slots[]",
                         schema_slots[k].path, schema_slots[k].n_data, schema_slots[k].n_values,
                         schema_slots[k].list ? ", list" : "");
                CHECK(schema_slots[k].seen, "%s", what);
        }

        /* the base document is valid for both */
        {
                size_t len;
                char *doc = build_doc(&len);
                TvError err = { 0 };
                bool c = c_accepts(doc, len, &err);

                CHECK(schema_accepts(doc, len), "the base document is valid for the schema");
                CHECK(c, "the base document is valid for the C parser");
                if (!c)
                        printf("# %s\n", err.message);
                free(doc);
        }

        for (size_t i = 0; i < N_SLOTS; i++) {
                const SchemaSlot *s = NULL;
                long nums[MAX_NUMS];
                size_t n_nums = 0;
                Tally t = { 0 };
                char what[512];

                for (size_t k = 0; k < n_schema_slots; k++)
                        if (strcmp(schema_slots[k].path, slots[i].path) == 0)
                                s = &schema_slots[k];
                if (s)
                        n_nums = slot_numbers(s, nums);
                for (size_t k = 0; k < 3 && slots[i].seeds[k]; k++)
                        probe_mutations(i, slots[i].seeds[k], nums, n_nums, &t);
                snprintf(what, sizeof(what), "%s: C and schema agree on %zu values (%zu valid, %zu not)", slots[i].path,
                         t.n, t.schema_yes, t.schema_no);
                CHECK(t.disagree == 0 && t.schema_yes > 0 && t.schema_no > 0, "%s", what);
                snprintf(what, sizeof(what), "%s: the slot's grammar judged %zu values as the whole schema does",
                         slots[i].path, t.cross);
                CHECK(t.cross_differ == 0 && t.cross >= 64, "%s", what);
        }

        tv_xml_errors_pop(&sv);
        for (size_t k = 0; k < n_schema_slots; k++)
                xmlRelaxNGFree(schema_slots[k].alone);
        xmlRelaxNGFree(schema);
        xmlFreeDoc(rng);
        return tap_finish();
}
