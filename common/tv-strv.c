// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-strv.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tv_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

void tv_strv_freep(char ***v)
{
        tv_strv_free(*v);
}

size_t tv_strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

bool tv_strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

int tv_strv_consume(TvStrv *s, char *str)
{
        char **nv;

        if (!str)
                return -ENOMEM;
        nv = realloc(s->v, (s->n + 2) * sizeof(*nv));
        if (!nv) {
                free(str);
                return -ENOMEM;
        }
        nv[s->n++] = str;
        nv[s->n] = NULL;
        s->v = nv;
        return 0;
}

int tv_strv_push(TvStrv *s, const char *str)
{
        return tv_strv_consume(s, strdup(str));
}

int tv_strv_push_unique(TvStrv *s, const char *str)
{
        if (s->v && tv_strv_contains(s->v, str))
                return 0;
        return tv_strv_push(s, str);
}

void tv_strv_clear(TvStrv *s)
{
        tv_strv_free(s->v);
        s->v = NULL;
        s->n = 0;
}

char **tv_strv_steal(TvStrv *s)
{
        char **v = s->v ? s->v : calloc(1, sizeof(char *));

        s->v = NULL;
        s->n = 0;
        return v;
}
