// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test harness of the Tegra BPMP host proxy: builds the real driver
 * (bpmp-host-proxy.c, included below) into a module for a kernel without
 * a Tegra BPMP, with tegra_bpmp_get/put/transfer replaced by a simulated
 * BPMP. Its debugfs directory, /sys/kernel/debug/bpmp-host-glue/, lets
 * the user-space test (tests/kernel/bpmp-glue-test.c) drive it:
 *
 *   dt      write a flattened device tree whose root holds a "bpmp" node
 *           (the simulated BPMP, with a phandle) and a "bpmp-host-proxy"
 *           node: the harness creates both platform devices from it and
 *           the proxy probes as it would from the boot DT (a kernel
 *           without OF_OVERLAY cannot add live nodes; these are detached)
 *   remove  write anything: remove both devices again
 *   bound   "1" when the proxy's driver is bound, else "0"
 *   log     one line per transfer the driver made (write: clear)
 *   state   the simulated firmware's state (clocks on, resets asserted,
 *           power domains on), transfers in flight, BPMP references
 *   fail    "errno E N": the next N transfers fail with -E;
 *           "ret R N": the firmware answers R to the next N transfers;
 *           "delay MS N": the next N transfers take MS milliseconds
 *   paint   write anything: fill 6 KiB of this task's kernel stack with
 *           0xa5, so that a buffer the driver forgets to zero shows it
 *
 * The simulated BPMP answers like the firmware (reply sizes of
 * <soc/tegra/bpmp-abi.h>) and, like the real shared frame, fills the
 * whole rx.size it is given: the reply, then stale bytes (0xee).
 */

#include <asm/unaligned.h>
#include <linux/bitmap.h>
#include <linux/list.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_fdt.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <soc/tegra/bpmp.h>
#include <soc/tegra/bpmp-abi.h>

#define GLUE_STALE		0xee
#define GLUE_MAX_ID		1024
#define GLUE_LOG_MAX		4096
#define GLUE_DT_MAX		65536

struct glue_record {
	u32 mrq;
	u32 tx_size;
	u32 rx_size;		/* rx.size the driver handed us */
	bool rx_zero;		/* that rx buffer was all zero */
	bool after_put;		/* ran while the driver held no BPMP reference */
	int err;		/* what tegra_bpmp_transfer() returned */
	int ret;		/* the firmware status */
	u8 tx[MSG_DATA_MIN_SZ];
};

static struct {
	struct mutex lock;	/* everything below */
	struct glue_record *log;
	unsigned int n_log;
	unsigned long clk_on[BITS_TO_LONGS(GLUE_MAX_ID)];
	unsigned long reset_asserted[BITS_TO_LONGS(GLUE_MAX_ID)];
	unsigned long pg_on[BITS_TO_LONGS(GLUE_MAX_ID)];
	int fail_errno, fail_ret;
	unsigned int fail_count, delay_ms, delay_count;
	atomic_t inflight;
	atomic_t refs;		/* tegra_bpmp_get() minus tegra_bpmp_put() */

	/* the devices of the last DT written */
	void *dt_blob, *dt_mem;
	/* the trees of removed devices (freed at exit, see below) */
	struct list_head old_trees;
	struct platform_device *bpmp_pdev, *proxy_pdev;
	struct dentry *dir;
} glue;

