/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPMP guest proxy's transfer (kernel/drivers/firmware/tegra/
 * bpmp-guest-proxy/bpmp-guest-window.h, unchanged) against a simulated QEMU
 * BPMP bridge: every MMIO access is logged, so the test checks what crosses
 * the window, in which order and with which widths, and counts the accesses
 * (each one is a trap to the VMM under KVM).
 * GPL-2.0-only because it includes that header.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tv-tap.h"

typedef uint8_t u8;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
#define __iomem

/* ---- the simulated bridge: QEMU's nvidia_bpmp_guest device ---- */

enum bridge_mode { BRIDGE_OK, BRIDGE_SILENT, BRIDGE_HUGE_REPLY, BRIDGE_SHORT_REPLY, BRIDGE_LONG_REPLY };

static u8 window[0x600] __attribute__((aligned(8)));
static enum bridge_mode mode;
static int writes, reads, bad_accesses, accesses_after_doorbell_writes;
static bool doorbell_rung;
static u64 seen_tx_size, seen_rx_size;
static u32 seen_mrq;
static u8 seen_tx[0x200];
static s32 firmware_ret;

static size_t offset_of(const volatile void *addr, int width)
{
        size_t off = (size_t)((const volatile u8 *)addr - window);

        if (off + (size_t)width > sizeof(window) || off % (size_t)width)
                bad_accesses++;
        return off;
}

/* lock trace: mutex and raw spinlock state, and what was held when the doorbell rang */
struct mutex { int held; };
typedef struct { int held; } raw_spinlock_t;
static char lock_trace[64];
static bool irqs_off, doorbell_under_mutex, doorbell_under_spin, doorbell_irqs_off;

static void trace(const char *what)
{
        strncat(lock_trace, what, sizeof(lock_trace) - strlen(lock_trace) - 1);
}

static struct mutex *cur_mutex;
static raw_spinlock_t *cur_spin;

static void bridge_doorbell(u32 mrq)
{
        u64 rx_size;

        trace("D");
        doorbell_under_mutex = cur_mutex && cur_mutex->held;
        doorbell_under_spin = cur_spin && cur_spin->held;
        doorbell_irqs_off = irqs_off;

        memcpy(&seen_tx_size, window + 0x400, 8);
        memcpy(&seen_rx_size, window + 0x408, 8);
        seen_mrq = mrq;
        memcpy(seen_tx, window, sizeof(seen_tx));
        doorbell_rung = true;
        if (mode == BRIDGE_SILENT)
                return; /* the original bridge on a refused request: nothing updated */

        /* the "host": the reply is the request, each byte + 1 */
        for (size_t i = 0; i < 0x200; i++)
                window[0x200 + i] = (u8)(window[i] + 1);
        rx_size = seen_rx_size;
        if (mode == BRIDGE_HUGE_REPLY)
                rx_size = 0x201;
        else if (mode == BRIDGE_SHORT_REPLY)
                rx_size = rx_size / 2;
        else if (mode == BRIDGE_LONG_REPLY)
                rx_size = 0x200;
        memcpy(window + 0x408, &rx_size, 8);
        memcpy(window + 0x410, &firmware_ret, 4);
}

static void dev_write(const volatile void *addr, u64 v, int width)
{
        size_t off = offset_of(addr, width);

        writes++;
        if (doorbell_rung)
                accesses_after_doorbell_writes++;
        if (off == 0x500 && width == 4) {
                bridge_doorbell((u32)v);
                return;
        }
        memcpy(window + off, &v, (size_t)width); /* little-endian host */
}

static u64 dev_read(const volatile void *addr, int width)
{
        size_t off = offset_of(addr, width);
        u64 v = 0;

        reads++;
        memcpy(&v, window + off, (size_t)width);
        return v;
}

/* ---- what the header takes from the kernel ---- */

