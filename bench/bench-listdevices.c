// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bench client for tegravirtd on the system bus (DBUS_SYSTEM_BUS_ADDRESS):
 *   bench-listdevices list N          N ListDevices calls, one client, back to back
 *   bench-listdevices ping N          N Peer.Ping calls to the daemon (round-trip baseline)
 *   bench-listdevices cycle DOMAIN N  N PrepareDomain+ReleaseDomain pairs
 * Prints "<mode> <calls> <seconds> <calls-per-second>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int call(sd_bus *bus, const char *iface, const char *method, const char *sig, const char *a,
                const char *b)
{
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (!sig)
                r = sd_bus_call_method(bus, "org.tegravirt", "/org/tegravirt", iface, method, &e, &reply, "");
        else if (b)
                r = sd_bus_call_method(bus, "org.tegravirt", "/org/tegravirt", iface, method, &e, &reply, sig, a, b);
        else
                r = sd_bus_call_method(bus, "org.tegravirt", "/org/tegravirt", iface, method, &e, &reply, sig, a);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", method, e.message ? e.message : strerror(-r));
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        return r;
}

int main(int argc, char **argv)
{
        sd_bus *bus = NULL;
        long n;
        double t0, t;
        int r = 0;

        if (argc < 3 || (strcmp(argv[1], "cycle") == 0 && argc < 4)) {
                fprintf(stderr, "usage: %s list|ping N | cycle DOMAIN N\n", argv[0]);
                return 2;
        }
        n = atol(argv[argc - 1]);
        if (n <= 0 || sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "bad count or no bus\n");
                return 2;
        }
        t0 = now();
        for (long i = 0; i < n && r >= 0; i++) {
                if (strcmp(argv[1], "list") == 0)
                        r = call(bus, "org.tegravirt.Manager1", "ListDevices", NULL, NULL, NULL);
                else if (strcmp(argv[1], "ping") == 0)
                        r = call(bus, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, NULL);
                else {
                        r = call(bus, "org.tegravirt.Manager1", "PrepareDomain", "ss", argv[2], "");
                        if (r >= 0)
                                r = call(bus, "org.tegravirt.Manager1", "ReleaseDomain", "s", argv[2], NULL);
                }
        }
        t = now() - t0;
        sd_bus_flush_close_unref(bus);
        if (r < 0)
                return 1;
        printf("%s %ld %.6f %.1f\n", argv[1], n, t, (double)n / t);
        return 0;
}
