// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: parse, validate and merge catalog XML documents.
 *
 * Every document goes through four gates, in this order:
 *   1. raw input: size cap, valid UTF-8 without NUL bytes;
 *   2. XML well-formedness with libxml2: from memory, no network, no entity
 *      substitution, no DTD loading; a DOCTYPE stops the parser at once;
 *   3. the embedded RelaxNG schema (xml-schemas/catalog.rng);
 *   4. our own extraction, which re-checks every value it reads and adds the
 *      checks a schema cannot express (uniqueness, references, ranges).
 * When both 3 and 4 object, the message from 4 is reported: it names the
 * device and the value, where libxml2 says "Invalid attribute name".
 *
 * libxml2 never prints: its error callbacks are routed into the TvError.
 */
#include "catalog.h"
#include "tv-strv.h"
#include "xml-errors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "catalog-rng.h"
#include "tv-fileio.h"
#include "tv-names.h"
#include "tv-validate.h"

#define CAT_NS "https://tegravirt.org/ns/catalog/1"

/* Per-document and per-device limits, beyond the ones in catalog.h. */
#define MAX_RESOURCES    2048   /* BPMP resources (all kinds, after merging) */
#define MAX_BPMP_ARGS    32
#define MAX_REGIONS      16
#define MAX_IRQS         64     /* QEMU's platform bus has 64 IRQs in total */
#define MAX_REFS         32     /* per kind and device */
#define MAX_COMPATIBLE   8
#define MAX_PROPS        64
#define MAX_CELLS        64
#define MAX_STRINGS      16
#define MAX_DEV_ARGS     32
#define MAX_HAZARDS      16
#define MAX_PROSE        2048   /* description and hazard, after whitespace folding */
#define MAX_RAW_TEXT     8192   /* text content of any element before folding */
#define MAX_OVERRIDES    256    /* files in the override directory */
#define MAX_SPI          987    /* GIC SPI INTIDs 32..1019 */

#if LIBXML_VERSION >= 21200
#define TV_XML_ERROR_CONST const
#else
#define TV_XML_ERROR_CONST
#endif

/* ------------------------------------------------------------------------- */
/* Internal model                                                            */

typedef enum ResKind { RK_CLOCK, RK_RESET, RK_PD, RK_N } ResKind;
static const char *const rk_name[RK_N] = { "clock", "reset", "power-domain" };

typedef struct Resource {
        ResKind kind;
        uint32_t id;
        char *name;
        char *parent;           /* clocks only; NULL if none */
        char *origin;
        long line;
} Resource;

typedef struct RefDraft {
        ResKind kind;
        char *ref;
        char *role;             /* may be NULL */
        long line;
} RefDraft;

typedef struct DevDraft {
        TvCatalogDevice dev;    /* everything but the BPMP refs and kernel_args */
        RefDraft *refs;         /* in document order */
        size_t n_refs;
        char **args;            /* per-device <kernel-arg> */
        size_t n_args;
        long line;
        long *region_lines;     /* per region, for error messages */
} DevDraft;

typedef struct Cat {
        char *soc;
        char *origin;           /* document (for merged catalogs: the shipped one) */
        long line;              /* of <catalog> */
        Resource *res;
        size_t n_res;
        char **bpmp_args;
        size_t n_bpmp_args;
        DevDraft *devs;
        size_t n_devs;
} Cat;

/* Error context for one document. */
typedef struct Ctx {
        const char *origin;
        TvError *err;
        /* libxml2 errors collected during parsing and validation */
        bool doctype;
        char xml_msg[320];
        long xml_line;
        bool have_xml;
        bool have_xml_line;
} Ctx;

/* ------------------------------------------------------------------------- */
/* Small helpers                                                             */

static void *xcalloc(size_t n, size_t size)
{
        return calloc(n ? n : 1, size ? size : 1);
}

static void strn_free(char **v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Appends s (taking ownership) to a counted array that is kept NULL-terminated. */
static int strv_push(char ***v, size_t *n, char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -1;
        nv[*n] = s;
        nv[*n + 1] = NULL;
        *v = nv;
        (*n)++;
        return 0;
}

static bool strv_contains(char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static bool streq_null(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* Quotes a value from the document for an error message: at most 48 bytes,
 * non-printable bytes as '?', so a hostile value cannot forge log lines. */
static const char *q(char *buf, size_t size, const char *s)
{
        size_t j = 0, i;

        if (!s)
                return "(none)";
        for (i = 0; s[i] && j + 4 < size && i < 48; i++) {
                unsigned char c = (unsigned char)s[i];

                buf[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
        if (s[i] && j + 4 < size) {
                memcpy(buf + j, "...", 3);
                j += 3;
        }
        buf[j] = 0;
        return buf;
}
#define Q(s) q((char[64]){ 0 }, 64, (s))

static long node_line(xmlNodePtr n)
{
        long l = n ? xmlGetLineNo(n) : -1;

        return l > 0 ? l : -1;
}

static int vfail_at(TvError *err, const char *origin, long line, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));
static int vfail_at(TvError *err, const char *origin, long line, const char *fmt, va_list ap)
{
        char msg[448];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (line > 0)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog %s line %ld: %s", origin, line, msg);
        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog %s: %s", origin, msg);
}

static int fail_at(TvError *err, const char *origin, long line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail_at(TvError *err, const char *origin, long line, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_at(err, origin, line, fmt, ap);
        va_end(ap);
        return r;
}

static int fail(Ctx *c, xmlNodePtr n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Ctx *c, xmlNodePtr n, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_at(c->err, c->origin, node_line(n), fmt, ap);
        va_end(ap);
        return r;
}

static int oom(TvError *err, const char *origin)
{
        return fail_at(err, origin, -1, "out of memory");
}

/* "(line 12)" for the same document, "(catalog /x.xml line 12)" otherwise. */
static const char *where(char *buf, size_t size, const char *here, const char *origin, long line)
{
        if (here && strcmp(here, origin) == 0)
                snprintf(buf, size, "line %ld", line);
        else
                snprintf(buf, size, "catalog %s line %ld", origin, line);
        return buf;
}
#define WHERE(here, origin, line) where((char[320]){ 0 }, 320, (here), (origin), (line))

/* ------------------------------------------------------------------------- */
/* Value checks (mirroring xml-schemas/catalog.rng)                          */

static bool in_set(char c, const char *extra)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

static bool upper_alpha(char c)
{
        return c >= 'A' && c <= 'Z';
}

/* Explains why s is not a valid short name, or returns NULL. */
static const char *short_name_problem(const char *s)
{
        size_t len = strlen(s);

        if (len == 0)
                return "is empty";
        if (len > TV_NAME_MAX)
                return "is longer than 64 bytes";
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_-"))
                        return "may only contain [a-z0-9_-]";
        if (s[0] == '-')
                return "must not start with '-'";
        if (!tv_device_token_valid(s))
                return "is not a valid device token";
        return NULL;
}

/* reg-names / clock-names / reset-names entries. */
static bool dt_name_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32 || s[0] == '_' || s[0] == '.' || s[0] == ',' || s[0] == '+' || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_.,+-") && !upper_alpha(s[i]))
                        return false;
        return true;
}

static bool dt_prop_name_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 31)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], ",._+?#-") && !upper_alpha(s[i]))
                        return false;
        return true;
}

static bool compatible_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 128 || (!in_set(s[0], "") && !upper_alpha(s[0])))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], ",._+-") && !upper_alpha(s[i]))
                        return false;
        return true;
}

static bool kind_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_-"))
                        return false;
        return true;
}

static bool soc_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], ""))
                        return false;
        return true;
}

/* Printable ASCII without space, quotes, backslash and backquote, 1..256 bytes. */
static const char *kernel_arg_problem(const char *s)
{
        size_t len = strlen(s);

        if (len == 0)
                return "is empty";
        if (len > 256)
                return "is longer than 256 bytes";
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        return "contains whitespace";
                if (c < 0x20 || c == 0x7f)
                        return "contains a control character";
                if (c >= 0x80)
                        return "contains a non-ASCII character";
                if (c == '"' || c == '\'' || c == '`')
                        return "contains a quote";
                if (c == '\\')
                        return "contains a backslash";
        }
        return NULL;
}

static bool prop_string_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 255)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
                        return false;
        return true;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decimal, 1..10 digits, value <= UINT32_MAX. No sign, no spaces. */
static bool parse_u32_dec(const char *s, uint32_t *out)
{
        uint64_t v = 0;
        size_t i;

        for (i = 0; s[i]; i++) {
                if (!is_digit(s[i]) || i >= 10)
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 0 || v > UINT32_MAX)
                return false;
        *out = (uint32_t)v;
        return true;
}

/* "0x" followed by 1..max_digits hex digits. */
static bool parse_hex(const char *s, size_t max_digits, uint64_t *out)
{
        uint64_t v = 0;
        size_t i;

        if (s[0] != '0' || s[1] != 'x')
                return false;
        for (i = 2; s[i]; i++) {
                int d = hex_val(s[i]);

                if (d < 0 || i - 2 >= max_digits)
                        return false;
                v = (v << 4) | (uint64_t)d;
        }
        if (i == 2)
                return false;
        *out = v;
        return true;
}

/* A DT label as dtc accepts it for a phandle reference (&label). */
static bool dt_label_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 31 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_") && !upper_alpha(s[i]))
                        return false;
        return true;
}

/* An absolute node path whose last component is the platform device's node:
 * "/bus@0/serial@3100000" for platform id "3100000.serial". Returns why not, or NULL. */
