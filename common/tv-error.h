/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A named error (one of the TV_ERR_* D-Bus names) with a message that says what to do. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct TvError {
        const char *name;       /* TV_ERR_* constant, NULL when no error is set */
        char message[512];
} TvError;

/* Sets the error unless one is already set (the first, most specific cause wins).
 * Always returns -1 so callers can write `return tv_error_set(...)`. */
int tv_error_set(TvError *e, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with context ("while X: ..."). */
void tv_error_prefix(TvError *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one out-of-memory error: TV_ERR_FAILED "out of memory". Returns -1. */
int tv_error_oom(TvError *e);
static inline bool tv_error_is_set(const TvError *e) { return e && e->name; }
static inline void tv_error_clear(TvError *e) { if (e) { e->name = NULL; e->message[0] = 0; } }
