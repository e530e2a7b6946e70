/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * User-space interface of the Tegra BPMP host proxy (/dev/bpmp-host).
 *
 * Wire message
 * ------------
 * A VMM forwards one BPMP transfer of its guest with one write() of
 * exactly sizeof(struct tegra_bpmp_host_message) == 48 bytes. tx.data and
 * rx.data are addresses in the writer's own address space. The proxy
 * copies tx.size bytes in, checks the request against its policy, calls
 * the BPMP, copies rx.size bytes of reply to rx.data and stores the
 * firmware status in rx.ret and the reply size in rx.size of the
 * written buffer itself. write() returns 48 on success, else -1 with:
 *
 *   EINVAL  length is not 48; tx.size or rx.size is larger than
 *           TEGRA_BPMP_HOST_MAX_DATA; or a policed request is too short
 *           for the fields the policy reads (malformed)
 *   EFAULT  tx.data, rx.data or the message itself cannot be accessed
 *   EPERM   the policy denies the request (logged, rate-limited)
 *   ENODEV  the proxy is being unbound
 *   other   the transport error of tegra_bpmp_transfer() (e.g. ETIMEDOUT)
 *
 * The firmware's own status is never an errno of write(): it is rx.ret.
 * read() returns 0; there is no ioctl.
 *
 * This layout is that of the arm64 kernel's struct tegra_bpmp_message
 * before Linux 6.7 (which added a flags field); it is fixed here so that
 * it does not change with the kernel.
 *
 * Runtime narrowing (sysfs)
 * -------------------------
 * The proxy's platform device, /sys/bus/platform/devices/<node>/, has:
 *
 *   allowed_clocks, allowed_resets, allowed_power_domains,
 *   allowed_parent_clocks                                      (0444)
 *       The ceiling from the device tree properties allowed-clocks,
 *       allowed-resets, allowed-power-domains and allowed-parent-clocks:
 *       decimal IDs in DT order (repeats dropped) separated by one space,
 *       then "\n"; an empty list reads as "\n". A parent clock may only be
 *       enabled and queried (and named as an allowed clock's new parent).
 *
 *   active_clocks, active_resets, active_power_domains,
 *   active_parent_clocks                                       (0644)
 *       The set enforced by write(); same read format, listed in ceiling
 *       order. Empty (deny all) from probe until first written. A write needs
 *       CAP_SYS_ADMIN (else EPERM) and holds decimal IDs separated by
 *       spaces, tabs, newlines or commas; nothing but separators sets the
 *       empty set (deny all); the single word "all" restores the
 *       ceiling. A token that is not a decimal u32 (no sign, no 0x), an
 *       ID outside the ceiling, or "all" with another token gives EINVAL
 *       and changes nothing. Repeated IDs collapse. Each write replaces
 *       the set atomically with respect to concurrent transfers.
 */
#ifndef _UAPI_LINUX_TEGRA_BPMP_HOST_PROXY_H
#define _UAPI_LINUX_TEGRA_BPMP_HOST_PROXY_H

#include <linux/types.h>

/* Size of every write() to /dev/bpmp-host. */
#define TEGRA_BPMP_HOST_MESSAGE_SIZE	48

/*
 * Largest tx.size and rx.size: what the BPMP accepts (MSG_DATA_MIN_SZ),
 * smaller than the 512-byte TX and RX windows of the VMM device.
 */
#define TEGRA_BPMP_HOST_MAX_DATA	120

struct tegra_bpmp_host_message {
	__u32 mrq;			/* in: MRQ number */
	__u32 reserved0;		/* ignored */
	struct {
		__u64 data;		/* in: address of the request */
		__u64 size;		/* in: request size in bytes */
	} tx;
	struct {
		__u64 data;		/* in: address of the reply buffer */
		__u64 size;		/* in: reply size; out: bytes written */
		__s32 ret;		/* out: BPMP firmware status */
		__u32 reserved1;	/* ignored */
	} rx;
};

/* Fails to compile (negative array size) unless the layout is 48 bytes. */
struct tegra_bpmp_host_message_size_check {
	char size_is_48[sizeof(struct tegra_bpmp_host_message) ==
			TEGRA_BPMP_HOST_MESSAGE_SIZE ? 1 : -1];
};

#endif /* _UAPI_LINUX_TEGRA_BPMP_HOST_PROXY_H */
