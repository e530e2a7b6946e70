// SPDX-License-Identifier: GPL-2.0-or-later
/* Split virtqueues over shared guest memory; see virtqueue.h. All ring loads are single
 * __atomic loads into locals (no double fetch), stores to the used ring are ordered
 * with release/seq_cst fences as virtio's memory model requires. Host is little endian. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tv-log.h"
#include "virtqueue.h"

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2
#define VRING_DESC_F_INDIRECT   4
#define VRING_AVAIL_F_NO_INTERRUPT 1

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtqueue.c assumes a little-endian host (virtio 1.x rings are little endian)"
#endif

void tv_vu_log(int priority, const char *fmt, ...)
{
        static time_t window;
        static unsigned count;
        struct timespec now;
        va_list ap;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec != window) {
                if (count > 10)
                        tv_log(LOG_WARNING, "vhost-user: %u more messages not logged", count - 10);
                window = now.tv_sec;
                count = 0;
        }
        if (++count > 10)
                return;
        va_start(ap, fmt);
        tv_logv(priority, fmt, ap);
        va_end(ap);
}

static void *region_lookup(const TvVuMem *m, uint64_t addr, uint64_t len, bool by_uva)
{
        for (unsigned i = 0; i < m->n; i++) {
                const TvVuRegion *r = &m->r[i];
                uint64_t base = by_uva ? r->uva : r->gpa;

                if (addr < base || addr - base >= r->size)
                        continue;
                /* addr - base < size, so size - (addr - base) cannot underflow */
                if (len > r->size - (addr - base))
                        return NULL;
                return r->host + (addr - base);
        }
        return NULL;
}

void *tv_vu_mem_gpa(const TvVuMem *m, uint64_t gpa, uint64_t len)
{
        return region_lookup(m, gpa, len, false);
}

void *tv_vu_mem_uva(const TvVuMem *m, uint64_t uva, uint64_t len)
{
        return region_lookup(m, uva, len, true);
}

size_t tv_vq_desc_size(uint16_t num)
{
        return 16u * (size_t)num;
}

size_t tv_vq_avail_size(uint16_t num)
{
        return 4 + 2u * (size_t)num + 2;
}

size_t tv_vq_used_size(uint16_t num)
{
        return 4 + 8u * (size_t)num + 2;
}

static uint16_t ld16(const uint8_t *p)
{
        return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
}

static uint32_t ld32(const uint8_t *p)
{
        return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
}

static uint64_t ld64(const uint8_t *p)
{
        return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
}

static void st16(uint8_t *p, uint16_t v)
{
        __atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELAXED);
}

