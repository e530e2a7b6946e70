// SPDX-License-Identifier: GPL-2.0-or-later
/* common/: string vectors (one ownership rule), quoting of untrusted text, the OOM
 * error, the cleanup attributes, the capped fd read and the daemon's log lines. Run under valgrind, a leak in
 * any of the ownership paths fails the test. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tv-tap.h"
#include "tv-error.h"
#include "tv-fileio.h"
#include "tv-limits.h"
#include "tv-log.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-quote.h"
#include "tv-strv.h"

static void test_strv(void)
{
        TvStrv s = { 0 };
        char word[] = "copied";
        _cleanup_strv_ char **v = NULL;

        CHECK(tv_strv_push(&s, word) == 0 && s.n == 1 && s.v[0] != word && strcmp(s.v[0], "copied") == 0 &&
              s.v[1] == NULL, "push copies and keeps the vector NULL-terminated");
        word[0] = 'X';
        CHECK(strcmp(s.v[0], "copied") == 0, "  ... the caller's buffer is its own");
        CHECK(tv_strv_consume(&s, strdup("taken")) == 0 && s.n == 2 && strcmp(s.v[1], "taken") == 0 && !s.v[2],
              "consume takes the string");
        CHECK(tv_strv_consume(&s, NULL) == -ENOMEM && s.n == 2 && s.v[2] == NULL,
              "consume of NULL (a failed strdup) is -ENOMEM and leaves the vector as it was");
        CHECK(tv_strv_push_unique(&s, "taken") == 0 && s.n == 2, "push_unique skips an equal string");
        CHECK(tv_strv_push_unique(&s, "new") == 0 && s.n == 3, "push_unique adds a new one");
        CHECK(tv_strv_contains(s.v, "new") && !tv_strv_contains(s.v, "absent") && !tv_strv_contains(NULL, "x"),
              "contains");
        CHECK(tv_strv_length(s.v) == 3 && tv_strv_length(NULL) == 0, "length");
        v = tv_strv_steal(&s);
        CHECK(v && tv_strv_length(v) == 3 && !s.v && s.n == 0, "steal hands out the vector and empties s");
        tv_strv_clear(&s);
        {
                TvStrv e = { 0 };
                _cleanup_strv_ char **empty = tv_strv_steal(&e);

                CHECK(empty && empty[0] == NULL, "steal of an empty vector is an empty vector, not NULL");
        }
}

static void test_quote(void)
{
        static const struct {
                const char *in;
                size_t len, size, max;
                unsigned flags;
                const char *want, *what;
        } cases[] = {
                { "a\nb\x1b[31m\x7f", -1, 64, 40, 0, "a?b?[31m?",
                  "controls and DEL become '?' (no forged lines, no terminal escapes)" },
                { "caf\xc3\xa9", -1, 64, 40, 0, "caf\xc3\xa9", "UTF-8 is kept by default" },
                { "caf\xc3\xa9", -1, 64, 40, TV_QUOTE_ASCII, "caf??", "TV_QUOTE_ASCII turns non-ASCII into '?'" },
                { "abcdefgh", -1, 64, 4, 0, "abcd...", "a text longer than max is cut and ends in '...'" },
                { "abcd", -1, 64, 4, 0, "abcd", "a text of exactly max bytes is not cut" },
                { "abcdefgh", -1, 64, 4, TV_QUOTE_NO_ELLIPSIS, "abcd", "TV_QUOTE_NO_ELLIPSIS" },
                { "abcdefghijkl", -1, 8, 100, 0, "abcd...", "a small buffer keeps room for '...' and the NUL" },
                { "ab\xc3\xa9" "cd", -1, 64, 3, 0, "ab...", "a cut never splits a UTF-8 sequence" },
                { "\n  first line\nsecond", -1, 64, 40, TV_QUOTE_LINE, "first line",
                  "TV_QUOTE_LINE: the first non-blank line only" },
                { "a\0b", 3, 64, 40, 0, "a?b", "with an explicit length a NUL is a control like the others" },
                { NULL, -1, 64, 40, 0, "", "NULL quotes as \"\"" },
        };
        char buf[64], long_utf8[200];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                tv_quote(buf, cases[i].size, cases[i].in, cases[i].len, cases[i].max, cases[i].flags);
                CHECK(strcmp(buf, cases[i].want) == 0, "%s", cases[i].what);
        }
        memset(long_utf8, 0, sizeof(long_utf8));
        for (size_t i = 0; i + 2 < sizeof(long_utf8); i += 2)
                memcpy(long_utf8 + i, "\xc3\xa9", 2);
        tv_quote(buf, sizeof(buf), long_utf8, (size_t)-1, 1000, 0);
        CHECK(strlen(buf) == 63 && strcmp(buf + 60, "...") == 0 && (strlen(buf) - 3) % 2 == 0,
              "  ... also when the buffer is what cuts");
}

static void test_error(void)
{
        TvError err = { 0 };

        CHECK(tv_error_oom(&err) == -1 && strcmp(err.name, TV_ERR_FAILED) == 0 &&
              strcmp(err.message, "out of memory") == 0, "tv_error_oom: Failed, \"out of memory\", returns -1");
        CHECK(tv_error_oom(NULL) == -1, "  ... with no error to fill in");
}

static int closed_fd = -1;

static int open_and_leave(void)
{
        _cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *p = strdup("freed on return");

        closed_fd = fd;
        return fd >= 0 && p ? 0 : -1;
}

static int open_and_take(void)
{
        _cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        return TAKE_FD(fd);
}

static void test_cleanup(void)
{
        int fd;

        CHECK(open_and_leave() == 0 && fcntl(closed_fd, F_GETFD) < 0 && errno == EBADF,
              "_cleanup_close_ closes on return");
        fd = open_and_take();
        CHECK(fd >= 0 && fcntl(fd, F_GETFD) >= 0, "TAKE_FD hands the descriptor out open");
        close(fd);
        {
                _cleanup_free_ char *s = strdup("x");
                char *kept = TAKE_PTR(s);

                CHECK(kept && !s, "TAKE_PTR leaves NULL behind");
                free(kept);
        }
}

static void test_read_fd(void)
{
        int p[2];
        char *out = NULL;
        size_t len = 0;

        CHECK(pipe(p) == 0 && write(p[1], "0123456789", 10) == 10 && close(p[1]) == 0 &&
              tv_read_fd(p[0], 10, &out, &len) == 0 && len == 10 && strcmp(out, "0123456789") == 0,
              "tv_read_fd reads a pipe of exactly the cap");
        free(out);
        close(p[0]);
        out = NULL;
        CHECK(pipe(p) == 0 && write(p[1], "0123456789", 10) == 10 && close(p[1]) == 0 &&
              tv_read_fd(p[0], 9, &out, &len) == -EFBIG && !out, "  ... and refuses one byte more with -EFBIG");
        close(p[0]);
}

static void test_memstream(void)
{
        char *buf = NULL, *text;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        CHECK(f != NULL, "open_memstream");
        if (!f)
                return;
        fprintf(f, "%s %d", "state", 1);
        text = tv_memstream_close(f, &buf);
        CHECK(text && strcmp(text, "state 1") == 0 && !buf, "tv_memstream_close hands out the text, buf cleared");
        free(text);
}

static void test_limits(void)
{
        CHECK(TV_DOMAIN_XML_MAX_BYTES == 4 * 1024 * 1024 && strcmp(TV_DOMAIN_XML_MAX_TEXT, "4 MiB") == 0,
              "the domain XML cap and its text agree");
        {
                char path[128];

                snprintf(path, sizeof(path), TV_DOMAIN_DTB_PATH_FMT, "/var/lib/tegravirt", "vm1");
                CHECK(strcmp(path, "/var/lib/tegravirt/domains/vm1.dtb") == 0,
                      "the domain DTB path is the one tegravirtd(8) documents");
        }
}

/* What tv_log writes to stderr (a temporary file here) with JOURNAL_STREAM as given. */
static char *log_line(const char *journal_stream, bool name_the_file, int priority, const char *text)
{
        char tmpl[] = "/tmp/tv-test-log-XXXXXX", env[64];
        int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO);
        struct stat st;
        char *out = NULL;
        size_t len = 0;

        if (fd < 0 || saved < 0 || fstat(fd, &st) < 0)
                return NULL;
        unlink(tmpl);
        if (name_the_file) {
                snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
                         (unsigned long long)st.st_ino);
                journal_stream = env;
        }
        if (journal_stream)
                setenv("JOURNAL_STREAM", journal_stream, 1);
        else
                unsetenv("JOURNAL_STREAM");
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        tv_log_init();
        tv_log(priority, "%s %d", text, 42);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        unsetenv("JOURNAL_STREAM");
        tv_log_init();
        lseek(fd, 0, SEEK_SET);
        if (tv_read_fd(fd, 4096, &out, &len) < 0)
                out = NULL;
        close(fd);
        return out;
}

static void test_log(void)
{
        _cleanup_free_ char *plain = log_line(NULL, false, LOG_ERR, "plain");
        _cleanup_free_ char *journal = log_line(NULL, true, LOG_INFO, "journal");
        _cleanup_free_ char *other = log_line("1:2", false, LOG_WARNING, "elsewhere");

        CHECK(plain && strcmp(plain, "plain 42\n") == 0, "tv_log: plain text without <N> when not under journald");
        CHECK(journal && strcmp(journal, "<6>journal 42\n") == 0,
              "  ... \"<6>\" prefix when stderr is the stream JOURNAL_STREAM names");
        CHECK(other && strcmp(other, "elsewhere 42\n") == 0,
              "  ... plain again when JOURNAL_STREAM names another stream (stderr redirected)");
}

int main(void)
{
        test_strv();
        test_quote();
        test_error();
        test_cleanup();
        test_read_fd();
        test_memstream();
        test_limits();
        test_log();
        return tap_finish();
}
