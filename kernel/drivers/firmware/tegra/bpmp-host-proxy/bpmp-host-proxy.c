// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tegra BPMP host proxy: lets a VMM forward its guests' BPMP transfers
 * (clocks, resets, power domains of passed-through devices) through
 * /dev/bpmp-host, checked against a deny-by-default policy whose ceiling
 * comes from the device tree and which user space may narrow at run time.
 *
 * The wire message and the sysfs interface are documented in
 * include/uapi/linux/tegra-bpmp-host-proxy.h.
 */

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include <dt-bindings/clock/tegra234-clock.h>
#include <soc/tegra/bpmp.h>
#include <soc/tegra/bpmp-abi.h>

/* Found next to this directory both in our tree and in a kernel tree. */
#include "../../../../include/uapi/linux/tegra-bpmp-host-proxy.h"

#include "bpmp-host-policy.h"

/* The policy's copies of the ABI numbers must match the ABI header. */
static_assert(sizeof(struct tegra_bpmp_host_message) ==
	      TEGRA_BPMP_HOST_MESSAGE_SIZE);
static_assert(offsetof(struct tegra_bpmp_host_message, tx.data) == 8);
static_assert(offsetof(struct tegra_bpmp_host_message, rx.data) == 24);
static_assert(offsetof(struct tegra_bpmp_host_message, rx.ret) == 40);
static_assert(BPMP_POLICY_MAX_DATA == MSG_DATA_MIN_SZ);
static_assert(BPMP_POLICY_MAX_DATA == TEGRA_BPMP_HOST_MAX_DATA);
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

static const char * const bpmp_host_dt_props[BPMP_HOST_NR_KINDS] = {
	[BPMP_HOST_CLOCKS] = "allowed-clocks",
	[BPMP_HOST_RESETS] = "allowed-resets",
	[BPMP_HOST_POWER_DOMAINS] = "allowed-power-domains",
	[BPMP_HOST_PARENT_CLOCKS] = "allowed-parent-clocks",
};

/* The active sets; replaced as a whole (RCU), never modified in place. */
struct bpmp_host_active {
	struct rcu_head rcu;
	unsigned int n[BPMP_HOST_NR_KINDS];
	u32 ids[BPMP_HOST_NR_KINDS][BPMP_POLICY_MAX_IDS];
};

struct bpmp_host_proxy {
	struct device *dev;
	struct miscdevice misc;
	/* One reference for the bound device, one per open file. */
	struct kref ref;

	/* Held for reading around transfers; unbinding takes it to write. */
	struct rw_semaphore unbind_lock;
	struct tegra_bpmp *bpmp;
	bool gone;

	/* Serializes writers of @active. */
	struct mutex update_lock;
	struct bpmp_host_active __rcu *active;

	/* The DT ceiling, fixed after probe. */
	unsigned int n_ceiling[BPMP_HOST_NR_KINDS];
	u32 ceiling[BPMP_HOST_NR_KINDS][BPMP_POLICY_MAX_IDS];
};

static void bpmp_host_release(struct kref *ref)
{
	struct bpmp_host_proxy *proxy =
		container_of(ref, struct bpmp_host_proxy, ref);

	/* No reader left: no open file, sysfs attributes removed. */
	kfree(rcu_dereference_protected(proxy->active, true));
	mutex_destroy(&proxy->update_lock);
	kfree(proxy);
}

static int bpmp_host_check(struct bpmp_host_proxy *proxy, u32 mrq,
			   const void *tx, size_t tx_size,
			   struct bpmp_policy_verdict *verdict)
{
	const struct bpmp_host_active *active;
	struct bpmp_policy policy;
	int err;

	rcu_read_lock();
	active = rcu_dereference(proxy->active);
	policy.clocks.ids = active->ids[BPMP_HOST_CLOCKS];
	policy.clocks.n = active->n[BPMP_HOST_CLOCKS];
	policy.resets.ids = active->ids[BPMP_HOST_RESETS];
	policy.resets.n = active->n[BPMP_HOST_RESETS];
	policy.power_domains.ids = active->ids[BPMP_HOST_POWER_DOMAINS];
	policy.power_domains.n = active->n[BPMP_HOST_POWER_DOMAINS];
	policy.parent_clocks.ids = active->ids[BPMP_HOST_PARENT_CLOCKS];
	policy.parent_clocks.n = active->n[BPMP_HOST_PARENT_CLOCKS];
	err = bpmp_policy_check(&policy, mrq, tx, tx_size, verdict);
	rcu_read_unlock();

	return err;
}

