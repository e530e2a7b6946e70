// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tegra BPMP guest proxy
 *
 * A virtual machine has no BPMP mailbox of its own. When its /bpmp node
 * carries "virtual-pa", the BPMP driver skips the mailbox, IVC and shared
 * memory set-up and hands every transfer, threaded or atomic, to this
 * proxy. The proxy runs it through a small MMIO window emulated by the
 * VMM, which forwards it synchronously to the BPMP host proxy of the host
 * kernel; that one checks it against its allow-list and runs the real
 * tegra_bpmp_transfer().
 *
 * Copyright (C) 2025 tegravirt developers
 */

#include <linux/device.h>
#include <linux/io.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>

#include <asm/unaligned.h>

#include <soc/tegra/bpmp.h>
#include <soc/tegra/bpmp-abi.h>

#include "bpmp-private.h"
#include "bpmp-guest-window.h"

struct tegra_bpmp_guest {
	void __iomem *window;
	/* One transfer at a time in the window (see the header). */
	struct tegra_bpmp_window_locks locks;
};

int tegra_bpmp_guest_init(struct tegra_bpmp *bpmp)
{
	struct tegra_bpmp_guest *guest;
	u64 pa;
	int err;

	err = of_property_read_u64(bpmp->dev->of_node, "virtual-pa", &pa);
	if (err < 0) {
		dev_err(bpmp->dev, "virtual-pa is not a 64-bit address: %d\n",
			err);
		return err;
	}

	if (!pa || !PAGE_ALIGNED(pa)) {
		dev_err(bpmp->dev,
			"virtual-pa %#llx is not a page-aligned address\n", pa);
		return -EINVAL;
	}

	guest = devm_kzalloc(bpmp->dev, sizeof(*guest), GFP_KERNEL);
	if (!guest)
		return -ENOMEM;

	mutex_init(&guest->locks.threaded);
	raw_spin_lock_init(&guest->locks.window);

	guest->window = devm_ioremap(bpmp->dev, pa, BPMP_WIN_SIZE);
	if (!guest->window) {
		dev_err(bpmp->dev, "cannot map the BPMP bridge at %#llx\n",
			pa);
		return -ENOMEM;
	}

	/*
	 * The bridge keeps what is stored in its window. Nothing, or another
	 * device, at a stale address would make every transfer fail later
	 * with no hint why, so say it here.
	 */
	writel(BPMP_WIN_RET_UNSET, guest->window + BPMP_WIN_RET);
	if (readl(guest->window + BPMP_WIN_RET) != BPMP_WIN_RET_UNSET) {
		dev_err(bpmp->dev, "no BPMP bridge at virtual-pa %#llx\n", pa);
		return -ENODEV;
	}

	bpmp->guest = guest;
	dev_info(bpmp->dev, "virtual BPMP, bridge at %#llx\n", pa);

	return 0;
}

int tegra_bpmp_guest_transfer(struct tegra_bpmp *bpmp,
			      struct tegra_bpmp_message *msg)
{
	struct tegra_bpmp_guest *guest = bpmp->guest;
	int err;

	if (msg->tx.size > BPMP_WIN_BUF_SIZE ||
	    msg->rx.size > BPMP_WIN_BUF_SIZE)
		return -EINVAL;

	/*
	 * These requests carry a physical address for the firmware to read
	 * or write. A guest physical address means nothing to the BPMP and
	 * would point it at host memory.
	 */
	if (msg->mrq == MRQ_QUERY_TAG || msg->mrq == MRQ_DEBUGFS)
		return -EOPNOTSUPP;

	/*
	 * tegra_bpmp_transfer_atomic() insists on interrupts disabled and
	 * tegra_bpmp_transfer() on enabled: that tells the two paths apart.
	 */
	err = tegra_bpmp_window_xfer_locked(&guest->locks, irqs_disabled(),
					    guest->window, msg->mrq,
					    msg->tx.data, msg->tx.size,
					    msg->rx.data, msg->rx.size,
					    &msg->rx.ret);

	if (err < 0)
		dev_err_ratelimited(bpmp->dev,
				    "MRQ %u: no valid answer from the BPMP bridge\n",
				    msg->mrq);

	return err;
}