static const char *host_node_problem(const char *path, const char *platform_id)
{
        const char *dot = strchr(platform_id, '.'), *last = NULL, *p = path;
        size_t levels = 0;

        if (strlen(path) > 512 || path[0] != '/')
                return "is not an absolute device-tree node path";
        while (*p == '/') {
                const char *start = ++p, *at = NULL;

                for (; *p && *p != '/'; p++) {
                        if (*p == '@' && !at)
                                at = p;
                        else if (at ? !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
                                    : !(in_set(*p, ",._+-") || upper_alpha(*p)))
                                return "has a character that is not valid in a node name";
                }
                if (p == start || (at ? at - start : p - start) > 31 || (at && p == at + 1) || ++levels > 16)
                        return "is not a valid node path (empty, overlong or over 16 levels)";
                last = start;
        }
        if (*p || !last || !dot)
                return "is not an absolute device-tree node path";
        /* platform id "<unit>.<name>" <=> last component "<name>@<unit>" */
        {
                size_t unit_len = (size_t)(dot - platform_id), name_len = strlen(dot + 1);
                const char *at = strchr(last, '@');

                if (!at || (size_t)(at - last) != name_len || strncmp(last, dot + 1, name_len) != 0 ||
                    strlen(at + 1) != unit_len || strncmp(at + 1, platform_id, unit_len) != 0)
                        return "does not end in the node the platform id names (<name>@<unit>)";
        }
        return NULL;
}

static bool parse_cell(const char *s, uint32_t *out)
{
        uint64_t v;

        if (s[0] == '0' && s[1] == 'x') {
                if (!parse_hex(s, 8, &v))
                        return false;
                *out = (uint32_t)v;
                return true;
        }
        return parse_u32_dec(s, out);
}

/* Properties the guest DT generator writes itself, or that hold host phandles. */
static bool prop_reserved(const char *name)
{
        static const char *const reserved[] = {
                "compatible", "reg", "reg-names", "interrupts", "interrupt-parent",
                "interrupts-extended", "clocks", "clock-names", "assigned-clocks",
                "assigned-clock-parents", "assigned-clock-rates", "resets", "reset-names",
                "power-domains", "power-domain-names", "status", "phandle", "linux,phandle",
                "name", "iommus", "iommu-map", "dmas", "dma-names", "interconnects",
                "interconnect-names", "nvidia,bpmp", "memory-region",
        };

        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (strcmp(name, reserved[i]) == 0)
                        return true;
        return strncmp(name, "pinctrl-", 8) == 0;
}

/* ------------------------------------------------------------------------- */
/* DOM access                                                                */

static bool in_ns(xmlNodePtr n)
{
        return n->ns && n->ns->href && strcmp((const char *)n->ns->href, CAT_NS) == 0;
}

static bool is_el(xmlNodePtr n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && in_ns(n) && strcmp((const char *)n->name, name) == 0;
}

/* Refuses attributes not in the NULL-terminated list allowed[]. */
static int check_attrs(Ctx *c, xmlNodePtr n, const char *const *allowed)
{
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
                bool ok = false;

                if (!a->ns)
                        for (const char *const *p = allowed; *p; p++)
                                if (strcmp((const char *)a->name, *p) == 0)
                                        ok = true;
                if (!ok)
                        return fail(c, n, "unexpected attribute '%s' on <%s>", Q((const char *)a->name),
                                    (const char *)n->name);
        }
        return 0;
}

/* Gets an attribute as a malloc'd string; *out = NULL when absent and !required. */
static int get_attr(Ctx *c, xmlNodePtr n, const char *name, bool required, const char *what, char **out)
{
        xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

        *out = NULL;
        if (!v) {
                if (required)
                        return fail(c, n, "%s<%s> has no '%s' attribute", what ? what : "",
                                    (const char *)n->name, name);
                return 0;
        }
        *out = strdup((const char *)v);
        xmlFree(v);
        if (!*out)
                return oom(c->err, c->origin);
        return 0;
}

/* Text content of an element that may only hold text (comments and PIs are skipped). */
static int get_text(Ctx *c, xmlNodePtr n, const char *what, char **out)
{
        size_t len = 0;
        char *s;

        *out = NULL;
        for (xmlNodePtr k = n->children; k; k = k->next) {
                if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
                        len += k->content ? strlen((const char *)k->content) : 0;
                        if (len > MAX_RAW_TEXT)
                                return fail(c, n, "%s<%s> text is longer than %d bytes", what,
                                            (const char *)n->name, MAX_RAW_TEXT);
                } else if (k->type == XML_ELEMENT_NODE) {
                        return fail(c, k, "%sunexpected element <%s> inside <%s>", what,
                                    Q((const char *)k->name), (const char *)n->name);
                } else if (k->type != XML_COMMENT_NODE && k->type != XML_PI_NODE) {
                        return fail(c, n, "%s<%s> contains unsupported content", what, (const char *)n->name);
                }
        }
        s = malloc(len + 1);
        if (!s)
                return oom(c->err, c->origin);
        s[0] = 0;
        len = 0;
        for (xmlNodePtr k = n->children; k; k = k->next)
                if ((k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) && k->content) {
                        size_t l = strlen((const char *)k->content);

                        memcpy(s + len, k->content, l);
                        len += l;
                        s[len] = 0;
                }
        *out = s;
        return 0;
}

static bool is_space(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Prose: whitespace runs folded to one space, trimmed; no control characters. */
static int get_prose(Ctx *c, xmlNodePtr n, const char *what, char **out)
{
        char *s, *w;
        const char *r;
        bool space = false;

        if (get_text(c, n, what, &s) < 0)
                return -1;
        for (r = s, w = s; *r; r++) {
                unsigned char ch = (unsigned char)*r;

                if (is_space(*r)) {
                        space = w != s;
                        continue;
                }
                if (ch < 0x20 || ch == 0x7f || (ch == 0xc2 && (unsigned char)r[1] >= 0x80 &&
                                                 (unsigned char)r[1] <= 0x9f)) {
                        free(s);
                        return fail(c, n, "%s<%s> contains a control character", what, (const char *)n->name);
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *r;
        }
        *w = 0;
        if (w == s) {
                free(s);
                return fail(c, n, "%s<%s> is empty", what, (const char *)n->name);
        }
        if ((size_t)(w - s) > MAX_PROSE) {
                free(s);
                return fail(c, n, "%s<%s> is longer than %d bytes", what, (const char *)n->name, MAX_PROSE);
        }
        *out = s;
        return 0;
}

/* ------------------------------------------------------------------------- */
/* Freeing                                                                   */

static void dev_clear(TvCatalogDevice *d)
{
        free(d->name);
        free(d->platform_id);
        free(d->kind);
        free(d->description);
        for (size_t i = 0; i < d->n_regions; i++)
                free(d->regions[i].name);
        free(d->regions);
        free(d->host_irqs);
        tv_strv_free(d->guest_compatible);
        for (size_t i = 0; i < d->n_guest_props; i++) {
                free(d->guest_props[i].name);
                free(d->guest_props[i].cells);
                tv_strv_free(d->guest_props[i].strings);
        }
        free(d->guest_props);
        for (size_t i = 0; i < d->n_clocks; i++) {
                free(d->clocks[i].name);
                free(d->clocks[i].role);
        }
        free(d->clocks);
        for (size_t i = 0; i < d->n_resets; i++) {
                free(d->resets[i].name);
                free(d->resets[i].role);
        }
        free(d->resets);
        for (size_t i = 0; i < d->n_power_domains; i++) {
                free(d->power_domains[i].name);
                free(d->power_domains[i].role);
        }
        free(d->power_domains);
        tv_strv_free(d->kernel_args);
        tv_strv_free(d->hazards);
        free(d->host_node);
        free(d->host_smmu);
        free(d->origin);
        memset(d, 0, sizeof(*d));
}

static void draft_clear(DevDraft *d)
{
        dev_clear(&d->dev);
        for (size_t i = 0; i < d->n_refs; i++) {
                free(d->refs[i].ref);
                free(d->refs[i].role);
        }
        free(d->refs);
        strn_free(d->args, d->n_args);
        free(d->region_lines);
        memset(d, 0, sizeof(*d));
}

static void res_clear(Resource *r)
{
        free(r->name);
        free(r->parent);
        free(r->origin);
}

static void cat_free(Cat *cat)
{
        if (!cat)
                return;
        free(cat->soc);
        free(cat->origin);
        for (size_t i = 0; i < cat->n_res; i++)
                res_clear(&cat->res[i]);
        free(cat->res);
        strn_free(cat->bpmp_args, cat->n_bpmp_args);
        for (size_t i = 0; i < cat->n_devs; i++)
                draft_clear(&cat->devs[i]);
        free(cat->devs);
        free(cat);
}

void tv_catalog_free(TvCatalog *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_devices; i++)
                dev_clear(&c->devices[i]);
        free(c->devices);
        free(c->soc);
        free(c);
}

/* ------------------------------------------------------------------------- */
/* libxml2 plumbing                                                          */

static void record_xml_error(Ctx *c, TV_XML_ERROR_CONST xmlError *e)
{
        long line;
        char msg[sizeof(c->xml_msg)];
        size_t l;

        if (!c || !e || e->level < XML_ERR_ERROR)
                return;
        line = e->line > 0 ? e->line : -1;
        if (line < 0 && e->node)
                line = node_line((xmlNodePtr)e->node);
        snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "unknown XML error");
        l = strlen(msg);
        while (l > 0 && is_space(msg[l - 1]))
                msg[--l] = 0;
        /* messages may quote document content */
        for (size_t i = 0; i < l; i++)
                if ((unsigned char)msg[i] < 0x20)
                        msg[i] = ' ';
        if (!c->have_xml || (line > 0 && !c->have_xml_line)) {
                memcpy(c->xml_msg, msg, sizeof(msg));
                c->xml_line = line;
                c->have_xml = true;
                c->have_xml_line = line > 0;
        }
}

static void on_structured_error(void *data, TV_XML_ERROR_CONST xmlError *e)
{
        record_xml_error(data, e);
}

/* Parser errors: userData is the parser context, our Ctx hangs off _private. */
static void on_parser_error(void *data, TV_XML_ERROR_CONST xmlError *e)
{
        xmlParserCtxtPtr p = data;

        record_xml_error(p ? p->_private : NULL, e);
}

static void on_generic_error(void *data, const char *msg, ...)
{
        /* unstructured messages come in fragments; they are only swallowed here */
}

static void on_doctype(void *data, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
        xmlParserCtxtPtr p = data;
        Ctx *c = p->_private;

        c->doctype = true;
        c->xml_line = p->input ? p->input->line : -1;
        xmlStopParser(p);
}

