// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy of the Tegra BPMP host proxy, as plain C (see bpmp-host-policy.h).
 *
 * Deny by default: a request passes only when it matches a rule below.
 */
#include "bpmp-host-policy.h"

/*
 * Reply sizes of <soc/tegra/bpmp-abi.h> (packed structures): struct
 * cmd_clk_*_response, cmd_reset_get_max_id_response, cmd_pg_*_response,
 * mrq_{ping,query_abi,query_fw_tag,emc_dvfs_latency}_response; an empty
 * response is 0. EMC_DVFS_EMCHUB's is EMC_DVFS_LATENCY's layout.
 */
static const u8 bpmp_policy_clk_rx[BPMP_POLICY_CLK_CMD_END] = {
	[BPMP_POLICY_CLK_GET_RATE] = 8,
	[BPMP_POLICY_CLK_SET_RATE] = 8,
	[BPMP_POLICY_CLK_ROUND_RATE] = 8,
	[BPMP_POLICY_CLK_GET_PARENT] = 4,
	[BPMP_POLICY_CLK_SET_PARENT] = 4,
	[BPMP_POLICY_CLK_IS_ENABLED] = 4,
	[BPMP_POLICY_CLK_GET_ALL_INFO] = 113,
	[BPMP_POLICY_CLK_GET_MAX_CLK_ID] = 4,
	[BPMP_POLICY_CLK_GET_FMAX_AT_VMIN] = 8,
};

/*
 * Request sizes: struct mrq_clk_request is cmd_and_id and a union of
 * cmd_clk_*_request (SET_RATE and ROUND_RATE 12 bytes, SET_PARENT 4, the
 * others empty): 4 + the command's member, 0 for an unknown command.
 * Linux's clk, reset and powergate drivers send the whole structure.
 */
#define BPMP_POLICY_CLK_REQ_SIZE	16U
#define BPMP_POLICY_RESET_REQ_SIZE	8U
#define BPMP_POLICY_PG_REQ_SIZE		12U

static const u8 bpmp_policy_clk_tx[BPMP_POLICY_CLK_CMD_END] = {
	[BPMP_POLICY_CLK_GET_RATE] = 4,
	[BPMP_POLICY_CLK_SET_RATE] = 16,
	[BPMP_POLICY_CLK_ROUND_RATE] = 16,
	[BPMP_POLICY_CLK_GET_PARENT] = 4,
	[BPMP_POLICY_CLK_SET_PARENT] = 8,
	[BPMP_POLICY_CLK_IS_ENABLED] = 4,
	[BPMP_POLICY_CLK_ENABLE] = 4,
	[BPMP_POLICY_CLK_DISABLE] = 4,
	[BPMP_POLICY_CLK_GET_ALL_INFO] = 4,
	[BPMP_POLICY_CLK_GET_MAX_CLK_ID] = 4,
	[BPMP_POLICY_CLK_GET_FMAX_AT_VMIN] = 4,
};

static const u32 bpmp_policy_protected_clks[] = {
	BPMP_POLICY_CLK_CLK_M,
	BPMP_POLICY_CLK_OSC,
	BPMP_POLICY_CLK_PLLP_OUT0,
	BPMP_POLICY_CLK_UTMIP_PLL,
	BPMP_POLICY_CLK_PLLREFE_VCOOUT,
	BPMP_POLICY_CLK_UTMIPLL_CLKOUT480,
	BPMP_POLICY_CLK_PLLREFE_VCOOUT_GATED,
};

bool bpmp_policy_bpmp_supported(const char *compat, size_t len)
{
	static const char want[] = BPMP_POLICY_BPMP_COMPATIBLE;
	size_t pos = 0;

	if (!compat)
		return false;

	while (pos < len) {
		size_t n = strnlen(compat + pos, len - pos);

		/* A last string without its NUL is not a match. */
		if (pos + n < len && n == sizeof(want) - 1 &&
		    !memcmp(compat + pos, want, n))
			return true;
		pos += n + 1;
	}

	return false;
}

bool bpmp_policy_set_contains(const struct bpmp_policy_set *set, u32 id)
{
	unsigned int i;

	for (i = 0; i < set->n; i++)
		if (set->ids[i] == id)
			return true;

	return false;
}

bool bpmp_policy_clk_is_protected(u32 id)
{
	unsigned int i;

	for (i = 0; i < sizeof(bpmp_policy_protected_clks) /
			sizeof(bpmp_policy_protected_clks[0]); i++)
		if (bpmp_policy_protected_clks[i] == id)
			return true;

	return false;
}

