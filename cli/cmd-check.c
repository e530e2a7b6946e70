// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl check [DOMAIN]: what the host still needs, each with the exact fix. */
#include "tegravirtctl.h"

#include <stdio.h>
#include <string.h>

int cmd_check(Ctl *ctl, int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *domain = argc > 0 ? argv[0] : "", *item, *status, *detail, *fix;
        CtlJson j;
        bool missing = false;
        int r;

        if (*domain && !ctl_check_domain(domain))
                return ctl_usage_error("invalid domain name");
        r = ctl_call_manager(ctl, "CheckHost", &reply, "s", domain);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        if (r < 0)
                return ctl_reply_error("CheckHost", r);
        if (ctl->json) {
                ctl_json_init(&j, stdout);
                ctl_json_begin_object(&j);
                ctl_json_key(&j, "checks");
                ctl_json_begin_array(&j);
        }
        while ((r = sd_bus_message_read(reply, "(ssss)", &item, &status, &detail, &fix)) > 0) {
                missing |= strcmp(status, "missing") == 0;
                if (ctl->json) {
                        ctl_json_begin_object(&j);
                        ctl_json_key(&j, "item");
                        ctl_json_string(&j, item);
                        ctl_json_key(&j, "status");
                        ctl_json_string(&j, status);
                        ctl_json_key(&j, "detail");
                        ctl_json_string(&j, detail);
                        ctl_json_key(&j, "fix");
                        ctl_json_string(&j, fix);
                        ctl_json_end_object(&j);
                        continue;
                }
                printf("%-8s %-18s %s\n", strcmp(status, "ok") == 0 ? "ok" : status, item, detail);
                if (*fix)
                        printf("%-8s %-18s fix: %s\n", "", "", fix);
        }
        if (r < 0)
                return ctl_reply_error("CheckHost", r);
        if (ctl->json) {
                ctl_json_end_array(&j);
                ctl_json_key(&j, "ready");
                ctl_json_bool(&j, !missing);
                ctl_json_end_object(&j);
                ctl_json_finish(&j);
        }
        return missing ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
