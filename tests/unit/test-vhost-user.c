// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * backend/vhost-user.c + virtqueue.c against tests/lib/vu-front (a QEMU-like front end):
 * an echo device (queue 0 copies a request's readable bytes into its writable ones) runs in
 * a thread that serves a listening socket like the real backends do. Proves negotiation,
 * GET_CONFIG, request/used round trips across index wrap, interrupt suppression, refusal of
 * bad descriptors and messages (nothing changes, the connection survives where REPLY_ACK
 * lets us say no), a stalled front end being dropped, graceful VRING_BASE save/restore, and
 * QEMU 7.2's reconnect after a backend crash: the request the dead backend held is presented
 * again and answered without a new kick.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "tv-tap.h"
#include "vhost-user.h"
#include "vu-front.h"

#define QSIZE 16
#define F_DEV0 (1ull << 0)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_PROTO (1ull << 30)
#define F_V1 (1ull << 32)

enum { GET_FEATURES = 1, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE, SET_LOG_BASE, SET_LOG_FD,
       SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL,
       SET_VRING_ERR, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE,
       GET_CONFIG = 24, SET_CONFIG = 25 };

/* --- the echo device, in its own thread ------------------------------------------------ */
static struct {
        int listen_fd, wake;
        TvVu *vu;
        atomic_int hold, crash, quit, give_back;
        atomic_int pops, pop_errs, connections, disconnects, ready[2], dropped;
        TvVuElem held;
        bool have_held;
} dev;

static int dev_get_config(void *ud, uint32_t off, uint8_t *buf, uint32_t len)
{
        uint8_t cfg[8] = { 0x78, 0x56, 0x34, 0x12, 2, 0, 0, 0 };

        (void)ud;
        if (off > sizeof(cfg) || len > sizeof(cfg) - off)
                return -EINVAL;
        memcpy(buf, cfg + off, len);
        return 0;
}

static void dev_queue_ready(void *ud, unsigned q, bool ready)
{
        (void)ud;
        if (q < 2)
                dev.ready[q] = ready;
        if (!ready && dev.have_held) {
                if (dev.give_back) {    /* still allowed while the ring stops */
                        tv_vu_push(dev.vu, q, &dev.held, 0);
                        tv_vu_notify(dev.vu, q);
                }
                dev.have_held = false;  /* the front end owns it again */
                dev.dropped++;
        }
}

/* Copies the readable bytes into the writable ones, pushes, notifies. */
static void dev_echo(TvVuElem *e)
{
        uint32_t n = 0;

        for (unsigned i = 0, o = 0; i < e->n_out; i++) {
                size_t off = 0;

                while (off < e->out[i].iov_len && o < e->n_in) {
                        size_t k = e->out[i].iov_len - off;

                        if (k > e->in[o].iov_len)
                                k = e->in[o].iov_len;
                        memcpy(e->in[o].iov_base, (uint8_t *)e->out[i].iov_base + off, k);
                        off += k;
                        n += (uint32_t)k;
                        o++;
                }
        }
        tv_vu_push(dev.vu, 0, e, n);
        tv_vu_notify(dev.vu, 0);
}

static void dev_queue_kick(void *ud, unsigned q)
{
        TvVuElem e;
        int r;

        (void)ud;
        if (q != 0)
                return;
        if (dev.have_held && !dev.hold) {
                dev_echo(&dev.held);    /* the held one first, in order */
                dev.have_held = false;
        }
        while ((r = tv_vu_pop(dev.vu, 0, &e)) == 1) {
                dev.pops++;
                if (dev.hold && !dev.have_held) {
                        dev.held = e;
                        dev.have_held = true;
                        continue;
                }
                dev_echo(&e);
        }
        if (r < 0)
                dev.pop_errs++;
}

static const TvVuOps dev_ops = {
        .features = F_V1 | F_DEV0 | F_INDIRECT | F_EVENT_IDX,
        .get_config = dev_get_config,
        .queue_ready = dev_queue_ready,
        .queue_kick = dev_queue_kick,
};

/* The device thread runs under a seccomp allow-list: the syscalls vhost-user.h documents
 * for the library, what malloc/stdio/thread exit need, and accept4 for this test's loop.
 * Anything else kills the test (SIGSYS), so a new syscall in the library shows up here. */
static bool confine_thread(void)
{
#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#ifdef TEST_AUDIT_ARCH
#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                /* the library's */
                ALLOW(__NR_recvmsg), ALLOW(__NR_sendto), ALLOW(__NR_sendmsg), ALLOW(__NR_read),
                ALLOW(__NR_write), ALLOW(__NR_ppoll), ALLOW(__NR_mmap), ALLOW(__NR_munmap),
                ALLOW(__NR_fstat), ALLOW(__NR_newfstatat), ALLOW(__NR_fcntl), ALLOW(__NR_close),
                ALLOW(__NR_clock_gettime),
#ifdef __NR_poll
                ALLOW(__NR_poll),
#endif
                /* malloc, stdio, thread exit; the test's accept */
                ALLOW(__NR_brk), ALLOW(__NR_madvise), ALLOW(__NR_mprotect), ALLOW(__NR_futex),
                ALLOW(__NR_rt_sigprocmask), ALLOW(__NR_rt_sigreturn), ALLOW(__NR_exit),
                ALLOW(__NR_exit_group), ALLOW(__NR_getpid), ALLOW(__NR_gettid), ALLOW(__NR_tgkill),
                ALLOW(__NR_accept4),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        };
        struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

        return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
               syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
#else
        return false;
#endif
}

