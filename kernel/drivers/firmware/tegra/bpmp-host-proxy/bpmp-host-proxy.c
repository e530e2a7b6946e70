// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tegra BPMP host proxy: lets a VMM forward its guests' BPMP transfers
 * (clocks, resets, power domains of passed-through devices) through
 * /dev/bpmp-host, checked against a deny-by-default policy whose ceiling
 * comes from the device tree and which user space may narrow at run time.
 *
 * Each open file is a capability: it starts with the device-tree ceiling,
 * can only narrow its own sets (TEGRA_BPMP_HOST_IOC_RESTRICT), and what it
 * enabled, asserted or powered on is undone when it is released, or when
 * the proxy is unbound while it is open. The global active set (sysfs
 * active_*) bounds every file.
 *
 * The ioctl ABI and the sysfs interface are documented in
 * include/uapi/linux/tegra-bpmp-host-proxy.h and Documentation/ABI/.
 */

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include <dt-bindings/clock/tegra234-clock.h>
#include <soc/tegra/bpmp.h>
#include <soc/tegra/bpmp-abi.h>

/* Found next to this directory both in our tree and in a kernel tree. */
#include "../../../../include/uapi/linux/tegra-bpmp-host-proxy.h"

#include "bpmp-host-policy.h"

/* The policy's copies of the ABI numbers must match the ABI headers. */
static_assert(sizeof(struct tegra_bpmp_host_version) == 32);
static_assert(sizeof(struct tegra_bpmp_host_xfer) == 272);
static_assert(offsetof(struct tegra_bpmp_host_xfer, tx) == 32);
static_assert(offsetof(struct tegra_bpmp_host_xfer, rx) == 152);
static_assert(sizeof(struct tegra_bpmp_host_ids) == 1040);
static_assert(offsetof(struct tegra_bpmp_host_ids, ids) == 16);
static_assert(BPMP_POLICY_MAX_DATA == MSG_DATA_MIN_SZ);
static_assert(BPMP_POLICY_MAX_DATA == TEGRA_BPMP_HOST_MAX_DATA);
static_assert(BPMP_POLICY_MAX_IDS == TEGRA_BPMP_HOST_MAX_IDS);
static_assert(BPMP_POLICY_CLOCKS == TEGRA_BPMP_HOST_CLOCKS);
static_assert(BPMP_POLICY_RESETS == TEGRA_BPMP_HOST_RESETS);
static_assert(BPMP_POLICY_POWER_DOMAINS == TEGRA_BPMP_HOST_POWER_DOMAINS);
static_assert(BPMP_POLICY_PARENT_CLOCKS == TEGRA_BPMP_HOST_PARENT_CLOCKS);
static_assert(BPMP_POLICY_NR_KINDS == TEGRA_BPMP_HOST_NR_KINDS);
static_assert(BPMP_POLICY_MAX_DATA <= 512);	/* the VMM's windows */

static_assert(BPMP_POLICY_MRQ_PING == MRQ_PING);
static_assert(BPMP_POLICY_MRQ_QUERY_TAG == MRQ_QUERY_TAG);
static_assert(BPMP_POLICY_MRQ_THREADED_PING == MRQ_THREADED_PING);
static_assert(BPMP_POLICY_MRQ_DEBUGFS == MRQ_DEBUGFS);
static_assert(BPMP_POLICY_MRQ_RESET == MRQ_RESET);
static_assert(BPMP_POLICY_MRQ_I2C == MRQ_I2C);
static_assert(BPMP_POLICY_MRQ_CLK == MRQ_CLK);
static_assert(BPMP_POLICY_MRQ_QUERY_ABI == MRQ_QUERY_ABI);
static_assert(BPMP_POLICY_MRQ_THERMAL == MRQ_THERMAL);
static_assert(BPMP_POLICY_MRQ_EMC_DVFS_LATENCY == MRQ_EMC_DVFS_LATENCY);
static_assert(BPMP_POLICY_MRQ_PG == MRQ_PG);
static_assert(BPMP_POLICY_MRQ_STRAP == MRQ_STRAP);
static_assert(BPMP_POLICY_MRQ_UPHY == MRQ_UPHY);
static_assert(BPMP_POLICY_MRQ_QUERY_FW_TAG == MRQ_QUERY_FW_TAG);
static_assert(BPMP_POLICY_MRQ_DEBUG == MRQ_DEBUG);
#ifdef MRQ_EMC_DVFS_EMCHUB
static_assert(BPMP_POLICY_MRQ_EMC_DVFS_EMCHUB == MRQ_EMC_DVFS_EMCHUB);
#endif
#ifdef MRQ_BWMGR
static_assert(BPMP_POLICY_MRQ_BWMGR == MRQ_BWMGR);
#endif
#ifdef MRQ_ISO_CLIENT
static_assert(BPMP_POLICY_MRQ_ISO_CLIENT == MRQ_ISO_CLIENT);
#endif

