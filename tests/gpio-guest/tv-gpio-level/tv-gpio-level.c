// SPDX-License-Identifier: GPL-2.0-only
/*
 * tv-gpio-level: test-only guest module of the gpio-guest tests. The GPIO uAPI only has edge
 * events, so a level-triggered interrupt of a virtio-gpio line is taken here, as an in-kernel
 * consumer would: line `line` of the chip labelled `label` is requested as input and its
 * interrupt with IRQF_TRIGGER_HIGH or _LOW (`type=high|low`). Each interrupt is counted
 * (read-only parameter `count`); a level interrupt fires again each time it is unmasked
 * while the level holds, so after `max` of them the module disables it (a real driver would
 * clear its source instead). `disabled` says whether that happened.
 */
#include <linux/gpio.h>
#include <linux/gpio/driver.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/string.h>

static char *label = "virtio0";
module_param(label, charp, 0444);
static int line;
module_param(line, int, 0444);
static char *type = "high";
module_param(type, charp, 0444);
static int max = 3;
module_param(max, int, 0444);
static int count;
module_param(count, int, 0444);
static int disabled;
module_param(disabled, int, 0444);

static int gpio = -1, irq = -1;

static int match_label(struct gpio_chip *gc, void *data)
{
	return gc->label && !strcmp(gc->label, data);
}

static irqreturn_t tv_level_thread(int i, void *dev)
{
	count++;
	pr_info("tv-gpio-level: irq %d on line %d, value %d\n", count, line,
		gpio_get_value_cansleep(gpio));
	if (count >= max && !disabled) {
		disabled = 1;
		disable_irq_nosync(i);
	}
	return IRQ_HANDLED;
}

static int __init tv_level_init(void)
{
	unsigned long flags = IRQF_ONESHOT;
	struct gpio_chip *gc;
	int ret;

	if (!strcmp(type, "high"))
		flags |= IRQF_TRIGGER_HIGH;
	else if (!strcmp(type, "low"))
		flags |= IRQF_TRIGGER_LOW;
	else
		return -EINVAL;
	gc = gpiochip_find(label, match_label);
	if (!gc || line < 0 || line >= gc->ngpio)
		return -ENODEV;
	gpio = gc->base + line;
	ret = gpio_request_one(gpio, GPIOF_IN, "tv-gpio-level");
	if (ret)
		return ret;
	irq = gpio_to_irq(gpio);
	if (irq < 0) {
		gpio_free(gpio);
		return irq;
	}
	ret = request_threaded_irq(irq, NULL, tv_level_thread, flags, "tv-gpio-level", &count);
	if (ret) {
		gpio_free(gpio);
		return ret;
	}
	pr_info("tv-gpio-level: line %d of %s, irq %d, level %s\n", line, label, irq, type);
	return 0;
}

static void __exit tv_level_exit(void)
{
	if (disabled)
		enable_irq(irq);
	free_irq(irq, &count);
	gpio_free(gpio);
}

module_init(tv_level_init);
module_exit(tv_level_exit);
MODULE_DESCRIPTION("tegravirt test: a level-triggered interrupt of a virtio-gpio line");
MODULE_LICENSE("GPL");
