// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the state file parser must refuse garbage cleanly and round-trip what it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TvState s = { .dir_fd = -1 }, again = { .dir_fd = -1 };
        TvError err = { 0 };
        char *text, *text2;

        if (tv_state_parse_buffer((const char *)data, size, &s, &err) < 0)
                return 0;
        text = tv_state_format(&s);
        if (text && tv_state_parse_buffer(text, strlen(text), &again, &err) == 0) {
                text2 = tv_state_format(&again);
                if (text2 && strcmp(text, text2) != 0)
                        abort(); /* format/parse must be a fixed point */
                free(text2);
        } else if (text) {
                abort(); /* what we write, we must be able to read */
        }
        free(text);
        tv_state_free(&again);
        tv_state_free(&s);
        return 0;
}
