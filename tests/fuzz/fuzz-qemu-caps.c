// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the QEMU output parsers (--version banner, -device help, QMP transcript).
 * Input: "NAME\0TEXT" fuzzes the looked-up name too; without a NUL the whole input is TEXT.
 * Seeds: tests/fuzz/corpus/qemu-caps/ (real QEMU 7.2 output and variants). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "qemu-caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *name = NULL, *text;
        TvError why = { 0 };
        unsigned a, b, c;
        bool has;
        char *buf;

        /* a private NUL-terminated copy: the parsers take C strings */
        buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        text = buf;
        if (memchr(buf, 0, size)) {
                name = buf;
                text = buf + strlen(buf) + 1;
        }

        if (tv_qemu_parse_version(text, &a, &b, &c) == 0 && !strstr(text, "QEMU emulator version "))
                __builtin_trap();
        if (tv_qemu_device_help_has(text, "vfio-platform") && !strstr(text, "\"vfio-platform\""))
                __builtin_trap();
        if (name && tv_qemu_device_help_has(text, name) && !strstr(text, name))
                __builtin_trap();
        if (tv_qemu_qmp_types_has(text, name ? name : "nvidia_bpmp_guest", &has, &why) == 0) {
                if (tv_error_is_set(&why) || (has && !strstr(text, name ? name : "nvidia_bpmp_guest")))
                        __builtin_trap();
        } else if (!tv_error_is_set(&why) || has) {
                __builtin_trap();
        }
        free(buf);
        return 0;
}