static void __raw_writeq(u64 v, volatile void *a) { dev_write(a, v, 8); }
static void __raw_writel(u32 v, volatile void *a) { dev_write(a, v, 4); }
static u64 __raw_readq(const volatile void *a) { return dev_read(a, 8); }
static u32 __raw_readl(const volatile void *a) { return (u32)dev_read(a, 4); }
#define writeq(v, a) __raw_writeq(v, a)
#define writel(v, a) __raw_writel(v, a)
#define readq(a) __raw_readq(a)
#define readl(a) __raw_readl(a)
static __attribute__((unused)) void mutex_lock(struct mutex *m) { if (irqs_off) bad_accesses++; m->held++; cur_mutex = m; trace("M"); }
static __attribute__((unused)) void mutex_unlock(struct mutex *m) { m->held--; trace("m"); }
#define raw_spin_lock_irqsave(l, f) do { (f) = irqs_off; irqs_off = true; (l)->held++; cur_spin = (l); trace("S"); } while (0)
#define raw_spin_unlock_irqrestore(l, f) do { (l)->held--; irqs_off = (f); trace("s"); } while (0)
#define get_unaligned(p) ({ __typeof__(*(p) + 0) v_; memcpy(&v_, (p), sizeof(v_)); v_; })
#define put_unaligned(v, p) do { __typeof__(*(p)) v_ = (v); memcpy((p), &v_, sizeof(v_)); } while (0)

#include "bpmp-guest-window.h"

/* ---- tests ---- */

struct result {
        int err, ret, writes, reads;
};

static struct result xfer(u32 mrq, const void *tx, size_t tx_size, void *rx, size_t rx_size)
{
        struct result r = { .ret = 12345 };

        writes = reads = 0;
        doorbell_rung = false;
        accesses_after_doorbell_writes = 0;
        r.err = tegra_bpmp_window_xfer(window, mrq, tx, tx_size, rx, rx_size, &r.ret);
        r.writes = writes;
        r.reads = reads;
        return r;
}

static void test_ping(void)
{
        u32 challenge = 1, reply = 0;
        struct result r;
        char what[128];

        mode = BRIDGE_OK;
        firmware_ret = 0;
        r = xfer(0 /* MRQ_PING */, &challenge, 4, &reply, 4);
        CHECK(r.err == 0 && r.ret == 0, "MRQ_PING: transport 0, firmware 0");
        CHECK(seen_mrq == 0 && seen_tx_size == 4 && seen_rx_size == 4, "MRQ_PING: the bridge saw mrq 0, tx.size 4, rx.size 4");
        CHECK(reply == 0x01010102u, "MRQ_PING: the reply came back");
        snprintf(what, sizeof(what), "MRQ_PING: %d stores + %d loads = %d MMIO accesses (whole-window copy: 192 + 192 = 384)",
                 r.writes, r.reads, r.writes + r.reads);
        CHECK(r.writes == 5 && r.reads == 3, "%s", what);
        CHECK(accesses_after_doorbell_writes == 0, "MRQ_PING: the doorbell is the last store");
}

static void test_sizes(void)
{
        u8 txbuf[121], rxbuf[122];
        u8 *tx = txbuf + 1, *rx = rxbuf + 1; /* odd addresses */
        struct result r;
        bool ok = true;

        for (size_t i = 0; i < sizeof(txbuf); i++)
                txbuf[i] = (u8)(i * 7 + 3);
        mode = BRIDGE_OK;
        for (size_t ts = 0; ts <= 120; ts++) {
                size_t rs = (ts * 5 + 3) % 121;
                int want_writes = (int)((ts + 7) / 8) + 4;
                int want_reads = (int)((rs + 7) / 8) + 2;

                memset(window, 0xee, sizeof(window));
                memset(rxbuf, 0xaa, sizeof(rxbuf));
                firmware_ret = -(int)ts;
                r = xfer(22, tx, ts, rx, rs);
                if (r.err || r.ret != -(int)ts || seen_tx_size != ts || seen_rx_size != rs ||
                    memcmp(seen_tx, tx, ts) || r.writes != want_writes || r.reads != want_reads ||
                    accesses_after_doorbell_writes) {
                        printf("# tx %zu rx %zu: err %d ret %d writes %d/%d reads %d/%d\n", ts, rs, r.err, r.ret,
                               r.writes, want_writes, r.reads, want_reads);
                        ok = false;
                }
                /* the reply is each window TX byte + 1; past tx.size the window held 0xee or padding */
                for (size_t i = 0; i < rs && i < ts; i++)
                        if (rx[i] != (u8)(tx[i] + 1))
                                ok = false;
                if (rxbuf[0] != 0xaa || rx[rs] != 0xaa)
                        ok = false; /* wrote outside the caller's buffer */
                /* the tail store pads at most to the next 8 bytes of the TX area */
                for (size_t i = (ts + 7) / 8 * 8; i < 0x200; i++)
                        if (window[i] != 0xee)
                                ok = false;
        }
        CHECK(ok, "every TX/RX size 0..120, odd buffer addresses: data, sizes, ceil(n/8) accesses, nothing outside");
        CHECK(bad_accesses == 0, "every access is 4 or 8 bytes, aligned, inside the 0x600 window");
}

