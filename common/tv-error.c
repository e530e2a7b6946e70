// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-error.h"
#include "tv-names.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int tv_error_set(TvError *e, const char *name, const char *fmt, ...)
{
        va_list ap;

        if (!e || e->name)
                return -1;
        e->name = name;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        return -1;
}

void tv_error_prefix(TvError *e, const char *fmt, ...)
{
        char head[256], old[sizeof(e->message)];
        va_list ap;

        if (!e || !e->name)
                return;
        va_start(ap, fmt);
        vsnprintf(head, sizeof(head), fmt, ap);
        va_end(ap);
        memcpy(old, e->message, sizeof(old));
        /* an over-long chain is cut at the end: the outer context matters most */
        if (snprintf(e->message, sizeof(e->message), "%s: %s", head, old) >= (int)sizeof(e->message))
                e->message[sizeof(e->message) - 1] = 0;
}

int tv_error_oom(TvError *e)
{
        return tv_error_set(e, TV_ERR_FAILED, "out of memory");
}
