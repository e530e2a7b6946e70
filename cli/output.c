// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl: terminal-safe text, tables and JSON output. */
#include "tegravirtctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tv-validate.h"

/* Length of the valid UTF-8 sequence at p (at most avail bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
        size_t n;

        if (p[0] < 0x80)
                return p[0] ? 1 : 0;
        if ((p[0] & 0xe0) == 0xc0)
                n = 2;
        else if ((p[0] & 0xf0) == 0xe0)
                n = 3;
        else if ((p[0] & 0xf8) == 0xf0)
                n = 4;
        else
                return 0;
        if (n > avail || !tv_utf8_valid((const char *)p, n))
                return 0;
        return n;
}

char *ctl_escape(const char *s, bool strict, size_t max_chars)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t len = strlen((const char *)p), chars = 0, i = 0;
        char *out, *o;

        out = malloc(len * 4 + sizeof("..."));
        if (!out)
                return NULL;
        o = out;
        while (i < len) {
                size_t n = strict ? (p[i] < 0x80) : utf8_seq(p + i, len - i);
                bool control = n == 1 ? (p[i] < 0x20 || p[i] == 0x7f)
                             : n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0; /* C1 controls */

                if (max_chars > 0 && chars >= max_chars) {
                        memcpy(o, "...", 3);
                        o += 3;
                        break;
                }
                if (n == 0 || control) {
                        /* escape one byte at a time (a C1 control becomes two escapes) */
                        size_t k = n == 0 ? 1 : n;

                        for (size_t b = 0; b < k; b++) {
                                *o++ = '\\';
                                *o++ = 'x';
                                *o++ = hex[p[i + b] >> 4];
                                *o++ = hex[p[i + b] & 0xf];
                        }
                        i += k;
                } else {
                        memcpy(o, p + i, n);
                        o += n;
                        i += n;
                }
                chars++;
        }
        *o = '\0';
        return out;
}

/* Display width in characters of an escaped (valid UTF-8) string. */
static size_t text_width(const char *s)
{
        size_t w = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        w++;
        return w;
}

/* ---- tables ---- */

struct CtlTable {
        size_t ncols;
        char **headers;
        char **cells;           /* nrows * ncols, escaped */
        size_t nrows;
        size_t cap_rows;
};

CtlTable *ctl_table_new(size_t ncols, const char *const *headers)
{
        CtlTable *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->ncols = ncols;
        t->headers = calloc(ncols, sizeof(char *));
        if (!t->headers) {
                free(t);
                return NULL;
        }
        for (size_t c = 0; c < ncols; c++) {
                t->headers[c] = strdup(headers[c]);
                if (!t->headers[c]) {
                        ctl_table_free(t);
                        return NULL;
                }
        }
        return t;
}

int ctl_table_add(CtlTable *t, const char *const *cells)
{
        size_t base;

        if (t->nrows == t->cap_rows) {
                size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
                char **n = reallocarray(t->cells, cap * t->ncols, sizeof(char *));

                if (!n)
                        return -ENOMEM;
                t->cells = n;
                t->cap_rows = cap;
        }
        base = t->nrows * t->ncols;
        for (size_t c = 0; c < t->ncols; c++) {
                const char *v = cells[c] && cells[c][0] ? cells[c] : "-";

                t->cells[base + c] = ctl_escape(v, false, 0);
                if (!t->cells[base + c]) {
                        for (size_t k = 0; k < c; k++)
                                free(t->cells[base + k]);
                        return -ENOMEM;
                }
        }
        t->nrows++;
        return 0;
}

size_t ctl_table_rows(const CtlTable *t)
{
        return t->nrows;
}

static void print_row(FILE *f, char *const *row, const size_t *width, size_t ncols)
{
        for (size_t c = 0; c < ncols; c++) {
                fputs(row[c], f);
                if (c + 1 < ncols)
                        for (size_t pad = text_width(row[c]); pad < width[c] + 2; pad++)
                                fputc(' ', f);
        }
        fputc('\n', f);
}

void ctl_table_print(const CtlTable *t, FILE *f, bool legend)
{
        size_t *width = calloc(t->ncols, sizeof(size_t));

        if (!width) {
                /* still print something readable */
                legend = false;
        }
        for (size_t c = 0; width && c < t->ncols; c++) {
                if (legend)
                        width[c] = text_width(t->headers[c]);
                for (size_t r = 0; r < t->nrows; r++) {
                        size_t w = text_width(t->cells[r * t->ncols + c]);

                        if (w > width[c])
                                width[c] = w;
                }
        }
        if (width) {
                if (legend)
                        print_row(f, t->headers, width, t->ncols);
                for (size_t r = 0; r < t->nrows; r++)
                        print_row(f, t->cells + r * t->ncols, width, t->ncols);
        } else {
                for (size_t r = 0; r < t->nrows; r++)
                        for (size_t c = 0; c < t->ncols; c++)
                                fprintf(f, "%s%c", t->cells[r * t->ncols + c],
                                        c + 1 < t->ncols ? ' ' : '\n');
        }
        free(width);
}

void ctl_table_free(CtlTable *t)
{
        if (!t)
                return;
        for (size_t c = 0; t->headers && c < t->ncols; c++)
                free(t->headers[c]);
        free(t->headers);
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}

void ctl_table_freep_(CtlTable **t)
{
        ctl_table_free(*t);
}

