/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NULL-terminated string vectors.
 *
 * Ownership rule (one for every function here): a vector owns its strings, and a
 * string handed to a vector is never the caller's to free afterwards, whether the call
 * succeeded or not. tv_strv_push() copies its argument; tv_strv_consume() takes it and
 * frees it itself on failure. All of them return 0, or -ENOMEM with the vector as it was
 * (still NULL-terminated, still owning what it held). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* A vector that knows its length; { NULL, 0 } is the empty one. v is NULL-terminated
 * once anything was added, so it can be handed out as a char ** (see tv_strv_steal). */
typedef struct TvStrv {
        char **v;
        size_t n;
} TvStrv;

/* Frees every string and the vector; NULL is fine. */
void tv_strv_free(char **v);
/* For _cleanup_strv_ (tv-macros.h). */
void tv_strv_freep(char ***v);
size_t tv_strv_length(char *const *v);
bool tv_strv_contains(char *const *v, const char *s);

/* Appends a copy of s. */
int tv_strv_push(TvStrv *s, const char *str);
/* Appends str itself; on failure str is freed. str NULL is -ENOMEM (so that
 * tv_strv_consume(s, strdup(x)) needs no check of its own). */
int tv_strv_consume(TvStrv *s, char *str);
/* Appends a copy of str unless an equal string is there already (then 0). */
int tv_strv_push_unique(TvStrv *s, const char *str);
/* Frees everything and leaves { NULL, 0 }. */
void tv_strv_clear(TvStrv *s);
/* The NULL-terminated vector (an empty one when nothing was added, NULL only on
 * -ENOMEM), leaving s empty: the caller frees it with tv_strv_free. */
char **tv_strv_steal(TvStrv *s);
