// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state file in a plain temporary directory: atomic save (a failed write keeps the
 * previous file whole), durable vs. after-the-change saves (fsyncs counted through
 * -Wl,--wrap=fsync), load of every phase, compaction, and corrupt files refused with a
 * named error and nothing loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "tv-fileio.h"
#include "tv-names.h"
#include "tv-tap.h"

/* the paths are short; a truncated one would fail its check anyway */
#if defined(__GNUC__) && !defined(__clang__) /* gcc only: clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static char dir[PATH_MAX];
static int fsyncs;

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
        fsyncs++;
        return __real_fsync(fd);
}

/* A file of the state dir, NULL when absent; valid until the next call. */
static char *slurp(const char *name)
{
        static char *buf;
        char p[PATH_MAX];

        free(buf);
        buf = NULL;
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        return tv_read_file_at(AT_FDCWD, p, TV_STATE_MAX_BYTES + 1, &buf, NULL) == 0 ? buf : NULL;
}

static void put(const char *name, const char *text, size_t len)
{
        char p[PATH_MAX];
        int fd;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len)
                tap_diag("cannot write %s", p);
        if (fd >= 0)
                close(fd);
}

static bool err_is(const TvError *e, const char *name, const char *text)
{
        bool ok = e->name && strcmp(e->name, name) == 0 && strstr(e->message, text);

        if (!ok)
                tap_diag("error %s: %s", e->name ? e->name : "(none)", e->message);
        return ok;
}

static void set_entry(TvState *s, const char *dev, const char *pid, const char *domain, TvPhase phase,
                      const char *drv, const char *ovr)
{
        TvStateEntry *e = tv_state_ensure(s, dev, pid);

        if (!e)
                return;
        free(e->domain);
        e->domain = domain ? strdup(domain) : NULL;
        tv_binding_reset(&e->binding);
        e->binding.phase = phase;
        e->binding.orig_driver = drv ? strdup(drv) : NULL;
        e->binding.orig_override = ovr ? strdup(ovr) : NULL;
}

static const char *const full =
        "tegravirt-state 1\n"
        "device uarta platform-id=3100000.serial domain=vm1 phase=bound driver=serial-tegra override=-\n"
        "device uarte platform-id=3140000.serial domain=- phase=detaching driver=serial-tegra override=serial-tegra\n"
        "device gpio-aon platform-id=c2f0000.gpio domain=vm2 phase=reattaching driver=- override=-\n"
        "device uarti platform-id=31d0000.serial domain=vm3 phase=none driver=- override=-\n";

