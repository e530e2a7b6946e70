// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: the model. Error reporting shared by the catalog files,
 * freeing, the checks across all devices of a (merged) catalog, turning the
 * draft into the public TvCatalog, and the public parse and lookup calls.
 * The file list of the layer is in catalog-internal.h.
 */
#include "catalog-internal.h"
#include "tv-quote.h"
#include "tv-strv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Small helpers                                                             */

const char *cat_quote(char *buf, size_t size, const char *s)
{
        return s ? tv_quote(buf, size, s, (size_t)-1, 48, TV_QUOTE_ASCII) : "(none)";
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

int cat_fail_at(TvError *err, const char *origin, long line, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_at(err, origin, line, fmt, ap);
        va_end(ap);
        return r;
}

int cat_fail(Ctx *c, xmlNodePtr n, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_at(c->err, c->origin, tv_xml_line(n), fmt, ap);
        va_end(ap);
        return r;
}

/* "(line 12)" for the same document, "(catalog /x.xml line 12)" otherwise. */
static const char *cat_where(char *buf, size_t size, const char *here, const char *origin, long line)
{
        if (here && strcmp(here, origin) == 0)
                snprintf(buf, size, "line %ld", line);
        else
                snprintf(buf, size, "catalog %s line %ld", origin, line);
        return buf;
}
#define WHERE(here, origin, line) cat_where((char[320]){ 0 }, 320, (here), (origin), (line))

/* ------------------------------------------------------------------------- */
/* Freeing                                                                   */

void cat_dev_clear(TvCatalogDevice *d)
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
        cat_unresolve_device(d);        /* the BPMP refs and kernel args */
        tv_strv_free(d->hazards);
        free(d->host_node);
        free(d->host_smmu);
        free(d->origin);
        memset(d, 0, sizeof(*d));
}

void cat_draft_clear(DevDraft *d)
{
        cat_dev_clear(&d->dev);
        for (size_t i = 0; i < d->n_refs; i++) {
                free(d->refs[i].ref);
                free(d->refs[i].role);
        }
        free(d->refs);
        tv_strv_clear(&d->args);
        free(d->region_lines);
        memset(d, 0, sizeof(*d));
}

void cat_res_clear(Resource *r)
{
        free(r->name);
        free(r->parent);
        free(r->origin);
}

void cat_free(Cat *cat)
{
        if (!cat)
                return;
        free(cat->soc);
        free(cat->origin);
        for (size_t i = 0; i < cat->n_res; i++)
                cat_res_clear(&cat->res[i]);
        free(cat->res);
        tv_strv_clear(&cat->bpmp_args);
        for (size_t i = 0; i < cat->n_devs; i++)
                cat_draft_clear(&cat->devs[i]);
        free(cat->devs);
        for (size_t i = 0; i < cat->n_groups; i++)
                cat_line_group_clear(&cat->groups[i].group);
        free(cat->groups);
        free(cat);
}

void tv_catalog_freep(TvCatalog **c)
{
        tv_catalog_free(*c);
}

void tv_catalog_free(TvCatalog *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_devices; i++)
                cat_dev_clear(&c->devices[i]);
        free(c->devices);
        for (size_t i = 0; i < c->n_line_groups; i++)
                cat_line_group_clear(&c->line_groups[i]);
        free(c->line_groups);
        free(c->soc);
        free(c);
}

/* ------------------------------------------------------------------------- */
/* Whole-catalog checks                                                      */

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
                                return cat_fail_at(err, b->dev.origin, b->line,
                                                   "device '%s': platform-id '%s' is already used by device '%s' (%s)",
                                                   b->dev.name, b->dev.platform_id, a->dev.name,
                                                   WHERE(b->dev.origin, a->dev.origin, a->line));
                        }

        for (size_t i = 0; i < cat->n_devs; i++)
                n_win += cat->devs[i].dev.n_regions;
        w = cat_calloc(n_win, sizeof(*w));
        if (!w)
                return tv_error_oom(err);
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
                                cat_fail_at(err, b->dev.origin, b->region_lines[w[i].reg],
                                            "device '%s': reg window 0x%" PRIx64 " overlaps its window 0x%" PRIx64,
                                            b->dev.name, w[i].base, w[top].base);
                        else
                                cat_fail_at(err, b->dev.origin, b->region_lines[w[i].reg],
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


/* Resolves every reference and runs the cross-device checks. */
int cat_validate(Cat *cat, TvError *err)
{
        ResIndex ix = { 0 };
        int r = -1;

        for (size_t i = 0; i < cat->n_devs; i++)
                cat_unresolve_device(&cat->devs[i].dev);
        if (cat_index_build(&ix, cat) < 0) {
                tv_error_oom(err);
                goto out;
        }
        if (cat_check_parents(cat, &ix, err) < 0)
                goto out;
        for (size_t i = 0; i < cat->n_devs; i++)
                if (cat_resolve_device(&cat->devs[i], &ix, cat, err) < 0)
                        goto out;
        if (check_global(cat, err) < 0 || cat_check_line_groups(cat, err) < 0)
                goto out;
        r = 0;
out:
        free(ix.by_name);
        return r;
}

/* Validates and builds the public catalog. cat is consumed. */
int cat_finalize(Cat *cat, TvCatalog **out, TvError *err)
{
        TvCatalog *res = NULL;
        int r = -1;

        if (cat_validate(cat, err) < 0)
                goto out;
        res = cat_calloc(1, sizeof(*res));
        if (!res || !(res->devices = cat_calloc(cat->n_devs, sizeof(TvCatalogDevice)))) {
                tv_error_oom(err);
                goto out;
        }
        res->soc = cat->soc;
        cat->soc = NULL;
        for (size_t i = 0; i < cat->n_devs; i++) {
                res->devices[i] = cat->devs[i].dev;
                memset(&cat->devs[i].dev, 0, sizeof(TvCatalogDevice));
        }
        res->n_devices = cat->n_devs;
        res->line_groups = cat_calloc(cat->n_groups, sizeof(TvLineGroup));
        if (!res->line_groups) {
                tv_error_oom(err);
                goto out;
        }
        for (size_t i = 0; i < cat->n_groups; i++) {
                res->line_groups[i] = cat->groups[i].group;
                memset(&cat->groups[i].group, 0, sizeof(TvLineGroup));
        }
        res->n_line_groups = cat->n_groups;
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
                return cat_fail_at(err, origin ? origin : "(buffer)", -1, "no output catalog");
        schema = cat_schema_load(err);
        if (!schema)
                return -1;
        r = cat_parse_doc(buf, len, origin, schema, &cat, err);
        if (r < 0)
                return -1;
        return cat_finalize(cat, out, err);
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