static_assert(BPMP_POLICY_CLK_GET_RATE == CMD_CLK_GET_RATE);
static_assert(BPMP_POLICY_CLK_SET_RATE == CMD_CLK_SET_RATE);
static_assert(BPMP_POLICY_CLK_ROUND_RATE == CMD_CLK_ROUND_RATE);
static_assert(BPMP_POLICY_CLK_GET_PARENT == CMD_CLK_GET_PARENT);
static_assert(BPMP_POLICY_CLK_SET_PARENT == CMD_CLK_SET_PARENT);
static_assert(BPMP_POLICY_CLK_IS_ENABLED == CMD_CLK_IS_ENABLED);
static_assert(BPMP_POLICY_CLK_ENABLE == CMD_CLK_ENABLE);
static_assert(BPMP_POLICY_CLK_DISABLE == CMD_CLK_DISABLE);
static_assert(BPMP_POLICY_CLK_GET_ALL_INFO == CMD_CLK_GET_ALL_INFO);
static_assert(BPMP_POLICY_CLK_GET_MAX_CLK_ID == CMD_CLK_GET_MAX_CLK_ID);
static_assert(BPMP_POLICY_CLK_GET_FMAX_AT_VMIN == CMD_CLK_GET_FMAX_AT_VMIN);
/* Every command this ABI knows is decided explicitly by the policy. */
static_assert(BPMP_POLICY_CLK_CMD_END == CMD_CLK_MAX);

static_assert(BPMP_POLICY_RESET_ASSERT == CMD_RESET_ASSERT);
static_assert(BPMP_POLICY_RESET_DEASSERT == CMD_RESET_DEASSERT);
static_assert(BPMP_POLICY_RESET_MODULE == CMD_RESET_MODULE);
static_assert(BPMP_POLICY_RESET_GET_MAX_ID == CMD_RESET_GET_MAX_ID);
static_assert(BPMP_POLICY_RESET_CMD_END == CMD_RESET_MAX);
static_assert(sizeof(struct mrq_reset_request) == 2 * sizeof(u32));

static_assert(BPMP_POLICY_PG_QUERY_ABI == CMD_PG_QUERY_ABI);
static_assert(BPMP_POLICY_PG_SET_STATE == CMD_PG_SET_STATE);
static_assert(BPMP_POLICY_PG_GET_STATE == CMD_PG_GET_STATE);
static_assert(BPMP_POLICY_PG_GET_NAME == CMD_PG_GET_NAME);
static_assert(BPMP_POLICY_PG_GET_MAX_ID == CMD_PG_GET_MAX_ID);
static_assert(offsetof(struct mrq_pg_request, id) == sizeof(u32));
static_assert(BPMP_POLICY_PG_STATE_OFF == PG_STATE_OFF);
static_assert(BPMP_POLICY_PG_STATE_ON == PG_STATE_ON);
static_assert(BPMP_POLICY_PG_STATE_RUNNING == PG_STATE_RUNNING);

static_assert(BPMP_POLICY_CLK_PLLP_OUT0 == TEGRA234_CLK_PLLP_OUT0);
#ifdef TEGRA234_CLK_CLK_M
static_assert(BPMP_POLICY_CLK_CLK_M == TEGRA234_CLK_CLK_M);
#endif
#ifdef TEGRA234_CLK_OSC
static_assert(BPMP_POLICY_CLK_OSC == TEGRA234_CLK_OSC);
#endif
#ifdef TEGRA234_CLK_UTMIP_PLL
static_assert(BPMP_POLICY_CLK_UTMIP_PLL == TEGRA234_CLK_UTMIP_PLL);
#endif
#ifdef TEGRA234_CLK_PLLREFE_VCOOUT
static_assert(BPMP_POLICY_CLK_PLLREFE_VCOOUT == TEGRA234_CLK_PLLREFE_VCOOUT);
#endif
#ifdef TEGRA234_CLK_UTMIPLL_CLKOUT480
static_assert(BPMP_POLICY_CLK_UTMIPLL_CLKOUT480 ==
	      TEGRA234_CLK_UTMIPLL_CLKOUT480);
#endif
#ifdef TEGRA234_CLK_PLLREFE_VCOOUT_GATED
static_assert(BPMP_POLICY_CLK_PLLREFE_VCOOUT_GATED ==
	      TEGRA234_CLK_PLLREFE_VCOOUT_GATED);
#endif

enum bpmp_host_kind {
	BPMP_HOST_CLOCKS,
	BPMP_HOST_RESETS,
	BPMP_HOST_POWER_DOMAINS,
	BPMP_HOST_PARENT_CLOCKS,
	BPMP_HOST_NR_KINDS,
};

static_assert(BPMP_HOST_CLOCKS == BPMP_POLICY_CLOCKS);
static_assert(BPMP_HOST_RESETS == BPMP_POLICY_RESETS);
static_assert(BPMP_HOST_POWER_DOMAINS == BPMP_POLICY_POWER_DOMAINS);
static_assert(BPMP_HOST_PARENT_CLOCKS == BPMP_POLICY_PARENT_CLOCKS);
static_assert(BPMP_HOST_NR_KINDS == BPMP_POLICY_NR_KINDS);

