// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The BPMP host proxy's policy (kernel/drivers/firmware/tegra/bpmp-host-proxy/
 * bpmp-host-policy.c, built here unchanged) against a table of requests with the
 * expected decision, and the parser of the active_* sysfs attributes against a
 * table of inputs; the per-file helpers of /dev/bpmp-host (sealed narrowing, two files
 * isolated under one global set, accounting marks and the undo requests of release,
 * the token bucket) and the ioctl ABI's layout. Every case asserts its result; any
 * mismatch fails the test.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bpmp-host-policy.c"
#include "../../kernel/include/uapi/linux/tegra-bpmp-host-proxy.h"

#include "tv-tap.h"

#define A 0       /* allowed */
#define D (-EPERM) /* denied */
#define M (-EINVAL) /* malformed */

#define CLK(cmd, id) ((u32)(cmd) << 24 | (u32)(id))

enum {
        MRQ_PING = BPMP_POLICY_MRQ_PING,
        MRQ_QUERY_TAG = BPMP_POLICY_MRQ_QUERY_TAG,
        MRQ_THREADED_PING = BPMP_POLICY_MRQ_THREADED_PING,
        MRQ_DEBUGFS = BPMP_POLICY_MRQ_DEBUGFS,
        MRQ_RESET = BPMP_POLICY_MRQ_RESET,
        MRQ_I2C = BPMP_POLICY_MRQ_I2C,
        MRQ_CLK = BPMP_POLICY_MRQ_CLK,
        MRQ_QUERY_ABI = BPMP_POLICY_MRQ_QUERY_ABI,
        MRQ_THERMAL = BPMP_POLICY_MRQ_THERMAL,
        MRQ_PG = BPMP_POLICY_MRQ_PG,
        MRQ_UPHY = BPMP_POLICY_MRQ_UPHY,
        MRQ_QUERY_FW_TAG = BPMP_POLICY_MRQ_QUERY_FW_TAG,
};

/* Numbers written out (not the header's macros) so that a wrong macro is caught. */
enum {
        GET_RATE = 1, SET_RATE = 2, ROUND_RATE = 3, GET_PARENT = 4, SET_PARENT = 5, IS_ENABLED = 6,
        ENABLE = 7, DISABLE = 8, GET_ALL_INFO = 14, GET_MAX_CLK_ID = 15, GET_FMAX_AT_VMIN = 16,
};
enum { R_ASSERT = 1, R_DEASSERT = 2, R_MODULE = 3, R_GET_MAX_ID = 4 };
enum { PG_QUERY_ABI = 0, PG_SET_STATE = 1, PG_GET_STATE = 2, PG_GET_NAME = 3, PG_GET_MAX_ID = 4 };

/* Tegra234 IDs: UARTA clock 155, its parent PLLP_OUT0 102 (a protected root), UARTA reset 100. */
static const u32 ceil_clocks[] = { 155, 102, 14, 0, 0xffffff, 0x1000000 | 200 };
static const u32 ceil_resets[] = { 100, 0 };
static const u32 ceil_pds[] = { 3 };
static const u32 narrow_clocks[] = { 102 };
static const u32 wide_resets[] = { 100, 0xffffffff };
static const u32 roots[] = { 14, 91, 102, 103, 288, 292, 327 };
/* Parents listed for clk_prepare() (catalog role="parent"): 319 and 366, not protected roots. */
static const u32 dev_clocks[] = { 155 };
static const u32 parents[] = { 319, 366, 155 };

#define SET(a) { (a), sizeof(a) / sizeof((a)[0]) }
#define NONE { NULL, 0 }

enum { P_CEIL, P_NARROW, P_EMPTY, P_WIDE_RESET, P_ROOTS, P_PARENT, P_COUNT };
static const struct bpmp_policy policies[P_COUNT] = {
        [P_CEIL] = { SET(ceil_clocks), SET(ceil_resets), SET(ceil_pds), NONE },
        /* the daemon narrowed the active sets: 155, reset 100 and PD 3 stay in the ceiling only */
        [P_NARROW] = { SET(narrow_clocks), NONE, NONE, NONE },
        [P_EMPTY] = { NONE, NONE, NONE, NONE },
        [P_WIDE_RESET] = { SET(ceil_clocks), SET(wide_resets), NONE, NONE },
        [P_ROOTS] = { SET(roots), NONE, NONE, NONE },
        [P_PARENT] = { SET(dev_clocks), NONE, NONE, SET(parents) },
};

struct policy_case {
        const char *name;
        int policy;
        u32 mrq;
        u32 w[4];
        size_t size; /* TX bytes */
        int expect;
};

