/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest side of GPIO line groups: the QEMU arguments of the vhost-user GPIO device
 * (virtio-gpio, device id 41) that tegravirt-gpio-backend serves, and where that device
 * sits in the guest (the virtio-mmio transport whose DTB node gets the "virtio,device29"
 * child).
 *
 * QEMU's virt machine creates 32 virtio-mmio transports at 0x0a000000 + i * 0x200;
 * their buses are named in creation order, so virtio-mmio-bus.0 is the transport at
 * 0x0a000000 (checked against our QEMU by tests/qemu/gpio-placement.py). A -device
 * without bus= takes the first free bus of the machine's list, which QEMU keeps in
 * reverse (virtio-mmio-bus.31 at 0x0a003e00 first): naming bus 0 pins the device to a
 * known transport, the one other virtio-mmio devices take last.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "tv-strv.h"

#define TV_GUEST_GPIO_CHARDEV     "tvgpio0"            /* -chardev id in the domain XML */
#define TV_GUEST_GPIO_DEVICE_ID   "tvgpio"             /* -device id */
#define TV_GUEST_GPIO_QEMU_DEVICE "vhost-user-gpio-device"
#define TV_GUEST_GPIO_BUS         "virtio-mmio-bus.0"
#define TV_GUEST_GPIO_MMIO_BASE   UINT64_C(0x0a000000) /* that bus's transport */
#define TV_GUEST_GPIO_MMIO_SIZE   UINT64_C(0x200)

/* The guest's GPIO lines, dense: names[i] is guest line i (the backend's --line order). */
typedef struct TvGuestGpio {
        const char *const *names;
        size_t n;
} TvGuestGpio;

/* Appends the QEMU arguments of the GPIO device on socket (the domain's GPIO backend,
 * tv_gpio_backend_socket() of core/gpio-backend.h) to args:
 *   -chardev socket,id=tvgpio0,path=<socket>,reconnect=1
 *   -device vhost-user-gpio-device,chardev=tvgpio0,id=tvgpio,bus=virtio-mmio-bus.0
 *   -global virtio-mmio.force-legacy=false        (virtio 1.x: vhost-user-gpio needs VERSION_1)
 * 0 or -ENOMEM. */
int tv_guest_gpio_qemu_args(const char *socket, TvStrv *args);

/* A QEMU option value with its commas doubled (QEMU's escape); NULL on OOM. */
char *tv_qemu_opt_escape(const char *v);
