// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpmp-wire.h"

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        p[0] = v & 0xff;
        p[1] = v >> 8 & 0xff;
        p[2] = v >> 16 & 0xff;
        p[3] = v >> 24 & 0xff;
}

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = v & 0xff;
        p[1] = v >> 8 & 0xff;
}

static int bad(const char **why, const char *field)
{
        if (why)
                *why = field;
        return -1;
}

int tv_bpmp_wire_parse_request(const uint8_t *hdr, TvBpmpWireRequest *req, const char **why)
{
        if (get32(hdr) != TV_BPMP_WIRE_MAGIC)
                return bad(why, "magic");
        if (get16(hdr + 4) != TV_BPMP_WIRE_VERSION)
                return bad(why, "version");
        if (get16(hdr + 6) != TV_BPMP_WIRE_XFER)
                return bad(why, "type");
        req->seq = get32(hdr + 8);
        req->mrq = get32(hdr + 12);
        req->tx_size = get32(hdr + 16);
        req->rx_size = get32(hdr + 20);
        if (req->tx_size > TV_BPMP_WIRE_MAX_DATA)
                return bad(why, "tx_size");
        if (req->rx_size > TV_BPMP_WIRE_MAX_DATA)
                return bad(why, "rx_size");
        return 0;
}

void tv_bpmp_wire_encode_request(const TvBpmpWireRequest *req, uint8_t *hdr)
{
        put32(hdr, TV_BPMP_WIRE_MAGIC);
        put16(hdr + 4, TV_BPMP_WIRE_VERSION);
        put16(hdr + 6, TV_BPMP_WIRE_XFER);
        put32(hdr + 8, req->seq);
        put32(hdr + 12, req->mrq);
        put32(hdr + 16, req->tx_size);
        put32(hdr + 20, req->rx_size);
}

void tv_bpmp_wire_encode_reply(const TvBpmpWireReply *rep, uint8_t *hdr)
{
        put32(hdr, TV_BPMP_WIRE_MAGIC);
        put16(hdr + 4, TV_BPMP_WIRE_VERSION);
        put16(hdr + 6, TV_BPMP_WIRE_XFER_REPLY);
        put32(hdr + 8, rep->seq);
        put32(hdr + 12, (uint32_t)rep->err);
        put32(hdr + 16, (uint32_t)rep->ret);
        put32(hdr + 20, rep->err ? 0 : rep->rx_size);
}

int tv_bpmp_wire_parse_reply(const uint8_t *hdr, const TvBpmpWireRequest *req, TvBpmpWireReply *rep,
                             const char **why)
{
        if (get32(hdr) != TV_BPMP_WIRE_MAGIC)
                return bad(why, "magic");
        if (get16(hdr + 4) != TV_BPMP_WIRE_VERSION)
                return bad(why, "version");
        if (get16(hdr + 6) != TV_BPMP_WIRE_XFER_REPLY)
                return bad(why, "type");
        rep->seq = get32(hdr + 8);
        rep->err = (int32_t)get32(hdr + 12);
        rep->ret = (int32_t)get32(hdr + 16);
        rep->rx_size = get32(hdr + 20);
        if (rep->seq != req->seq)
                return bad(why, "seq");
        if (rep->err > 0)
                return bad(why, "err");
        if (rep->rx_size > req->rx_size || (rep->err && rep->rx_size))
                return bad(why, "rx_size");
        return 0;
}
