// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * backend/virtio-gpio.c, the virtio GPIO device model, against fake host lines: the config
 * and the names block as the Linux 6.1 driver reads them, every request type, what fails
 * with status ERR, and the interrupt rules (a queued buffer unmasks, an interrupt uses it,
 * an edge while masked is latched, a level fires while it holds and a buffer is there,
 * NONE returns the buffer INVALID).
 */
#include <errno.h>
#include <string.h>
#include <linux/gpio.h>
#include <linux/virtio_gpio.h>
#include "gpio-state.h"
#include "tv-tap.h"
#include "virtio-gpio.h"

#define N 3
static struct {
        int value[N];
        bool output[N];
        uint64_t flags[N];      /* the last SET_CONFIG */
        int fail;               /* next host op fails with this errno */
        int done_gpio[16];
        uint8_t done_status[16];
        unsigned n_done;
        unsigned n_config;
} host;

static int f_get(void *ud, unsigned g)
{
        (void)ud;
        if (host.fail) {
                int e = host.fail;
                host.fail = 0;
                return -e;
        }
        return host.value[g];
}

static int f_set(void *ud, unsigned g, int v)
{
        (void)ud;
        if (!host.output[g])
                return -EPERM;
        host.value[g] = v;
        return 0;
}

static int f_configure(void *ud, unsigned g, uint64_t flags, int out)
{
        (void)ud;
        if (host.fail) {
                int e = host.fail;
                host.fail = 0;
                return -e;
        }
        host.n_config++;
        host.flags[g] = flags;
        if (flags & GPIO_V2_LINE_FLAG_OUTPUT) {
                host.output[g] = true;
                host.value[g] = out;
        } else if (flags & GPIO_V2_LINE_FLAG_INPUT) {
                host.output[g] = false;
        }
        return 0;
}

static bool f_is_output(void *ud, unsigned g)
{
        (void)ud;
        return host.output[g];
}

static void f_done(void *ud, unsigned g, uint8_t status)
{
        (void)ud;
        if (host.n_done < 16) {
                host.done_gpio[host.n_done] = (int)g;
                host.done_status[host.n_done] = status;
        }
        host.n_done++;
}

static const TvVgpioOps ops = { f_get, f_set, f_configure, f_is_output, f_done, NULL, NULL };

/* one request, response room `room`; returns bytes written, status/value in *st, *val */
static uint32_t req(TvVgpio *d, uint16_t type, uint16_t gpio, uint32_t value, size_t room, uint8_t *st, uint8_t *val)
{
        struct virtio_gpio_request r = { htole16(type), htole16(gpio), htole32(value) };
        uint8_t res[2] = { 0xee, 0xee };
        struct iovec out = { &r, sizeof(r) }, in = { res, room };
        uint32_t w = tv_vgpio_request(d, &out, 1, &in, 1);

        *st = res[0];
        if (val)
                *val = res[1];
        return w;
}

static bool ok_req(TvVgpio *d, uint16_t type, uint16_t gpio, uint32_t value)
{
        uint8_t st;

        return req(d, type, gpio, value, 2, &st, NULL) == 2 && st == VIRTIO_GPIO_STATUS_OK;
}

static bool err_req(TvVgpio *d, uint16_t type, uint16_t gpio, uint32_t value)
{
        uint8_t st;

        return req(d, type, gpio, value, 2, &st, NULL) == 2 && st == VIRTIO_GPIO_STATUS_ERR;
}

static int queue_buf(TvVgpio *d, uint16_t gpio)
{
        uint16_t g = htole16(gpio);
        uint8_t status;
        struct iovec out = { &g, 2 }, in = { &status, 1 };
        int r = tv_vgpio_event_parse(d, &out, 1, &in, 1);

        if (r >= 0)
                tv_vgpio_event_arm(d, (unsigned)r);
        return r;
}

