/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt's event loop callbacks served by the daemon's sd-event loop (no extra thread). */
#pragma once
#include <systemd/sd-event.h>

/* Must run before the first virConnectOpen. */
int tv_libvirt_loop_register(sd_event *event);
/* After the last libvirt connection is closed: releases what was removed once the loop had stopped. */
void tv_libvirt_loop_finish(void);