static const struct policy_case cases[] = {
        /* MRQs answered whatever the sets */
        { "PING", P_EMPTY, MRQ_PING, { 1 }, 4, A },
        { "PING without payload (not struct mrq_ping_request)", P_EMPTY, MRQ_PING, { 0 }, 0, M },
        { "THREADED_PING", P_EMPTY, MRQ_THREADED_PING, { 1 }, 4, A },
        { "QUERY_ABI of MRQ_CLK", P_EMPTY, MRQ_QUERY_ABI, { MRQ_CLK }, 4, A },
        { "QUERY_ABI of QUERY_TAG only asks", P_EMPTY, MRQ_QUERY_ABI, { MRQ_QUERY_TAG }, 4, A },
        { "QUERY_FW_TAG", P_EMPTY, MRQ_QUERY_FW_TAG, { 0 }, 0, A },
        { "EMC_DVFS_LATENCY (read-only table)", P_EMPTY, 31, { 0 }, 0, A },
        { "EMC_DVFS_EMCHUB (read-only table)", P_EMPTY, 76, { 0 }, 0, A },
        { "PING of the largest size (116 bytes nobody parses)", P_EMPTY, MRQ_PING, { 1 }, 120, M },

        /* MRQs denied to guests */
        { "QUERY_TAG (BPMP writes host PA)", P_CEIL, MRQ_QUERY_TAG, { 0x80000000 }, 4, D },
        { "QUERY_TAG without payload", P_CEIL, MRQ_QUERY_TAG, { 0 }, 0, D },
        { "DEBUG (BPMP debugfs read/write)", P_CEIL, 75, { 1 }, 8, D },
        { "DEBUGFS", P_CEIL, MRQ_DEBUGFS, { 1 }, 8, D },
        { "STRAP (sets straps)", P_CEIL, 68, { 1, 0, 1 }, 12, D },
        { "BWMGR (EMC rate caps)", P_CEIL, 77, { 1 }, 8, D },
        { "ISO_CLIENT (latency allowance)", P_CEIL, 78, { 1 }, 8, D },
        { "I2C", P_CEIL, MRQ_I2C, { 1 }, 8, D },
        { "THERMAL", P_CEIL, MRQ_THERMAL, { 1 }, 8, D },
        { "UPHY", P_CEIL, MRQ_UPHY, { 1 }, 8, D },
        { "PG_UPDATE_STATE (old PG)", P_CEIL, 26, { 3, 1 }, 8, D },
        { "MODULE_LOAD", P_CEIL, 4, { 0 }, 4, D },
        { "unused MRQ 2", P_CEIL, 2, { 0 }, 4, D },
        { "MRQ 0xffffffff", P_CEIL, 0xffffffff, { 0 }, 4, D },
        { "MRQ_CLK | 1 << 31 is not MRQ_CLK", P_CEIL, 0x80000000u | MRQ_CLK, { CLK(ENABLE, 155) }, 4, D },
        { "MRQ 256 (PING + 2^8)", P_CEIL, 256, { 0 }, 4, D },

        /* sizes */
        { "PING one byte too long", P_CEIL, MRQ_PING, { 1 }, 121, M },
        { "CLK one byte too long", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 121, M },
        { "denied MRQ too long is malformed first", P_CEIL, MRQ_I2C, { 1 }, 4096, M },
        { "CLK without payload", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 0, M },
        { "CLK of 3 bytes", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 3, M },
        { "CLK of 4 bytes", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 4, A },
        { "CLK of 120 bytes", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 120, M },

        /* exact sizes: the command's structure, or Linux's whole zero-padded request */
        { "PING of 8 bytes", P_EMPTY, MRQ_PING, { 1, 0 }, 8, M },
        { "PING of 3 bytes", P_EMPTY, MRQ_PING, { 1 }, 3, M },
        { "THREADED_PING of 0 bytes", P_EMPTY, MRQ_THREADED_PING, { 0 }, 0, M },
        { "QUERY_ABI of 8 bytes", P_EMPTY, MRQ_QUERY_ABI, { MRQ_CLK, 0 }, 8, M },
        { "QUERY_FW_TAG of 4 bytes", P_EMPTY, MRQ_QUERY_FW_TAG, { 0 }, 4, M },
        { "EMC_DVFS_LATENCY of 4 bytes", P_EMPTY, 31, { 0 }, 4, M },
        { "EMC_DVFS_EMCHUB of 4 bytes", P_EMPTY, 76, { 0 }, 4, M },
        { "CLK ENABLE of 16 zero-padded bytes (Linux clk-bpmp)", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 16, A },
        { "CLK ENABLE of 16 bytes, byte 4 set", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155), 1 }, 16, M },
        { "CLK ENABLE of 16 bytes, last word set", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155), 0, 0, 0x01000000 }, 16, M },
        { "CLK ENABLE of 8 bytes", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 8, M },
        { "CLK ENABLE of 20 bytes", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 20, M },
        { "CLK GET_ALL_INFO of 16 zero-padded bytes", P_CEIL, MRQ_CLK, { CLK(GET_ALL_INFO, 155) }, 16, A },
        { "CLK GET_ALL_INFO of 12 bytes", P_CEIL, MRQ_CLK, { CLK(GET_ALL_INFO, 155) }, 12, M },
        { "CLK SET_RATE of 4 bytes (no rate)", P_CEIL, MRQ_CLK, { CLK(SET_RATE, 155) }, 4, M },
        { "CLK SET_RATE of 12 bytes", P_CEIL, MRQ_CLK, { CLK(SET_RATE, 155) }, 12, M },
        { "CLK SET_PARENT of 16 zero-padded bytes", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 102 }, 16, A },
        { "CLK SET_PARENT of 16 bytes, word 2 set", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 102, 7 }, 16, M },
        { "CLK SET_PARENT of 12 bytes", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 102 }, 12, M },
        { "CLK unknown command 9 of 16 bytes is denied, not malformed", P_CEIL, MRQ_CLK, { CLK(9, 155), 1 }, 16, D },
        { "RESET of 12 bytes", P_CEIL, MRQ_RESET, { R_ASSERT, 100, 0 }, 12, M },
        { "RESET GET_MAX_ID of 12 bytes", P_CEIL, MRQ_RESET, { R_GET_MAX_ID, 0 }, 12, M },
        { "PG SET_STATE of 8 bytes (no state)", P_CEIL, MRQ_PG, { PG_SET_STATE, 3 }, 8, M },
        { "PG SET_STATE of 16 bytes", P_CEIL, MRQ_PG, { PG_SET_STATE, 3, 1 }, 16, M },
        { "PG GET_STATE of 8 bytes", P_CEIL, MRQ_PG, { PG_GET_STATE, 3 }, 8, A },
        { "PG GET_STATE of 12 zero-padded bytes (Linux powergate-bpmp)", P_CEIL, MRQ_PG, { PG_GET_STATE, 3 }, 12, A },
        { "PG GET_STATE of 12 bytes, word 2 set", P_CEIL, MRQ_PG, { PG_GET_STATE, 3, 1 }, 12, M },
        { "PG GET_NAME of 16 bytes", P_CEIL, MRQ_PG, { PG_GET_NAME, 3 }, 16, M },
        { "PG QUERY_ABI of 8 bytes", P_CEIL, MRQ_PG, { PG_QUERY_ABI, 0 }, 8, M },
        { "PG unknown command 5 of 16 bytes is denied", P_CEIL, MRQ_PG, { 5, 3 }, 16, D },
        { "CLK SET_PARENT of 4 bytes (no parent)", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 102 }, 4, M },
        { "CLK SET_PARENT of 7 bytes", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 102 }, 7, M },
        { "RESET without payload", P_CEIL, MRQ_RESET, { R_ASSERT, 100 }, 0, M },
        { "RESET of 3 bytes", P_CEIL, MRQ_RESET, { R_ASSERT, 100 }, 3, M },
        { "RESET of 7 bytes", P_CEIL, MRQ_RESET, { R_ASSERT, 100 }, 7, M },
        { "RESET GET_MAX_ID of 4 bytes", P_CEIL, MRQ_RESET, { R_GET_MAX_ID, 0 }, 4, M },
        { "RESET of 8 bytes", P_CEIL, MRQ_RESET, { R_ASSERT, 100 }, 8, A },
        { "PG without payload", P_CEIL, MRQ_PG, { PG_SET_STATE, 3 }, 0, M },
        { "PG of 4 bytes", P_CEIL, MRQ_PG, { PG_GET_MAX_ID, 0 }, 4, M },
        { "PG of 7 bytes", P_CEIL, MRQ_PG, { PG_SET_STATE, 3 }, 7, M },

        /* MRQ_CLK on an allowed clock (UARTA 155): every known command */
        { "CLK GET_RATE allowed", P_CEIL, MRQ_CLK, { CLK(GET_RATE, 155) }, 4, A },
        { "CLK SET_RATE allowed", P_CEIL, MRQ_CLK, { CLK(SET_RATE, 155), 0, 0, 0 }, 16, A },
        { "CLK ROUND_RATE allowed", P_CEIL, MRQ_CLK, { CLK(ROUND_RATE, 155) }, 16, A },
        { "CLK GET_PARENT allowed", P_CEIL, MRQ_CLK, { CLK(GET_PARENT, 155) }, 4, A },
        { "CLK SET_PARENT to allowed parent", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 102 }, 8, A },
        { "CLK SET_PARENT to other parent", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 103 }, 8, D },
        { "CLK SET_PARENT to parent 155+2^24", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 0), 0x1000000 | 155 }, 8, D },
        { "CLK IS_ENABLED allowed", P_CEIL, MRQ_CLK, { CLK(IS_ENABLED, 155) }, 4, A },
        { "CLK ENABLE allowed", P_CEIL, MRQ_CLK, { CLK(ENABLE, 155) }, 4, A },
        { "CLK DISABLE allowed", P_CEIL, MRQ_CLK, { CLK(DISABLE, 155) }, 4, A },
        { "CLK GET_ALL_INFO allowed", P_CEIL, MRQ_CLK, { CLK(GET_ALL_INFO, 155) }, 4, A },
        { "CLK GET_MAX_CLK_ID", P_CEIL, MRQ_CLK, { CLK(GET_MAX_CLK_ID, 0) }, 4, A },
        { "CLK GET_FMAX_AT_VMIN allowed", P_CEIL, MRQ_CLK, { CLK(GET_FMAX_AT_VMIN, 155) }, 4, A },
        { "CLK command 0 on allowed clock", P_CEIL, MRQ_CLK, { CLK(0, 155) }, 4, D },
        { "CLK command 9 on allowed clock", P_CEIL, MRQ_CLK, { CLK(9, 155) }, 4, D },
        { "CLK command 13 on allowed clock", P_CEIL, MRQ_CLK, { CLK(13, 155) }, 4, D },
        { "CLK command 17 on allowed clock", P_CEIL, MRQ_CLK, { CLK(17, 155) }, 4, D },
        { "CLK command 255 on allowed clock", P_CEIL, MRQ_CLK, { CLK(255, 155) }, 4, D },

        /* MRQ_CLK on a clock not listed (UARTB 156): read-only structure queries only */
        { "CLK GET_RATE other clock", P_CEIL, MRQ_CLK, { CLK(GET_RATE, 156) }, 4, D },
        { "CLK SET_RATE other clock", P_CEIL, MRQ_CLK, { CLK(SET_RATE, 156) }, 16, D },
        { "CLK ROUND_RATE other clock", P_CEIL, MRQ_CLK, { CLK(ROUND_RATE, 156) }, 16, D },
        { "CLK GET_PARENT other clock", P_CEIL, MRQ_CLK, { CLK(GET_PARENT, 156) }, 4, A },
        { "CLK SET_PARENT other clock", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 156), 102 }, 8, D },
        { "CLK IS_ENABLED other clock", P_CEIL, MRQ_CLK, { CLK(IS_ENABLED, 156) }, 4, D },
        { "CLK ENABLE other clock", P_CEIL, MRQ_CLK, { CLK(ENABLE, 156) }, 4, D },
        { "CLK DISABLE other clock", P_CEIL, MRQ_CLK, { CLK(DISABLE, 156) }, 4, D },
        { "CLK GET_ALL_INFO other clock", P_CEIL, MRQ_CLK, { CLK(GET_ALL_INFO, 156) }, 4, A },
        { "CLK GET_FMAX_AT_VMIN other clock", P_CEIL, MRQ_CLK, { CLK(GET_FMAX_AT_VMIN, 156) }, 4, D },
        { "CLK unknown command other clock", P_CEIL, MRQ_CLK, { CLK(9, 156) }, 4, D },

        /* protected roots listed in the ceiling: enable and query yes, change no */
        { "root PLLP_OUT0 ENABLE", P_CEIL, MRQ_CLK, { CLK(ENABLE, 102) }, 4, A },
        { "root PLLP_OUT0 GET_RATE", P_CEIL, MRQ_CLK, { CLK(GET_RATE, 102) }, 4, A },
        { "root PLLP_OUT0 IS_ENABLED", P_CEIL, MRQ_CLK, { CLK(IS_ENABLED, 102) }, 4, A },
        { "root PLLP_OUT0 DISABLE", P_CEIL, MRQ_CLK, { CLK(DISABLE, 102) }, 4, D },
        { "root PLLP_OUT0 SET_RATE", P_CEIL, MRQ_CLK, { CLK(SET_RATE, 102) }, 16, D },
        { "root PLLP_OUT0 SET_PARENT", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 102), 155 }, 8, D },
        { "root CLK_M DISABLE", P_CEIL, MRQ_CLK, { CLK(DISABLE, 14) }, 4, D },
        { "root CLK_M ENABLE", P_CEIL, MRQ_CLK, { CLK(ENABLE, 14) }, 4, A },
        { "root OSC not listed: ENABLE denied", P_CEIL, MRQ_CLK, { CLK(ENABLE, 91) }, 4, D },
        { "UARTA re-parented onto listed root", P_CEIL, MRQ_CLK, { CLK(SET_PARENT, 155), 14 }, 8, A },

        /* packing: the command is bits 31..24, the ID bits 23..0, full width */
        { "CLK ID 0 listed", P_CEIL, MRQ_CLK, { CLK(ENABLE, 0) }, 4, A },
        { "CLK ID 0xffffff listed", P_CEIL, MRQ_CLK, { CLK(ENABLE, 0xffffff) }, 4, A },
        { "CLK ID 1 not listed", P_CEIL, MRQ_CLK, { CLK(ENABLE, 1) }, 4, D },
        { "CLK ID 0xfffffe not listed", P_CEIL, MRQ_CLK, { CLK(ENABLE, 0xfffffe) }, 4, D },
        { "CLK ID 155+0x1000 (12-bit alias)", P_CEIL, MRQ_CLK, { CLK(ENABLE, 0x1000 + 155) }, 4, D },
        { "CLK command 0x17 (4-bit alias of ENABLE)", P_CEIL, MRQ_CLK, { CLK(0x17, 155) }, 4, D },
        { "CLK command 0x87 (ENABLE + bit 31)", P_CEIL, MRQ_CLK, { CLK(0x87, 155) }, 4, D },
        { "ENABLE of ID 102+2^24 is DISABLE of root 102", P_CEIL, MRQ_CLK, { CLK(ENABLE, 0) + 0x1000000 + 102 }, 4, D },
        { "GET_ALL_INFO of ID 155+2^24 is GET_MAX_CLK_ID", P_CEIL, MRQ_CLK, { CLK(GET_ALL_INFO, 0) + 0x1000000 + 155 }, 4, A },
        { "listed 200+2^24 does not allow 200", P_CEIL, MRQ_CLK, { CLK(ENABLE, 200) }, 4, D },
        { "GET_RATE of 155 + 6*2^24 is ENABLE of 155", P_CEIL, MRQ_CLK, { CLK(GET_RATE, 155) + 0x6000000 }, 4, A },

        /* MRQ_RESET */
        { "RESET ASSERT listed", P_CEIL, MRQ_RESET, { R_ASSERT, 100 }, 8, A },
        { "RESET DEASSERT listed", P_CEIL, MRQ_RESET, { R_DEASSERT, 100 }, 8, A },
        { "RESET MODULE listed", P_CEIL, MRQ_RESET, { R_MODULE, 100 }, 8, A },
        { "RESET MODULE ID 0 listed", P_CEIL, MRQ_RESET, { R_MODULE, 0 }, 8, A },
        { "RESET GET_MAX_ID", P_CEIL, MRQ_RESET, { R_GET_MAX_ID, 0 }, 8, A },
        { "RESET GET_MAX_ID any ID", P_EMPTY, MRQ_RESET, { R_GET_MAX_ID, 12345 }, 8, A },
        { "RESET ASSERT other", P_CEIL, MRQ_RESET, { R_ASSERT, 101 }, 8, D },
        { "RESET DEASSERT other", P_CEIL, MRQ_RESET, { R_DEASSERT, 99 }, 8, D },
        { "RESET MODULE other", P_CEIL, MRQ_RESET, { R_MODULE, 1 }, 8, D },
        { "RESET ASSERT 0xffffffff not listed", P_CEIL, MRQ_RESET, { R_ASSERT, 0xffffffff }, 8, D },
        { "RESET ASSERT 0xffffffff listed", P_WIDE_RESET, MRQ_RESET, { R_ASSERT, 0xffffffff }, 8, A },
        { "RESET ASSERT 100+0x100 (8-bit alias)", P_CEIL, MRQ_RESET, { R_ASSERT, 0x100 | 100 }, 8, D },
        { "RESET command 0", P_CEIL, MRQ_RESET, { 0, 100 }, 8, D },
        { "RESET command 5", P_CEIL, MRQ_RESET, { 5, 100 }, 8, D },
        { "RESET command 0xffffffff", P_CEIL, MRQ_RESET, { 0xffffffff, 100 }, 8, D },
        { "RESET command 0x101 (8-bit alias of ASSERT)", P_CEIL, MRQ_RESET, { 0x101, 100 }, 8, D },

        /* MRQ_PG */
        { "PG SET_STATE listed", P_CEIL, MRQ_PG, { PG_SET_STATE, 3, 1 }, 12, A },
        { "PG SET_STATE other", P_CEIL, MRQ_PG, { PG_SET_STATE, 4, 1 }, 12, D },
        { "PG SET_STATE none listed", P_WIDE_RESET, MRQ_PG, { PG_SET_STATE, 3, 1 }, 12, D },
        { "PG QUERY_ABI", P_EMPTY, MRQ_PG, { PG_QUERY_ABI, 0, 1 }, 12, A },
        { "PG GET_STATE other", P_EMPTY, MRQ_PG, { PG_GET_STATE, 99 }, 8, A },
        { "PG GET_NAME other", P_EMPTY, MRQ_PG, { PG_GET_NAME, 99 }, 8, A },
        { "PG GET_MAX_ID", P_EMPTY, MRQ_PG, { PG_GET_MAX_ID, 0 }, 8, A },
        { "PG command 5", P_CEIL, MRQ_PG, { 5, 3 }, 8, D },
        { "PG command 0xffffffff", P_CEIL, MRQ_PG, { 0xffffffff, 3 }, 8, D },
        { "PG SET_STATE 3+2^8", P_CEIL, MRQ_PG, { PG_SET_STATE, 0x103, 1 }, 12, D },

        /* active narrower than the ceiling: 155, reset 100 and PD 3 are in the ceiling, not active */
        { "narrowed: ENABLE 155 denied", P_NARROW, MRQ_CLK, { CLK(ENABLE, 155) }, 4, D },
        { "narrowed: ENABLE 102 still allowed", P_NARROW, MRQ_CLK, { CLK(ENABLE, 102) }, 4, A },
        { "narrowed: GET_ALL_INFO 155 still answered", P_NARROW, MRQ_CLK, { CLK(GET_ALL_INFO, 155) }, 4, A },
        { "narrowed: RESET ASSERT 100 denied", P_NARROW, MRQ_RESET, { R_ASSERT, 100 }, 8, D },
        { "narrowed: RESET GET_MAX_ID answered", P_NARROW, MRQ_RESET, { R_GET_MAX_ID, 0 }, 8, A },
        { "narrowed: PG SET_STATE 3 denied", P_NARROW, MRQ_PG, { PG_SET_STATE, 3, 1 }, 12, D },
        { "empty: ENABLE 102 denied", P_EMPTY, MRQ_CLK, { CLK(ENABLE, 102) }, 4, D },
        { "empty: ENABLE 0 denied", P_EMPTY, MRQ_CLK, { CLK(ENABLE, 0) }, 4, D },

        /* parent class: enable and query only */
        { "parent: ENABLE 319", P_PARENT, MRQ_CLK, { CLK(ENABLE, 319) }, 4, A },
        { "parent: IS_ENABLED 319", P_PARENT, MRQ_CLK, { CLK(IS_ENABLED, 319) }, 4, A },
        { "parent: GET_RATE 366", P_PARENT, MRQ_CLK, { CLK(GET_RATE, 366) }, 4, A },
        { "parent: ROUND_RATE 366", P_PARENT, MRQ_CLK, { CLK(ROUND_RATE, 366) }, 16, A },
        { "parent: GET_FMAX_AT_VMIN 319", P_PARENT, MRQ_CLK, { CLK(GET_FMAX_AT_VMIN, 319) }, 4, A },
        { "parent: GET_PARENT 319", P_PARENT, MRQ_CLK, { CLK(GET_PARENT, 319) }, 4, A },
        { "parent: DISABLE 319 denied", P_PARENT, MRQ_CLK, { CLK(DISABLE, 319) }, 4, D },
        { "parent: DISABLE 366 denied", P_PARENT, MRQ_CLK, { CLK(DISABLE, 366) }, 4, D },
        { "parent: SET_RATE 319 denied", P_PARENT, MRQ_CLK, { CLK(SET_RATE, 319), 0, 0, 0 }, 16, D },
        { "parent: SET_PARENT of 366 denied", P_PARENT, MRQ_CLK, { CLK(SET_PARENT, 366), 319 }, 8, D },
        { "parent: device clock re-parented onto parent 319", P_PARENT, MRQ_CLK, { CLK(SET_PARENT, 155), 319 }, 8, A },
        { "parent: device clock re-parented onto unlisted 367", P_PARENT, MRQ_CLK, { CLK(SET_PARENT, 155), 367 }, 8, D },
        { "parent: device clock also listed as parent stays controllable", P_PARENT, MRQ_CLK, { CLK(DISABLE, 155) }, 4, A },
        { "parent: ENABLE unlisted 0 denied", P_PARENT, MRQ_CLK, { CLK(ENABLE, 0) }, 4, D },
        { "parent: RESET ASSERT 319 denied", P_PARENT, MRQ_RESET, { R_ASSERT, 319 }, 8, D },
};

