/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Has a GPIO controller's host driver bound since boot? gpiolib installs chained
 * handlers on the controller's parent IRQs when its driver binds, which sets the IRQ
 * descriptors' NOREQUEST flag (kernel/irq/chip.c, __irq_do_set_handler()); removing the
 * handler at unbind leaves the flag set, so request_irq() on them - vfio-platform's IRQ
 * setup - fails with EINVAL until the next boot. debugfs shows the flag:
 * /sys/kernel/debug/irq/irqs/<n> "status:" (kernel/irq/debugfs.c), where <n> is the
 * Linux IRQ whose /sys/kernel/irq/<n>/ has a GIC chip_name and hwirq = SPI + 32.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "sysfs.h"

#define TV_IRQ_NOREQUEST (1u << 11) /* include/linux/irq.h, IRQ_NOREQUEST (6.1) */

typedef struct TvIrqFlagged {
        uint32_t spi;           /* the parent IRQ that decided */
        int irq;                /* its Linux IRQ number */
} TvIrqFlagged;

/* gpiolib chains every parent IRQ of a controller in one loop at probe and unchains them
 * all at removal, so the flags of the parents go together: the first SPI that has a
 * Linux IRQ decides. 1 when it has IRQ_NOREQUEST (out says which), 0 when it has not,
 * -errno when the kernel does not tell (-ENOENT: no debugfs, or no SPI has a Linux IRQ;
 * -EACCES: debugfs is root's). The SPI -> IRQ map is read once per host (fixed for a
 * boot; a SPI missing from it reads it again). */
int tv_gpio_irqs_flagged(TvHost *h, const uint32_t *spis, size_t n, TvIrqFlagged *out);
