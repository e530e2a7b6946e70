// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In-process guest DTB patcher (libfdt). See guest-dtb.h for what is produced.
 * Errors of the base tree are INVALID_ARGUMENT; a device set the bus cannot
 * hold or a missing BPMP bridge is HOST_NOT_READY.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "guest-dtb.h"
#include "tv-names.h"

#define GIC_SPI 0
#define IRQ_TYPE_LEVEL_HIGH 4

static uint64_t pow2_ceil(uint64_t v)
{
        uint64_t a = 1;

        while (a < v)
                a <<= 1;
        return a;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
        return a < b + blen && b < a + alen;
}

/* Is [off, off+size) (bus offsets) free of every window placed so far? */
static bool slot_free(const TvGuestPlacement *out, size_t ndev, size_t nreg, uint64_t off, uint64_t size)
{
        for (size_t d = 0; d <= ndev; d++) {
                size_t lim = d == ndev ? nreg : out[d].n_reg;

                for (size_t r = 0; r < lim; r++)
                        if (overlaps(off, size, out[d].reg[r][0] - TV_PLATFORM_BUS_BASE, out[d].reg[r][1]))
                                return false;
        }
        return true;
}

static uint64_t dev_mmio_total(const TvCatalogDevice *d)
{
        uint64_t t = 0;

        for (size_t r = 0; r < d->n_regions; r++)
                t += d->regions[r].size;
        return t;
}

int tv_guest_place(const TvCatalogDevice *const *devs, size_t n, TvGuestPlacement *out, TvError *err)
{
        uint64_t used_irqs = 0;
        uint64_t used_mmio = 0;

        if (n && (!devs || !out))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest placement: no device list");
        for (size_t i = 0; i < n; i++) {
                const TvCatalogDevice *d = devs[i];
                TvGuestPlacement *p = &out[i];

                memset(p, 0, sizeof(*p));
                if (!d || !d->name)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest placement: device %zu is missing", i);
                if (d->n_regions == 0 || d->n_regions > TV_DEVICE_MAX_REGIONS)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "device '%s' has %zu register windows; a guest node takes 1 to %d",
                                            d->name, d->n_regions, TV_DEVICE_MAX_REGIONS);
                if (d->n_irqs > TV_PLATFORM_BUS_IRQS)
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "device '%s' needs %zu interrupts; the guest platform bus has only %d",
                                            d->name, d->n_irqs, TV_PLATFORM_BUS_IRQS);

                if (d->n_irqs > (size_t)(TV_PLATFORM_BUS_IRQS - __builtin_popcountll(used_irqs)))
                        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                            "device '%s' needs %zu interrupts but only %d of the guest platform "
                                            "bus's %d are left after the devices before it; assign fewer devices",
                                            d->name, d->n_irqs, TV_PLATFORM_BUS_IRQS - __builtin_popcountll(used_irqs),
                                            TV_PLATFORM_BUS_IRQS);
                /* QEMU links the IRQs first, each on the first free line ... */
                for (size_t q = 0; q < d->n_irqs; q++) {
                        unsigned line = 0;

                        while (line < TV_PLATFORM_BUS_IRQS && (used_irqs & (1ULL << line)))
                                line++;
                        used_irqs |= 1ULL << line;
                        p->irq[p->n_irq++] = TV_PLATFORM_BUS_IRQ_BASE + line;
                }

                /* ... then each window at the first free offset aligned to its size
                 * rounded up to a power of two. */
                for (size_t r = 0; r < d->n_regions; r++) {
                        uint64_t size = d->regions[r].size;
                        uint64_t align, off;
                        bool found = false;

                        if (size == 0 || size > TV_PLATFORM_BUS_SIZE)
                                return tv_error_set(err, size ? TV_ERR_HOST_NOT_READY : TV_ERR_INVALID_ARGUMENT,
                                                    "device '%s' window %zu is 0x%" PRIx64 " bytes; the guest platform "
                                                    "bus holds 0x%llx", d->name, r, size, TV_PLATFORM_BUS_SIZE);
                        align = pow2_ceil(size);
                        for (off = 0; off + size <= TV_PLATFORM_BUS_SIZE; off += align)
                                if (slot_free(out, i, r, off, size)) {
                                        found = true;
                                        break;
                                }
                        if (!found && dev_mmio_total(d) > TV_PLATFORM_BUS_SIZE)
                                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                                    "device '%s' does not fit the guest platform bus: its windows "
                                                    "need 0x%" PRIx64 " bytes, more than the 32 MiB at 0x%llx; it "
                                                    "cannot be passed through on a stock QEMU platform bus",
                                                    d->name, dev_mmio_total(d), TV_PLATFORM_BUS_BASE);
                        if (!found)
                                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                                    "device '%s' does not fit the guest platform bus: its window %zu "
                                                    "(0x%" PRIx64 " bytes) finds no free 0x%" PRIx64 "-aligned slot in the "
                                                    "32 MiB at 0x%llx (the device needs 0x%" PRIx64 " bytes in all, the "
                                                    "devices before it use 0x%" PRIx64 "); assign it with fewer or "
                                                    "smaller devices, or first", d->name, r, size, align,
                                                    TV_PLATFORM_BUS_BASE, dev_mmio_total(d), used_mmio);
                        p->reg[r][0] = TV_PLATFORM_BUS_BASE + off;
                        p->reg[r][1] = size;
                        p->n_reg = r + 1;
                }
                used_mmio += dev_mmio_total(d);
        }
        return 0;
}

