// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-validate.h"
#include <string.h>

bool tv_utf8_valid(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < len) {
                unsigned char c = p[i];
                size_t n;
                unsigned int cp;

                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0) {
                        n = 1;
                        cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 2;
                        cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 3;
                        cp = c & 0x07;
                } else {
                        return false;
                }
                if (i + n >= len)
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if ((p[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i + k] & 0x3f);
                }
                /* overlong forms, surrogates and out-of-range code points */
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                i += n + 1;
        }
        return true;
}

static bool charset_valid(const char *s, const char *extra, bool upper)
{
        size_t len;

        if (!s)
                return false;
        len = strnlen(s, TV_NAME_MAX + 1);
        if (len == 0 || len > TV_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                        continue;
                if (upper && c >= 'A' && c <= 'Z')
                        continue;
                if (strchr(extra, c))
                        continue;
                return false;
        }
        return true;
}

bool tv_domain_name_valid(const char *s)
{
        return charset_valid(s, "_.+-", true) && s[0] != '.' && s[0] != '-';
}

bool tv_device_token_valid(const char *s)
{
        return charset_valid(s, "._:-", true) && s[0] != '.' && s[0] != '-';
}

bool tv_driver_name_valid(const char *s)
{
        return charset_valid(s, "_.:-", true) && s[0] != '.';
}
