// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

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
        if (tv_log_to_journal() && send_journal(a, text, uid) >= 0) {
                free(text);
                return;
        }
        tv_log(LOG_NOTICE, "audit: %s%s%s%s%s%s%s uid=%s%s%s", a->action, a->domain ? " domain=" : "",
               a->domain ? a->domain : "", a->device ? " device=" : "", a->device ? a->device : "",
               a->platform_id ? " platform-id=" : "", a->platform_id ? a->platform_id : "",
               a->caller != TV_CALLER_DAEMON ? uid : "daemon", text ? ": " : "", text ? text : "");
        free(text);
}
