// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-state.h"
#include <string.h>
#include <linux/virtio_gpio.h>

size_t tv_gstate_size(unsigned n_lines)
{
        return sizeof(TvGstate) + (size_t)n_lines * sizeof(TvGstateLine);
}

uint64_t tv_gstate_lines_id(const char *const *specs, unsigned n)
{
        uint64_t h = 0xcbf29ce484222325ull;

        for (unsigned i = 0; i < n; i++)
                for (const char *p = specs[i];; p++) {
                        h = (h ^ (uint8_t)*p) * 0x100000001b3ull; /* the NUL separates them */
                        if (!*p)
                                break;
                }
        return h;
}

const char *tv_gstate_check(const void *buf, size_t len, unsigned n_lines, uint64_t lines_id)
{
        const TvGstate *s = buf;

        if (len < sizeof(TvGstate) || len != tv_gstate_size(n_lines))
                return "wrong size";
        if (s->magic != TV_GSTATE_MAGIC || s->version != TV_GSTATE_VERSION)
                return "not a state file of this version";
        if (s->n_lines != n_lines || s->n_queues != TV_GSTATE_QUEUES || s->size != len || s->lines_id != lines_id)
                return "recorded for other lines";
        for (unsigned q = 0; q < TV_GSTATE_QUEUES; q++)
                if (!tv_vu_record_valid(&s->queue[q]))
                        return "inconsistent queue record";
        for (unsigned i = 0; i < n_lines; i++) {
                const TvGstateLine *l = &s->line[i];

                if (l->dir > VIRTIO_GPIO_DIRECTION_IN || (l->value > 1 && l->value != 0xff) || l->pad ||
                    (l->irq_type > VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH && l->irq_type != VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW) ||
                    (l->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE && l->dir == VIRTIO_GPIO_DIRECTION_OUT))
                        return "inconsistent line record";
        }
        return NULL;
}

void tv_gstate_init(void *buf, unsigned n_lines, uint64_t lines_id)
{
        TvGstate *s = buf;

        memset(buf, 0, tv_gstate_size(n_lines));
        for (unsigned i = 0; i < n_lines; i++)
                s->line[i].value = 0xff;
        s->n_lines = n_lines;
        s->n_queues = TV_GSTATE_QUEUES;
        s->size = tv_gstate_size(n_lines);
        s->lines_id = lines_id;
        s->version = TV_GSTATE_VERSION;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        s->magic = TV_GSTATE_MAGIC;     /* last: a half-made file is not taken for one */
}