/* Per open file; 0 disables the limit. Read at each transfer. */
static unsigned int rate_limit = 2000;
module_param(rate_limit, uint, 0644);
MODULE_PARM_DESC(rate_limit,
		 "BPMP transfers per second per open /dev/bpmp-host (0: no limit)");

static unsigned int rate_burst = 4096;
module_param(rate_burst, uint, 0644);
MODULE_PARM_DESC(rate_burst,
		 "Transfers an open /dev/bpmp-host may send at once (0: no limit)");

static const char * const bpmp_host_dt_props[BPMP_HOST_NR_KINDS] = {
	[BPMP_HOST_CLOCKS] = "allowed-clocks",
	[BPMP_HOST_RESETS] = "allowed-resets",
	[BPMP_HOST_POWER_DOMAINS] = "allowed-power-domains",
	[BPMP_HOST_PARENT_CLOCKS] = "allowed-parent-clocks",
};

struct bpmp_host_proxy {
	struct device *dev;
	struct miscdevice misc;
	/* One reference for the bound device, one per open file. */
	struct kref ref;

	/*
	 * Held for reading around transfers (and around a release's whole
	 * undo); unbinding takes it to write.
	 */
	struct rw_semaphore unbind_lock;
	struct tegra_bpmp *bpmp;
	bool gone;

	/*
	 * The open files, so that unbinding undoes their marks. Lock order:
	 * files_lock, then a file's lock, then unbind_lock.
	 */
	struct mutex files_lock;
	struct list_head files;

	/* Serializes writers of @active. */
	struct mutex update_lock;
	/*
	 * Held for reading from the check of a transfer against @active to
	 * its end, so that a writer waits (synchronize_srcu()) until no
	 * transfer checked against the old sets still runs.
	 */
	struct srcu_struct srcu;
	/* The global active sets; replaced as a whole, never in place. */
	struct bpmp_policy_sets __rcu *active;

	/* The DT ceiling, fixed after probe. */
	unsigned int n_ceiling[BPMP_HOST_NR_KINDS];
	u32 ceiling[BPMP_HOST_NR_KINDS][BPMP_POLICY_MAX_IDS];
};

/* One open /dev/bpmp-host. */
struct bpmp_host_file {
	struct bpmp_host_proxy *proxy;
	/* In proxy->files, under proxy->files_lock, until released. */
	struct list_head node;
	/* Serializes the ioctls of this file (RESTRICT with transfers). */
	struct mutex lock;
	/* What this file may do; starts as the DT ceiling, only narrows. */
	struct bpmp_policy_sets sets;
	/*
	 * What it enabled, asserted or powered on: undone at release, or at
	 * unbind if that comes first.
	 */
	struct bpmp_policy_marks marks;
	struct bpmp_policy_bucket bucket;
};

static void bpmp_host_release(struct kref *ref)
{
	struct bpmp_host_proxy *proxy =
		container_of(ref, struct bpmp_host_proxy, ref);

	/* No reader left: no open file, sysfs attributes removed. */
	WARN_ON(!list_empty(&proxy->files));
	kfree(rcu_dereference_protected(proxy->active, true));
	cleanup_srcu_struct(&proxy->srcu);
	mutex_destroy(&proxy->files_lock);
	mutex_destroy(&proxy->update_lock);
	put_device(proxy->dev);
	kfree(proxy);
}

static void bpmp_host_log_refusal(struct bpmp_host_proxy *proxy, int err,
				  const char *set, u32 mrq,
				  const struct bpmp_policy_verdict *v)
{
	const char *what = err == -EPERM ? "denied" : "malformed";

	if (v->has_cmd)
		dev_warn_ratelimited(proxy->dev,
				     "%s by the %s set: MRQ %u command %u ID %u: %s\n",
				     what, set, mrq, v->cmd, v->id, v->reason);
	else
		dev_warn_ratelimited(proxy->dev, "%s by the %s set: MRQ %u: %s\n",
				     what, set, mrq, v->reason);
}

/* One BPMP transfer, unless the proxy is unbinding (then -ENODEV). */
static int bpmp_host_transfer(struct bpmp_host_proxy *proxy,
			      struct tegra_bpmp_message *msg)
{
	int err;

	/* Unbinding waits for this; later transfers see @gone. */
	down_read(&proxy->unbind_lock);
	if (proxy->gone)
		err = -ENODEV;
	else
		err = tegra_bpmp_transfer(proxy->bpmp, msg);
	up_read(&proxy->unbind_lock);

	return err;
}

static bool bpmp_host_gone(struct bpmp_host_proxy *proxy)
{
	bool gone;

	down_read(&proxy->unbind_lock);
	gone = proxy->gone;
	up_read(&proxy->unbind_lock);

	return gone;
}

/*
 * Check @x against the global active sets and the file's own sets, and
 * send it. SRCU is held from the check to the end of the transfer: a
 * narrowing of the active sets returns only once this is over.
 */
static int bpmp_host_checked_transfer(struct bpmp_host_file *f,
				      struct tegra_bpmp_host_xfer *x,
				      struct tegra_bpmp_message *msg)
{
	struct bpmp_host_proxy *proxy = f->proxy;
	struct bpmp_policy_verdict verdict, own_verdict;
	const struct bpmp_policy_sets *active;
	struct bpmp_policy global, own;
	int err, idx;