static const char *verdict_name(int r)
{
        return r == A ? "allow" : r == D ? "deny" : r == M ? "malformed" : "other";
}

static void run_policy_table(void)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct policy_case *c = &cases[i];
                u8 tx[4096] = { 0 }; /* larger than any case, so oversize cases read nothing past it */
                struct bpmp_policy_verdict v;
                char what[200];
                int r;

                memcpy(tx, c->w, sizeof(c->w));
                r = bpmp_policy_check(&policies[c->policy], c->mrq, tx, c->size, &v);
                snprintf(what, sizeof(what), "policy: %s -> %s (got %s, %s)", c->name, verdict_name(c->expect),
                         verdict_name(r), v.reason);
                CHECK(r == c->expect && v.reason != NULL, "%s", what);
        }
}

/* Every protected root, even when listed: ENABLE/GET_RATE yes, DISABLE/SET_RATE/SET_PARENT no. */
static void run_roots(void)
{
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
                static const struct { u32 cmd; int expect; } ops[] = {
                        { ENABLE, A }, { GET_RATE, A }, { IS_ENABLED, A }, { ROUND_RATE, A },
                        { DISABLE, D }, { SET_RATE, D }, { SET_PARENT, D },
                };
                for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
                        /* the whole 16-byte request, zero past the command's fields */
                        u32 tx[4] = { CLK(ops[j].cmd, roots[i]), ops[j].cmd == SET_PARENT ? roots[(i + 1) % 7] : 0,
                                      0, 0 };
                        char what[120];
                        int r = bpmp_policy_check(&policies[P_ROOTS], MRQ_CLK, tx, sizeof(tx), NULL);

                        snprintf(what, sizeof(what), "root %u command %u -> %s", roots[i], ops[j].cmd,
                                 verdict_name(ops[j].expect));
                        CHECK(r == ops[j].expect && bpmp_policy_clk_is_protected(roots[i]), "%s", what);
                }
        }
        CHECK(!bpmp_policy_clk_is_protected(155) && !bpmp_policy_clk_is_protected(0x1000000 | 102),
              "UARTA and 102+2^24 are not protected roots");
}

