// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * service/authorize.c on a real sd-bus peer connection: the test is the server (it
 * calls tv_authorize for each call, as bus-service.c does), a forked child is the
 * client. The child drops to the uid and groups a case names before it connects, so the
 * server sees them through SO_PEERCRED / SO_PEERGROUPS, as the bus daemon would.
 * polkit is played by the child: a peer link has no bus names, so for the polkit cases
 * the child stamps a sender name on its call; tv_authorize then cannot learn the uid
 * (no bus to ask), sends CheckAuthorization back over the same link, and the child
 * answers it. integration-authz covers polkit on a real bus (python3-dbusmock).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authorize.h"
#include "tv-tap.h"

/* the paths are checked for length before use */
#if defined(__GNUC__) && !defined(__clang__) /* gcc only: clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define SENDER ":1.42"

static char dir[PATH_MAX], sock_path[PATH_MAX];
static int listen_fd = -1;
static TvAuthz authz;

/* ---- the client (child) ---- */

typedef struct Case {
        const char *what;
        uid_t uid;              /* 0: stays root */
        gid_t gid;
        const gid_t *groups;    /* supplementary */
        size_t n_groups;
        TvAuthLevel level;
        const char *polkit;     /* NULL: no sender name, nobody to ask; "yes", "no", "challenge" */
} Case;

/* exit codes of the child: what came back */
enum { GOT_OK = 0, GOT_DENIED = 10, GOT_INTERACTIVE = 11, GOT_OTHER = 12, GOT_SETUP = 13, GOT_BAD_QUERY = 14 };

static int reply_code = -1;
static const char *polkit_answer;
static bool polkit_query_bad;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        const sd_bus_error *err = sd_bus_message_get_error(m);

        if (!err)
                reply_code = GOT_OK;
        else if (sd_bus_error_has_name(err, SD_BUS_ERROR_ACCESS_DENIED))
                reply_code = GOT_DENIED;
        else if (sd_bus_error_has_name(err, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                reply_code = GOT_INTERACTIVE;
        else
                reply_code = GOT_OTHER;
        return 0;
}

/* polkit's CheckAuthorization((sa{sv}) subject, s action, a{ss}, u flags, s cancel) */
static int on_check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        const char *kind = NULL, *key = NULL, *name = NULL, *action = NULL;
        int yes = strcmp(polkit_answer, "yes") == 0, challenge = strcmp(polkit_answer, "challenge") == 0;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization"))
                return 0;
        /* the subject must be the caller's bus name, the action ours */
        if (sd_bus_message_enter_container(m, 'r', "sa{sv}") < 0 || sd_bus_message_read(m, "s", &kind) < 0 ||
            sd_bus_message_read(m, "a{sv}", 1, &key, "s", &name) < 0 || sd_bus_message_exit_container(m) < 0 ||
            sd_bus_message_read(m, "s", &action) < 0 || strcmp(kind, "system-bus-name") != 0 ||
            strcmp(key, "name") != 0 || strcmp(name, SENDER) != 0 || strcmp(action, TV_ACTION_MANAGE) != 0)
                polkit_query_bad = true;
        return sd_bus_reply_method_return(m, "(bba{ss})", yes, challenge, 0);
}

static int client(const Case *c)
{
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL;
        char addr[PATH_MAX + 16];

        if (c->uid && (setgroups(c->n_groups, c->groups) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
                       setresuid(c->uid, c->uid, c->uid) < 0))
                return GOT_SETUP;
        snprintf(addr, sizeof(addr), "unix:path=%s", sock_path);
        polkit_answer = c->polkit;
        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, addr) < 0 || sd_bus_start(bus) < 0)
                return GOT_SETUP;
        if (c->polkit && sd_bus_add_object(bus, NULL, "/org/freedesktop/PolicyKit1/Authority", on_check_authorization,
                                           NULL) < 0)
                return GOT_SETUP;
        if (sd_bus_message_new_method_call(bus, &m, NULL, "/t", "org.tegravirt.Test", "Call") < 0 ||
            sd_bus_message_append(m, "u", (uint32_t)c->level) < 0 ||
            (c->polkit && sd_bus_message_set_sender(m, SENDER) < 0) ||
            sd_bus_call_async(bus, NULL, m, on_reply, NULL, 10 * 1000 * 1000) < 0)
                return GOT_SETUP;
        /* not sd_bus_call: the polkit query arrives while we wait */
        while (reply_code < 0) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        return GOT_SETUP;
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        return GOT_SETUP;
        }
        sd_bus_message_unref(m);
        sd_bus_flush_close_unref(bus);
        return polkit_query_bad ? GOT_BAD_QUERY : reply_code;
}

/* ---- the server (this process) ---- */

static struct {
        int calls;              /* the handler ran (a parked call runs twice) */
        int parked;             /* tv_authorize said 0: waiting for polkit */
        int r;                  /* its last answer */
        uid_t caller;
        char error[512];
} got;

static int on_call(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        uint32_t level = 0;
        int r;

        if (!sd_bus_message_is_method_call(m, "org.tegravirt.Test", "Call"))
                return 0;
        got.calls++;
        r = sd_bus_message_read(m, "u", &level);
        if (r < 0)
                return r;
        r = tv_authorize(&authz, m, (TvAuthLevel)level, on_call, userdata, e);
        got.r = r;
        got.caller = tv_authorize_caller(&authz);
        if (r == 0) {
                got.parked++;
                return 1;
        }
        if (r < 0) {
                snprintf(got.error, sizeof(got.error), "%s: %s", e->name ? e->name : "-", e->message ? e->message : "-");
                return r;
        }
        return sd_bus_reply_method_return(m, "");
}