static xmlRelaxNGPtr schema_compile(TvError *err)
{
        Ctx c = { .origin = "schema", .err = err };
        TvXmlErrorScope sv;
        xmlRelaxNGParserCtxtPtr pc;
        xmlRelaxNGPtr schema = NULL;

        xmlInitParser();
        tv_xml_errors_push(&sv, &c, on_structured_error, on_generic_error);
        pc = xmlRelaxNGNewMemParserCtxt(tv_catalog_rng, (int)(sizeof(tv_catalog_rng) - 1));
        if (pc) {
                xmlRelaxNGSetParserStructuredErrors(pc, on_structured_error, &c);
                schema = xmlRelaxNGParse(pc);
                xmlRelaxNGFreeParserCtxt(pc);
        }
        tv_xml_errors_pop(&sv);
        if (!schema)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the embedded catalog schema does not compile: %s",
                                    c.have_xml ? c.xml_msg : "out of memory"),
                       NULL;
        return schema;
}

/* The embedded schema, compiled on first use and kept for the life of the process
 * (it is only read while validating, each validation has its own context). */
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static xmlRelaxNGPtr schema_cached;

static xmlRelaxNGPtr schema_load(TvError *err)
{
        xmlRelaxNGPtr s;

        pthread_mutex_lock(&schema_lock);
        if (!schema_cached)
                schema_cached = schema_compile(err);
        s = schema_cached;
        pthread_mutex_unlock(&schema_lock);
        return s;
}

/* The line of the first byte sequence that is not UTF-8 (or is NUL), or -1. */
static long bad_utf8_line(const char *buf, size_t len)
{
        long line = 1;
        size_t start = 0;

        for (size_t i = 0; i <= len; i++) {
                if (i == len || buf[i] == '\n') {
                        if (!tv_utf8_valid(buf + start, i - start))
                                return line;
                        line++;
                        start = i + 1;
                }
        }
        return -1;
}

static xmlDocPtr parse_xml(Ctx *c, const char *buf, size_t len)
{
        xmlParserCtxtPtr p;
        xmlDocPtr doc;
        bool ok;

        p = xmlNewParserCtxt();
        if (!p || !p->sax) {
                xmlFreeParserCtxt(p);
                return oom(c->err, c->origin), NULL;
        }
        p->_private = c;
        p->sax->internalSubset = on_doctype;    /* stop at "<!DOCTYPE", before any declaration */
        p->sax->externalSubset = on_doctype;
        p->sax->serror = on_parser_error;
        p->sax->initialized = XML_SAX2_MAGIC;
        /* No XML_PARSE_NOENT (never substitute entities), no DTDLOAD/DTDATTR/DTDVALID,
         * no XML_PARSE_HUGE (keep libxml2's depth and size limits); the input was
         * checked to be UTF-8, so an encoding declaration is ignored. */
        doc = xmlCtxtReadMemory(p, buf, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                                        XML_PARSE_IGNORE_ENC);
        ok = doc && p->wellFormed && !c->doctype && p->errNo == XML_ERR_OK;
        xmlFreeParserCtxt(p);
        if (c->doctype) {
                xmlFreeDoc(doc);
                return fail_at(c->err, c->origin, c->xml_line,
                               "documents with a DOCTYPE (DTDs, entity declarations) are refused"),
                       NULL;
        }
        if (!ok || !doc) {
                xmlFreeDoc(doc);
                if (c->have_xml)
                        return fail_at(c->err, c->origin, c->xml_line, "not well-formed XML: %s", c->xml_msg), NULL;
                return fail_at(c->err, c->origin, -1, "not well-formed XML"), NULL;
        }
        return doc;
}

/* ------------------------------------------------------------------------- */
/* Extraction                                                                */

static int parse_bpmp(Ctx *c, xmlNodePtr bpmp, Cat *cat)
{
        static const char *const no_attrs[] = { NULL };

        if (check_attrs(c, bpmp, no_attrs) < 0)
                return -1;
        for (xmlNodePtr n = bpmp->children; n; n = n->next) {
                ResKind kind;
                Resource r = { 0 };
                char *id = NULL;
                const char *why;

                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (is_el(n, "kernel-arg")) {
                        char *arg;

                        if (get_text(c, n, "<bpmp>: ", &arg) < 0)
                                return -1;
                        if ((why = kernel_arg_problem(arg))) {
                                fail(c, n, "<bpmp>: kernel argument '%s' %s", Q(arg), why);
                                free(arg);
                                return -1;
                        }
                        if (strv_contains(cat->bpmp_args, cat->n_bpmp_args, arg)) {
                                fail(c, n, "<bpmp>: kernel argument '%s' is listed twice", Q(arg));
                                free(arg);
                                return -1;
                        }
                        if (cat->n_bpmp_args >= MAX_BPMP_ARGS) {
                                free(arg);
                                return fail(c, n, "<bpmp>: more than %d kernel arguments", MAX_BPMP_ARGS);
                        }
                        if (strv_push(&cat->bpmp_args, &cat->n_bpmp_args, arg) < 0) {
                                free(arg);
                                return oom(c->err, c->origin);
                        }
                        continue;
                }
                if (is_el(n, "clock"))
                        kind = RK_CLOCK;
                else if (is_el(n, "reset"))
                        kind = RK_RESET;
                else if (is_el(n, "power-domain"))
                        kind = RK_PD;
                else
                        return fail(c, n, "unexpected element <%s> in <bpmp>", Q((const char *)n->name));

                {
                        static const char *const clock_attrs[] = { "id", "name", "parent", NULL };
                        static const char *const other_attrs[] = { "id", "name", NULL };

                        if (check_attrs(c, n, kind == RK_CLOCK ? clock_attrs : other_attrs) < 0)
                                return -1;
                }
                r.kind = kind;
                r.line = node_line(n);
                if (get_attr(c, n, "name", true, "<bpmp>: ", &r.name) < 0)
                        goto fail;
                if ((why = short_name_problem(r.name))) {
                        fail(c, n, "<bpmp>: %s name '%s' %s", rk_name[kind], Q(r.name), why);
                        goto fail;
                }
                if (get_attr(c, n, "id", true, "<bpmp>: ", &id) < 0)
                        goto fail;
                if (!parse_u32_dec(id, &r.id)) {
                        fail(c, n, "<bpmp>: %s '%s': id '%s' is not a decimal number in 0..4294967295",
                             rk_name[kind], r.name, Q(id));
                        goto fail;
                }
                free(id);
                id = NULL;
                if (kind == RK_CLOCK) {
                        if (get_attr(c, n, "parent", false, NULL, &r.parent) < 0)
                                goto fail;
                        if (r.parent && (why = short_name_problem(r.parent))) {
                                fail(c, n, "<bpmp>: clock '%s': parent '%s' %s", r.name, Q(r.parent), why);
                                goto fail;
                        }
                        if (r.parent && strcmp(r.parent, r.name) == 0) {
                                fail(c, n, "<bpmp>: clock '%s' is its own parent", r.name);
                                goto fail;
                        }
                }
                if (cat->n_res >= MAX_RESOURCES) {
                        fail(c, n, "<bpmp>: more than %d resources", MAX_RESOURCES);
                        goto fail;
                }
                r.origin = strdup(c->origin);
                if (!r.origin) {
                        oom(c->err, c->origin);
                        goto fail;
                }
                {
                        Resource *nr = realloc(cat->res, (cat->n_res + 1) * sizeof(*nr));

                        if (!nr) {
                                oom(c->err, c->origin);
                                goto fail;
                        }
                        cat->res = nr;
                        cat->res[cat->n_res++] = r;
                }
                continue;
fail:
                free(id);
                res_clear(&r);
                return -1;
        }
        return 0;
}

static int push_ref(Ctx *c, xmlNodePtr n, DevDraft *d, ResKind kind)
{
        static const char *const ref_attrs[] = { "ref", "role", NULL };
        const char *dn = d->dev.name;
        RefDraft r = { .kind = kind, .line = node_line(n) };
        const char *why;
        size_t count = 0;
        RefDraft *nr;

        if (check_attrs(c, n, ref_attrs) < 0)
                return -1;
        if (get_attr(c, n, "ref", true, "", &r.ref) < 0)
                return -1;
        if ((why = short_name_problem(r.ref))) {
                fail(c, n, "device '%s': %s reference '%s' %s", dn, rk_name[kind], Q(r.ref), why);
                goto fail;
        }
        if (get_attr(c, n, "role", false, NULL, &r.role) < 0)
                goto fail;
        if (r.role && !dt_name_valid(r.role)) {
                fail(c, n, "device '%s': %s '%s': role '%s' is not a valid DT name ([A-Za-z0-9_.,+-], 1..32)", dn,
                     rk_name[kind], r.ref, Q(r.role));
                goto fail;
        }
        for (size_t i = 0; i < d->n_refs; i++)
                if (d->refs[i].kind == kind)
                        count++;
        if (count >= MAX_REFS) {
                fail(c, n, "device '%s': more than %d %s references", dn, MAX_REFS, rk_name[kind]);
                goto fail;
        }
        nr = realloc(d->refs, (d->n_refs + 1) * sizeof(*nr));
        if (!nr) {
                oom(c->err, c->origin);
                goto fail;
        }
        d->refs = nr;
        d->refs[d->n_refs++] = r;
        return 0;
fail:
        free(r.ref);
        free(r.role);
        return -1;
}

