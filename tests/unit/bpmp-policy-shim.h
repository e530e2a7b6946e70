/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What kernel/drivers/firmware/tegra/bpmp-host-proxy/bpmp-host-policy.[ch]
 * take from the kernel, for building them into a user-space test.
 */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
