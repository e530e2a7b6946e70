// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: backend/vhost-user.c on message sequences from a hostile front end. The input is
 * a list of records {u8 fds; u32 request; u32 flags; u32 size; payload} sent over a socketpair
 * (payload padded to size so the back end never waits; sizes over 1024 are sent as 1024),
 * with (fds & 7) fds attached: a memfd of guest memory (whose first bytes are the input, so
 * rings can hold anything) when bit 3 is set, else eventfds. After each message every started
 * queue is popped and answered like a device. Nothing may crash, leak or hang.
 * Each queue also keeps a record (TvVuRecord, a restarted back end's state) whose first bytes
 * are the input too, offered for adoption: a record that does not match may only be discarded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "vhost-user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUEST 65536u

static TvVu *cur;

static int get_config(void *ud, uint32_t off, uint8_t *buf, uint32_t len)
{
        (void)ud;
        if (off > 8 || len > 8 - off)
                return -EINVAL;
        memset(buf, 0x11, len);
        return 0;
}

static void serve(unsigned q)
{
        TvVuElem e;

        for (int k = 0; k < 64 && tv_vu_pop(cur, q, &e) == 1; k++) {
                for (unsigned i = 0; i < e.n_in; i++)
                        memset(e.in[i].iov_base, 0x5a, e.in[i].iov_len);
                tv_vu_push(cur, q, &e, 4);
                tv_vu_notify(cur, q);
        }
}

static void queue_ready(void *ud, unsigned q, bool ready)
{
        (void)ud;
        (void)q;
        (void)ready;
}

static void queue_kick(void *ud, unsigned q)
{
        (void)ud;
        serve(q);
}

static const TvVuOps ops = {
        .features = (1ull << 32) | (1ull << 29) | 1,
        .get_config = get_config, .queue_ready = queue_ready, .queue_kick = queue_kick,
};

static void drain(int fd)
{
        uint8_t buf[4096];

        while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        int sv[2], memfd;
        size_t off = 0;
        void *g;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
        if (memfd < 0 || ftruncate(memfd, GUEST) < 0)
                abort();
        g = mmap(NULL, GUEST, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
        if (g == MAP_FAILED)
                abort();
        memcpy(g, data, size < GUEST ? size : GUEST);
        munmap(g, GUEST);
        cur = tv_vu_new(sv[1], 2, &ops, NULL);
        if (!cur)
                abort();
        {
                static TvVuRecord recs[2];

                memset(recs, 0, sizeof(recs));
                memcpy(recs, data, size < sizeof(recs) ? size : sizeof(recs));
                for (unsigned q = 0; q < 2; q++)
                        tv_vu_set_record(cur, q, &recs[q], true);
        }
        while (size - off >= 13) {
                uint8_t msg[12 + 1024] = { 0 };
                uint32_t hdr[3];
                size_t len, have;
                int fds[7];
                unsigned nfds = data[off] & 7;
                bool mem = data[off] & 8;
                union {
                        struct cmsghdr align;
                        char b[CMSG_SPACE(sizeof(int) * 7)];
                } cbuf;
                struct iovec iov;
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

                memcpy(hdr, data + off + 1, 12);
                off += 13;
                len = hdr[2] < 1024 ? hdr[2] : 1024;
                have = size - off < len ? size - off : len;
                memcpy(msg, hdr, 12);
                memcpy(msg + 12, data + off, have);
                off += have;
                for (unsigned i = 0; i < nfds; i++) {
                        fds[i] = mem ? dup(memfd) : eventfd(1, EFD_CLOEXEC);
                        if (fds[i] < 0)
                                abort();
                }
                iov = (struct iovec){ .iov_base = msg, .iov_len = 12 + len };
                if (nfds) {
                        memset(&cbuf, 0, sizeof(cbuf));
                        mh.msg_control = cbuf.b;
                        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
                        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
                }
                if (sendmsg(sv[0], &mh, MSG_NOSIGNAL) != (ssize_t)(12 + len))
                        abort();
                for (unsigned i = 0; i < nfds; i++)
                        close(fds[i]);
                /* the whole message is in the socket: handling it never waits. <0: the real
                 * loop closes the connection (and the stream may be out of step): over */
                if (tv_vu_handle_one(cur) < 0)
                        break;
                drain(sv[0]);
                serve(0);
                serve(1);
        }
        tv_vu_free(cur);
        cur = NULL;
        close(sv[0]);
        close(memfd);
        return 0;
}