static void run_verdicts(void)
{
        struct bpmp_policy_verdict v;
        u32 tx[2] = { 0x07abcdef, 0 };
        int r;

        r = bpmp_policy_check(&policies[P_CEIL], MRQ_CLK, tx, 4, &v);
        CHECK(r == D && v.has_cmd && v.has_id && v.cmd == 7 && v.id == 0xabcdef, "verdict decodes cmd 7 ID 0xabcdef");
        tx[0] = R_ASSERT;
        tx[1] = 0xffffffff;
        r = bpmp_policy_check(&policies[P_CEIL], MRQ_RESET, tx, 8, &v);
        CHECK(r == D && v.cmd == R_ASSERT && v.id == 0xffffffff, "verdict carries the reset ID");
        r = bpmp_policy_check(&policies[P_CEIL], MRQ_I2C, tx, 8, &v);
        CHECK(r == D && !v.has_cmd && !v.has_id, "verdict of an unpoliced MRQ has no cmd/ID");
        r = bpmp_policy_check(&policies[P_CEIL], MRQ_PING, NULL, 4, &v);
        CHECK(r == M, "TX size without TX data is malformed");
        r = bpmp_policy_check(&policies[P_CEIL], MRQ_QUERY_FW_TAG, NULL, 0, NULL);
        CHECK(r == A, "QUERY_FW_TAG with no data and no verdict");
        /* unaligned payload */
        {
                u8 buf[12] = { 0 };
                u32 w = CLK(ENABLE, 155);

                memcpy(buf + 1, &w, 4);
                CHECK(bpmp_policy_check(&policies[P_CEIL], MRQ_CLK, buf + 1, 4, NULL) == A, "unaligned TX");
        }
}

struct parse_case {
        const char *name;
        const char *in;
        size_t len; /* 0: strlen(in) */
        int expect;
        unsigned int n;
        u32 ids[6];
};

static const u32 parse_ceiling[] = { 155, 102, 14, 0, 4294967295u };

static const struct parse_case parse_cases[] = {
        { "empty", "", 0, 0, 0, { 0 } },
        { "whitespace only", " \t\n \n", 0, 0, 0, { 0 } },
        { "commas only", ",,", 0, 0, 0, { 0 } },
        { "all", "all", 0, 0, 5, { 155, 102, 14, 0, 4294967295u } },
        { "all with newline", "all\n", 0, 0, 5, { 155, 102, 14, 0, 4294967295u } },
        { "all padded", "  all \n", 0, 0, 5, { 155, 102, 14, 0, 4294967295u } },
        { "all twice", "all all", 0, -EINVAL, 0, { 0 } },
        { "all and an ID", "all 155", 0, -EINVAL, 0, { 0 } },
        { "ID and all", "155,all", 0, -EINVAL, 0, { 0 } },
        { "ALL", "ALL", 0, -EINVAL, 0, { 0 } },
        { "alll", "alll", 0, -EINVAL, 0, { 0 } },
        { "one ID", "155", 0, 0, 1, { 155 } },
        { "one ID newline", "155\n", 0, 0, 1, { 155 } },
        { "ceiling order", "14 155", 0, 0, 2, { 155, 14 } },
        { "commas", "102,155\n", 0, 0, 2, { 155, 102 } },
        { "comma space", "102, 155", 0, 0, 2, { 155, 102 } },
        { "tabs and newlines", "\t0\n102\t", 0, 0, 2, { 102, 0 } },
        { "duplicates collapse", "155 155 102 155", 0, 0, 2, { 155, 102 } },
        { "ID 0", "0", 0, 0, 1, { 0 } },
        { "ID u32 max", "4294967295", 0, 0, 1, { 4294967295u } },
        { "leading zeros are decimal", "0155", 0, 0, 1, { 155 } },
        { "overflow 2^32", "4294967296", 0, -EINVAL, 0, { 0 } },
        { "overflow 2^32+155", "4294967451", 0, -EINVAL, 0, { 0 } },
        { "overflow long", "99999999999999999999155", 0, -EINVAL, 0, { 0 } },
        { "negative", "-1", 0, -EINVAL, 0, { 0 } },
        { "plus sign", "+155", 0, -EINVAL, 0, { 0 } },
        { "hex", "0x9b", 0, -EINVAL, 0, { 0 } },
        { "trailing letter", "155a", 0, -EINVAL, 0, { 0 } },
        { "float", "155.0", 0, -EINVAL, 0, { 0 } },
        { "carriage return", "155\r\n", 0, -EINVAL, 0, { 0 } },
        { "semicolon", "155;102", 0, -EINVAL, 0, { 0 } },
        { "outside ceiling", "156", 0, -EINVAL, 0, { 0 } },
        { "one of two outside ceiling", "155 156", 0, -EINVAL, 0, { 0 } },
        { "split digits", "15 5", 0, -EINVAL, 0, { 0 } },
        { "embedded NUL", "155\0 102", 8, -EINVAL, 0, { 0 } },
        { "NUL only", "\0", 1, -EINVAL, 0, { 0 } },
};

static void run_parse_table(void)
{
        for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
                const struct parse_case *c = &parse_cases[i];
                size_t len = c->len ? c->len : strlen(c->in);
                u32 out[BPMP_POLICY_MAX_IDS];
                unsigned int n = 777;
                char what[160];
                bool ok;
                int r;

                for (unsigned int k = 0; k < BPMP_POLICY_MAX_IDS; k++)
                        out[k] = 0xdeadbeef;
                r = bpmp_policy_parse_ids(c->in, len, parse_ceiling, 5, out, &n);
                ok = r == c->expect;
                if (ok && r == 0) {
                        ok = n == c->n;
                        for (unsigned int k = 0; ok && k < n; k++)
                                ok = out[k] == c->ids[k];
                } else if (ok) {
                        ok = n == 777 && out[0] == 0xdeadbeef; /* nothing changes on error */
                }
                snprintf(what, sizeof(what), "parse: %s -> %s", c->name, c->expect ? "EINVAL" : "ok");
                CHECK(ok, "%s", what);
        }
}

static void run_parse_limits(void)
{
        static char big[BPMP_POLICY_MAX_INPUT + 1];
        u32 ceiling[BPMP_POLICY_MAX_IDS], out[BPMP_POLICY_MAX_IDS];
        unsigned int n = 0;
        size_t len = 0;

        memset(big, ' ', sizeof(big));
        CHECK(bpmp_policy_parse_ids(big, BPMP_POLICY_MAX_INPUT, parse_ceiling, 5, out, &n) == 0 && n == 0,
              "parse: 4096 separators is the empty set");
        CHECK(bpmp_policy_parse_ids(big, BPMP_POLICY_MAX_INPUT + 1, parse_ceiling, 5, out, &n) == -EINVAL,
              "parse: 4097 bytes refused");

        /* a full ceiling of 256 IDs, all written back in reverse order */
        for (unsigned int i = 0; i < BPMP_POLICY_MAX_IDS; i++)
                ceiling[i] = 1000 + i;
        for (int i = BPMP_POLICY_MAX_IDS - 1; i >= 0; i--)
                len += (size_t)snprintf(big + len, sizeof(big) - len, "%u ", 1000 + i);
        n = 0;
        CHECK(bpmp_policy_parse_ids(big, len, ceiling, BPMP_POLICY_MAX_IDS, out, &n) == 0 && n == BPMP_POLICY_MAX_IDS &&
                      out[0] == 1000 && out[255] == 1255,
              "parse: 256 IDs, result in ceiling order");
        CHECK(bpmp_policy_parse_ids("all", 3, ceiling, BPMP_POLICY_MAX_IDS + 1, out, &n) == -EINVAL,
              "parse: ceiling over 256 refused");
        n = 9;
        CHECK(bpmp_policy_parse_ids("", 0, NULL, 0, out, &n) == 0 && n == 0, "parse: empty ceiling, empty input");
        CHECK(bpmp_policy_parse_ids("all", 3, NULL, 0, out, &n) == 0 && n == 0, "parse: empty ceiling, all");
        CHECK(bpmp_policy_parse_ids("0", 1, NULL, 0, out, &n) == -EINVAL, "parse: empty ceiling, an ID");
}

