// SPDX-License-Identifier: GPL-2.0-or-later
/* A vhost-user front end for tests (see vu-front.h). Written from the protocol document
 * (QEMU's docs/interop/vhost-user.rst) and virtio 1.2's split ring; libc only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "vu-front.h"

#define F_PROTOCOL_FEATURES 30
#define P_MQ 0
#define P_REPLY_ACK 3
#define P_CONFIG 9
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define PAGE 4096u

enum { GET_FEATURES = 1, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE, SET_LOG_BASE, SET_LOG_FD,
       SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL,
       SET_VRING_ERR, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE,
       GET_CONFIG = 24 };

typedef struct FrontQueue {
        uint8_t *desc, *avail, *used;
        uint64_t desc_gpa;
        uint16_t avail_idx, last_used, last_avail;
        uint16_t *free;
        unsigned n_free;
        int kick, call;
} FrontQueue;

struct VuFront {
        int fd, timeout_ms;
        unsigned nq;
        uint16_t qsize;
        int memfd;
        uint8_t *mem;
        size_t mem_size, ring_bytes;
        uint64_t proto;
        FrontQueue q[];
};

static size_t align_up(size_t v, size_t a)
{
        return (v + a - 1) / a * a;
}

static uint64_t gpa_of(VuFront *f, const void *p)
{
        return VU_FRONT_GPA_BASE + (uint64_t)((const uint8_t *)p - f->mem);
}

VuFront *vu_front_new(unsigned n_queues, uint16_t qsize)
{
        VuFront *f;
        size_t ring;

        if (!n_queues || n_queues > 64 || !qsize || (qsize & (qsize - 1)))
                return NULL;
        f = calloc(1, sizeof(*f) + n_queues * sizeof(f->q[0]));
        if (!f)
                return NULL;
        f->fd = -1;
        f->timeout_ms = 5000;
        f->nq = n_queues;
        f->qsize = qsize;
        ring = align_up(16u * qsize, PAGE) + align_up(6 + 2u * qsize, PAGE) + align_up(6 + 8u * qsize, PAGE);
        f->ring_bytes = ring;
        f->mem_size = n_queues * ring + (size_t)n_queues * qsize * VU_FRONT_BUF_SIZE;
        f->memfd = memfd_create("vu-front-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (f->memfd < 0 || ftruncate(f->memfd, (off_t)f->mem_size) < 0)
                goto fail;
        /* like QEMU's memory-backend-memfd (seal=on): the back end can trust the size */
        fcntl(f->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        f->mem = mmap(NULL, f->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
        if (f->mem == MAP_FAILED) {
                f->mem = NULL;
                goto fail;
        }
        for (unsigned i = 0; i < n_queues; i++) {
                FrontQueue *q = &f->q[i];
                uint8_t *r = f->mem + i * ring;

                q->desc = r;
                q->avail = r + align_up(16u * qsize, PAGE);
                q->used = q->avail + align_up(6 + 2u * qsize, PAGE);
                q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                q->free = calloc(qsize, sizeof(uint16_t));
                if (q->kick < 0 || q->call < 0 || !q->free)
                        goto fail;
                for (unsigned d = 0; d < qsize; d++)
                        q->free[q->n_free++] = (uint16_t)(qsize - 1 - d);
        }
        return f;
fail:
        vu_front_free(f);
        return NULL;
}

void vu_front_free(VuFront *f)
{
        if (!f)
                return;
        for (unsigned i = 0; i < f->nq; i++) {
                if (f->q[i].kick >= 0)
                        close(f->q[i].kick);
                if (f->q[i].call >= 0)
                        close(f->q[i].call);
                free(f->q[i].free);
        }
        if (f->mem)
                munmap(f->mem, f->mem_size);
        if (f->memfd >= 0)
                close(f->memfd);
        if (f->fd >= 0)
                close(f->fd);
        free(f);
}

int vu_front_attach(VuFront *f, int fd)
{
        if (f->fd >= 0)
                close(f->fd);
        f->fd = fd;
        f->proto = 0;
        return 0;
}

int vu_front_connect(VuFront *f, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;

                close(fd);
                return -e;
        }
        return vu_front_attach(f, fd);
}

