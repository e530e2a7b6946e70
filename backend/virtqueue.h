/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Split virtqueues (virtio 1.2 §2.7) on guest memory the front end shared with us.
 * The guest (and a malicious front end) can change ring memory at any time, so every
 * field is read once into a local before it is checked and used; nothing from the
 * ring is trusted (indices, heads, descriptor addresses/lengths/flags/next). */
#ifndef TV_VIRTQUEUE_H
#define TV_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TV_VU_ELEM_MAX 8        /* descriptors per direction in one element */

/* One buffer chain popped from a ring (the vhost-user.h API uses it). */
typedef struct TvVuElem {
        uint16_t head;
        unsigned n_out, n_in;           /* device-readable, device-writable */
        struct iovec out[TV_VU_ELEM_MAX], in[TV_VU_ELEM_MAX]; /* into mapped guest memory, validated */
} TvVuElem;

#define TV_VU_MAX_REGIONS 8     /* QEMU's VHOST_MEMORY_BASELINE_NREGIONS */
#define TV_VQ_MAX_SIZE 32768    /* virtio: split queue size is a power of 2, at most 32768 */

typedef struct TvVuRegion {
        uint64_t gpa, size, uva;        /* guest physical, length, front end's address */
        uint8_t *host;                  /* our mapping of [gpa, gpa+size) */
} TvVuRegion;

typedef struct TvVuMem {
        unsigned n;
        TvVuRegion r[TV_VU_MAX_REGIONS];
} TvVuMem;

/* tv_log for what a front end or guest can provoke at will: at most 10 lines a second
 * (then one line saying how many were dropped), so a hostile peer cannot flood the journal. */
void tv_vu_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Host pointer for [addr, addr+len) when it lies wholly inside one region, else NULL
 * (overflow-safe; len 0 is allowed and still needs addr inside a region). */
void *tv_vu_mem_gpa(const TvVuMem *m, uint64_t gpa, uint64_t len);
void *tv_vu_mem_uva(const TvVuMem *m, uint64_t uva, uint64_t len);

typedef struct TvVq {
        uint16_t num;                   /* queue size (power of 2) */
        uint16_t last_avail;            /* next avail slot we read */
        uint16_t used_idx;              /* our copy of used->idx */
        uint16_t signalled_used;        /* used idx at the last notify (EVENT_IDX) */
        bool signalled_valid;
        bool event_idx;                 /* VIRTIO_RING_F_EVENT_IDX negotiated */
        bool broken;                    /* a validation failed: nothing more until re-setup */
        const TvVuMem *mem;
        /* ring memory (host pointers, validated for num entries) */
        uint8_t *desc, *avail, *used;
        uint8_t *inflight;              /* bitmap: heads popped and not pushed yet */
        uint16_t *replay;               /* heads to present again before the avail ring */
        unsigned n_replay, replay_pos;
} TvVq;

/* Sets up a ring over validated host pointers: reads used->idx as our used index.
 * desc/avail/used must cover tv_vq_*_size(num). 0 or -errno (ENOMEM). */
int tv_vq_init(TvVq *vq, const TvVuMem *mem, uint16_t num, uint16_t last_avail, bool event_idx,
               void *desc, void *avail, void *used);
void tv_vq_fini(TvVq *vq);
size_t tv_vq_desc_size(uint16_t num);
size_t tv_vq_avail_size(uint16_t num);          /* with used_event */
size_t tv_vq_used_size(uint16_t num);           /* with avail_event */
/* 1 one popped into *e, 0 none, -EINVAL ring or chain invalid (queue marked broken). */
int tv_vq_pop(TvVq *vq, TvVuElem *e);
/* Puts e in the used ring; written is clipped to the element's writable length. */
void tv_vq_push(TvVq *vq, const TvVuElem *e, uint32_t written);
/* The heads popped and not pushed (at most max), in head order. */
unsigned tv_vq_inflight_heads(const TvVq *vq, uint16_t *heads, unsigned max);
/* Heads tv_vq_pop presents first, read from the descriptor table again (each validated like
 * any chain; a head out of range or in flight is passed over). 0 or -ENOMEM. */
int tv_vq_set_replay(TvVq *vq, const uint16_t *heads, unsigned n);
/* Whether the driver wants an interrupt now (EVENT_IDX or NO_INTERRUPT rules). Updates the
 * signalled state as if the notification is sent when it returns true. */
bool tv_vq_should_notify(TvVq *vq);

#endif