	idx = srcu_read_lock(&proxy->srcu);
	active = srcu_dereference(proxy->active, &proxy->srcu);
	bpmp_policy_of_sets(active, &global);
	err = bpmp_policy_check(&global, x->mrq, x->tx, x->tx_size, &verdict);
	if (err) {
		bpmp_host_log_refusal(proxy, err, "global", x->mrq, &verdict);
		goto unlock;
	}

	bpmp_policy_of_sets(&f->sets, &own);
	err = bpmp_policy_check(&own, x->mrq, x->tx, x->tx_size, &own_verdict);
	if (err) {
		bpmp_host_log_refusal(proxy, err, "file's", x->mrq,
				      &own_verdict);
		goto unlock;
	}

	/*
	 * The kernel's copy of rx[] is the bounce buffer: zero, so that no
	 * byte past the reply leaves. The BPMP copies rx.size bytes of its
	 * frame: no more than the reply of this MRQ/command.
	 */
	memset(x->rx, 0, sizeof(x->rx));
	memset(msg, 0, sizeof(*msg));
	msg->mrq = x->mrq;
	msg->tx.data = x->tx;
	msg->tx.size = x->tx_size;
	msg->rx.data = x->rx;
	msg->rx.size = min3(x->rx_size, verdict.rx_size, own_verdict.rx_size);

	err = bpmp_host_transfer(proxy, msg);
unlock:
	srcu_read_unlock(&proxy->srcu, idx);

	return err;
}

static int bpmp_host_ioctl_xfer(struct bpmp_host_file *f,
				struct tegra_bpmp_host_xfer __user *arg)
{
	struct bpmp_host_proxy *proxy = f->proxy;
	struct bpmp_policy_effect effect;
	struct tegra_bpmp_host_xfer x;
	struct tegra_bpmp_message msg;
	struct bpmp_policy own;
	int err;

	/* One copy: the policy checks exactly what is sent. */
	if (copy_from_user(&x, arg, sizeof(x)))
		return -EFAULT;
	if (x.flags || x.reserved0 || x.reserved1)
		return -EINVAL;
	if (x.tx_size > sizeof(x.tx) || x.rx_size > sizeof(x.rx))
		return -EINVAL;

	mutex_lock(&f->lock);
	if (!bpmp_policy_bucket_take(&f->bucket, ktime_get_ns(),
				     READ_ONCE(rate_limit),
				     READ_ONCE(rate_burst))) {
		dev_warn_ratelimited(proxy->dev,
				     "%s[%d]: over %u transfers/s (burst %u): EAGAIN\n",
				     current->comm, task_pid_nr(current),
				     READ_ONCE(rate_limit), READ_ONCE(rate_burst));
		err = -EAGAIN;
		goto unlock;
	}

	err = bpmp_host_checked_transfer(f, &x, &msg);
	if (err)
		goto unlock;

	/* The BPMP driver never grows the reply; do not trust that. */
	if (msg.rx.size > x.rx_size) {
		err = -EIO;
		goto unlock;
	}

	/* What the firmware did on this file's behalf: undone at release. */
	if (msg.rx.ret == 0) {
		bpmp_policy_of_sets(&f->sets, &own);
		bpmp_policy_effect(&own, x.mrq, x.tx, x.tx_size, &effect);
		if (bpmp_policy_marks_apply(&f->marks, &effect))
			dev_warn(proxy->dev, "cannot account kind %u ID %u\n",
				 effect.kind, effect.id);
	}

	x.rx_size = msg.rx.size;
	x.ret = msg.rx.ret;
	if (copy_to_user(arg, &x, sizeof(x)))
		err = -EFAULT;
unlock:
	mutex_unlock(&f->lock);

	return err;
}

static int bpmp_host_ioctl_restrict(struct bpmp_host_file *f,
				    struct tegra_bpmp_host_ids __user *arg)
{
	struct tegra_bpmp_host_ids *req;
	int err;

	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);

	if (req->flags || req->reserved || req->kind >= BPMP_HOST_NR_KINDS ||
	    req->count > TEGRA_BPMP_HOST_MAX_IDS) {
		err = -EINVAL;
		goto out;
	}

	mutex_lock(&f->lock);
	err = bpmp_policy_narrow(f->sets.ids[req->kind], f->sets.n[req->kind],
				 req->ids, req->count, f->sets.ids[req->kind],
				 &f->sets.n[req->kind]);
	mutex_unlock(&f->lock);
out:
	kfree(req);

	return err;
}

static int bpmp_host_ioctl_get_ids(struct bpmp_host_file *f,
				   struct tegra_bpmp_host_ids __user *arg)
{
	struct tegra_bpmp_host_ids *ids;
	u32 kind, flags, reserved;
	int err = 0;

	if (get_user(kind, &arg->kind) || get_user(flags, &arg->flags) ||
	    get_user(reserved, &arg->reserved))
		return -EFAULT;
	if (flags || reserved || kind >= BPMP_HOST_NR_KINDS)
		return -EINVAL;