/*
 * Whether a request of @tx_size bytes is exactly @exact bytes long, or is
 * the whole request structure of @full bytes with nothing but zeros past
 * @exact: no byte the firmware's parser does not expect gets through.
 */
static bool bpmp_policy_exact(const void *tx, size_t tx_size, size_t exact,
			      size_t full)
{
	size_t i;

	if (tx_size == exact)
		return true;
	if (tx_size != full || full < exact)
		return false;
	for (i = exact; i < full; i++)
		if (((const u8 *)tx)[i])
			return false;

	return true;
}

/* Word @index of the request, in the byte order of the BPMP ABI (CPU). */
static u32 bpmp_policy_word(const void *tx, unsigned int index)
{
	u32 word;

	memcpy(&word, (const u8 *)tx + index * sizeof(word), sizeof(word));

	return word;
}

static int bpmp_policy_deny(struct bpmp_policy_verdict *v, const char *why)
{
	v->reason = why;

	return -EPERM;
}

static int bpmp_policy_malformed(struct bpmp_policy_verdict *v,
				 const char *why)
{
	v->reason = why;

	return -EINVAL;
}

static int bpmp_policy_allow(struct bpmp_policy_verdict *v, const char *why)
{
	v->reason = why;

	return 0;
}

static int bpmp_policy_allow_rx(struct bpmp_policy_verdict *v, u32 rx_size,
				const char *why)
{
	v->rx_size = rx_size;

	return bpmp_policy_allow(v, why);
}

static int bpmp_policy_check_clk(const struct bpmp_policy *p, const void *tx,
				 size_t tx_size, struct bpmp_policy_verdict *v)
{
	u32 word, parent;

	if (tx_size < sizeof(u32))
		return bpmp_policy_malformed(v, "MRQ_CLK request too short");

	word = bpmp_policy_word(tx, 0);
	v->cmd = word >> BPMP_POLICY_CLK_CMD_SHIFT;
	v->id = word & BPMP_POLICY_CLK_ID_MASK;
	v->has_cmd = true;
	v->has_id = true;
	if (v->cmd < BPMP_POLICY_CLK_CMD_END && bpmp_policy_clk_tx[v->cmd]) {
		if (!bpmp_policy_exact(tx, tx_size, bpmp_policy_clk_tx[v->cmd],
				       BPMP_POLICY_CLK_REQ_SIZE))
			return bpmp_policy_malformed(v, "MRQ_CLK request size");
		v->rx_size = bpmp_policy_clk_rx[v->cmd];
	}

	switch (v->cmd) {
	case BPMP_POLICY_CLK_GET_PARENT:
	case BPMP_POLICY_CLK_GET_ALL_INFO:
	case BPMP_POLICY_CLK_GET_MAX_CLK_ID:
		return bpmp_policy_allow(v, "read-only clock query");

	case BPMP_POLICY_CLK_GET_RATE:
	case BPMP_POLICY_CLK_ROUND_RATE:
	case BPMP_POLICY_CLK_IS_ENABLED:
	case BPMP_POLICY_CLK_ENABLE:
	case BPMP_POLICY_CLK_GET_FMAX_AT_VMIN:
		if (bpmp_policy_set_contains(&p->clocks, v->id))
			return bpmp_policy_allow(v, "allowed clock");
		if (bpmp_policy_set_contains(&p->parent_clocks, v->id))
			return bpmp_policy_allow(v, "parent clock: enable or query");
		return bpmp_policy_deny(v, "clock not allowed");

	case BPMP_POLICY_CLK_SET_RATE:
	case BPMP_POLICY_CLK_DISABLE:
		if (bpmp_policy_set_contains(&p->parent_clocks, v->id) &&
		    !bpmp_policy_set_contains(&p->clocks, v->id))
			return bpmp_policy_deny(v, "parent clock: enable and query only");
		if (!bpmp_policy_set_contains(&p->clocks, v->id))
			return bpmp_policy_deny(v, "clock not allowed");
		if (bpmp_policy_clk_is_protected(v->id))
			return bpmp_policy_deny(v, "protected clock root");
		return bpmp_policy_allow(v, "allowed clock");

	case BPMP_POLICY_CLK_SET_PARENT:
		/* struct cmd_clk_set_parent_request { u32 parent_id; } */
		if (tx_size < 2 * sizeof(u32))
			return bpmp_policy_malformed(v, "CMD_CLK_SET_PARENT request too short");
		if (bpmp_policy_set_contains(&p->parent_clocks, v->id) &&
		    !bpmp_policy_set_contains(&p->clocks, v->id))
			return bpmp_policy_deny(v, "parent clock: enable and query only");
		if (!bpmp_policy_set_contains(&p->clocks, v->id))
			return bpmp_policy_deny(v, "clock not allowed");
		if (bpmp_policy_clk_is_protected(v->id))
			return bpmp_policy_deny(v, "protected clock root");
		parent = bpmp_policy_word(tx, 1);
		if (!bpmp_policy_set_contains(&p->clocks, parent) &&
		    !bpmp_policy_set_contains(&p->parent_clocks, parent))
			return bpmp_policy_deny(v, "new parent clock not allowed");
		return bpmp_policy_allow(v, "allowed clock and parent");

	default:
		return bpmp_policy_deny(v, "unknown clock command");
	}
}

