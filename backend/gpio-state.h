/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tegravirt-gpio-backend's state file (--state-fd): what must outlive one backend process so
 * that its successor keeps the guest's interrupts working: per guest line the configuration
 * the driver set, per queue the ring record (vhost-user.h TvVuRecord). tegravirtd creates the
 * file (empty) per domain at the first start of a prepare and removes it at release; every
 * backend incarnation maps it MAP_SHARED. Layout (host order):
 *   header { u32 magic TV_GSTATE_MAGIC (written last); u32 version; u32 n_lines;
 *            u32 n_queues; u64 size; u64 lines_id }
 *   TvVuRecord queue[n_queues]
 *   TvGstateLine line[n_lines]
 * Everything read back is checked (tv_gstate_check) before it is used. */
#ifndef TV_GPIO_STATE_H
#define TV_GPIO_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "vhost-user.h"

#define TV_GSTATE_MAGIC   0x54535654u   /* "TVST" */
#define TV_GSTATE_VERSION 1u
#define TV_GSTATE_QUEUES  2u            /* requestq, eventq */

typedef struct TvGstateLine {
        uint8_t dir;                    /* VIRTIO_GPIO_DIRECTION_* the driver set */
        uint8_t value;                  /* its output value; 0xff none */
        uint8_t irq_type;               /* VIRTIO_GPIO_IRQ_TYPE_* */
        uint8_t pad;
} TvGstateLine;

typedef struct TvGstate {
        uint32_t magic, version, n_lines, n_queues;
        uint64_t size;
        uint64_t lines_id;              /* tv_gstate_lines_id of the --line list it was made for */
        TvVuRecord queue[TV_GSTATE_QUEUES];
        TvGstateLine line[];
} TvGstate;

size_t tv_gstate_size(unsigned n_lines);
/* Identifies a line list (FNV-1a of the --line arguments in order): a state of other lines
 * (same count, other chips, offsets or names) is not taken for this one's. */
uint64_t tv_gstate_lines_id(const char *const *specs, unsigned n);
/* Whether len bytes at buf are a consistent state of n_lines lines identified by lines_id:
 * NULL, else why not. */
const char *tv_gstate_check(const void *buf, size_t len, unsigned n_lines, uint64_t lines_id);
/* An empty state (nothing recorded) of n_lines lines in buf (tv_gstate_size bytes). */
void tv_gstate_init(void *buf, unsigned n_lines, uint64_t lines_id);

#endif