/* The simulated firmware: the reply size of a request, and its effect. */
static size_t glue_firmware(u32 mrq, const u8 *tx, size_t tx_size, u8 *reply,
			    int *ret)
{
	u32 w0 = 0, w1 = 0, w2 = 0, id, cmd;
	size_t i;

	if (tx_size >= 4)
		w0 = get_unaligned_le32(tx);
	if (tx_size >= 8)
		w1 = get_unaligned_le32(tx + 4);
	if (tx_size >= 12)
		w2 = get_unaligned_le32(tx + 8);
	*ret = 0;

	switch (mrq) {
	case MRQ_PING:
	case MRQ_THREADED_PING:
		put_unaligned_le32(w0 << 1, reply);
		return sizeof(struct mrq_ping_response);
	case MRQ_CLK:
		cmd = w0 >> 24;
		id = w0 & 0xffffff;
		if (id >= GLUE_MAX_ID) {
			*ret = -BPMP_EINVAL;
			return 0;
		}
		switch (cmd) {
		case CMD_CLK_ENABLE:
			set_bit(id, glue.clk_on);
			return 0;
		case CMD_CLK_DISABLE:
			clear_bit(id, glue.clk_on);
			return 0;
		case CMD_CLK_IS_ENABLED:
			put_unaligned_le32(test_bit(id, glue.clk_on), reply);
			return sizeof(struct cmd_clk_is_enabled_response);
		case CMD_CLK_GET_RATE:
		case CMD_CLK_SET_RATE:
		case CMD_CLK_ROUND_RATE:
			put_unaligned_le64(1000000ULL * (id + 1), reply);
			return sizeof(struct cmd_clk_get_rate_response);
		case CMD_CLK_GET_PARENT:
		case CMD_CLK_SET_PARENT:
			put_unaligned_le32(id + 1, reply);
			return sizeof(struct cmd_clk_get_parent_response);
		case CMD_CLK_GET_ALL_INFO:
			for (i = 0; i < sizeof(struct cmd_clk_get_all_info_response); i++)
				reply[i] = 0x20 + i % 64;
			return sizeof(struct cmd_clk_get_all_info_response);
		case CMD_CLK_GET_MAX_CLK_ID:
			put_unaligned_le32(GLUE_MAX_ID - 1, reply);
			return sizeof(struct cmd_clk_get_max_clk_id_response);
		case CMD_CLK_GET_FMAX_AT_VMIN:
			put_unaligned_le64(2000000000ULL, reply);
			return sizeof(struct cmd_clk_get_fmax_at_vmin_response);
		}
		break;
	case MRQ_RESET:
		if (w0 == CMD_RESET_GET_MAX_ID) {
			put_unaligned_le32(GLUE_MAX_ID - 1, reply);
			return sizeof(struct cmd_reset_get_max_id_response);
		}
		if (w1 >= GLUE_MAX_ID) {
			*ret = -BPMP_EINVAL;
			return 0;
		}
		if (w0 == CMD_RESET_ASSERT)
			set_bit(w1, glue.reset_asserted);
		else if (w0 == CMD_RESET_DEASSERT)
			clear_bit(w1, glue.reset_asserted);
		else if (w0 != CMD_RESET_MODULE)
			break;
		return 0;
	case MRQ_PG:
		if (w0 == CMD_PG_GET_MAX_ID) {
			put_unaligned_le32(GLUE_MAX_ID - 1, reply);
			return sizeof(struct cmd_pg_get_max_id_response);
		}
		if (w0 == CMD_PG_QUERY_ABI)
			return 0;
		if (w1 >= GLUE_MAX_ID) {
			*ret = -BPMP_EINVAL;
			return 0;
		}
		switch (w0) {
		case CMD_PG_SET_STATE:
			if (w2)
				set_bit(w1, glue.pg_on);
			else
				clear_bit(w1, glue.pg_on);
			return 0;
		case CMD_PG_GET_STATE:
			put_unaligned_le32(test_bit(w1, glue.pg_on), reply);
			return sizeof(struct cmd_pg_get_state_response);
		case CMD_PG_GET_NAME:
			snprintf(reply, MRQ_PG_NAME_MAXLEN, "pd%u", w1);
			return sizeof(struct cmd_pg_get_name_response);
		}
		break;
	case MRQ_QUERY_ABI:
		put_unaligned_le32(0, reply);
		return sizeof(struct mrq_query_abi_response);
	}
	*ret = -BPMP_ENODEV;
	return 0;
}