static int bpmp_policy_check_reset(const struct bpmp_policy *p,
				   const void *tx, size_t tx_size,
				   struct bpmp_policy_verdict *v)
{
	if (tx_size != BPMP_POLICY_RESET_REQ_SIZE)
		return bpmp_policy_malformed(v, "MRQ_RESET request not 8 bytes");

	v->cmd = bpmp_policy_word(tx, 0);
	v->id = bpmp_policy_word(tx, 1);
	v->has_cmd = true;
	v->has_id = true;

	switch (v->cmd) {
	case BPMP_POLICY_RESET_GET_MAX_ID:
		return bpmp_policy_allow_rx(v, 4, "read-only reset query");

	case BPMP_POLICY_RESET_ASSERT:
	case BPMP_POLICY_RESET_DEASSERT:
	case BPMP_POLICY_RESET_MODULE:
		if (!bpmp_policy_set_contains(&p->resets, v->id))
			return bpmp_policy_deny(v, "reset not allowed");
		return bpmp_policy_allow(v, "allowed reset");

	default:
		return bpmp_policy_deny(v, "unknown reset command");
	}
}

static int bpmp_policy_check_pg(const struct bpmp_policy *p, const void *tx,
				size_t tx_size, struct bpmp_policy_verdict *v)
{
	if (tx_size < 2 * sizeof(u32))
		return bpmp_policy_malformed(v, "MRQ_PG request too short");

	v->cmd = bpmp_policy_word(tx, 0);
	v->id = bpmp_policy_word(tx, 1);
	v->has_cmd = true;
	v->has_id = true;

	/* QUERY_ABI and SET_STATE carry a u32 after cmd and id. */
	if (v->cmd <= BPMP_POLICY_PG_GET_MAX_ID &&
	    !bpmp_policy_exact(tx, tx_size,
			       v->cmd == BPMP_POLICY_PG_QUERY_ABI ||
			       v->cmd == BPMP_POLICY_PG_SET_STATE ?
			       BPMP_POLICY_PG_REQ_SIZE : 2 * sizeof(u32),
			       BPMP_POLICY_PG_REQ_SIZE))
		return bpmp_policy_malformed(v, "MRQ_PG request size");

	switch (v->cmd) {
	case BPMP_POLICY_PG_QUERY_ABI:
		return bpmp_policy_allow(v, "read-only power domain query");
	case BPMP_POLICY_PG_GET_STATE:
	case BPMP_POLICY_PG_GET_MAX_ID:
		return bpmp_policy_allow_rx(v, 4, "read-only power domain query");
	case BPMP_POLICY_PG_GET_NAME:
		return bpmp_policy_allow_rx(v, 40, "read-only power domain query");

	case BPMP_POLICY_PG_SET_STATE:
		if (!bpmp_policy_set_contains(&p->power_domains, v->id))
			return bpmp_policy_deny(v, "power domain not allowed");
		return bpmp_policy_allow(v, "allowed power domain");

	default:
		return bpmp_policy_deny(v, "unknown power domain command");
	}
}

