// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: backend/virtqueue.c on hostile ring memory. The input is the guest memory
 * (descriptor table, avail and used rings and buffers of one region) plus the queue size,
 * start index and EVENT_IDX; elements are popped and pushed like a device does. Every
 * iovec of an element must lie inside guest memory, counts within TV_VU_ELEM_MAX, and a
 * refusal must stop the queue.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM 65536u
#define GPA 0x100000ull

static uint8_t mem[MEM] __attribute__((aligned(4096)));

static void check_iov(const struct iovec *v, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *b = v[i].iov_base;

                if (b < mem || b > mem + MEM || v[i].iov_len > (size_t)(mem + MEM - b))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TvVuMem m = { .n = 1, .r[0] = { .gpa = GPA, .size = MEM, .uva = 0x7f0000000000ull, .host = mem } };
        TvVq vq = { 0 };
        uint16_t num, last;
        bool ev;
        size_t desc_off, avail_off, used_off;

        if (size < 8)
                return 0;
        num = (uint16_t)(1u << (data[0] % 9));          /* 1..256 */
        last = (uint16_t)(data[1] | data[2] << 8);
        ev = data[3] & 1;
        /* rings at input-chosen (aligned) places, possibly overlapping each other */
        desc_off = (data[4] * 256u) & ~15u;
        avail_off = (data[5] * 256u + (data[7] & 0x0e)) & ~1u;
        used_off = (data[6] * 256u + (data[7] & 0x0c)) & ~3u;
        memset(mem, 0, MEM);
        memcpy(mem, data + 8, size - 8 < MEM ? size - 8 : MEM);
        if (desc_off + tv_vq_desc_size(num) > MEM || avail_off + tv_vq_avail_size(num) > MEM ||
            used_off + tv_vq_used_size(num) > MEM)
                return 0;
        if (tv_vq_init(&vq, &m, num, last, ev, mem + desc_off, mem + avail_off, mem + used_off) < 0)
                abort();
        for (int k = 0; k < 300; k++) {
                TvVuElem e;
                int r = tv_vq_pop(&vq, &e);

                if (r < 0) {
                        if (!vq.broken || tv_vq_pop(&vq, &e) != -22)
                                abort();
                        break;
                }
                if (r == 0)
                        break;
                if (e.n_out > TV_VU_ELEM_MAX || e.n_in > TV_VU_ELEM_MAX || e.head >= num)
                        abort();
                check_iov(e.out, e.n_out);
                check_iov(e.in, e.n_in);
                /* the device writes its reply: must stay inside guest memory */
                for (unsigned i = 0; i < e.n_in; i++)
                        memset(e.in[i].iov_base, 0xa5, e.in[i].iov_len);
                if (k & 1) {
                        tv_vq_push(&vq, &e, (uint32_t)k * 977u);
                        tv_vq_should_notify(&vq);
                }
        }
        tv_vq_fini(&vq);
        return 0;
}
