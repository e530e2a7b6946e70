// SPDX-License-Identifier: GPL-2.0-only
/* The driver's policy code, built into the test module unchanged. */
#include "src/kernel/drivers/firmware/tegra/bpmp-host-proxy/bpmp-host-policy.c"
