/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit tests' one assertion: prints TAP-style "ok"/"not ok" lines and counts failures. */
#pragma once
#include <stdio.h>

static int failures;

#define CHECK(cond, what)                                                                                  \
        do {                                                                                               \
                if (cond)                                                                                  \
                        printf("ok - %s\n", what);                                                         \
                else {                                                                                     \
                        printf("not ok - %s (line %d)\n", what, __LINE__);                                 \
                        failures++;                                                                        \
                }                                                                                          \
        } while (0)
