// SPDX-License-Identifier: GPL-2.0-or-later
#include "state.h"
#include "tv-fileio.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAGIC "tegravirt-state 1"

static void entry_free(TvStateEntry *e)
{
        free(e->device);
        free(e->platform_id);
        free(e->domain);
        tv_binding_reset(&e->binding);
}

void tv_state_free(TvState *s)
{
        for (size_t i = 0; i < s->n_entries; i++)
                entry_free(&s->entries[i]);
        free(s->entries);
        s->entries = NULL;
        s->n_entries = 0;
        if (s->dir_fd >= 0)
                close(s->dir_fd);
        s->dir_fd = -1;
}

TvStateEntry *tv_state_find(TvState *s, const char *device)
{
        for (size_t i = 0; i < s->n_entries; i++)
                if (strcmp(s->entries[i].device, device) == 0)
                        return &s->entries[i];
        return NULL;
}

TvStateEntry *tv_state_ensure(TvState *s, const char *device, const char *platform_id)
{
        TvStateEntry *e = tv_state_find(s, device), *ne;

        if (e)
                return e;
        ne = realloc(s->entries, (s->n_entries + 1) * sizeof(*ne));
        if (!ne)
                return NULL;
        s->entries = ne;
        e = &ne[s->n_entries];
        memset(e, 0, sizeof(*e));
        e->device = strdup(device);
        e->platform_id = strdup(platform_id);
        if (!e->device || !e->platform_id) {
                entry_free(e);
                return NULL;
        }
        s->n_entries++;
        return e;
}

void tv_state_compact(TvState *s)
{
        size_t j = 0;

        for (size_t i = 0; i < s->n_entries; i++) {
                TvStateEntry *e = &s->entries[i];

                if (!e->domain && e->binding.phase == TV_PHASE_NONE) {
                        entry_free(e);
                        continue;
                }
                s->entries[j++] = *e;
        }
        s->n_entries = j;
}

char *tv_state_format(const TvState *s)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        fprintf(f, "%s\n", STATE_MAGIC);
        for (size_t i = 0; i < s->n_entries; i++) {
                const TvStateEntry *e = &s->entries[i];
                const TvBinding *b = &e->binding;
                bool none = b->phase == TV_PHASE_NONE; /* nothing to restore: origins are moot */

                if (!e->domain && none)
                        continue;
                fprintf(f, "device %s platform-id=%s domain=%s phase=%s driver=%s override=%s\n",
                        e->device, e->platform_id, e->domain ? e->domain : "-",
                        tv_phase_to_string(b->phase), !none && b->orig_driver ? b->orig_driver : "-",
                        !none && b->orig_override ? b->orig_override : "-");
        }
        return tv_memstream_close(f, &buf);
}

static int bad(TvError *err, unsigned line, const char *what)
{
        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "state file line %u: %s", line, what);
}

/* "key=value" where value passes check; "-" means NULL when allow_none. */
static int take_field(char *tok, const char *key, bool (*check)(const char *), bool allow_none,
                      char **out)
{
        size_t kl = strlen(key);
        const char *v;

        if (!tok || strncmp(tok, key, kl) != 0 || tok[kl] != '=')
                return -EINVAL;
        v = tok + kl + 1;
        *out = NULL;
        if (allow_none && strcmp(v, "-") == 0)
                return 0;
        if (!check(v))
                return -EINVAL;
        *out = strdup(v);
        return *out ? 0 : -ENOMEM;
}

static bool phase_ok(const char *v)
{
        TvPhase p;

        return tv_phase_from_string(v, &p) == 0;
}