static void test_round_trip(void)
{
        TvState s, t;
        TvError err = { 0 };
        struct stat st;
        char p[PATH_MAX];
        int before;

        snprintf(p, sizeof(p), "%s/state", dir);
        CHECK(tv_state_open(&s, p, &err) == 0 && s.n_entries == 0 && s.dir_fd >= 0, "open creates the state dir, empty");
        CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "  ... mode 0700");
        snprintf(dir, sizeof(dir), "%s", p);
        set_entry(&s, "uarta", "3100000.serial", "vm1", TV_PHASE_BOUND, "serial-tegra", NULL);
        set_entry(&s, "uarte", "3140000.serial", NULL, TV_PHASE_DETACHING, "serial-tegra", "serial-tegra");
        set_entry(&s, "gpio-aon", "c2f0000.gpio", "vm2", TV_PHASE_REATTACHING, NULL, NULL);
        set_entry(&s, "uarti", "31d0000.serial", "vm3", TV_PHASE_NONE, "ignored", "ignored");
        set_entry(&s, "uartb", "3110000.serial", NULL, TV_PHASE_NONE, NULL, NULL);
        before = fsyncs;
        CHECK(tv_state_save(&s, &err) == 0, "save four records and an empty one");
        CHECK(fsyncs - before == 2, "  ... durable: the file and the directory fsynced (%d)", fsyncs - before);
        CHECK(slurp("state") && strcmp(slurp("state"), full) == 0,
              "  ... every phase written, origins only where there is something to restore, the empty record left out");
        CHECK(!slurp(".state.tmp"), "  ... no temp file left");
        CHECK(fstatat(s.dir_fd, "state", &st, 0) == 0 && (st.st_mode & 0777) == 0600,
              "  ... the file is 0600");

        CHECK(tv_state_open(&t, dir, &err) == 0 && t.n_entries == 4, "load it back: 4 records");
        {
                TvStateEntry *a = tv_state_find(&t, "uarta"), *e = tv_state_find(&t, "uarte"),
                             *g = tv_state_find(&t, "gpio-aon"), *i = tv_state_find(&t, "uarti");

                CHECK(a && strcmp(a->platform_id, "3100000.serial") == 0 && a->domain && strcmp(a->domain, "vm1") == 0 &&
                              a->binding.phase == TV_PHASE_BOUND && a->binding.orig_driver &&
                              strcmp(a->binding.orig_driver, "serial-tegra") == 0 && !a->binding.orig_override,
                      "  ... bound, with its origin");
                CHECK(e && !e->domain && e->binding.phase == TV_PHASE_DETACHING && e->binding.orig_override &&
                              strcmp(e->binding.orig_override, "serial-tegra") == 0,
                      "  ... detaching, no domain, with its override");
                CHECK(g && g->binding.phase == TV_PHASE_REATTACHING && !g->binding.orig_driver, "  ... reattaching, unbound origin");
                CHECK(i && i->binding.phase == TV_PHASE_NONE && !i->binding.orig_driver && !i->binding.orig_override,
                      "  ... none: no origin kept");
                CHECK(!tv_state_find(&t, "uartb"), "  ... the empty record is not there");
        }
        tv_state_free(&t);

        before = fsyncs;
        CHECK(tv_state_save_nosync(&s, &err) == 0 && strcmp(slurp("state"), full) == 0,
              "save after the change: the same text");
        CHECK(fsyncs == before, "  ... without an fsync");

        tv_state_compact(&s);
        CHECK(s.n_entries == 4 && !tv_state_find(&s, "uartb") && tv_state_find(&s, "uarti") && tv_state_find(&s, "uarte"),
              "compact drops the record with no domain and no binding, keeps the rest");
        set_entry(&s, "uarti", "31d0000.serial", NULL, TV_PHASE_NONE, NULL, NULL);
        tv_state_compact(&s);
        CHECK(s.n_entries == 3 && !tv_state_find(&s, "uarti") && strcmp(s.entries[0].device, "uarta") == 0 &&
                      strcmp(s.entries[2].device, "gpio-aon") == 0,
              "  ... an unassigned, unbound device goes too; the order stays");
        tv_state_free(&s);
}

static void test_atomic(void)
{
        TvState s;
        TvError err = { 0 };
        char *before, p[PATH_MAX];

        CHECK(tv_state_open(&s, dir, &err) == 0 && s.n_entries == 4, "reopen");
        before = strdup(slurp("state"));
        set_entry(&s, "uarta", "3100000.serial", "vm9", TV_PHASE_NONE, NULL, NULL);

        /* the temp file's name is taken by a directory: the write fails before the rename */
        snprintf(p, sizeof(p), "%s/.state.tmp", dir);
        CHECK(mkdir(p, 0700) == 0, "block the temp file");
        CHECK(tv_state_save(&s, &err) == -1 && err_is(&err, TV_ERR_FAILED, "cannot write the state file"),
              "a save that cannot write fails with Failed");
        CHECK(before && strcmp(slurp("state"), before) == 0, "  ... the previous file is whole");
        rmdir(p);

        /* a symlink in its place is not followed */
        tv_error_clear(&err);
        CHECK(symlink("victim", p) == 0, "a symlink as the temp file");
        CHECK(tv_state_save(&s, &err) == -1 && strcmp(slurp("state"), before) == 0 && !slurp("victim"),
              "  ... the save fails, nothing written through it, the previous file whole");
        unlink(p);

        tv_error_clear(&err);
        CHECK(tv_state_save(&s, &err) == 0 && strstr(slurp("state"), "domain=vm9 phase=none"), "then the save succeeds");
        put("state", before, strlen(before));
        free(before);
        tv_state_free(&s);
}

