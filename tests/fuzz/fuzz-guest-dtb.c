// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: one base tree (a mutated QEMU dumpdtb) per input, patched
 * with uarta + gpio-main as the shipped catalog describes them.
 * Seeds: tests/fuzz/corpus/guest-dtb/ (a QEMU 7.2 virt dump). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <libfdt.h>

#include "guest-dtb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *hsuart[] = { "nvidia,tegra194-hsuart", NULL };
static uint32_t mc14[] = { 14 };
static TvGuestProp uarta_props[] = { { .name = "nvidia,memory-clients", .type = TV_PROP_U32, .cells = mc14, .n_cells = 1 } };
static TvRegion uarta_reg[] = { { 0x03100000, 0x10000, NULL } };
static uint32_t uarta_irq[] = { 112 };
static TvBpmpRef uarta_clk[] = { { 155, "uarta", "serial" }, { 102, "pllp_out0", "parent" } };
static TvBpmpRef uarta_rst[] = { { 100, "uarta", "serial" } };

static char *gpio_compat[] = { "nvidia,tegra234-gpio", NULL };
static uint32_t two[] = { 2 };
static TvGuestProp gpio_props[] = {
        { .name = "gpio-controller", .type = TV_PROP_EMPTY },
        { .name = "#gpio-cells", .type = TV_PROP_U32, .cells = two, .n_cells = 1 },
        { .name = "interrupt-controller", .type = TV_PROP_EMPTY },
        { .name = "#interrupt-cells", .type = TV_PROP_U32, .cells = two, .n_cells = 1 },
};
static TvRegion gpio_reg[] = { { 0x02200000, 0x10000, "security" }, { 0x02210000, 0x10000, "gpio" } };
static uint32_t gpio_irq[48];

static TvCatalogDevice devs[] = {
        { .name = "uarta", .platform_id = "3100000.serial", .kind = "serial", .regions = uarta_reg, .n_regions = 1,
          .host_irqs = uarta_irq, .n_irqs = 1, .guest_compatible = hsuart, .guest_props = uarta_props,
          .n_guest_props = 1, .clocks = uarta_clk, .n_clocks = 2, .resets = uarta_rst, .n_resets = 1,
          .needs_bpmp = true },
        { .name = "gpio-main", .platform_id = "2200000.gpio", .kind = "gpio", .regions = gpio_reg, .n_regions = 2,
          .host_irqs = gpio_irq, .n_irqs = 48, .guest_compatible = gpio_compat, .guest_props = gpio_props,
          .n_guest_props = 4 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = { "header-7", "header-11" };
        const TvGuestGpio gpio = { names, 2 };
        const TvCatalogDevice *list[] = { &devs[0], &devs[1] };
        TvError err = { 0 };
        void *out = NULL;
        size_t len = 0;

        if (tv_guest_dtb_build(data, size, list, 2, 0x090c0000, &out, &len, &err) == 0) {
                /* what was accepted must be a sound tree with our nodes */
                if (!out || fdt_check_full(out, len) != 0 || fdt_path_offset(out, "/bpmp") < 0)
                        __builtin_trap();
                free(out);
        } else if (!err.name || !err.message[0] || out) {
                __builtin_trap();       /* every refusal says why and leaves nothing behind */
        }
        /* line groups: the virtio GPIO node goes under a virtio_mmio node the input provides */
        tv_error_clear(&err);
        out = NULL;
        if (tv_guest_dtb_build_gpio(data, size, list, 1, 0x090c0000, &gpio, &out, &len, &err) == 0) {
                if (!out || fdt_check_full(out, len) != 0 || fdt_node_offset_by_compatible(out, -1, "virtio,device29") < 0)
                        __builtin_trap();
                free(out);
        } else if (!err.name || !err.message[0] || out) {
                __builtin_trap();
        }
        return 0;
}
