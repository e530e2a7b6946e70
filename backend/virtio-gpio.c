// SPDX-License-Identifier: GPL-2.0-or-later
/* The virtio GPIO device model of tegravirt-gpio-backend (virtio-gpio.h). What the Linux 6.1
 * driver (drivers/gpio/gpio-virtio.c) relies on: a response of exactly the size it queued
 * (2 bytes; 1 + gpio_names_size for GET_NAMES) when the status is OK, GET_DIRECTION
 * answering IN or OUT (NONE fails its get_direction), SET_VALUE accepted before
 * SET_DIRECTION OUT (direction_output sends them in that order), SET_IRQ_TYPE before the
 * eventq buffer, an INVALID buffer being requeued by the driver. */
#include "virtio-gpio.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/gpio.h>
#include <linux/virtio_gpio.h>

typedef struct VgLine {
        char *name;
        uint8_t irq_type;       /* VIRTIO_GPIO_IRQ_TYPE_* */
        bool held;              /* the driver's eventq buffer for this line is with us: unmasked */
        bool latched;           /* an edge came while masked */
        int8_t out_value;       /* SET_VALUE before SET_DIRECTION OUT; -1 none */
        uint8_t dir;            /* the direction the driver set (VIRTIO_GPIO_DIRECTION_*) */
} VgLine;

struct TvVgpio {
        unsigned n;
        uint32_t names_size;
        bool irq;
        const TvVgpioOps *ops;
        void *ud;
        TvVgpioStats stats;
        VgLine lines[];
};

bool tv_vgpio_name_valid(const char *name)
{
        size_t len = strlen(name);

        if (len == 0 || len > TV_VGPIO_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++)
                if (*p <= ' ' || *p > '~')
                        return false;
        return true;
}

TvVgpio *tv_vgpio_new(unsigned n, const char *const *names, const TvVgpioOps *ops, void *ud)
{
        TvVgpio *d;

        if (n == 0 || n > TV_VGPIO_MAX_LINES)
                return NULL;
        for (unsigned i = 0; i < n; i++) {
                if (!tv_vgpio_name_valid(names[i]))
                        return NULL;
                for (unsigned j = 0; j < i; j++)
                        if (!strcmp(names[i], names[j]))
                                return NULL; /* the spec wants them unique */
        }
        d = calloc(1, sizeof(*d) + n * sizeof(VgLine));
        if (!d)
                return NULL;
        d->n = n;
        d->ops = ops;
        d->ud = ud;
        for (unsigned i = 0; i < n; i++) {
                d->lines[i].name = strdup(names[i]);
                d->lines[i].out_value = -1;
                if (!d->lines[i].name) {
                        tv_vgpio_free(d);
                        return NULL;
                }
                d->names_size += strlen(names[i]) + 1;
        }
        return d;
}

void tv_vgpio_free(TvVgpio *d)
{
        if (!d)
                return;
        for (unsigned i = 0; i < d->n; i++)
                free(d->lines[i].name);
        free(d);
}

int tv_vgpio_get_config(TvVgpio *d, uint32_t offset, uint8_t *buf, uint32_t len)
{
        uint8_t c[8] = { (uint8_t)d->n, (uint8_t)(d->n >> 8), 0, 0, (uint8_t)d->names_size,
                         (uint8_t)(d->names_size >> 8), (uint8_t)(d->names_size >> 16), (uint8_t)(d->names_size >> 24) };

        if (offset > sizeof(c) || len > sizeof(c) - offset)
                return -EINVAL;
        memcpy(buf, c + offset, len);
        return 0;
}

void tv_vgpio_set_irq(TvVgpio *d, bool acked)
{
        d->irq = acked;
}

TvVgpioStats tv_vgpio_stats(TvVgpio *d)
{
        return d->stats;
}

static size_t iov_total(const struct iovec *iov, unsigned n)
{
        size_t t = 0;

        for (unsigned i = 0; i < n; i++)
                t += iov[i].iov_len;
        return t;
}

/* copies exactly len bytes out of iov (the caller checked the total) */
static void iov_gather(const struct iovec *iov, unsigned n, void *buf, size_t len)
{
        size_t done = 0;

        for (unsigned i = 0; i < n && done < len; i++) {
                size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

                memcpy((uint8_t *)buf + done, iov[i].iov_base, k);
                done += k;
        }
}