int tv_guest_place_bridge(const TvCatalogDevice *const *devs, size_t n, uint64_t *base, TvError *err)
{
        TvGuestPlacement *pl = calloc(n + 1, sizeof(*pl));
        uint64_t align = pow2_ceil(TV_BPMP_WINDOW_SIZE);
        int r = -1;

        if (!pl)
                return tv_error_oom(err);
        if (tv_guest_place(devs, n, pl, err) == 0) {
                for (uint64_t off = 0; off + TV_BPMP_WINDOW_SIZE <= TV_PLATFORM_BUS_SIZE; off += align)
                        if (slot_free(pl, n, 0, off, TV_BPMP_WINDOW_SIZE)) {
                                *base = TV_PLATFORM_BUS_BASE + off;
                                r = 0;
                                break;
                        }
                if (r < 0)
                        tv_error_set(err, TV_ERR_HOST_NOT_READY, "the BPMP bridge window finds no free slot on the "
                                     "guest platform bus after the assigned devices; assign fewer devices");
        }
        free(pl);
        return r;
}

/* ---------------------------------------------------------------- patching */

typedef struct Ctx {
        void *fdt;
        TvError *err;
        int root_ac, root_sc;   /* root #address-cells / #size-cells */
        int bus;                /* platform bus node offset (refreshed after edits) */
        char bus_path[64];
        int bus_ac, bus_sc;
        uint64_t child_base;    /* bus address of TV_PLATFORM_BUS_BASE */
        uint32_t gic;
        uint32_t bpmp;          /* /bpmp phandle, 0 if none */
} Ctx;

/* 1 = out of space (caller grows the buffer), -1 = err set */
#define NOSPACE 1

static int fdt_fail(Ctx *c, int rc, const char *what)
{
        if (rc == -FDT_ERR_NOSPACE)
                return NOSPACE;
        return tv_error_set(c->err, TV_ERR_INVALID_ARGUMENT, "guest DTB: %s: %s", what, fdt_strerror(rc));
}

#define TRY(call, what)                                                                                    \
        do {                                                                                               \
                int r_ = (call);                                                                           \
                if (r_ < 0)                                                                                \
                        return fdt_fail(c, r_, what);                                                      \
        } while (0)

#define BAD(...) tv_error_set(c->err, TV_ERR_INVALID_ARGUMENT, __VA_ARGS__)

/* A 1-cell u32 property, or -1 if missing or malformed. */
static int64_t get_u32(const void *fdt, int node, const char *name)
{
        int len;
        const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

        if (!p || len != 4)
                return -1;
        return fdt32_to_cpu(*p);
}

static uint64_t read_cells(const fdt32_t *p, int n)
{
        uint64_t v = 0;

        for (int i = 0; i < n; i++)
                v = (v << 32) | fdt32_to_cpu(p[i]);
        return v;
}