static int parse_property(Ctx *c, xmlNodePtr n, DevDraft *d)
{
        static const char *const attrs[] = { "name", "type", NULL };
        TvCatalogDevice *dev = &d->dev;
        TvGuestProp p = { 0 };
        char *type = NULL, *text = NULL;
        size_t n_strings = 0;

        if (check_attrs(c, n, attrs) < 0)
                return -1;
        if (dev->n_guest_props >= MAX_PROPS)
                return fail(c, n, "device '%s': more than %d guest properties", dev->name, MAX_PROPS);
        if (get_attr(c, n, "name", true, "", &p.name) < 0)
                return -1;
        if (!dt_prop_name_valid(p.name)) {
                fail(c, n, "device '%s': property name '%s' is not a valid DT property name ([A-Za-z0-9,._+?#-], 1..31)",
                     dev->name, Q(p.name));
                goto fail;
        }
        if (prop_reserved(p.name)) {
                fail(c, n, "device '%s': property '%s' is written by tegravirt itself or refers to host phandles; "
                     "it cannot be set in <guest>", dev->name, p.name);
                goto fail;
        }
        for (size_t i = 0; i < dev->n_guest_props; i++)
                if (strcmp(dev->guest_props[i].name, p.name) == 0) {
                        fail(c, n, "device '%s': property '%s' is set twice", dev->name, p.name);
                        goto fail;
                }
        if (get_attr(c, n, "type", true, "", &type) < 0)
                goto fail;
        if (strcmp(type, "empty") == 0) {
                p.type = TV_PROP_EMPTY;
                if (get_text(c, n, "", &text) < 0)
                        goto fail;
                for (const char *s = text; *s; s++)
                        if (!is_space(*s)) {
                                fail(c, n, "device '%s': property '%s' has type 'empty' but a value", dev->name,
                                     p.name);
                                goto fail;
                        }
        } else if (strcmp(type, "u32") == 0) {
                char *s, *save = NULL;

                p.type = TV_PROP_U32;
                if (get_text(c, n, "", &text) < 0)
                        goto fail;
                p.cells = xcalloc(MAX_CELLS, sizeof(uint32_t));
                if (!p.cells) {
                        oom(c->err, c->origin);
                        goto fail;
                }
                for (s = strtok_r(text, " \t\r\n", &save); s; s = strtok_r(NULL, " \t\r\n", &save)) {
                        if (p.n_cells >= MAX_CELLS) {
                                fail(c, n, "device '%s': property '%s' has more than %d cells", dev->name, p.name,
                                     MAX_CELLS);
                                goto fail;
                        }
                        if (!parse_cell(s, &p.cells[p.n_cells])) {
                                fail(c, n, "device '%s': property '%s': '%s' is not a u32 (decimal or 0x hex)",
                                     dev->name, p.name, Q(s));
                                goto fail;
                        }
                        p.n_cells++;
                }
                if (p.n_cells == 0) {
                        fail(c, n, "device '%s': property '%s' has type 'u32' but no value", dev->name, p.name);
                        goto fail;
                }
        } else if (strcmp(type, "string") == 0) {
                p.type = TV_PROP_STRING;
                p.strings = xcalloc(1, sizeof(char *));
                if (!p.strings) {
                        oom(c->err, c->origin);
                        goto fail;
                }
                for (xmlNodePtr k = n->children; k; k = k->next) {
                        char *v;

                        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
                                for (const xmlChar *s = k->content; s && *s; s++)
                                        if (!is_space((char)*s)) {
                                                fail(c, n, "device '%s': property '%s': string values go in <value> "
                                                     "elements", dev->name, p.name);
                                                goto fail;
                                        }
                                continue;
                        }
                        if (k->type != XML_ELEMENT_NODE)
                                continue;
                        if (!is_el(k, "value")) {
                                fail(c, k, "device '%s': unexpected element <%s> in property '%s'", dev->name,
                                     Q((const char *)k->name), p.name);
                                goto fail;
                        }
                        if (n_strings >= MAX_STRINGS) {
                                fail(c, k, "device '%s': property '%s' has more than %d strings", dev->name, p.name,
                                     MAX_STRINGS);
                                goto fail;
                        }
                        if (get_text(c, k, "", &v) < 0)
                                goto fail;
                        if (!prop_string_valid(v)) {
                                fail(c, k, "device '%s': property '%s': value '%s' must be 1..255 printable ASCII "
                                     "characters", dev->name, p.name, Q(v));
                                free(v);
                                goto fail;
                        }
                        if (strv_push(&p.strings, &n_strings, v) < 0) {
                                free(v);
                                oom(c->err, c->origin);
                                goto fail;
                        }
                }
                if (n_strings == 0) {
                        fail(c, n, "device '%s': property '%s' has type 'string' but no <value>", dev->name, p.name);
                        goto fail;
                }
        } else {
                fail(c, n, "device '%s': property '%s': type '%s' is not one of empty, u32, string", dev->name,
                     p.name, Q(type));
                goto fail;
        }
        {
                TvGuestProp *np = realloc(dev->guest_props, (dev->n_guest_props + 1) * sizeof(*np));

                if (!np) {
                        oom(c->err, c->origin);
                        goto fail;
                }
                dev->guest_props = np;
                dev->guest_props[dev->n_guest_props++] = p;
        }
        free(type);
        free(text);
        return 0;
fail:
        free(type);
        free(text);
        free(p.name);
        free(p.cells);
        tv_strv_free(p.strings);
        return -1;
}

static int parse_guest(Ctx *c, xmlNodePtr g, DevDraft *d)
{
        static const char *const no_attrs[] = { NULL };
        TvCatalogDevice *dev = &d->dev;
        size_t n_compat = 0;

        if (check_attrs(c, g, no_attrs) < 0)
                return -1;
        dev->guest_compatible = xcalloc(1, sizeof(char *));
        if (!dev->guest_compatible)
                return oom(c->err, c->origin);
        for (xmlNodePtr n = g->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (is_el(n, "compatible")) {
                        char *s;

                        if (check_attrs(c, n, no_attrs) < 0 || get_text(c, n, "", &s) < 0)
                                return -1;
                        if (!compatible_valid(s)) {
                                fail(c, n, "device '%s': compatible '%s' is not a valid compatible string "
                                     "([A-Za-z0-9,._+-], 1..128)", dev->name, Q(s));
                                free(s);
                                return -1;
                        }
                        if (strv_contains(dev->guest_compatible, n_compat, s)) {
                                fail(c, n, "device '%s': compatible '%s' is listed twice", dev->name, s);
                                free(s);
                                return -1;
                        }
                        if (n_compat >= MAX_COMPATIBLE) {
                                free(s);
                                return fail(c, n, "device '%s': more than %d compatible strings", dev->name,
                                            MAX_COMPATIBLE);
                        }
                        if (strv_push(&dev->guest_compatible, &n_compat, s) < 0) {
                                free(s);
                                return oom(c->err, c->origin);
                        }
                } else if (is_el(n, "property")) {
                        if (parse_property(c, n, d) < 0)
                                return -1;
                } else {
                        return fail(c, n, "device '%s': unexpected element <%s> in <guest>", dev->name,
                                    Q((const char *)n->name));
                }
        }
        if (n_compat == 0)
                return fail(c, g, "device '%s': <guest> has no <compatible>", dev->name);
        return 0;
}

static int parse_reg(Ctx *c, xmlNodePtr n, DevDraft *d)
{
        static const char *const attrs[] = { "base", "size", "name", NULL };
        TvCatalogDevice *dev = &d->dev;
        TvRegion r = { 0 };
        char *base = NULL, *size = NULL;

        if (check_attrs(c, n, attrs) < 0)
                return -1;
        if (dev->n_regions >= MAX_REGIONS)
                return fail(c, n, "device '%s': more than %d <reg> windows", dev->name, MAX_REGIONS);
        if (get_attr(c, n, "base", true, "", &base) < 0 || get_attr(c, n, "size", true, "", &size) < 0)
                goto fail;
        if (!parse_hex(base, 16, &r.base)) {
                fail(c, n, "device '%s': reg base '%s' is not a hex number (0x followed by 1..16 hex digits)",
                     dev->name, Q(base));
                goto fail;
        }
        if (!parse_hex(size, 16, &r.size)) {
                fail(c, n, "device '%s': reg size '%s' is not a hex number (0x followed by 1..16 hex digits)",
                     dev->name, Q(size));
                goto fail;
        }
        if (r.size == 0) {
                fail(c, n, "device '%s': reg window at 0x%" PRIx64 " has size 0", dev->name, r.base);
                goto fail;
        }
        if (r.base > UINT64_MAX - r.size) {
                fail(c, n, "device '%s': reg window 0x%" PRIx64 " + 0x%" PRIx64 " overflows 64 bits", dev->name,
                     r.base, r.size);
                goto fail;
        }
        if (get_attr(c, n, "name", false, NULL, &r.name) < 0)
                goto fail;
        if (r.name && !dt_name_valid(r.name)) {
                fail(c, n, "device '%s': reg name '%s' is not a valid DT name ([A-Za-z0-9_.,+-], 1..32)", dev->name,
                     Q(r.name));
                goto fail;
        }
        free(base);
        free(size);
        base = size = NULL;
        {
                TvRegion *nr = realloc(dev->regions, (dev->n_regions + 1) * sizeof(*nr));
                long *nl = realloc(d->region_lines, (dev->n_regions + 1) * sizeof(*nl));

                if (nr)
                        dev->regions = nr;
                if (nl)
                        d->region_lines = nl;
                if (!nr || !nl) {
                        oom(c->err, c->origin);
                        goto fail;
                }
        }
        d->region_lines[dev->n_regions] = node_line(n);
        dev->regions[dev->n_regions++] = r;
        return 0;
fail:
        free(base);
        free(size);
        free(r.name);
        return -1;
}

/* <host node= driver=><iommu smmu= stream-id=/></host>: what the host overlay changes. */
static int parse_host(Ctx *c, xmlNodePtr h, DevDraft *d)
{
        static const char *const host_attrs[] = { "node", "driver", NULL };
        static const char *const iommu_attrs[] = { "smmu", "stream-id", NULL };
        TvCatalogDevice *dev = &d->dev;
        char *driver = NULL, *sid = NULL;
        const char *why;
        int r = -1;

        if (check_attrs(c, h, host_attrs) < 0 || get_attr(c, h, "node", true, "", &dev->host_node) < 0)
                return -1;
        if ((why = host_node_problem(dev->host_node, dev->platform_id)))
                return fail(c, h, "device '%s': host node '%s' %s", dev->name, Q(dev->host_node), why);
        if (get_attr(c, h, "driver", false, NULL, &driver) < 0)
                return -1;
        if (driver && strcmp(driver, "off") != 0 && strcmp(driver, "keep") != 0) {
                fail(c, h, "device '%s': host driver '%s' is neither 'off' nor 'keep'", dev->name, Q(driver));
                goto out;
        }
        dev->host_driver_off = driver && strcmp(driver, "off") == 0;
        for (xmlNodePtr k = h->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (!is_el(k, "iommu") || dev->host_smmu) {
                        fail(c, k, "device '%s': unexpected element <%s> in <host>", dev->name,
                             Q((const char *)k->name));
                        goto out;
                }
                if (check_attrs(c, k, iommu_attrs) < 0 || get_attr(c, k, "smmu", true, "", &dev->host_smmu) < 0 ||
                    get_attr(c, k, "stream-id", true, "", &sid) < 0)
                        goto out;
                if (!dt_label_valid(dev->host_smmu)) {
                        fail(c, k, "device '%s': smmu '%s' is not a device-tree label", dev->name,
                             Q(dev->host_smmu));
                        goto out;
                }
                /* ARM SMMU stream IDs are at most 16 bits wide */
                if (!parse_cell(sid, &dev->host_stream_id) || dev->host_stream_id > 0xffff) {
                        fail(c, k, "device '%s': stream-id '%s' is not a number in 0..0xffff", dev->name, Q(sid));
                        goto out;
                }
        }
        r = 0;
out:
        free(driver);
        free(sid);
        return r;
}

