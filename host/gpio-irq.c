// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-irq.h"
#include "tv-macros.h"
#include "tv-strv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "status:   0x00010d04" of irq_debug_show(); -EBADMSG when the line is not there */
static int debug_status(TvHost *h, int irq, unsigned *status)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *p;
        char *end;
        unsigned long v;
        int r;

        snprintf(path, sizeof(path), "kernel/debug/irq/irqs/%d", irq);
        r = tv_sysfs_read(h, path, &text);
        if (r < 0)
                return r;
        for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, "status:", 7) == 0)
                        break;
        if (!p)
                return -EBADMSG;
        p += 7;
        p += strspn(p, " \t");
        errno = 0;
        v = strtoul(p, &end, 16);
        if (errno || end == p || (*end && *end != '\n') || v > UINT32_MAX)
                return -EBADMSG;
        *status = (unsigned)v;
        return 0;
}

/* The GIC SPI behind Linux IRQ @name, or -1 when it is no GIC SPI */
static long irq_spi(TvHost *h, const char *name)
{
        _cleanup_free_ char *chip = NULL, *hw = NULL;
        char path[64];
        char *end;
        unsigned long v;

        if (snprintf(path, sizeof(path), "kernel/irq/%s/chip_name", name) >= (int)sizeof(path) ||
            tv_sysfs_read(h, path, &chip) < 0 || strncmp(chip, "GIC", 3) != 0)
                return -1;
        snprintf(path, sizeof(path), "kernel/irq/%s/hwirq", name);
        if (tv_sysfs_read(h, path, &hw) < 0)
                return -1;
        errno = 0;
        v = strtoul(hw, &end, 10);
        /* hwirq 32..1019 are SPIs (0..15 SGIs, 16..31 PPIs) */
        if (errno || end == hw || *end || v < 32 || v > 1019)
                return -1;
        return (long)(v - 32);
}

int tv_gpio_irqs_flagged(TvHost *h, const uint32_t *spis, size_t n, TvIrqFlagged *out)
{
        _cleanup_strv_ char **irqs = NULL;
        int r, missing_r = 0;

        *out = (TvIrqFlagged){ .irq = -1 };
        if (n == 0)
                return -ENOENT;
        r = tv_sysfs_list(h, "kernel/irq", &irqs);
        if (r < 0)
                return r;
        for (char **i = irqs; *i; i++) {
                long spi = irq_spi(h, *i);
                unsigned status;
                bool ours = false;

                for (size_t k = 0; spi >= 0 && k < n; k++)
                        ours |= spis[k] == (uint32_t)spi;
                if (!ours)
                        continue;
                r = debug_status(h, atoi(*i), &status);
                if (r < 0) {
                        missing_r = r;
                        continue;
                }
                out->n_found++;
                if ((status & TV_IRQ_NOREQUEST) && out->n_flagged++ == 0) {
                        out->spi = (uint32_t)spi;
                        out->irq = atoi(*i);
                }
        }
        if (out->n_flagged)
                return 1;
        if (out->n_found < n)
                return missing_r ? missing_r : -ENOENT;
        return 0;
}
