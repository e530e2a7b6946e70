/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device catalog: the single source of truth for what can be passed through
 * and what each device needs (host windows, BPMP IDs, guest DT facts, hazards).
 * Shipped as XML (validated by xml-schemas/catalog.rng) plus admin overrides.
 * Parsing and loading are for one thread at a time (the embedded schema is
 * compiled once and cached; libxml2's error handlers are swapped per call).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tv-error.h"

/* Hard limits; larger inputs are refused, not truncated. */
#define TV_CATALOG_MAX_BYTES    (1024 * 1024)
#define TV_CATALOG_MAX_DEVICES  256

typedef struct TvRegion {
        uint64_t base;
        uint64_t size;
        char *name;             /* reg-names entry, may be NULL */
} TvRegion;

/* A BPMP resource as a device uses it: the global ID, its catalog name
 * (e.g. "uarta", "pllp_out0") and the role name in the guest node
 * (clock-names / reset-names entry, e.g. "serial", "parent"; may be NULL). */
typedef struct TvBpmpRef {
        uint32_t id;
        char *name;
        char *role;
} TvBpmpRef;

typedef enum TvPropType {
        TV_PROP_EMPTY,          /* boolean property, no value */
        TV_PROP_U32,            /* one or more u32 cells */
        TV_PROP_STRING,         /* one or more strings */
} TvPropType;

/* An extra property of the guest DT node. */
typedef struct TvGuestProp {
        char *name;
        TvPropType type;
        uint32_t *cells;        /* TV_PROP_U32 */
        size_t n_cells;
        char **strings;         /* TV_PROP_STRING, NULL-terminated */
} TvGuestProp;

typedef struct TvCatalogDevice {
        char *name;             /* short name, [a-z0-9_-]: "uarta" */
        char *platform_id;      /* platform-bus id: "3100000.serial" */
        char *kind;             /* "serial", "gpio", "gpu", ... */
        char *description;      /* one line for humans, may be NULL */
        TvRegion *regions;      /* host register windows, in reg order */
        size_t n_regions;
        uint32_t *host_irqs;    /* host GIC SPI numbers, in interrupts order */
        size_t n_irqs;
        char **guest_compatible; /* NULL-terminated, most specific first */
        TvGuestProp *guest_props;
        size_t n_guest_props;
        TvBpmpRef *clocks;      /* including the parent clocks the guest enables */
        size_t n_clocks;
        TvBpmpRef *resets;
        size_t n_resets;
        TvBpmpRef *power_domains;
        size_t n_power_domains;
        bool needs_bpmp;        /* guest needs the BPMP bridge */
        bool needs_unsafe_interrupts; /* vfio_iommu_type1.allow_unsafe_interrupts must be Y */
        char **kernel_args;     /* guest kernel args, NULL-terminated (BPMP args included) */
        /* Host DT changes for the host overlay (<host>); host_node NULL = none. */
        char *host_node;        /* full node path: "/bus@0/serial@3100000" */
        bool host_driver_off;   /* compatible replaced so no host driver binds at boot */
        char *host_smmu;        /* label of the SMMU for iommus, NULL = iommus untouched */
        uint32_t host_stream_id;
        char **hazards;         /* NULL-terminated human warnings */
        char *origin;           /* file this entry came from */
} TvCatalogDevice;

/* One GPIO line of a line group. */
typedef struct TvGpioLine {
        uint32_t offset;        /* line offset on the controller's gpiochip (GPIO uAPI) */
        char *name;             /* the name the guest sees: "header-7" */
        char *port;             /* the host's name of the line, "PQ.06"; may be NULL */
} TvGpioLine;

/* A named group of lines on one GPIO controller (<line-group>), assigned like a device. */
typedef struct TvLineGroup {
        char *name;             /* short name, shares the devices' namespace: "header-pin7" */
        char *controller;       /* the controller's device name: "gpio-main" */
        char *description;      /* may be NULL */
        TvGpioLine *lines;      /* in document order: the guest's line numbers */
        size_t n_lines;
        char *origin;
} TvLineGroup;

#define TV_CATALOG_MAX_LINE_GROUPS 256
#define TV_LINE_GROUP_MAX_LINES    64

typedef struct TvCatalog {
        char *soc;              /* "tegra234" */
        TvCatalogDevice *devices;
        size_t n_devices;
        TvLineGroup *line_groups;
        size_t n_line_groups;
} TvCatalog;

/* Parses and validates one catalog document (schema + semantic checks: unique
 * names and platform ids, resolvable BPMP references, sane windows).
 * origin names the source in error messages. Returns 0, or -1 with err set
 * (TV_ERR_INVALID_ARGUMENT) and *out untouched. */
int tv_catalog_parse_buffer(const char *buf, size_t len, const char *origin,
                            TvCatalog **out, TvError *err);

/* Loads the shipped catalog, then every *.xml in override_dir (sorted; may be
 * NULL or missing). An override entry with the name of an existing entry replaces
 * it; new names are added. Platform ids stay unique across the merge. */
int tv_catalog_load(const char *shipped_path, const char *override_dir,
                    TvCatalog **out, TvError *err);

/* Finds a device by short name or platform id; NULL if none. */
const TvCatalogDevice *tv_catalog_find(const TvCatalog *c, const char *name_or_platform_id);

/* Finds a line group by name; NULL if none. */
const TvLineGroup *tv_catalog_find_line_group(const TvCatalog *c, const char *name);
/* The line group's controller device (always there in a loaded catalog). */
const TvCatalogDevice *tv_line_group_controller(const TvCatalog *c, const TvLineGroup *g);

void tv_catalog_free(TvCatalog *c);
/* For _cleanup_(tv_catalog_freep). */
void tv_catalog_freep(TvCatalog **c);
