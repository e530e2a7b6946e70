// SPDX-License-Identifier: GPL-2.0-or-later
#include "authorize.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct Pending {
        sd_bus_message *call;           /* the parked method call */
        sd_bus_slot *slot;              /* the polkit query */
        sd_bus_message_handler_t handler;
        void *userdata;
        int verdict;                    /* -1 waiting, 0 denied, 1 allowed, 2 needs interaction */
        bool consumed;                  /* the re-run handler has taken the verdict */
        uid_t uid;                      /* the caller's, for the audit trail */
        struct Pending *next;
} Pending;

static Pending *pending;
static char *privileged_group;
static uid_t caller = (uid_t)-1;

uid_t tv_authorize_caller(void)
{
        return caller;
}

void tv_authorize_set_group(const char *group)
{
        free(privileged_group);
        privileged_group = group ? strdup(group) : NULL;
}

/* Is the caller (primary or supplementary) in PrivilegedGroup? */
static bool in_privileged_group(sd_bus_message *m)
{
        sd_bus_creds *creds = NULL;
        const gid_t *gids = NULL;
        struct group *gr;
        bool yes = false;
        gid_t gid;
        int n;

        if (!privileged_group || !(gr = getgrnam(privileged_group)))
                return false;
        if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EGID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
                                      &creds) < 0)
                return false;
        if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == gr->gr_gid)
                yes = true;
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        for (int i = 0; !yes && i < n; i++)
                yes = gids[i] == gr->gr_gid;
        sd_bus_creds_unref(creds);
        return yes;
}

static void forget(Pending *p)
{
        for (Pending **pp = &pending; *pp; pp = &(*pp)->next)
                if (*pp == p) {
                        *pp = p->next;
                        break;
                }
        sd_bus_slot_unref(p->slot);
        sd_bus_message_unref(p->call);
        free(p);
}

void tv_authorize_flush(void)
{
        while (pending)
                forget(pending);
        tv_authorize_set_group(NULL);
}

static int deny(sd_bus_error *error, int verdict)
{
        if (verdict == 2)
                return sd_bus_error_set(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                        "tegravirt: this needs an administrator's authorization; retry with interactive authorization allowed (e.g. busctl --allow-interactive-authorization=yes)");
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                "tegravirt: not authorized; run as root or get the org.tegravirt.manage polkit authorization");
}

/* polkit answered: run the parked call again, now with a verdict to find */
static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *unused)
{
        Pending *p = userdata;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int authorized = 0, challenge = 0, r;

        p->slot = sd_bus_slot_unref(p->slot);
        p->verdict = 0;
        if (!sd_bus_message_is_method_error(reply, NULL) &&
            sd_bus_message_enter_container(reply, 'r', "bba{ss}") >= 0 &&
            sd_bus_message_read(reply, "bb", &authorized, &challenge) >= 0)
                p->verdict = authorized ? 1 : challenge ? 2 : 0;
        sd_bus_message_rewind(p->call, true);
        r = p->handler(p->call, p->userdata, &error);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        sd_bus_reply_method_error(p->call, &error);
                else
                        sd_bus_reply_method_errno(p->call, r, NULL);
        }
        sd_bus_error_free(&error);
        forget(p);
        return 0;
}

static int ask_polkit(sd_bus_message *m, Pending *p)
{
        sd_bus *bus = sd_bus_message_get_bus(m);
        sd_bus_message *q = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        int r;

        if (!sender)
                return -EACCES;
        r = sd_bus_message_new_method_call(bus, &q, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        /* the system-bus-name subject cannot be raced, unlike a pid */
        if (r >= 0)
                r = sd_bus_message_append(q, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender,
                                          TV_ACTION_MANAGE);
        if (r >= 0)
                r = sd_bus_message_append(q, "a{ss}us", 0,
                                          (uint32_t)(sd_bus_message_get_allow_interactive_authorization(m) ? 1 : 0),
                                          "");
        if (r >= 0)
                r = sd_bus_call_async(bus, &p->slot, q, on_polkit_reply, p, 0);
        sd_bus_message_unref(q);
        return r;
}

int tv_authorize(sd_bus_message *m, TvAuthLevel level, sd_bus_message_handler_t handler, void *userdata,
                 sd_bus_error *error)
{
        sd_bus_creds *creds = NULL;
        uid_t uid = (uid_t)-1;
        Pending *p;
        int r;

        caller = (uid_t)-1;
        /* second pass: polkit has answered for this very message, whose uid we know */
        for (p = pending; p; p = p->next)
                if (p->call == m && p->verdict >= 0 && !p->consumed) {
                        p->consumed = true;
                        caller = p->uid;
                        return p->verdict == 1 ? 1 : deny(error, p->verdict);
                }
        /* the uid the bus took from the socket (SO_PEERCRED): one round trip, no /proc
         * reads; the groups are asked for only when PrivilegedGroup= needs them */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r >= 0)
                caller = uid;
        if (r >= 0 && uid == 0)
                return 1;
        if (level == TV_AUTH_ROOT)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "tegravirt: only root (the libvirt hook) may bind or release devices");
        if (r >= 0 && in_privileged_group(m))
                return 1;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (Pending){ .call = sd_bus_message_ref(m), .handler = handler, .userdata = userdata, .verdict = -1,
                        .uid = uid, .next = pending };
        pending = p;
        r = ask_polkit(m, p);
        if (r < 0) {
                forget(p);
                return deny(error, 0); /* no polkit, no authorization */
        }
        return 0;
}