	ids = kzalloc(sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;

	ids->kind = kind;
	mutex_lock(&f->lock);
	ids->count = f->sets.n[kind];
	memcpy(ids->ids, f->sets.ids[kind], ids->count * sizeof(ids->ids[0]));
	mutex_unlock(&f->lock);

	if (copy_to_user(arg, ids, sizeof(*ids)))
		err = -EFAULT;
	kfree(ids);

	return err;
}

static int bpmp_host_ioctl_version(struct tegra_bpmp_host_version __user *arg)
{
	struct tegra_bpmp_host_version v = {
		.version = TEGRA_BPMP_HOST_ABI_VERSION,
		.max_data = TEGRA_BPMP_HOST_MAX_DATA,
		.max_ids = TEGRA_BPMP_HOST_MAX_IDS,
		.nr_kinds = TEGRA_BPMP_HOST_NR_KINDS,
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long bpmp_host_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct bpmp_host_file *f = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case TEGRA_BPMP_HOST_IOC_VERSION:
	case TEGRA_BPMP_HOST_IOC_XFER:
	case TEGRA_BPMP_HOST_IOC_RESTRICT:
	case TEGRA_BPMP_HOST_IOC_GET_IDS:
		break;
	default:
		return -ENOTTY;
	}

	/* XFER checks again when it sends: unbinding may start meanwhile. */
	if (bpmp_host_gone(f->proxy))
		return -ENODEV;

	switch (cmd) {
	case TEGRA_BPMP_HOST_IOC_VERSION:
		return bpmp_host_ioctl_version(argp);
	case TEGRA_BPMP_HOST_IOC_XFER:
		return bpmp_host_ioctl_xfer(f, argp);
	case TEGRA_BPMP_HOST_IOC_RESTRICT:
		return bpmp_host_ioctl_restrict(f, argp);
	default:
		return bpmp_host_ioctl_get_ids(f, argp);
	}
}

/*
 * The write() ABI of the first version (a message with user pointers) is
 * gone: fail it explicitly rather than leave the VFS default, so that an
 * old VMM gets a clear EINVAL.
 */
static ssize_t bpmp_host_write(struct file *file, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	return -EINVAL;
}

static ssize_t bpmp_host_read(struct file *file, char __user *buf,
			      size_t len, loff_t *ppos)
{
	return 0;
}

static int bpmp_host_open(struct inode *inode, struct file *file)
{
	/* misc_open() holds misc_mtx: the device cannot be deregistered. */
	struct bpmp_host_proxy *proxy =
		container_of(file->private_data, struct bpmp_host_proxy, misc);
	struct bpmp_host_file *f;
	unsigned int kind;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;

	mutex_init(&f->lock);
	/* A fresh file may do what the ceiling allows; it only narrows. */
	for (kind = 0; kind < BPMP_HOST_NR_KINDS; kind++) {
		f->sets.n[kind] = proxy->n_ceiling[kind];
		memcpy(f->sets.ids[kind], proxy->ceiling[kind],
		       proxy->n_ceiling[kind] * sizeof(u32));
	}

	kref_get(&proxy->ref);
	f->proxy = proxy;
	mutex_lock(&proxy->files_lock);
	list_add_tail(&f->node, &proxy->files);
	mutex_unlock(&proxy->files_lock);
	file->private_data = f;

	return stream_open(inode, file);
}

/*
 * Undo what the file enabled, asserted or powered on: clocks, then
 * resets, then power domains, and empty its marks. The active sets are
 * not consulted (they may be narrowed already); a failure is logged and
 * the rest still sent. The caller keeps proxy->bpmp valid: it holds
 * unbind_lock for reading and saw !gone (release), or it is unbinding
 * and has not dropped the reference yet. Returns the number of marks.
 */
static unsigned int bpmp_host_undo_marks(struct bpmp_host_file *f,
					 const char *when)
{
	struct bpmp_host_proxy *proxy = f->proxy;
	struct tegra_bpmp_message msg;
	u8 tx[BPMP_POLICY_UNDO_MAX];
	unsigned int kind, n = 0;
	size_t size;
	u32 id, mrq;
	int err;

	while (bpmp_policy_marks_pop(&f->marks, &kind, &id)) {
		n++;
		size = bpmp_policy_undo_request(kind, id, &mrq, tx);
		if (!size)
			continue;

		memset(&msg, 0, sizeof(msg));
		msg.mrq = mrq;
		msg.tx.data = tx;
		msg.tx.size = size;
		err = tegra_bpmp_transfer(proxy->bpmp, &msg);
		if (err || msg.rx.ret)
			dev_warn_ratelimited(proxy->dev,
					     "%s: cannot undo kind %u ID %u (MRQ %u): error %d, firmware %d\n",
					     when, kind, id, mrq, err, msg.rx.ret);
	}

	return n;
}

static int bpmp_host_release_file(struct inode *inode, struct file *file)
{
	struct bpmp_host_file *f = file->private_data;
	struct bpmp_host_proxy *proxy = f->proxy;

	/*
	 * The last reference to @file: no ioctl of it runs. Unbinding waits
	 * for this undo; once it has begun, it undoes the marks itself
	 * (this file is still listed) and this sends nothing.
	 */
	down_read(&proxy->unbind_lock);
	if (!proxy->gone)
		bpmp_host_undo_marks(f, "release");
	up_read(&proxy->unbind_lock);

	/* Waits for an unbinding that is undoing this file's marks. */
	mutex_lock(&proxy->files_lock);
	list_del(&f->node);
	mutex_unlock(&proxy->files_lock);

	mutex_destroy(&f->lock);
	kfree(f);
	kref_put(&proxy->ref, bpmp_host_release);

	return 0;
}

static const struct file_operations bpmp_host_fops = {
	.owner = THIS_MODULE,
	.open = bpmp_host_open,
	.release = bpmp_host_release_file,
	.read = bpmp_host_read,
	.write = bpmp_host_write,
	.unlocked_ioctl = bpmp_host_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

/* sysfs: allowed_* (the DT ceiling) and active_* (bounding every file) */

struct bpmp_host_attribute {
	struct device_attribute attr;
	enum bpmp_host_kind kind;
};

static enum bpmp_host_kind bpmp_host_attr_kind(struct device_attribute *attr)
{
	return container_of(attr, struct bpmp_host_attribute, attr)->kind;
}

static ssize_t bpmp_host_show_ids(char *buf, const u32 *ids, unsigned int n)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < n; i++)
		len += sysfs_emit_at(buf, len, "%s%u", i ? " " : "", ids[i]);
	len += sysfs_emit_at(buf, len, "\n");

