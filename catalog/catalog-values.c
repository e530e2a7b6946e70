// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: value checks. Each function is the C side of one type of
 * xml-schemas/catalog.rng; the extraction re-checks every value with them so a
 * message can name the device and the value. Some are stricter than the schema
 * (numeric ranges, reserved property names); none may be looser: the
 * catalog-schema-agree test feeds boundary values through both and fails on
 * any other difference.
 */
#include "catalog-internal.h"
#include "tv-validate.h"

#include <string.h>

static bool in_set(char c, const char *extra)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

static bool upper_alpha(char c)
{
        return c >= 'A' && c <= 'Z';
}

/* Explains why s is not a valid short name, or returns NULL. */
const char *cat_short_name_problem(const char *s)
{
        size_t len = strlen(s);

        if (len == 0)
                return "is empty";
        if (len > TV_NAME_MAX)
                return "is longer than 64 bytes";
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_-"))
                        return "may only contain [a-z0-9_-]";
        if (s[0] == '-')
                return "must not start with '-'";
        if (!tv_device_token_valid(s))
                return "is not a valid device token";
        return NULL;
}

/* reg-names / clock-names / reset-names entries. */
bool cat_dt_name_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32 || s[0] == '_' || s[0] == '.' || s[0] == ',' || s[0] == '+' || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_.,+-") && !upper_alpha(s[i]))
                        return false;
        return true;
}

bool cat_dt_prop_name_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 31)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], ",._+?#-") && !upper_alpha(s[i]))
                        return false;
        return true;
}

bool cat_compatible_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 128 || (!in_set(s[0], "") && !upper_alpha(s[0])))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], ",._+-") && !upper_alpha(s[i]))
                        return false;
        return true;
}

bool cat_kind_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_-"))
                        return false;
        return true;
}

bool cat_soc_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], ""))
                        return false;
        return true;
}

/* Printable ASCII without space, quotes, backslash, backquote and caret, 1..256 bytes. */
const char *cat_kernel_arg_problem(const char *s)
{
        size_t len = strlen(s);

        if (len == 0)
                return "is empty";
        if (len > 256)
                return "is longer than 256 bytes";
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        return "contains whitespace";
                if (c < 0x20 || c == 0x7f)
                        return "contains a control character";
                if (c >= 0x80)
                        return "contains a non-ASCII character";
                if (c == '"' || c == '\'' || c == '`')
                        return "contains a quote";
                if (c == '\\')
                        return "contains a backslash";
                /* refused since the first release: libxml2 2.9 read the schema's old
                 * pattern without it, and the schema now says so explicitly */
                if (c == '^')
                        return "contains a caret";
        }
        return NULL;
}

bool cat_prop_string_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 255)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
                        return false;
        return true;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decimal, 1..10 digits, value <= UINT32_MAX. No sign, no spaces. */
bool cat_parse_u32_dec(const char *s, uint32_t *out)
{
        uint64_t v = 0;
        size_t i;

        for (i = 0; s[i]; i++) {
                if (!is_digit(s[i]) || i >= 10)
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 0 || v > UINT32_MAX)
                return false;
        *out = (uint32_t)v;
        return true;
}

/* "0x" followed by 1..max_digits hex digits. */
bool cat_parse_hex(const char *s, size_t max_digits, uint64_t *out)
{
        uint64_t v = 0;
        size_t i;

        if (s[0] != '0' || s[1] != 'x')
                return false;
        for (i = 2; s[i]; i++) {
                int d = hex_val(s[i]);

                if (d < 0 || i - 2 >= max_digits)
                        return false;
                v = (v << 4) | (uint64_t)d;
        }
        if (i == 2)
                return false;
        *out = v;
        return true;
}

/* A DT label as dtc accepts it for a phandle reference (&label). */
bool cat_dt_label_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 31 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!in_set(s[i], "_") && !upper_alpha(s[i]))
                        return false;
        return true;
}

/* An absolute node path whose last component is the platform device's node:
 * "/bus@0/serial@3100000" for platform id "3100000.serial". Returns why not, or NULL. */
const char *cat_host_node_problem(const char *path, const char *platform_id)
{
        const char *dot = strchr(platform_id, '.'), *last = NULL, *p = path;
        size_t levels = 0;

        if (strlen(path) > 512 || path[0] != '/')
                return "is not an absolute device-tree node path";
        while (*p == '/') {
                const char *start = ++p, *at = NULL;

                for (; *p && *p != '/'; p++) {
                        if (*p == '@' && !at)
                                at = p;
                        else if (at ? !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
                                    : !(in_set(*p, ",._+-") || upper_alpha(*p)))
                                return "has a character that is not valid in a node name";
                }
                /* a name of 1..31 characters, then "@" and 1..16 hex digits or nothing */
                if (p == start || at == start || (at ? at - start : p - start) > 31 || (at && p == at + 1) ||
                    (at && p - at - 1 > 16) || ++levels > 16)
                        return "is not a valid node path (empty, overlong or over 16 levels)";
                last = start;
        }
        if (*p || !last || !dot)
                return "is not an absolute device-tree node path";
        /* platform id "<unit>.<name>" <=> last component "<name>@<unit>" */
        {
                size_t unit_len = (size_t)(dot - platform_id), name_len = strlen(dot + 1);
                const char *at = strchr(last, '@');

                if (!at || (size_t)(at - last) != name_len || strncmp(last, dot + 1, name_len) != 0 ||
                    strlen(at + 1) != unit_len || strncmp(at + 1, platform_id, unit_len) != 0)
                        return "does not end in the node the platform id names (<name>@<unit>)";
        }
        return NULL;
}

bool cat_parse_cell(const char *s, uint32_t *out)
{
        uint64_t v;

        if (s[0] == '0' && s[1] == 'x') {
                if (!cat_parse_hex(s, 8, &v))
                        return false;
                *out = (uint32_t)v;
                return true;
        }
        return cat_parse_u32_dec(s, out);
}

/* Properties the guest DT generator writes itself, or that hold host phandles. */
bool cat_prop_reserved(const char *name)
{
        static const char *const reserved[] = {
                "compatible", "reg", "reg-names", "interrupts", "interrupt-parent",
                "interrupts-extended", "clocks", "clock-names", "assigned-clocks",
                "assigned-clock-parents", "assigned-clock-rates", "resets", "reset-names",
                "power-domains", "power-domain-names", "status", "phandle", "linux,phandle",
                "name", "iommus", "iommu-map", "dmas", "dma-names", "interconnects",
                "interconnect-names", "nvidia,bpmp", "memory-region",
        };

        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (strcmp(name, reserved[i]) == 0)
                        return true;
        return strncmp(name, "pinctrl-", 8) == 0;
}

/* "<unit address in lower-case hex>.<node name>", as the platform bus names a DT device. */
bool cat_platform_id_valid(const char *pid)
{
        const char *dot = strchr(pid, '.');
        size_t hex_len = dot ? (size_t)(dot - pid) : 0;
        bool ok = tv_device_token_valid(pid) && dot && hex_len >= 1 && hex_len <= 16 &&
                  !(hex_len > 1 && pid[0] == '0') && dot[1] && dot[1] != '-' && strlen(dot + 1) <= 47;

        for (size_t i = 0; ok && i < hex_len; i++)
                ok = (pid[i] >= '0' && pid[i] <= '9') || (pid[i] >= 'a' && pid[i] <= 'f');
        for (const char *s = dot ? dot + 1 : ""; ok && *s; s++)
                ok = in_set(*s, "_-") || upper_alpha(*s);
        return ok;
}