static int glue_bpmp_transfer(struct tegra_bpmp *bpmp,
			      struct tegra_bpmp_message *msg)
{
	u8 reply[MSG_DATA_MIN_SZ] = { 0 };
	struct glue_record *r = NULL;
	unsigned int delay = 0;
	size_t n, i;
	int err = 0;
	u8 *rx = msg->rx.data;

	atomic_inc(&glue.inflight);
	mutex_lock(&glue.lock);
	if (glue.n_log < GLUE_LOG_MAX) {
		r = &glue.log[glue.n_log++];
		memset(r, 0, sizeof(*r));
		r->mrq = msg->mrq;
		r->tx_size = msg->tx.size;
		r->rx_size = msg->rx.size;
		r->rx_zero = true;
		r->after_put = atomic_read(&glue.refs) <= 0;
		/* the real driver's tegra_bpmp_message_valid() bounds these */
		if (msg->tx.data)
			memcpy(r->tx, msg->tx.data,
			       min_t(size_t, msg->tx.size, MSG_DATA_MIN_SZ));
		for (i = 0; rx && i < min_t(size_t, msg->rx.size, MSG_DATA_MIN_SZ); i++)
			if (rx[i])
				r->rx_zero = false;
	}
	if (glue.delay_count) {
		glue.delay_count--;
		delay = glue.delay_ms;
	}
	mutex_unlock(&glue.lock);

	/* outside the lock: transfers may overlap, like on the real BPMP */
	if (delay)
		msleep(delay);

	mutex_lock(&glue.lock);
	if (msg->tx.size > MSG_DATA_MIN_SZ || msg->rx.size > MSG_DATA_MIN_SZ ||
	    (!msg->tx.data && msg->tx.size) || (!rx && msg->rx.size)) {
		err = -EINVAL;
	} else if (glue.fail_count && glue.fail_errno) {
		glue.fail_count--;
		err = -glue.fail_errno;
	} else {
		n = glue_firmware(msg->mrq, msg->tx.data, msg->tx.size, reply,
				  &msg->rx.ret);
		if (glue.fail_count && glue.fail_ret) {
			glue.fail_count--;
			msg->rx.ret = glue.fail_ret;
		}
		/* the shared frame: the reply, then whatever it held before */
		for (i = 0; i < msg->rx.size; i++)
			rx[i] = i < n ? reply[i] : GLUE_STALE;
	}
	if (r) {
		if (atomic_read(&glue.refs) <= 0)
			r->after_put = true;
		r->err = err;
		r->ret = err ? 0 : msg->rx.ret;
	}
	mutex_unlock(&glue.lock);
	atomic_dec(&glue.inflight);

	return err;
}

/* tegra_bpmp_get(): the BPMP that the node's "nvidia,bpmp" names */
static struct tegra_bpmp *glue_bpmp_get(struct device *dev)
{
	struct platform_device *pdev = glue.bpmp_pdev;
	struct tegra_bpmp *bpmp;
	u32 phandle;

	if (of_property_read_u32(dev->of_node, "nvidia,bpmp", &phandle))
		return ERR_PTR(-ENOENT);
	if (!pdev || pdev->dev.of_node->phandle != phandle)
		return ERR_PTR(-ENODEV);
	bpmp = platform_get_drvdata(pdev);
	if (!bpmp)
		return ERR_PTR(-EPROBE_DEFER);
	get_device(&pdev->dev);
	atomic_inc(&glue.refs);

	return bpmp;
}

static void glue_bpmp_put(struct tegra_bpmp *bpmp)
{
	if (bpmp) {
		atomic_dec(&glue.refs);
		put_device(bpmp->dev);
	}
}

/* The driver under test, with the BPMP functions above. */
#define tegra_bpmp_transfer glue_bpmp_transfer
#define tegra_bpmp_get glue_bpmp_get
#define tegra_bpmp_put glue_bpmp_put
/* its module_init is ours (below) */
#undef module_platform_driver
#define module_platform_driver(drv) \
	static struct platform_driver *const glue_proxy_driver = &(drv)