static atomic_int confined;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif

/* Sanitizer runtimes and valgrind make syscalls of their own in the thread (sigaltstack...):
 * the allow-list is checked in the plain build, where CI runs the test too. */
static bool want_seccomp(void)
{
        const char *pre = getenv("LD_PRELOAD");

#ifdef SANITIZED
        return false;
#endif
        return !(pre && strstr(pre, "vgpreload")) && !getenv("TV_TEST_VU_NO_SECCOMP");
}

static void *dev_thread(void *arg)
{
        (void)arg;
        if (want_seccomp())
                confined = confine_thread() ? 1 : -1;
        while (!dev.quit) {
                struct pollfd p[16];
                unsigned n = 2;
                uint64_t v;

                p[0] = (struct pollfd){ .fd = dev.wake, .events = POLLIN };
                p[1] = (struct pollfd){ .fd = dev.listen_fd, .events = POLLIN };
                if (dev.vu)
                        n += tv_vu_poll_fds(dev.vu, p + 2, 14);
                if (poll(p, n, -1) < 0)
                        continue;
                if (p[0].revents && read(dev.wake, &v, 8) == 8 && dev.crash && dev.vu) {
                        /* a backend crash: the connection goes, nothing is answered */
                        tv_vu_free(dev.vu);
                        dev.vu = NULL;
                        dev.have_held = false;
                        dev.crash = 0;
                        dev.disconnects++;
                        continue;
                }
                if (dev.vu && n > 2 && tv_vu_dispatch(dev.vu, p + 2, n - 2) < 0) {
                        tv_vu_free(dev.vu);
                        dev.vu = NULL;
                        dev.disconnects++;
                        continue;
                }
                if (p[1].revents) {
                        int c = accept4(dev.listen_fd, NULL, NULL, SOCK_CLOEXEC);

                        if (c >= 0 && dev.vu) {
                                close(c);       /* one front end at a time */
                        } else if (c >= 0) {
                                dev.vu = tv_vu_new(c, 2, &dev_ops, NULL);
                                dev.connections++;
                        }
                }
        }
        tv_vu_free(dev.vu);
        return NULL;
}

static void dev_wake(void)
{
        uint64_t one = 1;

        if (write(dev.wake, &one, 8) != 8)
                abort();
}

/* --- helpers ------------------------------------------------------------------------------ */
static char sock_path[108];

static bool wait_for(atomic_int *v, int want, int ms)
{
        for (int i = 0; i < ms; i++) {
                if (*v == want)
                        return true;
                usleep(1000);
        }
        return *v == want;
}

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int n = 0;

        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        if (d)
                closedir(d);
        return n - 1;
}

static VuFront *connect_front(uint64_t *feat)
{
        VuFront *f = vu_front_new(2, QSIZE);
        int want;

        /* the backend serves one front end at a time: let it see the last one go */
        wait_for(&dev.disconnects, dev.connections, 2000);
        want = dev.connections + 1;

        if (!f || vu_front_connect(f, sock_path) < 0 || vu_front_negotiate(f, feat) < 0) {
                vu_front_free(f);
                return NULL;
        }
        wait_for(&dev.connections, want, 2000);
        return f;
}

static int echo(VuFront *f, const char *s, char *out, size_t cap, uint32_t *len)
{
        uint16_t head;
        int h = vu_front_submit(f, 0, s, strlen(s), 64);

        if (h < 0)
                return h;
        vu_front_kick(f, 0);
        if (vu_front_wait_used(f, 0, 3000, &head, len) != 1)
                return -ETIMEDOUT;
        if (head != h)
                return -EPROTO;
        memset(out, 0, cap);
        vu_front_read_in(f, 0, head, out, *len < cap - 1 ? *len : cap - 1);
        return 0;
}

static bool echo_ok(VuFront *f, const char *s)
{
        char out[128];
        uint32_t len = 0;

        return echo(f, s, out, sizeof(out), &len) == 0 && len == strlen(s) && !strcmp(out, s);
}

/* Whether the connection is still served: a GET_FEATURES round trip. */
static bool alive(VuFront *f)
{
        uint64_t v = 0;

        return vu_front_call(f, GET_FEATURES, NULL, 0, NULL, 0, &v) == 0 && (v & F_V1);
}

static uint64_t features_acked = F_V1 | F_DEV0 | F_PROTO;

/* A connected front end with both rings started, or NULL (a failed check). */
static VuFront *started_front(uint64_t features)
{
        VuFront *f = connect_front(NULL);

        if (!f || vu_front_start(f, features) != 0) {
                CHECK(false, "connect and start");
                vu_front_free(f);
                return NULL;
        }
        return f;
}