static void put_cells(fdt32_t *p, int n, uint64_t v)
{
        for (int i = n - 1; i >= 0; i--, v >>= 32)
                p[i] = cpu_to_fdt32((uint32_t)v);
}

static bool fits_cells(uint64_t v, int n)
{
        return n == 2 || v <= UINT32_MAX;
}

/* Validates the base tree and fills c (except bpmp). Read-only. */
static int inspect(Ctx *c)
{
        const void *fdt = c->fdt;
        const char *names[] = { "/platform-bus@c000000", "/platform@c000000" };
        const fdt32_t *rng;
        int64_t v;
        int len, ip_node;
        bool found = false;

        v = get_u32(fdt, 0, "#address-cells");
        if (v != 1 && v != 2)
                return BAD("guest DTB: the base tree's root has no usable #address-cells");
        c->root_ac = (int)v;
        v = get_u32(fdt, 0, "#size-cells");
        if (v != 1 && v != 2)
                return BAD("guest DTB: the base tree's root has no usable #size-cells");
        c->root_sc = (int)v;

        c->bus = -1;
        for (size_t i = 0; i < 2 && c->bus < 0; i++) {
                c->bus = fdt_path_offset(fdt, names[i]);
                if (c->bus >= 0)
                        snprintf(c->bus_path, sizeof(c->bus_path), "%s", names[i]);
        }
        if (c->bus < 0)
                return BAD("guest DTB: the base tree has no platform bus node (/platform-bus@c000000 or "
                           "/platform@c000000); dump it with `-machine virt,dumpdtb=FILE` of the same QEMU");
        rng = fdt_getprop(fdt, c->bus, "compatible", &len);
        if (!rng || fdt_stringlist_contains((const char *)rng, len, "qemu,platform") != 1)
                return BAD("guest DTB: %s is not compatible with \"qemu,platform\"", c->bus_path);
        if (fdt_first_subnode(fdt, c->bus) >= 0)
                return BAD("guest DTB: %s already has child nodes; give the unpatched dumpdtb as base",
                           c->bus_path);
        v = get_u32(fdt, c->bus, "#address-cells");
        if (v != 1 && v != 2)
                return BAD("guest DTB: %s has no usable #address-cells", c->bus_path);
        c->bus_ac = (int)v;
        v = get_u32(fdt, c->bus, "#size-cells");
        if (v != 1 && v != 2)
                return BAD("guest DTB: %s has no usable #size-cells", c->bus_path);
        c->bus_sc = (int)v;

        /* Bus address of the window: from the ranges entry covering it. */
        rng = fdt_getprop(fdt, c->bus, "ranges", &len);
        if (!rng)
                return BAD("guest DTB: %s has no ranges", c->bus_path);
        if (len == 0) {
                c->child_base = TV_PLATFORM_BUS_BASE;
                found = true;
        } else {
                int ent = c->bus_ac + c->root_ac + c->bus_sc;

                if (len % (ent * 4))
                        return BAD("guest DTB: %s has a malformed ranges", c->bus_path);
                for (int e = 0; e < len / (ent * 4) && !found; e++) {
                        const fdt32_t *p = rng + e * ent;
                        uint64_t cb = read_cells(p, c->bus_ac);
                        uint64_t pb = read_cells(p + c->bus_ac, c->root_ac);
                        uint64_t sz = read_cells(p + c->bus_ac + c->root_ac, c->bus_sc);

                        if (pb <= TV_PLATFORM_BUS_BASE && sz >= TV_PLATFORM_BUS_SIZE &&
                            TV_PLATFORM_BUS_BASE - pb <= sz - TV_PLATFORM_BUS_SIZE) {
                                c->child_base = cb + (TV_PLATFORM_BUS_BASE - pb);
                                found = c->child_base >= cb && fits_cells(c->child_base + TV_PLATFORM_BUS_SIZE - 1,
                                                                          c->bus_ac);
                        }
                }
        }
        if (!found)
                return BAD("guest DTB: the ranges of %s do not map the 32 MiB at 0xc000000", c->bus_path);

        /* The GIC: the bus's interrupt-parent, else the nearest ancestor's. */
        v = get_u32(fdt, c->bus, "interrupt-parent");
        if (v < 0)
                v = get_u32(fdt, 0, "interrupt-parent");
        if (v <= 0 || v == 0xffffffff)
                return BAD("guest DTB: %s has no interrupt-parent", c->bus_path);
        c->gic = (uint32_t)v;
        ip_node = fdt_node_offset_by_phandle(fdt, c->gic);
        if (ip_node < 0 || !fdt_getprop(fdt, ip_node, "interrupt-controller", NULL))
                return BAD("guest DTB: the interrupt-parent of %s is not an interrupt controller", c->bus_path);
        if (get_u32(fdt, ip_node, "#interrupt-cells") != 3)
                return BAD("guest DTB: the GIC of %s does not have #interrupt-cells = 3", c->bus_path);
        return 0;
}