int bpmp_policy_check(const struct bpmp_policy *p, u32 mrq, const void *tx,
		      size_t tx_size, struct bpmp_policy_verdict *out)
{
	struct bpmp_policy_verdict v = { .reason = "" };
	int ret;

	if (tx_size > BPMP_POLICY_MAX_DATA) {
		ret = bpmp_policy_malformed(&v, "request too long");
		goto done;
	}
	if (tx_size && !tx) {
		ret = bpmp_policy_malformed(&v, "request without data");
		goto done;
	}

	switch (mrq) {
	case BPMP_POLICY_MRQ_PING:
	case BPMP_POLICY_MRQ_THREADED_PING:
	case BPMP_POLICY_MRQ_QUERY_ABI:
		/* u32 challenge, or u32 mrq */
		if (tx_size != sizeof(u32))
			ret = bpmp_policy_malformed(&v, "request not 4 bytes");
		else
			ret = bpmp_policy_allow_rx(&v, 4, "read-only MRQ");
		break;

	case BPMP_POLICY_MRQ_QUERY_FW_TAG:
		if (tx_size)
			ret = bpmp_policy_malformed(&v, "request not empty");
		else
			ret = bpmp_policy_allow_rx(&v, 32, "read-only MRQ");
		break;

	case BPMP_POLICY_MRQ_EMC_DVFS_LATENCY:
	case BPMP_POLICY_MRQ_EMC_DVFS_EMCHUB:
		/* u32 num_pairs; struct { u32, u32 } pairs[14]; */
		if (tx_size)
			ret = bpmp_policy_malformed(&v, "request not empty");
		else
			ret = bpmp_policy_allow_rx(&v, 116, "read-only MRQ");
		break;

	case BPMP_POLICY_MRQ_QUERY_TAG:
		ret = bpmp_policy_deny(&v, "MRQ_QUERY_TAG writes host memory");
		break;

	case BPMP_POLICY_MRQ_CLK:
		ret = bpmp_policy_check_clk(p, tx, tx_size, &v);
		break;

	case BPMP_POLICY_MRQ_RESET:
		ret = bpmp_policy_check_reset(p, tx, tx_size, &v);
		break;

	case BPMP_POLICY_MRQ_PG:
		ret = bpmp_policy_check_pg(p, tx, tx_size, &v);
		break;

	default:
		ret = bpmp_policy_deny(&v, "MRQ not allowed");
		break;
	}

done:
	if (ret)
		v.rx_size = 0;
	if (out)
		*out = v;

	return ret;
}

static bool bpmp_policy_is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ',';
}

/* A token of decimal digits that fits in a u32; no sign, no prefix. */
static int bpmp_policy_parse_u32(const char *s, size_t len, u32 *value)
{
	u32 v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		u32 digit;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		digit = (u32)(s[i] - '0');
		if (v > (0xffffffffU - digit) / 10U)
			return -EINVAL;
		v = v * 10U + digit;
	}
	*value = v;

	return 0;
}

int bpmp_policy_parse_ids(const char *buf, size_t len, const u32 *ceiling,
			  unsigned int n_ceiling, u32 *out, unsigned int *n_out)
{
	bool selected[BPMP_POLICY_MAX_IDS] = { false };
	unsigned int tokens = 0, i, n;
	bool all = false;
	size_t pos = 0;

	if (len > BPMP_POLICY_MAX_INPUT || n_ceiling > BPMP_POLICY_MAX_IDS)
		return -EINVAL;

	while (pos < len) {
		size_t start;
		u32 id;

		if (bpmp_policy_is_separator(buf[pos])) {
			pos++;
			continue;
		}

		start = pos;
		while (pos < len && !bpmp_policy_is_separator(buf[pos]))
			pos++;
		tokens++;

		if (pos - start == 3 && !memcmp(buf + start, "all", 3)) {
			all = true;
			continue;
		}

		if (bpmp_policy_parse_u32(buf + start, pos - start, &id))
			return -EINVAL;

		for (i = 0; i < n_ceiling; i++)
			if (ceiling[i] == id)
				break;
		if (i == n_ceiling)
			return -EINVAL;
		selected[i] = true;
	}

	if (all) {
		if (tokens != 1)
			return -EINVAL;
		for (i = 0; i < n_ceiling; i++)
			selected[i] = true;
	}

	for (i = 0, n = 0; i < n_ceiling; i++)
		if (selected[i])
			out[n++] = ceiling[i];
	*n_out = n;

	return 0;
}

unsigned int bpmp_policy_dedup(u32 *ids, unsigned int n)
{
	unsigned int i, j, kept = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < kept; j++)
			if (ids[j] == ids[i])
				break;
		if (j == kept)
			ids[kept++] = ids[i];
	}

	return kept;
}

