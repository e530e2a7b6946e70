// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-quote.h"
#include <stdbool.h>
#include <string.h>

char *tv_quote(char *buf, size_t size, const char *s, size_t len, size_t max, unsigned flags)
{
        bool dots = !(flags & TV_QUOTE_NO_ELLIPSIS);
        size_t i = 0, j = 0, start, room;

        if (!buf || size == 0)
                return buf;
        buf[0] = 0;
        if (!s)
                return buf;
        if (len == (size_t)-1)
                len = strlen(s);
        if (flags & TV_QUOTE_LINE) {
                while (i < len && (s[i] == '\n' || s[i] == ' '))
                        i++;
                for (size_t e = i; e < len; e++)
                        if (s[e] == '\n') {
                                len = e;
                                break;
                        }
        }
        start = i;
        /* the bytes we may copy: max, and what buf holds besides "..." and the NUL */
        room = size - 1;
        if (len - start > max || len - start > room)
                room = dots ? (room > 3 ? room - 3 : 0) : room;
        if (max < room)
                room = max;
        for (; i < len && j < room; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c == 0x7f || ((flags & TV_QUOTE_ASCII) && c >= 0x80))
                        c = '?';
                buf[j++] = (char)c;
        }
        if (i < len) {
                /* do not cut a UTF-8 sequence in half */
                if (!(flags & TV_QUOTE_ASCII))
                        while (i > start && ((unsigned char)s[i] & 0xc0) == 0x80) {
                                i--;
                                j--;
                        }
                if (dots && j + 4 <= size) {
                        memcpy(buf + j, "...", 3);
                        j += 3;
                }
        }
        buf[j] = 0;
        return buf;
}