static bool dev_uses_bpmp(const TvCatalogDevice *d)
{
        return d->needs_bpmp || d->n_clocks || d->n_resets || d->n_power_domains;
}

static int add_bpmp(Ctx *c, uint64_t bpmp_base, const char *who)
{
        static const char compat[] = "nvidia,tegra234-bpmp\0nvidia,tegra186-bpmp";
        int node = fdt_path_offset(c->fdt, "/bpmp");
        fdt32_t va[2];

        if (node >= 0) {
                /* A patched QEMU's dump already has it: its address is authoritative. */
                int len;
                const fdt32_t *p = fdt_getprop(c->fdt, node, "virtual-pa", &len);

                if (p && len == 8) {
                        uint64_t have = read_cells(p, 2);

                        if (bpmp_base && bpmp_base != have)
                                return BAD("guest DTB: the base tree's /bpmp virtual-pa 0x%" PRIx64 " disagrees "
                                           "with the QEMU BPMP bridge at 0x%" PRIx64, have, bpmp_base);
                        bpmp_base = have;
                }
        }
        if (!bpmp_base)
                return tv_error_set(c->err, TV_ERR_HOST_NOT_READY,
                                    "device '%s' needs the BPMP (clocks, resets or power domains) but the QEMU in use "
                                    "has no BPMP guest bridge; use a QEMU with the nvidia_bpmp_guest device", who);
        if (node < 0)
                TRY(node = fdt_add_subnode(c->fdt, 0, "bpmp"), "adding /bpmp");
        TRY(fdt_setprop(c->fdt, node, "compatible", compat, sizeof(compat)), "/bpmp compatible");
        put_cells(va, 2, bpmp_base);
        TRY(fdt_setprop(c->fdt, node, "virtual-pa", va, sizeof(va)), "/bpmp virtual-pa");
        TRY(fdt_setprop_u32(c->fdt, node, "#clock-cells", 1), "/bpmp #clock-cells");
        TRY(fdt_setprop_u32(c->fdt, node, "#reset-cells", 1), "/bpmp #reset-cells");
        TRY(fdt_setprop_u32(c->fdt, node, "#power-domain-cells", 1), "/bpmp #power-domain-cells");
        c->bpmp = fdt_get_phandle(c->fdt, node);
        if (!c->bpmp) {
                TRY(fdt_generate_phandle(c->fdt, &c->bpmp), "allocating the /bpmp phandle");
                TRY(fdt_setprop_u32(c->fdt, node, "phandle", c->bpmp), "/bpmp phandle");
        }
        return 0;
}

/* "<phandle id>..." and, when every entry has a role, "<names>". */
static int set_refs(Ctx *c, int node, const char *prop, const char *names_prop, const TvBpmpRef *refs, size_t n)
{
        bool all_roles = true;

        if (!n)
                return 0;
        TRY(fdt_setprop(c->fdt, node, prop, NULL, 0), prop);
        for (size_t i = 0; i < n; i++) {
                TRY(fdt_appendprop_u32(c->fdt, node, prop, c->bpmp), prop);
                TRY(fdt_appendprop_u32(c->fdt, node, prop, refs[i].id), prop);
                all_roles &= refs[i].role && refs[i].role[0];
        }
        if (all_roles) {
                TRY(fdt_setprop(c->fdt, node, names_prop, NULL, 0), names_prop);
                for (size_t i = 0; i < n; i++)
                        TRY(fdt_appendprop_string(c->fdt, node, names_prop, refs[i].role), names_prop);
        }
        return 0;
}

