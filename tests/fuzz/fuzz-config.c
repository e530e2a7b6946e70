// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: tegravirtd.conf parser. */
#include <stdint.h>
#include "daemon-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TvConfig c = { 0 };
        TvError err = { 0 };

        if (tv_config_defaults(&c) < 0)
                return 0;
        tv_config_parse_buffer(&c, (const char *)data, size, "fuzz", &err);
        tv_config_free(&c);
        return 0;
}
