/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's audit trail (tegravirtd(8), LOGGING), on top of its log lines
 * (common/tv-log.h). Under systemd, when stderr is the stream JOURNAL_STREAM names,
 * every audit record goes to the journal with structured TEGRAVIRT_* fields.
 * Otherwise it is a plain-text line on stderr like every other log line.
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>
#include <syslog.h>

#include "tv-log.h"

/* MESSAGE_ID of every audit record: journalctl MESSAGE_ID=... lists the trail. */
#define TV_AUDIT_MESSAGE_ID "e7506b69223e495c93f113592f4f53d1"
/* No D-Bus caller: start-up reconciliation, domain events, BPMP set changes. */
#define TV_CALLER_DAEMON ((uid_t)-1)

/* One change to the host or the record. NULL fields are left out. */
typedef struct TvAudit {
        const char *action;     /* assign, unassign, prepare, release, repair, reconcile, bpmp-active */
        const char *domain;
        const char *device;     /* catalog name */
        const char *platform_id;
        uid_t caller;           /* TV_CALLER_DAEMON when no D-Bus caller asked for it */
} TvAudit;

/* Logs the change once: plain "audit: ACTION domain=D device=N platform-id=P uid=U: TEXT",
 * or a journal entry with MESSAGE_ID=TV_AUDIT_MESSAGE_ID and TEGRAVIRT_* fields. */
void tv_audit(const TvAudit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
