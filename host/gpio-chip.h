/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the host does with a GPIO controller's lines, through the GPIO character device
 * (uAPI v2, <linux/gpio.h>): the controller's gpiochipN (a child of its platform device
 * while its driver is bound) and each line's info (flag "used", consumer).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sysfs.h"

typedef struct TvGpioLineUse {
        bool used;              /* GPIO_V2_LINE_FLAG_USED: requested, or a hog, or held by pinctrl */
        char consumer[33];      /* who holds it ("" when the kernel names nobody) */
} TvGpioLineUse;

/* N of the gpiochipN child of platform device pid; -ENOENT when it has none (no driver). */
int tv_gpio_chip_index(TvHost *h, const char *pid, int *index);
/* Reads /dev/gpiochipN's chip info (*n_lines) and the info of each offset into out[i];
 * -errno (-EINVAL: an offset beyond the chip). */
int tv_gpio_lines_use(TvHost *h, int index, const uint32_t *offsets, size_t n, TvGpioLineUse *out,
                      uint32_t *n_lines);
