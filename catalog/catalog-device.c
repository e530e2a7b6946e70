// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: one <device> element into a DevDraft. Its BPMP references
 * stay names here; catalog-bpmp.c resolves them once every document is merged.
 */
#include "catalog-internal.h"
#include "tv-strv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push_ref(Ctx *c, xmlNodePtr n, DevDraft *d, ResKind kind)
{
        static const char *const ref_attrs[] = { "ref", "role", NULL };
        const char *dn = d->dev.name;
        RefDraft r = { .kind = kind, .line = tv_xml_line(n) };
        const char *why;
        size_t count = 0;
        RefDraft *nr;

        if (cat_check_attrs(c, n, ref_attrs) < 0)
                return -1;
        if (cat_get_attr(c, n, "ref", true, "", &r.ref) < 0)
                return -1;
        if ((why = cat_short_name_problem(r.ref))) {
                cat_fail(c, n, "device '%s': %s reference '%s' %s", dn, cat_rk_name[kind], Q(r.ref), why);
                goto fail;
        }
        if (cat_get_attr(c, n, "role", false, NULL, &r.role) < 0)
                goto fail;
        if (r.role && !cat_dt_name_valid(r.role)) {
                cat_fail(c, n, "device '%s': %s '%s': role '%s' is not a valid DT name ([A-Za-z0-9_.,+-], 1..32)", dn,
                         cat_rk_name[kind], r.ref, Q(r.role));
                goto fail;
        }
        for (size_t i = 0; i < d->n_refs; i++)
                if (d->refs[i].kind == kind)
                        count++;
        if (count >= MAX_REFS) {
                cat_fail(c, n, "device '%s': more than %d %s references", dn, MAX_REFS, cat_rk_name[kind]);
                goto fail;
        }
        nr = realloc(d->refs, (d->n_refs + 1) * sizeof(*nr));
        if (!nr) {
                tv_error_oom(c->err);
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
        _cleanup_(tv_strv_clear) TvStrv strings = { 0 };

        if (cat_check_attrs(c, n, attrs) < 0)
                return -1;
        if (dev->n_guest_props >= MAX_PROPS)
                return cat_fail(c, n, "device '%s': more than %d guest properties", dev->name, MAX_PROPS);
        if (cat_get_attr(c, n, "name", true, "", &p.name) < 0)
                return -1;
        if (!cat_dt_prop_name_valid(p.name)) {
                cat_fail(c, n, "device '%s': property name '%s' is not a valid DT property name ([A-Za-z0-9,._+?#-], 1..31)",
                         dev->name, Q(p.name));
                goto fail;
        }
        if (cat_prop_reserved(p.name)) {
                cat_fail(c, n, "device '%s': property '%s' is written by tegravirt itself or refers to host phandles; "
                         "it cannot be set in <guest>", dev->name, p.name);
                goto fail;
        }
        for (size_t i = 0; i < dev->n_guest_props; i++)
                if (strcmp(dev->guest_props[i].name, p.name) == 0) {
                        cat_fail(c, n, "device '%s': property '%s' is set twice", dev->name, p.name);
                        goto fail;
                }
        if (cat_get_attr(c, n, "type", true, "", &type) < 0)
                goto fail;
        if (strcmp(type, "empty") == 0) {
                p.type = TV_PROP_EMPTY;
                if (cat_get_text(c, n, "", &text) < 0)
                        goto fail;
                for (const char *s = text; *s; s++)
                        if (!cat_is_space(*s)) {
                                cat_fail(c, n, "device '%s': property '%s' has type 'empty' but a value", dev->name,
                                         p.name);
                                goto fail;
                        }
        } else if (strcmp(type, "u32") == 0) {
                char *s, *save = NULL;

                p.type = TV_PROP_U32;
                if (cat_get_text(c, n, "", &text) < 0)
                        goto fail;
                p.cells = cat_calloc(MAX_CELLS, sizeof(uint32_t));
                if (!p.cells) {
                        tv_error_oom(c->err);
                        goto fail;
                }
                for (s = strtok_r(text, " \t\r\n", &save); s; s = strtok_r(NULL, " \t\r\n", &save)) {
                        if (p.n_cells >= MAX_CELLS) {
                                cat_fail(c, n, "device '%s': property '%s' has more than %d cells", dev->name, p.name,
                                         MAX_CELLS);
                                goto fail;
                        }
                        if (!cat_parse_cell(s, &p.cells[p.n_cells])) {
                                cat_fail(c, n, "device '%s': property '%s': '%s' is not a u32 (decimal or 0x hex)",
                                         dev->name, p.name, Q(s));
                                goto fail;
                        }
                        p.n_cells++;
                }
                if (p.n_cells == 0) {
                        cat_fail(c, n, "device '%s': property '%s' has type 'u32' but no value", dev->name, p.name);
                        goto fail;
                }
        } else if (strcmp(type, "string") == 0) {
                p.type = TV_PROP_STRING;
                for (xmlNodePtr k = n->children; k; k = k->next) {
                        char *v;

                        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
                                for (const xmlChar *s = k->content; s && *s; s++)
                                        if (!cat_is_space((char)*s)) {
                                                cat_fail(c, n, "device '%s': property '%s': string values go in <value> "
                                                         "elements", dev->name, p.name);
                                                goto fail;
                                        }
                                continue;
                        }
                        if (k->type != XML_ELEMENT_NODE)
                                continue;
                        if (!cat_is_el(k, "value")) {
                                cat_fail(c, k, "device '%s': unexpected element <%s> in property '%s'", dev->name,
                                         Q((const char *)k->name), p.name);
                                goto fail;
                        }
                        if (strings.n >= MAX_STRINGS) {
                                cat_fail(c, k, "device '%s': property '%s' has more than %d strings", dev->name, p.name,
                                         MAX_STRINGS);
                                goto fail;
                        }
                        if (cat_get_text(c, k, "", &v) < 0)
                                goto fail;
                        if (!cat_prop_string_valid(v)) {
                                cat_fail(c, k, "device '%s': property '%s': value '%s' must be 1..255 printable ASCII "
                                         "characters", dev->name, p.name, Q(v));
                                free(v);
                                goto fail;
                        }
                        if (tv_strv_consume(&strings, v) < 0) {
                                tv_error_oom(c->err);
                                goto fail;
                        }
                }
                if (strings.n == 0) {
                        cat_fail(c, n, "device '%s': property '%s' has type 'string' but no <value>", dev->name, p.name);
                        goto fail;
                }
                p.strings = TAKE_PTR(strings.v);
        } else {
                cat_fail(c, n, "device '%s': property '%s': type '%s' is not one of empty, u32, string", dev->name,
                         p.name, Q(type));
                goto fail;
        }
        {
                TvGuestProp *np = realloc(dev->guest_props, (dev->n_guest_props + 1) * sizeof(*np));

                if (!np) {
                        tv_error_oom(c->err);
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
        _cleanup_(tv_strv_clear) TvStrv compat = { 0 };

        if (cat_check_attrs(c, g, no_attrs) < 0)
                return -1;
        for (xmlNodePtr n = g->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (cat_is_el(n, "compatible")) {
                        char *s;

                        if (cat_check_attrs(c, n, no_attrs) < 0 || cat_get_text(c, n, "", &s) < 0)
                                return -1;
                        if (!cat_compatible_valid(s)) {
                                cat_fail(c, n, "device '%s': compatible '%s' is not a valid compatible string "
                                         "([A-Za-z0-9,._+-], 1..128)", dev->name, Q(s));
                                free(s);
                                return -1;
                        }
                        if (tv_strv_contains(compat.v, s)) {
                                cat_fail(c, n, "device '%s': compatible '%s' is listed twice", dev->name, s);
                                free(s);
                                return -1;
                        }
                        if (compat.n >= MAX_COMPATIBLE) {
                                free(s);
                                return cat_fail(c, n, "device '%s': more than %d compatible strings", dev->name,
                                                MAX_COMPATIBLE);
                        }
                        if (tv_strv_consume(&compat, s) < 0)
                                return tv_error_oom(c->err);
                } else if (cat_is_el(n, "property")) {
                        if (parse_property(c, n, d) < 0)
                                return -1;
                } else {
                        return cat_fail(c, n, "device '%s': unexpected element <%s> in <guest>", dev->name,
                                        Q((const char *)n->name));
                }
        }
        if (compat.n == 0)
                return cat_fail(c, g, "device '%s': <guest> has no <compatible>", dev->name);
        dev->guest_compatible = TAKE_PTR(compat.v);
        return 0;
}

static int parse_reg(Ctx *c, xmlNodePtr n, DevDraft *d)
{
        static const char *const attrs[] = { "base", "size", "name", NULL };
        TvCatalogDevice *dev = &d->dev;
        TvRegion r = { 0 };
        char *base = NULL, *size = NULL;

        if (cat_check_attrs(c, n, attrs) < 0)
                return -1;
        if (dev->n_regions >= TV_DEVICE_MAX_REGIONS)
                return cat_fail(c, n, "device '%s': more than %d <reg> windows", dev->name,
                                TV_DEVICE_MAX_REGIONS);
        if (cat_get_attr(c, n, "base", true, "", &base) < 0 || cat_get_attr(c, n, "size", true, "", &size) < 0)
                goto fail;
        if (!cat_parse_hex(base, 16, &r.base)) {
                cat_fail(c, n, "device '%s': reg base '%s' is not a hex number (0x followed by 1..16 hex digits)",
                         dev->name, Q(base));
                goto fail;
        }
        if (!cat_parse_hex(size, 16, &r.size)) {
                cat_fail(c, n, "device '%s': reg size '%s' is not a hex number (0x followed by 1..16 hex digits)",
                         dev->name, Q(size));
                goto fail;
        }
        if (r.size == 0) {
                cat_fail(c, n, "device '%s': reg window at 0x%" PRIx64 " has size 0", dev->name, r.base);
                goto fail;
        }
        if (r.base > UINT64_MAX - r.size) {
                cat_fail(c, n, "device '%s': reg window 0x%" PRIx64 " + 0x%" PRIx64 " overflows 64 bits", dev->name,
                         r.base, r.size);
                goto fail;
        }
        if (cat_get_attr(c, n, "name", false, NULL, &r.name) < 0)
                goto fail;
        if (r.name && !cat_dt_name_valid(r.name)) {
                cat_fail(c, n, "device '%s': reg name '%s' is not a valid DT name ([A-Za-z0-9_.,+-], 1..32)", dev->name,
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
                        tv_error_oom(c->err);
                        goto fail;
                }
        }
        d->region_lines[dev->n_regions] = tv_xml_line(n);
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

        if (cat_check_attrs(c, h, host_attrs) < 0 || cat_get_attr(c, h, "node", true, "", &dev->host_node) < 0)
                return -1;
        if ((why = cat_host_node_problem(dev->host_node, dev->platform_id)))
                return cat_fail(c, h, "device '%s': host node '%s' %s", dev->name, Q(dev->host_node), why);
        if (cat_get_attr(c, h, "driver", false, NULL, &driver) < 0)
                return -1;
        if (driver && strcmp(driver, "off") != 0 && strcmp(driver, "keep") != 0) {
                cat_fail(c, h, "device '%s': host driver '%s' is neither 'off' nor 'keep'", dev->name, Q(driver));
                goto out;
        }
        dev->host_driver_off = driver && strcmp(driver, "off") == 0;
        for (xmlNodePtr k = h->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (!cat_is_el(k, "iommu") || dev->host_smmu) {
                        cat_fail(c, k, "device '%s': unexpected element <%s> in <host>", dev->name,
                                 Q((const char *)k->name));
                        goto out;
                }
                if (cat_check_attrs(c, k, iommu_attrs) < 0 || cat_get_attr(c, k, "smmu", true, "", &dev->host_smmu) < 0 ||
                    cat_get_attr(c, k, "stream-id", true, "", &sid) < 0)
                        goto out;
                if (!cat_dt_label_valid(dev->host_smmu)) {
                        cat_fail(c, k, "device '%s': smmu '%s' is not a device-tree label", dev->name,
                                 Q(dev->host_smmu));
                        goto out;
                }
                /* ARM SMMU stream IDs are at most 16 bits wide */
                if (!cat_parse_cell(sid, &dev->host_stream_id) || dev->host_stream_id > 0xffff) {
                        cat_fail(c, k, "device '%s': stream-id '%s' is not a number in 0..0xffff", dev->name, Q(sid));
                        goto out;
                }
        }
        r = 0;
out:
        free(driver);
        free(sid);
        return r;
}

int cat_parse_device(Ctx *c, xmlNodePtr n, DevDraft *d)
{
        static const char *const dev_attrs[] = { "name", "platform-id", "kind", "unsafe-interrupts", NULL };
        static const char *const no_attrs[] = { NULL };
        TvCatalogDevice *dev = &d->dev;
        _cleanup_(tv_strv_clear) TvStrv hazards = { 0 };
        char *unsafe = NULL;
        const char *why;
        bool have_guest = false;
        char pfx[96];

        d->line = tv_xml_line(n);
        dev->origin = strdup(c->origin);
        if (!dev->origin)
                return tv_error_oom(c->err);
        if (cat_check_attrs(c, n, dev_attrs) < 0)
                return -1;
        if (cat_get_attr(c, n, "name", true, "", &dev->name) < 0)
                return -1;
        if ((why = cat_short_name_problem(dev->name))) {
                /* the name is not safe to print in full: it may be 4 KiB of anything */
                return cat_fail(c, n, "device name '%s' %s", Q(dev->name), why);
        }
        snprintf(pfx, sizeof(pfx), "device '%s': ", dev->name);
        if (cat_get_attr(c, n, "platform-id", true, pfx, &dev->platform_id) < 0)
                return -1;
        if (!cat_platform_id_valid(dev->platform_id))
                return cat_fail(c, n,
                                "device '%s': platform-id '%s' is not '<unit address in lower-case hex>.<node name>' "
                                "(for example 3100000.serial)",
                                dev->name, Q(dev->platform_id));
        if (cat_get_attr(c, n, "kind", true, pfx, &dev->kind) < 0)
                return -1;
        if (!cat_kind_valid(dev->kind))
                return cat_fail(c, n, "device '%s': kind '%s' is not valid ([a-z][a-z0-9_-], up to 32 bytes)", dev->name,
                                Q(dev->kind));
        if (cat_get_attr(c, n, "unsafe-interrupts", false, NULL, &unsafe) < 0)
                return -1;
        if (!unsafe || strcmp(unsafe, "required") == 0) {
                dev->needs_unsafe_interrupts = true;
        } else if (strcmp(unsafe, "not-required") == 0) {
                dev->needs_unsafe_interrupts = false;
        } else {
                cat_fail(c, n, "device '%s': unsafe-interrupts '%s' is neither 'required' nor 'not-required'", dev->name,
                         Q(unsafe));
                free(unsafe);
                return -1;
        }
        free(unsafe);

        for (xmlNodePtr k = n->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (cat_is_el(k, "description")) {
                        if (dev->description)
                                return cat_fail(c, k, "device '%s': more than one <description>", dev->name);
                        if (cat_check_attrs(c, k, no_attrs) < 0 ||
                            cat_get_prose(c, k, pfx, &dev->description) < 0)
                                return -1;
                } else if (cat_is_el(k, "reg")) {
                        if (parse_reg(c, k, d) < 0)
                                return -1;
                } else if (cat_is_el(k, "interrupt")) {
                        static const char *const attrs[] = { "spi", NULL };
                        char *spi;
                        uint32_t v;

                        if (cat_check_attrs(c, k, attrs) < 0 || cat_get_attr(c, k, "spi", true, "", &spi) < 0)
                                return -1;
                        if (!cat_parse_u32_dec(spi, &v) || v > MAX_SPI) {
                                cat_fail(c, k, "device '%s': interrupt spi '%s' is not a GIC SPI number (0..%d)",
                                         dev->name, Q(spi), MAX_SPI);
                                free(spi);
                                return -1;
                        }
                        free(spi);
                        for (size_t i = 0; i < dev->n_irqs; i++)
                                if (dev->host_irqs[i] == v)
                                        return cat_fail(c, k, "device '%s': interrupt spi %" PRIu32 " is listed twice",
                                                        dev->name, v);
                        if (dev->n_irqs >= TV_DEVICE_MAX_IRQS)
                                return cat_fail(c, k, "device '%s': more than %d interrupts", dev->name,
                                                TV_DEVICE_MAX_IRQS);
                        {
                                uint32_t *ni = realloc(dev->host_irqs, (dev->n_irqs + 1) * sizeof(*ni));

                                if (!ni)
                                        return tv_error_oom(c->err);
                                dev->host_irqs = ni;
                                dev->host_irqs[dev->n_irqs++] = v;
                        }
                } else if (cat_is_el(k, "guest")) {
                        if (have_guest)
                                return cat_fail(c, k, "device '%s': more than one <guest>", dev->name);
                        have_guest = true;
                        if (parse_guest(c, k, d) < 0)
                                return -1;
                } else if (cat_is_el(k, "host")) {
                        if (dev->host_node)
                                return cat_fail(c, k, "device '%s': more than one <host>", dev->name);
                        if (parse_host(c, k, d) < 0)
                                return -1;
                } else if (cat_is_el(k, "clock")) {
                        if (push_ref(c, k, d, RK_CLOCK) < 0)
                                return -1;
                } else if (cat_is_el(k, "reset")) {
                        if (push_ref(c, k, d, RK_RESET) < 0)
                                return -1;
                } else if (cat_is_el(k, "power-domain")) {
                        if (push_ref(c, k, d, RK_PD) < 0)
                                return -1;
                } else if (cat_is_el(k, "kernel-arg")) {
                        char *arg;

                        if (cat_check_attrs(c, k, no_attrs) < 0 || cat_get_text(c, k, "", &arg) < 0)
                                return -1;
                        if ((why = cat_kernel_arg_problem(arg))) {
                                cat_fail(c, k, "device '%s': kernel argument '%s' %s", dev->name, Q(arg), why);
                                free(arg);
                                return -1;
                        }
                        if (tv_strv_contains(d->args.v, arg)) {
                                cat_fail(c, k, "device '%s': kernel argument '%s' is listed twice", dev->name, Q(arg));
                                free(arg);
                                return -1;
                        }
                        if (d->args.n >= MAX_DEV_ARGS) {
                                free(arg);
                                return cat_fail(c, k, "device '%s': more than %d kernel arguments", dev->name,
                                                MAX_DEV_ARGS);
                        }
                        if (tv_strv_consume(&d->args, arg) < 0)
                                return tv_error_oom(c->err);
                } else if (cat_is_el(k, "hazard")) {
                        char *h;

                        if (hazards.n >= MAX_HAZARDS)
                                return cat_fail(c, k, "device '%s': more than %d hazards", dev->name, MAX_HAZARDS);
                        if (cat_check_attrs(c, k, no_attrs) < 0 || cat_get_prose(c, k, pfx, &h) < 0)
                                return -1;
                        if (tv_strv_consume(&hazards, h) < 0)
                                return tv_error_oom(c->err);
                } else {
                        return cat_fail(c, k, "device '%s': unexpected element <%s>", dev->name,
                                        Q((const char *)k->name));
                }
        }
        dev->hazards = tv_strv_steal(&hazards);
        if (!dev->hazards)
                return tv_error_oom(c->err);

        if (dev->n_regions == 0)
                return cat_fail(c, n, "device '%s' has no <reg> window", dev->name);
        if (!have_guest)
                return cat_fail(c, n, "device '%s' has no <guest> element", dev->name);

        /* reg-names: all windows named or none, and no name twice */
        for (size_t i = 0; i < dev->n_regions; i++) {
                if (!dev->regions[i].name != !dev->regions[0].name)
                        return cat_fail_at(c->err, c->origin, d->region_lines[i],
                                           "device '%s': either every <reg> has a name or none has", dev->name);
                for (size_t j = 0; dev->regions[i].name && j < i; j++)
                        if (strcmp(dev->regions[i].name, dev->regions[j].name) == 0)
                                return cat_fail_at(c->err, c->origin, d->region_lines[i],
                                                   "device '%s': reg name '%s' is used twice", dev->name,
                                                   dev->regions[i].name);
        }
        /* the platform-bus name comes from the first reg window */
        {
                char expect[24];
                size_t hex_len = (size_t)(strchr(dev->platform_id, '.') - dev->platform_id);

                snprintf(expect, sizeof(expect), "%" PRIx64, dev->regions[0].base);
                if (strlen(expect) != hex_len || strncmp(expect, dev->platform_id, hex_len) != 0)
                        return cat_fail(c, n, "device '%s': platform-id '%s' does not match the first <reg> base 0x%08" PRIx64
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
                        return cat_fail(c, n, "device '%s': interrupt-names must list %zu names, one per <interrupt>",
                                        dev->name, dev->n_irqs);
        }
        return 0;
}
