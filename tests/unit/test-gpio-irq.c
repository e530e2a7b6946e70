// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host/gpio-irq.c on a plain tree laid out like 6.1's /sys/kernel/irq/<n>/{chip_name,hwirq}
 * and debugfs /sys/kernel/debug/irq/irqs/<n> (irq_debug_show() of kernel/irq/debugfs.c):
 * a fresh parent IRQ, one a chained handler left with IRQ_NOREQUEST, no debugfs, a
 * status line we cannot read, and IRQs of other chips with the same hwirq.
 */
#include "tv-tap.h"
#include "tv-fake-sysfs.h"
#include "gpio-irq.h"

/* the lines of irq_debug_show() that matter, in its format */
static void add_irq(int irq, const char *chip, unsigned hwirq, const char *status_line)
{
        char rel[128], text[512];

        snprintf(rel, sizeof(rel), "sys/kernel/irq/%d", irq);
        mkdirs(rel);
        snprintf(rel, sizeof(rel), "sys/kernel/irq/%d/chip_name", irq);
        snprintf(text, sizeof(text), "%s\n", chip);
        put(rel, text);
        snprintf(rel, sizeof(rel), "sys/kernel/irq/%d/hwirq", irq);
        snprintf(text, sizeof(text), "%u\n", hwirq);
        put(rel, text);
        if (!status_line)
                return;
        mkdirs("sys/kernel/debug/irq/irqs");
        snprintf(rel, sizeof(rel), "sys/kernel/debug/irq/irqs/%d", irq);
        snprintf(text, sizeof(text), "handler:  handle_bad_irq\ndevice:   (null)\n%s\nistate:   0x00000000\n"
                                     "ddepth:   1\nwdepth:   0\ndstate:   0x00061104\n", status_line);
        put(rel, text);
}

static TvHost host;

static void open_host(void)
{
        char sys[PATH_MAX], dev[PATH_MAX];

        snprintf(sys, sizeof(sys), "%s/sys", root);
        snprintf(dev, sizeof(dev), "%s/dev", root);
        if (tv_host_open(&host, sys, dev) < 0)
                tap_skip_all("cannot open the tree");
}

/* on a host opened afresh: nothing cached */
static int flagged(const uint32_t *spis, size_t n, TvIrqFlagged *f)
{
        int r;

        open_host();
        r = tv_gpio_irqs_flagged(&host, spis, n, f);
        tv_host_close(&host);
        return r;
}

int main(void)
{
        static const uint32_t aon[] = { 56, 57, 58, 59 };
        static const uint32_t late[] = { 100 };
        static const char fresh[] = "status:   0x00000104";
        static const char chained[] = "status:   0x00010d04\n            _IRQ_NOPROBE\n"
                                      "            _IRQ_NOREQUEST\n            _IRQ_NOTHREAD";
        TvIrqFlagged f;
        int r;

        fake_sysfs_new("tv-gpio-irq");
        for (int i = 0; i < 4; i++)
                add_irq(30 + i, "GICv3", 88 + i, fresh);
        /* a GPIO line IRQ of the controller itself with hwirq 88: another chip, not a SPI */
        add_irq(90, "tegra234-gpio-aon", 88, chained);
        r = flagged(aon, 4, &f);
        CHECK(r == 0 && f.spi == 56 && f.irq == 30, "fresh parent IRQs: not flagged, SPI 56 is Linux IRQ 30 (r=%d irq=%d)",
              r, f.irq);

        add_irq(30, "GICv3", 88, chained);
        r = flagged(aon, 4, &f);
        CHECK(r == 1 && f.spi == 56 && f.irq == 30, "the first parent IRQ with _IRQ_NOREQUEST: flagged (r=%d spi=%u irq=%d)",
              r, (unsigned)f.spi, f.irq);
        add_irq(30, "GICv3", 88, "status:   0x00000904");   /* NOREQUEST without the names: the bit counts */
        r = flagged(aon, 4, &f);
        CHECK(r == 1, "the status value's bit 11 decides, not the names (r=%d)", r);
        add_irq(30, "GICv3", 88, "status:   bogus");
        r = flagged(aon, 4, &f);
        CHECK(r == -EBADMSG, "an unreadable status line: cannot tell (r=%d)", r);

        fake_sysfs_new("tv-gpio-irq");
        for (int i = 0; i < 4; i++)
                add_irq(30 + i, "GICv3", 88 + i, NULL);
        r = flagged(aon, 4, &f);
        CHECK(r == -ENOENT, "no debugfs: cannot tell (r=%d)", r);

        fake_sysfs_new("tv-gpio-irq");
        add_irq(31, "GICv3", 89, chained);
        r = flagged(aon, 4, &f);
        CHECK(r == 1 && f.spi == 57, "SPI 56 without a Linux IRQ: the next one decides (r=%d spi=%u)", r,
              (unsigned)f.spi);
        CHECK(flagged(late, 1, &f) == -ENOENT, "no SPI with a Linux IRQ: cannot tell");
        CHECK(flagged(aon, 0, &f) == -ENOENT, "no SPIs: cannot tell");

        /* the map is read once per host, and again for a SPI it lacks */
        open_host();
        r = tv_gpio_irqs_flagged(&host, aon, 4, &f);
        CHECK(r == 1 && host.irq_map_read && host.n_irq_map == 1, "the map is kept (%zu SPI)", host.n_irq_map);
        add_irq(40, "GICv3", 132, fresh);
        r = tv_gpio_irqs_flagged(&host, late, 1, &f);
        CHECK(r == 0 && f.irq == 40 && host.n_irq_map == 2, "a SPI added since is found by reading the map again (r=%d)", r);
        tv_host_close(&host);
        CHECK(fake_sysfs_remove(), "the tree is removed");
        return tap_finish();
}
