// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: tegravirt-gpio-backend's virtio GPIO device model (backend/virtio-gpio.c) on
 * a sequence of what a guest and the host lines can do: requestq elements (request bytes
 * split over descriptors, any response room), eventq buffers, host edges, host failures,
 * resets. Invariants: a response never claims more bytes than its room, OK responses have
 * their exact size, a buffer comes back only for a line that holds one and only once, an
 * eventq buffer is never accepted twice for a line, a stopping eventq gets every held one back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/gpio.h>
#include <linux/virtio_gpio.h>
#include "gpio-state.h"
#include "virtio-gpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N 4
static bool held[N], out[N];
static int value[N], fail;

static int f_get(void *ud, unsigned g)
{
        (void)ud;
        if (g >= N)
                abort();
        return fail ? -fail : value[g];
}

static int f_set(void *ud, unsigned g, int v)
{
        (void)ud;
        if (g >= N || (v != 0 && v != 1))
                abort();
        if (fail)
                return -fail;
        value[g] = v;
        return 0;
}

static int f_configure(void *ud, unsigned g, uint64_t flags, int v)
{
        (void)ud;
        if (g >= N)
                abort();
        /* the kernel refuses edge detection on an output: the model must never ask it */
        if ((flags & GPIO_V2_LINE_FLAG_OUTPUT) && (flags & (GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING)))
                abort();
        if (fail)
                return -fail;
        if (flags & GPIO_V2_LINE_FLAG_OUTPUT) {
                out[g] = true;
                value[g] = v;
        } else if (flags & GPIO_V2_LINE_FLAG_INPUT) {
                out[g] = false;
        }
        return 0;
}

static bool f_is_output(void *ud, unsigned g)
{
        (void)ud;
        return out[g];
}

static void f_done(void *ud, unsigned g, uint8_t status)
{
        (void)ud;
        if (g >= N || !held[g] || (status != VIRTIO_GPIO_IRQ_STATUS_VALID && status != VIRTIO_GPIO_IRQ_STATUS_INVALID))
                abort();
        held[g] = false;
}

static const TvVgpioOps ops = { f_get, f_set, f_configure, f_is_output, f_done, NULL, NULL };