/* ---- JSON ---- */

void ctl_json_init(CtlJson *j, FILE *f)
{
        memset(j, 0, sizeof(*j));
        j->f = f;
        j->first[0] = true;
}

/* Separator before a value or key. */
static void json_sep(CtlJson *j)
{
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (!j->first[j->depth])
                fputc(',', j->f);
        j->first[j->depth] = false;
}

static void json_open(CtlJson *j, char c)
{
        json_sep(j);
        fputc(c, j->f);
        if (j->depth + 1 < CTL_JSON_DEPTH)
                j->depth++;
        j->first[j->depth] = true;
}

static void json_close(CtlJson *j, char c)
{
        if (j->depth > 0)
                j->depth--;
        fputc(c, j->f);
}

void ctl_json_begin_object(CtlJson *j) { json_open(j, '{'); }
void ctl_json_end_object(CtlJson *j) { json_close(j, '}'); }
void ctl_json_begin_array(CtlJson *j) { json_open(j, '['); }
void ctl_json_end_array(CtlJson *j) { json_close(j, ']'); }

static void json_write_string(FILE *f, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t len = strlen((const char *)p), i = 0;

        fputc('"', f);
        while (i < len) {
                unsigned char c = p[i];
                size_t n;

                switch (c) {
                case '"':  fputs("\\\"", f); i++; continue;
                case '\\': fputs("\\\\", f); i++; continue;
                case '\b': fputs("\\b", f); i++; continue;
                case '\f': fputs("\\f", f); i++; continue;
                case '\n': fputs("\\n", f); i++; continue;
                case '\r': fputs("\\r", f); i++; continue;
                case '\t': fputs("\\t", f); i++; continue;
                default:
                        break;
                }
                if (c < 0x20) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                        continue;
                }
                n = utf8_seq(p + i, len - i);
                if (n == 0) {
                        /* not UTF-8 (cannot come from D-Bus, but never emit invalid JSON) */
                        fputs("\\ufffd", f);
                        i++;
                        continue;
                }
                if (n == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                        /* U+2028/U+2029 are valid JSON but break JavaScript string literals */
                        fprintf(f, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 : 0x2029);
                } else {
                        fwrite(p + i, 1, n, f);
                }
                i += n;
        }
        fputc('"', f);
}

void ctl_json_key(CtlJson *j, const char *key)
{
        json_sep(j);
        json_write_string(j->f, key);
        fputc(':', j->f);
        j->after_key = true;
}

void ctl_json_string(CtlJson *j, const char *s)
{
        json_sep(j);
        json_write_string(j->f, s);
}

void ctl_json_string_or_null(CtlJson *j, const char *s)
{
        if (s && s[0])
                ctl_json_string(j, s);
        else
                ctl_json_null(j);
}

void ctl_json_null(CtlJson *j)
{
        json_sep(j);
        fputs("null", j->f);
}

void ctl_json_bool(CtlJson *j, bool b)
{
        json_sep(j);
        fputs(b ? "true" : "false", j->f);
}

void ctl_json_int(CtlJson *j, int64_t v)
{
        json_sep(j);
        fprintf(j->f, "%lld", (long long)v);
}

void ctl_json_uint(CtlJson *j, uint64_t v)
{
        json_sep(j);
        fprintf(j->f, "%llu", (unsigned long long)v);
}

void ctl_json_finish(CtlJson *j)
{
        fputc('\n', j->f);
}

void ctl_json_ok(FILE *f)
{
        CtlJson j;

        ctl_json_init(&j, f);
        ctl_json_begin_object(&j);
        ctl_json_key(&j, "ok");
        ctl_json_bool(&j, true);
        ctl_json_end_object(&j);
        ctl_json_finish(&j);
}

int ctl_print_rows(Ctl *ctl, const char *json_key, size_t ncols, const char *const *headers,
                   const char *const *keys, unsigned null_if_empty, const void *items, size_t n, CtlRowFn row)
{
        _cleanup_(ctl_table_freep_) CtlTable *t = NULL;
        const char *cells[CTL_ROW_MAX];

        if (ncols > CTL_ROW_MAX)
                return ctl_fail("internal error: %zu columns", ncols);
        if (ctl->json) {
                CtlJson j;

                ctl_json_init(&j, stdout);
                ctl_json_begin_object(&j);
                ctl_json_key(&j, json_key);
                ctl_json_begin_array(&j);
                for (size_t i = 0; i < n; i++) {
                        row(items, i, cells);
                        ctl_json_begin_object(&j);
                        for (size_t c = 0; c < ncols; c++) {
                                ctl_json_key(&j, keys[c]);
                                if (null_if_empty & (1u << c))
                                        ctl_json_string_or_null(&j, cells[c]);
                                else
                                        ctl_json_string(&j, cells[c]);
                        }
                        ctl_json_end_object(&j);
                }
                ctl_json_end_array(&j);
                ctl_json_end_object(&j);
                ctl_json_finish(&j);
                return CTL_EXIT_OK;
        }
        t = ctl_table_new(ncols, headers);
        if (!t)
                return ctl_oom();
        for (size_t i = 0; i < n; i++) {
                row(items, i, cells);
                if (ctl_table_add(t, cells) < 0)
                        return ctl_oom();
        }
        ctl_table_print(t, stdout, ctl->legend);
        return CTL_EXIT_OK;
}