	return len;
}

static ssize_t bpmp_host_allowed_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct bpmp_host_proxy *proxy = dev_get_drvdata(dev);
	enum bpmp_host_kind kind = bpmp_host_attr_kind(attr);

	return bpmp_host_show_ids(buf, proxy->ceiling[kind],
				  proxy->n_ceiling[kind]);
}

static ssize_t bpmp_host_active_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct bpmp_host_proxy *proxy = dev_get_drvdata(dev);
	enum bpmp_host_kind kind = bpmp_host_attr_kind(attr);
	const struct bpmp_policy_sets *active;
	ssize_t ret;
	int idx;

	/* Not update_lock: a writer holds it while transfers drain. */
	idx = srcu_read_lock(&proxy->srcu);
	active = srcu_dereference(proxy->active, &proxy->srcu);
	ret = bpmp_host_show_ids(buf, active->ids[kind], active->n[kind]);
	srcu_read_unlock(&proxy->srcu, idx);

	return ret;
}

static ssize_t bpmp_host_active_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct bpmp_host_proxy *proxy = dev_get_drvdata(dev);
	enum bpmp_host_kind kind = bpmp_host_attr_kind(attr);
	struct bpmp_policy_sets *old, *new;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	mutex_lock(&proxy->update_lock);
	old = rcu_dereference_protected(proxy->active,
					lockdep_is_held(&proxy->update_lock));
	new = kmemdup(old, sizeof(*old), GFP_KERNEL);
	if (!new) {
		err = -ENOMEM;
		goto unlock;
	}

	err = bpmp_policy_parse_ids(buf, count, proxy->ceiling[kind],
				    proxy->n_ceiling[kind], new->ids[kind],
				    &new->n[kind]);
	if (err) {
		kfree(new);
		goto unlock;
	}

	rcu_assign_pointer(proxy->active, new);
	/*
	 * Wait for every transfer checked against @old: when this write
	 * returns (say, before the host driver gets the device back), none
	 * of them still runs.
	 */
	synchronize_srcu(&proxy->srcu);
	kfree(old);
	dev_info(dev, "%s: %u of %u IDs active\n", attr->attr.name,
		 new->n[kind], proxy->n_ceiling[kind]);
unlock:
	mutex_unlock(&proxy->update_lock);

	return err ? err : count;
}

#define BPMP_HOST_ATTR(_name, _mode, _show, _store, _kind)		\
	static struct bpmp_host_attribute bpmp_host_attr_##_name = {	\
		.attr = __ATTR(_name, _mode, _show, _store),		\
		.kind = _kind,						\
	}

BPMP_HOST_ATTR(allowed_clocks, 0444, bpmp_host_allowed_show, NULL,
	       BPMP_HOST_CLOCKS);
BPMP_HOST_ATTR(allowed_resets, 0444, bpmp_host_allowed_show, NULL,
	       BPMP_HOST_RESETS);
BPMP_HOST_ATTR(allowed_power_domains, 0444, bpmp_host_allowed_show, NULL,
	       BPMP_HOST_POWER_DOMAINS);
BPMP_HOST_ATTR(allowed_parent_clocks, 0444, bpmp_host_allowed_show, NULL,
	       BPMP_HOST_PARENT_CLOCKS);
BPMP_HOST_ATTR(active_clocks, 0644, bpmp_host_active_show,
	       bpmp_host_active_store, BPMP_HOST_CLOCKS);
BPMP_HOST_ATTR(active_resets, 0644, bpmp_host_active_show,
	       bpmp_host_active_store, BPMP_HOST_RESETS);
