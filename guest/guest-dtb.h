/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest DTB for QEMU `virt` with vfio-platform devices: QEMU skips its own
 * platform-bus nodes when given -dtb, so we patch a `dumpdtb` base tree with
 * libfdt, placing the devices exactly where QEMU's platform_bus_link_device()
 * will map them (first free IRQ, first naturally aligned free MMIO slot, in
 * -device order).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "catalog.h"
#include "gpio-guest.h"
#include "tv-error.h"
#include "tv-limits.h"

#define TV_PLATFORM_BUS_BASE 0x0c000000ULL
#define TV_PLATFORM_BUS_SIZE 0x02000000ULL
#define TV_PLATFORM_BUS_IRQ_BASE 112
#define TV_PLATFORM_BUS_IRQS 64

/* Where one device lands in the guest. reg[i] = { guest PA, size } in the
 * device's region order; irq[i] is the GIC SPI number as written in the DT
 * interrupts cell (112 for the first line; GIC INTID = irq + 32). */
typedef struct TvGuestPlacement {
        uint64_t reg[TV_DEVICE_MAX_REGIONS][2];
        size_t n_reg;
        unsigned irq[TV_PLATFORM_BUS_IRQS];
        size_t n_irq;
} TvGuestPlacement;
/* whatever the catalog accepts, the placement takes */
_Static_assert(TV_DEVICE_MAX_IRQS <= TV_PLATFORM_BUS_IRQS, "catalog interrupts beyond the platform bus");

/* QEMU's platform_bus_link_device placement for devs in -device order; out has
 * n entries. Refuses (TV_ERR_HOST_NOT_READY, naming the device and what it
 * needs) a device that does not fit the 32 MiB bus or the 64 IRQs, and
 * (TV_ERR_INVALID_ARGUMENT) a device with no or more than TV_DEVICE_MAX_REGIONS windows. */
int tv_guest_place(const TvCatalogDevice *const *devs, size_t n, TvGuestPlacement *out, TvError *err);

/* Where QEMU maps the window of -device tegravirt-bpmp (TV_BPMP_WINDOW_SIZE bytes, no
 * interrupt) given after devs' -device vfio-platform on the command line: the same
 * first-free, size-aligned rule, after their windows. *base is the guest PA. */
#define TV_BPMP_WINDOW_SIZE 0x600       /* BPMP_WIN_SIZE of bpmp-guest-window.h (a unit test compares) */
int tv_guest_place_bridge(const TvCatalogDevice *const *devs, size_t n, uint64_t *base, TvError *err);

/* Patches base (a QEMU dumpdtb) into a new, packed blob (*out, malloc'd, *out_len):
 *  - /bpmp (compatible "nvidia,tegra234-bpmp","nvidia,tegra186-bpmp", virtual-pa
 *    = <hi lo> of bpmp_base, #clock/#reset/#power-domain-cells = 1, phandle) when
 *    any device needs the BPMP; bpmp_base 0 then gives TV_ERR_HOST_NOT_READY unless
 *    the base already has a /bpmp with virtual-pa (a bpmp_base that disagrees
 *    with it is refused);
 *  - one node per device under the platform-bus node, in -device order, named
 *    <kind>@<unit address>, where the unit address is the reg address in the
 *    bus's address space (its `ranges`): "serial@0" under QEMU >= 2.x's
 *    <0 0 0xc000000 0x2000000>, "serial@c000000" under identity ranges;
 *    interrupts <0 spi 4> with interrupt-parent = the base tree's GIC;
 *    catalog compatible and properties; clocks/resets/power-domains on /bpmp;
 *  - /aliases serialN (lowest free N) for devices of kind "serial".
 * The base tree is validated strictly (fdt_check_full, <= 2 MiB, root
 * #address-cells/#size-cells, platform bus with ranges covering the bus and an
 * empty child list, GIC with #interrupt-cells = 3); anything else is refused with
 * TV_ERR_INVALID_ARGUMENT. */
#define TV_GUEST_DTB_MAX_BYTES (2 * 1024 * 1024)
int tv_guest_dtb_build(const void *base, size_t base_len, const TvCatalogDevice *const *devs, size_t n,
                       uint64_t bpmp_base, void **out, size_t *out_len, TvError *err);

/* tv_guest_dtb_build plus, when gpio is not NULL, the virtio GPIO device of the line groups:
 * under the base tree's virtio_mmio node at TV_GUEST_GPIO_MMIO_BASE (virtio-mmio-bus.0), a
 *   gpio { compatible = "virtio,device29"; gpio-controller; #gpio-cells = <2>;
 *          interrupt-controller; #interrupt-cells = <2>; gpio-line-names = <names, dense>; }
 * Refused (TV_ERR_INVALID_ARGUMENT) without that transport, when it has children, with no or
 * more than TV_GUEST_GPIO_MAX_LINES lines, or a name empty, longer than TV_GUEST_GPIO_MAX_NAME
 * or not printable ASCII. */
#define TV_GUEST_GPIO_MAX_LINES 1024
#define TV_GUEST_GPIO_MAX_NAME  63
int tv_guest_dtb_build_gpio(const void *base, size_t base_len, const TvCatalogDevice *const *devs, size_t n,
                            uint64_t bpmp_base, const TvGuestGpio *gpio, void **out, size_t *out_len, TvError *err);
