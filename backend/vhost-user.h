/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Our own vhost-user back-end (device side) for split virtqueues: one connection,
 * memory table via memfds, kick/call eventfds, GET_CONFIG, VRING_BASE save/restore.
 * The front end is untrusted: every message, region, ring and descriptor is validated.
 * No file is opened; only fds passed in messages are mmap()ed (works under seccomp). */
#ifndef TV_VHOST_USER_H
#define TV_VHOST_USER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtqueue.h"   /* TvVuElem, TV_VU_ELEM_MAX */

typedef struct TvVu TvVu;

/*
 * Contract with the device:
 *  - features: device bits; VERSION_1 and VHOST_USER_F_PROTOCOL_FEATURES are always offered,
 *    VIRTIO_RING_F_EVENT_IDX (29) when listed here (implemented), other ring features
 *    (indirect, packed, ring reset, ...) never.
 *  - queue_ready(q, true) is always followed by queue_kick(q): pop everything available
 *    then, not only after a guest kick (after a back end restart QEMU re-presents pending
 *    requests and the guest will not kick for them again).
 *  - queue_ready(q, false): the ring stops (GET_VRING_BASE, disconnect, tv_vu_free). During
 *    this callback tv_vu_push/tv_vu_notify still work (e.g. to give held buffers back);
 *    after it returns every element popped from q is invalid and must be forgotten.
 *  - Everything runs in tv_vu_dispatch's caller's thread; callbacks may call tv_vu_pop/push/notify.
 */
typedef struct TvVuOps {
        uint64_t features;              /* virtio features offered (VERSION_1, F_IRQ, ...) */
        /* fill config (len bytes at offset); 0 or -errno (answered as a failed GET_CONFIG) */
        int (*get_config)(void *ud, uint32_t offset, uint8_t *buf, uint32_t len);
        void (*queue_ready)(void *ud, unsigned q, bool ready);  /* ring started/stopped */
        void (*queue_kick)(void *ud, unsigned q);               /* buffers may be available */
} TvVuOps;

/* Takes conn_fd (closed by tv_vu_free, also on failure). NULL on allocation failure or
 * n_queues outside 1..64. Syscalls used (for a seccomp allow-list): recvmsg, sendto/sendmsg,
 * read, write, poll/ppoll, mmap, munmap, fstat/newfstatat, fcntl, close, clock_gettime. */
TvVu *tv_vu_new(int conn_fd, unsigned n_queues, const TvVuOps *ops, void *ud);
void tv_vu_free(TvVu *vu);                   /* unmaps, closes everything */
/* fds to poll: the connection and each started queue's kick fd; returns count written */
unsigned tv_vu_poll_fds(TvVu *vu, struct pollfd *pfd, unsigned max);
/* handle what poll reported; <0 when the connection is over (EOF, protocol error: logged) */
int tv_vu_dispatch(TvVu *vu, const struct pollfd *pfd, unsigned n);
bool tv_vu_queue_started(TvVu *vu, unsigned q);
int tv_vu_pop(TvVu *vu, unsigned q, TvVuElem *e);   /* 1 got one, 0 none, -EINVAL bad ring/desc */
void tv_vu_push(TvVu *vu, unsigned q, const TvVuElem *e, uint32_t written); /* used ring */
void tv_vu_notify(TvVu *vu, unsigned q);             /* call eventfd (respects NO_INTERRUPT/EVENT_IDX) */

/* --- additions beyond the spec --- */
/* Features the front end acked (0 before SET_FEATURES). */
uint64_t tv_vu_acked_features(TvVu *vu);
/* Handle exactly one message already readable on the connection (for fuzzing/tests): 0 or -errno. */
int tv_vu_handle_one(TvVu *vu);
/* Message read timeout once a message has begun (ms); a stalled front end is dropped. */
#define TV_VU_IO_TIMEOUT_MS 2000

/* A queue's record in memory that outlives the process (tegravirt-gpio-backend's state file,
 * MAP_SHARED): the ring geometry, our last_avail and used index and the heads in flight, so
 * that a restarted back end continues where the dead one stopped (QEMU 7.2 rewinds
 * last_avail to the used index, which loses heads completed out of order). Fixed layout,
 * little-endian host order; never trusted when read back (tv_vu_record_valid + checks
 * against the ring at adoption). */
#define TV_VU_REC_NONE          0u      /* nothing recorded */
#define TV_VU_REC_RUNNING       1u      /* the ring runs: a restart sees QEMU's used-idx rewind */
#define TV_VU_REC_STOPPED       2u      /* stopped by GET_VRING_BASE: resumes at last_avail */
typedef struct TvVuRecord {
        uint32_t state;                 /* TV_VU_REC_* */
        uint16_t num, last_avail, used_idx;
        uint16_t pushing;               /* head + 1 being pushed now (0: none) */
        uint64_t desc, avail, used;     /* front end addresses (SET_VRING_ADDR) */
        uint8_t inflight[TV_VQ_MAX_SIZE / 8];
} TvVuRecord;
/* Whether a record read back is consistent in itself (state, size, heads < num). */
bool tv_vu_record_valid(const TvVuRecord *r);
/* Keeps queue q's record in rec from now on (NULL: none). With adopt, the first start of q on
 * this connection with the same geometry and the base a restart implies continues from the
 * record (its in-flight heads are presented again, read from the descriptor table). */
void tv_vu_set_record(TvVu *vu, unsigned q, TvVuRecord *rec, bool adopt);

#endif