static int parse_device(Ctx *c, xmlNodePtr n, DevDraft *d)
{
        static const char *const dev_attrs[] = { "name", "platform-id", "kind", "unsafe-interrupts", NULL };
        static const char *const no_attrs[] = { NULL };
        TvCatalogDevice *dev = &d->dev;
        size_t n_hazards = 0;
        char *unsafe = NULL;
        const char *why;
        bool have_guest = false;
        char pfx[96];

        d->line = node_line(n);
        dev->origin = strdup(c->origin);
        dev->hazards = xcalloc(1, sizeof(char *));
        if (!dev->origin || !dev->hazards)
                return oom(c->err, c->origin);
        if (check_attrs(c, n, dev_attrs) < 0)
                return -1;
        if (get_attr(c, n, "name", true, "", &dev->name) < 0)
                return -1;
        if ((why = short_name_problem(dev->name))) {
                /* the name is not safe to print in full: it may be 4 KiB of anything */
                return fail(c, n, "device name '%s' %s", Q(dev->name), why);
        }
        snprintf(pfx, sizeof(pfx), "device '%s': ", dev->name);
        if (get_attr(c, n, "platform-id", true, pfx, &dev->platform_id) < 0)
                return -1;
        {
                const char *pid = dev->platform_id, *dot = strchr(pid, '.');
                size_t hex_len = dot ? (size_t)(dot - pid) : 0;
                bool ok = tv_device_token_valid(pid) && dot && hex_len >= 1 && hex_len <= 16 &&
                          !(hex_len > 1 && pid[0] == '0') && dot[1] && dot[1] != '-';

                for (size_t i = 0; ok && i < hex_len; i++)
                        ok = (pid[i] >= '0' && pid[i] <= '9') || (pid[i] >= 'a' && pid[i] <= 'f');
                for (const char *s = dot ? dot + 1 : ""; ok && *s; s++)
                        ok = in_set(*s, "_-") || upper_alpha(*s);
                if (!ok)
                        return fail(c, n,
                                    "device '%s': platform-id '%s' is not '<unit address in lower-case hex>.<node name>' "
                                    "(for example 3100000.serial)",
                                    dev->name, Q(pid));
        }
        if (get_attr(c, n, "kind", true, pfx, &dev->kind) < 0)
                return -1;
        if (!kind_valid(dev->kind))
                return fail(c, n, "device '%s': kind '%s' is not valid ([a-z][a-z0-9_-], up to 32 bytes)", dev->name,
                            Q(dev->kind));
        if (get_attr(c, n, "unsafe-interrupts", false, NULL, &unsafe) < 0)
                return -1;
        if (!unsafe || strcmp(unsafe, "required") == 0) {
                dev->needs_unsafe_interrupts = true;
        } else if (strcmp(unsafe, "not-required") == 0) {
                dev->needs_unsafe_interrupts = false;
        } else {
                fail(c, n, "device '%s': unsafe-interrupts '%s' is neither 'required' nor 'not-required'", dev->name,
                     Q(unsafe));
                free(unsafe);
                return -1;
        }
        free(unsafe);

        for (xmlNodePtr k = n->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (is_el(k, "description")) {
                        if (dev->description)
                                return fail(c, k, "device '%s': more than one <description>", dev->name);
                        if (check_attrs(c, k, no_attrs) < 0 ||
                            get_prose(c, k, pfx, &dev->description) < 0)
                                return -1;
                } else if (is_el(k, "reg")) {
                        if (parse_reg(c, k, d) < 0)
                                return -1;
                } else if (is_el(k, "interrupt")) {
                        static const char *const attrs[] = { "spi", NULL };
                        char *spi;
                        uint32_t v;

                        if (check_attrs(c, k, attrs) < 0 || get_attr(c, k, "spi", true, "", &spi) < 0)
                                return -1;
                        if (!parse_u32_dec(spi, &v) || v > MAX_SPI) {
                                fail(c, k, "device '%s': interrupt spi '%s' is not a GIC SPI number (0..%d)",
                                     dev->name, Q(spi), MAX_SPI);
                                free(spi);
                                return -1;
                        }
                        free(spi);
                        for (size_t i = 0; i < dev->n_irqs; i++)
                                if (dev->host_irqs[i] == v)
                                        return fail(c, k, "device '%s': interrupt spi %" PRIu32 " is listed twice",
                                                    dev->name, v);
                        if (dev->n_irqs >= MAX_IRQS)
                                return fail(c, k, "device '%s': more than %d interrupts", dev->name, MAX_IRQS);
                        {
                                uint32_t *ni = realloc(dev->host_irqs, (dev->n_irqs + 1) * sizeof(*ni));

                                if (!ni)
                                        return oom(c->err, c->origin);
                                dev->host_irqs = ni;
                                dev->host_irqs[dev->n_irqs++] = v;
                        }
                } else if (is_el(k, "guest")) {
                        if (have_guest)
                                return fail(c, k, "device '%s': more than one <guest>", dev->name);
                        have_guest = true;
                        if (parse_guest(c, k, d) < 0)
                                return -1;
                } else if (is_el(k, "host")) {
                        if (dev->host_node)
                                return fail(c, k, "device '%s': more than one <host>", dev->name);
                        if (parse_host(c, k, d) < 0)
                                return -1;
                } else if (is_el(k, "clock")) {
                        if (push_ref(c, k, d, RK_CLOCK) < 0)
                                return -1;
                } else if (is_el(k, "reset")) {
                        if (push_ref(c, k, d, RK_RESET) < 0)
                                return -1;
                } else if (is_el(k, "power-domain")) {
                        if (push_ref(c, k, d, RK_PD) < 0)
                                return -1;
                } else if (is_el(k, "kernel-arg")) {
                        char *arg;

                        if (check_attrs(c, k, no_attrs) < 0 || get_text(c, k, "", &arg) < 0)
                                return -1;
                        if ((why = kernel_arg_problem(arg))) {
                                fail(c, k, "device '%s': kernel argument '%s' %s", dev->name, Q(arg), why);
                                free(arg);
                                return -1;
                        }
                        if (strv_contains(d->args, d->n_args, arg)) {
                                fail(c, k, "device '%s': kernel argument '%s' is listed twice", dev->name, Q(arg));
                                free(arg);
                                return -1;
                        }
                        if (d->n_args >= MAX_DEV_ARGS) {
                                free(arg);
                                return fail(c, k, "device '%s': more than %d kernel arguments", dev->name,
                                            MAX_DEV_ARGS);
                        }
                        if (strv_push(&d->args, &d->n_args, arg) < 0) {
                                free(arg);
                                return oom(c->err, c->origin);
                        }
                } else if (is_el(k, "hazard")) {
                        char *h;

                        if (n_hazards >= MAX_HAZARDS)
                                return fail(c, k, "device '%s': more than %d hazards", dev->name, MAX_HAZARDS);
                        if (check_attrs(c, k, no_attrs) < 0 || get_prose(c, k, pfx, &h) < 0)
                                return -1;
                        if (strv_push(&dev->hazards, &n_hazards, h) < 0) {
                                free(h);
                                return oom(c->err, c->origin);
                        }
                } else {
                        return fail(c, k, "device '%s': unexpected element <%s>", dev->name,
                                    Q((const char *)k->name));
                }
        }

        if (dev->n_regions == 0)
                return fail(c, n, "device '%s' has no <reg> window", dev->name);
        if (!have_guest)
                return fail(c, n, "device '%s' has no <guest> element", dev->name);

        /* reg-names: all windows named or none, and no name twice */
        for (size_t i = 0; i < dev->n_regions; i++) {
                if (!dev->regions[i].name != !dev->regions[0].name)
                        return fail_at(c->err, c->origin, d->region_lines[i],
                                       "device '%s': either every <reg> has a name or none has", dev->name);
                for (size_t j = 0; dev->regions[i].name && j < i; j++)
                        if (strcmp(dev->regions[i].name, dev->regions[j].name) == 0)
                                return fail_at(c->err, c->origin, d->region_lines[i],
                                               "device '%s': reg name '%s' is used twice", dev->name,
                                               dev->regions[i].name);
        }
        /* the platform-bus name comes from the first reg window */
        {
                char expect[24];
                size_t hex_len = (size_t)(strchr(dev->platform_id, '.') - dev->platform_id);

                snprintf(expect, sizeof(expect), "%" PRIx64, dev->regions[0].base);
                if (strlen(expect) != hex_len || strncmp(expect, dev->platform_id, hex_len) != 0)
                        return fail(c, n, "device '%s': platform-id '%s' does not match the first <reg> base 0x%08" PRIx64
                                    " (expected '%s%s')",
                                    dev->name, dev->platform_id, dev->regions[0].base, expect,
                                    strchr(dev->platform_id, '.'));
        }
        /* interrupt-names must match the interrupts */
        for (size_t i = 0; i < dev->n_guest_props; i++) {
                const TvGuestProp *p = &dev->guest_props[i];
                size_t ns = 0;

                if (strcmp(p->name, "interrupt-names") != 0)
                        continue;
                while (p->type == TV_PROP_STRING && p->strings[ns])
                        ns++;
                if (p->type != TV_PROP_STRING || ns != dev->n_irqs)
                        return fail(c, n, "device '%s': interrupt-names must list %zu names, one per <interrupt>",
                                    dev->name, dev->n_irqs);
        }
        return 0;
}

