// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * <line-group>: named GPIO lines of one controller, assigned like a device.
 *
 * A line's offset is its number on the controller's gpiochip (what the GPIO character
 * device takes). Linux's gpio-tegra186 numbers the lines port by port in the order of
 * its port table, each port contributing its own pin count (tegra186_gpio_probe():
 * offset += port->pins; tegra186_gpio_of_xlate()), and names each line "P<port>.<pin
 * as %02x>". The table is indexed by the dt-bindings port number, so ports missing from
 * the SoC (Tegra234 main: S, T, U, V) are holes of 0 pins. The device-tree specifier
 * TEGRA234_MAIN_GPIO(port, pin) = port * 8 + pin is NOT the line offset. The tables
 * below are Linux 6.1's tegra234_main_ports[] and tegra234_aon_ports[]
 * (drivers/gpio/gpio-tegra186.c) with include/dt-bindings/gpio/tegra234-gpio.h; a
 * line whose host-name is given is checked against them.
 */
#include "catalog-internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct PortDef {
        const char *name;
        unsigned pins;
} PortDef;

static const PortDef tegra234_main[] = {
        { "A", 8 }, { "B", 1 }, { "C", 8 }, { "D", 4 }, { "E", 8 }, { "F", 6 }, { "G", 8 },
        { "H", 8 }, { "I", 7 }, { "J", 6 }, { "K", 8 }, { "L", 4 }, { "M", 8 }, { "N", 8 },
        { "P", 8 }, { "Q", 8 }, { "R", 6 }, { "S", 0 }, { "T", 0 }, { "U", 0 }, { "V", 0 },
        { "X", 8 }, { "Y", 8 }, { "Z", 8 }, { "AC", 8 }, { "AD", 4 }, { "AE", 2 }, { "AF", 4 },
        { "AG", 8 },
};

static const PortDef tegra234_aon[] = {
        { "AA", 8 }, { "BB", 4 }, { "CC", 8 }, { "DD", 3 }, { "EE", 8 }, { "GG", 1 },
};

typedef struct PortTable {
        const char *compatible;
        const PortDef *ports;
        size_t n;
} PortTable;

static const PortTable tables[] = {
        { "nvidia,tegra234-gpio", tegra234_main, sizeof(tegra234_main) / sizeof(tegra234_main[0]) },
        { "nvidia,tegra234-gpio-aon", tegra234_aon, sizeof(tegra234_aon) / sizeof(tegra234_aon[0]) },
};

/* The port table of a controller, by its (guest) compatible; NULL when we have none. */
static const PortTable *table_of(const TvCatalogDevice *ctl)
{
        for (char **c = ctl->guest_compatible; c && *c; c++)
                for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
                        if (strcmp(*c, tables[i].compatible) == 0)
                                return &tables[i];
        return NULL;
}

static unsigned table_lines(const PortTable *t)
{
        unsigned n = 0;

        for (size_t i = 0; i < t->n; i++)
                n += t->ports[i].pins;
        return n;
}

/* The host name ("PQ.06") of line @offset, in gpio-tegra186's format. */
static bool host_name_of(const PortTable *t, uint32_t offset, char *buf, size_t size)
{
        for (size_t i = 0; i < t->n; i++) {
                if (offset < t->ports[i].pins) {
                        snprintf(buf, size, "P%s.%02x", t->ports[i].name, (unsigned)offset);
                        return true;
                }
                offset -= t->ports[i].pins;
        }
        return false;
}

bool cat_line_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n < 1 || n > 31)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '_' || *s == '.' || *s == '-'))
                        return false;
        return true;
}

/* "P" + 1 or 2 capitals + "." + two hex digits, as gpio-tegra186 names lines */
bool cat_gpio_host_name_valid(const char *s)
{
        size_t k = 1;

        if (s[0] != 'P')
                return false;
        while (k < 3 && s[k] >= 'A' && s[k] <= 'Z')
                k++;
        /* a port has at most 8 pins: ".00" to ".07" */
        return k > 1 && s[k] == '.' && s[k + 1] == '0' && s[k + 2] >= '0' && s[k + 2] <= '7' && !s[k + 3];
}

