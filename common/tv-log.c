// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-log.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool journal;

/* systemd sets JOURNAL_STREAM=<dev>:<ino> of the stream it connected; a redirect breaks the match. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char tail;

        if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2)
                return false;
        return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
               (unsigned long long)st.st_ino == ino;
}

void tv_log_init(void)
{
        journal = stderr_is_journal();
}

bool tv_log_to_journal(void)
{
        return journal;
}

void tv_logv(int priority, const char *fmt, va_list ap)
{
        char prefix[8] = "", *msg = NULL;

        if (journal)
                snprintf(prefix, sizeof(prefix), "<%d>", priority & LOG_PRIMASK);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        /* one fprintf: glibc writes an unbuffered stream's formatted line in one write(2) */
        fprintf(stderr, "%s%s\n", prefix, msg ? msg : fmt);
        free(msg);
}

void tv_log(int priority, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        tv_logv(priority, fmt, ap);
        va_end(ap);
}