/* ------------------------------------------------------------------------- */
/* Resource index                                                            */

static int res_cmp_name(const void *a, const void *b)
{
        const Resource *x = *(const Resource *const *)a, *y = *(const Resource *const *)b;

        if (x->kind != y->kind)
                return (int)x->kind - (int)y->kind;
        return strcmp(x->name, y->name);
}

static int res_cmp_id(const void *a, const void *b)
{
        const Resource *x = *(const Resource *const *)a, *y = *(const Resource *const *)b;

        if (x->kind != y->kind)
                return (int)x->kind - (int)y->kind;
        if (x->id != y->id)
                return x->id < y->id ? -1 : 1;
        /* stable order for messages: earlier line first */
        return x->line < y->line ? -1 : x->line > y->line;
}

static int res_cmp_line(const void *a, const void *b)
{
        const Resource *x = *(const Resource *const *)a, *y = *(const Resource *const *)b;

        return x->line < y->line ? -1 : x->line > y->line;
}

typedef struct ResIndex {
        Resource **by_name;
        size_t n;
} ResIndex;

static int index_build(ResIndex *ix, Cat *cat)
{
        ix->n = cat->n_res;
        ix->by_name = xcalloc(cat->n_res, sizeof(Resource *));
        if (!ix->by_name)
                return -1;
        for (size_t i = 0; i < cat->n_res; i++)
                ix->by_name[i] = &cat->res[i];
        qsort(ix->by_name, ix->n, sizeof(Resource *), res_cmp_name);
        return 0;
}

static Resource *index_find(const ResIndex *ix, ResKind kind, const char *name)
{
        Resource key = { .kind = kind, .name = (char *)name }, *kp = &key, **hit;

        hit = bsearch(&kp, ix->by_name, ix->n, sizeof(Resource *), res_cmp_name);
        return hit ? *hit : NULL;
}

/* Within one document: every (kind, name) and (kind, id) once. */
static int check_resources_unique(Ctx *c, Cat *cat)
{
        Resource **v = xcalloc(cat->n_res, sizeof(Resource *)), **dups;
        size_t n_dups = 0;

        if (!v)
                return oom(c->err, c->origin);
        dups = xcalloc(cat->n_res, sizeof(Resource *));
        if (!dups) {
                free(v);
                return oom(c->err, c->origin);
        }
        /* report the duplicate that comes first in the document */
        for (size_t i = 0; i < cat->n_res; i++)
                v[i] = &cat->res[i];
        qsort(v, cat->n_res, sizeof(Resource *), res_cmp_name);
        for (size_t i = 1; i < cat->n_res; i++)
                if (res_cmp_name(&v[i - 1], &v[i]) == 0)
                        dups[n_dups++] = v[i - 1]->line > v[i]->line ? v[i - 1] : v[i];
        if (n_dups) {
                Resource *d, *other = NULL;

                qsort(dups, n_dups, sizeof(Resource *), res_cmp_line);
                d = dups[0];
                for (size_t i = 0; i < cat->n_res && !other; i++)
                        if (&cat->res[i] != d && cat->res[i].kind == d->kind && strcmp(cat->res[i].name, d->name) == 0)
                                other = &cat->res[i];
                fail_at(c->err, c->origin, d->line, "<bpmp>: %s '%s' is declared twice (also line %ld)",
                        rk_name[d->kind], d->name, other ? other->line : -1L);
                goto out;
        }
        qsort(v, cat->n_res, sizeof(Resource *), res_cmp_id);
        for (size_t i = 1; i < cat->n_res; i++)
                if (v[i - 1]->kind == v[i]->kind && v[i - 1]->id == v[i]->id)
                        dups[n_dups++] = v[i];
        if (n_dups) {
                Resource *d, *first = NULL;

                qsort(dups, n_dups, sizeof(Resource *), res_cmp_line);
                d = dups[0];
                for (size_t i = 0; i < cat->n_res && !first; i++)
                        if (cat->res[i].kind == d->kind && cat->res[i].id == d->id && &cat->res[i] != d)
                                first = &cat->res[i];
                fail_at(c->err, c->origin, d->line,
                        "<bpmp>: %s id %" PRIu32 " is declared twice, as '%s' and as '%s' (line %ld); "
                        "every BPMP ID is written down once",
                        rk_name[d->kind], d->id, d->name, first ? first->name : "?", first ? first->line : -1L);
        }
out:
        free(v);
        free(dups);
        return n_dups ? -1 : 0;
}

/* ------------------------------------------------------------------------- */
/* One document                                                              */

static int parse_doc(const char *buf, size_t len, const char *origin, xmlRelaxNGPtr schema, Cat **out,
                     TvError *err)
{
        Ctx c = { .origin = origin ? origin : "(buffer)", .err = err };
        TvXmlErrorScope sv;
        xmlDocPtr doc = NULL;
        xmlNodePtr root;
        Cat *cat = NULL;
        bool schema_ok = false;
        char schema_msg[sizeof(c.xml_msg)] = "";
        long schema_line = -1;
        int r = -1;

        if (!buf)
                return fail_at(err, c.origin, -1, "no document");
        if (len > TV_CATALOG_MAX_BYTES)
                return fail_at(err, c.origin, -1, "document is %zu bytes, more than the limit of %d", len,
                               TV_CATALOG_MAX_BYTES);
        if (len == 0)
                return fail_at(err, c.origin, -1, "document is empty");
        {
                long bad = bad_utf8_line(buf, len);

                if (bad > 0)
                        return fail_at(err, c.origin, bad, "not valid UTF-8 (or contains a NUL byte)");
        }

        xmlInitParser();
        tv_xml_errors_push(&sv, &c, on_structured_error, on_generic_error);
        doc = parse_xml(&c, buf, len);
        if (!doc)
                goto out;
        root = xmlDocGetRootElement(doc);
        if (!root || !is_el(root, "catalog")) {
                fail(&c, root, "the root element must be <catalog xmlns=\"%s\">, not <%s>%s%s%s", CAT_NS,
                     root ? Q((const char *)root->name) : "(none)",
                     root && root->ns && root->ns->href ? " in namespace '" : " without a namespace",
                     root && root->ns && root->ns->href ? Q((const char *)root->ns->href) : "",
                     root && root->ns && root->ns->href ? "'" : "");
                goto out;
        }

        /* schema first; its complaint is kept until our own pass has had its say */
        c.have_xml = c.have_xml_line = false;
        {
                xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schema);
                int vr;

                if (!v) {
                        oom(err, c.origin);
                        goto out;
                }
                xmlRelaxNGSetValidStructuredErrors(v, on_structured_error, &c);
                vr = xmlRelaxNGValidateDoc(v, doc);
                xmlRelaxNGFreeValidCtxt(v);
                schema_ok = vr == 0;
                if (!schema_ok) {
                        snprintf(schema_msg, sizeof(schema_msg), "%s",
                                 c.have_xml ? c.xml_msg : "document does not match the catalog schema");
                        schema_line = c.have_xml ? c.xml_line : -1;
                }
        }

        cat = xcalloc(1, sizeof(*cat));
        if (!cat) {
                oom(err, c.origin);
                goto out;
        }
        cat->line = node_line(root);
        cat->origin = strdup(c.origin);
        if (!cat->origin) {
                oom(err, c.origin);
                goto out;
        }
        {
                static const char *const attrs[] = { "soc", NULL };

                if (check_attrs(&c, root, attrs) < 0 || get_attr(&c, root, "soc", true, "", &cat->soc) < 0)
                        goto out;
                if (!soc_valid(cat->soc)) {
                        fail(&c, root, "soc '%s' is not valid ([a-z][a-z0-9], up to 32 bytes)", Q(cat->soc));
                        goto out;
                }
        }
        {
                bool seen_bpmp = false;

                for (xmlNodePtr n = root->children; n; n = n->next) {
                        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
                                for (const xmlChar *s = n->content; s && *s; s++)
                                        if (!is_space((char)*s)) {
                                                fail(&c, n, "unexpected text in <catalog>");
                                                goto out;
                                        }
                                continue;
                        }
                        if (n->type != XML_ELEMENT_NODE)
                                continue;
                        if (is_el(n, "bpmp")) {
                                if (seen_bpmp) {
                                        fail(&c, n, "more than one <bpmp> section");
                                        goto out;
                                }
                                seen_bpmp = true;
                                if (parse_bpmp(&c, n, cat) < 0)
                                        goto out;
                        } else if (is_el(n, "device")) {
                                DevDraft *nd;

                                if (cat->n_devs >= TV_CATALOG_MAX_DEVICES) {
                                        fail(&c, n, "more than %d devices", TV_CATALOG_MAX_DEVICES);
                                        goto out;
                                }
                                nd = realloc(cat->devs, (cat->n_devs + 1) * sizeof(*nd));
                                if (!nd) {
                                        oom(err, c.origin);
                                        goto out;
                                }
                                cat->devs = nd;
                                memset(&cat->devs[cat->n_devs], 0, sizeof(*nd));
                                cat->n_devs++;
                                if (parse_device(&c, n, &cat->devs[cat->n_devs - 1]) < 0)
                                        goto out;
                        } else {
                                fail(&c, n, "unexpected element <%s> in <catalog>", Q((const char *)n->name));
                                goto out;
                        }
                }
        }
        /* our pass found nothing more specific than what the schema says */
        if (!schema_ok) {
                fail_at(err, c.origin, schema_line, "does not match the catalog schema: %s", schema_msg);
                goto out;
        }
        if (check_resources_unique(&c, cat) < 0)
                goto out;
        for (size_t i = 0; i < cat->n_devs; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(cat->devs[i].dev.name, cat->devs[j].dev.name) == 0) {
                                fail_at(err, c.origin, cat->devs[i].line,
                                        "device name '%s' is already used by the device at line %ld",
                                        cat->devs[i].dev.name, cat->devs[j].line);
                                goto out;
                        }
        *out = cat;
        cat = NULL;
        r = 0;