BPMP_HOST_ATTR(active_power_domains, 0644, bpmp_host_active_show,
	       bpmp_host_active_store, BPMP_HOST_POWER_DOMAINS);
BPMP_HOST_ATTR(active_parent_clocks, 0644, bpmp_host_active_show,
	       bpmp_host_active_store, BPMP_HOST_PARENT_CLOCKS);

static struct attribute *bpmp_host_attrs[] = {
	&bpmp_host_attr_allowed_clocks.attr.attr,
	&bpmp_host_attr_allowed_resets.attr.attr,
	&bpmp_host_attr_allowed_power_domains.attr.attr,
	&bpmp_host_attr_allowed_parent_clocks.attr.attr,
	&bpmp_host_attr_active_clocks.attr.attr,
	&bpmp_host_attr_active_resets.attr.attr,
	&bpmp_host_attr_active_power_domains.attr.attr,
	&bpmp_host_attr_active_parent_clocks.attr.attr,
	NULL
};
ATTRIBUTE_GROUPS(bpmp_host);

/* probe and unbind */

static int bpmp_host_read_ceiling(struct bpmp_host_proxy *proxy,
				  enum bpmp_host_kind kind, bool optional)
{
	struct device_node *np = proxy->dev->of_node;
	const char *prop = bpmp_host_dt_props[kind];
	int count, err;

	if (!of_find_property(np, prop, NULL)) {
		if (optional) {
			proxy->n_ceiling[kind] = 0;
			return 0;
		}
		dev_err(proxy->dev, "%pOF: %s missing: refusing to allow nothing or everything\n",
			np, prop);
		return -EINVAL;
	}

	count = of_property_count_u32_elems(np, prop);
	if (count < 0) {
		dev_err(proxy->dev, "%pOF: %s is not a u32 array: %d\n",
			np, prop, count);
		return count;
	}
	if (count == 0) {
		dev_err(proxy->dev, "%pOF: %s is empty\n", np, prop);
		return -EINVAL;
	}
	if (count > BPMP_POLICY_MAX_IDS) {
		dev_err(proxy->dev, "%pOF: %s has %d IDs, at most %u\n",
			np, prop, count, BPMP_POLICY_MAX_IDS);
		return -EINVAL;
	}

	err = of_property_read_u32_array(np, prop, proxy->ceiling[kind],
					 count);
	if (err) {
		dev_err(proxy->dev, "%pOF: cannot read %s: %d\n",
			np, prop, err);
		return err;
	}

	proxy->n_ceiling[kind] = bpmp_policy_dedup(proxy->ceiling[kind],
						   count);
	if (proxy->n_ceiling[kind] != count)
		dev_warn(proxy->dev, "%pOF: %s repeats IDs; using %u\n",
			 np, prop, proxy->n_ceiling[kind]);

	return 0;
}

/*
 * The BPMP named by "nvidia,bpmp", or else the first available
 * "nvidia,tegra234-bpmp" node (probe then checks the former too).
 */
static struct tegra_bpmp *bpmp_host_get_bpmp(struct device *dev)
{
	struct platform_device *pdev;
	struct device_node *np;
	struct tegra_bpmp *bpmp;

	if (of_find_property(dev->of_node, "nvidia,bpmp", NULL))
		return tegra_bpmp_get(dev);

	for_each_compatible_node(np, NULL, BPMP_POLICY_BPMP_COMPATIBLE)
		if (of_device_is_available(np))
			break;
	if (!np)
		return ERR_PTR(-ENODEV);

	pdev = of_find_device_by_node(np);
	of_node_put(np);
	if (!pdev)
		return ERR_PTR(-EPROBE_DEFER);

	bpmp = platform_get_drvdata(pdev);
	if (!bpmp) {
		put_device(&pdev->dev);
		return ERR_PTR(-EPROBE_DEFER);
	}

	/* Keeps the reference on pdev, dropped by tegra_bpmp_put(). */
	return bpmp;
}

static void bpmp_host_put_proxy(void *data)
{
	struct bpmp_host_proxy *proxy = data;

	kref_put(&proxy->ref, bpmp_host_release);
}

/*
 * Undo the marks of every file still open, while the BPMP reference is
 * held: their releases will find the proxy gone and send nothing.
 * Called with files_lock held, after @gone is set.
 */
static void bpmp_host_undo_open_files(struct bpmp_host_proxy *proxy)
{
	unsigned int files = 0, marks = 0;
	struct bpmp_host_file *f;

	lockdep_assert_held(&proxy->files_lock);
	list_for_each_entry(f, &proxy->files, node) {
		/* An XFER that got its reply before @gone may still mark. */
		mutex_lock(&f->lock);
		marks += bpmp_host_undo_marks(f, "unbind");
		mutex_unlock(&f->lock);
		files++;
	}

	if (marks)
		dev_info(proxy->dev, "unbind: undid %u marks of %u open files\n",
			 marks, files);
}

