/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy of the Tegra BPMP host proxy: which BPMP requests a virtual
 * machine may send, the parser of the runtime-narrowing sysfs input, and
 * the per-file helpers of /dev/bpmp-host (narrowing a file's sets, the
 * accounting of what it did, the requests that undo that at release, the
 * rate limit).
 *
 * This file and bpmp-host-policy.c are plain C so that the same code is
 * built into the kernel module, a user-space unit test and the simulated
 * /dev/bpmp-host of tests/fixture/. Outside the kernel,
 * "bpmp-policy-shim.h" (from tests/unit/) supplies u8, u32, u64, bool,
 * size_t, memcpy(), memmove() and the errno values.
 */
#ifndef BPMP_HOST_POLICY_H
#define BPMP_HOST_POLICY_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include "bpmp-policy-shim.h"
#endif

/* Largest ID set (DT ceiling and active set) per resource class. */
#define BPMP_POLICY_MAX_IDS		256U

/*
 * Largest TX or RX payload: the BPMP accepts MSG_DATA_MIN_SZ (120) bytes,
 * less than the 512-byte window of the VMM. The driver asserts that this
 * equals MSG_DATA_MIN_SZ from <soc/tegra/bpmp-abi.h>.
 */
#define BPMP_POLICY_MAX_DATA		120U

/* Largest input accepted by bpmp_policy_parse_ids() (a sysfs page). */
#define BPMP_POLICY_MAX_INPUT		4096U

/*
 * The BPMP ABI numbers the policy needs, with the values of
 * <soc/tegra/bpmp-abi.h>; the driver checks them at build time.
 */
#define BPMP_POLICY_MRQ_PING			0U
#define BPMP_POLICY_MRQ_QUERY_TAG		1U
#define BPMP_POLICY_MRQ_THREADED_PING		9U
#define BPMP_POLICY_MRQ_DEBUGFS			19U
#define BPMP_POLICY_MRQ_RESET			20U
#define BPMP_POLICY_MRQ_I2C			21U
#define BPMP_POLICY_MRQ_CLK			22U
#define BPMP_POLICY_MRQ_QUERY_ABI		23U
#define BPMP_POLICY_MRQ_THERMAL			27U
#define BPMP_POLICY_MRQ_EMC_DVFS_LATENCY	31U
#define BPMP_POLICY_MRQ_PG			66U
#define BPMP_POLICY_MRQ_STRAP			68U
#define BPMP_POLICY_MRQ_UPHY			69U
#define BPMP_POLICY_MRQ_QUERY_FW_TAG		71U
#define BPMP_POLICY_MRQ_DEBUG			75U
/* Not in every kernel's bpmp-abi.h: T234 ABI values. */
#define BPMP_POLICY_MRQ_EMC_DVFS_EMCHUB		76U
#define BPMP_POLICY_MRQ_BWMGR			77U
#define BPMP_POLICY_MRQ_ISO_CLIENT		78U

/* MRQ_CLK: word 0 is cmd_and_id, the command in bits 31..24. */
#define BPMP_POLICY_CLK_CMD_SHIFT		24U
#define BPMP_POLICY_CLK_ID_MASK			0x00ffffffU

#define BPMP_POLICY_CLK_GET_RATE		1U
#define BPMP_POLICY_CLK_SET_RATE		2U
#define BPMP_POLICY_CLK_ROUND_RATE		3U
#define BPMP_POLICY_CLK_GET_PARENT		4U
#define BPMP_POLICY_CLK_SET_PARENT		5U
#define BPMP_POLICY_CLK_IS_ENABLED		6U
#define BPMP_POLICY_CLK_ENABLE			7U
#define BPMP_POLICY_CLK_DISABLE			8U
#define BPMP_POLICY_CLK_GET_ALL_INFO		14U
#define BPMP_POLICY_CLK_GET_MAX_CLK_ID		15U
#define BPMP_POLICY_CLK_GET_FMAX_AT_VMIN	16U
/* One past the last command above (CMD_CLK_MAX of the ABI header). */
#define BPMP_POLICY_CLK_CMD_END			17U

/* MRQ_RESET: struct mrq_reset_request { u32 cmd; u32 reset_id; } */
#define BPMP_POLICY_RESET_ASSERT		1U
#define BPMP_POLICY_RESET_DEASSERT		2U
#define BPMP_POLICY_RESET_MODULE		3U
#define BPMP_POLICY_RESET_GET_MAX_ID		4U
#define BPMP_POLICY_RESET_CMD_END		5U

/* MRQ_PG: struct mrq_pg_request { u32 cmd; u32 id; union ...; } */
#define BPMP_POLICY_PG_QUERY_ABI		0U
#define BPMP_POLICY_PG_SET_STATE		1U
#define BPMP_POLICY_PG_GET_STATE		2U
#define BPMP_POLICY_PG_GET_NAME			3U
#define BPMP_POLICY_PG_GET_MAX_ID		4U

