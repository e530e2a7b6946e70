// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtd: assigns Tegra234 platform devices to libvirt domains. */
#include "bus-service.h"
#include "config.h"
#include "daemon.h"
#include "libvirt-conn.h"
#include "libvirt-loop.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: tegravirtd [OPTIONS]\n"
                "  --sysfs-root DIR   sysfs to act on (default /sys)\n"
                "  --dev-root DIR     /dev to act on (default /dev)\n"
                "  --state-dir DIR    persistent state (default %s)\n"
                "  --catalog FILE     shipped device catalog (default %s)\n"
                "  --catalog-dir DIR  admin catalog additions (default %s)\n"
                "  --config FILE      daemon configuration (default %s)\n"
                "  --run-dir DIR      runtime files, the backends' sockets (default %s)\n"
                "  --bpmp-backend FILE  the per-domain BPMP backend (default %s)\n"
                "  --gpio-backend FILE  the per-domain GPIO backend (default %s)\n"
                "  --check            load everything, reconcile nothing, exit\n"
                "  --version, --help\n"
                "The bus is the system bus; DBUS_SYSTEM_BUS_ADDRESS overrides it.\n",
                TV_DEFAULT_STATE_DIR, TV_DEFAULT_CATALOG, TV_DEFAULT_CATALOG_D, TV_DEFAULT_CONFIG,
                TV_DEFAULT_RUN_DIR, TV_DEFAULT_BPMP_BACKEND, TV_DEFAULT_GPIO_BACKEND);
}

/* Why the bus refused us the name, and what to do: the bus only says "access denied". */
static void name_hint(int r)
{
        if (r == -EEXIST) {
                tv_log(LOG_ERR, "tegravirtd: another process owns org.tegravirt (is tegravirtd already running?)");
        } else if (r == -EACCES && access(TV_DBUS_POLICY_FILE, R_OK) != 0) {
                tv_log(LOG_ERR, "tegravirtd: the bus policy " TV_DBUS_POLICY_FILE " is missing (%s): install it "
                        "(meson install, or copy data/org.tegravirt.conf there), then 'systemctl reload dbus'",
                        strerror(errno));
        } else if (r == -EACCES) {
                tv_log(LOG_ERR, "tegravirtd: the bus policy " TV_DBUS_POLICY_FILE " exists but the bus did not "
                        "grant the name to uid %u: 'systemctl reload dbus' after installing it; it lets only root own "
                        "org.tegravirt; a bus reading other directories (e.g. a /usr/local dbus) needs "
                        "meson -Ddbus_policy_dir=", (unsigned)geteuid());
        }
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        TvDaemon *d = userdata;
        TvError err = { 0 };

        if (tv_daemon_reload(d, &err) < 0)
                tv_log(LOG_ERR, "reload refused, keeping the old catalog and config: %s", err.message);
        else
                tv_log(LOG_INFO, "reloaded catalog and config");
        return 0;
}

/* Runs before sd-bus's own exit source (which flushes and closes the bus), so the callers
 * of cancelled jobs get their answer. */