/* The node name: the device kind if it is a plain node name, else "device". */
static const char *node_base(const TvCatalogDevice *d)
{
        const char *k = d->kind;

        if (!k || !*k || strlen(k) > 31)
                return "device";
        for (const char *s = k; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == ','))
                        return "device";
        return k;
}

static const char *const generated[] = {
        "compatible", "reg", "reg-names", "interrupts", "interrupt-parent", "clocks", "clock-names",
        "resets", "reset-names", "power-domains", "power-domain-names", "phandle", "name", NULL,
};

static int add_device(Ctx *c, const TvCatalogDevice *d, const TvGuestPlacement *p, int *out_node)
{
        char name[64];
        uint64_t unit = c->child_base + (p->reg[0][0] - TV_PLATFORM_BUS_BASE);
        bool all_names = true;
        int node;

        snprintf(name, sizeof(name), "%s@%" PRIx64, node_base(d), unit);
        c->bus = fdt_path_offset(c->fdt, c->bus_path);
        TRY(c->bus, "finding the platform bus");
        TRY(node = fdt_add_subnode(c->fdt, c->bus, name), name);

        if (!d->guest_compatible || !d->guest_compatible[0])
                return tv_error_set(c->err, TV_ERR_INVALID_ARGUMENT, "device '%s' has no guest compatible", d->name);
        TRY(fdt_setprop(c->fdt, node, "compatible", NULL, 0), "compatible");
        for (char **s = d->guest_compatible; *s; s++)
                TRY(fdt_appendprop_string(c->fdt, node, "compatible", *s), "compatible");

        TRY(fdt_setprop(c->fdt, node, "reg", NULL, 0), "reg");
        for (size_t r = 0; r < p->n_reg; r++) {
                fdt32_t cells[4];

                put_cells(cells, c->bus_ac, c->child_base + (p->reg[r][0] - TV_PLATFORM_BUS_BASE));
                put_cells(cells + c->bus_ac, c->bus_sc, p->reg[r][1]);
                if (!fits_cells(p->reg[r][1], c->bus_sc))
                        return BAD("guest DTB: a window of '%s' does not fit the bus's #size-cells", d->name);
                TRY(fdt_appendprop(c->fdt, node, "reg", cells, (c->bus_ac + c->bus_sc) * 4), "reg");
                all_names &= d->regions[r].name && d->regions[r].name[0];
        }
        if (all_names) {
                TRY(fdt_setprop(c->fdt, node, "reg-names", NULL, 0), "reg-names");
                for (size_t r = 0; r < p->n_reg; r++)
                        TRY(fdt_appendprop_string(c->fdt, node, "reg-names", d->regions[r].name), "reg-names");
        }

        if (p->n_irq) {
                /* Explicit parent: a device that is itself an interrupt controller
                 * (GPIO) would otherwise be taken for its own parent by some readers. */
                TRY(fdt_setprop_u32(c->fdt, node, "interrupt-parent", c->gic), "interrupt-parent");
                fdt32_t cells[TV_PLATFORM_BUS_IRQS * 3];

                for (size_t q = 0; q < p->n_irq; q++) {
                        cells[3 * q] = cpu_to_fdt32(GIC_SPI);
                        cells[3 * q + 1] = cpu_to_fdt32(p->irq[q]);
                        cells[3 * q + 2] = cpu_to_fdt32(IRQ_TYPE_LEVEL_HIGH);
                }
                TRY(fdt_setprop(c->fdt, node, "interrupts", cells, (int)(p->n_irq * 3 * 4)), "interrupts");
        }

        for (size_t i = 0; i < d->n_guest_props; i++) {
                const TvGuestProp *gp = &d->guest_props[i];

                if (!gp->name || !gp->name[0])
                        return BAD("guest DTB: device '%s' has an unnamed guest property", d->name);
                for (const char *const *g = generated; *g; g++)
                        if (strcmp(*g, gp->name) == 0)
                                return tv_error_set(c->err, TV_ERR_INVALID_ARGUMENT,
                                                    "device '%s': guest property '%s' is generated, not taken from the "
                                                    "catalog", d->name, gp->name);
                if (fdt_getprop(c->fdt, node, gp->name, NULL))
                        return tv_error_set(c->err, TV_ERR_INVALID_ARGUMENT,
                                            "device '%s': guest property '%s' is given twice", d->name, gp->name);
                TRY(fdt_setprop(c->fdt, node, gp->name, NULL, 0), gp->name);
                switch (gp->type) {
                case TV_PROP_EMPTY:
                        break;
                case TV_PROP_U32:
                        for (size_t k = 0; k < gp->n_cells; k++)
                                TRY(fdt_appendprop_u32(c->fdt, node, gp->name, gp->cells[k]), gp->name);
                        break;
                case TV_PROP_STRING:
                        for (char **s = gp->strings; s && *s; s++)
                                TRY(fdt_appendprop_string(c->fdt, node, gp->name, *s), gp->name);
                        break;
                }
        }

        /* dtc wants interrupt providers to say they take no address in an interrupt-map. */
        if (fdt_getprop(c->fdt, node, "interrupt-controller", NULL) &&
            !fdt_getprop(c->fdt, node, "#address-cells", NULL))
                TRY(fdt_setprop_u32(c->fdt, node, "#address-cells", 0), "#address-cells");

        if (dev_uses_bpmp(d)) {
                int r;

                if ((r = set_refs(c, node, "clocks", "clock-names", d->clocks, d->n_clocks)) ||
                    (r = set_refs(c, node, "resets", "reset-names", d->resets, d->n_resets)) ||
                    (r = set_refs(c, node, "power-domains", "power-domain-names", d->power_domains,
                                  d->n_power_domains)))
                        return r;
        }
        *out_node = node;
        return 0;
}

