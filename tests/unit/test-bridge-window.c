// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The placement of -device tegravirt-bpmp (guest/guest-dtb.h, TV_BPMP_WINDOW_SIZE) uses the
 * window size of the one source of truth, bpmp-guest-window.h (argv[1]): its BPMP_WIN_SIZE
 * line is read here, as the kernel header needs kernel types to compile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest-dtb.h"

int main(int argc, char **argv)
{
        FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
        char line[256];
        unsigned long size = 0;

        printf("1..1\n");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "#define BPMP_WIN_SIZE %lx", &size) == 1)
                        break;
        if (f)
                fclose(f);
        if (size != TV_BPMP_WINDOW_SIZE) {
                printf("not ok 1 - TV_BPMP_WINDOW_SIZE 0x%x, BPMP_WIN_SIZE in %s: 0x%lx\n", TV_BPMP_WINDOW_SIZE,
                       argc > 1 ? argv[1] : "(no file)", size);
                return 1;
        }
        printf("ok 1 - TV_BPMP_WINDOW_SIZE 0x%x = BPMP_WIN_SIZE of bpmp-guest-window.h\n", TV_BPMP_WINDOW_SIZE);
        return 0;
}
