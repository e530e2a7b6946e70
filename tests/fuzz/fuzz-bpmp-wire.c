// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: tegravirt-bpmp-backend's request parser (backend/bpmp-wire.c) on a stream of
 * requests as a client could send them: each header is parsed, its payload skipped, the
 * way the backend frames them; what parses must be within the protocol's bounds, encode
 * back to the same bytes, and the reply built for it must parse as its reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpmp-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t off = 0;

        while (size - off >= TV_BPMP_WIRE_HEADER) {
                const uint8_t *hdr = data + off;
                uint8_t again[TV_BPMP_WIRE_HEADER], rep_hdr[TV_BPMP_WIRE_HEADER];
                TvBpmpWireRequest req;
                TvBpmpWireReply rep, back;
                const char *why = NULL;

                if (tv_bpmp_wire_parse_request(hdr, &req, &why) < 0) {
                        if (!why) /* every refusal names its field */
                                abort();
                        break; /* the backend closes the connection */
                }
                if (req.tx_size > TV_BPMP_WIRE_MAX_DATA || req.rx_size > TV_BPMP_WIRE_MAX_DATA)
                        abort();
                tv_bpmp_wire_encode_request(&req, again);
                if (memcmp(again, hdr, sizeof(again)) != 0)
                        abort();
                /* a reply as the backend builds it, with an err and sizes taken from the input */
                rep = (TvBpmpWireReply){ .seq = req.seq, .err = -(int32_t)(req.mrq & 0x7f),
                                         .ret = (int32_t)req.mrq, .rx_size = req.rx_size ? req.mrq % (req.rx_size + 1) : 0 };
                tv_bpmp_wire_encode_reply(&rep, rep_hdr);
                if (tv_bpmp_wire_parse_reply(rep_hdr, &req, &back, &why) < 0 || back.seq != req.seq ||
                    back.err != rep.err || (back.err && back.rx_size) || back.rx_size > req.rx_size)
                        abort();
                off += TV_BPMP_WIRE_HEADER;
                if (size - off < req.tx_size)
                        break; /* the backend waits 1 s, then closes */
                off += req.tx_size;
        }
        /* the reply parser on raw input as well (the test client's side) */
        if (size >= TV_BPMP_WIRE_HEADER) {
                TvBpmpWireRequest req = { .seq = 7, .rx_size = 120 };
                TvBpmpWireReply rep;

                if (tv_bpmp_wire_parse_reply(data, &req, &rep, NULL) == 0 &&
                    (rep.seq != 7 || rep.rx_size > 120 || rep.err > 0 || (rep.err && rep.rx_size)))
                        abort();
        }
        return 0;
}