/* laid out by kernel-glue.sh: src/ holds the tree's kernel/ sources */
#include "src/kernel/drivers/firmware/tegra/bpmp-host-proxy/bpmp-host-proxy.c"
#undef tegra_bpmp_transfer
#undef tegra_bpmp_get
#undef tegra_bpmp_put

/* The simulated BPMP's device: what the real BPMP driver's probe leaves. */
static int glue_bpmp_probe(struct platform_device *pdev)
{
	struct tegra_bpmp *bpmp;

	bpmp = devm_kzalloc(&pdev->dev, sizeof(*bpmp), GFP_KERNEL);
	if (!bpmp)
		return -ENOMEM;
	bpmp->dev = &pdev->dev;
	platform_set_drvdata(pdev, bpmp);

	return 0;
}

static struct platform_driver glue_bpmp_driver = {
	.probe = glue_bpmp_probe,
	.driver = { .name = "bpmp-host-glue-bpmp" },
};

struct glue_old_tree {
	struct list_head node;
	void *blob, *mem;
};

static void glue_remove_devices(void)
{
	struct glue_old_tree *old;

	if (glue.proxy_pdev)
		platform_device_unregister(glue.proxy_pdev);
	if (glue.bpmp_pdev)
		platform_device_unregister(glue.bpmp_pdev);
	glue.proxy_pdev = NULL;
	glue.bpmp_pdev = NULL;
	if (!glue.dt_blob)
		return;
	/*
	 * An open /dev/bpmp-host keeps the proxy's device (and so its node)
	 * alive past the unregistration: free the tree only at module exit,
	 * when no file can be open any more. On failure, leak it.
	 */
	old = kmalloc(sizeof(*old), GFP_KERNEL);
	if (old) {
		old->blob = glue.dt_blob;
		old->mem = glue.dt_mem;
		list_add(&old->node, &glue.old_trees);
	}
	glue.dt_mem = NULL;
	glue.dt_blob = NULL;
}

static void glue_free_old_trees(void)
{
	struct glue_old_tree *old, *next;

	list_for_each_entry_safe(old, next, &glue.old_trees, node) {
		list_del(&old->node);
		kfree(old->mem);
		kfree(old->blob);
		kfree(old);
	}
}

static struct platform_device *glue_add_device(const char *name,
					       struct device_node *np)
{
	struct platform_device *pdev;
	int err;

	pdev = platform_device_alloc(name, PLATFORM_DEVID_NONE);
	if (!pdev)
		return ERR_PTR(-ENOMEM);
	pdev->dev.of_node = np;
	err = platform_device_add(pdev);
	if (err) {
		platform_device_put(pdev);
		return ERR_PTR(err);
	}

	return pdev;
}

static DEFINE_MUTEX(glue_dt_lock);

static ssize_t glue_dt_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct device_node *root = NULL, *bpmp_np, *proxy_np;
	struct platform_device *pdev;
	void *blob;
	int err;

	if (len < 40 || len > GLUE_DT_MAX || *ppos)
		return -EINVAL;
	blob = memdup_user(ubuf, len);
	if (IS_ERR(blob))
		return PTR_ERR(blob);
	if (get_unaligned_be32(blob) != 0xd00dfeed ||
	    get_unaligned_be32(blob + 4) > len) {
		kfree(blob);
		return -EINVAL;
	}

	mutex_lock(&glue_dt_lock);
	if (glue.dt_blob) {
		err = -EBUSY;
		goto fail;
	}
	glue.dt_mem = of_fdt_unflatten_tree(blob, NULL, &root);
	if (!glue.dt_mem || !root) {
		kfree(glue.dt_mem);
		glue.dt_mem = NULL;
		err = -EINVAL;
		goto fail;
	}
	glue.dt_blob = blob;
	bpmp_np = of_get_child_by_name(root, "bpmp");
	proxy_np = of_get_child_by_name(root, "bpmp-host-proxy");
	if (!bpmp_np || !proxy_np) {
		err = -EINVAL;
		goto fail_remove;
	}

	pdev = glue_add_device(glue_bpmp_driver.driver.name, bpmp_np);
	if (IS_ERR(pdev)) {
		err = PTR_ERR(pdev);
		goto fail_remove;
	}
	glue.bpmp_pdev = pdev;
	pdev = glue_add_device("bpmp-host-proxy", proxy_np);
	if (IS_ERR(pdev)) {
		err = PTR_ERR(pdev);
		goto fail_remove;
	}
	glue.proxy_pdev = pdev;
	mutex_unlock(&glue_dt_lock);

	return len;

