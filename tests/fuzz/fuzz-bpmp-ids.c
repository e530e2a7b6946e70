// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the BPMP host proxy's allowed_ and active_ sysfs values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpmp-proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        TvIdSet *set = malloc(sizeof(*set));

        if (text && set) {
                memcpy(text, data, size);
                text[size] = 0;
                if (tv_id_set_parse(text, set) == 0) {
                        /* what parses is a duplicate-free list no longer than the input */
                        for (size_t i = 0; i < set->n; i++)
                                for (size_t j = i + 1; j < set->n; j++)
                                        if (set->ids[i] == set->ids[j])
                                                abort();
                        if (set->n > size / 2 + 1)
                                abort();
                }
        }
        free(text);
        free(set);
        return 0;
}