/*
 * Tegra234 clock roots shared with the whole SoC: a guest may enable and
 * query them when they are allow-listed, never disable, re-rate or
 * re-parent them. Only PLLP_OUT0 has a macro in Linux 6.1's
 * <dt-bindings/clock/tegra234-clock.h>; the driver checks every one that
 * the header being built against defines.
 */
#define BPMP_POLICY_CLK_CLK_M			14U
#define BPMP_POLICY_CLK_OSC			91U
#define BPMP_POLICY_CLK_PLLP_OUT0		102U
#define BPMP_POLICY_CLK_UTMIP_PLL		103U
#define BPMP_POLICY_CLK_PLLREFE_VCOOUT		288U
#define BPMP_POLICY_CLK_UTMIPLL_CLKOUT480	292U
#define BPMP_POLICY_CLK_PLLREFE_VCOOUT_GATED	327U

/* A set of resource IDs, at most BPMP_POLICY_MAX_IDS, without duplicates. */
struct bpmp_policy_set {
	const u32 *ids;
	unsigned int n;
};

/*
 * The sets enforced for one request. @parent_clocks are the parents the
 * guest's clk_prepare() walks: it may enable and query them, never
 * disable, re-rate or re-parent them (other devices run from them). A
 * clock in @clocks is fully controllable even when also in @parent_clocks.
 */
struct bpmp_policy {
	struct bpmp_policy_set clocks;
	struct bpmp_policy_set resets;
	struct bpmp_policy_set power_domains;
	struct bpmp_policy_set parent_clocks;
};

/* What a decision was about, for the log. */
struct bpmp_policy_verdict {
	bool has_cmd;
	bool has_id;
	u32 cmd;
	u32 id;
	/*
	 * Of an allowed request: the size of the firmware's reply. The
	 * BPMP does not say how much it wrote, so the driver copies no more
	 * than this: the rest of the frame holds stale bytes.
	 */
	u32 rx_size;
	const char *reason;
};

/*
 * The protected roots and the clock IDs above are Tegra234's: on Tegra186
 * the roots are other IDs and 102/103 name other clocks. The proxy serves
 * only a BPMP whose compatible lists this one.
 */
#define BPMP_POLICY_BPMP_COMPATIBLE		"nvidia,tegra234-bpmp"

/*
 * Whether @compat, a "compatible" property (@len bytes of NUL-terminated
 * strings), lists BPMP_POLICY_BPMP_COMPATIBLE. NULL is false.
 */
bool bpmp_policy_bpmp_supported(const char *compat, size_t len);

bool bpmp_policy_set_contains(const struct bpmp_policy_set *set, u32 id);
bool bpmp_policy_clk_is_protected(u32 id);

/*
 * Decide on one request to the BPMP. @tx is the request payload of
 * @tx_size bytes (may be NULL when @tx_size is 0).
 *
 * Returns 0 when the request may be forwarded, -EPERM when the policy
 * denies it and -EINVAL when the request is malformed (longer than
 * BPMP_POLICY_MAX_DATA, or too short to hold the fields the policy has
 * to read). @out, if not NULL, is filled in every case.
 */
int bpmp_policy_check(const struct bpmp_policy *p, u32 mrq, const void *tx,
		      size_t tx_size, struct bpmp_policy_verdict *out);

/*
 * Parse the input of an active_* sysfs attribute: decimal u32 IDs
 * separated by spaces, tabs, newlines or commas, or the single word "all"
 * for the whole ceiling; nothing but separators means the empty set.
 * Every ID must be in @ceiling. Duplicates collapse. The result is
 * written to @out (room for @n_ceiling IDs) in ceiling order.
 *
 * Returns 0, or -EINVAL (and leaves @out and @n_out untouched) for input
 * longer than BPMP_POLICY_MAX_INPUT, a token that is not a decimal u32,
 * "all" next to another token, or an ID outside the ceiling.
 */
int bpmp_policy_parse_ids(const char *buf, size_t len, const u32 *ceiling,
			  unsigned int n_ceiling, u32 *out, unsigned int *n_out);

/*
 * Remove repeated IDs from @ids in place, keeping the first occurrence.
 * Returns the new count.
 */
unsigned int bpmp_policy_dedup(u32 *ids, unsigned int n);

/*
 * Resource kinds, the values of TEGRA_BPMP_HOST_CLOCKS .. _PARENT_CLOCKS
 * of the uapi header (the driver checks them at build time). The first
 * BPMP_POLICY_NR_MARK_KINDS are the ones a file's accounting marks.
 */
#define BPMP_POLICY_CLOCKS		0U
#define BPMP_POLICY_RESETS		1U
#define BPMP_POLICY_POWER_DOMAINS	2U
#define BPMP_POLICY_PARENT_CLOCKS	3U
#define BPMP_POLICY_NR_KINDS		4U
#define BPMP_POLICY_NR_MARK_KINDS	3U

/* MRQ_PG SET_STATE states (enum pg_states of the BPMP ABI). */
#define BPMP_POLICY_PG_STATE_OFF		0U
#define BPMP_POLICY_PG_STATE_ON			1U
#define BPMP_POLICY_PG_STATE_RUNNING		2U

