/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The C tests' TAP harness (the shell tests' is tests/lib/tap.sh):
 *   CHECK(cond, fmt, ...)   one "ok N - what" / "not ok N - what (line L)"
 *   tap_diag(fmt, ...)      a "# " diagnostic line
 *   tap_skip_all(reason)    the whole test cannot run here: "1..0 # SKIP reason", exit 0
 *                           (meson's TAP runner makes any non-zero exit, 77 too, an ERROR);
 *                           with TV_TEST_NO_SKIP set (tools/run-tests.sh) a failure instead
 *   return tap_finish();    the plan "1..N"; 1 on a failure or when no check ran
 * Every function is static: each test is one translation unit.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failures;

static void tap_result(bool ok, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4), unused));
static void tap_result(bool ok, int line, const char *fmt, ...)
{
        va_list ap;

        printf("%s %d - ", ok ? "ok" : "not ok", ++tap_count);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        if (!ok) {
                printf(" (line %d)", line);
                tap_failures++;
        }
        printf("\n");
        fflush(stdout); /* in order with children's output and a crash's report */
}

#define CHECK(cond, ...) tap_result(!!(cond), __LINE__, __VA_ARGS__)

static void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void tap_diag(const char *fmt, ...)
{
        va_list ap;

        printf("# ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
}

static void tap_skip_all(const char *reason) __attribute__((noreturn, unused));
static void tap_skip_all(const char *reason)
{
        if (getenv("TV_TEST_NO_SKIP")) {
                tap_result(false, 0, "cannot run: %s (TV_TEST_NO_SKIP makes a skip a failure)", reason);
                printf("1..%d\n", tap_count);
                exit(1);
        }
        printf("1..0 # SKIP %s\n", reason);
        exit(0);
}

static int tap_finish(void) __attribute__((unused));
static int tap_finish(void)
{
        if (tap_count == 0)
                tap_result(false, __LINE__, "the test ran no check");
        printf("1..%d\n", tap_count);
        printf("# %d passed, %d failed\n", tap_count - tap_failures, tap_failures);
        return tap_failures ? 1 : 0;
}
