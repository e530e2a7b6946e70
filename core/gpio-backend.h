/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-domain GPIO backends (tegravirt-gpio-backend(8)): one per running domain with
 * line groups, on the socket <run-dir>/domains/<domain>/gpio.sock, recorded in
 * <run-dir>/domains/<domain>/gpio-backend. It gets the controllers' chip fds and requests
 * the domain's lines itself (consumer tegravirt:<domain>); it asks on its control channel
 * whether a connecting process may be served ("peer <pid>"), tegravirtd answers "allow
 * <pid>" or "deny <pid>" (core/daemon-lines.c). Spawn, record, adoption, restarts and
 * stops are backend-proc.h's; this is the kind.
 */
#pragma once
#include "backend-proc.h"
#include "gpio-guest.h"

#define TV_GPIO_BACKEND_SOCKET  "gpio.sock"
#define TV_GPIO_BACKEND_RECORD  "gpio-backend"
#define TV_GPIO_BACKEND_STATE   "gpio-state"    /* the backend's line and ring state (--state-fd) */
#define TV_GPIO_CHARDEV_ID      TV_GUEST_GPIO_CHARDEV  /* -chardev id in the domain XML (gpio-guest.h) */

extern const TvBackendKind tv_gpio_backend_kind;

/* The socket path of domain's GPIO backend (malloc'ed), NULL on OOM. */
char *tv_gpio_backend_socket(const char *run_dir, const char *domain);
/* Parses the backend's control question "peer <pid>": the pid (> 0), or 0 when line is
 * anything else. */
pid_t tv_gpio_backend_peer_question(const char *line);