out:
        xmlFreeDoc(doc);
        tv_xml_errors_pop(&sv);
        cat_free(cat);
        return r;
}

/* ------------------------------------------------------------------------- */
/* Merging and finalizing                                                    */

static int move_resource(Cat *dst, Resource *r)
{
        Resource *nr;

        if (dst->n_res >= MAX_RESOURCES)
                return -2;
        nr = realloc(dst->res, (dst->n_res + 1) * sizeof(*nr));
        if (!nr)
                return -1;
        dst->res = nr;
        dst->res[dst->n_res++] = *r;
        memset(r, 0, sizeof(*r));
        return 0;
}

/* Merges override ov into base; ov is consumed (emptied) on success. */
static int merge(Cat *base, Cat *ov, TvError *err)
{
        if (strcmp(base->soc, ov->soc) != 0)
                return fail_at(err, ov->origin, ov->line, "soc '%s' does not match soc '%s' of the shipped catalog",
                               ov->soc, base->soc);

        /* BPMP resources: new ones are added; an identical redeclaration is accepted,
         * anything else would write an ID down twice */
        for (size_t i = 0; i < ov->n_res; i++) {
                Resource *r = &ov->res[i];
                Resource *same_name = NULL, *same_id = NULL;
                int m;

                for (size_t j = 0; j < base->n_res; j++) {
                        Resource *b = &base->res[j];

                        if (b->kind != r->kind)
                                continue;
                        if (strcmp(b->name, r->name) == 0)
                                same_name = b;
                        if (b->id == r->id)
                                same_id = b;
                }
                if (same_name && same_name == same_id && streq_null(same_name->parent, r->parent))
                        continue;
                if (same_name)
                        return fail_at(err, ov->origin, r->line,
                                       "<bpmp>: %s '%s' is already declared with id %" PRIu32 "%s%s%s in "
                                       "catalog %s line %ld; a BPMP resource cannot be redefined",
                                       rk_name[r->kind], r->name, same_name->id,
                                       same_name->parent ? " and parent '" : "",
                                       same_name->parent ? same_name->parent : "", same_name->parent ? "'" : "",
                                       same_name->origin, same_name->line);
                if (same_id)
                        return fail_at(err, ov->origin, r->line,
                                       "<bpmp>: %s id %" PRIu32 " is already declared as '%s' in catalog %s line %ld; "
                                       "every BPMP ID is written down once",
                                       rk_name[r->kind], r->id, same_id->name, same_id->origin, same_id->line);
                m = move_resource(base, r);
                if (m == -2)
                        return fail_at(err, ov->origin, -1, "more than %d BPMP resources after merging",
                                       MAX_RESOURCES);
                if (m < 0)
                        return oom(err, ov->origin);
        }
        for (size_t i = 0; i < ov->n_bpmp_args; i++) {
                if (strv_contains(base->bpmp_args, base->n_bpmp_args, ov->bpmp_args[i]))
                        continue;
                if (base->n_bpmp_args >= MAX_BPMP_ARGS)
                        return fail_at(err, ov->origin, -1, "more than %d BPMP kernel arguments after merging",
                                       MAX_BPMP_ARGS);
                if (strv_push(&base->bpmp_args, &base->n_bpmp_args, ov->bpmp_args[i]) < 0)
                        return oom(err, ov->origin);
                ov->bpmp_args[i] = NULL;        /* moved */
        }

        /* devices: same name replaces, new name is added */
        for (size_t i = 0; i < ov->n_devs; i++) {
                DevDraft *d = &ov->devs[i];
                size_t j;

                for (j = 0; j < base->n_devs; j++)
                        if (strcmp(base->devs[j].dev.name, d->dev.name) == 0)
                                break;
                if (j < base->n_devs) {
                        draft_clear(&base->devs[j]);
                        base->devs[j] = *d;
                } else {
                        DevDraft *nd;

                        if (base->n_devs >= TV_CATALOG_MAX_DEVICES)
                                return fail_at(err, ov->origin, d->line,
                                               "device '%s': more than %d devices after merging", d->dev.name,
                                               TV_CATALOG_MAX_DEVICES);
                        nd = realloc(base->devs, (base->n_devs + 1) * sizeof(*nd));
                        if (!nd)
                                return oom(err, ov->origin);
                        base->devs = nd;
                        base->devs[base->n_devs++] = *d;
                }
                memset(d, 0, sizeof(*d));
        }
        return 0;
}

static int refs_resolve(DevDraft *d, ResKind kind, const ResIndex *ix, TvBpmpRef **out, size_t *n_out, TvError *err)
{
        TvCatalogDevice *dev = &d->dev;
        size_t n = 0, with_role = 0;
        TvBpmpRef *v;
        long first_line = -1;

        for (size_t i = 0; i < d->n_refs; i++)
                if (d->refs[i].kind == kind)
                        n++;
        *out = NULL;
        *n_out = 0;
        if (n == 0)
                return 0;
        v = xcalloc(n, sizeof(*v));
        if (!v)
                return oom(err, dev->origin);
        *out = v;
        for (size_t i = 0; i < d->n_refs; i++) {
                RefDraft *r = &d->refs[i];
                Resource *res;
                size_t k = *n_out;

                if (r->kind != kind)
                        continue;
                if (first_line < 0)
                        first_line = r->line;
                res = index_find(ix, kind, r->ref);
                if (!res)
                        return fail_at(err, dev->origin, r->line, "device '%s': %s '%s' is not declared in <bpmp>",
                                       dev->name, rk_name[kind], r->ref);
                for (size_t j = 0; j < k; j++) {
                        if (strcmp(v[j].name, r->ref) == 0)
                                return fail_at(err, dev->origin, r->line, "device '%s': %s '%s' is listed twice",
                                               dev->name, rk_name[kind], r->ref);
                        if (r->role && v[j].role && strcmp(v[j].role, r->role) == 0)
                                return fail_at(err, dev->origin, r->line,
                                               "device '%s': %s role '%s' is used twice", dev->name, rk_name[kind],
                                               r->role);
                }
                v[k].id = res->id;
                v[k].name = strdup(res->name);
                if (!v[k].name)
                        return oom(err, dev->origin);
                if (r->role) {
                        v[k].role = strdup(r->role);
                        if (!v[k].role)
                                return oom(err, dev->origin);
                        with_role++;
                }
                (*n_out)++;
        }
        if (with_role != 0 && with_role != n)
                return fail_at(err, dev->origin, first_line,
                               "device '%s': either every %s reference has a role or none has "
                               "(they become the %s-names list)",
                               dev->name, rk_name[kind], kind == RK_PD ? "power-domain" : rk_name[kind]);
        return 0;
}

static int resolve_device(DevDraft *d, const ResIndex *ix, Cat *cat, TvError *err)
{
        TvCatalogDevice *dev = &d->dev;
        size_t n_args = 0;

        if (refs_resolve(d, RK_CLOCK, ix, &dev->clocks, &dev->n_clocks, err) < 0 ||
            refs_resolve(d, RK_RESET, ix, &dev->resets, &dev->n_resets, err) < 0 ||
            refs_resolve(d, RK_PD, ix, &dev->power_domains, &dev->n_power_domains, err) < 0)
                return -1;

        /* the guest's clk_prepare() enables the whole parent chain through the
         * BPMP proxy, so every ancestor must be one of the device's clocks */
        for (size_t i = 0; i < dev->n_clocks; i++) {
                const char *child = dev->clocks[i].name;
                size_t steps = 0;

                for (;;) {
                        Resource *cr = index_find(ix, RK_CLOCK, child);
                        bool present = false;
                        long line = -1;

                        if (!cr || !cr->parent)
                                break;
                        for (size_t j = 0; j < dev->n_clocks; j++)
                                if (strcmp(dev->clocks[j].name, cr->parent) == 0)
                                        present = true;
                        for (size_t j = 0; j < d->n_refs && line < 0; j++)
                                if (d->refs[j].kind == RK_CLOCK && strcmp(d->refs[j].ref, dev->clocks[i].name) == 0)
                                        line = d->refs[j].line;
                        if (!present)
                                return fail_at(err, dev->origin, line,
                                               "device '%s': clock '%s' has parent '%s' (declared in <bpmp>), "
                                               "which the guest enables too; add <clock ref=\"%s\"/> to the device",
                                               dev->name, cr->name, cr->parent, cr->parent);
                        child = cr->parent;
                        if (++steps > ix->n)
                                break;  /* loops are reported by check_parents() */
                }
        }

        dev->needs_bpmp = dev->n_clocks + dev->n_resets + dev->n_power_domains > 0;
        dev->kernel_args = xcalloc(1, sizeof(char *));
        if (!dev->kernel_args)
                return oom(err, dev->origin);
        if (dev->needs_bpmp)
                for (size_t i = 0; i < cat->n_bpmp_args; i++) {
                        char *s = strdup(cat->bpmp_args[i]);

                        if (!s || strv_push(&dev->kernel_args, &n_args, s) < 0) {
                                free(s);
                                return oom(err, dev->origin);
                        }
                }
        for (size_t i = 0; i < d->n_args; i++) {
                char *s;

                if (strv_contains(dev->kernel_args, n_args, d->args[i]))
                        continue;
                s = strdup(d->args[i]);
                if (!s || strv_push(&dev->kernel_args, &n_args, s) < 0) {
                        free(s);
                        return oom(err, dev->origin);
                }
        }
        return 0;
}

/* Every declared parent exists and no parent chain loops. */
static int check_parents(Cat *cat, const ResIndex *ix, TvError *err)
{
        for (size_t i = 0; i < cat->n_res; i++) {
                Resource *r = &cat->res[i], *p = r;
                size_t steps = 0;

                if (r->kind != RK_CLOCK || !r->parent)
                        continue;
                if (!index_find(ix, RK_CLOCK, r->parent))
                        return fail_at(err, r->origin, r->line, "<bpmp>: clock '%s': parent '%s' is not declared",
                                       r->name, r->parent);
                while (p && p->parent) {
                        p = index_find(ix, RK_CLOCK, p->parent);
                        if (++steps > ix->n || p == r)
                                return fail_at(err, r->origin, r->line, "<bpmp>: clock '%s': the parent chain loops",
                                               r->name);
                }
        }
        return 0;
}