/* splits len bytes of buf into up to 3 iovecs at cut points taken from the input */
static unsigned split(uint8_t *buf, size_t len, uint8_t c1, uint8_t c2, struct iovec *iov)
{
        size_t a = len ? c1 % (len + 1) : 0, b = len ? c2 % (len + 1) : 0, t;

        if (a > b) {
                t = a;
                a = b;
                b = t;
        }
        iov[0] = (struct iovec){ buf, a };
        iov[1] = (struct iovec){ buf + a, b - a };
        iov[2] = (struct iovec){ buf + b, len - b };
        return 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[N] = { "a", "PIN11", "x-y_z.0", "L3" };
        TvVgpio *d = tv_vgpio_new(N, names, &ops, NULL);
        size_t off = 0;

        if (!d)
                abort();
        memset(held, 0, sizeof(held));
        memset(out, 0, sizeof(out));
        memset(value, 0, sizeof(value));
        fail = 0;
        /* a state file (backend/gpio-state.c) a predecessor left: a valid one with the input
         * written over it at an offset the input picks; what passes the check is applied */
        {
                static uint8_t st[sizeof(TvGstate) + N * sizeof(TvGstateLine)];
                const TvGstate *s = (const TvGstate *)st;
                size_t at, k;

                tv_gstate_init(st, N, 7);
                if (size >= 2) {
                        at = (data[0] | (size_t)data[1] << 8) * 7 % sizeof(st);
                        k = size - 2 < sizeof(st) - at ? size - 2 : sizeof(st) - at;
                        memcpy(st + at, data + 2, k);
                }
                if (!tv_gstate_check(st, sizeof(st), N, 7)) {
                        for (unsigned q = 0; q < TV_GSTATE_QUEUES; q++)
                                if (s->queue[q].state && s->queue[q].pushing > s->queue[q].num)
                                        abort();
                        for (unsigned g = 0; g < N; g++) {
                                TvVgpioLineState ls = { .dir = s->line[g].dir, .irq_type = s->line[g].irq_type,
                                                        .out_value = s->line[g].value == 0xff ? -1 : s->line[g].value };

                                if (tv_vgpio_restore_line(d, g, &ls) == -EINVAL)
                                        abort(); /* the check let through what the model refuses */
                        }
                }
                if (tv_gstate_check(st, sizeof(st) - 1, N, 7) == NULL)
                        abort();
        }
        while (off < size) {
                uint8_t op = data[off++];

                switch (op % 6) {
                case 0: { /* a request: [len][room][cut1][cut2][cut3][cut4] then len bytes */
                        uint8_t req[16], res[64];
                        struct iovec o[3], i[3];
                        size_t len, room;
                        uint32_t w;

                        if (size - off < 6)
                                goto done;
                        len = data[off] % 12;
                        room = data[off + 1] % sizeof(res);
                        if (size - off - 6 < len)
                                goto done;
                        memcpy(req, data + off + 6, len);
                        split(req, len, data[off + 2], data[off + 3], o);
                        split(res, room, data[off + 4], data[off + 5], i);
                        memset(res, 0xa5, sizeof(res));
                        w = tv_vgpio_request(d, o, 3, i, 3);
                        if (w > room || (room && !w))
                                abort();
                        if (w && res[0] == VIRTIO_GPIO_STATUS_OK) {
                                /* OK: exactly the response the driver queued (names: 2+6+8+3 bytes) */
                                uint16_t type = (uint16_t)(req[0] | req[1] << 8);
                                if (len != 8 || (type == VIRTIO_GPIO_MSG_GET_NAMES ? w != 1 + 19 : w != 2))
                                        abort();
                        } else if (w && res[0] != VIRTIO_GPIO_STATUS_ERR) {
                                abort();
                        }
                        off += 6 + len;
                        break;
                }
                case 1: { /* an eventq buffer: [gpio lo][gpio hi][outlen][inlen] */
                        uint8_t g[4], st[2];
                        struct iovec o = { g, 0 }, i = { st, 0 };
                        int r;

                        if (size - off < 4)
                                goto done;
                        g[0] = data[off];
                        g[1] = data[off + 1];
                        o.iov_len = data[off + 2] % 4;
                        i.iov_len = data[off + 3] % 3;
                        off += 4;
                        r = tv_vgpio_event_parse(d, &o, 1, &i, 1);
                        if (r >= N || (r >= 0 && held[r]))
                                abort();
                        if (r >= 0) {
                                held[r] = true;
                                tv_vgpio_event_arm(d, (unsigned)r);
                        }
                        break;
                }
                case 2: /* a host edge */
                        if (size - off < 1)
                                goto done;
                        tv_vgpio_host_event(d, data[off] % (N + 1), data[off] & 0x80 ? GPIO_V2_LINE_EVENT_FALLING_EDGE
                                                                                     : GPIO_V2_LINE_EVENT_RISING_EDGE);
                        off++;
                        break;
                case 3: /* the host's input levels change, or host operations start/stop failing */
                        if (size - off < 1)
                                goto done;
                        if (data[off] & 0x80)
                                fail = data[off] & 1 ? EIO : 0;
                        else
                                value[data[off] % N] = (data[off] >> 2) & 1;
                        off++;
                        break;
                case 4:
                        tv_vgpio_set_irq(d, op & 0x80);
                        break;
                case 5:
                        if (op & 0x40) {
                                /* the eventq stops: each held buffer back once, INVALID */
                                tv_vgpio_return_buffers(d);
                                for (unsigned i = 0; i < N; i++)
                                        if (held[i])
                                                abort();
                                break;
                        }
                        if (op & 0x80) {
                                tv_vgpio_forget_buffers(d);
                        } else {
                                fail = 0;
                                tv_vgpio_reset(d);
                        }
                        memset(held, 0, sizeof(held));
                        break;
                }
        }
done:
        tv_vgpio_free(d);
        return 0;
}