/* Storage for one set per kind (a ceiling, an active set, a file's sets). */
struct bpmp_policy_sets {
	unsigned int n[BPMP_POLICY_NR_KINDS];
	u32 ids[BPMP_POLICY_NR_KINDS][BPMP_POLICY_MAX_IDS];
};

/* Point @p at the sets of @s (no copy: @p is valid while @s is). */
void bpmp_policy_of_sets(const struct bpmp_policy_sets *s,
			 struct bpmp_policy *p);

/*
 * Narrow a set (a file's RESTRICT): the result is the IDs of @req
 * (@n_req of them, repeats collapse) in the order of @cur. Every ID of
 * @req must be in @cur (@n_cur IDs), else -EPERM; @n_req or @n_cur above
 * BPMP_POLICY_MAX_IDS gives -EINVAL. On error @out and @n_out are left
 * untouched. @out has room for @n_cur IDs and may be @cur itself.
 */
int bpmp_policy_narrow(const u32 *cur, unsigned int n_cur, const u32 *req,
		       unsigned int n_req, u32 *out, unsigned int *n_out);

/* What an allowed request does to a file's accounting. */
#define BPMP_POLICY_EFFECT_NONE		0
#define BPMP_POLICY_EFFECT_MARK		1
#define BPMP_POLICY_EFFECT_UNMARK	2

struct bpmp_policy_effect {
	int op;			/* BPMP_POLICY_EFFECT_* */
	unsigned int kind;	/* BPMP_POLICY_CLOCKS, _RESETS, _POWER_DOMAINS */
	u32 id;
};

/*
 * The effect of a request that bpmp_policy_check() allowed and the
 * firmware carried out (ret 0), with @p the file's own sets: CLK ENABLE
 * of a clock in @p->clocks that is not a protected root marks it and CLK
 * DISABLE of such a clock unmarks it (a parent-only clock or a root is
 * shared with the host: never marked); RESET ASSERT of a reset in
 * @p->resets marks it, DEASSERT unmarks it (MODULE leaves it as it is);
 * PG SET_STATE of a power domain in @p->power_domains to ON or RUNNING
 * marks it, to OFF unmarks it. Anything else is BPMP_POLICY_EFFECT_NONE.
 */
void bpmp_policy_effect(const struct bpmp_policy *p, u32 mrq, const void *tx,
			size_t tx_size, struct bpmp_policy_effect *out);

/*
 * A file's marks: what it enabled, asserted or powered on, in the order
 * it did so, without repeats.
 */
struct bpmp_policy_marks {
	unsigned int n[BPMP_POLICY_NR_MARK_KINDS];
	u32 ids[BPMP_POLICY_NR_MARK_KINDS][BPMP_POLICY_MAX_IDS];
};

/*
 * Apply @e to @m: a mark adds the ID unless present, an unmark removes
 * it if present (keeping the order of the others). Returns 0, or
 * -ENOSPC when a kind already holds BPMP_POLICY_MAX_IDS marks (cannot
 * happen for marks of IDs from a ceiling) and -EINVAL for a bad kind.
 */
int bpmp_policy_marks_apply(struct bpmp_policy_marks *m,
			    const struct bpmp_policy_effect *e);

/*
 * Remove the next mark to undo at release from @m and store it in @kind
 * and @id: the clocks first, then the resets, then the power domains,
 * each kind's latest mark first. Returns false when no mark is left.
 */
bool bpmp_policy_marks_pop(struct bpmp_policy_marks *m, unsigned int *kind,
			   u32 *id);

/* Largest request bpmp_policy_undo_request() builds. */
#define BPMP_POLICY_UNDO_MAX		12U

/*
 * The request that undoes mark @id of @kind: MRQ_CLK CLK DISABLE (4
 * bytes), MRQ_RESET DEASSERT (8 bytes) or MRQ_PG SET_STATE OFF (12
 * bytes), the exact sizes bpmp_policy_check() accepts. Stores the MRQ in
 * @mrq and the request in @tx (room for BPMP_POLICY_UNDO_MAX bytes).
 * Returns the request size, or 0 (nothing stored) for a kind that is not
 * marked or a clock ID that does not fit in cmd_and_id.
 */
size_t bpmp_policy_undo_request(unsigned int kind, u32 id, u32 *mrq,
				u8 *tx);

/*
 * Per-file rate limit: a token bucket of @burst transfers refilled at
 * @rate per second, with the time passed in (@now_ns, a monotonic clock
 * in nanoseconds). All zero (as allocated) is a valid bucket: it starts
 * full at its first use.
 */
struct bpmp_policy_bucket {
	u64 credit;		/* tokens times 10^9 */
	u64 last_ns;
	bool primed;
};

/*
 * Take one token. Returns true when the transfer may go, false when the
 * bucket is empty. @rate or @burst 0 means unlimited (always true).
 */
bool bpmp_policy_bucket_take(struct bpmp_policy_bucket *b, u64 now_ns,
			     u32 rate, u32 burst);

#endif /* BPMP_HOST_POLICY_H */
