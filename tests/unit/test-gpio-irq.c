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

static int flagged(const uint32_t *spis, size_t n, TvIrqFlagged *f)
{
        TvHost h;
        char sys[PATH_MAX], dev[PATH_MAX];
        int r;

        snprintf(sys, sizeof(sys), "%s/sys", root);
        snprintf(dev, sizeof(dev), "%s/dev", root);
        if (tv_host_open(&h, sys, dev) < 0)
                tap_skip_all("cannot open the tree");
        r = tv_gpio_irqs_flagged(&h, spis, n, f);
        tv_host_close(&h);
        return r;
}

int main(void)
{
        static const uint32_t aon[] = { 56, 57, 58, 59 };
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
        CHECK(r == 0 && f.n_found == 4 && f.n_flagged == 0, "fresh parent IRQs: not flagged (r=%d found=%zu)", r, f.n_found);

        add_irq(32, "GICv3", 90, chained);
        r = flagged(aon, 4, &f);
        CHECK(r == 1 && f.spi == 58 && f.irq == 32 && f.n_flagged == 1,
              "one parent IRQ with _IRQ_NOREQUEST: flagged, SPI 58 = Linux IRQ 32 (r=%d spi=%u irq=%d)", r,
              (unsigned)f.spi, f.irq);
        add_irq(32, "GICv3", 90, "status:   0x00000904");   /* NOREQUEST without the names: the bit counts */
        r = flagged(aon, 4, &f);
        CHECK(r == 1 && f.spi == 58, "the status value's bit 11 decides, not the names (r=%d)", r);

        add_irq(32, "GICv3", 90, "status:   bogus");
        r = flagged(aon, 4, &f);
        CHECK(r == -EBADMSG, "an unreadable status line: cannot tell (r=%d)", r);

        fake_sysfs_new("tv-gpio-irq");
        for (int i = 0; i < 4; i++)
                add_irq(30 + i, "GICv3", 88 + i, NULL);
        r = flagged(aon, 4, &f);
        CHECK(r == -ENOENT && f.n_found == 0, "no debugfs: cannot tell (r=%d)", r);

        fake_sysfs_new("tv-gpio-irq");
        add_irq(30, "GICv3", 88, fresh);
        r = flagged(aon, 4, &f);
        CHECK(r == -ENOENT, "a SPI without a Linux IRQ: cannot tell (r=%d)", r);
        CHECK(flagged(aon, 0, &f) == -ENOENT, "no SPIs: cannot tell");
        CHECK(fake_sysfs_remove(), "the tree is removed");
        return tap_finish();
}