fail_remove:
	/* glue_remove_devices() keeps the blob */
	glue_remove_devices();
	blob = NULL;
fail:
	mutex_unlock(&glue_dt_lock);
	kfree(blob);

	return err;
}

static ssize_t glue_remove_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	mutex_lock(&glue_dt_lock);
	glue_remove_devices();
	mutex_unlock(&glue_dt_lock);

	return len;
}

static int glue_bound_show(struct seq_file *s, void *unused)
{
	mutex_lock(&glue_dt_lock);
	seq_printf(s, "%d\n", glue.proxy_pdev && glue.proxy_pdev->dev.driver);
	mutex_unlock(&glue_dt_lock);

	return 0;
}

static int glue_log_show(struct seq_file *s, void *unused)
{
	unsigned int i, j;

	mutex_lock(&glue.lock);
	for (i = 0; i < glue.n_log; i++) {
		const struct glue_record *r = &glue.log[i];

		seq_printf(s, "mrq=%u tx_size=%u rx_size=%u rx_zero=%d err=%d ret=%d after_put=%d tx=",
			   r->mrq, r->tx_size, r->rx_size, r->rx_zero, r->err,
			   r->ret, r->after_put);
		for (j = 0; j < min_t(u32, r->tx_size, MSG_DATA_MIN_SZ); j++)
			seq_printf(s, "%02x", r->tx[j]);
		seq_puts(s, "\n");
	}
	mutex_unlock(&glue.lock);

	return 0;
}

static ssize_t glue_log_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	mutex_lock(&glue.lock);
	glue.n_log = 0;
	mutex_unlock(&glue.lock);

	return len;
}

static void glue_show_bits(struct seq_file *s, const char *name,
			   const unsigned long *bits)
{
	unsigned int id;

	seq_printf(s, "%s:", name);
	for_each_set_bit(id, bits, GLUE_MAX_ID)
		seq_printf(s, " %u", id);
	seq_puts(s, "\n");
}

static int glue_state_show(struct seq_file *s, void *unused)
{
	mutex_lock(&glue.lock);
	glue_show_bits(s, "clocks_on", glue.clk_on);
	glue_show_bits(s, "resets_asserted", glue.reset_asserted);
	glue_show_bits(s, "power_domains_on", glue.pg_on);
	seq_printf(s, "inflight: %d\nrefs: %d\n", atomic_read(&glue.inflight),
		   atomic_read(&glue.refs));
	mutex_unlock(&glue.lock);

	return 0;
}

static ssize_t glue_state_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	mutex_lock(&glue.lock);
	bitmap_zero(glue.clk_on, GLUE_MAX_ID);
	bitmap_zero(glue.reset_asserted, GLUE_MAX_ID);
	bitmap_zero(glue.pg_on, GLUE_MAX_ID);
	glue.fail_count = 0;
	glue.delay_count = 0;
	mutex_unlock(&glue.lock);

	return len;
}