/* --- the tests ---------------------------------------------------------------------------- */
static void test_negotiation_and_config(void)
{
        uint64_t feat = 0;
        uint8_t cfg[8] = { 0 };
        uint8_t part[4] = { 0 };
        VuFront *f = connect_front(&feat);

        CHECK(f, "a front end connects and negotiates");
        if (!f)
                return;
        CHECK((feat & (F_V1 | F_DEV0 | F_EVENT_IDX | F_PROTO)) == (F_V1 | F_DEV0 | F_EVENT_IDX | F_PROTO),
              "GET_FEATURES offers the device's features, EVENT_IDX and PROTOCOL_FEATURES (0x%llx)",
              (unsigned long long)feat);
        CHECK(!(feat & F_INDIRECT), "indirect descriptors (not implemented) are never offered");
        CHECK(vu_front_protocol_features(f) == ((1u << 0) | (1u << 3) | (1u << 9)),
              "protocol features: MQ, REPLY_ACK, CONFIG (0x%llx)",
              (unsigned long long)vu_front_protocol_features(f));
        CHECK(vu_front_get_config(f, 0, cfg, 8) == 0 && cfg[0] == 0x78 && cfg[3] == 0x12 && cfg[4] == 2,
              "GET_CONFIG returns the device's config space");
        CHECK(vu_front_get_config(f, 4, part, 4) == 0 && part[0] == 2, "GET_CONFIG at an offset");
        CHECK(vu_front_get_config(f, 6, part, 4) == -EIO,
              "GET_CONFIG the device refuses is answered with an empty payload");
        CHECK(alive(f), "and the connection goes on");
        {
                uint64_t bad = F_INDIRECT | F_V1;

                CHECK(vu_front_call(f, SET_FEATURES, &bad, 8, NULL, 0, NULL) == -EIO,
                      "SET_FEATURES with a feature that was not offered is refused");
        }
        vu_front_free(f);
        CHECK(wait_for(&dev.disconnects, dev.connections, 2000), "the backend sees the front end go");
}

static void test_round_trips(void)
{
        VuFront *f = connect_front(NULL);
        int ok = 0, n = 0;
        uint16_t head;
        uint32_t len;

        if (!f) {
                CHECK(false, "connect");
                return;
        }
        CHECK(vu_front_start(f, features_acked) == 0, "start: SET_FEATURES, MEM_TABLE, rings, ENABLE");
        CHECK(wait_for(&dev.ready[0], 1, 2000) && wait_for(&dev.ready[1], 1, 2000),
              "both rings are reported ready");
        CHECK(echo_ok(f, "hello"), "a request chain comes back in the used ring with the echo");
        CHECK(vu_front_calls(f, 0) >= 1, "the call eventfd was signalled");
        /* more than 65536 requests: avail/used indices wrap around */
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int round = 0; round < 70000 / 4; round++) {
                int heads[4];

                for (int k = 0; k < 4; k++)
                        heads[k] = vu_front_submit(f, 0, "ab", 2, 16);
                vu_front_kick(f, 0);
                for (int k = 0; k < 4; k++, n++)
                        if (vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == heads[k] && len == 2)
                                ok++;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(ok == n, "%d of %d batched round trips completed in order across the index wrap", ok, n);
        tap_diag("%.2f us per request (batches of 4, front end and device in two threads)",
                 ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n);
        {
                /* a 3-part request into a 2-part reply (descriptors of 4096 bytes each) */
                static char big[9000];
                static char back[9000];
                int h;

                for (size_t i = 0; i < sizeof(big); i++)
                        big[i] = (char)('a' + i % 26);
                h = vu_front_submit(f, 0, big, sizeof(big), 8192);
                vu_front_kick(f, 0);
                CHECK(vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == h && len == 8192 &&
                      vu_front_read_in(f, 0, head, back, sizeof(back)) == 8192 && !memcmp(back, big, 8192),
                      "multi-descriptor chains: written length clipped to the writable space (8192)");
        }
        {
                int r = vu_front_stop(f);

                CHECK(r == 0 && vu_front_last_avail(f, 0) == (uint16_t)(1 + n + 1),
                      "GET_VRING_BASE stops the ring and returns the next avail index (%u)",
                      vu_front_last_avail(f, 0));
        }
        CHECK(wait_for(&dev.ready[0], 0, 2000), "the stopped ring is reported not ready");
        CHECK(vu_front_start(f, features_acked) == 0 && echo_ok(f, "again"),
              "restarted with SET_VRING_BASE from the saved index, requests go on");
        vu_front_free(f);
}

/* A graceful stop (QEMU: VM paused, device reset) lets the device give held buffers back. */
static void test_stop_gives_back(void)
{
        VuFront *f = started_front(features_acked);
        int pops, h;
        uint16_t head = 0xffff;
        uint32_t len = 99;

        if (!f)
                return;
        dev.hold = 1;
        dev.give_back = 1;
        pops = dev.pops;
        h = vu_front_submit(f, 0, "held", 4, 16);
        vu_front_kick(f, 0);
        CHECK(wait_for(&dev.pops, pops + 1, 2000), "the device holds a buffer");
        CHECK(vu_front_stop(f) == 0 && vu_front_wait_used(f, 0, 1000, &head, &len) == 1 && head == h && len == 0,
              "GET_VRING_BASE: in queue_ready(false) the device could still push it back");
        dev.hold = 0;
        dev.give_back = 0;
        vu_front_free(f);
}

