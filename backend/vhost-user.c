// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Our vhost-user back end (docs: QEMU's docs/interop/vhost-user.rst). The front end (QEMU) is
 * untrusted: every message is size-checked for its type, fd counts are exact, memory regions
 * must be mappable from the fds given and must not overlap, ring addresses must lie inside
 * the regions, indices are range-checked. An invalid message changes nothing; it is answered
 * with a failure when the front end asked for a reply (REPLY_ACK), otherwise the connection
 * is closed. Nothing is opened by path: only the fds received are mmap()ed, so this works
 * under a seccomp allow-list (recvmsg, sendmsg, mmap, munmap, fstat/newfstatat, fcntl, read,
 * write, poll/ppoll, close, clock_gettime).
 *
 * What QEMU 7.2's vhost-user-gpio sends (hw/virtio/vhost-user-gpio.c, vhost-user.c, vhost.c;
 * seen on the wire with our QEMU build, tests/vhost-user/qemu-reconnect.py):
 *  connect (vhost_dev_init): GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES,
 *    GET_QUEUE_NUM (with MQ), SET_OWNER, GET_FEATURES, per queue SET_VRING_CALL and
 *    SET_VRING_ERR, then GET_CONFIG (realize; QEMU refuses a back end without
 *    PROTOCOL_F_CONFIG);
 *  driver OK (vu_gpio_start -> vhost_dev_start): SET_FEATURES, SET_MEM_TABLE (NEED_REPLY with
 *    REPLY_ACK), per queue SET_VRING_NUM, SET_VRING_BASE (= QEMU's last_avail_idx),
 *    SET_VRING_ADDR (front end's addresses), SET_VRING_KICK, SET_VRING_CALL; then
 *    SET_VRING_ENABLE 1 for each queue;
 *  stop (vhost_dev_stop: reset, VM paused): GET_VRING_BASE per queue (stops the ring; QEMU
 *    stores the returned index as its last_avail_idx). Buffers we popped and did not answer
 *    are then the device's to give back (tv_vu_push still works in queue_ready(false)) or lost.
 * Reconnect: when the back end dies, QEMU's CHR_EVENT_CLOSED -> vu_gpio_disconnect ->
 *  vhost_dev_stop: GET_VRING_BASE cannot be sent/answered, so vhost_virtqueue_stop calls
 *  virtio_queue_restore_last_avail_idx(), which for split rings sets last_avail_idx = the
 *  used ring's idx in guest memory. On the next connection (chardev reconnect=N) vu_gpio_connect
 *  re-runs the init sequence and, as the driver is still running, vu_gpio_start: SET_VRING_BASE
 *  carries that used idx. So every request the dead back end popped but never answered is
 *  presented again to the new back end. The guest does not notify again for it, but QEMU's new
 *  host notifier starts signalled (virtio_bus_set_host_notifier: event_notifier_init(n, 1)),
 *  and we also report queue_ready(q, true) followed by queue_kick(q), so the device looks at
 *  the ring as soon as it starts either way. QEMU 7.2's gpio has no inflight tracking
 *  (PROTOCOL_F_INFLIGHT_SHMFD), so with buffers completed out of order before the crash the
 *  rewind alone would present slots whose heads were already used and never again an older
 *  still-pending slot below the used idx. A device that keeps a queue record in memory that
 *  outlives it (tv_vu_set_record: the ring geometry, last_avail, the heads in flight) has
 *  its successor continue from the record instead (record_adopt below).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "tv-log.h"
#include "vhost-user.h"
#include "virtqueue.h"

enum {
        VU_GET_FEATURES = 1, VU_SET_FEATURES = 2, VU_SET_OWNER = 3, VU_RESET_OWNER = 4,
        VU_SET_MEM_TABLE = 5, VU_SET_LOG_BASE = 6, VU_SET_LOG_FD = 7, VU_SET_VRING_NUM = 8,
        VU_SET_VRING_ADDR = 9, VU_SET_VRING_BASE = 10, VU_GET_VRING_BASE = 11,
        VU_SET_VRING_KICK = 12, VU_SET_VRING_CALL = 13, VU_SET_VRING_ERR = 14,
        VU_GET_PROTOCOL_FEATURES = 15, VU_SET_PROTOCOL_FEATURES = 16, VU_GET_QUEUE_NUM = 17,
        VU_SET_VRING_ENABLE = 18, VU_GET_CONFIG = 24, VU_SET_CONFIG = 25,
};

#define VU_VERSION              0x1u
#define VU_FLAG_VERSION_MASK    0x3u
#define VU_FLAG_REPLY           (1u << 2)
#define VU_FLAG_NEED_REPLY      (1u << 3)
#define VU_HDR_SIZE             12u
#define VU_MAX_PAYLOAD          512u    /* largest we accept: GET_CONFIG 12 + 256 */
#define VU_MAX_FDS              TV_VU_MAX_REGIONS
#define VU_CONFIG_HDR           12u
#define VU_MAX_CONFIG           256u
#define VU_VRING_NOFD           (1ull << 8)
#define VU_VRING_IDX_MASK       0xffull
#define VU_MAX_RETIRED          32u

#define F_PROTOCOL_FEATURES     30
#define F_VERSION_1             32
#define F_EVENT_IDX             29
#define P_MQ                    0
#define P_REPLY_ACK             3
#define P_CONFIG                9
/* ring features we implement; anything else about rings (indirect, packed, ring reset,
 * notify-on-empty, access-platform...) is never offered even when ops ask for it */
#define RING_FEATURE_MASK       ((1ull << 24) | (0xfull << 27) | (0xffull << 33))
#define OFFERED_PROTOCOL        ((1ull << P_MQ) | (1ull << P_REPLY_ACK) | (1ull << P_CONFIG))

typedef struct TvVuMap {
        void *addr;
        size_t len;
} TvVuMap;

typedef struct TvVuQueue {
        TvVq vq;
        uint16_t num, base;
        bool have_num, have_addr;
        uint64_t desc_uva, avail_uva, used_uva;
        int kick, call, err;
        bool started, enabled, ready;
        bool draining;                  /* in queue_ready(false): pushes still allowed */
        /* buffers held when the ring stopped: presented again when it restarts where it
         * stopped (QEMU's VM pause/resume), dropped otherwise (reset) */
        uint16_t *parked;
        unsigned n_parked;
        uint16_t parked_base, parked_num;
        uint64_t parked_desc, parked_avail, parked_used;
        TvVuRecord *rec;                /* kept in memory that outlives us (or NULL) */
        bool adopt;                     /* the next start may continue from rec */
} TvVuQueue;

struct TvVu {
        int fd;
        unsigned nq;
        const TvVuOps *ops;
        void *ud;
        uint64_t offered, acked, proto_acked;
        TvVuMem mem;
        TvVuMap maps[TV_VU_MAX_REGIONS];
        TvVuMap retired[VU_MAX_RETIRED];
        unsigned n_retired;
        TvVuQueue q[];
};

typedef struct VuMsg {
        uint32_t request, flags, size;
        uint8_t payload[VU_MAX_PAYLOAD];
        int fds[VU_MAX_FDS];
        unsigned nfds;
} VuMsg;

/* stores to the record stay in program order (a killed process keeps the ones it made) */
#define barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static uint64_t get64(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, 8);
        return v;
}

static uint32_t get32(const uint8_t *p)
{
        uint32_t v;

        memcpy(&v, p, 4);
        return v;
}

/* Waits (bounded by the deadline set at the first partial read/write) for fd to be ready. */
static int wait_io(int fd, short ev, long long *deadline)
{
        struct pollfd p = { .fd = fd, .events = ev };
        long long left;
        int r;

        if (*deadline < 0)
                *deadline = now_ms() + TV_VU_IO_TIMEOUT_MS;
        for (;;) {
                left = *deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int)left);
                if (r > 0)
                        return 0;
                if (r == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

/* Receives exactly len bytes, collecting SCM_RIGHTS fds into m. 1 done, 0 EOF before the
 * first byte (when first), -errno otherwise (fds received so far stay in m to be closed). */
static int recv_full(TvVu *vu, VuMsg *m, uint8_t *buf, size_t len, bool first, long long *deadline)
{
        size_t got = 0;

        while (got < len) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
                } cbuf;
                struct iovec iov = { .iov_base = buf + got, .iov_len = len - got };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                                     .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
                ssize_t n = recvmsg(vu->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                int r;

                if (n > 0 || (n == 0 && mh.msg_controllen > 0)) {
                        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                                size_t k;

                                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                                        continue;
                                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                for (size_t j = 0; j < k; j++) {
                                        int fd;

                                        memcpy(&fd, CMSG_DATA(c) + j * sizeof(int), sizeof(int));
                                        if (m->nfds < VU_MAX_FDS) {
                                                m->fds[m->nfds++] = fd;
                                        } else {
                                                close(fd);
                                                mh.msg_flags |= MSG_CTRUNC;
                                        }
                                }
                        }
                        if (mh.msg_flags & MSG_CTRUNC)
                                return -EMSGSIZE;
                }
                if (n == 0)
                        return first && got == 0 ? 0 : -EPIPE;
                if (n > 0) {
                        got += (size_t)n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return -errno;
                r = wait_io(vu->fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
        return 1;
}

static int send_full(int fd, const uint8_t *buf, size_t len)
{
        long long deadline = -1;
        size_t done = 0;

        while (done < len) {
                ssize_t n = send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
                int r;

                if (n >= 0) {
                        done += (size_t)n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return -errno;
                /* a front end that does not read its replies cannot hold us */
                r = wait_io(fd, POLLOUT, &deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int send_reply(TvVu *vu, uint32_t request, const void *payload, uint32_t size)
{
        uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
        uint32_t hdr[3] = { request, VU_VERSION | VU_FLAG_REPLY, size };

        memcpy(buf, hdr, VU_HDR_SIZE);
        if (size)
                memcpy(buf + VU_HDR_SIZE, payload, size);
        return send_full(vu->fd, buf, VU_HDR_SIZE + size);
}

static int reply_u64(TvVu *vu, uint32_t request, uint64_t v)
{
        return send_reply(vu, request, &v, sizeof(v));
}

static const char *req_name(uint32_t r)
{
        static const char *const names[] = {
                [VU_GET_FEATURES] = "GET_FEATURES", [VU_SET_FEATURES] = "SET_FEATURES",
                [VU_SET_OWNER] = "SET_OWNER", [VU_RESET_OWNER] = "RESET_OWNER",
                [VU_SET_MEM_TABLE] = "SET_MEM_TABLE", [VU_SET_LOG_BASE] = "SET_LOG_BASE",
                [VU_SET_LOG_FD] = "SET_LOG_FD", [VU_SET_VRING_NUM] = "SET_VRING_NUM",
                [VU_SET_VRING_ADDR] = "SET_VRING_ADDR", [VU_SET_VRING_BASE] = "SET_VRING_BASE",
                [VU_GET_VRING_BASE] = "GET_VRING_BASE", [VU_SET_VRING_KICK] = "SET_VRING_KICK",
                [VU_SET_VRING_CALL] = "SET_VRING_CALL", [VU_SET_VRING_ERR] = "SET_VRING_ERR",
                [VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
                [VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
                [VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM", [VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
                [VU_GET_CONFIG] = "GET_CONFIG", [VU_SET_CONFIG] = "SET_CONFIG",
        };

        return r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown";
}

TvVu *tv_vu_new(int conn_fd, unsigned n_queues, const TvVuOps *ops, void *ud)
{
        TvVu *vu;

        if (n_queues == 0 || n_queues > 64 || !ops) {
                close_fd(&conn_fd);
                return NULL;
        }
        vu = calloc(1, sizeof(*vu) + n_queues * sizeof(vu->q[0]));
        if (!vu) {
                close_fd(&conn_fd);
                return NULL;
        }
        vu->fd = conn_fd;
        vu->nq = n_queues;
        vu->ops = ops;
        vu->ud = ud;
        vu->offered = (ops->features & ~RING_FEATURE_MASK) | (1ull << F_VERSION_1) |
                      (ops->features & (1ull << F_EVENT_IDX)) | (1ull << F_PROTOCOL_FEATURES);
        for (unsigned i = 0; i < n_queues; i++)
                vu->q[i].kick = vu->q[i].call = vu->q[i].err = -1;
        return vu;
}

static void unmap_all(TvVuMap *maps, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                if (maps[i].addr)
                        munmap(maps[i].addr, maps[i].len);
                maps[i].addr = NULL;
        }
}

static bool any_started(const TvVu *vu)
{
        for (unsigned i = 0; i < vu->nq; i++)
                if (vu->q[i].started)
                        return true;
        return false;
}

static bool protocol_acked(const TvVu *vu)
{
        return vu->acked & (1ull << F_PROTOCOL_FEATURES);
}

/* Reports started&&enabled changes to the device; a newly ready ring is also kicked so the
 * device looks at buffers that were made available before (restart recovery). */
static void update_ready(TvVu *vu, unsigned i)
{
        TvVuQueue *q = &vu->q[i];
        bool ready = q->started && (q->enabled || !protocol_acked(vu));

        if (ready == q->ready)
                return;
        q->ready = ready;
        /* a stopping ring is still mapped during the callback: the device may give its held
         * elements back (tv_vu_push) before they become invalid */
        q->draining = !ready;
        if (vu->ops->queue_ready)
                vu->ops->queue_ready(vu->ud, i, ready);
        q->draining = false;
        if (ready && vu->ops->queue_kick)
                vu->ops->queue_kick(vu->ud, i);
}

/* Ring pointers for the current memory table; false when they do not lie inside it. */
static bool ring_ptrs(TvVu *vu, TvVuQueue *q, void **d, void **a, void **u)
{
        *d = tv_vu_mem_uva(&vu->mem, q->desc_uva, tv_vq_desc_size(q->num));
        *a = tv_vu_mem_uva(&vu->mem, q->avail_uva, tv_vq_avail_size(q->num));
        *u = tv_vu_mem_uva(&vu->mem, q->used_uva, tv_vq_used_size(q->num));
        return *d && *a && *u;
}

static void unpark(TvVuQueue *q)
{
        free(q->parked);
        q->parked = NULL;
        q->n_parked = 0;
}

/* Remembers the heads the device held (it was told to forget them in queue_ready(false)). */
static void park(TvVuQueue *q)
{
        unpark(q);
        q->parked = malloc(q->num * sizeof(*q->parked));
        if (!q->parked)
                return;         /* they are lost, as with any back end without this */
        q->n_parked = tv_vq_inflight_heads(&q->vq, q->parked, q->num);
        q->parked_base = q->vq.last_avail;
        q->parked_num = q->num;
        q->parked_desc = q->desc_uva;
        q->parked_avail = q->avail_uva;
        q->parked_used = q->used_uva;
}

/* A restart exactly where the ring stopped (same base, size, addresses) is a resume: the
 * held buffers are still the device's and come back first. Anything else is a new ring. */
static void replay_parked(TvVuQueue *q)
{
        if (q->n_parked && q->base == q->parked_base && q->num == q->parked_num &&
            q->desc_uva == q->parked_desc && q->avail_uva == q->parked_avail && q->used_uva == q->parked_used &&
            tv_vq_set_replay(&q->vq, q->parked, q->n_parked) < 0)
                tv_vu_log(LOG_WARNING, "vhost-user: %u held buffers lost (no memory)", q->n_parked);
        unpark(q);
}

/*
 * The queue record (vhost-user.h TvVuRecord) and why a crash at any point is recoverable.
 * Only we write it, in this order (barrier(): the compiler keeps the order of the stores,
 * which is all a killed process needs: its stores are in the shared page already):
 *  start: state NONE, then geometry, indices and the heads to present again, then RUNNING.
 *    A crash in between leaves NONE: the record is discarded (as without one).
 *  pop:  head bit set, then last_avail. A crash before the bit: nothing recorded, the slot is
 *    read again. Between: the head is presented again and its avail slot, read again too,
 *    is skipped by tv_vq_pop as in flight. Callers act on an element only after the pop.
 *  push: pushing = head + 1, the used ring entry and used->idx (tv_vq_push), the head bit
 *    cleared, used_idx, pushing = 0. A crash before used->idx leaves the head in flight and
 *    the guest's used->idx == used_idx: it is answered again (the guest never saw it). After
 *    used->idx: the guest's used->idx == used_idx + 1 and the used entry names the head:
 *    the push happened, the head is not in flight any more (record_adopt).
 *  stop (GET_VRING_BASE): STOPPED, last_avail is the base QEMU saves; the heads left are
 *    the parked ones (VM pause) and come back when it resumes at that base.
 */
static void record_begin(TvVuQueue *q)
{
        TvVuRecord *rec = q->rec;

        if (!rec)
                return;
        rec->state = TV_VU_REC_NONE;
        barrier();
        rec->num = q->num;
        rec->desc = q->desc_uva;
        rec->avail = q->avail_uva;
        rec->used = q->used_uva;
        rec->last_avail = q->vq.last_avail;
        rec->used_idx = q->vq.used_idx;
        rec->pushing = 0;
        memset(rec->inflight, 0, sizeof(rec->inflight));
        for (unsigned k = 0; k < q->vq.n_replay; k++)
                if (q->vq.replay[k] < q->num)
                        rec->inflight[q->vq.replay[k] / 8] |= (uint8_t)(1u << (q->vq.replay[k] % 8));
        barrier();
        rec->state = TV_VU_REC_RUNNING;
}

bool tv_vu_record_valid(const TvVuRecord *r)
{
        if (r->state == TV_VU_REC_NONE)
                return true;
        if (r->state > TV_VU_REC_STOPPED || r->num == 0 || r->num > TV_VQ_MAX_SIZE || (r->num & (r->num - 1)) ||
            r->pushing > r->num)
                return false;
        for (unsigned h = r->num; h < TV_VQ_MAX_SIZE; h++)
                if (r->inflight[h / 8] & (1u << (h % 8)))
                        return false;
        return true;
}

/* Whether the start of q continues the recorded ring: same geometry and the base QEMU sends
 * after a back end crash (the guest's used index) or after an orderly stop (our last_avail).
 * Then *last_avail and heads[] (the in-flight ones, *n) are where to continue. The record was
 * checked as a whole (tv_vu_record_valid); here it is matched against the ring. */
static bool record_adopt(TvVuQueue *q, const void *used, uint16_t *last_avail, uint16_t *heads, unsigned *n)
{
        TvVuRecord r;
        uint16_t guest_used;

        memcpy(&r, q->rec, sizeof(r));  /* read once: checked and used from our copy */
        if (!tv_vu_record_valid(&r) || r.state == TV_VU_REC_NONE)
                return false;
        if (r.num != q->num || r.desc != q->desc_uva || r.avail != q->avail_uva || r.used != q->used_uva) {
                tv_vu_log(LOG_NOTICE, "vhost-user: queue record discarded: the ring is a new one (a reset)");
                return false;
        }
        memcpy(&guest_used, (const uint8_t *)used + 2, 2);
        guest_used = le16toh(guest_used);
        if (r.state == TV_VU_REC_RUNNING && r.pushing && guest_used == (uint16_t)(r.used_idx + 1)) {
                uint32_t id;

                memcpy(&id, (const uint8_t *)used + 4 + 8u * (r.used_idx % r.num), 4);
                id = le32toh(id);
                if (id == (uint32_t)(r.pushing - 1u)) { /* the push was done, its record not */
                        r.inflight[id / 8] &= (uint8_t)~(1u << (id % 8));
                        r.used_idx++;
                }
        }
        if (r.state == TV_VU_REC_RUNNING ? q->base != r.used_idx || guest_used != r.used_idx : q->base != r.last_avail) {
                tv_vu_log(LOG_NOTICE, "vhost-user: queue record discarded: base %u is not where it stopped (%u)",
                          q->base, r.state == TV_VU_REC_RUNNING ? r.used_idx : r.last_avail);
                return false;
        }
        if ((uint16_t)(r.last_avail - q->base) > q->num)
                return false;
        *n = 0;
        for (unsigned h = 0; h < r.num; h++)
                if (r.inflight[h / 8] & (1u << (h % 8)))
                        heads[(*n)++] = (uint16_t)h;
        *last_avail = r.last_avail;
        return true;
}

void tv_vu_set_record(TvVu *vu, unsigned q, TvVuRecord *rec, bool adopt)
{
        if (q >= vu->nq)
                return;
        vu->q[q].rec = rec;
        vu->q[q].adopt = rec && adopt;
}

static void stop_queue(TvVu *vu, unsigned i)
{
        TvVuQueue *q = &vu->q[i];

        if (!q->started)
                return;
        q->started = false;
        update_ready(vu, i);
        q->base = q->vq.last_avail;
        park(q);
        if (q->rec && q->rec->state == TV_VU_REC_RUNNING) {
                q->rec->last_avail = q->base;
                barrier();
                q->rec->state = TV_VU_REC_STOPPED;
        }
        tv_vq_fini(&q->vq);
        close_fd(&q->kick);
        /* the device has dropped its elements (queue_ready false): old mappings can go */
        if (!any_started(vu)) {
                unmap_all(vu->retired, vu->n_retired);
                vu->n_retired = 0;
        }
}

static int start_queue(TvVu *vu, unsigned i)
{
        TvVuQueue *q = &vu->q[i];
        void *d, *a, *u;
        uint16_t *adopted = NULL, base = 0;
        unsigned n_adopted = UINT_MAX;
        int r;

        if (q->started)
                return 0;
        if (!q->have_num || !q->have_addr || q->kick < 0)
                return 0;
        if (!ring_ptrs(vu, q, &d, &a, &u))
                return -EFAULT;
        if (q->adopt) {
                q->adopt = false;
                adopted = malloc(q->num * sizeof(*adopted));
                if (adopted && record_adopt(q, u, &base, adopted, &n_adopted))
                        tv_vu_log(LOG_NOTICE, "vhost-user: queue %u continues from its record: last_avail %u, "
                                  "%u buffers in flight", i, base, n_adopted);
                else
                        n_adopted = UINT_MAX;
        }
        r = tv_vq_init(&q->vq, &vu->mem, q->num, n_adopted != UINT_MAX ? base : q->base,
                       vu->acked & (1ull << F_EVENT_IDX), d, a, u);
        if (r < 0) {
                free(adopted);
                return r;
        }
        if (n_adopted != UINT_MAX) {
                unpark(q);
                if (tv_vq_set_replay(&q->vq, adopted, n_adopted) < 0)
                        tv_vu_log(LOG_WARNING, "vhost-user: %u recorded buffers lost (no memory)", n_adopted);
        } else {
                replay_parked(q);
        }
        free(adopted);
        record_begin(q);
        q->started = true;
        update_ready(vu, i);
        return 0;
}

void tv_vu_free(TvVu *vu)
{
        if (!vu)
                return;
        for (unsigned i = 0; i < vu->nq; i++) {
                TvVuQueue *q = &vu->q[i];

                if (q->ready && vu->ops->queue_ready) {
                        q->ready = false;
                        q->draining = true;
                        vu->ops->queue_ready(vu->ud, i, false);
                        q->draining = false;
                }
                tv_vq_fini(&q->vq);
                unpark(q);
                close_fd(&q->kick);
                close_fd(&q->call);
                close_fd(&q->err);
        }
        unmap_all(vu->maps, TV_VU_MAX_REGIONS);
        unmap_all(vu->retired, vu->n_retired);
        close_fd(&vu->fd);
        free(vu);
}

static int set_mem_table(TvVu *vu, VuMsg *m)
{
        TvVuMem mem = { 0 };
        TvVuMap maps[TV_VU_MAX_REGIONS] = { { 0 } };
        long page = sysconf(_SC_PAGESIZE);
        uint32_t n;
        int r = 0;

        if (m->size < 8)
                return -EINVAL;
        n = get32(m->payload);
        if (n == 0 || n > TV_VU_MAX_REGIONS || m->size != 8 + 32 * n || m->nfds != n)
                return -EINVAL;
        if (vu->n_retired + TV_VU_MAX_REGIONS > VU_MAX_RETIRED && any_started(vu))
                return -ENOSPC;
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *p = m->payload + 8 + 32 * i;
                uint64_t gpa = get64(p), size = get64(p + 8), uva = get64(p + 16), off = get64(p + 24);
                uint64_t aligned = off & ~(uint64_t)(page - 1);
                struct stat st;

                r = -EINVAL;
                if (size == 0 || gpa + size < gpa || uva + size < uva || off + size < off ||
                    size > SIZE_MAX - (off - aligned))
                        goto fail;
                for (uint32_t j = 0; j < i; j++) {
                        const TvVuRegion *o = &mem.r[j];

                        if ((gpa < o->gpa + o->size && o->gpa < gpa + size) ||
                            (uva < o->uva + o->size && o->uva < uva + size))
                                goto fail;
                }
                /* mapping beyond the end of the file would SIGBUS on access */
                if (fstat(m->fds[i], &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size < off + size) {
                        r = -EINVAL;
                        goto fail;
                }
                maps[i].len = (size_t)(size + (off - aligned));
                maps[i].addr = mmap(NULL, maps[i].len, PROT_READ | PROT_WRITE, MAP_SHARED,
                                    m->fds[i], (off_t)aligned);
                if (maps[i].addr == MAP_FAILED) {
                        maps[i].addr = NULL;
                        r = -errno;
                        goto fail;
                }
                mem.r[i] = (TvVuRegion){ .gpa = gpa, .size = size, .uva = uva,
                                         .host = (uint8_t *)maps[i].addr + (off - aligned) };
                mem.n = i + 1;
        }
        /* started rings must still lie inside the new table */
        for (unsigned i = 0; i < vu->nq; i++) {
                TvVuQueue *q = &vu->q[i];
                TvVuMem saved = vu->mem;
                void *d, *a, *u;
                bool ok;

                if (!q->started)
                        continue;
                vu->mem = mem;
                ok = ring_ptrs(vu, q, &d, &a, &u) && !((uintptr_t)d & 15) && !((uintptr_t)a & 1) &&
                     !((uintptr_t)u & 3);
                vu->mem = saved;
                if (!ok) {
                        r = -EFAULT;
                        goto fail;
                }
        }
        /* commit: elements the device holds point into the old mappings; keep those mapped
         * while any ring runs (same memfd pages, so they stay coherent) */
        if (any_started(vu)) {
                for (unsigned i = 0; i < TV_VU_MAX_REGIONS; i++)
                        if (vu->maps[i].addr)
                                vu->retired[vu->n_retired++] = vu->maps[i];
        } else {
                unmap_all(vu->maps, TV_VU_MAX_REGIONS);
        }
        memcpy(vu->maps, maps, sizeof(maps));
        vu->mem = mem;
        for (unsigned i = 0; i < vu->nq; i++) {
                TvVuQueue *q = &vu->q[i];
                void *d, *a, *u;

                if (q->started && ring_ptrs(vu, q, &d, &a, &u)) {
                        q->vq.desc = d;
                        q->vq.avail = a;
                        q->vq.used = u;
                }
        }
        return 0;
fail:
        unmap_all(maps, TV_VU_MAX_REGIONS);
        return r;
}

static TvVuQueue *state_queue(TvVu *vu, const VuMsg *m, uint32_t *num, unsigned *idx)
{
        uint32_t i;

        if (m->size != 8 || m->nfds)
                return NULL;
        i = get32(m->payload);
        *num = get32(m->payload + 4);
        if (i >= vu->nq)
                return NULL;
        *idx = i;
        return &vu->q[i];
}

static int set_vring_fd(TvVu *vu, VuMsg *m)
{
        uint64_t v;
        unsigned i;
        TvVuQueue *q;
        int *slot, fd;

        if (m->size != 8)
                return -EINVAL;
        v = get64(m->payload);
        i = (unsigned)(v & VU_VRING_IDX_MASK);
        if ((v & ~(VU_VRING_IDX_MASK | VU_VRING_NOFD)) || i >= vu->nq)
                return -EINVAL;
        if ((v & VU_VRING_NOFD) ? m->nfds != 0 : m->nfds != 1)
                return -EINVAL;
        q = &vu->q[i];
        if (m->request == VU_SET_VRING_KICK) {
                /* we have no polling mode, and a kick is what starts the ring */
                if (v & VU_VRING_NOFD)
                        return -EINVAL;
                /* on a running ring only the fd changes (libvhost-user allows it too) */
                slot = &q->kick;
        } else {
                slot = m->request == VU_SET_VRING_CALL ? &q->call : &q->err;
        }
        fd = -1;
        if (!(v & VU_VRING_NOFD)) {
                int fl = fcntl(m->fds[0], F_GETFL);

                /* never block on an fd the front end gave us */
                if (fl < 0 || fcntl(m->fds[0], F_SETFL, fl | O_NONBLOCK) < 0)
                        return -EINVAL;
                fd = m->fds[0];
                m->fds[0] = -1;
        }
        if (m->request == VU_SET_VRING_KICK && !q->started) {
                int old = q->kick, r;

                q->kick = fd;
                r = start_queue(vu, i);
                if (r < 0) {            /* refused: the previous fd stays */
                        q->kick = old;
                        close_fd(&fd);
                        return r;
                }
                close_fd(&old);
                return 0;
        }
        close_fd(slot);
        *slot = fd;
        return 0;
}

static int get_config(TvVu *vu, VuMsg *m, bool *replied)
{
        uint32_t off, len;
        uint8_t out[VU_CONFIG_HDR + VU_MAX_CONFIG];
        int r = -EINVAL;

        if (m->size < VU_CONFIG_HDR || m->nfds)
                return -EINVAL;
        off = get32(m->payload);
        len = get32(m->payload + 4);
        if (len > VU_MAX_CONFIG || off > VU_MAX_CONFIG || off + len > VU_MAX_CONFIG ||
            m->size != VU_CONFIG_HDR + len)
                return -EINVAL;
        memcpy(out, m->payload, VU_CONFIG_HDR);
        memset(out + VU_CONFIG_HDR, 0, len);
        if (vu->ops->get_config)
                r = vu->ops->get_config(vu->ud, off, out + VU_CONFIG_HDR, len);
        *replied = true;
        /* a zero-length payload tells the front end it failed */
        return send_reply(vu, VU_GET_CONFIG, out, r < 0 ? 0 : VU_CONFIG_HDR + len) < 0 ? -EPIPE : 0;
}

/* Handles one message. 0 done; -errno invalid (nothing changed); *fatal for I/O failures. */
static int handle(TvVu *vu, VuMsg *m, bool *replied, bool *fatal)
{
        TvVuQueue *q;
        uint32_t num;
        unsigned i;
        uint64_t v;
        int r;

        *replied = false;
        *fatal = false;
        switch (m->request) {
        case VU_GET_FEATURES:
        case VU_GET_PROTOCOL_FEATURES:
        case VU_GET_QUEUE_NUM:
                if (m->size != 0 || m->nfds)
                        return -EINVAL;
                v = m->request == VU_GET_FEATURES ? vu->offered :
                    m->request == VU_GET_PROTOCOL_FEATURES ? OFFERED_PROTOCOL : vu->nq;
                *replied = true;
                if (reply_u64(vu, m->request, v) < 0)
                        *fatal = true;
                return 0;
        case VU_SET_FEATURES:
        case VU_SET_PROTOCOL_FEATURES:
                if (m->size != 8 || m->nfds)
                        return -EINVAL;
                v = get64(m->payload);
                if (m->request == VU_SET_FEATURES) {
                        if (v & ~vu->offered)
                                return -EINVAL;
                        vu->acked = v;
                        for (i = 0; i < vu->nq; i++) {
                                vu->q[i].vq.event_idx = v & (1ull << F_EVENT_IDX);
                                update_ready(vu, i);
                        }
                } else {
                        if (v & ~OFFERED_PROTOCOL)
                                return -EINVAL;
                        vu->proto_acked = v;
                }
                return 0;
        case VU_SET_OWNER:
                return m->size == 0 && !m->nfds ? 0 : -EINVAL;
        case VU_RESET_OWNER:
                if (m->size != 0 || m->nfds)
                        return -EINVAL;
                for (i = 0; i < vu->nq; i++) {
                        stop_queue(vu, i);
                        unpark(&vu->q[i]);
                }
                vu->acked = 0;
                return 0;
        case VU_SET_MEM_TABLE:
                return set_mem_table(vu, m);
        case VU_SET_VRING_NUM:
                if (!(q = state_queue(vu, m, &num, &i)) || q->started)
                        return -EINVAL;
                if (num == 0 || num > TV_VQ_MAX_SIZE || (num & (num - 1)))
                        return -EINVAL;
                q->num = (uint16_t)num;
                q->have_num = true;
                return 0;
        case VU_SET_VRING_BASE:
                if (!(q = state_queue(vu, m, &num, &i)) || q->started || num > 0xffff)
                        return -EINVAL;
                q->base = (uint16_t)num;
                return 0;
        case VU_GET_VRING_BASE:
                if (!(q = state_queue(vu, m, &num, &i)))
                        return -EINVAL;
                stop_queue(vu, i);
                {
                        uint32_t st[2] = { i, q->base };

                        *replied = true;
                        if (send_reply(vu, VU_GET_VRING_BASE, st, sizeof(st)) < 0)
                                *fatal = true;
                }
                return 0;
        case VU_SET_VRING_ENABLE:
                if (!(q = state_queue(vu, m, &num, &i)) || num > 1)
                        return -EINVAL;
                q->enabled = num;
                update_ready(vu, i);
                return 0;
        case VU_SET_VRING_ADDR: {
                uint32_t idx, flags;
                uint64_t d, u, a;

                /* struct vhost_vring_addr: index, flags, desc, used, avail, log */
                if (m->size != 40 || m->nfds)
                        return -EINVAL;
                idx = get32(m->payload);
                flags = get32(m->payload + 4);
                d = get64(m->payload + 8);
                u = get64(m->payload + 16);
                a = get64(m->payload + 24);
                if (idx >= vu->nq || vu->q[idx].started || flags != 0 ||
                    (d & 15) || (a & 1) || (u & 3))
                        return -EINVAL;
                q = &vu->q[idx];
                q->desc_uva = d;
                q->avail_uva = a;
                q->used_uva = u;
                q->have_addr = true;
                return 0;
        }
        case VU_SET_VRING_KICK:
        case VU_SET_VRING_CALL:
        case VU_SET_VRING_ERR:
                return set_vring_fd(vu, m);
        case VU_GET_CONFIG:
                if (!(vu->proto_acked & (1ull << P_CONFIG)))
                        return -EINVAL;
                r = get_config(vu, m, replied);
                if (r == -EPIPE)
                        *fatal = true;
                return r;
        case VU_SET_CONFIG:     /* our devices' config is read-only */
        default:
                return -ENOTSUP;
        }
}

int tv_vu_handle_one(TvVu *vu)
{
        VuMsg m;
        uint32_t hdr[3];
        long long deadline = -1;
        bool replied, fatal, need_reply;
        int r;

        m.nfds = 0;
        r = recv_full(vu, &m, (uint8_t *)hdr, VU_HDR_SIZE, true, &deadline);
        if (r == 0) {
                r = -ECONNRESET;
                goto out;
        }
        if (r < 0) {
                tv_vu_log(LOG_WARNING, "vhost-user: reading a message header: %s", strerror(-r));
                goto out;
        }
        m.request = hdr[0];
        m.flags = hdr[1];
        m.size = hdr[2];
        if ((m.flags & VU_FLAG_VERSION_MASK) != VU_VERSION || (m.flags & VU_FLAG_REPLY) ||
            (m.flags & ~(VU_FLAG_VERSION_MASK | VU_FLAG_NEED_REPLY))) {
                tv_vu_log(LOG_WARNING, "vhost-user: %s: bad flags 0x%x", req_name(m.request), m.flags);
                r = -EPROTO;
                goto out;
        }
        if (m.size > VU_MAX_PAYLOAD) {
                tv_vu_log(LOG_WARNING, "vhost-user: %s: payload of %u bytes is too large",
                       req_name(m.request), m.size);
                r = -EPROTO;
                goto out;
        }
        if (m.size) {
                r = recv_full(vu, &m, m.payload, m.size, false, &deadline);
                if (r < 0) {
                        tv_vu_log(LOG_WARNING, "vhost-user: %s: reading the payload: %s",
                               req_name(m.request), strerror(-r));
                        goto out;
                }
        }
        need_reply = (m.flags & VU_FLAG_NEED_REPLY) && (vu->proto_acked & (1ull << P_REPLY_ACK));
        r = handle(vu, &m, &replied, &fatal);
        if (fatal) {
                tv_vu_log(LOG_WARNING, "vhost-user: %s: the reply could not be sent", req_name(m.request));
                r = -EPIPE;
                goto out;
        }
        if (r < 0)
                tv_vu_log(LOG_WARNING, "vhost-user: %s (%u bytes, %u fds) refused: %s", req_name(m.request),
                       m.size, m.nfds, strerror(-r));
        if (need_reply && !replied) {
                if (reply_u64(vu, m.request, r < 0 ? 1 : 0) < 0) {
                        r = -EPIPE;
                        goto out;
                }
                r = 0;  /* the front end was told; the state is unchanged */
        }
out:
        for (unsigned k = 0; k < m.nfds; k++)
                close_fd(&m.fds[k]);
        return r;
}

unsigned tv_vu_poll_fds(TvVu *vu, struct pollfd *pfd, unsigned max)
{
        unsigned n = 0;

        if (max == 0)
                return 0;
        pfd[n++] = (struct pollfd){ .fd = vu->fd, .events = POLLIN };
        for (unsigned i = 0; i < vu->nq && n < max; i++)
                if (vu->q[i].ready && vu->q[i].kick >= 0)
                        pfd[n++] = (struct pollfd){ .fd = vu->q[i].kick, .events = POLLIN };
        return n;
}

int tv_vu_dispatch(TvVu *vu, const struct pollfd *pfd, unsigned n)
{
        bool conn = false;

        /* kicks first: a message handled below may close or replace kick fds */
        for (unsigned k = 0; k < n; k++) {
                if (!pfd[k].revents)
                        continue;
                if (pfd[k].fd == vu->fd) {
                        if (pfd[k].revents & POLLNVAL)
                                return -EBADF;
                        conn = true;
                        continue;
                }
                for (unsigned i = 0; i < vu->nq; i++) {
                        TvVuQueue *q = &vu->q[i];
                        uint64_t cnt;
                        ssize_t r;

                        if (!q->ready || q->kick != pfd[k].fd)
                                continue;
                        r = read(q->kick, &cnt, sizeof(cnt));
                        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
                            (pfd[k].revents & (POLLERR | POLLHUP | POLLNVAL))) {
                                tv_vu_log(LOG_WARNING, "vhost-user: queue %u: the kick fd failed", i);
                                return -EIO;
                        }
                        if (vu->ops->queue_kick)
                                vu->ops->queue_kick(vu->ud, i);
                }
        }
        if (conn) {
                int r = tv_vu_handle_one(vu);

                if (r == -ECONNRESET)
                        tv_vu_log(LOG_INFO, "vhost-user: the front end closed the connection");
                if (r < 0)
                        return r;
        }
        return 0;
}

bool tv_vu_queue_started(TvVu *vu, unsigned q)
{
        return q < vu->nq && vu->q[q].ready;
}

int tv_vu_pop(TvVu *vu, unsigned q, TvVuElem *e)
{
        TvVuRecord *rec;
        int r;

        if (q >= vu->nq || !vu->q[q].ready)
                return 0;
        r = tv_vq_pop(&vu->q[q].vq, e);
        rec = vu->q[q].rec;
        if (r > 0 && rec && rec->state == TV_VU_REC_RUNNING) {
                /* before the caller acts on it: the head first, then the index (see record_*) */
                rec->inflight[e->head / 8] |= (uint8_t)(1u << (e->head % 8));
                barrier();
                rec->last_avail = vu->q[q].vq.last_avail;
        }
        return r;
}

void tv_vu_push(TvVu *vu, unsigned q, const TvVuElem *e, uint32_t written)
{
        TvVuRecord *rec;
        uint16_t before;

        if (q >= vu->nq || !(vu->q[q].ready || vu->q[q].draining))
                return;
        rec = vu->q[q].rec;
        if (!rec || rec->state != TV_VU_REC_RUNNING || e->head >= vu->q[q].vq.num) {
                tv_vq_push(&vu->q[q].vq, e, written);
                return;
        }
        /* the push is announced, done, then the record follows (see record_adopt) */
        before = vu->q[q].vq.used_idx;
        rec->pushing = (uint16_t)(e->head + 1);
        barrier();
        tv_vq_push(&vu->q[q].vq, e, written);
        barrier();
        if (vu->q[q].vq.used_idx != before) {
                rec->inflight[e->head / 8] &= (uint8_t)~(1u << (e->head % 8));
                barrier();
                rec->used_idx = vu->q[q].vq.used_idx;
        }
        barrier();
        rec->pushing = 0;
}

void tv_vu_notify(TvVu *vu, unsigned q)
{
        uint64_t one = 1;

        if (q >= vu->nq || !(vu->q[q].ready || vu->q[q].draining) || vu->q[q].call < 0)
                return;
        if (!tv_vq_should_notify(&vu->q[q].vq))
                return;
        /* EAGAIN: the counter is saturated, the driver will see it anyway */
        if (write(vu->q[q].call, &one, sizeof(one)) < 0 && errno != EAGAIN)
                tv_vu_log(LOG_WARNING, "vhost-user: queue %u: call: %s", q, strerror(errno));
}

uint64_t tv_vu_acked_features(TvVu *vu)
{
        return vu->acked;
}
