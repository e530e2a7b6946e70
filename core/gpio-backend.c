// SPDX-License-Identifier: GPL-2.0-or-later
#include "gpio-backend.h"

#include <limits.h>
#include <string.h>

const TvBackendKind tv_gpio_backend_kind = {
        .log = "gpio-backend",
        .what = "GPIO backend",
        .binary = "tegravirt-gpio-backend",
        .socket = TV_GPIO_BACKEND_SOCKET,
        .record = TV_GPIO_BACKEND_RECORD,
        .tell = "peer-pid",
        .state = TV_GPIO_BACKEND_STATE,
};

char *tv_gpio_backend_socket(const char *run_dir, const char *domain)
{
        return tv_backend_file(run_dir, domain, TV_GPIO_BACKEND_SOCKET);
}

pid_t tv_gpio_backend_peer_question(const char *line)
{
        unsigned long v = 0;
        const char *p;

        if (strncmp(line, "peer ", 5) != 0 || !line[5] || strlen(line + 5) > 10)
                return 0;
        for (p = line + 5; *p; p++) {
                if (*p < '0' || *p > '9')
                        return 0;
                v = v * 10 + (unsigned long)(*p - '0');
        }
        return v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}
