/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A whole GPIO controller can go to vfio-platform only if its host driver has not bound
 * since boot: gpiolib's chained handlers leave its parent IRQs unrequestable after
 * unbind (host/gpio-irq.h), and the guest's driver then fails at VFIO_DEVICE_SET_IRQS
 * with EINVAL. The host overlay (tegravirtctl host-overlay) keeps the driver off.
 */
#pragma once
#include "catalog.h"
#include "sysfs.h"

#define TV_GPIO_HAZARD_FIX "tegravirtctl host-overlay DEVICE..., apply it to the host device tree " \
                           "(it replaces the controller's compatible, so gpio-tegra186 never binds it) and reboot"

/* driver: the one bound now (NULL: none); unbound_by_us: the host driver our binding
 * record says we unbound from it (NULL: none). 0: no hazard (or not a GPIO controller);
 * 1: its host driver is bound or has bound since boot; -1: the kernel does not tell (no
 * debugfs). *why (malloc'ed) says which, NULL for 0 (or on OOM). */
int tv_gpio_controller_hazard(TvHost *host, const TvCatalogDevice *dev, const char *driver,
                              const char *unbound_by_us, char **why);
