// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the dumpdtb options taken from libvirt's qemu-argv text (splitting, filtering). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "qemu-argv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        TvDumpArgs a;
        TvError err = { 0 };

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (tv_qemu_dump_args(text, &a, &err) == 0) {
                /* every kept token is non-empty, and -machine/-cpu values have no shell metacharacters */
                for (size_t i = 0; i < a.n; i++)
                        if (!a.args[i][0] || strpbrk(a.args[i], " ;$`'\"\\|&<>"))
                                abort();
                tv_dump_args_clear(&a);
        }
        free(text);
        return 0;
}