static void bpmp_host_put_bpmp(void *data)
{
	struct bpmp_host_proxy *proxy = data;

	/*
	 * files_lock first: a release that sees @gone leaves its file
	 * listed until the open files' marks are undone below.
	 */
	mutex_lock(&proxy->files_lock);
	/* Waits for transfers in flight; later ones get -ENODEV. */
	down_write(&proxy->unbind_lock);
	proxy->gone = true;
	up_write(&proxy->unbind_lock);

	bpmp_host_undo_open_files(proxy);
	mutex_unlock(&proxy->files_lock);

	tegra_bpmp_put(proxy->bpmp);
}

static void bpmp_host_deregister(void *data)
{
	struct bpmp_host_proxy *proxy = data;

	misc_deregister(&proxy->misc);
}

static int bpmp_host_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct bpmp_policy_sets *active;
	struct bpmp_host_proxy *proxy;
	struct tegra_bpmp *bpmp;
	const char *compat;
	int err, len;

	proxy = kzalloc(sizeof(*proxy), GFP_KERNEL);
	if (!proxy)
		return -ENOMEM;

	err = init_srcu_struct(&proxy->srcu);
	if (err) {
		kfree(proxy);
		return err;
	}

	/* Open files may outlive the binding: they log with @dev. */
	proxy->dev = get_device(dev);
	kref_init(&proxy->ref);
	init_rwsem(&proxy->unbind_lock);
	mutex_init(&proxy->update_lock);
	mutex_init(&proxy->files_lock);
	INIT_LIST_HEAD(&proxy->files);

	/* From here on, unbinding or a failed probe drops our reference. */
	err = devm_add_action_or_reset(dev, bpmp_host_put_proxy, proxy);
	if (err)
		return err;

	err = bpmp_host_read_ceiling(proxy, BPMP_HOST_CLOCKS, false);
	if (err)
		return err;
	err = bpmp_host_read_ceiling(proxy, BPMP_HOST_RESETS, false);
	if (err)
		return err;
	err = bpmp_host_read_ceiling(proxy, BPMP_HOST_POWER_DOMAINS, true);
	if (err)
		return err;
	err = bpmp_host_read_ceiling(proxy, BPMP_HOST_PARENT_CLOCKS, true);
	if (err)
		return err;

	/*
	 * Closed until user space (tegravirtd, at start) writes the active
	 * sets: a guest started before that gets nothing, not the ceiling.
	 */
	active = kzalloc(sizeof(*active), GFP_KERNEL);
	if (!active)
		return -ENOMEM;
	RCU_INIT_POINTER(proxy->active, active);

	bpmp = bpmp_host_get_bpmp(dev);
	if (IS_ERR(bpmp))
		return dev_err_probe(dev, PTR_ERR(bpmp),
				     "cannot get the BPMP\n");

	/* The policy's clock IDs are Tegra234's: refuse any other BPMP. */
	compat = of_get_property(bpmp->dev->of_node, "compatible", &len);
	if (!bpmp_policy_bpmp_supported(compat, len > 0 ? len : 0)) {
		dev_err(dev, "%pOF is not a %s: the policy knows only Tegra234 IDs\n",
			bpmp->dev->of_node, BPMP_POLICY_BPMP_COMPATIBLE);
		tegra_bpmp_put(bpmp);
		return -ENODEV;
	}
	proxy->bpmp = bpmp;

	err = devm_add_action_or_reset(dev, bpmp_host_put_bpmp, proxy);
	if (err)
		return err;

	/* Unbinding the BPMP unbinds the proxy first. */
	if (!device_link_add(dev, bpmp->dev, DL_FLAG_AUTOREMOVE_CONSUMER))
		dev_warn(dev, "cannot link to %s\n", dev_name(bpmp->dev));

	platform_set_drvdata(pdev, proxy);

	proxy->misc.minor = MISC_DYNAMIC_MINOR;
	proxy->misc.name = "bpmp-host";
	proxy->misc.fops = &bpmp_host_fops;
	proxy->misc.parent = dev;
	err = misc_register(&proxy->misc);
	if (err) {
		dev_err(dev, "cannot register /dev/bpmp-host: %d\n", err);
		return err;
	}

	err = devm_add_action_or_reset(dev, bpmp_host_deregister, proxy);
	if (err)
		return err;

	dev_info(dev, "/dev/bpmp-host: %u clocks, %u resets, %u power domains allowed\n",
		 proxy->n_ceiling[BPMP_HOST_CLOCKS],
		 proxy->n_ceiling[BPMP_HOST_RESETS],
		 proxy->n_ceiling[BPMP_HOST_POWER_DOMAINS]);

	return 0;
}

static const struct of_device_id bpmp_host_of_match[] = {
	{ .compatible = "nvidia,bpmp-host-proxy" },
	{ }
};
MODULE_DEVICE_TABLE(of, bpmp_host_of_match);

static struct platform_driver bpmp_host_driver = {
	.probe = bpmp_host_probe,
	.driver = {
		.name = "tegra-bpmp-host-proxy",
		.of_match_table = bpmp_host_of_match,
		.dev_groups = bpmp_host_groups,
	},
};
module_platform_driver(bpmp_host_driver);

MODULE_DESCRIPTION("Tegra BPMP host proxy for virtual machines");
MODULE_LICENSE("GPL");
