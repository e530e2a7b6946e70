// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl host-overlay DEVICE...: the host DT overlay source the devices need. */
#include "tegravirtctl.h"

#include <stdio.h>

int cmd_host_overlay(Ctl *ctl, int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *dts;
        sd_bus *bus;
        int r;

        for (int i = 0; i < argc; i++)
                if (!ctl_check_device(argv[i]))
                        return ctl_usage_error("invalid device name");
        r = ctl_bus(ctl, &bus);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, "org.tegravirt", "/org/tegravirt", "org.tegravirt.Manager1",
                                           "HostOverlay");
        if (r >= 0)
                r = sd_bus_message_append_strv(call, argv);
        if (r < 0)
                return ctl_reply_error("HostOverlay", r);
        r = sd_bus_call(bus, call, ctl->timeout_usec, &error, &reply);
        if (r < 0) {
                r = ctl_bus_error(&error, r);
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read(reply, "s", &dts);
        if (r < 0)
                return ctl_reply_error("HostOverlay", r);
        if (fputs(dts, stdout) == EOF || fflush(stdout) != 0)
                return ctl_fail("cannot write the overlay");
        return CTL_EXIT_OK;
}