int vu_front_fd(VuFront *f)
{
        return f->fd;
}

void vu_front_set_timeout(VuFront *f, int ms)
{
        f->timeout_ms = ms;
}

void vu_front_disconnect(VuFront *f)
{
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
        /* QEMU 7.2 vhost_virtqueue_stop: GET_VRING_BASE fails -> last_avail = used->idx */
        for (unsigned i = 0; i < f->nq; i++)
                f->q[i].last_avail = __atomic_load_n((uint16_t *)(f->q[i].used + 2), __ATOMIC_ACQUIRE);
}

int vu_front_send(VuFront *f, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
                  const int *fds, unsigned nfds)
{
        uint8_t buf[12 + 1024];
        uint32_t hdr[3] = { request, flags, size };
        union {
                struct cmsghdr align;
                char b[CMSG_SPACE(sizeof(int) * 16)];
        } cbuf;
        struct iovec iov = { .iov_base = buf, .iov_len = 12 + size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (size > 1024 || nfds > 16)
                return -EINVAL;
        memcpy(buf, hdr, 12);
        if (size)
                memcpy(buf + 12, payload, size);
        if (nfds) {
                struct cmsghdr *c;

                memset(&cbuf, 0, sizeof(cbuf));
                mh.msg_control = cbuf.b;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        if (sendmsg(f->fd, &mh, MSG_NOSIGNAL) != (ssize_t)(12 + size))
                return -errno ? -errno : -EIO;
        return 0;
}

static int read_exact(VuFront *f, void *buf, size_t len)
{
        size_t got = 0;

        while (got < len) {
                struct pollfd p = { .fd = f->fd, .events = POLLIN };
                ssize_t n;
                int r = poll(&p, 1, f->timeout_ms);

                if (r == 0)
                        return -ETIMEDOUT;
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                n = recv(f->fd, (uint8_t *)buf + got, len - got, 0);
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        return 0;
}

int vu_front_recv(VuFront *f, uint32_t *request, uint32_t *flags, void *payload, uint32_t cap)
{
        uint32_t hdr[3];
        uint8_t junk[256];
        int r = read_exact(f, hdr, 12);

        if (r < 0)
                return r;
        *request = hdr[0];
        *flags = hdr[1];
        if (hdr[2] > cap) {
                /* drain it so the stream stays in step */
                for (uint32_t left = hdr[2]; left;) {
                        uint32_t k = left < sizeof(junk) ? left : sizeof(junk);

                        if ((r = read_exact(f, junk, k)) < 0)
                                return r;
                        left -= k;
                }
                return -EMSGSIZE;
        }
        if (hdr[2] && (r = read_exact(f, payload, hdr[2])) < 0)
                return r;
        return (int)hdr[2];
}

static bool has_reply(uint32_t request)
{
        return request == GET_FEATURES || request == GET_PROTOCOL_FEATURES || request == GET_QUEUE_NUM ||
               request == GET_VRING_BASE || request == GET_CONFIG;
}

int vu_front_call(VuFront *f, uint32_t request, const void *payload, uint32_t size,
                  const int *fds, unsigned nfds, uint64_t *u64)
{
        bool ack = !has_reply(request) && (f->proto & (1ull << P_REPLY_ACK));
        uint32_t rq, fl;
        uint8_t buf[512];
        int r = vu_front_send(f, request, 1u | (ack ? 1u << 3 : 0), payload, size, fds, nfds);

        if (r < 0 || (!ack && !has_reply(request)))
                return r;
        r = vu_front_recv(f, &rq, &fl, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (rq != request || (fl & 7u) != (1u | 1u << 2))
                return -EPROTO;
        if (request == GET_CONFIG || request == GET_VRING_BASE)
                return r;       /* the caller reads those through vu_front_recv's buffer */
        if (r != 8)
                return -EPROTO;
        if (u64)
                memcpy(u64, buf, 8);
        if (ack) {
                uint64_t v;

                memcpy(&v, buf, 8);
                return v ? -EIO : 0;
        }
        return 0;
}

int vu_front_negotiate(VuFront *f, uint64_t *dev_features)
{
        uint64_t feat, proto, nq;
        int r;

        f->proto = 0;
        if ((r = vu_front_call(f, SET_OWNER, NULL, 0, NULL, 0, NULL)) < 0 ||
            (r = vu_front_call(f, GET_FEATURES, NULL, 0, NULL, 0, &feat)) < 0)
                return r;
        if (dev_features)
                *dev_features = feat;
        if (!(feat & (1ull << F_PROTOCOL_FEATURES)))
                return 0;
        if ((r = vu_front_call(f, GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, &proto)) < 0)
                return r;
        proto &= (1ull << P_MQ) | (1ull << P_REPLY_ACK) | (1ull << P_CONFIG);
        if ((r = vu_front_call(f, SET_PROTOCOL_FEATURES, &proto, 8, NULL, 0, NULL)) < 0)
                return r;
        f->proto = proto;
        if (proto & (1ull << P_MQ)) {
                if ((r = vu_front_call(f, GET_QUEUE_NUM, NULL, 0, NULL, 0, &nq)) < 0)
                        return r;
                if (nq < f->nq)
                        return -ERANGE;
        }
        return 0;
}

uint64_t vu_front_protocol_features(VuFront *f)
{
        return f->proto;
}

int vu_front_get_config(VuFront *f, uint32_t offset, void *buf, uint32_t len)
{
        uint8_t msg[12 + 256];
        uint32_t rq, fl;
        int r;

        if (len > 256)
                return -EINVAL;
        memset(msg, 0, sizeof(msg));
        memcpy(msg, &offset, 4);
        memcpy(msg + 4, &len, 4);
        if ((r = vu_front_send(f, GET_CONFIG, 1, msg, 12 + len, NULL, 0)) < 0)
                return r;
        r = vu_front_recv(f, &rq, &fl, msg, sizeof(msg));
        if (r < 0)
                return r;
        if (rq != GET_CONFIG)
                return -EPROTO;
        if (r == 0)
                return -EIO;
        if ((uint32_t)r != 12 + len)
                return -EPROTO;
        memcpy(buf, msg + 12, len);
        return 0;
}

uint32_t vu_front_mem_table(VuFront *f, void *payload, int *fd)
{
        uint8_t *p = payload;
        uint32_t one = 1, pad = 0;
        uint64_t region[4] = { VU_FRONT_GPA_BASE, f->mem_size, (uint64_t)(uintptr_t)f->mem, 0 };

        memcpy(p, &one, 4);
        memcpy(p + 4, &pad, 4);
        memcpy(p + 8, region, sizeof(region));
        *fd = f->memfd;
        return 8 + 32;
}

int vu_front_start(VuFront *f, uint64_t features)
{
        uint8_t mt[40];
        int fd, r;
        uint32_t sz = vu_front_mem_table(f, mt, &fd);

        if ((r = vu_front_call(f, SET_FEATURES, &features, 8, NULL, 0, NULL)) < 0 ||
            (r = vu_front_call(f, SET_MEM_TABLE, mt, sz, &fd, 1, NULL)) < 0)
                return r;
        for (unsigned i = 0; i < f->nq; i++) {
                FrontQueue *q = &f->q[i];
                uint32_t num[2] = { i, f->qsize }, base[2] = { i, q->last_avail };
                /* struct vhost_vring_addr: u32 index, u32 flags (0), then desc, used, avail, log */
                uint64_t addr[5] = { (uint64_t)i, (uint64_t)(uintptr_t)q->desc, (uint64_t)(uintptr_t)q->used,
                                     (uint64_t)(uintptr_t)q->avail, 0 };
                uint64_t kick = i, call = i;

                if ((r = vu_front_call(f, SET_VRING_NUM, num, 8, NULL, 0, NULL)) < 0 ||
                    (r = vu_front_call(f, SET_VRING_BASE, base, 8, NULL, 0, NULL)) < 0 ||
                    (r = vu_front_call(f, SET_VRING_ADDR, addr, 40, NULL, 0, NULL)) < 0 ||
                    (r = vu_front_call(f, SET_VRING_KICK, &kick, 8, &q->kick, 1, NULL)) < 0 ||
                    (r = vu_front_call(f, SET_VRING_CALL, &call, 8, &q->call, 1, NULL)) < 0)
                        return r;
        }
        for (unsigned i = 0; i < f->nq && (f->proto || (features & (1ull << F_PROTOCOL_FEATURES))); i++) {
                uint32_t en[2] = { i, 1 };

                if ((r = vu_front_call(f, SET_VRING_ENABLE, en, 8, NULL, 0, NULL)) < 0)
                        return r;
        }
        return 0;
}

int vu_front_stop(VuFront *f)
{
        for (unsigned i = 0; i < f->nq; i++) {
                uint32_t st[2] = { i, 0 }, rq, fl, out[2];
                int r = vu_front_send(f, GET_VRING_BASE, 1, st, 8, NULL, 0);

                if (r < 0)
                        return r;
                r = vu_front_recv(f, &rq, &fl, out, sizeof(out));
                if (r < 0)
                        return r;
                if (r != 8 || rq != GET_VRING_BASE || out[0] != i)
                        return -EPROTO;
                f->q[i].last_avail = (uint16_t)out[1];
        }
        return 0;
}

uint16_t vu_front_last_avail(VuFront *f, unsigned q)
{
        return f->q[q].last_avail;
}

void vu_front_reset(VuFront *f)
{
        memset(f->mem, 0, f->nq * f->ring_bytes);
        for (unsigned i = 0; i < f->nq; i++) {
                FrontQueue *q = &f->q[i];

                q->avail_idx = q->last_used = q->last_avail = 0;
                q->n_free = 0;
                for (unsigned d = 0; d < f->qsize; d++)
                        q->free[q->n_free++] = (uint16_t)(f->qsize - 1 - d);
        }
}

void vu_front_set_desc(VuFront *f, unsigned qi, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                       uint16_t next)
{
        uint8_t *d = f->q[qi].desc + 16u * (i % f->qsize);

        memcpy(d, &addr, 8);
        memcpy(d + 8, &len, 4);
        memcpy(d + 12, &flags, 2);
        memcpy(d + 14, &next, 2);
}

void *vu_front_buf(VuFront *f, unsigned q, uint16_t i)
{
        return f->mem + f->nq * f->ring_bytes + ((size_t)q * f->qsize + (i % f->qsize)) * VU_FRONT_BUF_SIZE;
}

uint64_t vu_front_buf_gpa(VuFront *f, unsigned q, uint16_t i)
{
        return gpa_of(f, vu_front_buf(f, q, i));
}

void vu_front_avail_add(VuFront *f, unsigned qi, uint16_t head)
{
        FrontQueue *q = &f->q[qi];

        __atomic_store_n((uint16_t *)(q->avail + 4 + 2u * (q->avail_idx % f->qsize)), head, __ATOMIC_RELAXED);
        q->avail_idx++;
        __atomic_store_n((uint16_t *)(q->avail + 2), q->avail_idx, __ATOMIC_RELEASE);
}

void vu_front_set_avail_idx(VuFront *f, unsigned qi, uint16_t idx)
{
        f->q[qi].avail_idx = idx;
        __atomic_store_n((uint16_t *)(f->q[qi].avail + 2), idx, __ATOMIC_RELEASE);
}

int vu_front_submit(VuFront *f, unsigned qi, const void *out, size_t out_len, size_t in_len)
{
        FrontQueue *q = &f->q[qi];
        size_t n_out = (out_len + VU_FRONT_BUF_SIZE - 1) / VU_FRONT_BUF_SIZE;
        size_t n_in = (in_len + VU_FRONT_BUF_SIZE - 1) / VU_FRONT_BUF_SIZE;
        uint16_t idx[64];
        size_t n = n_out + n_in;

        if (qi >= f->nq || n == 0 || n > 64 || n > q->n_free)
                return -ENOSPC;
        for (size_t k = 0; k < n; k++)
                idx[k] = q->free[--q->n_free];
        for (size_t k = 0; k < n; k++) {
                bool w = k >= n_out;
                size_t off = (w ? k - n_out : k) * VU_FRONT_BUF_SIZE;
                size_t total = w ? in_len : out_len;
                uint32_t len = (uint32_t)(total - off < VU_FRONT_BUF_SIZE ? total - off : VU_FRONT_BUF_SIZE);

                if (!w)
                        memcpy(vu_front_buf(f, qi, idx[k]), (const uint8_t *)out + off, len);
                else
                        memset(vu_front_buf(f, qi, idx[k]), 0xee, len);
                vu_front_set_desc(f, qi, idx[k], vu_front_buf_gpa(f, qi, idx[k]), len,
                                  (uint16_t)((w ? DESC_F_WRITE : 0) | (k + 1 < n ? DESC_F_NEXT : 0)),
                                  k + 1 < n ? idx[k + 1] : 0);
        }
        vu_front_avail_add(f, qi, idx[0]);
        return idx[0];
}

void vu_front_kick(VuFront *f, unsigned q)
{
        uint64_t one = 1;

        if (write(f->q[q].kick, &one, 8) < 0)
                return;
}

uint16_t vu_front_used_idx(VuFront *f, unsigned q)
{
        return __atomic_load_n((uint16_t *)(f->q[q].used + 2), __ATOMIC_ACQUIRE);
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vu_front_wait_used(VuFront *f, unsigned qi, int timeout_ms, uint16_t *head, uint32_t *len)
{
        FrontQueue *q = &f->q[qi];
        long long deadline = now_ms() + timeout_ms;
        uint8_t *u;
        uint32_t id;

        while (vu_front_used_idx(f, qi) == q->last_used) {
                struct pollfd p = { .fd = q->call, .events = POLLIN };
                long long left = deadline - now_ms();

                if (left <= 0)
                        return 0;
                /* short slices: a used entry without an interrupt still shows up */
                poll(&p, 1, left < 50 ? (int)left : 50);
        }
        u = q->used + 4 + 8u * (q->last_used % f->qsize);
        id = __atomic_load_n((uint32_t *)u, __ATOMIC_RELAXED);
        *len = __atomic_load_n((uint32_t *)(u + 4), __ATOMIC_RELAXED);
        *head = (uint16_t)id;
        q->last_used++;
        /* give the chain's descriptors back (only chains vu_front_submit made are listed) */
        if (id < f->qsize) {
                uint16_t i = (uint16_t)id;

                for (unsigned steps = 0; steps < f->qsize && q->n_free < f->qsize; steps++) {
                        uint8_t *d = q->desc + 16u * i;
                        uint16_t fl, nx;

                        memcpy(&fl, d + 12, 2);
                        memcpy(&nx, d + 14, 2);
                        q->free[q->n_free++] = i;
                        if (!(fl & DESC_F_NEXT) || nx >= f->qsize)
                                break;
                        i = nx;
                }
        }
        return 1;
}

size_t vu_front_read_in(VuFront *f, unsigned qi, uint16_t head, void *buf, size_t cap)
{
        FrontQueue *q = &f->q[qi];
        size_t got = 0;
        uint16_t i = head % f->qsize;

        for (unsigned steps = 0; steps < f->qsize; steps++) {
                uint8_t *d = q->desc + 16u * i;
                uint64_t addr;
                uint32_t len;
                uint16_t fl, nx;

                memcpy(&addr, d, 8);
                memcpy(&len, d + 8, 4);
                memcpy(&fl, d + 12, 2);
                memcpy(&nx, d + 14, 2);
                if ((fl & DESC_F_WRITE) && addr >= VU_FRONT_GPA_BASE &&
                    addr - VU_FRONT_GPA_BASE + len <= f->mem_size) {
                        size_t k = len < cap - got ? len : cap - got;

                        memcpy((uint8_t *)buf + got, f->mem + (addr - VU_FRONT_GPA_BASE), k);
                        got += k;
                }
                if (!(fl & DESC_F_NEXT) || nx >= f->qsize)
                        break;
                i = nx;
        }
        return got;
}

uint64_t vu_front_calls(VuFront *f, unsigned q)
{
        uint64_t v = 0;

        if (read(f->q[q].call, &v, 8) != 8)
                return 0;
        return v;
}
