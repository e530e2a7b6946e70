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

/* The GIC SPI behind Linux IRQ @name, or -1 when it is no GIC SPI: hwirq first (one
 * read for most IRQs), the chip only for a SPI's hwirq */
static long irq_spi(TvHost *h, const char *name)
{
        _cleanup_free_ char *chip = NULL, *hw = NULL;
        char path[64];
        char *end;
        unsigned long v;

        if (snprintf(path, sizeof(path), "kernel/irq/%s/hwirq", name) >= (int)sizeof(path) ||
            tv_sysfs_read(h, path, &hw) < 0)
                return -1;
        errno = 0;
        v = strtoul(hw, &end, 10);
        /* hwirq 32..1019 are SPIs (0..15 SGIs, 16..31 PPIs) */
        if (errno || end == hw || *end || v < 32 || v > 1019)
                return -1;
        snprintf(path, sizeof(path), "kernel/irq/%s/chip_name", name);
        if (tv_sysfs_read(h, path, &chip) < 0 || strncmp(chip, "GIC", 3) != 0)
                return -1;
        return (long)(v - 32);
}

static int read_map(TvHost *h)
{
        _cleanup_strv_ char **irqs = NULL;
        size_t n = 0;
        int r = tv_sysfs_list(h, "kernel/irq", &irqs);

        if (r < 0)
                return r;
        free(h->irq_spi);
        free(h->irq_num);
        h->n_irq_map = 0;
        h->irq_map_read = false;
        for (char **i = irqs; *i; i++)
                n++;
        h->irq_spi = calloc(n ? n : 1, sizeof(*h->irq_spi));
        h->irq_num = calloc(n ? n : 1, sizeof(*h->irq_num));
        if (!h->irq_spi || !h->irq_num)
                return -ENOMEM;
        for (char **i = irqs; *i; i++) {
                long spi = irq_spi(h, *i);

                if (spi < 0)
                        continue;
                h->irq_spi[h->n_irq_map] = (uint32_t)spi;
                h->irq_num[h->n_irq_map++] = atoi(*i);
        }
        h->irq_map_read = true;
        return 0;
}

static int lookup(TvHost *h, uint32_t spi)
{
        for (size_t i = 0; i < h->n_irq_map; i++)
                if (h->irq_spi[i] == spi)
                        return h->irq_num[i];
        return -1;
}

int tv_gpio_irqs_flagged(TvHost *h, const uint32_t *spis, size_t n, TvIrqFlagged *out)
{
        bool reread = false;
        int r = 0;

        *out = (TvIrqFlagged){ .irq = -1 };
        if (n == 0)
                return -ENOENT;
        if (!h->irq_map_read && (r = read_map(h)) < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                int irq = lookup(h, spis[k]);
                unsigned status;

                if (irq < 0 && !reread) {
                        /* a device added since (an overlay at run time) */
                        reread = true;
                        if ((r = read_map(h)) < 0)
                                return r;
                        irq = lookup(h, spis[k]);
                }
                if (irq < 0)
                        continue;
                r = debug_status(h, irq, &status);
                if (r < 0)
                        return r;
                out->spi = spis[k];
                out->irq = irq;
                return (status & TV_IRQ_NOREQUEST) ? 1 : 0;
        }
        return -ENOENT;
}
