/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The line provider of tegravirt-gpio-backend: one host GPIO line requested alone (uAPI v2,
 * num_lines 1) through tv-gpio-cdev, and the few operations the virtio device needs on it.
 * Kept apart from the device model so a benchmark can time the same operation called
 * directly (bench: backend per-request cost vs the provider). */
#ifndef TV_GPIO_LINES_H
#define TV_GPIO_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/gpio.h>
#include "tv-gpio-cdev.h"

typedef struct TvLine {
        TvGpioLineReq req;      /* fd: poll it for edge events */
        unsigned offset;        /* host offset (never shown to the guest) */
        bool output;            /* the direction the host line has now */
} TvLine;

/* Requests offset of chip_fd as-is (flags 0) for consumer. 0, or -errno with why filled
 * (for EBUSY: "used by <consumer>" from the line info, "" otherwise). */
int tv_lines_request(int chip_fd, unsigned offset, const char *consumer, TvLine *out, char *why, size_t why_len);
/* 0/1 (logical value), or -errno */
int tv_lines_get(TvLine *l);
/* 0 or -errno */
int tv_lines_set(TvLine *l, int value);
/* SET_CONFIG with GPIO_V2_LINE_FLAG_* flags; out_value is the output value when flags has
 * OUTPUT. 0 or -errno; l->output follows. */
int tv_lines_configure(TvLine *l, uint64_t flags, int out_value);
/* One pending edge event: 1 (*ev filled), 0 none, -errno */
int tv_lines_read_event(TvLine *l, struct gpio_v2_line_event *ev);
void tv_lines_release(TvLine *l);

#endif
