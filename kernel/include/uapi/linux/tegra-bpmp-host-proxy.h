/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * User-space interface of the Tegra BPMP host proxy (/dev/bpmp-host).
 *
 * ioctl ABI, version 1
 * --------------------
 * A VMM forwards one BPMP transfer of its guest with one
 * TEGRA_BPMP_HOST_IOC_XFER ioctl on an open /dev/bpmp-host. The request
 * and reply travel inline in struct tegra_bpmp_host_xfer (no user
 * pointers): the proxy copies the whole struct in once, checks it,
 * calls the BPMP and copies the whole struct back. write() fails with
 * EINVAL; read() returns 0.
 *
 * Every ioctl fails with:
 *   ENOTTY  an unknown ioctl number
 *   EFAULT  the argument cannot be read or written
 *   EINVAL  a flags or reserved field is not 0
 *   ENODEV  the proxy is being (or has been) unbound
 *
 * TEGRA_BPMP_HOST_IOC_VERSION fills struct tegra_bpmp_host_version:
 *   version TEGRA_BPMP_HOST_ABI_VERSION, max_data
 *   TEGRA_BPMP_HOST_MAX_DATA, max_ids TEGRA_BPMP_HOST_MAX_IDS, nr_kinds
 *   TEGRA_BPMP_HOST_NR_KINDS, reserved 0.
 *
 * TEGRA_BPMP_HOST_IOC_XFER sends tx[0..tx_size) to MRQ mrq. The request
 * passes only if both the global active set (sysfs active_*, below) and
 * the file's own sets allow it. The reply is at most rx_size bytes and
 * at most what the policy knows that MRQ/command to return; on return
 * rx_size holds the bytes of reply, rx[] is zero past it and ret holds
 * the firmware status (never an errno of the ioctl). Errors:
 *   EINVAL  tx_size or rx_size larger than TEGRA_BPMP_HOST_MAX_DATA, or
 *           a request not of the exact size its MRQ/command takes
 *   EPERM   a set denies the request (logged, rate-limited)
 *   EAGAIN  the file exceeded its transfer rate (module parameters
 *           rate_limit per second and rate_burst; 0 = unlimited)
 *   other   the transport error of the BPMP (e.g. ETIMEDOUT)
 *
 * TEGRA_BPMP_HOST_IOC_RESTRICT narrows the file's set of one kind to
 * ids[0..count). Every ID must already be in the file's set of that kind,
 * else EPERM and nothing changes: a file's sets only ever narrow
 * (sealed). Repeated IDs collapse; count 0 empties the set. kind not a
 * TEGRA_BPMP_HOST_* kind or count > TEGRA_BPMP_HOST_MAX_IDS: EINVAL. No
 * capability is needed. A fresh file's sets are the device-tree ceiling
 * (allowed_*); the global active set bounds them as well.
 *
 * TEGRA_BPMP_HOST_IOC_GET_IDS stores the file's set of one kind in count
 * and ids[] (ceiling order, zero past count).
 *
 * Per-file accounting: a successful (firmware ret 0) transfer of CLK
 * ENABLE on a clock of the file's clocks set (not a parent-only clock,
 * not a protected root) marks it, CLK DISABLE unmarks it; RESET ASSERT
 * marks a reset, DEASSERT unmarks it; PG SET_STATE to ON or RUNNING
 * marks a power domain, to OFF unmarks it. When the file is released
 * (its last close), the proxy undoes each mark: CLK DISABLE, then RESET
 * DEASSERT, then PG SET_STATE OFF; errors are logged and ignored. If the
 * proxy is unbound while the file is open, the unbinding undoes its
 * marks the same way and its later release sends nothing.
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
 *       The global set enforced on every file (on top of the file's own
 *       sets); same read format, listed in ceiling order. Empty (deny
 *       all) from probe until first written. A write needs CAP_SYS_ADMIN
 *       (else EPERM) and holds decimal IDs separated by spaces, tabs,
 *       newlines or commas; nothing but separators sets the empty set
 *       (deny all); the single word "all" restores the ceiling. A token
 *       that is not a decimal u32 (no sign, no 0x), an ID outside the
 *       ceiling, or "all" with another token gives EINVAL and changes
 *       nothing. Repeated IDs collapse. Each write replaces the set
 *       atomically and returns only after every transfer checked against
 *       the old set has finished.
 */
#ifndef _UAPI_LINUX_TEGRA_BPMP_HOST_PROXY_H
#define _UAPI_LINUX_TEGRA_BPMP_HOST_PROXY_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define TEGRA_BPMP_HOST_ABI_VERSION	1