static int add_alias(Ctx *c, int dev_node)
{
        char path[256], prop[16];
        int aliases;

        TRY(fdt_get_path(c->fdt, dev_node, path, sizeof(path)), "device path");
        aliases = fdt_path_offset(c->fdt, "/aliases");
        if (aliases == -FDT_ERR_NOTFOUND)
                TRY(aliases = fdt_add_subnode(c->fdt, 0, "aliases"), "adding /aliases");
        TRY(aliases, "/aliases");
        for (int n = 0; n < 256; n++) {
                snprintf(prop, sizeof(prop), "serial%d", n);
                if (!fdt_getprop(c->fdt, aliases, prop, NULL)) {
                        TRY(fdt_setprop_string(c->fdt, aliases, prop, path), "serial alias");
                        return 0;
                }
        }
        return BAD("guest DTB: no free serialN alias in the base tree");
}

/* The virtio GPIO device's node: a child of the virtio_mmio node of the transport QEMU puts
 * it on (virtio-mmio-bus.0, gpio-guest.h), so guest DT consumers can reference its lines
 * (Documentation/devicetree/bindings/gpio/gpio-virtio.yaml; the driver binds to the
 * transport, this node only describes it). */
static int add_gpio(Ctx *c, const TvGuestGpio *g)
{
        size_t total = 0, at = 0;
        char *names;
        int node = -1, sub, r;

        for (int n = fdt_node_offset_by_compatible(c->fdt, -1, "virtio,mmio"); n >= 0;
             n = fdt_node_offset_by_compatible(c->fdt, n, "virtio,mmio")) {
                int len;
                const fdt32_t *reg = fdt_getprop(c->fdt, n, "reg", &len);

                if (fdt_parent_offset(c->fdt, n) == 0 && reg && len >= 4 * (c->root_ac + c->root_sc) &&
                    read_cells(reg, c->root_ac) == TV_GUEST_GPIO_MMIO_BASE) {
                        node = n;
                        break;
                }
        }
        if (node < 0)
                return BAD("guest DTB: the base tree has no virtio-mmio transport at 0x%" PRIx64 " (QEMU virt's "
                           "virtio-mmio-bus.0), where the GPIO device of the line groups goes",
                           (uint64_t)TV_GUEST_GPIO_MMIO_BASE);
        if (fdt_subnode_offset(c->fdt, node, "gpio") >= 0 || fdt_first_subnode(c->fdt, node) >= 0)
                return BAD("guest DTB: the base tree's virtio-mmio transport at 0x%" PRIx64 " already has child nodes",
                           (uint64_t)TV_GUEST_GPIO_MMIO_BASE);
        if (g->n == 0 || g->n > TV_GUEST_GPIO_MAX_LINES)
                return BAD("guest DTB: %zu GPIO lines (1 to %d are accepted)", g->n, TV_GUEST_GPIO_MAX_LINES);
        for (size_t i = 0; i < g->n; i++) {
                size_t len = g->names[i] ? strnlen(g->names[i], TV_GUEST_GPIO_MAX_NAME + 1) : 0;

                if (len == 0 || len > TV_GUEST_GPIO_MAX_NAME)
                        return BAD("guest DTB: GPIO line %zu has an empty or too long name", i);
                for (size_t k = 0; k < len; k++)
                        if ((unsigned char)g->names[i][k] < 0x20 || (unsigned char)g->names[i][k] > 0x7e)
                                return BAD("guest DTB: the name of GPIO line %zu is not printable ASCII", i);
                total += len + 1;
        }
        names = malloc(total);
        if (!names)
                return tv_error_oom(c->err);
        for (size_t i = 0; i < g->n; i++) {
                size_t len = strlen(g->names[i]) + 1;

                memcpy(names + at, g->names[i], len);
                at += len;
        }
        r = sub = fdt_add_subnode(c->fdt, node, "gpio");
        if (r >= 0)
                r = fdt_setprop_string(c->fdt, sub, "compatible", "virtio,device29");
        if (r >= 0)
                r = fdt_setprop_empty(c->fdt, sub, "gpio-controller");
        if (r >= 0)
                r = fdt_setprop_u32(c->fdt, sub, "#gpio-cells", 2);
        if (r >= 0)
                r = fdt_setprop_empty(c->fdt, sub, "interrupt-controller");
        if (r >= 0)
                r = fdt_setprop_u32(c->fdt, sub, "#interrupt-cells", 2);
        if (r >= 0)
                r = fdt_setprop(c->fdt, sub, "gpio-line-names", names, (int)total);
        free(names);
        return r < 0 ? fdt_fail(c, r, "adding the virtio GPIO node") : 0;
}