static int on_exit_stop(sd_event_source *s, void *userdata)
{
        tv_daemon_stop(userdata);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "sysfs-root", required_argument, NULL, 's' },
                { "dev-root", required_argument, NULL, 'd' },
                { "state-dir", required_argument, NULL, 'S' },
                { "catalog", required_argument, NULL, 'c' },
                { "catalog-dir", required_argument, NULL, 'C' },
                { "config", required_argument, NULL, 'f' },
                { "run-dir", required_argument, NULL, 'r' },
                { "bpmp-backend", required_argument, NULL, 'b' },
                { "gpio-backend", required_argument, NULL, 'g' },
                { "check", no_argument, NULL, 'k' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        TvDaemon d = {
                .sysfs_root = "/sys",
                .dev_root = "/dev",
                .state_dir = TV_DEFAULT_STATE_DIR,
                .catalog_path = TV_DEFAULT_CATALOG,
                .catalog_dir = TV_DEFAULT_CATALOG_D,
                .config_path = TV_DEFAULT_CONFIG,
                .run_dir = TV_DEFAULT_RUN_DIR,
                .bpmp_backend_path = TV_DEFAULT_BPMP_BACKEND,
                .gpio_backend_path = TV_DEFAULT_GPIO_BACKEND,
        };
        TvError err = { 0 };
        TvBusService svc = { 0 };
        sd_bus *bus = NULL;
        sd_event_source *stop_src = NULL;
        sigset_t mask;
        bool check = false;
        int c, r;

        tv_log_init();
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 's': d.sysfs_root = optarg; break;
                case 'd': d.dev_root = optarg; break;
                case 'S': d.state_dir = optarg; break;
                case 'c': d.catalog_path = optarg; break;
                case 'C': d.catalog_dir = optarg; break;
                case 'f': d.config_path = optarg; break;
                case 'r': d.run_dir = optarg; break;
                case 'b': d.bpmp_backend_path = optarg; break;
                case 'g': d.gpio_backend_path = optarg; break;
                case 'k': check = true; break;
                case 'V': printf("tegravirtd %s\n", PACKAGE_VERSION); return 0;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }
        /* sd-event watches children (job.c) only with SIGCHLD blocked, before any thread exists */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_default(&d.event);
        if (r < 0) {
                tv_log(LOG_ERR, "tegravirtd: cannot create the event loop: %s", strerror(-r));
                return 1;
        }
        tv_libvirt_loop_register(d.event);
        if (tv_daemon_init(&d, &err) < 0) {
                tv_log(LOG_ERR, "tegravirtd: %s", err.message);
                tv_daemon_free(&d);
                sd_event_unref(d.event);
                return 1;
        }
        if (check) {
                printf("catalog: %zu devices for %s; state: %zu records\n", d.catalog->n_devices, d.catalog->soc,
                       d.state.n_entries);
                tv_daemon_free(&d);
                sd_event_unref(d.event);
                return 0;
        }
        tv_daemon_reconcile(&d);

        /* libvirt and sd-bus write to sockets whose peer may be gone (libvirtd restarted) */
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(d.event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(d.event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(d.event, NULL, SIGHUP, on_sighup, &d);
        if (r >= 0)
                r = sd_event_add_exit(d.event, &stop_src, on_exit_stop, &d);
        if (r >= 0)
                r = sd_event_source_set_priority(stop_src, SD_EVENT_PRIORITY_IMPORTANT);
        /* pings only when systemd set WATCHDOG_USEC: no wake-ups otherwise */
        if (r >= 0)
                r = sd_event_set_watchdog(d.event, true);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r < 0) {
                tv_log(LOG_ERR, "tegravirtd: cannot connect to the system bus: %s", strerror(-r));
                goto out;
        }
        r = sd_bus_attach_event(bus, d.event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = tv_bus_service_start(&svc, &d, bus);
        if (r >= 0)
                tv_daemon_watch_domains(&d);
        if (r < 0) {
                tv_log(LOG_ERR, "tegravirtd: cannot register %s on the bus: %s", "org.tegravirt",
                        strerror(-r));
                name_hint(r);
                goto out;
        }
        sd_notify(0, "READY=1\nSTATUS=Serving org.tegravirt");
        tv_log(LOG_INFO, "tegravirtd %s ready: %zu catalog devices, %zu state records", PACKAGE_VERSION,
                d.catalog->n_devices, d.state.n_entries);
        r = sd_event_loop(d.event);
        sd_notify(0, "STOPPING=1");
out:
        tv_daemon_stop(&d);     /* when the loop never ran */
        sd_event_source_unref(stop_src);
        tv_bus_service_free(&svc);
        if (bus)
                sd_bus_flush_close_unref(bus);
        tv_daemon_free(&d);
        tv_libvirt_loop_finish();
        sd_event_unref(d.event);
        return r < 0 ? 1 : 0;
}