static void test_bad_bridges(void)
{
        u8 tx[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, rx[16];
        struct result r;
        bool zeroed = true;

        mode = BRIDGE_SILENT;
        memset(window, 0, sizeof(window));
        r = xfer(20, tx, 8, rx, 8);
        CHECK(r.err == -EIO && r.ret == 12345, "a bridge that does not answer: -EIO, rx.ret untouched");
        mode = BRIDGE_OK;
        r = xfer(20, tx, 8, rx, 8);
        CHECK(r.err == 0, "the next transfer through a working bridge succeeds");
        /* the original bridge keeps the previous return code on a refused request */
        mode = BRIDGE_SILENT;
        r = xfer(20, tx, 8, rx, 8);
        CHECK(r.err == -EIO, "a stale return code from the previous transfer is not taken for an answer");

        mode = BRIDGE_HUGE_REPLY;
        r = xfer(20, tx, 8, rx, 8);
        CHECK(r.err == -EIO, "a reply size over 512 bytes: -EIO");

        mode = BRIDGE_SHORT_REPLY;
        memset(rx, 0x55, sizeof(rx));
        firmware_ret = 0;
        r = xfer(20, tx, 8, rx, 16);
        for (size_t i = 8; i < 16; i++)
                if (rx[i])
                        zeroed = false;
        CHECK(r.err == 0 && rx[0] == 2 && rx[7] == 9 && zeroed, "a shorter reply: its bytes, the rest of rx zeroed");

        mode = BRIDGE_LONG_REPLY;
        memset(rx, 0x55, sizeof(rx));
        r = xfer(20, tx, 8, rx, 4);
        CHECK(r.err == 0 && rx[3] == 5 && rx[4] == 0x55 && r.reads == 3,
              "a reply longer than the caller's buffer is clamped to it");
}

/*
 * The threaded path queues on a mutex (other threaded callers sleep while one waits
 * for the host); the atomic path (interrupts off) never touches the mutex. Both hold
 * the raw spinlock that excludes each other around the doorbell.
 */
static void test_locks(void)
{
        struct tegra_bpmp_window_locks locks = { { 0 }, { 0 } };
        u8 tx[4] = { 1, 2, 3, 4 }, rx[4];
        int ret, err;

        mode = BRIDGE_OK;
        lock_trace[0] = 0;
        cur_mutex = NULL;
        cur_spin = NULL;
        irqs_off = false;
        doorbell_rung = false;
        err = tegra_bpmp_window_xfer_locked(&locks, false, window, 0, tx, 4, rx, 4, &ret);
        CHECK(err == 0 && !strcmp(lock_trace, "MSDsm"), "threaded: mutex, then the spinlock, doorbell, released in order (%s)",
              lock_trace);
        CHECK(doorbell_under_mutex && doorbell_under_spin, "threaded: the doorbell rings under both locks");
        CHECK(!locks.threaded.held && !locks.window.held && !irqs_off, "threaded: both released, interrupts back on");

        lock_trace[0] = 0;
        cur_mutex = NULL;
        irqs_off = true; /* tegra_bpmp_transfer_atomic() */
        doorbell_rung = false;
        err = tegra_bpmp_window_xfer_locked(&locks, true, window, 0, tx, 4, rx, 4, &ret);
        CHECK(err == 0 && !strcmp(lock_trace, "SDs"), "atomic: the spinlock only, never the mutex (%s)", lock_trace);
        CHECK(!doorbell_under_mutex && doorbell_under_spin && doorbell_irqs_off,
              "atomic: the doorbell rings under the spinlock with interrupts off");
        CHECK(irqs_off && !locks.window.held, "atomic: interrupts stay off for the caller, spinlock released");
        irqs_off = false;
        /* the shims remember the locks they saw: they live on this stack frame */
        cur_mutex = NULL;
        cur_spin = NULL;
}

int main(void)
{
        test_locks();
        test_ping();
        test_sizes();
        test_bad_bridges();
        return tap_finish();
}