static int patch(Ctx *c, const TvCatalogDevice *const *devs, size_t n, const TvGuestPlacement *pl,
                 uint64_t bpmp_base, const TvGuestGpio *gpio)
{
        int r, node;

        if ((r = inspect(c)))
                return r;
        for (size_t i = 0; i < n; i++)
                if (dev_uses_bpmp(devs[i])) {
                        if ((r = add_bpmp(c, bpmp_base, devs[i]->name)))
                                return r;
                        break;
                }
        /* fdt_add_subnode() puts a new node first, so add in reverse to keep -device order. */
        for (size_t i = n; i-- > 0;)
                if ((r = add_device(c, devs[i], &pl[i], &node)))
                        return r;
        for (size_t i = 0; i < n; i++) {
                char path[160];

                if (strcmp(node_base(devs[i]), "serial") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/serial@%" PRIx64, c->bus_path,
                         (uint64_t)(c->child_base + (pl[i].reg[0][0] - TV_PLATFORM_BUS_BASE)));
                TRY(node = fdt_path_offset(c->fdt, path), "finding a serial node");
                if ((r = add_alias(c, node)))
                        return r;
        }
        if (gpio && (r = add_gpio(c, gpio)))
                return r;
        return 0;
}

int tv_guest_dtb_build(const void *base, size_t base_len, const TvCatalogDevice *const *devs, size_t n,
                       uint64_t bpmp_base, void **out, size_t *out_len, TvError *err)
{
        return tv_guest_dtb_build_gpio(base, base_len, devs, n, bpmp_base, NULL, out, out_len, err);
}

