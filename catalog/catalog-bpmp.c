// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: BPMP resources. The <bpmp> section is the one table of clock,
 * reset and power-domain IDs; devices refer to it by name. Here: parsing it,
 * keeping every ID written down once, the name index, resolving each device's
 * references (and the clock parents the guest enables) into TvBpmpRef lists.
 */
#include "catalog-internal.h"
#include "tv-strv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cat_rk_name[RK_N] = { "clock", "reset", "power-domain" };

int cat_parse_bpmp(Ctx *c, xmlNodePtr bpmp, Cat *cat)
{
        static const char *const no_attrs[] = { NULL };

        if (cat_check_attrs(c, bpmp, no_attrs) < 0)
                return -1;
        for (xmlNodePtr n = bpmp->children; n; n = n->next) {
                ResKind kind;
                Resource r = { 0 };
                char *id = NULL;
                const char *why;

                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (cat_is_el(n, "kernel-arg")) {
                        char *arg;

                        if (cat_get_text(c, n, "<bpmp>: ", &arg) < 0)
                                return -1;
                        if ((why = cat_kernel_arg_problem(arg))) {
                                cat_fail(c, n, "<bpmp>: kernel argument '%s' %s", Q(arg), why);
                                free(arg);
                                return -1;
                        }
                        if (tv_strv_contains(cat->bpmp_args.v, arg)) {
                                cat_fail(c, n, "<bpmp>: kernel argument '%s' is listed twice", Q(arg));
                                free(arg);
                                return -1;
                        }
                        if (cat->bpmp_args.n >= MAX_BPMP_ARGS) {
                                free(arg);
                                return cat_fail(c, n, "<bpmp>: more than %d kernel arguments", MAX_BPMP_ARGS);
                        }
                        if (tv_strv_consume(&cat->bpmp_args, arg) < 0)
                                return tv_error_oom(c->err);
                        continue;
                }
                if (cat_is_el(n, "clock"))
                        kind = RK_CLOCK;
                else if (cat_is_el(n, "reset"))
                        kind = RK_RESET;
                else if (cat_is_el(n, "power-domain"))
                        kind = RK_PD;
                else
                        return cat_fail(c, n, "unexpected element <%s> in <bpmp>", Q((const char *)n->name));

                {
                        static const char *const clock_attrs[] = { "id", "name", "parent", NULL };
                        static const char *const other_attrs[] = { "id", "name", NULL };

                        if (cat_check_attrs(c, n, kind == RK_CLOCK ? clock_attrs : other_attrs) < 0)
                                return -1;
                }
                r.kind = kind;
                r.line = tv_xml_line(n);
                if (cat_get_attr(c, n, "name", true, "<bpmp>: ", &r.name) < 0)
                        goto fail;
                if ((why = cat_short_name_problem(r.name))) {
                        cat_fail(c, n, "<bpmp>: %s name '%s' %s", cat_rk_name[kind], Q(r.name), why);
                        goto fail;
                }
                if (cat_get_attr(c, n, "id", true, "<bpmp>: ", &id) < 0)
                        goto fail;
                if (!cat_parse_u32_dec(id, &r.id)) {
                        cat_fail(c, n, "<bpmp>: %s '%s': id '%s' is not a decimal number in 0..4294967295",
                                 cat_rk_name[kind], r.name, Q(id));
                        goto fail;
                }
                free(id);
                id = NULL;
                if (kind == RK_CLOCK) {
                        if (cat_get_attr(c, n, "parent", false, NULL, &r.parent) < 0)
                                goto fail;
                        if (r.parent && (why = cat_short_name_problem(r.parent))) {
                                cat_fail(c, n, "<bpmp>: clock '%s': parent '%s' %s", r.name, Q(r.parent), why);
                                goto fail;
                        }
                        if (r.parent && strcmp(r.parent, r.name) == 0) {
                                cat_fail(c, n, "<bpmp>: clock '%s' is its own parent", r.name);
                                goto fail;
                        }
                }
                if (cat->n_res >= MAX_RESOURCES) {
                        cat_fail(c, n, "<bpmp>: more than %d resources", MAX_RESOURCES);
                        goto fail;
                }
                r.origin = strdup(c->origin);
                if (!r.origin) {
                        tv_error_oom(c->err);
                        goto fail;
                }
                {
                        Resource *nr = realloc(cat->res, (cat->n_res + 1) * sizeof(*nr));

                        if (!nr) {
                                tv_error_oom(c->err);
                                goto fail;
                        }
                        cat->res = nr;
                        cat->res[cat->n_res++] = r;
                }
                continue;
fail:
                free(id);
                cat_res_clear(&r);
                return -1;
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

int cat_index_build(ResIndex *ix, Cat *cat)
{
        ix->n = cat->n_res;
        ix->by_name = cat_calloc(cat->n_res, sizeof(Resource *));
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
int cat_check_resources_unique(Ctx *c, Cat *cat)
{
        Resource **v = cat_calloc(cat->n_res, sizeof(Resource *)), **dups;
        size_t n_dups = 0;

        if (!v)
                return tv_error_oom(c->err);
        dups = cat_calloc(cat->n_res, sizeof(Resource *));
        if (!dups) {
                free(v);
                return tv_error_oom(c->err);
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
                cat_fail_at(c->err, c->origin, d->line, "<bpmp>: %s '%s' is declared twice (also line %ld)",
                            cat_rk_name[d->kind], d->name, other ? other->line : -1L);
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
                cat_fail_at(c->err, c->origin, d->line,
                            "<bpmp>: %s id %" PRIu32 " is declared twice, as '%s' and as '%s' (line %ld); "
                            "every BPMP ID is written down once",
                            cat_rk_name[d->kind], d->id, d->name, first ? first->name : "?", first ? first->line : -1L);
        }
out:
        free(v);
        free(dups);
        return n_dups ? -1 : 0;
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
        v = cat_calloc(n, sizeof(*v));
        if (!v)
                return tv_error_oom(err);
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
                        return cat_fail_at(err, dev->origin, r->line, "device '%s': %s '%s' is not declared in <bpmp>",
                                           dev->name, cat_rk_name[kind], r->ref);
                for (size_t j = 0; j < k; j++) {
                        if (strcmp(v[j].name, r->ref) == 0)
                                return cat_fail_at(err, dev->origin, r->line, "device '%s': %s '%s' is listed twice",
                                                   dev->name, cat_rk_name[kind], r->ref);
                        if (r->role && v[j].role && strcmp(v[j].role, r->role) == 0)
                                return cat_fail_at(err, dev->origin, r->line,
                                                   "device '%s': %s role '%s' is used twice", dev->name, cat_rk_name[kind],
                                                   r->role);
                }
                v[k].id = res->id;
                v[k].name = strdup(res->name);
                if (!v[k].name)
                        return tv_error_oom(err);
                if (r->role) {
                        v[k].role = strdup(r->role);
                        if (!v[k].role)
                                return tv_error_oom(err);
                        with_role++;
                }
                (*n_out)++;
        }
        if (with_role != 0 && with_role != n)
                return cat_fail_at(err, dev->origin, first_line,
                                   "device '%s': either every %s reference has a role or none has "
                                   "(they become the %s-names list)",
                                   dev->name, cat_rk_name[kind], kind == RK_PD ? "power-domain" : cat_rk_name[kind]);
        return 0;
}

int cat_resolve_device(DevDraft *d, const ResIndex *ix, Cat *cat, TvError *err)
{
        TvCatalogDevice *dev = &d->dev;
        _cleanup_(tv_strv_clear) TvStrv kargs = { 0 };

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
                                return cat_fail_at(err, dev->origin, line,
                                                   "device '%s': clock '%s' has parent '%s' (declared in <bpmp>), "
                                                   "which the guest enables too; add <clock ref=\"%s\"/> to the device",
                                                   dev->name, cr->name, cr->parent, cr->parent);
                        child = cr->parent;
                        if (++steps > ix->n)
                                break;  /* loops are reported by cat_check_parents() */
                }
        }

        dev->needs_bpmp = dev->n_clocks + dev->n_resets + dev->n_power_domains > 0;
        if (dev->needs_bpmp)
                for (size_t i = 0; i < cat->bpmp_args.n; i++)
                        if (tv_strv_push(&kargs, cat->bpmp_args.v[i]) < 0)
                                return tv_error_oom(err);
        for (size_t i = 0; i < d->args.n; i++)
                if (tv_strv_push_unique(&kargs, d->args.v[i]) < 0)
                        return tv_error_oom(err);
        dev->kernel_args = tv_strv_steal(&kargs);
        if (!dev->kernel_args)
                return tv_error_oom(err);
        return 0;
}


/* Every declared parent exists and no parent chain loops. */
int cat_check_parents(Cat *cat, const ResIndex *ix, TvError *err)
{
        for (size_t i = 0; i < cat->n_res; i++) {
                Resource *r = &cat->res[i], *p = r;
                size_t steps = 0;

                if (r->kind != RK_CLOCK || !r->parent)
                        continue;
                if (!index_find(ix, RK_CLOCK, r->parent))
                        return cat_fail_at(err, r->origin, r->line, "<bpmp>: clock '%s': parent '%s' is not declared",
                                           r->name, r->parent);
                while (p && p->parent) {
                        p = index_find(ix, RK_CLOCK, p->parent);
                        if (++steps > ix->n || p == r)
                                return cat_fail_at(err, r->origin, r->line, "<bpmp>: clock '%s': the parent chain loops",
                                                   r->name);
                }
        }
        return 0;
}

/* Drops what cat_resolve_device() added, so a catalog can be validated twice. */
void cat_unresolve_device(TvCatalogDevice *dev)
{
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
