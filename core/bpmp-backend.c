// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpmp-backend.h"
#include "tv-names.h"

#include <errno.h>
#include <string.h>

const TvBackendKind tv_bpmp_backend_kind = {
        .log = "bpmp-backend",
        .what = "BPMP backend",
        .binary = "tegravirt-bpmp-backend",
        .socket = TV_BPMP_BACKEND_SOCKET,
        .record = TV_BPMP_BACKEND_RECORD,
        .tell = "pid",
};

char *tv_bpmp_backend_socket(const char *run_dir, const char *domain)
{
        return tv_backend_file(run_dir, domain, TV_BPMP_BACKEND_SOCKET);
}

int tv_bpmp_backend_args(int bpmp_fd, TvBackendArgs *a, TvError *err)
{
        /* the domain's file stays open in tegravirtd: the backend gets its own copy */
        int fd = tv_backend_args_fd(a, bpmp_fd, false);

        if (fd < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot hand the domain's BPMP file to its backend: %s",
                                    strerror(-fd));
        if (tv_backend_args_add(a, "--bpmp-fd") < 0 || tv_backend_args_add(a, "%d", fd) < 0)
                return tv_error_oom(err);
        return 0;
}