/* QEMU sends SET_MEM_TABLE again when guest memory changes, rings running: a buffer the
 * device holds stays valid (old mapping kept), the rings move to the new mapping. */
static void test_mem_table_while_running(void)
{
        VuFront *f = started_front(features_acked);
        uint8_t mt[40];
        int fd, pops, h1, h2;
        uint32_t sz;
        uint16_t head = 0xffff;
        uint32_t len = 0;
        char out[16] = { 0 };

        if (!f)
                return;
        dev.hold = 1;
        pops = dev.pops;
        h1 = vu_front_submit(f, 0, "first", 5, 16);
        vu_front_kick(f, 0);
        CHECK(wait_for(&dev.pops, pops + 1, 2000), "the device holds a buffer");
        sz = vu_front_mem_table(f, mt, &fd);
        CHECK(vu_front_call(f, SET_MEM_TABLE, mt, sz, &fd, 1, NULL) == 0,
              "SET_MEM_TABLE while the rings run is accepted");
        dev.hold = 0;
        h2 = vu_front_submit(f, 0, "second", 6, 16);
        vu_front_kick(f, 0);
        CHECK(vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == h1 && len == 5 &&
              vu_front_read_in(f, 0, head, out, 5) == 5 && !strncmp(out, "first", 5),
              "the held buffer is answered through its old mapping");
        CHECK(vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == h2 && len == 6 &&
              vu_front_read_in(f, 0, head, out, 6) == 6 && !strncmp(out, "second", 6),
              "new requests go through the new mapping");
        vu_front_free(f);
}

/* After QEMU's rewind (last_avail := used idx) a head can appear in two avail slots: the
 * stale one and the one the guest re-added. A head already in flight is skipped, so the
 * guest never gets two used entries for one buffer. */
static void test_duplicate_head_skipped(void)
{
        VuFront *f = started_front(features_acked);
        int pops, errs, h, h2;
        uint16_t head = 0xffff;
        uint32_t len = 0;

        if (!f)
                return;
        dev.hold = 1;
        pops = dev.pops;
        errs = dev.pop_errs;
        h = vu_front_submit(f, 0, "dup", 3, 16);
        vu_front_kick(f, 0);
        CHECK(wait_for(&dev.pops, pops + 1, 2000), "the device holds head %d", h);
        vu_front_avail_add(f, 0, (uint16_t)h);
        vu_front_kick(f, 0);
        usleep(20000);
        CHECK(dev.pops == pops + 1 && dev.pop_errs == errs, "the same head in a second avail slot is skipped");
        dev.hold = 0;
        h2 = vu_front_submit(f, 0, "next", 4, 16);
        vu_front_kick(f, 0);
        CHECK(vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == h && len == 3 &&
              vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == h2 && len == 4 &&
              vu_front_wait_used(f, 0, 100, &head, &len) == 0,
              "one used entry for it, then the next request, nothing more");
        vu_front_free(f);
}

/* QEMU's VM pause/resume: GET_VRING_BASE then SET_VRING_BASE with the same index and the
 * same rings. A buffer the device held (and had to forget) is presented again first. After a
 * device reset (new rings, base 0) it is not. */
static void test_pause_resume(void)
{
        VuFront *f = started_front(features_acked);
        int pops, h, dropped;
        uint16_t head = 0xffff;
        uint32_t len = 0;
        char out[8] = { 0 };

        if (!f)
                return;
        dev.hold = 1;
        pops = dev.pops;
        dropped = dev.dropped;
        h = vu_front_submit(f, 0, "paused", 6, 16);
        vu_front_kick(f, 0);
        CHECK(wait_for(&dev.pops, pops + 1, 2000), "the device holds a buffer");
        CHECK(vu_front_stop(f) == 0 && wait_for(&dev.dropped, dropped + 1, 2000),
              "GET_VRING_BASE (pause): the device forgets it");
        dev.hold = 0;
        CHECK(vu_front_start(f, features_acked) == 0 && vu_front_wait_used(f, 0, 3000, &head, &len) == 1 &&
              head == h && len == 6 && vu_front_read_in(f, 0, head, out, 6) == 6 && !memcmp(out, "paused", 6),
              "resumed at the same index: the held buffer comes back to the device and is answered");
        CHECK(echo_ok(f, "later"), "and the ring goes on");
        /* the same, but the driver resets the device in between */
        dev.hold = 1;
        pops = dev.pops;
        vu_front_submit(f, 0, "gone", 4, 16);
        vu_front_kick(f, 0);
        CHECK(wait_for(&dev.pops, pops + 1, 2000), "the device holds another buffer");
        CHECK(vu_front_stop(f) == 0, "GET_VRING_BASE (reset)");
        dev.hold = 0;
        vu_front_reset(f);
        CHECK(vu_front_start(f, features_acked) == 0 && vu_front_wait_used(f, 0, 200, &head, &len) == 0,
              "after a reset (base 0, fresh rings) the old buffer is not presented");
        CHECK(echo_ok(f, "fresh"), "the reset ring works");
        vu_front_free(f);
}

