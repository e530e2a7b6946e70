/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound cleanup (GCC/Clang __attribute__((cleanup))), the way systemd writes it:
 *
 *     _cleanup_free_ char *s = NULL;      free(s) when s goes out of scope
 *     _cleanup_close_ int fd = -1;        close(fd) when fd >= 0
 *     _cleanup_fclose_ FILE *f = NULL;    fclose(f) when f != NULL
 *     _cleanup_strv_ char **v = NULL;     tv_strv_free(v)
 *     _cleanup_closedir_ DIR *d = NULL;   closedir(d) when d != NULL
 *     _cleanup_(foo_freep) Foo *x = NULL; any "void foo_freep(Foo **)"
 *
 * Every such variable must be initialised where it is declared. To hand the value to
 * the caller, take it out with TAKE_PTR()/TAKE_FD(), which leaves NULL/-1 behind. */
#pragma once
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tv-strv.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(tv_freep)
#define _cleanup_close_ _cleanup_(tv_closep)
#define _cleanup_fclose_ _cleanup_(tv_fclosep)
#define _cleanup_strv_ _cleanup_(tv_strv_freep)
#define _cleanup_closedir_ _cleanup_(tv_closedirp)

/* The value of *p, leaving p cleared: ownership moves to whoever receives it. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) *_pp_ = &(p);          \
                __typeof__(p) _v_ = *_pp_;           \
                *_pp_ = NULL;                        \
                _v_;                                 \
        })
#define TAKE_FD(fd)                                  \
        ({                                           \
                int *_pfd_ = &(fd);                  \
                int _v_ = *_pfd_;                    \
                *_pfd_ = -1;                         \
                _v_;                                 \
        })

#define TV_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* p points at a pointer (void * so that any T ** converts). */
static inline void tv_freep(void *p)
{
        free(*(void **)p);
}

/* close and fclose keep errno: a cleanup runs after the return value was computed, but
 * a caller may still read errno after a cleanup in an inner block. */
static inline void tv_closep(const int *fd)
{
        int saved = errno;

        if (*fd >= 0)
                (void)close(*fd);
        errno = saved;
}

static inline void tv_fclosep(FILE **f)
{
        int saved = errno;

        if (*f)
                (void)fclose(*f);
        errno = saved;
}

static inline void tv_closedirp(DIR **d)
{
        int saved = errno;

        if (*d)
                (void)closedir(*d);
        errno = saved;
}