static void test_corrupt(void)
{
        static const struct {
                const char *what, *text, *says;
        } cases[] = {
                { "an empty file", "", "the file is empty" },
                { "another format", "tegravirt-state 2\n", "not a tegravirt state file" },
                { "a line cut short", "tegravirt-state 1\ndevice uarta platform-id=3100000.serial domain=vm1 phase=bo",
                  "line 2" },
                { "an unknown phase", "tegravirt-state 1\ndevice uarta platform-id=a domain=- phase=half driver=- override=-\n",
                  "invalid field" },
                { "a path in a driver name",
                  "tegravirt-state 1\ndevice uarta platform-id=a domain=- phase=bound driver=../x override=-\n", "invalid field" },
                { "a device twice",
                  "tegravirt-state 1\ndevice a platform-id=a domain=- phase=none driver=- override=-\n"
                  "device a platform-id=a domain=- phase=none driver=- override=-\n",
                  "duplicate device" },
                { "binary bytes", "tegravirt-state 1\n\xff\xfe\n", "not UTF-8" },
        };
        TvError err = { 0 };
        TvState s;
        char *big;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                tv_error_clear(&err);
                put("state", cases[i].text, strlen(cases[i].text));
                CHECK(tv_state_open(&s, dir, &err) == -1 && err_is(&err, TV_ERR_INVALID_ARGUMENT, cases[i].says) &&
                              strstr(err.message, dir) && s.n_entries == 0 && !s.entries,
                      "%s is refused (InvalidArgument, naming the file), nothing loaded", cases[i].what);
                CHECK(strcmp(slurp("state"), cases[i].text) == 0, "  ... and left as it was");
                tv_state_free(&s);
        }

        /* one entry past the limit */
        big = malloc(TV_STATE_MAX_BYTES);
        if (big) {
                size_t n = (size_t)sprintf(big, "tegravirt-state 1\n");

                for (int i = 0; i <= TV_STATE_MAX_ENTRIES; i++)
                        n += (size_t)sprintf(big + n, "device d%d platform-id=p%d domain=- phase=none driver=- override=-\n", i, i);
                tv_error_clear(&err);
                put("state", big, n);
                CHECK(n < TV_STATE_MAX_BYTES && tv_state_open(&s, dir, &err) == -1 &&
                              err_is(&err, TV_ERR_INVALID_ARGUMENT, "too many entries") && s.n_entries == 0,
                      "%d entries are refused", TV_STATE_MAX_ENTRIES + 1);
                tv_state_free(&s);
                /* past the size limit */
                memset(big, '#', TV_STATE_MAX_BYTES);
                memcpy(big, "tegravirt-state 1\n", 18);
                tv_error_clear(&err);
                put("state", big, TV_STATE_MAX_BYTES);
                {
                        char p[PATH_MAX];
                        FILE *f;

                        snprintf(p, sizeof(p), "%s/state", dir);
                        f = fopen(p, "a");
                        if (f) {
                                fputs("##\n", f);
                                fclose(f);
                        }
                }
                CHECK(tv_state_open(&s, dir, &err) == -1 && err.name && s.n_entries == 0,
                      "a file over %d bytes is refused", TV_STATE_MAX_BYTES);
                tv_state_free(&s);
                free(big);
        }

        /* the state file is a directory */
        {
                char p[PATH_MAX];

                snprintf(p, sizeof(p), "%s/state", dir);
                unlink(p);
                mkdir(p, 0700);
                tv_error_clear(&err);
                CHECK(tv_state_open(&s, dir, &err) == -1 && err_is(&err, TV_ERR_FAILED, "cannot read") && s.n_entries == 0,
                      "a directory in place of the file is refused (Failed)");
                tv_state_free(&s);
                rmdir(p);
        }
        tv_error_clear(&err);
        CHECK(tv_state_open(&s, dir, &err) == 0 && s.n_entries == 0, "no file at all: an empty record");
        tv_state_free(&s);
}

int main(void)
{
        char cmd[PATH_MAX + 16];

        snprintf(dir, sizeof(dir), "%s/tv-state-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
                tap_skip_all("cannot make a temp dir");
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        test_round_trip(); /* dir becomes <tmp>/state */
        test_atomic();
        test_corrupt();
        CHECK(system(cmd) == 0, "remove the temp dir");
        return tap_finish();
}
