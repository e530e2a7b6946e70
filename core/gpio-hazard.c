// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-hazard.h"
#include "gpio-irq.h"
#include "tv-names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tv_gpio_controller_hazard(TvHost *host, const TvCatalogDevice *dev, const char *driver,
                              const char *unbound_by_us, char **why)
{
        TvIrqFlagged f;
        int r;

        *why = NULL;
        if (!dev->kind || strcmp(dev->kind, "gpio") != 0 || dev->n_irqs == 0)
                return 0;
        if (driver && strcmp(driver, TV_VFIO_DRIVER) != 0) {
                if (asprintf(why, "%s (%s) is bound to its host driver %s; unbinding it would leave its "
                                  "parent IRQs unusable for vfio until reboot",
                             dev->name, dev->platform_id, driver) < 0)
                        *why = NULL;
                return 1;
        }
        /* our own record: we unbound a host driver from it in this boot */
        if (unbound_by_us) {
                if (asprintf(why, "tegravirtd unbound %s (%s) from its host driver %s since boot: its parent "
                                  "IRQs cannot be set up through vfio until reboot",
                             dev->name, dev->platform_id, unbound_by_us) < 0)
                        *why = NULL;
                return 1;
        }
        r = tv_gpio_irqs_flagged(host, dev->host_irqs, dev->n_irqs, &f);
        if (r > 0) {
                if (asprintf(why, "the host driver of %s (%s) has bound since boot: its parent IRQs keep the "
                                  "no-request flag (SPI %u, Linux IRQ %d: _IRQ_NOREQUEST in "
                                  "/sys/kernel/debug/irq/irqs/%d), so vfio cannot set them up until reboot",
                             dev->name, dev->platform_id, (unsigned)f.spi, f.irq, f.irq) < 0)
                        *why = NULL;
                return 1;
        }
        if (r < 0) {
                if (asprintf(why, "cannot tell whether the host driver of %s (%s) has bound since boot: "
                                  "/sys/kernel/debug/irq/irqs of its parent IRQs: %s (mount debugfs)",
                             dev->name, dev->platform_id, strerror(-r)) < 0)
                        *why = NULL;
                return -1;
        }
        return 0;
}