void bpmp_policy_of_sets(const struct bpmp_policy_sets *s,
			 struct bpmp_policy *p)
{
	p->clocks.ids = s->ids[BPMP_POLICY_CLOCKS];
	p->clocks.n = s->n[BPMP_POLICY_CLOCKS];
	p->resets.ids = s->ids[BPMP_POLICY_RESETS];
	p->resets.n = s->n[BPMP_POLICY_RESETS];
	p->power_domains.ids = s->ids[BPMP_POLICY_POWER_DOMAINS];
	p->power_domains.n = s->n[BPMP_POLICY_POWER_DOMAINS];
	p->parent_clocks.ids = s->ids[BPMP_POLICY_PARENT_CLOCKS];
	p->parent_clocks.n = s->n[BPMP_POLICY_PARENT_CLOCKS];
}

int bpmp_policy_narrow(const u32 *cur, unsigned int n_cur, const u32 *req,
		       unsigned int n_req, u32 *out, unsigned int *n_out)
{
	bool keep[BPMP_POLICY_MAX_IDS] = { false };
	unsigned int i, j, n;

	if (n_cur > BPMP_POLICY_MAX_IDS || n_req > BPMP_POLICY_MAX_IDS)
		return -EINVAL;

	for (i = 0; i < n_req; i++) {
		for (j = 0; j < n_cur; j++)
			if (cur[j] == req[i])
				break;
		if (j == n_cur)
			return -EPERM;
		keep[j] = true;
	}

	/* n <= i: safe when @out is @cur. */
	for (i = 0, n = 0; i < n_cur; i++)
		if (keep[i])
			out[n++] = cur[i];
	*n_out = n;

	return 0;
}

static void bpmp_policy_set_effect(struct bpmp_policy_effect *e, int op,
				   unsigned int kind, u32 id)
{
	e->op = op;
	e->kind = kind;
	e->id = id;
}

void bpmp_policy_effect(const struct bpmp_policy *p, u32 mrq, const void *tx,
			size_t tx_size, struct bpmp_policy_effect *out)
{
	u32 cmd, id, state;

	bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_NONE, 0, 0);
	if (!tx || tx_size > BPMP_POLICY_MAX_DATA)
		return;

	switch (mrq) {
	case BPMP_POLICY_MRQ_CLK:
		if (tx_size < sizeof(u32))
			return;
		cmd = bpmp_policy_word(tx, 0) >> BPMP_POLICY_CLK_CMD_SHIFT;
		id = bpmp_policy_word(tx, 0) & BPMP_POLICY_CLK_ID_MASK;
		/* Parent-only clocks and roots are the host's too. */
		if (!bpmp_policy_set_contains(&p->clocks, id) ||
		    bpmp_policy_clk_is_protected(id))
			return;
		if (cmd == BPMP_POLICY_CLK_ENABLE)
			bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_MARK,
					       BPMP_POLICY_CLOCKS, id);
		else if (cmd == BPMP_POLICY_CLK_DISABLE)
			bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_UNMARK,
					       BPMP_POLICY_CLOCKS, id);
		return;

	case BPMP_POLICY_MRQ_RESET:
		if (tx_size < 2 * sizeof(u32))
			return;
		cmd = bpmp_policy_word(tx, 0);
		id = bpmp_policy_word(tx, 1);
		if (!bpmp_policy_set_contains(&p->resets, id))
			return;
		if (cmd == BPMP_POLICY_RESET_ASSERT)
			bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_MARK,
					       BPMP_POLICY_RESETS, id);
		else if (cmd == BPMP_POLICY_RESET_DEASSERT)
			bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_UNMARK,
					       BPMP_POLICY_RESETS, id);
		return;

	case BPMP_POLICY_MRQ_PG:
		if (tx_size < 3 * sizeof(u32))
			return;
		cmd = bpmp_policy_word(tx, 0);
		id = bpmp_policy_word(tx, 1);
		state = bpmp_policy_word(tx, 2);
		if (cmd != BPMP_POLICY_PG_SET_STATE ||
		    !bpmp_policy_set_contains(&p->power_domains, id))
			return;
		if (state == BPMP_POLICY_PG_STATE_ON ||
		    state == BPMP_POLICY_PG_STATE_RUNNING)
			bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_MARK,
					       BPMP_POLICY_POWER_DOMAINS, id);
		else if (state == BPMP_POLICY_PG_STATE_OFF)
			bpmp_policy_set_effect(out, BPMP_POLICY_EFFECT_UNMARK,
					       BPMP_POLICY_POWER_DOMAINS, id);
		return;

	default:
		return;
	}
}

