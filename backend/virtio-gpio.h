/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The virtio GPIO device (virtio 1.2 section 5.17, device id 41) of tegravirt-gpio-backend,
 * apart from the transport: requestq requests and eventq buffers come in as iovecs, the
 * host lines are reached through TvVgpioOps. Guest line i is the backend's i-th line; the
 * guest sees only its index and its name, never a host chip or offset.
 *
 * Interrupts (VIRTIO_GPIO_F_IRQ): a buffer the driver queues on the eventq for line i
 * unmasks i; an interrupt uses it (status VALID) and so masks i again until the driver
 * queues the next one. Edge types: the host line's edge detector (SET_CONFIG EDGE_*);
 * an edge while masked is latched (one) and delivered when the buffer comes. Level types:
 * both-edge detection plus reading the value; they fire whenever the level holds and a
 * buffer is there (also at the moment the buffer comes). SET_IRQ_TYPE NONE and
 * SET_DIRECTION NONE return the held buffer with status INVALID. */
#ifndef TV_VIRTIO_GPIO_H
#define TV_VIRTIO_GPIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define TV_VGPIO_DEVICE_ID 41
#define TV_VGPIO_MAX_LINES 512          /* guest lines of one device */
#define TV_VGPIO_NAME_MAX 63            /* characters of a guest line name */

typedef struct TvVgpio TvVgpio;

typedef struct TvVgpioOps {
        int (*get)(void *ud, unsigned gpio);                    /* 0/1 or -errno */
        int (*set)(void *ud, unsigned gpio, int value);         /* 0 or -errno (output lines) */
        /* GPIO_V2_LINE_FLAG_* (0: leave as is); out_value with OUTPUT. 0 or -errno */
        int (*configure)(void *ud, unsigned gpio, uint64_t flags, int out_value);
        bool (*is_output)(void *ud, unsigned gpio);             /* the host line's direction now */
        /* the line's held eventq buffer goes back with this status byte (VALID/INVALID) */
        void (*event_done)(void *ud, unsigned gpio, uint8_t status);
        /* a request failed on the host line (errno); for the log. May be NULL. */
        void (*host_error)(void *ud, unsigned gpio, const char *what, int err);
        /* a SET_DIRECTION/SET_VALUE/SET_IRQ_TYPE request for gpio was acted on and is not
         * answered yet (to record the line's state, tv_vgpio_line_state). May be NULL. */
        void (*line_changed)(void *ud, unsigned gpio);
} TvVgpioOps;

/* What the driver configured on a line (kept across a backend restart). */
typedef struct TvVgpioLineState {
        uint8_t dir;            /* VIRTIO_GPIO_DIRECTION_* the driver set (NONE: not set) */
        int out_value;          /* the value the driver set, -1 none */
        uint8_t irq_type;       /* VIRTIO_GPIO_IRQ_TYPE_* */
} TvVgpioLineState;

/* Guest names: printable ASCII without spaces, 1..TV_VGPIO_NAME_MAX characters. */
bool tv_vgpio_name_valid(const char *name);
/* n lines (1..TV_VGPIO_MAX_LINES) named names[i] (valid, distinct); NULL otherwise or on
 * allocation failure. The names are copied. */
TvVgpio *tv_vgpio_new(unsigned n, const char *const *names, const TvVgpioOps *ops, void *ud);
void tv_vgpio_free(TvVgpio *d);
/* The device config { le16 ngpio; u8 pad[2]; le32 gpio_names_size }: len bytes at offset.
 * 0 or -EINVAL (outside the 8 bytes). */
int tv_vgpio_get_config(TvVgpio *d, uint32_t offset, uint8_t *buf, uint32_t len);
/* Whether the driver acked VIRTIO_GPIO_F_IRQ: without it SET_IRQ_TYPE and eventq buffers fail. */
void tv_vgpio_set_irq(TvVgpio *d, bool acked);
/* One requestq element: out = the 8-byte request, in = the response. Returns the bytes
 * written into in (status ERR for anything invalid; 0 only when in has no byte at all). */
uint32_t tv_vgpio_request(TvVgpio *d, const struct iovec *out, unsigned n_out, const struct iovec *in, unsigned n_in);
/* One eventq element: the guest line it is for, or -1 when it is malformed (not 2 + 1
 * bytes, line out of range, a buffer held already for that line, no F_IRQ): the caller
 * returns it with 0 bytes written. Otherwise the caller keeps it for that line and calls
 * tv_vgpio_event_arm(). */
int tv_vgpio_event_parse(TvVgpio *d, const struct iovec *out, unsigned n_out, const struct iovec *in, unsigned n_in);
/* The caller holds line gpio's buffer now (may return it at once through event_done). */
void tv_vgpio_event_arm(TvVgpio *d, unsigned gpio);
/* An edge event of the host line (GPIO_V2_LINE_EVENT_RISING_EDGE/FALLING_EDGE). */
void tv_vgpio_host_event(TvVgpio *d, unsigned gpio, uint32_t id);
/* The eventq stops (GET_VRING_BASE): every held buffer goes back INVALID now, as the spec
 * wants on a reset; the front end's saved index counts them as consumed, so a buffer kept
 * would be lost to the driver, which requeues an INVALID one while the line is enabled. */
void tv_vgpio_return_buffers(TvVgpio *d);
/* The connection is gone: held buffers are forgotten (never returned). */
void tv_vgpio_forget_buffers(TvVgpio *d);
/* A new connection (a new driver): interrupts off (edge detection stopped), nothing held,
 * no pending output value. Directions and values of the host lines stay as they are. */
void tv_vgpio_reset(TvVgpio *d);
void tv_vgpio_line_state(TvVgpio *d, unsigned gpio, TvVgpioLineState *st);
/* Applies a recorded state to the host line (direction, output value, edge detection) and
 * the model, as the driver had set it: 0, -EINVAL (inconsistent: nothing changed) or the
 * host line's -errno. */
int tv_vgpio_restore_line(TvVgpio *d, unsigned gpio, const TvVgpioLineState *st);
/* counters for the log */
typedef struct TvVgpioStats {
        unsigned long requests, errors, events, invalid;
} TvVgpioStats;
TvVgpioStats tv_vgpio_stats(TvVgpio *d);

#endif