static int parse_line(char *line, unsigned no, TvState *s, TvError *err)
{
        char *save = NULL, *tok[8] = { 0 }, *phase = NULL;
        TvStateEntry e = { 0 };
        size_t n = 0;

        for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                if (n == 7)
                        return bad(err, no, "too many fields");
                tok[n++] = t;
        }
        if (n != 7 || strcmp(tok[0], "device") != 0)
                return bad(err, no, "expected 'device NAME platform-id= domain= phase= driver= override='");
        if (!tv_device_token_valid(tok[1]))
                return bad(err, no, "invalid device name");
        if (tv_state_find(s, tok[1]))
                return bad(err, no, "duplicate device");
        if (s->n_entries >= TV_STATE_MAX_ENTRIES)
                return bad(err, no, "too many entries");
        e.device = strdup(tok[1]);
        if (!e.device ||
            take_field(tok[2], "platform-id", tv_device_token_valid, false, &e.platform_id) < 0 ||
            take_field(tok[3], "domain", tv_domain_name_valid, true, &e.domain) < 0 ||
            take_field(tok[4], "phase", phase_ok, false, &phase) < 0 ||
            take_field(tok[5], "driver", tv_driver_name_valid, true, &e.binding.orig_driver) < 0 ||
            take_field(tok[6], "override", tv_driver_name_valid, true, &e.binding.orig_override) < 0) {
                free(phase);
                entry_free(&e);
                return bad(err, no, "invalid field");
        }
        tv_phase_from_string(phase, &e.binding.phase);
        free(phase);
        {
                TvStateEntry *ne = realloc(s->entries, (s->n_entries + 1) * sizeof(*ne));

                if (!ne) {
                        entry_free(&e);
                        return tv_error_oom(err);
                }
                s->entries = ne;
                ne[s->n_entries++] = e;
        }
        return 0;
}

int tv_state_parse_buffer(const char *buf, size_t len, TvState *s, TvError *err)
{
        TvState tmp = { .dir_fd = -1 };
        _cleanup_free_ char *copy = NULL;
        char *line, *save = NULL;
        unsigned no = 0;
        int r = 0;

        if (len > TV_STATE_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "state file too large");
        if (!tv_utf8_valid(buf, len))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "state file is not UTF-8 text");
        copy = strndup(buf, len);
        if (!copy)
                return tv_error_oom(err);
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                no++;
                if (no == 1) {
                        if (strcmp(line, STATE_MAGIC) != 0) {
                                r = bad(err, no, "not a tegravirt state file (version 1)");
                                break;
                        }
                        continue;
                }
                if (line[0] == '#')
                        continue;
                r = parse_line(line, no, &tmp, err);
                if (r < 0)
                        break;
        }
        /* never written by us (replaced atomically, never truncated): say how to start again */
        if (r == 0 && no == 0)
                r = bad(err, 1, "the file is empty (truncated by hand or by a file system crash); restore it "
                                "from a backup, or remove it to start with no assignments (devices still on "
                                "vfio-platform are then reported as foreign and left alone)");
        if (r < 0) {
                tv_state_free(&tmp);
                return -1;
        }
        s->entries = tmp.entries;
        s->n_entries = tmp.n_entries;
        return 0;
}

int tv_state_open(TvState *s, const char *dir, TvError *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        s->dir_fd = -1;
        s->entries = NULL;
        s->n_entries = 0;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return tv_error_set(err, TV_ERR_FAILED, "cannot create state directory %s: %s", dir,
                                    strerror(errno));
        s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dir_fd < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot open state directory %s: %s", dir,
                                    strerror(errno));
        r = tv_read_file_at(s->dir_fd, TV_STATE_FILE, TV_STATE_MAX_BYTES, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot read %s/%s: %s", dir, TV_STATE_FILE,
                                    strerror(-r));
        r = tv_state_parse_buffer(buf, len, s, err);
        if (r < 0)
                tv_error_prefix(err, "%s/%s", dir, TV_STATE_FILE);
        return r;
}

static int save(TvState *s, bool durable, TvError *err)
{
        _cleanup_free_ char *text = tv_state_format(s);
        int r;

        if (!text)
                return tv_error_oom(err);
        r = (durable ? tv_write_file_atomic_at : tv_write_file_replace_at)(s->dir_fd, TV_STATE_FILE, text,
                                                                           strlen(text), 0600);
        if (r < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot write the state file: %s", strerror(-r));
        return 0;
}

int tv_state_save(TvState *s, TvError *err)
{
        return save(s, true, err);
}

int tv_state_save_nosync(TvState *s, TvError *err)
{
        return save(s, false, err);
}