static void st32(uint8_t *p, uint32_t v)
{
        __atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

int tv_vq_init(TvVq *vq, const TvVuMem *mem, uint16_t num, uint16_t last_avail, bool event_idx,
               void *desc, void *avail, void *used)
{
        tv_vq_fini(vq);
        memset(vq, 0, sizeof(*vq));
        if (num == 0 || num > TV_VQ_MAX_SIZE || (num & (num - 1)))
                return -EINVAL;
        /* alignment of the host pointers (virtio: desc 16, avail 2, used 4) so that the
         * atomic loads/stores below are naturally aligned whatever the region offsets */
        if (((uintptr_t)desc & 15) || ((uintptr_t)avail & 1) || ((uintptr_t)used & 3))
                return -EINVAL;
        vq->inflight = calloc((num + 7u) / 8u, 1);
        if (!vq->inflight)
                return -ENOMEM;
        vq->mem = mem;
        vq->num = num;
        vq->last_avail = last_avail;
        vq->event_idx = event_idx;
        vq->desc = desc;
        vq->avail = avail;
        vq->used = used;
        vq->used_idx = ld16(vq->used + 2);
        return 0;
}

void tv_vq_fini(TvVq *vq)
{
        free(vq->inflight);
        vq->inflight = NULL;
        free(vq->replay);
        vq->replay = NULL;
        vq->n_replay = vq->replay_pos = 0;
        vq->desc = vq->avail = vq->used = NULL;
}

static int broken(TvVq *vq, const char *why, unsigned a, unsigned b)
{
        if (!vq->broken)
                tv_vu_log(LOG_WARNING, "virtqueue: %s (%u, %u): queue stopped until it is set up again",
                       why, a, b);
        vq->broken = true;
        return -EINVAL;
}

static void set_avail_event(TvVq *vq)
{
        st16(vq->used + 4 + 8u * vq->num, vq->last_avail);
}

/* Reads the chain at head into *e and marks head in flight: 1, or -EINVAL (queue broken). */
static int read_chain(TvVq *vq, uint16_t head, TvVuElem *e)
{
        unsigned i, steps;
        bool seen_in = false;

        memset(e, 0, sizeof(*e));
        e->head = head;
        i = head;
        for (steps = 0;; steps++) {
                const uint8_t *d = vq->desc + 16u * i;
                uint64_t addr = ld64(d);
                uint32_t len = ld32(d + 8);
                uint16_t flags = ld16(d + 12), next = ld16(d + 14);
                void *p;

                if (steps >= vq->num)
                        return broken(vq, "descriptor chain longer than the queue (loop)", head, steps);
                if (flags & VRING_DESC_F_INDIRECT)
                        return broken(vq, "indirect descriptor (not negotiated)", head, i);
                p = tv_vu_mem_gpa(vq->mem, addr, len);
                if (!p)
                        return broken(vq, "descriptor buffer outside guest memory", head, i);
                if (flags & VRING_DESC_F_WRITE) {
                        if (e->n_in >= TV_VU_ELEM_MAX)
                                return broken(vq, "too many device-writable descriptors", head, e->n_in + 1);
                        e->in[e->n_in].iov_base = p;
                        e->in[e->n_in++].iov_len = len;
                        seen_in = true;
                } else {
                        if (seen_in)
                                return broken(vq, "device-readable descriptor after a writable one", head, i);
                        if (e->n_out >= TV_VU_ELEM_MAX)
                                return broken(vq, "too many device-readable descriptors", head, e->n_out + 1);
                        e->out[e->n_out].iov_base = p;
                        e->out[e->n_out++].iov_len = len;
                }
                if (!(flags & VRING_DESC_F_NEXT))
                        break;
                if (next >= vq->num)
                        return broken(vq, "descriptor next out of range", head, next);
                i = next;
        }
        vq->inflight[head / 8] |= 1u << (head % 8);
        return 1;
}


int tv_vq_pop(TvVq *vq, TvVuElem *e)
{
        uint16_t avail_idx, head;
        int r;

        if (!vq->desc)
                return 0;
        if (vq->broken)
                return -EINVAL;
        /* buffers we held when the ring stopped come back first (tv_vq_set_replay) */
        while (vq->replay_pos < vq->n_replay) {
                head = vq->replay[vq->replay_pos++];
                if (head < vq->num && !(vq->inflight[head / 8] & (1u << (head % 8))))
                        return read_chain(vq, head, e);
        }
        for (;;) {
                avail_idx = ld16(vq->avail + 2);
                if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
                        return broken(vq, "avail index moved by more than the queue size",
                                      avail_idx, vq->last_avail);
                if (avail_idx == vq->last_avail) {
                        if (!vq->event_idx)
                                return 0;
                        /* ask for a kick past what we have seen, then look again: the driver
                         * may have added a buffer before it saw avail_event */
                        set_avail_event(vq);
                        __atomic_thread_fence(__ATOMIC_SEQ_CST);
                        if (ld16(vq->avail + 2) == vq->last_avail)
                                return 0;
                        continue;
                }
                /* read ring entries only after the index that published them */
                __atomic_thread_fence(__ATOMIC_ACQUIRE);
                head = ld16(vq->avail + 4 + 2u * (vq->last_avail % vq->num));
                if (head >= vq->num)
                        return broken(vq, "avail ring head out of range", head, vq->num);
                if (vq->inflight[head / 8] & (1u << (head % 8))) {
                        /* a head we still hold: only after a front end rewound last_avail to
                         * the used index (QEMU does after a backend crash) — skip the stale slot */
                        tv_vu_log(LOG_INFO, "virtqueue: skipping avail slot %u: head %u is in flight",
                               vq->last_avail, head);
                        vq->last_avail++;
                        continue;
                }
                break;
        }

        r = read_chain(vq, head, e);
        if (r < 0)
                return r;
        vq->last_avail++;
        if (vq->event_idx)
                set_avail_event(vq);
        return 1;
}

void tv_vq_push(TvVq *vq, const TvVuElem *e, uint32_t written)
{
        uint64_t cap = 0;
        uint8_t *u;

        if (!vq->desc || vq->broken || e->head >= vq->num)
                return;
        if (!(vq->inflight[e->head / 8] & (1u << (e->head % 8)))) {
                tv_vu_log(LOG_WARNING, "virtqueue: push of head %u that is not in flight: ignored", e->head);
                return;
        }
        vq->inflight[e->head / 8] &= ~(1u << (e->head % 8));
        for (unsigned k = 0; k < e->n_in && k < TV_VU_ELEM_MAX; k++)
                cap += e->in[k].iov_len;
        if (written > cap)
                written = (uint32_t)cap;
        u = vq->used + 4 + 8u * (vq->used_idx % vq->num);
        st32(u, e->head);
        st32(u + 4, written);
        /* the entry before the index that publishes it */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        vq->used_idx++;
        st16(vq->used + 2, vq->used_idx);
}

unsigned tv_vq_inflight_heads(const TvVq *vq, uint16_t *heads, unsigned max)
{
        unsigned n = 0;

        for (unsigned h = 0; vq->inflight && h < vq->num && n < max; h++)
                if (vq->inflight[h / 8] & (1u << (h % 8)))
                        heads[n++] = (uint16_t)h;
        return n;
}

int tv_vq_set_replay(TvVq *vq, const uint16_t *heads, unsigned n)
{
        free(vq->replay);
        vq->replay = NULL;
        vq->n_replay = vq->replay_pos = 0;
        if (!n)
                return 0;
        vq->replay = malloc(n * sizeof(*heads));
        if (!vq->replay)
                return -ENOMEM;
        memcpy(vq->replay, heads, n * sizeof(*heads));
        vq->n_replay = n;
        return 0;
}

bool tv_vq_should_notify(TvVq *vq)
{
        uint16_t old, new, ev;
        bool valid;

        if (!vq->desc || vq->broken)
                return false;
        /* used idx store before reading the driver's suppression state */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!vq->event_idx)
                return !(ld16(vq->avail) & VRING_AVAIL_F_NO_INTERRUPT);
        old = vq->signalled_used;
        valid = vq->signalled_valid;
        new = vq->signalled_used = vq->used_idx;
        vq->signalled_valid = true;
        if (!valid)
                return true;
        ev = ld16(vq->avail + 4 + 2u * vq->num);
        /* virtio 1.2 §2.7.10: notify when used_event lies in (old, new] */
        return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
}