void cat_line_group_clear(TvLineGroup *g)
{
        free(g->name);
        free(g->controller);
        free(g->description);
        for (size_t i = 0; i < g->n_lines; i++) {
                free(g->lines[i].name);
                free(g->lines[i].port);
        }
        free(g->lines);
        free(g->origin);
        memset(g, 0, sizeof(*g));
}

static int parse_line(Ctx *c, xmlNodePtr n, TvLineGroup *g, long *lines)
{
        static const char *const attrs[] = { "offset", "name", "host-name", NULL };
        _cleanup_free_ char *off = NULL;
        TvGpioLine *l;
        char pfx[96];

        if (g->n_lines >= TV_LINE_GROUP_MAX_LINES)
                return cat_fail(c, n, "line group '%s': more than %d lines", g->name, TV_LINE_GROUP_MAX_LINES);
        l = &g->lines[g->n_lines++];   /* counted now, so clearing the group frees what it gets */
        snprintf(pfx, sizeof(pfx), "line group '%s': ", g->name);
        if (cat_check_attrs(c, n, attrs) < 0 || cat_get_attr(c, n, "offset", true, pfx, &off) < 0 ||
            cat_get_attr(c, n, "name", true, pfx, &l->name) < 0 ||
            cat_get_attr(c, n, "host-name", false, pfx, &l->port) < 0)
                return -1;
        if (!cat_parse_u32_dec(off, &l->offset))
                return cat_fail(c, n, "line group '%s': offset '%s' is not a decimal number up to 4294967295", g->name,
                                Q(off));
        if (!cat_line_name_valid(l->name))
                return cat_fail(c, n, "line group '%s': line name '%s' is not valid ([A-Za-z0-9_.-], 1 to 31 bytes)",
                                g->name, Q(l->name));
        if (l->port && !cat_gpio_host_name_valid(l->port))
                return cat_fail(c, n, "line group '%s': host-name '%s' is not a Tegra GPIO line name like PQ.06",
                                g->name, Q(l->port));
        for (size_t i = 0; i + 1 < g->n_lines; i++) {
                if (g->lines[i].offset == l->offset)
                        return cat_fail(c, n, "line group '%s': offset %" PRIu32 " is already its line '%s' (line %ld)",
                                        g->name, l->offset, g->lines[i].name, lines[i]);
                if (strcmp(g->lines[i].name, l->name) == 0)
                        return cat_fail(c, n, "line group '%s': line name '%s' is used twice (line %ld)", g->name,
                                        l->name, lines[i]);
        }
        lines[g->n_lines - 1] = tv_xml_line(n);
        return 0;
}

int cat_parse_line_group(Ctx *c, xmlNodePtr n, GroupDraft *d)
{
        static const char *const attrs[] = { "name", "controller", NULL };
        static const char *const no_attrs[] = { NULL };
        TvLineGroup *g = &d->group;
        const char *why;
        char pfx[96];

        d->line = tv_xml_line(n);
        g->origin = strdup(c->origin);
        g->lines = cat_calloc(TV_LINE_GROUP_MAX_LINES, sizeof(TvGpioLine));
        if (!g->origin || !g->lines)
                return tv_error_oom(c->err);
        if (cat_check_attrs(c, n, attrs) < 0 || cat_get_attr(c, n, "name", true, "", &g->name) < 0)
                return -1;
        if ((why = cat_short_name_problem(g->name)))
                return cat_fail(c, n, "line group name '%s' %s", Q(g->name), why);
        snprintf(pfx, sizeof(pfx), "line group '%s': ", g->name);
        if (cat_get_attr(c, n, "controller", true, pfx, &g->controller) < 0)
                return -1;
        if ((why = cat_short_name_problem(g->controller)))
                return cat_fail(c, n, "line group '%s': controller '%s' %s", g->name, Q(g->controller), why);
        for (xmlNodePtr k = n->children; k; k = k->next) {
                if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
                        for (const xmlChar *s = k->content; s && *s; s++)
                                if (!cat_is_space((char)*s))
                                        return cat_fail(c, k, "line group '%s': unexpected text", g->name);
                        continue;
                }
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (cat_is_el(k, "description")) {
                        if (g->description)
                                return cat_fail(c, k, "line group '%s': more than one <description>", g->name);
                        if (cat_check_attrs(c, k, no_attrs) < 0 || cat_get_prose(c, k, pfx, &g->description) < 0)
                                return -1;
                } else if (cat_is_el(k, "line")) {
                        if (parse_line(c, k, g, d->line_lines) < 0)
                                return -1;
                } else {
                        return cat_fail(c, k, "line group '%s': unexpected element <%s>", g->name,
                                        Q((const char *)k->name));
                }
        }
        if (g->n_lines == 0)
                return cat_fail(c, n, "line group '%s' has no <line>", g->name);
        return 0;
}