int main(void)
{
        static const char *const names[N] = { "PIN7", "PIN11", "PIN13" };
        const char *bad_names[2] = { "A", "A" };
        TvVgpio *d = tv_vgpio_new(N, names, &ops, NULL);
        uint8_t cfg[8], st, val, nb[64];
        uint32_t w;

        CHECK(d, "a device of 3 named lines");
        CHECK(!tv_vgpio_new(2, bad_names, &ops, NULL), "two lines of the same name are refused");
        bad_names[1] = "with space";
        CHECK(!tv_vgpio_new(2, bad_names, &ops, NULL), "a name with a space is refused");
        CHECK(!tv_vgpio_new(0, names, &ops, NULL), "no line is refused");

        /* config: le16 ngpio, 2 pad, le32 gpio_names_size = 5+6+6 */
        CHECK(tv_vgpio_get_config(d, 0, cfg, 8) == 0 && !memcmp(cfg, "\x03\x00\x00\x00\x11\x00\x00\x00", 8),
              "config: ngpio 3, gpio_names_size 17 (little-endian)");
        CHECK(tv_vgpio_get_config(d, 4, cfg, 4) == 0 && cfg[0] == 17, "config read at offset 4 (names size)");
        CHECK(tv_vgpio_get_config(d, 6, cfg, 4) == -EINVAL, "config read past its 8 bytes: EINVAL");

        /* GET_NAMES: status then the NUL-separated names, exactly 1 + gpio_names_size bytes */
        {
                struct virtio_gpio_request r = { htole16(VIRTIO_GPIO_MSG_GET_NAMES), 0, 0 };
                struct iovec out = { &r, sizeof(r) }, in[2] = { { nb, 5 }, { nb + 5, 40 } };

                memset(nb, 0xee, sizeof(nb));
                w = tv_vgpio_request(d, &out, 1, in, 2);
                CHECK(w == 18 && nb[0] == VIRTIO_GPIO_STATUS_OK && !memcmp(nb + 1, "PIN7\0PIN11\0PIN13\0", 17),
                      "GET_NAMES over a split response buffer: OK, 18 bytes, PIN7 PIN11 PIN13 in order");
                in[1].iov_len = 10;
                w = tv_vgpio_request(d, &out, 1, in, 2);
                CHECK(w == 2 && nb[0] == VIRTIO_GPIO_STATUS_ERR, "GET_NAMES with too small a buffer: ERR");
        }

        /* directions and values */
        host.value[1] = 1;
        CHECK(req(d, VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 0, 2, &st, &val) == 2 && st == 0 && val == VIRTIO_GPIO_DIRECTION_IN,
              "GET_DIRECTION of an input: IN");
        CHECK(req(d, VIRTIO_GPIO_MSG_GET_VALUE, 1, 0, 2, &st, &val) == 2 && st == 0 && val == 1, "GET_VALUE: 1");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_VALUE, 0, 1) && !host.output[0],
              "SET_VALUE on an input (the driver's direction_output sends it first): OK, line still input");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_OUT) && host.output[0] && host.value[0] == 1,
              "SET_DIRECTION OUT: the host line is an output at the value set before (1)");
        CHECK(req(d, VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 0, 2, &st, &val) == 2 && val == VIRTIO_GPIO_DIRECTION_OUT,
              "GET_DIRECTION: OUT");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_VALUE, 0, 0) && host.value[0] == 0, "SET_VALUE 0 on the output");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_IN) && !host.output[0] &&
                      host.flags[0] == GPIO_V2_LINE_FLAG_INPUT, "SET_DIRECTION IN: input");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_NONE), "SET_DIRECTION NONE: OK");
        /* an output at 1 (as after a backend restart), SET_DIRECTION OUT without a value first */
        host.output[0] = true;
        host.value[0] = 1;
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_OUT) && host.output[0] && host.value[0] == 1,
              "SET_DIRECTION OUT of an output at 1 with no value set: stays 1 (no glitch)");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_IN) && !host.output[0], "  ... back to input");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_NONE), "  ... and NONE");
        /* errors */
        CHECK(err_req(d, VIRTIO_GPIO_MSG_GET_VALUE, 3, 0), "a line out of range (3 of 3): ERR");
        CHECK(err_req(d, VIRTIO_GPIO_MSG_GET_VALUE, 0xffff, 0), "line 0xffff: ERR");
        CHECK(err_req(d, VIRTIO_GPIO_MSG_SET_VALUE, 0, 2), "SET_VALUE 2: ERR");
        CHECK(err_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 0, 3), "SET_DIRECTION 3: ERR");
        CHECK(err_req(d, 0, 0, 0) && err_req(d, 7, 0, 0) && err_req(d, 0x100, 0, 0), "unknown request types 0, 7, 0x100: ERR");
        host.fail = EIO;
        CHECK(err_req(d, VIRTIO_GPIO_MSG_GET_VALUE, 1, 0), "the host line fails (EIO): ERR");
        CHECK(req(d, VIRTIO_GPIO_MSG_GET_VALUE, 1, 0, 1, &st, NULL) == 1 && st == VIRTIO_GPIO_STATUS_ERR,
              "a 1-byte response buffer: ERR in that byte");
        CHECK(req(d, VIRTIO_GPIO_MSG_GET_VALUE, 1, 0, 0, &st, NULL) == 0, "no response room: nothing written");
        {
                uint8_t shortreq[7] = { 4, 0, 1, 0, 0, 0, 0 }, res[2];
                struct iovec out = { shortreq, 7 }, in = { res, 2 };

                CHECK(tv_vgpio_request(d, &out, 1, &in, 1) == 2 && res[0] == VIRTIO_GPIO_STATUS_ERR, "a 7-byte request: ERR");
        }
        CHECK(err_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING),
              "SET_IRQ_TYPE without VIRTIO_GPIO_F_IRQ acked: ERR");
        CHECK(queue_buf(d, 1) == -1, "an eventq buffer without F_IRQ: refused");

        /* interrupts */
        tv_vgpio_set_irq(d, true);
        CHECK(err_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 1, 5) && err_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 1, 16),
              "SET_IRQ_TYPE 5, 16: ERR");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING) &&
                      host.flags[1] == (GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING),
              "SET_IRQ_TYPE rising: the host line detects rising edges");
        host.n_done = 0;
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_RISING_EDGE);
        CHECK(host.n_done == 0, "a rising edge with no buffer (masked): nothing sent");
        CHECK(queue_buf(d, 1) == 1 && host.n_done == 1 && host.done_status[0] == VIRTIO_GPIO_IRQ_STATUS_VALID,
              "  ... latched: the buffer queued next is used at once, VALID");
        CHECK(queue_buf(d, 1) == 1 && host.n_done == 1, "a new buffer (unmasked): held");
        CHECK(queue_buf(d, 1) == -1, "a second buffer for the same line: refused");
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_FALLING_EDGE);
        CHECK(host.n_done == 1, "a falling edge on a rising line: nothing");
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_RISING_EDGE);
        CHECK(host.n_done == 2 && host.done_gpio[1] == 1 && host.done_status[1] == VIRTIO_GPIO_IRQ_STATUS_VALID,
              "a rising edge with the buffer there: VALID on line 1");
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_RISING_EDGE);
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_RISING_EDGE);
        CHECK(host.n_done == 2, "two more edges while masked: nothing sent");
        CHECK(queue_buf(d, 1) == 1 && host.n_done == 3, "  ... one interrupt when unmasked (latched once)");
        CHECK(queue_buf(d, 1) == 1 && host.n_done == 3, "  ... and no second one");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_NONE) && host.n_done == 4 &&
                      host.done_status[3] == VIRTIO_GPIO_IRQ_STATUS_INVALID && host.flags[1] == GPIO_V2_LINE_FLAG_INPUT,
              "SET_IRQ_TYPE NONE: the held buffer comes back INVALID, edge detection off");
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_RISING_EDGE);
        CHECK(queue_buf(d, 1) == 1 && host.n_done == 4, "a stale edge after NONE: nothing latched");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 1, VIRTIO_GPIO_DIRECTION_NONE) && host.n_done == 5 &&
                      host.done_status[4] == VIRTIO_GPIO_IRQ_STATUS_INVALID,
              "SET_DIRECTION NONE returns a held buffer INVALID too");

        /* level high on line 2 */
        host.value[2] = 0;
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 2, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH) &&
                      host.flags[2] == (GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING),
              "SET_IRQ_TYPE level high: both edges detected on the host line");
        host.n_done = 0;
        CHECK(queue_buf(d, 2) == 2 && host.n_done == 0, "level low now: the buffer is held");
        host.value[2] = 1;
        tv_vgpio_host_event(d, 2, GPIO_V2_LINE_EVENT_RISING_EDGE);
        CHECK(host.n_done == 1 && host.done_status[0] == VIRTIO_GPIO_IRQ_STATUS_VALID, "it goes high: VALID");
        CHECK(queue_buf(d, 2) == 2 && host.n_done == 2, "still high when the driver requeues: fires again at once");
        CHECK(queue_buf(d, 2) == 2 && host.n_done == 3, "  ... and again (the level holds)");
        host.value[2] = 0;
        tv_vgpio_host_event(d, 2, GPIO_V2_LINE_EVENT_FALLING_EDGE);
        CHECK(queue_buf(d, 2) == 2 && host.n_done == 3, "low again: the requeued buffer is held");
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 2, VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW) && host.n_done == 4,
              "type changed to level low while low and a buffer held: fires");
        CHECK(err_req(d, VIRTIO_GPIO_MSG_SET_DIRECTION, 2, VIRTIO_GPIO_DIRECTION_OUT), "SET_DIRECTION OUT of an interrupt line: ERR");
        {
                uint16_t g = htole16(2);
                uint8_t s;
                struct iovec out = { &g, 1 }, out2 = { (uint8_t *)&g + 1, 1 }, in = { &s, 1 };
                struct iovec outs[2] = { out, out2 };

                CHECK(tv_vgpio_event_parse(d, &out, 1, &in, 1) == -1, "an eventq buffer of 1 byte: refused");
                CHECK(tv_vgpio_event_parse(d, outs, 2, &in, 0) == -1, "an eventq buffer without status room: refused");
                CHECK(tv_vgpio_event_parse(d, outs, 2, &in, 1) == 2, "an eventq request split in two descriptors: line 2");
        }
        {
                uint16_t g = htole16(9);
                uint8_t s;
                struct iovec out = { &g, 2 }, in = { &s, 1 };

                CHECK(tv_vgpio_event_parse(d, &out, 1, &in, 1) == -1, "an eventq buffer for line 9 of 3: refused");
        }

        /* the eventq stops: held buffers go back INVALID */
        CHECK(ok_req(d, VIRTIO_GPIO_MSG_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING), "rising on line 1 again");
        host.n_done = 0;
        queue_buf(d, 1);
        tv_vgpio_return_buffers(d);
        CHECK(host.n_done == 1 && host.done_gpio[0] == 1 && host.done_status[0] == VIRTIO_GPIO_IRQ_STATUS_INVALID,
              "the eventq stops: line 1's held buffer goes back INVALID (line 2 held none)");
        tv_vgpio_return_buffers(d);
        CHECK(host.n_done == 1, "  ... once");

        /* a new connection: interrupts off on the host, nothing held */
        host.n_config = 0;
        tv_vgpio_reset(d);
        CHECK(host.n_config == 2 && host.flags[1] == GPIO_V2_LINE_FLAG_INPUT && host.flags[2] == GPIO_V2_LINE_FLAG_INPUT,
              "reset: edge detection stopped on lines 1 and 2 (line 0 had none)");
        CHECK(queue_buf(d, 2) == -1, "  ... and F_IRQ is to be acked again");

        /* the state a restarted backend gets back (gpio-state.c, tv_vgpio_restore_line) */
        {
                static uint8_t buf[sizeof(TvGstate) + N * sizeof(TvGstateLine)];
                TvGstate *gs = (TvGstate *)buf;

                tv_gstate_init(buf, N, 42);
                CHECK(!tv_gstate_check(buf, sizeof(buf), N, 42), "state file: a new one is consistent");
                CHECK(tv_gstate_check(buf, sizeof(buf), N - 1, 42) != NULL, "  ... not for another line count");
                CHECK(tv_gstate_check(buf, sizeof(buf) - 1, N, 42) != NULL, "  ... nor another size");
                CHECK(tv_gstate_check(buf, sizeof(buf), N, 43) != NULL, "  ... nor other lines of the same count");
                {
                        const char *a[2] = { "0:106:A", "0:107:B" }, *b[2] = { "0:106:A", "0:108:B" };
                        const char *c[2] = { "0:106:A0", ":107:B" };

                        CHECK(tv_gstate_lines_id(a, 2) != tv_gstate_lines_id(b, 2) &&
                              tv_gstate_lines_id(a, 2) != tv_gstate_lines_id(c, 2) &&
                              tv_gstate_lines_id(a, 2) == tv_gstate_lines_id(a, 2), "  ... line lists are told apart");
                }
                gs->line[1].irq_type = 7;
                CHECK(tv_gstate_check(buf, sizeof(buf), N, 42) != NULL, "  ... an irq type 7 is refused");
                gs->line[1].irq_type = VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW;
                CHECK(!tv_gstate_check(buf, sizeof(buf), N, 42), "  ... level low (8) is one");
                gs->line[1].dir = VIRTIO_GPIO_DIRECTION_OUT;
                CHECK(tv_gstate_check(buf, sizeof(buf), N, 42) != NULL, "  ... not on an output");
                gs->line[1].dir = VIRTIO_GPIO_DIRECTION_IN;
                gs->queue[1].state = TV_VU_REC_RUNNING;
                gs->queue[1].num = 8;
                gs->queue[1].inflight[1] = 1;   /* head 8 of a ring of 8 */
                CHECK(tv_gstate_check(buf, sizeof(buf), N, 42) != NULL, "  ... a head beyond the ring size is refused");
                gs->queue[1].inflight[1] = 0;
                gs->queue[1].inflight[0] = 0x81;
                CHECK(!tv_gstate_check(buf, sizeof(buf), N, 42), "  ... heads 0 and 7 of 8 are fine");
                gs->magic ^= 1;
                CHECK(tv_gstate_check(buf, sizeof(buf), N, 42) != NULL, "  ... a wrong magic is refused");
        }
        host.n_config = 0;
        CHECK(tv_vgpio_restore_line(d, 1, &(TvVgpioLineState){ .dir = VIRTIO_GPIO_DIRECTION_IN, .out_value = -1,
                                                            .irq_type = VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING }) == 0 &&
              host.flags[1] == (GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING),
              "restore: line 1 rising again on the host");
        tv_vgpio_set_irq(d, true);
        host.n_done = 0;
        queue_buf(d, 1);
        tv_vgpio_host_event(d, 1, GPIO_V2_LINE_EVENT_RISING_EDGE);
        CHECK(host.n_done == 1 && host.done_gpio[0] == 1 && host.done_status[0] == VIRTIO_GPIO_IRQ_STATUS_VALID,
              "  ... its buffer, taken back, gets the next rising edge without a SET_IRQ_TYPE");
        CHECK(tv_vgpio_restore_line(d, 0, &(TvVgpioLineState){ .dir = VIRTIO_GPIO_DIRECTION_OUT, .out_value = 1 }) == 0 &&
              host.output[0] && host.value[0] == 1, "restore: line 0 an output at the guest's value 1");
        TvVgpioLineState ls;

        tv_vgpio_line_state(d, 0, &ls);
        CHECK(ls.dir == VIRTIO_GPIO_DIRECTION_OUT && ls.out_value == 1 && ls.irq_type == 0, "  ... and so recorded");
        CHECK(tv_vgpio_restore_line(d, 2, &(TvVgpioLineState){ .dir = VIRTIO_GPIO_DIRECTION_OUT, .out_value = -1,
                                                            .irq_type = VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH }) == -EINVAL,
              "restore: an interrupt on an output is refused");
        tv_vgpio_free(d);
        return tap_finish();
}
