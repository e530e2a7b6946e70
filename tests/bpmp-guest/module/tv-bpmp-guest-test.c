// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test-only guest module of tests/bpmp-guest (never shipped): a platform
 * driver for the UART node that tegravirtd's guest DTB gives a domain with
 * uarta (compatible "nvidia,tegra194-hsuart", clocks and resets on /bpmp).
 * Its probe does what serial-tegra's would through the clock and reset
 * frameworks -- enable the "serial" clock (the framework enables its parent
 * first), read its rate, pulse the "serial" reset -- so every request travels
 * guest proxy -> window -> QEMU -> backend -> /dev/bpmp-host. It then asks the
 * same BPMP provider for a clock by ID (other_clock, outside the domain's
 * set) and tries to enable it, which the host must refuse.
 * Each step is one "tv-bpmp-test: ..." line in the kernel log. The clock
 * stays on while the device is bound (remove turns it off).
 */
#include <linux/clk.h>
#include <linux/clk-provider.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/reset.h>

static int other_clock = 159;
module_param(other_clock, int, 0444);
MODULE_PARM_DESC(other_clock, "BPMP clock ID outside the domain's set, enabled by ID (default 159, UARTE)");

static void tvbt_other_clock(struct device *dev)
{
	struct of_phandle_args spec = { .args_count = 1 };
	struct clk *clk;
	int err;

	/* the provider of our own clocks: /bpmp */
	spec.np = of_parse_phandle(dev->of_node, "clocks", 0);
	if (!spec.np) {
		dev_info(dev, "tv-bpmp-test: other clock %d: no clock provider\n", other_clock);
		return;
	}
	spec.args[0] = other_clock;
	clk = of_clk_get_from_provider(&spec);
	of_node_put(spec.np);
	if (IS_ERR_OR_NULL(clk)) {
		dev_info(dev, "tv-bpmp-test: other clock %d: get %ld\n", other_clock,
			 clk ? PTR_ERR(clk) : 0L);
		return;
	}
	err = clk_prepare_enable(clk);
	dev_info(dev, "tv-bpmp-test: other clock %d %s: enable %d\n", other_clock,
		 __clk_get_name(clk), err);
	if (!err)
		clk_disable_unprepare(clk);
	clk_put(clk);
}

static int tvbt_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct reset_control *rst;
	struct clk *clk, *parent;
	int err;

	clk = devm_clk_get(dev, "serial");
	if (IS_ERR(clk)) {
		dev_info(dev, "tv-bpmp-test: serial clock: get %ld\n", PTR_ERR(clk));
		return PTR_ERR(clk);
	}
	err = clk_prepare_enable(clk);
	parent = clk_get_parent(clk);
	dev_info(dev, "tv-bpmp-test: serial clock %s enable %d rate %lu parent %s\n",
		 __clk_get_name(clk), err, clk_get_rate(clk),
		 parent ? __clk_get_name(parent) : "-");
	if (err)
		return err;

	rst = devm_reset_control_get_exclusive(dev, "serial");
	if (IS_ERR(rst)) {
		dev_info(dev, "tv-bpmp-test: serial reset: get %ld\n", PTR_ERR(rst));
	} else {
		err = reset_control_assert(rst);
		usleep_range(10, 20);
		dev_info(dev, "tv-bpmp-test: serial reset assert %d deassert %d\n",
			 err, reset_control_deassert(rst));
	}

	tvbt_other_clock(dev);
	platform_set_drvdata(pdev, clk);
	dev_info(dev, "tv-bpmp-test: bound\n");
	return 0;
}

static int tvbt_remove(struct platform_device *pdev)
{
	clk_disable_unprepare(platform_get_drvdata(pdev));
	dev_info(&pdev->dev, "tv-bpmp-test: unbound, serial clock off\n");
	return 0;
}

static const struct of_device_id tvbt_match[] = {
	{ .compatible = "nvidia,tegra194-hsuart" },
	{ }
};
MODULE_DEVICE_TABLE(of, tvbt_match);

static struct platform_driver tvbt_driver = {
	.driver = {
		.name = "tv-bpmp-guest-test",
		.of_match_table = tvbt_match,
	},
	.probe = tvbt_probe,
	.remove = tvbt_remove,
};
module_platform_driver(tvbt_driver);

MODULE_DESCRIPTION("tegravirt test: a guest device's BPMP clock and reset through the virtual BPMP");
MODULE_LICENSE("GPL");