typedef struct Window {
        uint64_t base, end;     /* end inclusive */
        size_t dev, reg;
} Window;

static int win_cmp(const void *a, const void *b)
{
        const Window *x = a, *y = b;

        if (x->base != y->base)
                return x->base < y->base ? -1 : 1;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->reg < y->reg ? -1 : x->reg > y->reg;
}

/* Platform ids unique, register windows disjoint: across all devices. */
static int check_global(Cat *cat, TvError *err)
{
        size_t n_win = 0, k = 0;
        Window *w;
        int r = 0;

        for (size_t i = 0; i < cat->n_devs; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(cat->devs[i].dev.platform_id, cat->devs[j].dev.platform_id) == 0) {
                                const DevDraft *a = &cat->devs[j], *b = &cat->devs[i];

                                /* blame the later file (or the later line) */
                                if (strcmp(a->dev.origin, b->dev.origin) == 0 && a->line > b->line) {
                                        const DevDraft *t = a;

                                        a = b;
                                        b = t;
                                }
                                return fail_at(err, b->dev.origin, b->line,
                                               "device '%s': platform-id '%s' is already used by device '%s' (%s)",
                                               b->dev.name, b->dev.platform_id, a->dev.name,
                                               WHERE(b->dev.origin, a->dev.origin, a->line));
                        }

        for (size_t i = 0; i < cat->n_devs; i++)
                n_win += cat->devs[i].dev.n_regions;
        w = xcalloc(n_win, sizeof(*w));
        if (!w)
                return oom(err, cat->origin);
        for (size_t i = 0; i < cat->n_devs; i++)
                for (size_t j = 0; j < cat->devs[i].dev.n_regions; j++) {
                        const TvRegion *rg = &cat->devs[i].dev.regions[j];

                        w[k++] = (Window){ rg->base, rg->base + (rg->size - 1), i, j };
                }
        qsort(w, n_win, sizeof(*w), win_cmp);
        for (size_t i = 1, top = 0; i < n_win; i++) {
                if (w[i].base <= w[top].end) {
                        const DevDraft *a = &cat->devs[w[top].dev], *b = &cat->devs[w[i].dev];

                        if (a == b)
                                fail_at(err, b->dev.origin, b->region_lines[w[i].reg],
                                        "device '%s': reg window 0x%" PRIx64 " overlaps its window 0x%" PRIx64,
                                        b->dev.name, w[i].base, w[top].base);
                        else
                                fail_at(err, b->dev.origin, b->region_lines[w[i].reg],
                                        "device '%s': reg window 0x%" PRIx64 " overlaps window 0x%" PRIx64
                                        " of device '%s' (%s)",
                                        b->dev.name, w[i].base, w[top].base, a->dev.name,
                                        WHERE(b->dev.origin, a->dev.origin, a->region_lines[w[top].reg]));
                        r = -1;
                        break;
                }
                if (w[i].end > w[top].end)
                        top = i;
        }
        free(w);
        return r;
}

/* Drops what resolve_device() added, so a catalog can be validated twice. */
static void unresolve_device(DevDraft *d)
{
        TvCatalogDevice *dev = &d->dev;
        TvBpmpRef **lists[] = { &dev->clocks, &dev->resets, &dev->power_domains };
        size_t *counts[] = { &dev->n_clocks, &dev->n_resets, &dev->n_power_domains };

        for (size_t k = 0; k < 3; k++) {
                for (size_t i = 0; i < *counts[k]; i++) {
                        free((*lists[k])[i].name);
                        free((*lists[k])[i].role);
                }
                free(*lists[k]);
                *lists[k] = NULL;
                *counts[k] = 0;
        }
        tv_strv_free(dev->kernel_args);
        dev->kernel_args = NULL;
        dev->needs_bpmp = false;
}

/* Resolves every reference and runs the cross-device checks. */
static int validate(Cat *cat, TvError *err)
{
        ResIndex ix = { 0 };
        int r = -1;

        for (size_t i = 0; i < cat->n_devs; i++)
                unresolve_device(&cat->devs[i]);
        if (index_build(&ix, cat) < 0) {
                oom(err, cat->origin);
                goto out;
        }
        if (check_parents(cat, &ix, err) < 0)
                goto out;
        for (size_t i = 0; i < cat->n_devs; i++)
                if (resolve_device(&cat->devs[i], &ix, cat, err) < 0)
                        goto out;
        if (check_global(cat, err) < 0)
                goto out;
        r = 0;
out:
        free(ix.by_name);
        return r;
}

/* Validates and builds the public catalog. cat is consumed. */
static int finalize(Cat *cat, TvCatalog **out, TvError *err)
{
        TvCatalog *res = NULL;
        int r = -1;

        if (validate(cat, err) < 0)
                goto out;
        res = xcalloc(1, sizeof(*res));
        if (!res || !(res->devices = xcalloc(cat->n_devs, sizeof(TvCatalogDevice)))) {
                oom(err, cat->origin);
                goto out;
        }
        res->soc = cat->soc;
        cat->soc = NULL;
        for (size_t i = 0; i < cat->n_devs; i++) {
                res->devices[i] = cat->devs[i].dev;
                memset(&cat->devs[i].dev, 0, sizeof(TvCatalogDevice));
        }
        res->n_devices = cat->n_devs;
        *out = res;
        res = NULL;
        r = 0;
out:
        tv_catalog_free(res);
        cat_free(cat);
        return r;
}

/* ------------------------------------------------------------------------- */
/* Public API                                                                */

int tv_catalog_parse_buffer(const char *buf, size_t len, const char *origin, TvCatalog **out, TvError *err)
{
        xmlRelaxNGPtr schema;
        Cat *cat = NULL;
        int r;

        if (!out)
                return fail_at(err, origin ? origin : "(buffer)", -1, "no output catalog");
        schema = schema_load(err);
        if (!schema)
                return -1;
        r = parse_doc(buf, len, origin, schema, &cat, err);
        if (r < 0)
                return -1;
        return finalize(cat, out, err);
}

static int read_doc(int dirfd, const char *path, const char *origin, xmlRelaxNGPtr schema, Cat **out, TvError *err)
{
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int r;

        /* never open a FIFO or device node: the open itself could block */
        if (fstatat(dirfd, path, &st, 0) < 0)
                return fail_at(err, origin, -1, "cannot read: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return fail_at(err, origin, -1, "not a regular file");
        r = tv_read_file_at(dirfd, path, TV_CATALOG_MAX_BYTES, &buf, &len);

        if (r == -EFBIG)
                return fail_at(err, origin, -1, "file is larger than the limit of %d bytes", TV_CATALOG_MAX_BYTES);
        if (r < 0)
                return fail_at(err, origin, -1, "cannot read: %s", strerror(-r));
        r = parse_doc(buf, len, origin, schema, out, err);
        free(buf);
        return r;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.xml names in dir (no dot files, regular files checked on read). */
static int list_overrides(const char *dir, int *dirfd_out, char ***names_out, size_t *n_out, TvError *err)
{
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;
        int fd;

        *dirfd_out = -1;
        *names_out = NULL;
        *n_out = 0;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog override directory %s: %s", dir,
                                    strerror(errno));
        }
        d = fdopendir(dup(fd));
        if (!d) {
                int e = errno;

                close(fd);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog override directory %s: %s", dir,
                                    strerror(e));
        }
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                char *s;

                if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
                        continue;
                if (n >= MAX_OVERRIDES) {
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                     "catalog override directory %s: more than %d *.xml files", dir, MAX_OVERRIDES);
                        goto fail;
                }
                s = strdup(de->d_name);
                if (!s || strv_push(&names, &n, s) < 0) {
                        free(s);
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog override directory %s: out of memory",
                                     dir);
                        goto fail;
                }
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof(char *), name_cmp);
        *dirfd_out = fd;
        *names_out = names;
        *n_out = n;
        return 0;
fail:
        closedir(d);
        close(fd);
        strn_free(names, n);
        return -1;
}

int tv_catalog_load(const char *shipped_path, const char *override_dir, TvCatalog **out, TvError *err)
{
        xmlRelaxNGPtr schema = NULL;
        Cat *base = NULL, *ov = NULL;
        char **names = NULL;
        size_t n_names = 0;
        int dirfd = -1, r = -1;

        if (!shipped_path || !out)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog: no shipped catalog path given");
        schema = schema_load(err);
        if (!schema)
                return -1;
        if (read_doc(AT_FDCWD, shipped_path, shipped_path, schema, &base, err) < 0)
                goto out;
        if (override_dir && list_overrides(override_dir, &dirfd, &names, &n_names, err) < 0)
                goto out;
        if (n_names == 0) {
                r = finalize(base, out, err);
                base = NULL;
                goto out;
        }

        /* the shipped catalog must stand on its own, whatever the overrides replace */
        if (validate(base, err) < 0)
                goto out;
        for (size_t i = 0; i < n_names; i++) {
                size_t plen = strlen(override_dir) + 1 + strlen(names[i]) + 1;
                char *origin = malloc(plen);

                if (!origin) {
                        oom(err, override_dir);
                        goto out;
                }
                snprintf(origin, plen, "%s%s%s", override_dir,
                         override_dir[0] && override_dir[strlen(override_dir) - 1] == '/' ? "" : "/", names[i]);
                if (read_doc(dirfd, names[i], origin, schema, &ov, err) < 0 || merge(base, ov, err) < 0) {
                        free(origin);
                        goto out;
                }
                free(origin);
                cat_free(ov);
                ov = NULL;
        }
        r = finalize(base, out, err);
        base = NULL;
out:
        if (dirfd >= 0)
                close(dirfd);
        strn_free(names, n_names);
        cat_free(ov);
        cat_free(base);
        return r;
}

const TvCatalogDevice *tv_catalog_find(const TvCatalog *c, const char *name_or_platform_id)
{
        if (!c || !name_or_platform_id)
                return NULL;
        for (size_t i = 0; i < c->n_devices; i++)
                if (strcmp(c->devices[i].name, name_or_platform_id) == 0 ||
                    strcmp(c->devices[i].platform_id, name_or_platform_id) == 0)
                        return &c->devices[i];
        return NULL;
}
