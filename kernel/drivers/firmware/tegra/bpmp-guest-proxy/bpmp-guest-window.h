/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Register layout of the hypervisor's BPMP bridge window and the one
 * transfer through it.
 *
 * This header only uses the MMIO accessors, get/put_unaligned(), memcpy(),
 * memset() and the mutex and raw spinlock calls, so that a user-space test
 * can run tegra_bpmp_window_xfer() and tegra_bpmp_window_xfer_locked()
 * against a simulated bridge, count its MMIO accesses and trace the locks
 * (tests/unit/test-bpmp-guest-window.c in the tegravirt tree).
 *
 * Copyright (C) 2025 tegravirt developers
 */

#ifndef __BPMP_GUEST_WINDOW_H
#define __BPMP_GUEST_WINDOW_H

/* The window as emulated by the QEMU BPMP bridge device. */
#define BPMP_WIN_TX		0x000	/* request payload */
#define BPMP_WIN_RX		0x200	/* response payload */
#define BPMP_WIN_BUF_SIZE	0x200
#define BPMP_WIN_TX_SIZE	0x400	/* u64 */
#define BPMP_WIN_RX_SIZE	0x408	/* u64: in the caller's, out the reply's */
#define BPMP_WIN_RET		0x410	/* s32: the firmware's rx.ret */
#define BPMP_WIN_MRQ		0x500	/* u32: writing it runs the transfer */
#define BPMP_WIN_SIZE		0x600

/*
 * Stored at BPMP_WIN_RET before the doorbell. No firmware or bridge
 * return code has this value, so finding it there afterwards means that
 * nothing answered the doorbell (a stale or wrong virtual-pa, or a bridge
 * that keeps the previous return code when the host refuses the request).
 */
#define BPMP_WIN_RET_UNSET	0x7eadbeef

/*
 * Copy @len bytes to the window at @dst: 8-byte stores, then a single
 * 4- or 8-byte store for the tail, zero padded. The payload is a byte
 * stream, so the raw (non byte-swapping) accessors are used for it.
 */
static inline void tegra_bpmp_window_write(void __iomem *dst, const u8 *src,
					   size_t len)
{
	u64 tail = 0;
	u32 tail32 = 0;

	for (; len >= 8; len -= 8, src += 8, dst += 8)
		__raw_writeq(get_unaligned((const u64 *)src), dst);

	if (!len)
		return;

	if (len > 4) {
		memcpy(&tail, src, len);
		__raw_writeq(tail, dst);
	} else {
		memcpy(&tail32, src, len);
		__raw_writel(tail32, dst);
	}
}

/* Copy @len bytes from the window at @src; the same access pattern. */
static inline void tegra_bpmp_window_read(u8 *dst, const void __iomem *src,
					  size_t len)
{
	u64 tail;
	u32 tail32;

	for (; len >= 8; len -= 8, src += 8, dst += 8)
		put_unaligned(__raw_readq(src), (u64 *)dst);

	if (!len)
		return;

	if (len > 4) {
		tail = __raw_readq(src);
		memcpy(dst, &tail, len);
	} else {
		tail32 = __raw_readl(src);
		memcpy(dst, &tail32, len);
	}
}

/*
 * One transfer. The caller holds the lock that serialises the window and
 * has checked both sizes against BPMP_WIN_BUF_SIZE.
 *
 * Only the bytes in use cross the window. For MRQ_PING (4 bytes each way)
 * that is 5 stores (TX, TX size, RX size, RET_UNSET, MRQ) and 3 loads
 * (RET, RX size, RX): 8 trapped accesses where copying the whole window
 * in and out, as the original guest proxy did, costs 192 + 192 8-byte
 * accesses.
 *
 * Returns 0 with the firmware's status in *@ret and min(reply size,
 * @rx_size) bytes in @rx (the rest of @rx zeroed), or -EIO when the
 * bridge did not answer or answered with an impossible size.
 */
static inline int tegra_bpmp_window_xfer(void __iomem *win, u32 mrq,
					 const void *tx, size_t tx_size,
					 void *rx, size_t rx_size, int *ret)
{
	u64 reply_size;
	s32 status;

	if (tx_size)
		tegra_bpmp_window_write(win + BPMP_WIN_TX, tx, tx_size);

	/* the bridge hands the caller's RX size on to the host as rx.size */
	writeq(tx_size, win + BPMP_WIN_TX_SIZE);
	writeq(rx_size, win + BPMP_WIN_RX_SIZE);
	writel(BPMP_WIN_RET_UNSET, win + BPMP_WIN_RET);

	/*
	 * The doorbell must be the last store. ioremap() maps the window
	 * Device-nGnRE, so the stores above reach the device in program
	 * order, and writel() adds a barrier against earlier normal-memory
	 * stores as well. Under KVM each of these accesses also traps to the
	 * VMM one at a time, and the VMM performs the whole transfer within
	 * the trapped doorbell store, so the loads below see its result.
	 */
	writel(mrq, win + BPMP_WIN_MRQ);

	status = (s32)readl(win + BPMP_WIN_RET);
	if (status == BPMP_WIN_RET_UNSET)
		return -EIO;

	reply_size = readq(win + BPMP_WIN_RX_SIZE);
	if (reply_size > BPMP_WIN_BUF_SIZE)
		return -EIO;

	if (reply_size > rx_size)
		reply_size = rx_size;

	if (reply_size)
		tegra_bpmp_window_read(rx, win + BPMP_WIN_RX, reply_size);
	if (rx_size > reply_size)
		memset((u8 *)rx + reply_size, 0, rx_size - reply_size);

	*ret = status;

	return 0;
}

/*
 * What serialises the window. A transfer traps to the VMM, which forwards
 * it to the host and may wait there up to the firmware timeout: threaded
 * callers queue on @threaded and sleep meanwhile. @window, a raw spinlock
 * because the atomic path runs with interrupts hard-disabled (also on
 * PREEMPT_RT), excludes the atomic path; only an atomic caller ever spins
 * on it, and atomic transfers are rare (interrupts-off suspend/resume).
 */
struct tegra_bpmp_window_locks {
	struct mutex threaded;	/* queues threaded transfers */
	raw_spinlock_t window;	/* held across every transfer */
};

/*
 * tegra_bpmp_window_xfer() under @locks. @atomic: called from
 * tegra_bpmp_transfer_atomic() (interrupts disabled, must not sleep).
 */
static inline int tegra_bpmp_window_xfer_locked(struct tegra_bpmp_window_locks *locks,
						bool atomic, void __iomem *win,
						u32 mrq, const void *tx,
						size_t tx_size, void *rx,
						size_t rx_size, int *ret)
{
	unsigned long flags;
	int err;

	if (!atomic)
		mutex_lock(&locks->threaded);
	raw_spin_lock_irqsave(&locks->window, flags);
	err = tegra_bpmp_window_xfer(win, mrq, tx, tx_size, rx, rx_size, ret);
	raw_spin_unlock_irqrestore(&locks->window, flags);
	if (!atomic)
		mutex_unlock(&locks->threaded);

	return err;
}

#endif