/* Runs case c: the child's exit code (GOT_*), or -1. */
static int run(const Case *c)
{
        sd_bus *bus = NULL;
        sd_id128_t id;
        pid_t pid;
        int fd, status = 0;

        memset(&got, 0, sizeof(got));
        got.caller = (uid_t)-2;
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0)
                _exit(client(c));
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0 || sd_id128_randomize(&id) < 0 || sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 ||
            sd_bus_set_server(bus, true, id) < 0 || sd_bus_add_object(bus, NULL, "/t", on_call, NULL) < 0 ||
            sd_bus_start(bus) < 0) {
                tap_diag("cannot serve the child");
                kill(pid, SIGKILL);
        } else {
                /* serve until the child has its answer and hangs up */
                for (;;) {
                        int r = sd_bus_process(bus, NULL);

                        if (r < 0)
                                break; /* the child closed the link */
                        if (r == 0 && sd_bus_wait(bus, 10 * 1000 * 1000) <= 0)
                                break;
                }
        }
        sd_bus_flush_close_unref(bus);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

static bool error_has(const char *text)
{
        if (strstr(got.error, text))
                return true;
        tap_diag("error: %s", got.error[0] ? got.error : "(none)");
        return false;
}

int main(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct group *gr = getgrnam("nogroup");
        struct passwd *pw = getpwnam("nobody");
        gid_t nogroup, member_of[1];
        uid_t nobody;
        char cmd[PATH_MAX + 16];
        int r;

        if (!pw || !gr)
                tap_skip_all("needs the user nobody and the group nogroup");
        if (geteuid() != 0)
                tap_skip_all("needs root (the child calls as root and as nobody)");
        nobody = pw->pw_uid;
        nogroup = gr->gr_gid;
        member_of[0] = nogroup;
        snprintf(dir, sizeof(dir), "%s/tv-authorize-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
                tap_skip_all("cannot make a temp dir");
        snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
        if (strlen(sock_path) >= sizeof(sa.sun_path))
                tap_skip_all("TMPDIR is too long for a unix socket path");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sock_path, 0777) < 0 ||
            listen(listen_fd, 4) < 0)
                tap_skip_all("cannot listen on a unix socket");
        tv_authz_init(&authz);

        /* root: always, without anyone asked */
        r = run(&(Case){ .level = TV_AUTH_MANAGE });
        CHECK(r == GOT_OK && got.r == 1 && got.caller == 0 && got.parked == 0, "root may manage (caller uid 0)");
        r = run(&(Case){ .level = TV_AUTH_ROOT });
        CHECK(r == GOT_OK && got.r == 1 && got.caller == 0, "root may prepare and release");

        /* PrivilegedGroup= members: manage yes, prepare/release no */
        tv_authorize_set_group(&authz, "nogroup");
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .level = TV_AUTH_MANAGE });
        CHECK(r == GOT_OK && got.r == 1 && got.caller == nobody && got.parked == 0,
              "a PrivilegedGroup member (primary group) may manage; caller is its uid");
        r = run(&(Case){ .uid = nobody, .gid = 12345, .groups = member_of, .n_groups = 1, .level = TV_AUTH_MANAGE });
        CHECK(r == GOT_OK && got.r == 1 && got.caller == nobody, "a PrivilegedGroup member (supplementary group) may manage");
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .groups = member_of, .n_groups = 1, .level = TV_AUTH_ROOT });
        CHECK(r == GOT_DENIED && got.r < 0 && error_has("only root (the libvirt hook) may bind or release devices"),
              "a PrivilegedGroup member may not prepare or release: AccessDenied");

        /* not a member (the group is another one): polkit would be asked, but this link has no
         * bus name for it to judge: denied */
        tv_authorize_set_group(&authz, "root");
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .groups = member_of, .n_groups = 1, .level = TV_AUTH_MANAGE });
        CHECK(r == GOT_DENIED && got.r < 0 && got.caller == nobody && error_has("not authorized"),
              "a non-member without polkit may not manage: AccessDenied");
        tv_authorize_set_group(&authz, NULL);
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .level = TV_AUTH_MANAGE });
        CHECK(r == GOT_DENIED && got.r < 0 && error_has("not authorized"), "no PrivilegedGroup=: nobody may not manage");

        /* polkit, played by the caller: the call is parked, then answered by the verdict */
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .level = TV_AUTH_MANAGE, .polkit = "yes" });
        CHECK(r == GOT_OK && got.parked == 1 && got.calls == 2 && got.r == 1,
              "polkit asked (subject the caller's bus name, action " TV_ACTION_MANAGE ") says yes: allowed after it answers");
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .level = TV_AUTH_MANAGE, .polkit = "no" });
        CHECK(r == GOT_DENIED && got.parked == 1 && got.r < 0 && error_has("not authorized"), "polkit says no: AccessDenied");
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .level = TV_AUTH_MANAGE, .polkit = "challenge" });
        CHECK(r == GOT_INTERACTIVE && got.parked == 1 && error_has("needs an administrator's authorization"),
              "polkit wants a challenge: InteractiveAuthorizationRequired");
        r = run(&(Case){ .uid = nobody, .gid = nogroup, .level = TV_AUTH_ROOT, .polkit = "yes" });
        CHECK(r == GOT_DENIED && got.parked == 0 && error_has("only root"), "prepare/release never ask polkit");
        CHECK(authz.pending == NULL, "no call is left parked");

        tv_authorize_flush(&authz);
        close(listen_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0, "remove the temp dir");
        return tap_finish();
}