static void bpmp_host_log_refusal(struct bpmp_host_proxy *proxy, int err,
				  u32 mrq, const struct bpmp_policy_verdict *v)
{
	const char *what = err == -EPERM ? "denied" : "malformed";

	if (v->has_cmd)
		dev_warn_ratelimited(proxy->dev,
				     "%s: MRQ %u command %u ID %u: %s\n",
				     what, mrq, v->cmd, v->id, v->reason);
	else
		dev_warn_ratelimited(proxy->dev, "%s: MRQ %u: %s\n",
				     what, mrq, v->reason);
}

static ssize_t bpmp_host_write(struct file *file, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct bpmp_host_proxy *proxy = file->private_data;
	struct tegra_bpmp_host_message __user *umsg = (void __user *)buf;
	struct tegra_bpmp_host_message hdr;
	struct bpmp_policy_verdict verdict;
	struct tegra_bpmp_message msg;
	u8 tx[BPMP_POLICY_MAX_DATA];
	u8 rx[BPMP_POLICY_MAX_DATA];
	int err;

	if (len != sizeof(hdr))
		return -EINVAL;
	if (copy_from_user(&hdr, buf, sizeof(hdr)))
		return -EFAULT;
	if (hdr.tx.size > sizeof(tx) || hdr.rx.size > sizeof(rx))
		return -EINVAL;
	if (copy_from_user(tx, u64_to_user_ptr(hdr.tx.data), hdr.tx.size))
		return -EFAULT;

	err = bpmp_host_check(proxy, hdr.mrq, tx, hdr.tx.size, &verdict);
	if (err) {
		bpmp_host_log_refusal(proxy, err, hdr.mrq, &verdict);
		return err;
	}

	memset(rx, 0, sizeof(rx));
	memset(&msg, 0, sizeof(msg));
	msg.mrq = hdr.mrq;
	msg.tx.data = tx;
	msg.tx.size = hdr.tx.size;
	msg.rx.data = rx;
	/* The BPMP copies rx.size bytes of its frame: no more than the reply. */
	msg.rx.size = min_t(size_t, hdr.rx.size, verdict.rx_size);

	down_read(&proxy->unbind_lock);
	if (proxy->gone)
		err = -ENODEV;
	else
		err = tegra_bpmp_transfer(proxy->bpmp, &msg);
	up_read(&proxy->unbind_lock);
	if (err)
		return err;

	/* The BPMP driver never grows the reply; do not trust that. */
	if (msg.rx.size > hdr.rx.size)
		return -EIO;
	if (copy_to_user(u64_to_user_ptr(hdr.rx.data), rx, msg.rx.size))
		return -EFAULT;
	if (put_user((__u64)msg.rx.size, &umsg->rx.size) ||
	    put_user((__s32)msg.rx.ret, &umsg->rx.ret))
		return -EFAULT;

	return len;
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

	kref_get(&proxy->ref);
	file->private_data = proxy;

	return stream_open(inode, file);
}

static int bpmp_host_release_file(struct inode *inode, struct file *file)
{
	struct bpmp_host_proxy *proxy = file->private_data;

	kref_put(&proxy->ref, bpmp_host_release);

	return 0;
}

static const struct file_operations bpmp_host_fops = {
	.owner = THIS_MODULE,
	.open = bpmp_host_open,
	.release = bpmp_host_release_file,
	.read = bpmp_host_read,
	.write = bpmp_host_write,
};

/* sysfs: allowed_* (the DT ceiling) and active_* (what write() enforces) */

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
	const struct bpmp_host_active *active;
	ssize_t ret;

	mutex_lock(&proxy->update_lock);
	active = rcu_dereference_protected(proxy->active,
					   lockdep_is_held(&proxy->update_lock));
	ret = bpmp_host_show_ids(buf, active->ids[kind], active->n[kind]);
	mutex_unlock(&proxy->update_lock);

	return ret;
}

static ssize_t bpmp_host_active_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct bpmp_host_proxy *proxy = dev_get_drvdata(dev);
	enum bpmp_host_kind kind = bpmp_host_attr_kind(attr);
	struct bpmp_host_active *old, *new;
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
	kfree_rcu(old, rcu);
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

static void bpmp_host_put_bpmp(void *data)
{
	struct bpmp_host_proxy *proxy = data;

	/* Waits for transfers in flight; later ones get -ENODEV. */
	down_write(&proxy->unbind_lock);
	proxy->gone = true;
	up_write(&proxy->unbind_lock);

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
	struct bpmp_host_active *active;
	struct bpmp_host_proxy *proxy;
	struct tegra_bpmp *bpmp;
	const char *compat;
	int err, len;

	proxy = kzalloc(sizeof(*proxy), GFP_KERNEL);
	if (!proxy)
		return -ENOMEM;

	proxy->dev = dev;
	kref_init(&proxy->ref);
	init_rwsem(&proxy->unbind_lock);
	mutex_init(&proxy->update_lock);

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