static void run_dedup(void)
{
        u32 a[] = { 1, 2, 1, 3, 2, 0xffffffff, 0xffffffff };
        u32 b[] = { 5, 5, 5 };
        unsigned int n;

        n = bpmp_policy_dedup(a, 7);
        CHECK(n == 4 && a[0] == 1 && a[1] == 2 && a[2] == 3 && a[3] == 0xffffffff, "dedup keeps first occurrences");
        n = bpmp_policy_dedup(b, 3);
        CHECK(n == 1 && b[0] == 5, "dedup of one repeated ID");
        CHECK(bpmp_policy_dedup(NULL, 0) == 0, "dedup of nothing");
}

static void run_wire_layout(void)
{
        /* Offsets written out: the ABI is these numbers on every architecture. */
        CHECK(sizeof(struct tegra_bpmp_host_version) == 32 && offsetof(struct tegra_bpmp_host_version, reserved) == 16,
              "version struct is 32 bytes");
        CHECK(sizeof(struct tegra_bpmp_host_xfer) == 272 && offsetof(struct tegra_bpmp_host_xfer, mrq) == 0 &&
                      offsetof(struct tegra_bpmp_host_xfer, flags) == 4 &&
                      offsetof(struct tegra_bpmp_host_xfer, tx_size) == 8 &&
                      offsetof(struct tegra_bpmp_host_xfer, rx_size) == 12 &&
                      offsetof(struct tegra_bpmp_host_xfer, ret) == 16 &&
                      offsetof(struct tegra_bpmp_host_xfer, reserved0) == 20 &&
                      offsetof(struct tegra_bpmp_host_xfer, reserved1) == 24 &&
                      offsetof(struct tegra_bpmp_host_xfer, tx) == 32 && offsetof(struct tegra_bpmp_host_xfer, rx) == 152,
              "xfer struct is 272 bytes, offsets 0/4/8/12/16/20/24/32/152");
        CHECK(sizeof(struct tegra_bpmp_host_ids) == 1040 && offsetof(struct tegra_bpmp_host_ids, kind) == 0 &&
                      offsetof(struct tegra_bpmp_host_ids, count) == 4 &&
                      offsetof(struct tegra_bpmp_host_ids, flags) == 8 &&
                      offsetof(struct tegra_bpmp_host_ids, reserved) == 12 &&
                      offsetof(struct tegra_bpmp_host_ids, ids) == 16,
              "ids struct is 1040 bytes, offsets 0/4/8/12/16");
        CHECK(TEGRA_BPMP_HOST_IOC_VERSION == 0x8020b700UL && TEGRA_BPMP_HOST_IOC_XFER == 0xc110b701UL &&
                      TEGRA_BPMP_HOST_IOC_RESTRICT == 0x4410b702UL && TEGRA_BPMP_HOST_IOC_GET_IDS == 0xc410b703UL,
              "ioctl numbers (magic 0xB7, nr 0..3, direction and size)");
        CHECK(TEGRA_BPMP_HOST_ABI_VERSION == 1 && TEGRA_BPMP_HOST_NR_KINDS == 4 && TEGRA_BPMP_HOST_CLOCKS == 0 &&
                      TEGRA_BPMP_HOST_RESETS == 1 && TEGRA_BPMP_HOST_POWER_DOMAINS == 2 &&
                      TEGRA_BPMP_HOST_PARENT_CLOCKS == 3,
              "ABI version 1 and the four kinds in sysfs order");
        CHECK(TEGRA_BPMP_HOST_MAX_DATA == BPMP_POLICY_MAX_DATA && BPMP_POLICY_MAX_DATA == 120,
              "payload bound is the BPMP's 120 bytes");
        CHECK(TEGRA_BPMP_HOST_MAX_IDS == BPMP_POLICY_MAX_IDS && BPMP_POLICY_MAX_IDS == 256, "set bound is 256 IDs");
}

/*
 * The reply size of every allowed request (the sizes of <soc/tegra/bpmp-abi.h>'s packed
 * responses, written out): the driver copies no more, so a PING with rx.size = 120 gets
 * 4 bytes, not 116 stale bytes of the shared frame. Denied requests get 0.
 */
static void run_reply_sizes(void)
{
        static const struct { const char *name; u32 mrq; u32 w[4]; size_t size; u32 rx; } rs[] = {
                { "PING", MRQ_PING, { 1 }, 4, 4 },
                { "THREADED_PING", MRQ_THREADED_PING, { 1 }, 4, 4 },
                { "QUERY_ABI", MRQ_QUERY_ABI, { MRQ_CLK }, 4, 4 },
                { "QUERY_FW_TAG", MRQ_QUERY_FW_TAG, { 0 }, 0, 32 },
                { "EMC_DVFS_LATENCY", 31, { 0 }, 0, 116 },
                { "EMC_DVFS_EMCHUB", 76, { 0 }, 0, 116 },
                { "CLK GET_RATE", MRQ_CLK, { CLK(GET_RATE, 155) }, 16, 8 },
                { "CLK SET_RATE", MRQ_CLK, { CLK(SET_RATE, 155) }, 16, 8 },
                { "CLK ROUND_RATE", MRQ_CLK, { CLK(ROUND_RATE, 155) }, 16, 8 },
                { "CLK GET_PARENT", MRQ_CLK, { CLK(GET_PARENT, 155) }, 16, 4 },
                { "CLK SET_PARENT", MRQ_CLK, { CLK(SET_PARENT, 155), 102 }, 16, 4 },
                { "CLK IS_ENABLED", MRQ_CLK, { CLK(IS_ENABLED, 155) }, 16, 4 },
                { "CLK ENABLE", MRQ_CLK, { CLK(ENABLE, 155) }, 16, 0 },
                { "CLK DISABLE", MRQ_CLK, { CLK(DISABLE, 155) }, 16, 0 },
                { "CLK GET_ALL_INFO (packed 4+4+64+1+40)", MRQ_CLK, { CLK(GET_ALL_INFO, 155) }, 16, 113 },
                { "CLK GET_MAX_CLK_ID", MRQ_CLK, { CLK(GET_MAX_CLK_ID, 0) }, 16, 4 },
                { "CLK GET_FMAX_AT_VMIN", MRQ_CLK, { CLK(GET_FMAX_AT_VMIN, 155) }, 16, 8 },
                { "RESET ASSERT", MRQ_RESET, { R_ASSERT, 100 }, 8, 0 },
                { "RESET DEASSERT", MRQ_RESET, { R_DEASSERT, 100 }, 8, 0 },
                { "RESET MODULE", MRQ_RESET, { R_MODULE, 100 }, 8, 0 },
                { "RESET GET_MAX_ID", MRQ_RESET, { R_GET_MAX_ID, 0 }, 8, 4 },
                { "PG QUERY_ABI", MRQ_PG, { PG_QUERY_ABI, 0, PG_SET_STATE }, 12, 0 },
                { "PG SET_STATE", MRQ_PG, { PG_SET_STATE, 3, 1 }, 12, 0 },
                { "PG GET_STATE", MRQ_PG, { PG_GET_STATE, 3 }, 12, 4 },
                { "PG GET_NAME", MRQ_PG, { PG_GET_NAME, 3 }, 12, 40 },
                { "PG GET_MAX_ID", MRQ_PG, { PG_GET_MAX_ID, 0 }, 12, 4 },
                { "denied CLK ENABLE 156", MRQ_CLK, { CLK(ENABLE, 156) }, 16, 0 },
                { "denied CLK GET_RATE 156", MRQ_CLK, { CLK(GET_RATE, 156) }, 16, 0 },
                { "denied I2C", MRQ_I2C, { 1 }, 8, 0 },
        };

        for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
                struct bpmp_policy_verdict v;
                int r = bpmp_policy_check(&policies[P_CEIL], rs[i].mrq, rs[i].w, rs[i].size, &v);

                CHECK(v.rx_size == rs[i].rx && (r == 0) == (rs[i].rx != 0 || strstr(rs[i].name, "denied") == NULL),
                      "reply of %s is at most %u bytes (got %u, %s)", rs[i].name, rs[i].rx, v.rx_size, v.reason);
        }
}

/* Which BPMP the proxy serves: its "compatible" property must list nvidia,tegra234-bpmp. */
static void run_soc_table(void)
{
#define C(lit) lit, sizeof(lit) /* a DT string list: the literal with its final NUL */
        static const struct { const char *name; const char *compat; size_t len; bool expect; } socs[] = {
                { "Tegra234 BPMP", C("nvidia,tegra234-bpmp\0nvidia,tegra186-bpmp"), true },
                { "Tegra234 alone", C("nvidia,tegra234-bpmp"), true },
                { "Tegra234 second", C("vendor,x\0nvidia,tegra234-bpmp"), true },
                { "Tegra186 BPMP (102/103 are other clocks there)", C("nvidia,tegra186-bpmp"), false },
                { "Tegra194 BPMP", C("nvidia,tegra194-bpmp\0nvidia,tegra186-bpmp"), false },
                { "prefix of the name", C("nvidia,tegra234-bpm"), false },
                { "name with a suffix", C("nvidia,tegra234-bpmpx"), false },
                { "Tegra234 without its NUL", "nvidia,tegra234-bpmp", 20, false },
                { "empty property", "", 0, false },
                { "NULL property", NULL, 0, false },
        };
#undef C
        for (size_t i = 0; i < sizeof(socs) / sizeof(socs[0]); i++)
                CHECK(bpmp_policy_bpmp_supported(socs[i].compat, socs[i].len) == socs[i].expect, "BPMP %s -> %s",
                      socs[i].name, socs[i].expect ? "served" : "refused");
}