int bpmp_policy_marks_apply(struct bpmp_policy_marks *m,
			    const struct bpmp_policy_effect *e)
{
	unsigned int i, *n;
	u32 *ids;

	if (e->op == BPMP_POLICY_EFFECT_NONE)
		return 0;
	if (e->kind >= BPMP_POLICY_NR_MARK_KINDS)
		return -EINVAL;

	ids = m->ids[e->kind];
	n = &m->n[e->kind];
	for (i = 0; i < *n; i++)
		if (ids[i] == e->id)
			break;

	if (e->op == BPMP_POLICY_EFFECT_MARK) {
		if (i < *n)
			return 0;
		if (*n >= BPMP_POLICY_MAX_IDS)
			return -ENOSPC;
		ids[(*n)++] = e->id;
		return 0;
	}

	if (e->op != BPMP_POLICY_EFFECT_UNMARK)
		return -EINVAL;
	if (i == *n)
		return 0;
	memmove(&ids[i], &ids[i + 1], (*n - i - 1) * sizeof(ids[0]));
	(*n)--;

	return 0;
}

bool bpmp_policy_marks_pop(struct bpmp_policy_marks *m, unsigned int *kind,
			   u32 *id)
{
	unsigned int k;

	for (k = 0; k < BPMP_POLICY_NR_MARK_KINDS; k++) {
		if (!m->n[k])
			continue;
		*kind = k;
		*id = m->ids[k][--m->n[k]];
		return true;
	}

	return false;
}

static void bpmp_policy_put_word(u8 *tx, unsigned int index, u32 word)
{
	memcpy(tx + index * sizeof(word), &word, sizeof(word));
}

size_t bpmp_policy_undo_request(unsigned int kind, u32 id, u32 *mrq, u8 *tx)
{
	switch (kind) {
	case BPMP_POLICY_CLOCKS:
		if (id > BPMP_POLICY_CLK_ID_MASK)
			return 0;
		*mrq = BPMP_POLICY_MRQ_CLK;
		bpmp_policy_put_word(tx, 0, BPMP_POLICY_CLK_DISABLE <<
				     BPMP_POLICY_CLK_CMD_SHIFT | id);
		return sizeof(u32);

	case BPMP_POLICY_RESETS:
		*mrq = BPMP_POLICY_MRQ_RESET;
		bpmp_policy_put_word(tx, 0, BPMP_POLICY_RESET_DEASSERT);
		bpmp_policy_put_word(tx, 1, id);
		return BPMP_POLICY_RESET_REQ_SIZE;

	case BPMP_POLICY_POWER_DOMAINS:
		*mrq = BPMP_POLICY_MRQ_PG;
		bpmp_policy_put_word(tx, 0, BPMP_POLICY_PG_SET_STATE);
		bpmp_policy_put_word(tx, 1, id);
		bpmp_policy_put_word(tx, 2, BPMP_POLICY_PG_STATE_OFF);
		return BPMP_POLICY_PG_REQ_SIZE;

	default:
		return 0;
	}
}

#define BPMP_POLICY_NSEC_PER_SEC	1000000000ULL

bool bpmp_policy_bucket_take(struct bpmp_policy_bucket *b, u64 now_ns,
			     u32 rate, u32 burst)
{
	/* At most 2^32 * 10^9 < 2^63: no overflow. */
	u64 cap = (u64)burst * BPMP_POLICY_NSEC_PER_SEC;
	u64 elapsed, add;

	if (!rate || !burst)
		return true;

	/* Parameters lowered at run time: drop the excess. */
	if (b->credit > cap)
		b->credit = cap;

	if (!b->primed) {
		b->primed = true;
		b->credit = cap;
	} else if (now_ns > b->last_ns) {
		elapsed = now_ns - b->last_ns;
		if (__builtin_mul_overflow(elapsed, (u64)rate, &add) ||
		    add >= cap - b->credit)
			b->credit = cap;
		else
			b->credit += add;
	}
	/* A clock that went back refills nothing but moves the origin. */
	b->last_ns = now_ns;

	if (b->credit < BPMP_POLICY_NSEC_PER_SEC)
		return false;
	b->credit -= BPMP_POLICY_NSEC_PER_SEC;

	return true;
}
