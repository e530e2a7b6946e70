/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-domain BPMP backends (tegravirt-bpmp-backend(8)): one per running domain that
 * holds a narrowed /dev/bpmp-host file (bpmp-active.h), on the socket
 * <run-dir>/domains/<domain>/bpmp.sock, recorded in <run-dir>/domains/<domain>/backend.
 * Spawn, record, adoption, restarts and stops are backend-proc.h's; this is the kind.
 */
#pragma once
#include "backend-proc.h"

#define TV_BPMP_BACKEND_SOCKET  "bpmp.sock"
#define TV_BPMP_BACKEND_RECORD  "backend"
#define TV_BPMP_CHARDEV_ID      "tvbpmp0"      /* -chardev id in the domain XML */

extern const TvBackendKind tv_bpmp_backend_kind;

/* The socket path of domain's backend (malloc'ed), NULL on OOM. */
char *tv_bpmp_backend_socket(const char *run_dir, const char *domain);
/* The backend's own arguments: --bpmp-fd on a dup of bpmp_fd (the domain's narrowed file). */
int tv_bpmp_backend_args(int bpmp_fd, TvBackendArgs *a, TvError *err);