/* writes len bytes into iov (the caller checked the room), in pieces as the chain has them */
static void iov_scatter(const struct iovec *iov, unsigned n, size_t at, const void *buf, size_t len)
{
        size_t done = 0;

        for (unsigned i = 0; i < n && done < len; i++) {
                size_t k;

                if (at >= iov[i].iov_len) {
                        at -= iov[i].iov_len;
                        continue;
                }
                k = iov[i].iov_len - at < len - done ? iov[i].iov_len - at : len - done;
                memcpy((uint8_t *)iov[i].iov_base + at, (const uint8_t *)buf + done, k);
                done += k;
                at = 0;
        }
}

static uint64_t edge_flags(uint8_t type)
{
        switch (type) {
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING: return GPIO_V2_LINE_FLAG_EDGE_RISING;
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING: return GPIO_V2_LINE_FLAG_EDGE_FALLING;
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH:
        case VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH:
        case VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW:
                /* levels: both edges, then the value decides */
                return GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
        default: return 0;
        }
}

static bool is_level(uint8_t type)
{
        return type == VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH || type == VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW;
}

static void fire(TvVgpio *d, unsigned gpio, uint8_t status)
{
        VgLine *l = &d->lines[gpio];

        l->held = false;
        l->latched = false;
        if (status == VIRTIO_GPIO_IRQ_STATUS_VALID)
                d->stats.events++;
        else
                d->stats.invalid++;
        d->ops->event_done(d->ud, gpio, status);
}

/* a level type with its buffer here: fires if the level holds now */
static void check_level(TvVgpio *d, unsigned gpio)
{
        VgLine *l = &d->lines[gpio];
        int v;

        if (!l->held || !is_level(l->irq_type))
                return;
        v = d->ops->get(d->ud, gpio);
        if (v < 0) {
                if (d->ops->host_error)
                        d->ops->host_error(d->ud, gpio, "reading the level", -v);
                return;
        }
        if (v == (l->irq_type == VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH))
                fire(d, gpio, VIRTIO_GPIO_IRQ_STATUS_VALID);
}

static void host_error(TvVgpio *d, unsigned gpio, const char *what, int r)
{
        if (d->ops->host_error)
                d->ops->host_error(d->ud, gpio, what, -r);
}

/* Interrupts off: edge detection stopped (the line stays an input), a held buffer goes back
 * INVALID. false when the host line refused (nothing changed). */
static bool irq_off(TvVgpio *d, unsigned gpio)
{
        VgLine *l = &d->lines[gpio];

        if (l->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE) {
                int r = d->ops->configure(d->ud, gpio, GPIO_V2_LINE_FLAG_INPUT, 0);

                if (r < 0) {
                        host_error(d, gpio, "stopping edge detection", r);
                        return false;
                }
        }
        l->irq_type = VIRTIO_GPIO_IRQ_TYPE_NONE;
        l->latched = false;
        if (l->held)
                fire(d, gpio, VIRTIO_GPIO_IRQ_STATUS_INVALID);
        return true;
}

static bool set_irq_type(TvVgpio *d, unsigned gpio, uint32_t type)
{
        VgLine *l = &d->lines[gpio];
        int r;

        switch (type) {
        case VIRTIO_GPIO_IRQ_TYPE_NONE: case VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING:
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING: case VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH:
        case VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH: case VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW:
                break;
        default:
                return false;
        }
        if (!d->irq)
                return false;
        if (type == VIRTIO_GPIO_IRQ_TYPE_NONE)
                return irq_off(d, gpio);
        if (edge_flags(type) != edge_flags(l->irq_type)) {
                r = d->ops->configure(d->ud, gpio, GPIO_V2_LINE_FLAG_INPUT | edge_flags(type), 0);
                if (r < 0) {
                        host_error(d, gpio, "starting edge detection", r);
                        return false;
                }
        }
        l->irq_type = (uint8_t)type;
        l->latched = false;
        check_level(d, gpio);
        return true;
}

