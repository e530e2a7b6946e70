/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Untrusted text (document content, names, a child's stderr) quoted in a one-line
 * message, so that a hostile value can neither forge log lines nor flood them. */
#pragma once
#include <stddef.h>

enum {
        /* Every byte outside printable ASCII becomes '?' (default: only C0 controls and
         * DEL do and UTF-8 is kept; a cut then never splits a UTF-8 sequence). */
        TV_QUOTE_ASCII = 1 << 0,
        /* Only the first line: leading newlines and spaces are skipped, a newline ends it. */
        TV_QUOTE_LINE = 1 << 1,
        /* A cut text does not end in "...". */
        TV_QUOTE_NO_ELLIPSIS = 1 << 2,
};

/* Copies at most max bytes of s (len bytes, or up to its NUL when len is (size_t)-1)
 * into buf (size bytes, always NUL-terminated), with controls (NUL included) as '?'. A cut text
 * ends in "..." (beyond max; buf keeps room for it). s NULL gives "". Returns buf. */
char *tv_quote(char *buf, size_t size, const char *s, size_t len, size_t max, unsigned flags);