int tv_guest_dtb_build_gpio(const void *base, size_t base_len, const TvCatalogDevice *const *devs, size_t n,
                            uint64_t bpmp_base, const TvGuestGpio *gpio, void **out, size_t *out_len, TvError *err)
{
        TvGuestPlacement *pl = NULL;
        size_t extra = 8192, used;
        int rc;

        if (!out || !out_len)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: no output");
        *out = NULL;
        *out_len = 0;
        if (!base || base_len < sizeof(struct fdt_header))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: the base tree is empty or truncated "
                                    "(%zu bytes)", base_len);
        if (base_len > TV_GUEST_DTB_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: the base tree is %zu bytes; at most %d "
                                    "are accepted", base_len, TV_GUEST_DTB_MAX_BYTES);
        /* QEMU writes v17. Older versions take libfdt paths that are not safe on
         * hostile input (1.6.1 fdt_check_full dereferences a NULL root name). */
        rc = fdt_check_header(base);
        if (!rc && fdt_version(base) < 17)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: the base tree is FDT version %u; "
                                    "version 17 (as QEMU dumpdtb writes) is required", fdt_version(base));
        if (!rc)
                rc = fdt_check_full(base, base_len);
        if (rc)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: the base tree is not a valid flattened "
                                    "device tree: %s", fdt_strerror(rc));
        if (fdt_totalsize(base) > base_len)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: the base tree is truncated");

        if (n) {
                pl = calloc(n, sizeof(*pl));
                if (!pl)
                        return tv_error_oom(err);
        }
        if (tv_guest_place(devs, n, pl, err) < 0) {
                free(pl);
                return -1;
        }
        for (size_t i = 0; i < n; i++)
                extra += 1024 + 16 * (devs[i]->n_irqs + devs[i]->n_clocks + devs[i]->n_resets);
        for (size_t i = 0; gpio && i < gpio->n && i <= TV_GUEST_GPIO_MAX_LINES; i++)
                extra += gpio->names[i] ? strnlen(gpio->names[i], TV_GUEST_GPIO_MAX_NAME + 1) + 1 : 0;

        /* Patch in a copy with room to grow; if an estimate is short, start over bigger.
         * Only the used part is copied: a dumpdtb is 1 MiB of mostly free space, and
         * fdt_open_into() would move all of it. */
        used = fdt_off_mem_rsvmap(base) + (fdt_num_mem_rsv(base) + 1) * sizeof(struct fdt_reserve_entry);
        if (used < fdt_off_dt_struct(base) + fdt_size_dt_struct(base))
                used = fdt_off_dt_struct(base) + fdt_size_dt_struct(base);
        if (used < fdt_off_dt_strings(base) + fdt_size_dt_strings(base))
                used = fdt_off_dt_strings(base) + fdt_size_dt_strings(base);
        for (;;) {
                size_t sz = used + extra;
                Ctx c = { .err = err };

                c.fdt = malloc(sz);
                if (!c.fdt) {
                        free(pl);
                        return tv_error_oom(err);
                }
                memcpy(c.fdt, base, used);
                fdt_set_totalsize(c.fdt, used);
                rc = fdt_open_into(c.fdt, c.fdt, (int)sz);
                rc = rc == -FDT_ERR_NOSPACE ? NOSPACE : rc ? fdt_fail(&c, rc, "opening the base tree") : 0;
                if (!rc)
                        rc = patch(&c, devs, n, pl, bpmp_base, gpio);
                if (rc == NOSPACE && extra < TV_GUEST_DTB_MAX_BYTES) {
                        free(c.fdt);
                        extra *= 2;
                        continue;
                }
                if (rc == NOSPACE)
                        rc = tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "guest DTB: the patched tree grows too big");
                if (!rc && (rc = fdt_pack(c.fdt)) == 0)
                        rc = fdt_check_full(c.fdt, fdt_totalsize(c.fdt));
                if (rc < -1 || (rc < 0 && !tv_error_is_set(err)))
                        rc = fdt_fail(&c, rc, "packing the patched tree");
                if (rc) {
                        free(c.fdt);
                        free(pl);
                        return -1;
                }
                *out_len = fdt_totalsize(c.fdt);
                *out = realloc(c.fdt, *out_len);
                if (!*out)
                        *out = c.fdt;
                free(pl);
                return 0;
        }
}