static void test_event_idx(void)
{
        VuFront *f = connect_front(NULL);
        uint16_t head;
        uint32_t len;

        if (!f) {
                CHECK(false, "connect");
                return;
        }
        CHECK(vu_front_start(f, features_acked | F_EVENT_IDX) == 0, "start with EVENT_IDX");
        CHECK(echo_ok(f, "x") && vu_front_calls(f, 0) == 1, "the first used buffer interrupts");
        /* used_event (after the avail ring) stays 0: the driver wants no interrupt past used 1 */
        vu_front_submit(f, 0, "y", 1, 8);
        vu_front_kick(f, 0);
        CHECK(vu_front_wait_used(f, 0, 3000, &head, &len) == 1, "a second round trip");
        usleep(20000);
        CHECK(vu_front_calls(f, 0) == 0, "with used_event behind, no interrupt is sent");
        vu_front_free(f);
}

/* A hostile chain at q0: the backend refuses it (pop -EINVAL), writes no used entry; after a
 * stop, the front end repairs the slot and the restarted ring processes it. */
typedef void (*Corrupt)(VuFront *f);

static void bad_addr(VuFront *f)
{
        vu_front_set_desc(f, 0, 0, 0x1000, 16, 0, 0);
        vu_front_avail_add(f, 0, 0);
}

static void bad_len(VuFront *f)
{
        vu_front_set_desc(f, 0, 0, vu_front_buf_gpa(f, 1, QSIZE - 1), 2 * VU_FRONT_BUF_SIZE, 0, 0);
        vu_front_avail_add(f, 0, 0);
}

static void bad_loop(VuFront *f)
{
        vu_front_set_desc(f, 0, 0, vu_front_buf_gpa(f, 0, 0), 4, 1, 1);
        vu_front_set_desc(f, 0, 1, vu_front_buf_gpa(f, 0, 1), 4, 1, 0);
        vu_front_avail_add(f, 0, 0);
}

static void bad_next(VuFront *f)
{
        vu_front_set_desc(f, 0, 0, vu_front_buf_gpa(f, 0, 0), 4, 1, QSIZE);
        vu_front_avail_add(f, 0, 0);
}

static void bad_head(VuFront *f)
{
        vu_front_avail_add(f, 0, QSIZE + 3);
}

static void bad_idx(VuFront *f)
{
        vu_front_set_avail_idx(f, 0, (uint16_t)(vu_front_used_idx(f, 0) + QSIZE + 1));
}

static void bad_indirect(VuFront *f)
{
        vu_front_set_desc(f, 0, 0, vu_front_buf_gpa(f, 0, 0), 16, 4, 0);
        vu_front_avail_add(f, 0, 0);
}

static void bad_order(VuFront *f)
{
        vu_front_set_desc(f, 0, 0, vu_front_buf_gpa(f, 0, 0), 4, 2 | 1, 1);
        vu_front_set_desc(f, 0, 1, vu_front_buf_gpa(f, 0, 1), 4, 0, 0);
        vu_front_avail_add(f, 0, 0);
}

static void bad_many(VuFront *f)
{
        for (uint16_t i = 0; i < 8; i++)        /* 9 readable: one too many */
                vu_front_set_desc(f, 0, i, vu_front_buf_gpa(f, 0, i), 1, 1, (uint16_t)(i + 1));
        vu_front_set_desc(f, 0, 8 % QSIZE, vu_front_buf_gpa(f, 0, 0), 1, 0, 0);
        vu_front_avail_add(f, 0, 0);
}

static void test_descriptor_refusals(void)
{
        static const struct {
                const char *what;
                Corrupt fn;
                bool chain;     /* repairable by rewriting descriptor 0 */
        } cases[] = {
                { "a buffer address outside guest memory", bad_addr, true },
                { "a buffer running past the end of its region", bad_len, true },
                { "a descriptor loop", bad_loop, true },
                { "a next index beyond the queue", bad_next, true },
                { "an avail head beyond the queue", bad_head, false },
                { "an avail index more than a queue ahead", bad_idx, false },
                { "an indirect descriptor (not negotiated)", bad_indirect, true },
                { "a readable descriptor after a writable one", bad_order, true },
                { "more readable descriptors than an element holds", bad_many, true },
        };

        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                VuFront *f = connect_front(NULL);
                int errs = dev.pop_errs;
                uint16_t used;

                if (!f || vu_front_start(f, features_acked) != 0) {
                        CHECK(false, "connect and start for case %zu", c);
                        vu_front_free(f);
                        continue;
                }
                used = vu_front_used_idx(f, 0);
                cases[c].fn(f);
                vu_front_kick(f, 0);
                CHECK(wait_for(&dev.pop_errs, errs + 1, 2000) && vu_front_used_idx(f, 0) == used,
                      "refused: %s (no used entry)", cases[c].what);
                vu_front_kick(f, 0);
                usleep(10000);
                CHECK(dev.pop_errs == errs + 2 && vu_front_used_idx(f, 0) == used && alive(f),
                      "the queue stays stopped, the connection is kept");
                if (cases[c].chain) {
                        /* repair: descriptor 0 becomes a proper 1-byte request with a reply */
                        CHECK(vu_front_stop(f) == 0 && vu_front_last_avail(f, 0) == used,
                              "GET_VRING_BASE: the refused slot was not consumed");
                        memcpy(vu_front_buf(f, 0, 0), "R", 1);
                        vu_front_set_desc(f, 0, 0, vu_front_buf_gpa(f, 0, 0), 1, 1, 5);
                        vu_front_set_desc(f, 0, 5, vu_front_buf_gpa(f, 0, 5), 8, 2, 0);
                        {
                                uint16_t head = 99;
                                uint32_t len = 0;

                                CHECK(vu_front_start(f, features_acked) == 0 &&
                                      vu_front_wait_used(f, 0, 3000, &head, &len) == 1 && head == 0 &&
                                      len == 1 && !memcmp(vu_front_buf(f, 0, 5), "R", 1),
                                      "repaired and restarted, the slot is processed without a kick");
                        }
                }
                vu_front_free(f);
        }
}