/* After the merge: every group names a GPIO controller of the catalog, a name no device
 * has, and lines that controller has (checked against its port table when we know it). */
int cat_check_line_groups(Cat *cat, TvError *err)
{
        for (size_t i = 0; i < cat->n_groups; i++) {
                const GroupDraft *d = &cat->groups[i];
                const TvLineGroup *g = &d->group;
                const TvCatalogDevice *ctl = NULL;
                const PortTable *t;

                for (size_t j = 0; j < cat->n_devs; j++) {
                        if (strcmp(cat->devs[j].dev.name, g->name) == 0)
                                return cat_fail_at(err, g->origin, d->line,
                                                   "line group '%s': the name is already the device at %s line %ld "
                                                   "(groups and devices share one namespace)",
                                                   g->name, cat->devs[j].dev.origin, cat->devs[j].line);
                        if (strcmp(cat->devs[j].dev.name, g->controller) == 0)
                                ctl = &cat->devs[j].dev;
                }
                for (size_t j = 0; j < i; j++)
                        if (strcmp(cat->groups[j].group.name, g->name) == 0)
                                return cat_fail_at(err, g->origin, d->line,
                                                   "line group name '%s' is already used by the line group at %s line %ld",
                                                   g->name, cat->groups[j].group.origin, cat->groups[j].line);
                if (!ctl)
                        return cat_fail_at(err, g->origin, d->line, "line group '%s': controller '%s' is not a catalog device",
                                           g->name, g->controller);
                if (strcmp(ctl->kind, "gpio") != 0)
                        return cat_fail_at(err, g->origin, d->line,
                                           "line group '%s': controller '%s' is of kind '%s', not 'gpio'", g->name,
                                           g->controller, ctl->kind);
                t = table_of(ctl);
                for (size_t k = 0; t && k < g->n_lines; k++) {
                        const TvGpioLine *l = &g->lines[k];
                        char hn[16];

                        if (!host_name_of(t, l->offset, hn, sizeof(hn)))
                                return cat_fail_at(err, g->origin, d->line_lines[k],
                                                   "line group '%s': offset %" PRIu32 " is beyond the %u lines of %s (%s)",
                                                   g->name, l->offset, table_lines(t), g->controller, t->compatible);
                        if (l->port && strcmp(l->port, hn) != 0)
                                return cat_fail_at(err, g->origin, d->line_lines[k],
                                                   "line group '%s': offset %" PRIu32 " of %s is %s, not %s (offsets count "
                                                   "each port's own pins in the driver's port order; see tegravirt-catalog(5))",
                                                   g->name, l->offset, t->compatible, hn, l->port);
                }
        }
        return 0;
}

const TvLineGroup *tv_catalog_find_line_group(const TvCatalog *c, const char *name)
{
        for (size_t i = 0; c && name && i < c->n_line_groups; i++)
                if (strcmp(c->line_groups[i].name, name) == 0)
                        return &c->line_groups[i];
        return NULL;
}

const TvCatalogDevice *tv_line_group_controller(const TvCatalog *c, const TvLineGroup *g)
{
        return tv_catalog_find(c, g->controller);
}
