/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's log lines (tegravirtd(8), LOGGING), for every layer of the daemon.
 * Under systemd, when stderr is the stream JOURNAL_STREAM names, each line starts
 * with its <N> priority prefix for journald; otherwise it is plain text. The audit
 * trail on top of this is core/log.h.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

/* Decides journal or plain text; call before anything is logged. */
void tv_log_init(void);
/* True when stderr is the journal's stream (decided by tv_log_init). */
bool tv_log_to_journal(void);

/* One message at a syslog priority (LOG_ERR ... LOG_DEBUG); a trailing newline is added.
 * The line goes out in one write, so lines of concurrent writers do not interleave. */
void tv_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tv_logv(int priority, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