/* Messages that must be refused; with REPLY_ACK the connection survives each. */
static void test_message_refusals(void)
{
        VuFront *f = connect_front(NULL);
        uint8_t mt[8 + 32 * 9] = { 0 };
        int memfd, small;
        uint32_t sz;

        if (!f) {
                CHECK(false, "connect");
                return;
        }
        sz = vu_front_mem_table(f, mt, &memfd);
        {
                uint32_t n = 9;
                int fds[9];

                for (int i = 0; i < 9; i++)
                        fds[i] = memfd;
                memcpy(mt, &n, 4);
                CHECK(vu_front_call(f, SET_MEM_TABLE, mt, 8 + 32 * 8, fds, 8, NULL) == -EIO,
                      "SET_MEM_TABLE: 9 regions");
                n = 1;
                memcpy(mt, &n, 4);
                CHECK(vu_front_call(f, SET_MEM_TABLE, mt, sz, NULL, 0, NULL) == -EIO, "SET_MEM_TABLE: no fd");
                CHECK(vu_front_call(f, SET_MEM_TABLE, mt, sz, fds, 2, NULL) == -EIO, "SET_MEM_TABLE: 2 fds for 1 region");
                CHECK(vu_front_call(f, SET_MEM_TABLE, mt, sz - 8, fds, 1, NULL) == -EIO, "SET_MEM_TABLE: short payload");
        }
        {
                uint64_t size;

                small = memfd_create("small", MFD_CLOEXEC);
                CHECK(small >= 0 && ftruncate(small, 4096) == 0 &&
                      vu_front_call(f, SET_MEM_TABLE, mt, sz, &small, 1, NULL) == -EIO,
                      "SET_MEM_TABLE: a region larger than its memfd (would SIGBUS)");
                close(small);
                memcpy(&size, mt + 16, 8);
                size = 0;
                memcpy(mt + 16, &size, 8);
                CHECK(vu_front_call(f, SET_MEM_TABLE, mt, sz, &memfd, 1, NULL) == -EIO, "SET_MEM_TABLE: empty region");
                size = ~0ull - 4095;
                memcpy(mt + 16, &size, 8);
                CHECK(vu_front_call(f, SET_MEM_TABLE, mt, sz, &memfd, 1, NULL) == -EIO,
                      "SET_MEM_TABLE: a region that wraps the address space");
        }
        {
                uint32_t num[2] = { 0, 3 }, num2[2] = { 2, 8 }, base[2] = { 0, 0x10000 };
                uint64_t addr[5] = { 0, 0x1001, 0, 0, 0 }, kick = 0 | (1ull << 8), kick2 = 7;
                int efd = eventfd(0, EFD_CLOEXEC);

                CHECK(vu_front_call(f, SET_VRING_NUM, num, 8, NULL, 0, NULL) == -EIO, "SET_VRING_NUM: size 3");
                CHECK(vu_front_call(f, SET_VRING_NUM, num2, 8, NULL, 0, NULL) == -EIO, "SET_VRING_NUM: queue 2 of 2");
                CHECK(vu_front_call(f, SET_VRING_BASE, base, 8, NULL, 0, NULL) == -EIO, "SET_VRING_BASE: beyond 16 bits");
                CHECK(vu_front_call(f, SET_VRING_ADDR, addr, 40, NULL, 0, NULL) == -EIO, "SET_VRING_ADDR: unaligned table");
                CHECK(vu_front_call(f, SET_VRING_KICK, &kick, 8, NULL, 0, NULL) == -EIO, "SET_VRING_KICK: no fd (polling mode)");
                CHECK(vu_front_call(f, SET_VRING_KICK, &kick2, 8, &efd, 1, NULL) == -EIO, "SET_VRING_KICK: queue 7");
                CHECK(vu_front_call(f, SET_VRING_CALL, &kick2, 8, &efd, 1, NULL) == -EIO, "SET_VRING_CALL: queue 7");
                CHECK(vu_front_call(f, SET_CONFIG, mt, 16, NULL, 0, NULL) == -EIO, "SET_CONFIG (read-only config)");
                CHECK(vu_front_call(f, 99, NULL, 0, NULL, 0, NULL) == -EIO, "an unknown request");
                close(efd);
        }
        CHECK(alive(f), "after all refusals the connection still works");
        {
                /* rings outside memory: start with a sane table, then point queue 0 elsewhere */
                uint32_t n8[2] = { 0, QSIZE };
                uint64_t out[5] = { 0, 0x10, 0x20, 0x40, 0 }, k0 = 0;
                int efd = eventfd(0, EFD_CLOEXEC);
                uint8_t good[40];
                int gfd;
                uint32_t gsz = vu_front_mem_table(f, good, &gfd);

                CHECK(vu_front_call(f, SET_MEM_TABLE, good, gsz, &gfd, 1, NULL) == 0 &&
                      vu_front_call(f, SET_VRING_NUM, n8, 8, NULL, 0, NULL) == 0 &&
                      vu_front_call(f, SET_VRING_ADDR, out, 40, NULL, 0, NULL) == 0 &&
                      vu_front_call(f, SET_VRING_KICK, &k0, 8, &efd, 1, NULL) == -EIO,
                      "a ring whose addresses are outside guest memory does not start");
                close(efd);
        }
        CHECK(alive(f), "still served");
        CHECK(vu_front_send(f, GET_FEATURES, 0x5, NULL, 0, NULL, 0) == 0 && !alive(f),
              "a message with the reply flag set closes the connection");
        vu_front_free(f);
        f = connect_front(NULL);
        if (f) {
                uint8_t junk[1000] = { 0 };

                CHECK(vu_front_send(f, SET_FEATURES, 1, junk, sizeof(junk), NULL, 0) == 0 && !alive(f),
                      "an oversized payload closes the connection");
                vu_front_free(f);
        }
        f = connect_front(NULL);
        if (f) {
                /* 6 bytes of a header, then nothing: dropped after the I/O timeout */
                uint32_t hdr = GET_FEATURES;
                uint8_t b;
                struct timespec t0, t1;
                ssize_t r;
                int disc = dev.disconnects;

                clock_gettime(CLOCK_MONOTONIC, &t0);
                r = send(vu_front_fd(f), &hdr, 4, 0) + send(vu_front_fd(f), "\1\0", 2, 0);
                CHECK(r == 6 && wait_for(&dev.disconnects, disc + 1, TV_VU_IO_TIMEOUT_MS + 2000),
                      "a front end stalling mid-message is dropped");
                clock_gettime(CLOCK_MONOTONIC, &t1);
                CHECK(recv(vu_front_fd(f), &b, 1, 0) == 0, "its socket is closed (after %ld ms)",
                      (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
                vu_front_free(f);
        }
}

/* A front end that sends requests but never reads the replies cannot hold the back end:
 * its blocked reply times out and the connection is dropped. */
static void test_unread_replies(void)
{
        VuFront *f = connect_front(NULL);
        uint32_t hdr[3] = { GET_FEATURES, 1, 0 };
        int disc = dev.disconnects, sent = 0;
        long long t0;
        struct timespec ts;

        if (!f) {
                CHECK(false, "connect");
                return;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
        /* until our own send buffer is full too (the back end stopped reading) */
        for (;;) {
                ssize_t n = send(vu_front_fd(f), hdr, sizeof(hdr), MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n == (ssize_t)sizeof(hdr)) {
                        sent++;
                        continue;
                }
                clock_gettime(CLOCK_MONOTONIC, &ts);
                if (n >= 0 || errno != EAGAIN || ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 - t0 > 10000)
                        break;
                usleep(1000);
                if (dev.disconnects != disc)
                        break;
        }
        CHECK(wait_for(&dev.disconnects, disc + 1, TV_VU_IO_TIMEOUT_MS + 3000),
              "a front end not reading its replies is dropped (after %d requests)", sent);
        vu_front_free(f);
}

static void test_reconnect(void)
{
        VuFront *f = started_front(features_acked);
        int pops, h;
        uint16_t head = 0xffff;
        uint32_t len = 0;
        char out[16] = { 0 };

        if (!f)
                return;
        CHECK(echo_ok(f, "before"), "a request before the crash");
        dev.hold = 1;
        pops = dev.pops;
        h = vu_front_submit(f, 0, "pending", 7, 32);
        vu_front_kick(f, 0);
        CHECK(wait_for(&dev.pops, pops + 1, 2000), "the backend took the request and holds it");
        dev.hold = 0;
        dev.crash = 1;
        dev_wake();
        CHECK(vu_front_wait_used(f, 0, 300, &head, &len) == 0, "it is never answered by the dying backend");
        {
                uint32_t rq, fl;
                uint8_t b[16];

                CHECK(vu_front_recv(f, &rq, &fl, b, sizeof(b)) == -ECONNRESET, "the front end sees the connection close");
        }
        /* QEMU 7.2: GET_VRING_BASE fails -> last_avail := used idx; reconnect; SET_VRING_BASE */
        vu_front_disconnect(f);
        CHECK(vu_front_last_avail(f, 0) == vu_front_used_idx(f, 0),
              "last_avail restored to the used idx (%u)", vu_front_last_avail(f, 0));
        /* nothing is left in the kick eventfd: the new backend gets no kick for it */
        CHECK(vu_front_connect(f, sock_path) == 0 && vu_front_negotiate(f, NULL) == 0 &&
              vu_front_start(f, features_acked) == 0, "the front end reconnects and restarts the rings");
        {
                int got = vu_front_wait_used(f, 0, 3000, &head, &len);
                size_t in = got == 1 ? vu_front_read_in(f, 0, head, out, 7) : 0;

                CHECK(got == 1 && head == h && len == 7 && in == 7 && !strncmp(out, "pending", 7),
                      "the pending request is presented again and answered, without a kick "
                      "(got %d head %u/%d len %u '%.7s')", got, head, h, len, out);
        }
        CHECK(echo_ok(f, "after"), "requests go on after the reconnect");
        vu_front_free(f);
}

/* tests/lib/vu-front-cli (for shell tests and the rig) drives the same device. */
static void test_cli(const char *cli)
{
        static const char script[] =
                "connect\nnegotiate\nconfig 0 8\nstart\nreq 0 68656c6c6f 16\nsubmit 0 - 4\nkick 0\n"
                "wait 0 100\nstop\nbogus\nquit\n";
        static const char *const want[] = {
                "ok", "ok features=0x160000001 protocol=0x209", "ok 7856341202000000", "ok", "ok head=",
                "ok head=", "ok", "ok head=", "ok last_avail=2,0", "err bad command",
        };
        char out[4096] = "";
        int in[2], op[2], status = -1;
        size_t got = 0;
        pid_t pid;

        wait_for(&dev.disconnects, dev.connections, 2000);
        if (pipe(in) < 0 || pipe(op) < 0) {
                CHECK(false, "pipes");
                return;
        }
        pid = fork();
        if (pid == 0) {
                dup2(in[0], 0);
                dup2(op[1], 1);
                close(in[1]);
                close(op[0]);
                execl(cli, cli, sock_path, (char *)NULL);
                _exit(127);
        }
        close(in[0]);
        close(op[1]);
        CHECK(write(in[1], script, sizeof(script) - 1) == (ssize_t)sizeof(script) - 1, "script sent to vu-front-cli");
        close(in[1]);
        for (ssize_t n; (n = read(op[0], out + got, sizeof(out) - 1 - got)) > 0;)
                got += (size_t)n;
        close(op[0]);
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "vu-front-cli exits 0");
        CHECK(strstr(out, " len=5 68656c6c6f\n") && strstr(out, " len=0 \n"),
              "req: the echo comes back as hex; wait: the empty reply of the submitted buffer");
        {
                char *save = NULL, *l = strtok_r(out, "\n", &save);
                size_t i = 0, ok = 0;

                for (; l && i < sizeof(want) / sizeof(want[0]); l = strtok_r(NULL, "\n", &save), i++) {
                        if (!strncmp(l, want[i], strlen(want[i])))
                                ok++;
                        else
                                tap_diag("vu-front-cli line %zu: '%s', want '%s...'", i + 1, l, want[i]);
                }
                CHECK(ok == sizeof(want) / sizeof(want[0]), "vu-front-cli: every command answered as expected");
        }
}

int main(int argc, char **argv)
{
        pthread_t th;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/test-vhost-user.XXXXXX";
        int fds_before;

        signal(SIGPIPE, SIG_IGN);
        if (!mkdtemp(dir))
                return 1;
        snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
        strcpy(sa.sun_path, sock_path);
        dev.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        dev.wake = eventfd(0, EFD_CLOEXEC);
        if (dev.listen_fd < 0 || bind(dev.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(dev.listen_fd, 4) < 0 || dev.wake < 0)
                return 1;
        fds_before = count_fds();
        pthread_create(&th, NULL, dev_thread, NULL);
        if (want_seccomp()) {
                wait_for(&confined, 1, 2000);
                CHECK(confined == 1, "the device thread runs under a seccomp allow-list");
        } else {
                tap_diag("sanitizer or valgrind build: the device thread is not confined");
        }

        test_negotiation_and_config();
        test_round_trips();
        test_stop_gives_back();
        test_mem_table_while_running();
        test_duplicate_head_skipped();
        test_pause_resume();
        test_event_idx();
        test_descriptor_refusals();
        test_message_refusals();
        test_unread_replies();
        test_reconnect();
        if (argc > 1)
                test_cli(argv[1]);
        else
                CHECK(false, "usage: test-vhost-user VU-FRONT-CLI");

        wait_for(&dev.disconnects, dev.connections, 2000);
        usleep(50000);
        CHECK(count_fds() == fds_before, "no fd leaked (%d before, %d after)", fds_before, count_fds());
        dev.quit = 1;
        dev_wake();
        pthread_join(th, NULL);
        close(dev.listen_fd);
        close(dev.wake);
        unlink(sock_path);
        rmdir(dir);
        return tap_finish();
}