/* RESTRICT: a set only narrows (sealed), repeats collapse, the order stays the ceiling's. */
static void run_narrow(void)
{
        static const u32 ceil[] = { 155, 102, 14, 0, 0xffffffff };
        u32 cur[5], out[5] = { 7, 7, 7, 7, 7 };
        unsigned int n = 99, n_cur;
        u32 req[BPMP_POLICY_MAX_IDS + 1] = { 0 };

        CHECK(bpmp_policy_narrow(ceil, 5, (const u32[]){ 14, 155, 14, 155 }, 4, out, &n) == 0 && n == 2 &&
                      out[0] == 155 && out[1] == 14,
              "narrow to {14,155,14,155} gives 155 14 (ceiling order, repeats collapse)");
        CHECK(bpmp_policy_narrow(ceil, 5, (const u32[]){ 0xffffffff, 0 }, 2, out, &n) == 0 && n == 2 && out[0] == 0 &&
                      out[1] == 0xffffffff,
              "narrow keeps ID 0 and 0xffffffff");
        CHECK(bpmp_policy_narrow(ceil, 5, ceil, 5, out, &n) == 0 && n == 5 && !memcmp(out, ceil, sizeof(ceil)),
              "narrow to the whole set is the set");

        memcpy(cur, ceil, sizeof(ceil));
        n_cur = 5;
        CHECK(bpmp_policy_narrow(cur, n_cur, (const u32[]){ 14, 155 }, 2, cur, &n_cur) == 0 && n_cur == 2 &&
                      cur[0] == 155 && cur[1] == 14,
              "narrow in place (out is cur)");
        out[0] = 7;
        n = 99;
        CHECK(bpmp_policy_narrow(cur, n_cur, (const u32[]){ 155, 102 }, 2, out, &n) == -EPERM && n == 99 &&
                      out[0] == 7,
              "sealed: 102, dropped before, cannot come back (EPERM, nothing written)");
        CHECK(bpmp_policy_narrow(cur, n_cur, (const u32[]){ 156 }, 1, out, &n) == -EPERM && n == 99,
              "an ID never in the set is EPERM");
        CHECK(bpmp_policy_narrow(cur, n_cur, NULL, 0, cur, &n_cur) == 0 && n_cur == 0, "count 0 empties the set");
        CHECK(bpmp_policy_narrow(cur, n_cur, (const u32[]){ 155 }, 1, out, &n) == -EPERM && n == 99,
              "an empty set stays empty");
        CHECK(bpmp_policy_narrow(cur, n_cur, NULL, 0, out, &n) == 0 && n == 0, "empty to empty is allowed");
        CHECK(bpmp_policy_narrow(ceil, 5, req, BPMP_POLICY_MAX_IDS + 1, out, &n) == -EINVAL && n == 0,
              "more than 256 requested IDs is EINVAL");
}

/* One file's request passes only if the global active set AND the file's own sets allow it. */
static int xfer_check(const struct bpmp_policy *global, const struct bpmp_policy *file, u32 mrq, const u32 *w,
                      size_t size)
{
        int r = bpmp_policy_check(global, mrq, w, size, NULL);

        return r ? r : bpmp_policy_check(file, mrq, w, size, NULL);
}

static void narrow_sets(struct bpmp_policy_sets *file, const struct bpmp_policy_sets *ceil, const u32 *clk,
                        const u32 *rst, const u32 *pd)
{
        *file = *ceil;
        CHECK(bpmp_policy_narrow(file->ids[BPMP_POLICY_CLOCKS], file->n[BPMP_POLICY_CLOCKS], clk, 1,
                                 file->ids[BPMP_POLICY_CLOCKS], &file->n[BPMP_POLICY_CLOCKS]) == 0 &&
                      bpmp_policy_narrow(file->ids[BPMP_POLICY_RESETS], file->n[BPMP_POLICY_RESETS], rst, 1,
                                         file->ids[BPMP_POLICY_RESETS], &file->n[BPMP_POLICY_RESETS]) == 0 &&
                      bpmp_policy_narrow(file->ids[BPMP_POLICY_POWER_DOMAINS], file->n[BPMP_POLICY_POWER_DOMAINS],
                                         pd, 1, file->ids[BPMP_POLICY_POWER_DOMAINS],
                                         &file->n[BPMP_POLICY_POWER_DOMAINS]) == 0 &&
                      bpmp_policy_narrow(file->ids[BPMP_POLICY_PARENT_CLOCKS], file->n[BPMP_POLICY_PARENT_CLOCKS],
                                         NULL, 0, file->ids[BPMP_POLICY_PARENT_CLOCKS],
                                         &file->n[BPMP_POLICY_PARENT_CLOCKS]) == 0,
              "file narrowed to clock %u, reset %u, power domain %u", clk[0], rst[0], pd[0]);
}

/*
 * Two domains behind one global active set (their union, as tegravirtd writes it): file A, narrowed to
 * domain A's clock 155, reset 100 and power domain 3, cannot touch domain B's 156, 101 and 4, and the
 * other way round, while the global set alone allows all of them.
 */
static void run_isolation(void)
{
        static struct bpmp_policy_sets ceil, sa, sb;
        struct bpmp_policy global, fa, fb;
        static const struct { u32 clk, rst, pd; } dom[2] = { { 155, 100, 3 }, { 156, 101, 4 } };

        memset(&ceil, 0, sizeof(ceil));
        ceil.n[BPMP_POLICY_CLOCKS] = 2;
        ceil.ids[BPMP_POLICY_CLOCKS][0] = 155;
        ceil.ids[BPMP_POLICY_CLOCKS][1] = 156;
        ceil.n[BPMP_POLICY_RESETS] = 2;
        ceil.ids[BPMP_POLICY_RESETS][0] = 100;
        ceil.ids[BPMP_POLICY_RESETS][1] = 101;
        ceil.n[BPMP_POLICY_POWER_DOMAINS] = 2;
        ceil.ids[BPMP_POLICY_POWER_DOMAINS][0] = 3;
        ceil.ids[BPMP_POLICY_POWER_DOMAINS][1] = 4;
        ceil.n[BPMP_POLICY_PARENT_CLOCKS] = 1;
        ceil.ids[BPMP_POLICY_PARENT_CLOCKS][0] = 319;
        bpmp_policy_of_sets(&ceil, &global);

        narrow_sets(&sa, &ceil, &dom[0].clk, &dom[0].rst, &dom[0].pd);
        narrow_sets(&sb, &ceil, &dom[1].clk, &dom[1].rst, &dom[1].pd);
        bpmp_policy_of_sets(&sa, &fa);
        bpmp_policy_of_sets(&sb, &fb);

        for (int d = 0; d < 2; d++) {
                const struct bpmp_policy *own = d ? &fb : &fa, *other = d ? &fa : &fb;
                const char *me = d ? "B" : "A", *them = d ? "A" : "B";
                const struct {
                        const char *what;
                        u32 mrq;
                        u32 w[3];
                        size_t size;
                } reqs[] = {
                        { "CLK ENABLE", MRQ_CLK, { CLK(ENABLE, dom[d].clk) }, 4 },
                        { "CLK DISABLE", MRQ_CLK, { CLK(DISABLE, dom[d].clk) }, 4 },
                        { "CLK SET_RATE", MRQ_CLK, { CLK(SET_RATE, dom[d].clk) }, 16 },
                        { "CLK GET_RATE", MRQ_CLK, { CLK(GET_RATE, dom[d].clk) }, 4 },
                        { "RESET ASSERT", MRQ_RESET, { R_ASSERT, dom[d].rst }, 8 },
                        { "RESET DEASSERT", MRQ_RESET, { R_DEASSERT, dom[d].rst }, 8 },
                        { "RESET MODULE", MRQ_RESET, { R_MODULE, dom[d].rst }, 8 },
                        { "PG SET_STATE ON", MRQ_PG, { PG_SET_STATE, dom[d].pd, 1 }, 12 },
                        { "PG SET_STATE OFF", MRQ_PG, { PG_SET_STATE, dom[d].pd, 0 }, 12 },
                };

                for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
                        CHECK(bpmp_policy_check(&global, reqs[i].mrq, reqs[i].w, reqs[i].size, NULL) == 0,
                              "global set allows %s of domain %s", reqs[i].what, me);
                        CHECK(xfer_check(&global, own, reqs[i].mrq, reqs[i].w, reqs[i].size) == 0,
                              "file %s may %s its own resource", me, reqs[i].what);
                        CHECK(xfer_check(&global, other, reqs[i].mrq, reqs[i].w, reqs[i].size) == -EPERM,
                              "file %s may not %s domain %s's resource", them, reqs[i].what, me);
                }
        }
        /* The global set stays a ceiling: narrowed to domain A, file B gets nothing. */
        {
                static struct bpmp_policy_sets ga;
                struct bpmp_policy g;
                u32 w[2] = { R_ASSERT, 101 };

                narrow_sets(&ga, &ceil, &dom[0].clk, &dom[0].rst, &dom[0].pd);
                bpmp_policy_of_sets(&ga, &g);
                CHECK(xfer_check(&g, &fb, MRQ_RESET, w, 8) == -EPERM,
                      "global set without domain B denies file B its own reset");
        }
}

