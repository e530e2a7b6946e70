/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the catalog layer: the draft model a document is parsed into before it
 * is merged, resolved and turned into the public TvCatalog, and the functions
 * the catalog-*.c files share. Not for use outside catalog/.
 *
 *   catalog.c            the model: errors, freeing, whole-catalog checks, public API
 *   catalog-values.c     value checks (the C side of xml-schemas/catalog.rng)
 *   catalog-parse.c      one document: libxml2, schema, DOM access, <catalog>
 *   catalog-device.c     one <device> element
 *   catalog-lines.c      one <line-group> element, the GPIO port tables, group checks
 *   catalog-bpmp.c       BPMP resources: <bpmp>, the ID tables, reference resolution
 *   catalog-overrides.c  loading the shipped catalog and merging catalog.d overrides
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/relaxng.h>
#include <libxml/tree.h>

#include "catalog.h"
#include "xml-util.h"
#include "tv-limits.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-strv.h"

#define CAT_NS "https://tegravirt.org/ns/catalog/1"

/* Per-document and per-device limits, beyond the ones in catalog.h and tv-limits.h
 * (TV_DEVICE_MAX_REGIONS, TV_DEVICE_MAX_IRQS). */
#define MAX_RESOURCES    2048   /* BPMP resources (all kinds, after merging) */
#define MAX_BPMP_ARGS    32
#define MAX_REFS         32     /* per kind and device */
#define MAX_COMPATIBLE   8
#define MAX_PROPS        64
#define MAX_CELLS        64
#define MAX_STRINGS      16
#define MAX_DEV_ARGS     32
#define MAX_HAZARDS      16
#define MAX_PROSE        2048   /* description, hazard: characters as written, bytes folded */
#define MAX_RAW_TEXT     8192   /* text content of any element before folding */
#define MAX_OVERRIDES    256    /* files in the override directory */
#define MAX_SPI          987    /* GIC SPI INTIDs 32..1019 */

/* ------------------------------------------------------------------------- */
/* Internal model                                                            */

typedef enum ResKind { RK_CLOCK, RK_RESET, RK_PD, RK_N } ResKind;
extern const char *const cat_rk_name[RK_N];

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
        TvStrv args;            /* per-device <kernel-arg> */
        long line;
        long *region_lines;     /* per region, for error messages */
} DevDraft;

typedef struct GroupDraft {
        TvLineGroup group;
        long line;
        long line_lines[TV_LINE_GROUP_MAX_LINES];       /* per line, for error messages */
} GroupDraft;

typedef struct Cat {
        char *soc;
        char *origin;           /* document (for merged catalogs: the shipped one) */
        long line;              /* of <catalog> */
        Resource *res;
        size_t n_res;
        TvStrv bpmp_args;
        DevDraft *devs;
        size_t n_devs;
        GroupDraft *groups;
        size_t n_groups;
} Cat;

/* Error context for one document. */
typedef struct Ctx {
        const char *origin;
        TvError *err;
        TvXmlDiag xml;          /* libxml2's errors during parsing and validation */
} Ctx;

typedef struct ResIndex {
        Resource **by_name;
        size_t n;
} ResIndex;

static inline void *cat_calloc(size_t n, size_t size)
{
        return calloc(n ? n : 1, size ? size : 1);
}

static inline bool cat_is_space(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* catalog.c: errors and small helpers */
/* Quotes a value from the document for an error message (tv_quote): at most 48 bytes,
 * bytes outside printable ASCII as '?', so a hostile value cannot forge log lines;
 * NULL is "(none)". */
const char *cat_quote(char *buf, size_t size, const char *s);
#define Q(s) cat_quote((char[64]){ 0 }, 64, (s))
/* All return -1 after setting err (TV_ERR_INVALID_ARGUMENT, "catalog ORIGIN line N: ..."). */
int cat_fail_at(TvError *err, const char *origin, long line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int cat_fail(Ctx *c, xmlNodePtr n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* catalog.c: the model */
void cat_dev_clear(TvCatalogDevice *d);
void cat_draft_clear(DevDraft *d);
void cat_res_clear(Resource *r);
void cat_free(Cat *cat);
/* Resolves every reference and runs the cross-device checks; may run twice. */
int cat_validate(Cat *cat, TvError *err);
/* Validates and builds the public catalog. cat is consumed. */
int cat_finalize(Cat *cat, TvCatalog **out, TvError *err);

/* catalog-values.c: each mirrors a type of xml-schemas/catalog.rng (see there) */
const char *cat_short_name_problem(const char *s);      /* why not, or NULL */
bool cat_dt_name_valid(const char *s);
bool cat_dt_prop_name_valid(const char *s);
bool cat_compatible_valid(const char *s);
bool cat_kind_valid(const char *s);
bool cat_soc_valid(const char *s);
bool cat_platform_id_valid(const char *s);
const char *cat_kernel_arg_problem(const char *s);      /* why not, or NULL */
bool cat_prop_string_valid(const char *s);
bool cat_parse_u32_dec(const char *s, uint32_t *out);
bool cat_parse_hex(const char *s, size_t max_digits, uint64_t *out);
bool cat_parse_cell(const char *s, uint32_t *out);
bool cat_dt_label_valid(const char *s);
const char *cat_host_node_problem(const char *path, const char *platform_id);
bool cat_prop_reserved(const char *name);

/* catalog-parse.c: DOM access (errors name the element and the line) */
static inline bool cat_is_el(xmlNodePtr n, const char *name)
{
        return tv_xml_is_el(n, name, CAT_NS);
}
int cat_check_attrs(Ctx *c, xmlNodePtr n, const char *const *allowed);
int cat_get_attr(Ctx *c, xmlNodePtr n, const char *name, bool required, const char *what, char **out);
int cat_get_text(Ctx *c, xmlNodePtr n, const char *what, char **out);
int cat_get_prose(Ctx *c, xmlNodePtr n, const char *what, char **out);
/* The embedded schema, compiled once; NULL with err set if it does not compile. */
xmlRelaxNGPtr cat_schema_load(TvError *err);
/* Parses one document into a draft (schema, extraction, per-document checks).
 * schema NULL skips the RelaxNG pass (only the schema-agreement test does that). */
int cat_parse_doc(const char *buf, size_t len, const char *origin, xmlRelaxNGPtr schema, Cat **out,
                  TvError *err);

/* catalog-device.c */
int cat_parse_device(Ctx *c, xmlNodePtr n, DevDraft *d);

/* catalog-lines.c */
bool cat_line_name_valid(const char *s);
bool cat_gpio_host_name_valid(const char *s);
int cat_parse_line_group(Ctx *c, xmlNodePtr n, GroupDraft *d);
int cat_check_line_groups(Cat *cat, TvError *err);
void cat_line_group_clear(TvLineGroup *g);

/* catalog-bpmp.c */
int cat_parse_bpmp(Ctx *c, xmlNodePtr bpmp, Cat *cat);
int cat_check_resources_unique(Ctx *c, Cat *cat);
int cat_index_build(ResIndex *ix, Cat *cat);
int cat_check_parents(Cat *cat, const ResIndex *ix, TvError *err);
int cat_resolve_device(DevDraft *d, const ResIndex *ix, Cat *cat, TvError *err);
/* Drops what cat_resolve_device() added (also frees a finished device's lists). */
void cat_unresolve_device(TvCatalogDevice *dev);
