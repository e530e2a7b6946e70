// SPDX-License-Identifier: GPL-2.0-or-later
/* job.c on a private sd-event loop: output capture and caps, exit status, timeout of a
 * whole process group, jobs shared by key, cancellation that kills and reaps. */
#include "job.h"
#include "tv-tap.h"
#include "tv-names.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sd_event *ev;

typedef struct Got {
        bool done;
        TvChildResult res;
        char *out, *err;
} Got;

static void on_child(TvChildResult *res, void *userdata)
{
        Got *g = userdata;

        g->done = true;
        g->res = *res;
        g->out = res->out;      /* taken */
        g->err = res->err;
        res->out = res->err = NULL;
}

static void got_clear(Got *g)
{
        free(g->out);
        free(g->err);
        memset(g, 0, sizeof(*g));
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run_until(bool *flag, unsigned max_ms)
{
        uint64_t end = now_ms() + max_ms;

        while (!*flag && now_ms() < end)
                sd_event_run(ev, 100 * 1000);
}

/* sh -c SCRIPT with the given caps and timeout; returns after done or 10 s */
static int sh(const char *script, size_t out_cap, size_t err_cap, unsigned timeout_ms, Got *g)
{
        const char *args[] = { "-c", script, NULL };
        TvChildSpec spec = { .path = "/bin/sh", .args = args, .timeout_ms = timeout_ms, .out_cap = out_cap,
                             .err_cap = err_cap };
        TvChild *c;
        int r = tv_child_start(ev, &spec, on_child, g, &c);

        if (r == 0)
                run_until(&g->done, 10000);
        return r;
}

static bool pid_gone(pid_t pid)
{
        char p[64], st[512] = "";
        FILE *f;

        snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
        for (int tries = 0; tries < 200; tries++) {
                f = fopen(p, "re");
                if (!f)
                        return true;
                if (!fgets(st, sizeof(st), f))
                        st[0] = 0;
                fclose(f);
                if (strstr(st, ") Z "))
                        return true;    /* not ours: waits for its new parent */
                usleep(10000);
        }
        return false;
}

static bool no_children_left(void)
{
        return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void test_child(void)
{
        TvError err = { 0 };
        Got g = { 0 };
        uint64_t t0;
        pid_t helper = 0;

        CHECK(sh("echo out; echo 'bad machine type' >&2; echo more >&2", 100, 100, 5000, &g) == 0 && g.done &&
                      g.res.exited && g.res.code == 0 && g.out && strcmp(g.out, "out\n") == 0 && g.err &&
                      strcmp(g.err, "bad machine type\nmore\n") == 0,
              "stdout and stderr captured through pipes");
        CHECK(tv_child_result_check(&g.res, "/bin/sh", "test", 5000, 100, &err) == 0, "exit 0 checks fine");
        got_clear(&g);

        CHECK(sh("echo 'qemu: unsupported machine' >&2; exit 3", 0, 4096, 5000, &g) == 0 && g.done && !g.out,
              "stdout to /dev/null when not kept");
        CHECK(tv_child_result_check(&g.res, "/bin/sh", "dumpdtb", 5000, 0, &err) == -1 &&
                      strcmp(err.name, TV_ERR_HOST_NOT_READY) == 0 &&
                      strstr(err.message, "dumpdtb exited with status 3: qemu: unsupported machine"),
              "exit status and the first line of stderr in the message");
        tv_error_clear(&err);
        got_clear(&g);

        CHECK(sh("head -c 100000 /dev/zero | tr '\\0' x >&2; echo ok", 10, 16, 5000, &g) == 0 && g.done &&
                      g.res.exited && g.res.code == 0 && g.err && strlen(g.err) == 16 && !g.res.too_big,
              "stderr over its cap is dropped, not an error");
        got_clear(&g);

        CHECK(sh("head -c 100000 /dev/zero | tr '\\0' x; sleep 5", 1000, 0, 5000, &g) == 0 && g.done &&
                      g.res.too_big,
              "stdout over its cap kills the child");
        CHECK(tv_child_result_check(&g.res, "/bin/sh", "flood", 5000, 1000, &err) == -1 &&
                      strstr(err.message, "printed more than 1000 bytes"),
              "  ... and says so");
        tv_error_clear(&err);
        got_clear(&g);

        t0 = now_ms();
        CHECK(sh("sleep 30 & echo $!; wait", 100, 0, 300, &g) == 0 && g.done && g.res.timed_out, "timeout kills");
        CHECK(now_ms() - t0 < 3000, "  ... at the timeout, not when the child would end");
        if (g.out)
                helper = (pid_t)atoi(g.out);
        CHECK(helper > 0 && pid_gone(helper), "  ... the whole process group");
        CHECK(tv_child_result_check(&g.res, "/bin/sh", "hang", 300, 100, &err) == -1 &&
                      strstr(err.message, "hang did not finish within 300 ms; killed it"),
              "  ... and says so");
        tv_error_clear(&err);
        got_clear(&g);

        {
                const char *args[] = { NULL };
                TvChildSpec spec = { .path = "/nonexistent/qemu", .args = args, .timeout_ms = 100 };
                TvChild *c = NULL;
                int r = tv_child_start(ev, &spec, on_child, &g, &c);

                /* glibc reports the exec failure; under valgrind (no vfork) it is exit status 127 */
                if (r == 0)
                        run_until(&g.done, 10000);
                CHECK((r == -ENOENT && !c) || (r == 0 && g.done && g.res.exited && g.res.code == 127),
                      "a missing binary fails");
                got_clear(&g);
        }
        {
                const char *args[] = { "-c", "read x; echo got $x", NULL };
                TvChildSpec spec = { .path = "/bin/sh", .args = args, .input = "hello\n", .timeout_ms = 5000,
                                     .out_cap = 100 };
                TvChild *c;

                CHECK(tv_child_start(ev, &spec, on_child, &g, &c) == 0, "input on stdin");
                run_until(&g.done, 10000);
                CHECK(g.done && g.out && strcmp(g.out, "got hello\n") == 0, "  ... is read by the child");
                got_clear(&g);
        }
        CHECK(no_children_left(), "every child reaped");
}

typedef struct Waited {
        int calls;
        char message[512];
        const char *name;
} Waited;

static void on_job_done(const TvError *err, void *userdata)
{
        Waited *w = userdata;

        w->calls++;
        w->name = err ? err->name : NULL;
        snprintf(w->message, sizeof(w->message), "%s", err ? err->message : "");
}

static void on_job_child(TvChildResult *res, void *userdata)
{
        TvJob *j = userdata;
        TvError err = { 0 };

        if (tv_child_result_check(res, "/bin/sh", "job", 5000, 0, &err) < 0)
                tv_job_finish(j, &err);
        else
                tv_job_finish(j, NULL);
}

static void test_jobs(void)
{
        const char *quick[] = { "-c", "sleep 0.2", NULL }, *slow[] = { "-c", "sleep 30", NULL };
        TvChildSpec spec = { .path = "/bin/sh", .args = quick, .timeout_ms = 5000 };
        TvJobSet *s = tv_jobset_new(ev);
        Waited a = { 0 }, b = { 0 }, c = { 0 };
        TvError err = { 0 };
        TvJob *j;
        bool never = false;
        uint64_t t0;

        j = tv_job_new(s, "probe:/x", NULL, NULL, &err);
        CHECK(j && tv_job_run(j, &spec, on_job_child, &err) == 0 && tv_job_wait(j, on_job_done, &a) == 0,
              "a job runs a child");
        CHECK(tv_job_find(s, "probe:/x") == j && tv_job_find(s, "probe:/y") == NULL, "it is found by its key");
        CHECK(tv_job_wait(tv_job_find(s, "probe:/x"), on_job_done, &b) == 0, "a second caller joins it");
        CHECK(tv_jobset_count(s) == 1, "  ... one job, one child");
        run_until(&never, 1000);
        CHECK(a.calls == 1 && b.calls == 1 && !a.name && !b.name, "both callers are told once, success");
        CHECK(tv_jobset_count(s) == 0 && !tv_job_find(s, "probe:/x"), "the ended job is gone");

        spec.args = slow;
        j = tv_job_new(s, "dumpdtb:/z", NULL, NULL, &err);
        CHECK(j && tv_job_run(j, &spec, on_job_child, &err) == 0 && tv_job_wait(j, on_job_done, &c) == 0,
              "a slow job runs");
        run_until(&never, 200);
        t0 = now_ms();
        tv_jobset_cancel(s, "tegravirtd is stopping");
        CHECK(now_ms() - t0 < 2000 && c.calls == 1 && c.name && strcmp(c.name, TV_ERR_FAILED) == 0 &&
                      strstr(c.message, "cancelled: tegravirtd is stopping"),
              "cancel fails its caller with a named error at once");
        CHECK(no_children_left(), "  ... its child was killed and reaped");
        tv_error_clear(&err);
        CHECK(!tv_job_new(s, "probe:/x", NULL, NULL, &err) && strstr(err.message, "cancelled"),
              "no new job after cancel");
        tv_jobset_free(s);
}

int main(void)
{
        sigset_t chld;

        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        if (sd_event_new(&ev) < 0)
                return 1;
        test_child();
        test_jobs();
        sd_event_unref(ev);
        return tap_finish();
}
