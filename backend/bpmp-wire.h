/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tegravirt-bpmp wire protocol v1 between QEMU's tegravirt-bpmp device and
 * tegravirt-bpmp-backend (tegravirt-bpmp-backend(8), "PROTOCOL"): a 24-byte
 * little-endian header, then tx_size (request) or rx_size (reply) payload bytes.
 * Pure functions: no I/O, so the fuzz target drives them directly.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define TV_BPMP_WIRE_MAGIC       0x50425654u    /* "TVBP" as bytes */
#define TV_BPMP_WIRE_VERSION     1
#define TV_BPMP_WIRE_XFER        1
#define TV_BPMP_WIRE_XFER_REPLY  2
#define TV_BPMP_WIRE_HEADER      24
#define TV_BPMP_WIRE_MAX_DATA    120            /* = TEGRA_BPMP_HOST_MAX_DATA */

typedef struct TvBpmpWireRequest {
        uint32_t seq;
        uint32_t mrq;
        uint32_t tx_size;
        uint32_t rx_size;
} TvBpmpWireRequest;

typedef struct TvBpmpWireReply {
        uint32_t seq;
        int32_t err;            /* 0 or -errno */
        int32_t ret;            /* firmware status when err == 0 */
        uint32_t rx_size;       /* 0 when err != 0 */
} TvBpmpWireReply;

/* Checks a request header (exactly TV_BPMP_WIRE_HEADER bytes): 0 and *req, or -1 with
 * *why naming the bad field (magic, version, type, tx_size, rx_size). */
int tv_bpmp_wire_parse_request(const uint8_t *hdr, TvBpmpWireRequest *req, const char **why);
/* Encodes a request header (test clients). */
void tv_bpmp_wire_encode_request(const TvBpmpWireRequest *req, uint8_t *hdr);
/* Encodes a reply header; rep->rx_size is forced to 0 when rep->err != 0. */
void tv_bpmp_wire_encode_reply(const TvBpmpWireReply *rep, uint8_t *hdr);
/* Checks a reply header against the request it answers (test clients): 0, or -1 with *why. */
int tv_bpmp_wire_parse_reply(const uint8_t *hdr, const TvBpmpWireRequest *req, TvBpmpWireReply *rep,
                             const char **why);