/* What an allowed request does to the file's accounting. */
static void run_effects(void)
{
        enum { NO = BPMP_POLICY_EFFECT_NONE, MK = BPMP_POLICY_EFFECT_MARK, UN = BPMP_POLICY_EFFECT_UNMARK };
        enum { KC = 0, KR = 1, KP = 2 };
        /* The file's sets: clocks 155 and root 102, resets 100, PD 3, parent-only clocks 319 and 366. */
        static const u32 fclk[] = { 155, 102 }, frst[] = { 100 }, fpd[] = { 3 }, fpar[] = { 319, 366 };
        static const struct bpmp_policy file = { SET(fclk), SET(frst), SET(fpd), SET(fpar) };
        static const struct {
                const char *name;
                u32 mrq;
                u32 w[4];
                size_t size;
                int op;
                unsigned int kind;
                u32 id;
        } ec[] = {
                { "CLK ENABLE 155 marks it", MRQ_CLK, { CLK(ENABLE, 155) }, 4, MK, KC, 155 },
                { "CLK ENABLE 155 (16-byte request) marks it", MRQ_CLK, { CLK(ENABLE, 155) }, 16, MK, KC, 155 },
                { "CLK DISABLE 155 unmarks it", MRQ_CLK, { CLK(DISABLE, 155) }, 4, UN, KC, 155 },
                { "CLK ENABLE of parent-only 319: no mark", MRQ_CLK, { CLK(ENABLE, 319) }, 4, NO, 0, 0 },
                { "CLK ENABLE of parent-only 366: no mark", MRQ_CLK, { CLK(ENABLE, 366) }, 4, NO, 0, 0 },
                { "CLK ENABLE of protected root 102: no mark", MRQ_CLK, { CLK(ENABLE, 102) }, 4, NO, 0, 0 },
                { "CLK DISABLE of protected root 102: no unmark", MRQ_CLK, { CLK(DISABLE, 102) }, 4, NO, 0, 0 },
                { "CLK ENABLE of a clock not in the file: no mark", MRQ_CLK, { CLK(ENABLE, 156) }, 4, NO, 0, 0 },
                { "CLK SET_RATE 155: no mark", MRQ_CLK, { CLK(SET_RATE, 155) }, 16, NO, 0, 0 },
                { "CLK IS_ENABLED 155: no mark", MRQ_CLK, { CLK(IS_ENABLED, 155) }, 4, NO, 0, 0 },
                { "CLK too short: no mark", MRQ_CLK, { CLK(ENABLE, 155) }, 3, NO, 0, 0 },
                { "RESET ASSERT 100 marks it", MRQ_RESET, { R_ASSERT, 100 }, 8, MK, KR, 100 },
                { "RESET DEASSERT 100 unmarks it", MRQ_RESET, { R_DEASSERT, 100 }, 8, UN, KR, 100 },
                { "RESET MODULE 100: no mark", MRQ_RESET, { R_MODULE, 100 }, 8, NO, 0, 0 },
                { "RESET ASSERT 101 (not the file's): no mark", MRQ_RESET, { R_ASSERT, 101 }, 8, NO, 0, 0 },
                { "RESET GET_MAX_ID: no mark", MRQ_RESET, { R_GET_MAX_ID, 100 }, 8, NO, 0, 0 },
                { "PG SET_STATE 3 ON marks it", MRQ_PG, { PG_SET_STATE, 3, 1 }, 12, MK, KP, 3 },
                { "PG SET_STATE 3 RUNNING marks it", MRQ_PG, { PG_SET_STATE, 3, 2 }, 12, MK, KP, 3 },
                { "PG SET_STATE 3 OFF unmarks it", MRQ_PG, { PG_SET_STATE, 3, 0 }, 12, UN, KP, 3 },
                { "PG SET_STATE 3 state 3: nothing", MRQ_PG, { PG_SET_STATE, 3, 3 }, 12, NO, 0, 0 },
                { "PG SET_STATE 4 (not the file's): nothing", MRQ_PG, { PG_SET_STATE, 4, 1 }, 12, NO, 0, 0 },
                { "PG GET_STATE 3: nothing", MRQ_PG, { PG_GET_STATE, 3, 1 }, 12, NO, 0, 0 },
                { "PG SET_STATE without state: nothing", MRQ_PG, { PG_SET_STATE, 3, 1 }, 8, NO, 0, 0 },
                { "PING: nothing", MRQ_PING, { 1 }, 4, NO, 0, 0 },
                { "I2C: nothing", MRQ_I2C, { 1, 100 }, 8, NO, 0, 0 },
        };

        for (size_t i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
                struct bpmp_policy_effect e = { 42, 42, 42 };

                bpmp_policy_effect(&file, ec[i].mrq, ec[i].w, ec[i].size, &e);
                CHECK(e.op == ec[i].op && (e.op == NO || (e.kind == ec[i].kind && e.id == ec[i].id)),
                      "effect: %s (got op %d kind %u id %u)", ec[i].name, e.op, e.kind, e.id);
        }
}

static void apply(struct bpmp_policy_marks *m, int op, unsigned int kind, u32 id)
{
        struct bpmp_policy_effect e = { op, kind, id };

        CHECK(bpmp_policy_marks_apply(m, &e) == 0, "apply op %d kind %u id %u", op, kind, id);
}

/* Marks: no repeats, unmark keeps the others' order, release pops clocks, resets, PDs, latest first. */
static void run_marks(void)
{
        static struct bpmp_policy_marks m;
        struct bpmp_policy_effect e;
        unsigned int kind, got = 0;
        u32 id;
        static const struct { unsigned int kind; u32 id; } want[] = {
                { BPMP_POLICY_CLOCKS, 157 }, { BPMP_POLICY_CLOCKS, 155 }, { BPMP_POLICY_RESETS, 101 },
                { BPMP_POLICY_RESETS, 100 }, { BPMP_POLICY_POWER_DOMAINS, 3 },
        };
        bool order_ok = true;

        memset(&m, 0, sizeof(m));
        CHECK(!bpmp_policy_marks_pop(&m, &kind, &id), "no marks: nothing to undo");
        /* reversed kinds on purpose: the undo order does not depend on the order of marking */
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_POWER_DOMAINS, 3);
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_RESETS, 100);
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_RESETS, 101);
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_CLOCKS, 155);
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_CLOCKS, 156);
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_CLOCKS, 155);
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_CLOCKS, 157);
        CHECK(m.n[BPMP_POLICY_CLOCKS] == 3, "marking 155 twice keeps one mark");
        apply(&m, BPMP_POLICY_EFFECT_UNMARK, BPMP_POLICY_CLOCKS, 156);
        apply(&m, BPMP_POLICY_EFFECT_UNMARK, BPMP_POLICY_CLOCKS, 999);
        apply(&m, BPMP_POLICY_EFFECT_NONE, BPMP_POLICY_CLOCKS, 155);
        CHECK(m.n[BPMP_POLICY_CLOCKS] == 2 && m.ids[BPMP_POLICY_CLOCKS][0] == 155 &&
                      m.ids[BPMP_POLICY_CLOCKS][1] == 157,
              "unmark 156 leaves 155 157 in order; unmark of an unmarked ID and NONE change nothing");
        apply(&m, BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_POWER_DOMAINS, 4);
        apply(&m, BPMP_POLICY_EFFECT_UNMARK, BPMP_POLICY_POWER_DOMAINS, 4);

        e = (struct bpmp_policy_effect){ BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_PARENT_CLOCKS, 319 };
        CHECK(bpmp_policy_marks_apply(&m, &e) == -EINVAL, "parent clocks cannot be marked (EINVAL)");
        e = (struct bpmp_policy_effect){ 7, BPMP_POLICY_CLOCKS, 155 };
        CHECK(bpmp_policy_marks_apply(&m, &e) == -EINVAL && m.n[BPMP_POLICY_CLOCKS] == 2, "unknown op is EINVAL");

        while (bpmp_policy_marks_pop(&m, &kind, &id)) {
                if (got >= 5 || want[got].kind != kind || want[got].id != id)
                        order_ok = false;
                got++;
        }
        CHECK(order_ok && got == 5, "release undoes clocks 157 155, resets 101 100, power domain 3 (got %u)", got);
        CHECK(m.n[0] == 0 && m.n[1] == 0 && m.n[2] == 0, "no mark left after release");

        for (u32 i = 0; i < BPMP_POLICY_MAX_IDS; i++) {
                e = (struct bpmp_policy_effect){ BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_RESETS, i };
                if (bpmp_policy_marks_apply(&m, &e))
                        break;
        }
        e = (struct bpmp_policy_effect){ BPMP_POLICY_EFFECT_MARK, BPMP_POLICY_RESETS, 1000 };
        CHECK(m.n[BPMP_POLICY_RESETS] == BPMP_POLICY_MAX_IDS && bpmp_policy_marks_apply(&m, &e) == -ENOSPC,
              "256 marks fit, the 257th is ENOSPC");
}