/*
 * Largest tx_size and rx_size: what the BPMP accepts (MSG_DATA_MIN_SZ),
 * smaller than the 512-byte TX and RX windows of the VMM device.
 */
#define TEGRA_BPMP_HOST_MAX_DATA	120

/* Largest set of one kind (the device-tree ceiling's limit). */
#define TEGRA_BPMP_HOST_MAX_IDS		256

#define TEGRA_BPMP_HOST_IOC_MAGIC	0xB7

/* Resource kinds, in the order of the sysfs attributes. */
#define TEGRA_BPMP_HOST_CLOCKS		0
#define TEGRA_BPMP_HOST_RESETS		1
#define TEGRA_BPMP_HOST_POWER_DOMAINS	2
#define TEGRA_BPMP_HOST_PARENT_CLOCKS	3
#define TEGRA_BPMP_HOST_NR_KINDS	4

struct tegra_bpmp_host_version {	/* out only */
	__u32 version;		/* TEGRA_BPMP_HOST_ABI_VERSION */
	__u32 max_data;		/* TEGRA_BPMP_HOST_MAX_DATA */
	__u32 max_ids;		/* TEGRA_BPMP_HOST_MAX_IDS */
	__u32 nr_kinds;		/* TEGRA_BPMP_HOST_NR_KINDS */
	__u64 reserved[2];	/* 0 */
};

struct tegra_bpmp_host_xfer {
	__u32 mrq;		/* in: MRQ number */
	__u32 flags;		/* in: must be 0 */
	__u32 tx_size;		/* in: request bytes, <= MAX_DATA */
	__u32 rx_size;		/* in: room wanted, <= MAX_DATA; out: reply bytes */
	__s32 ret;		/* out: firmware status (MRQ return code) */
	__u32 reserved0;	/* in: must be 0 */
	__u64 reserved1;	/* in: must be 0 */
	__u8 tx[TEGRA_BPMP_HOST_MAX_DATA];	/* in: request */
	__u8 rx[TEGRA_BPMP_HOST_MAX_DATA];	/* out: reply, zero past rx_size */
};

struct tegra_bpmp_host_ids {
	__u32 kind;		/* in: TEGRA_BPMP_HOST_CLOCKS .. PARENT_CLOCKS */
	__u32 count;		/* RESTRICT: in; GET_IDS: out */
	__u32 flags;		/* in: must be 0 */
	__u32 reserved;		/* in: must be 0 */
	__u32 ids[TEGRA_BPMP_HOST_MAX_IDS];
};

#define TEGRA_BPMP_HOST_IOC_VERSION \
	_IOR(TEGRA_BPMP_HOST_IOC_MAGIC, 0x00, struct tegra_bpmp_host_version)
#define TEGRA_BPMP_HOST_IOC_XFER \
	_IOWR(TEGRA_BPMP_HOST_IOC_MAGIC, 0x01, struct tegra_bpmp_host_xfer)
#define TEGRA_BPMP_HOST_IOC_RESTRICT \
	_IOW(TEGRA_BPMP_HOST_IOC_MAGIC, 0x02, struct tegra_bpmp_host_ids)
#define TEGRA_BPMP_HOST_IOC_GET_IDS \
	_IOWR(TEGRA_BPMP_HOST_IOC_MAGIC, 0x03, struct tegra_bpmp_host_ids)

/*
 * Fails to compile (negative array size) unless the layouts are the same
 * on every architecture: no padding, 32 + 272 + 1040 bytes.
 */
struct tegra_bpmp_host_layout_check {
	char version_is_32[sizeof(struct tegra_bpmp_host_version) == 32 ?
			   1 : -1];
	char xfer_is_272[sizeof(struct tegra_bpmp_host_xfer) == 272 ? 1 : -1];
	char xfer_tx_at_32[__builtin_offsetof(struct tegra_bpmp_host_xfer,
					      tx) == 32 ? 1 : -1];
	char xfer_rx_at_152[__builtin_offsetof(struct tegra_bpmp_host_xfer,
					       rx) == 152 ? 1 : -1];
	char ids_is_1040[sizeof(struct tegra_bpmp_host_ids) == 1040 ? 1 : -1];
	char ids_at_16[__builtin_offsetof(struct tegra_bpmp_host_ids,
					  ids) == 16 ? 1 : -1];
};

#endif /* _UAPI_LINUX_TEGRA_BPMP_HOST_PROXY_H */
