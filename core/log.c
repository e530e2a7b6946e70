// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

static bool journal;
static FILE *plain_stderr;      /* the filter installed as stderr, NULL under journald */
static FILE *real_stderr;

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

/*
 * The plain-text stderr: drops "<N>" at the start of each line. State carries
 * over between writes, so a prefix split across two writes is still recognised.
 */
static int prefix_state;        /* 0 line start, 1 after '<', 2 after '<N', 3 inside a line */
static char held[2];

static ssize_t plain_write(void *cookie, const char *buf, size_t size)
{
        FILE *out = cookie;
        char *kept = malloc(size + sizeof(held));
        size_t n = 0;

        if (!kept)
                return -1;
        for (size_t i = 0; i < size; i++) {
                char c = buf[i];

                if (prefix_state == 0 && c == '<') {
                        held[0] = c;
                        prefix_state = 1;
                        continue;
                }
                if (prefix_state == 1 && c >= '0' && c <= '7') {
                        held[1] = c;
                        prefix_state = 2;
                        continue;
                }
                if (prefix_state == 2 && c == '>') {
                        prefix_state = 3;
                        continue;
                }
                if (prefix_state == 1 || prefix_state == 2) {
                        /* not a prefix after all */
                        memcpy(kept + n, held, (size_t)prefix_state);
                        n += (size_t)prefix_state;
                }
                kept[n++] = c;
                prefix_state = c == '\n' ? 0 : 3;
        }
        /* one write(2) per line: lines of concurrent writers do not interleave */
        fwrite(kept, 1, n, out);
        fflush(out);
        free(kept);
        return (ssize_t)size;
}

static int plain_close(void *cookie)
{
        return 0;
}

void tv_log_init(void)
{
        cookie_io_functions_t io = { .write = plain_write, .close = plain_close };
        FILE *f;

        journal = stderr_is_journal();
        if (journal || plain_stderr)
                return;
        real_stderr = stderr;
        f = fopencookie(real_stderr, "w", io);
        if (!f)
                return; /* prefixes stay: cosmetic */
        setvbuf(f, NULL, _IOLBF, 0);
        plain_stderr = f;
        stderr = f;
        atexit(tv_log_finish);
}

void tv_log_finish(void)
{
        if (!plain_stderr)
                return;
        stderr = real_stderr;
        fclose(plain_stderr);
        plain_stderr = NULL;
        fflush(stderr);
}

void tv_log(int priority, const char *fmt, ...)
{
        va_list ap;

        flockfile(stderr);
        fprintf(stderr, "<%d>", priority & LOG_PRIMASK);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        funlockfile(stderr);
}

static int field(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int field(char **slot, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(slot, fmt, ap);
        va_end(ap);
        if (r < 0)
                *slot = NULL;
        return r < 0 ? -ENOMEM : 0;
}

/* One journal entry; absent fields are left out, not sent empty. */
static int send_journal(const TvAudit *a, const char *text, const char *uid)
{
        const char *names[] = { "TEGRAVIRT_DOMAIN", "TEGRAVIRT_DEVICE", "TEGRAVIRT_PLATFORM_ID",
                                "TEGRAVIRT_CALLER_UID" };
        const char *values[] = { a->domain, a->device, a->platform_id,
                                 a->caller != TV_CALLER_DAEMON ? uid : NULL };
        char *fields[9] = { 0 };
        struct iovec iov[9];
        size_t n = 0;
        int r;

        r = field(&fields[n++], "MESSAGE=%s%s%s", a->action, text ? ": " : "", text ? text : "");
        r |= field(&fields[n++], "MESSAGE_ID=%s", TV_AUDIT_MESSAGE_ID);
        r |= field(&fields[n++], "PRIORITY=%d", LOG_NOTICE);
        r |= field(&fields[n++], "SYSLOG_IDENTIFIER=%s", "tegravirtd");
        r |= field(&fields[n++], "TEGRAVIRT_ACTION=%s", a->action);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (values[i])
                        r |= field(&fields[n++], "%s=%s", names[i], values[i]);
        for (size_t i = 0; r == 0 && i < n; i++)
                iov[i] = (struct iovec){ .iov_base = fields[i], .iov_len = strlen(fields[i]) };
        if (r == 0)
                r = sd_journal_sendv(iov, (int)n);
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
        return r;
}

void tv_audit(const TvAudit *a, const char *fmt, ...)
{
        char *text = NULL, uid[16];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r < 0)
                text = NULL;
        snprintf(uid, sizeof(uid), "%u", (unsigned)a->caller);
        if (journal && send_journal(a, text, uid) >= 0) {
                free(text);
                return;
        }
        flockfile(stderr);
        fprintf(stderr, "<%d>audit: %s", LOG_NOTICE, a->action);
        if (a->domain)
                fprintf(stderr, " domain=%s", a->domain);
        if (a->device)
                fprintf(stderr, " device=%s", a->device);
        if (a->platform_id)
                fprintf(stderr, " platform-id=%s", a->platform_id);
        fprintf(stderr, " uid=%s", a->caller != TV_CALLER_DAEMON ? uid : "daemon");
        if (text)
                fprintf(stderr, ": %s", text);
        fputc('\n', stderr);
        funlockfile(stderr);
        free(text);
}