/* The undo requests: exact bytes, accepted by the policy, and themselves unmarking what they undo. */
static void run_undo(void)
{
        static const u32 fclk[] = { 155 }, frst[] = { 100 }, fpd[] = { 3 };
        static const struct bpmp_policy file = { SET(fclk), SET(frst), SET(fpd), NONE };
        static const struct {
                unsigned int kind;
                u32 id;
                u32 mrq;
                size_t size;
                u32 w[3];
        } uc[] = {
                { BPMP_POLICY_CLOCKS, 155, MRQ_CLK, 4, { CLK(DISABLE, 155) } },
                { BPMP_POLICY_RESETS, 100, MRQ_RESET, 8, { R_DEASSERT, 100 } },
                { BPMP_POLICY_POWER_DOMAINS, 3, MRQ_PG, 12, { PG_SET_STATE, 3, 0 } },
        };

        for (size_t i = 0; i < sizeof(uc) / sizeof(uc[0]); i++) {
                u8 tx[BPMP_POLICY_UNDO_MAX + 4];
                struct bpmp_policy_verdict v;
                struct bpmp_policy_effect e;
                u32 mrq = 0xdead;
                size_t n;
                int r;

                memset(tx, 0xa5, sizeof(tx));
                n = bpmp_policy_undo_request(uc[i].kind, uc[i].id, &mrq, tx);
                CHECK(n == uc[i].size && mrq == uc[i].mrq && !memcmp(tx, uc[i].w, n) && tx[BPMP_POLICY_UNDO_MAX] == 0xa5,
                      "undo of kind %u ID %u is MRQ %u, %zu bytes (got %u, %zu)", uc[i].kind, uc[i].id, uc[i].mrq,
                      uc[i].size, mrq, n);
                r = bpmp_policy_check(&file, mrq, tx, n, &v);
                CHECK(r == 0, "undo request of kind %u is allowed (%s)", uc[i].kind, v.reason);
                bpmp_policy_effect(&file, mrq, tx, n, &e);
                CHECK(e.op == BPMP_POLICY_EFFECT_UNMARK && e.kind == uc[i].kind && e.id == uc[i].id,
                      "undo request of kind %u unmarks ID %u", uc[i].kind, uc[i].id);
        }
        {
                u8 tx[BPMP_POLICY_UNDO_MAX] = { 0 };
                u32 mrq = 0xdead;

                CHECK(bpmp_policy_undo_request(BPMP_POLICY_PARENT_CLOCKS, 319, &mrq, tx) == 0 && mrq == 0xdead,
                      "no undo for a parent clock");
                CHECK(bpmp_policy_undo_request(BPMP_POLICY_CLOCKS, 0x1000000, &mrq, tx) == 0 && mrq == 0xdead,
                      "no undo for a clock ID that does not fit cmd_and_id");
                CHECK(bpmp_policy_undo_request(9, 1, &mrq, tx) == 0 && mrq == 0xdead, "no undo for kind 9");
        }
}

/*
 * A file's session end to end through the helpers the driver chains: check, transfer (firmware ret
 * given), effect, mark; at release the undo list. Protected root 102 and parent 319 are enabled but
 * never undone; a failed ENABLE (ret -1) marks nothing.
 */
static void run_session(void)
{
        static const u32 fclk[] = { 155, 102 }, frst[] = { 100 }, fpd[] = { 3 }, fpar[] = { 319 };
        static const struct bpmp_policy file = { SET(fclk), SET(frst), SET(fpd), SET(fpar) };
        static const struct { u32 mrq; u32 w[3]; size_t size; int fw_ret; } seq[] = {
                { MRQ_PG, { PG_SET_STATE, 3, 1 }, 12, 0 },   { MRQ_CLK, { CLK(ENABLE, 319) }, 4, 0 },
                { MRQ_CLK, { CLK(ENABLE, 102) }, 4, 0 },     { MRQ_CLK, { CLK(ENABLE, 155) }, 4, 0 },
                { MRQ_RESET, { R_ASSERT, 100 }, 8, 0 },      { MRQ_RESET, { R_DEASSERT, 100 }, 8, 0 },
                { MRQ_RESET, { R_ASSERT, 100 }, 8, -1 },     { MRQ_CLK, { CLK(ENABLE, 156) }, 4, 0 },
        };
        static struct bpmp_policy_marks m;
        unsigned int kind, n = 0;
        u32 undo[4][4];
        u32 id;

        memset(&m, 0, sizeof(m));
        for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
                struct bpmp_policy_effect e;

                if (bpmp_policy_check(&file, seq[i].mrq, seq[i].w, seq[i].size, NULL) || seq[i].fw_ret)
                        continue;
                bpmp_policy_effect(&file, seq[i].mrq, seq[i].w, seq[i].size, &e);
                CHECK(bpmp_policy_marks_apply(&m, &e) == 0, "session step %zu accounted", i);
        }
        while (n < 4 && bpmp_policy_marks_pop(&m, &kind, &id)) {
                u8 tx[BPMP_POLICY_UNDO_MAX] = { 0 };
                u32 mrq = 0;
                size_t sz = bpmp_policy_undo_request(kind, id, &mrq, tx);

                undo[n][0] = mrq;
                undo[n][1] = (u32)sz;
                memcpy(&undo[n][2], tx, 8);
                n++;
        }
        CHECK(n == 2 && undo[0][0] == MRQ_CLK && undo[0][1] == 4 && undo[0][2] == CLK(DISABLE, 155) &&
                      undo[1][0] == MRQ_PG && undo[1][1] == 12 && undo[1][2] == PG_SET_STATE && undo[1][3] == 3,
              "release sends CLK DISABLE 155 then PG 3 OFF only (not 102, 319, reset 100 or 156)");
}

/* The per-file token bucket, time passed in. */
static void run_bucket(void)
{
        const u64 S = 1000000000ULL;
        struct bpmp_policy_bucket b = { 0 };
        int ok = 0;

        for (int i = 0; i < 10; i++)
                ok += bpmp_policy_bucket_take(&b, 5 * S, 2, 3);
        CHECK(ok == 3, "burst 3: three transfers pass at once, then none (%d)", ok);
        CHECK(!bpmp_policy_bucket_take(&b, 5 * S + S * 4 / 10, 2, 3), "0.4 s at 2/s refills 0.8 token: still empty");
        CHECK(bpmp_policy_bucket_take(&b, 5 * S + S / 2, 2, 3) && !bpmp_policy_bucket_take(&b, 5 * S + S / 2, 2, 3),
              "0.5 s at 2/s refills exactly one token");
        ok = 0;
        for (int i = 0; i < 10; i++)
                ok += bpmp_policy_bucket_take(&b, 1000 * S, 2, 3);
        CHECK(ok == 3, "a long pause refills to the burst, no more (%d)", ok);
        CHECK(!bpmp_policy_bucket_take(&b, 999 * S, 2, 3), "a clock going back refills nothing");
        CHECK(!bpmp_policy_bucket_take(&b, 999 * S + S / 4, 2, 3) && bpmp_policy_bucket_take(&b, 999 * S + S / 2, 2, 3),
              "after going back, time counts from the new origin");
        ok = 0;
        for (int i = 0; i < 10; i++)
                ok += bpmp_policy_bucket_take(&b, 0xffffffffffffffffULL, 0xffffffff, 0xffffffff) ? 1 : 0;
        CHECK(ok == 10, "largest rate, burst and time: no overflow (%d)", ok);

        b = (struct bpmp_policy_bucket){ 0 };
        ok = 0;
        for (int i = 0; i < 10; i++)
                ok += bpmp_policy_bucket_take(&b, 0, 1, 5);
        CHECK(ok == 5, "burst 5 at time 0 (%d)", ok);
        ok = bpmp_policy_bucket_take(&b, 10 * S, 1, 5); /* 10 s refill to 5, 4 left */
        for (int i = 0; i < 10; i++)
                ok += bpmp_policy_bucket_take(&b, 10 * S, 1, 2);
        CHECK(ok == 3, "a burst lowered at run time (5 -> 2) drops the excess credit (%d)", ok);
        ok = 0;
        for (int i = 0; i < 10000; i++)
                ok += bpmp_policy_bucket_take(&b, 10 * S, 0, 5) + bpmp_policy_bucket_take(&b, 10 * S, 5, 0);
        CHECK(ok == 20000, "rate 0 or burst 0 is unlimited");
        b = (struct bpmp_policy_bucket){ 0 };
        ok = 0;
        for (u64 t = 0; t < S; t += S / 1000)
                ok += bpmp_policy_bucket_take(&b, S + t, 2000, 4096) ? 1 : 0;
        CHECK(ok == 1000, "defaults (2000/s, burst 4096) let a 1000/s guest through (%d)", ok);
        ok = 0;
        b = (struct bpmp_policy_bucket){ 0 };
        for (u64 t = 0; t < 2 * S; t += S / 10000)
                ok += bpmp_policy_bucket_take(&b, S + t, 2000, 4096) ? 1 : 0;
        CHECK(ok >= 4096 + 3999 && ok <= 4096 + 4001, "defaults hold a 10000/s flood to burst + 2000/s (%d in 2 s)", ok);
}

int main(void)
{
        run_policy_table();
        run_soc_table();
        run_reply_sizes();
        run_roots();
        run_verdicts();
        run_parse_table();
        run_parse_limits();
        run_dedup();
        run_wire_layout();
        run_narrow();
        run_isolation();
        run_effects();
        run_marks();
        run_undo();
        run_session();
        run_bucket();
        return tap_finish();
}