static ssize_t glue_fail_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	char buf[64], what[8];
	int value;
	unsigned int count;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%7s %d %u", what, &value, &count) != 3)
		return -EINVAL;

	mutex_lock(&glue.lock);
	if (!strcmp(what, "errno") && value > 0) {
		glue.fail_errno = value;
		glue.fail_ret = 0;
		glue.fail_count = count;
	} else if (!strcmp(what, "ret")) {
		glue.fail_ret = value;
		glue.fail_errno = 0;
		glue.fail_count = count;
	} else if (!strcmp(what, "delay") && value >= 0) {
		glue.delay_ms = value;
		glue.delay_count = count;
	} else {
		len = -EINVAL;
	}
	mutex_unlock(&glue.lock);

	return len;
}

/* Leaves 0xa5 in the stack below this frame: the next syscall's frames. */
static noinline void glue_paint_stack(void)
{
	u8 area[6144];

	memset(area, 0xa5, sizeof(area));
	/* not a dead store: the point is what stays behind */
	barrier_data(area);
}

static ssize_t glue_paint_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	glue_paint_stack();

	return len;
}

DEFINE_SHOW_ATTRIBUTE(glue_bound);

static int glue_log_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, glue_log_show, NULL, 1 << 20);
}

static const struct file_operations glue_log_fops = {
	.owner = THIS_MODULE,
	.open = glue_log_open,
	.read = seq_read,
	.write = glue_log_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int glue_state_open(struct inode *inode, struct file *file)
{
	return single_open(file, glue_state_show, NULL);
}

static const struct file_operations glue_state_fops = {
	.owner = THIS_MODULE,
	.open = glue_state_open,
	.read = seq_read,
	.write = glue_state_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static const struct file_operations glue_dt_fops = {
	.owner = THIS_MODULE,
	.write = glue_dt_write,
};

static const struct file_operations glue_remove_fops = {
	.owner = THIS_MODULE,
	.write = glue_remove_write,
};

static const struct file_operations glue_fail_fops = {
	.owner = THIS_MODULE,
	.write = glue_fail_write,
};

static const struct file_operations glue_paint_fops = {
	.owner = THIS_MODULE,
	.write = glue_paint_write,
};

static int __init glue_init(void)
{
	int err;

	mutex_init(&glue.lock);
	INIT_LIST_HEAD(&glue.old_trees);
	glue.log = kvcalloc(GLUE_LOG_MAX, sizeof(*glue.log), GFP_KERNEL);
	if (!glue.log)
		return -ENOMEM;

	err = platform_driver_register(&glue_bpmp_driver);
	if (err)
		goto free_log;
	err = platform_driver_register(glue_proxy_driver);
	if (err)
		goto unregister_bpmp;

	glue.dir = debugfs_create_dir("bpmp-host-glue", NULL);
	debugfs_create_file("dt", 0200, glue.dir, NULL, &glue_dt_fops);
	debugfs_create_file("remove", 0200, glue.dir, NULL, &glue_remove_fops);
	debugfs_create_file("bound", 0444, glue.dir, NULL, &glue_bound_fops);
	debugfs_create_file("log", 0600, glue.dir, NULL, &glue_log_fops);
	debugfs_create_file("state", 0600, glue.dir, NULL, &glue_state_fops);
	debugfs_create_file("fail", 0200, glue.dir, NULL, &glue_fail_fops);
	debugfs_create_file("paint", 0200, glue.dir, NULL, &glue_paint_fops);

	return 0;

unregister_bpmp:
	platform_driver_unregister(&glue_bpmp_driver);
free_log:
	kvfree(glue.log);
	return err;
}

static void __exit glue_exit(void)
{
	debugfs_remove_recursive(glue.dir);
	mutex_lock(&glue_dt_lock);
	glue_remove_devices();
	mutex_unlock(&glue_dt_lock);
	platform_driver_unregister(glue_proxy_driver);
	platform_driver_unregister(&glue_bpmp_driver);
	glue_free_old_trees();
	kvfree(glue.log);
}

module_init(glue_init);
module_exit(glue_exit);