static bool set_direction(TvVgpio *d, unsigned gpio, uint32_t dir)
{
        VgLine *l = &d->lines[gpio];
        int r;

        switch (dir) {
        case VIRTIO_GPIO_DIRECTION_NONE:
                /* the driver freed the line: forget its state (spec: discard it) */
                if (!irq_off(d, gpio))
                        return false;
                l->out_value = -1;
                l->dir = VIRTIO_GPIO_DIRECTION_NONE;
                return true;
        case VIRTIO_GPIO_DIRECTION_IN:
                r = d->ops->configure(d->ud, gpio, GPIO_V2_LINE_FLAG_INPUT | edge_flags(l->irq_type), 0);
                if (r < 0)
                        host_error(d, gpio, "setting input", r);
                else
                        l->dir = VIRTIO_GPIO_DIRECTION_IN;
                return r == 0;
        case VIRTIO_GPIO_DIRECTION_OUT: {
                int v = l->out_value;

                if (l->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE)
                        return false; /* an interrupt line is an input */
                /* no value set by the driver: an output keeps the level it has (no glitch) */
                if (v < 0)
                        v = d->ops->is_output(d->ud, gpio) ? d->ops->get(d->ud, gpio) : 0;
                r = d->ops->configure(d->ud, gpio, GPIO_V2_LINE_FLAG_OUTPUT, v > 0);
                if (r < 0)
                        host_error(d, gpio, "setting output", r);
                else
                        l->dir = VIRTIO_GPIO_DIRECTION_OUT;
                return r == 0;
        }
        default:
                return false;
        }
}

uint32_t tv_vgpio_request(TvVgpio *d, const struct iovec *out, unsigned n_out, const struct iovec *in, unsigned n_in)
{
        struct virtio_gpio_request req;
        size_t room = iov_total(in, n_in);
        uint8_t res[2] = { VIRTIO_GPIO_STATUS_ERR, 0 };
        bool ok = false;
        uint16_t type, gpio;
        uint32_t value;
        int r;

        d->stats.requests++;
        if (room == 0) {
                d->stats.errors++;
                return 0;
        }
        if (iov_total(out, n_out) != sizeof(req))
                goto reply;
        iov_gather(out, n_out, &req, sizeof(req));
        type = le16toh(req.type);
        gpio = le16toh(req.gpio);
        value = le32toh(req.value);
        if (type == VIRTIO_GPIO_MSG_GET_NAMES) {
                uint32_t need = 1 + d->names_size, at = 1;

                if (room < need)
                        goto reply;
                res[0] = VIRTIO_GPIO_STATUS_OK;
                iov_scatter(in, n_in, 0, res, 1);
                for (unsigned i = 0; i < d->n; i++) {
                        size_t len = strlen(d->lines[i].name) + 1;

                        iov_scatter(in, n_in, at, d->lines[i].name, len);
                        at += len;
                }
                return need;
        }
        if (gpio >= d->n || room < sizeof(res))
                goto reply;
        switch (type) {
        case VIRTIO_GPIO_MSG_GET_DIRECTION:
                res[1] = d->ops->is_output(d->ud, gpio) ? VIRTIO_GPIO_DIRECTION_OUT : VIRTIO_GPIO_DIRECTION_IN;
                ok = true;
                break;
        case VIRTIO_GPIO_MSG_SET_DIRECTION:
                ok = set_direction(d, gpio, value);
                break;
        case VIRTIO_GPIO_MSG_GET_VALUE:
                r = d->ops->get(d->ud, gpio);
                if (r < 0)
                        host_error(d, gpio, "reading the value", r);
                ok = r >= 0;
                res[1] = r > 0;
                break;
        case VIRTIO_GPIO_MSG_SET_VALUE:
                if (value > 1)
                        break;
                /* kept for a later SET_DIRECTION OUT (the driver sets the value first) */
                d->lines[gpio].out_value = (int8_t)value;
                r = d->ops->is_output(d->ud, gpio) ? d->ops->set(d->ud, gpio, (int)value) : 0;
                if (r < 0)
                        host_error(d, gpio, "setting the value", r);
                ok = r == 0;
                break;
        case VIRTIO_GPIO_MSG_IRQ_TYPE:
                ok = set_irq_type(d, gpio, value);
                break;
        default:
                break;
        }
        /* acted on, not answered yet: the caller records the line's state now */
        if (d->ops->line_changed && (type == VIRTIO_GPIO_MSG_SET_DIRECTION || type == VIRTIO_GPIO_MSG_SET_VALUE ||
                                     type == VIRTIO_GPIO_MSG_IRQ_TYPE))
                d->ops->line_changed(d->ud, gpio);
reply:
        if (ok)
                res[0] = VIRTIO_GPIO_STATUS_OK;
        else
                d->stats.errors++;
        if (room > sizeof(res))
                room = sizeof(res);
        iov_scatter(in, n_in, 0, res, room);
        return (uint32_t)room;
}

int tv_vgpio_event_parse(TvVgpio *d, const struct iovec *out, unsigned n_out, const struct iovec *in, unsigned n_in)
{
        struct virtio_gpio_irq_request req;
        unsigned gpio;

        if (!d->irq || iov_total(out, n_out) != sizeof(req) || iov_total(in, n_in) < sizeof(struct virtio_gpio_irq_response))
                return -1;
        iov_gather(out, n_out, &req, sizeof(req));
        gpio = le16toh(req.gpio);
        if (gpio >= d->n || d->lines[gpio].held)
                return -1;
        return (int)gpio;
}

void tv_vgpio_event_arm(TvVgpio *d, unsigned gpio)
{
        VgLine *l;

        if (gpio >= d->n)
                return;
        l = &d->lines[gpio];
        l->held = true;
        /* a line without an interrupt type keeps the buffer (the driver sets the type first;
         * after a backend restart it is the type the guest set before, which we no longer
         * know: returning INVALID would make the driver requeue it at once, forever) */
        if (l->latched && l->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE && !is_level(l->irq_type))
                fire(d, gpio, VIRTIO_GPIO_IRQ_STATUS_VALID);
        else
                check_level(d, gpio);
}

void tv_vgpio_host_event(TvVgpio *d, unsigned gpio, uint32_t id)
{
        VgLine *l;
        bool match;

        if (gpio >= d->n)
                return;
        l = &d->lines[gpio];
        switch (l->irq_type) {
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING: match = id == GPIO_V2_LINE_EVENT_RISING_EDGE; break;
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING: match = id == GPIO_V2_LINE_EVENT_FALLING_EDGE; break;
        case VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH: match = true; break;
        case VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH:
        case VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW:
                check_level(d, gpio);
                return;
        default:
                return; /* a stale event of a type turned off */
        }
        if (!match)
                return;
        if (l->held)
                fire(d, gpio, VIRTIO_GPIO_IRQ_STATUS_VALID);
        else
                l->latched = true;
}

void tv_vgpio_return_buffers(TvVgpio *d)
{
        for (unsigned i = 0; i < d->n; i++)
                if (d->lines[i].held)
                        fire(d, i, VIRTIO_GPIO_IRQ_STATUS_INVALID);
}

void tv_vgpio_forget_buffers(TvVgpio *d)
{
        for (unsigned i = 0; i < d->n; i++)
                d->lines[i].held = false;
}

void tv_vgpio_reset(TvVgpio *d)
{
        for (unsigned i = 0; i < d->n; i++) {
                VgLine *l = &d->lines[i];

                if (l->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE) {
                        int r = d->ops->configure(d->ud, i, GPIO_V2_LINE_FLAG_INPUT, 0);

                        if (r < 0)
                                host_error(d, i, "stopping edge detection", r);
                }
                l->irq_type = VIRTIO_GPIO_IRQ_TYPE_NONE;
                l->held = l->latched = false;
                l->out_value = -1;
                l->dir = VIRTIO_GPIO_DIRECTION_NONE;
        }
        d->irq = false;
}

void tv_vgpio_line_state(TvVgpio *d, unsigned gpio, TvVgpioLineState *st)
{
        const VgLine *l = &d->lines[gpio < d->n ? gpio : 0];

        *st = (TvVgpioLineState){ .dir = l->dir, .out_value = l->out_value, .irq_type = l->irq_type };
}

int tv_vgpio_restore_line(TvVgpio *d, unsigned gpio, const TvVgpioLineState *st)
{
        VgLine *l;
        int r = 0, v;

        if (gpio >= d->n || st->dir > VIRTIO_GPIO_DIRECTION_IN || st->out_value < -1 || st->out_value > 1 ||
            (st->irq_type > VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH && !is_level(st->irq_type)) ||
            (st->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE && st->dir == VIRTIO_GPIO_DIRECTION_OUT))
                return -EINVAL;
        l = &d->lines[gpio];
        if (st->dir == VIRTIO_GPIO_DIRECTION_OUT) {
                v = st->out_value;
                if (v < 0) /* no value set by the driver: the level the line has (requested as is) */
                        v = d->ops->is_output(d->ud, gpio) ? d->ops->get(d->ud, gpio) : 0;
                r = d->ops->configure(d->ud, gpio, GPIO_V2_LINE_FLAG_OUTPUT, v > 0);
        } else if (st->dir == VIRTIO_GPIO_DIRECTION_IN || st->irq_type != VIRTIO_GPIO_IRQ_TYPE_NONE) {
                r = d->ops->configure(d->ud, gpio, GPIO_V2_LINE_FLAG_INPUT | edge_flags(st->irq_type), 0);
        }
        if (r < 0)
                return r;
        l->dir = st->dir;
        l->out_value = (int8_t)st->out_value;
        l->irq_type = st->irq_type;
        l->latched = false;
        return 0;
}
