// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl: command-line client of tegravirtd (org.tegravirt on the system bus). */
#include "tegravirtctl.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("config.h")
#include "config.h"
#endif
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#include "tv-names.h"
#include "tv-validate.h"

#define PROG "tegravirtctl"

/* ---- diagnostics ---- */

static void vmessage(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vmessage(const char *fmt, va_list ap)
{
        fflush(stdout);
        fputs(PROG ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmessage(fmt, ap);
        va_end(ap);
        fputs("Try '" PROG " --help' for more information.\n", stderr);
        return CTL_EXIT_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmessage(fmt, ap);
        va_end(ap);
        return CTL_EXIT_FAIL;
}

int ctl_oom(void)
{
        return ctl_fail("out of memory");
}

int ctl_bus_error(const sd_bus_error *error, int r)
{
        _cleanup_(sd_bus_error_free) sd_bus_error fallback = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *msg = NULL;
        const char *name;

        if (!sd_bus_error_is_set(error)) {
                /* A local failure (e.g. connection lost) without a D-Bus error: name it after errno. */
                sd_bus_error_set_errno(&fallback, r < 0 ? r : -EIO);
                error = &fallback;
        }
        name = error->name;
        if (error->message && error->message[0])
                msg = ctl_escape(error->message, false, 1024);
        else
                msg = strdup(strerror(r < 0 ? -r : EIO));
        ctl_fail("%s (%s)", msg ? msg : "out of memory", name);

        if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                fputs(PROG ": hint: is tegravirtd running? Try 'systemctl status tegravirtd'.\n", stderr);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                fputs(PROG ": hint: changing assignments needs root (or a polkit authorization).\n", stderr);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_TIMEOUT) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY))
                fputs(PROG ": hint: tegravirtd did not answer in time; --timeout SECONDS allows more.\n", stderr);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_INTERFACE))
                fputs(PROG ": hint: the running tegravirtd may be older than this client.\n", stderr);
        return CTL_EXIT_FAIL;
}

int ctl_reply_error(const char *what, int r)
{
        if (r == -ENOMEM)
                return ctl_oom();
        return ctl_fail("unexpected reply from tegravirtd to %s: %s", what,
                        r == -ENXIO ? "wrong D-Bus type (is tegravirtd speaking another API version?)"
                                    : strerror(r < 0 ? -r : EIO));
}

bool ctl_check_domain(const char *s)
{
        _cleanup_free_ char *e = NULL;

        if (tv_domain_name_valid(s))
                return true;
        e = ctl_escape(s, true, TV_NAME_MAX);
        ctl_usage_error("invalid domain name '%s': expected 1-%d characters of [A-Za-z0-9_.+-], "
                        "not starting with '.' or '-'", e ? e : "?", TV_NAME_MAX);
        return false;
}

bool ctl_check_device(char *s)
{
        _cleanup_free_ char *e = NULL;

        /* the object path busctl shows (/org/tegravirt/device/gpio_2dmain), or the name
         * under that prefix as people type it (/org/tegravirt/device/gpio-main) */
        if (strncmp(s, TV_DEVICE_PATH_PREFIX "/", strlen(TV_DEVICE_PATH_PREFIX) + 1) == 0) {
                const char *rest = s + strlen(TV_DEVICE_PATH_PREFIX) + 1;
                _cleanup_free_ char *name = NULL;

                /* decoded first: '_' is valid in a name, but on the bus it is "_5f" */
                if (sd_bus_path_decode(s, TV_DEVICE_PATH_PREFIX, &name) <= 0 || !tv_device_token_valid(name)) {
                        free(name);
                        name = tv_device_token_valid(rest) ? strdup(rest) : NULL;
                }
                /* the name is never longer than the path it came from: replace it in place */
                if (name && tv_device_token_valid(name)) {
                        memmove(s, name, strlen(name) + 1);
                        return true;
                }
        }
        if (tv_device_token_valid(s))
                return true;
        e = ctl_escape(s, true, TV_NAME_MAX);
        ctl_usage_error("invalid device '%s': expected a catalog name (e.g. uarta), a platform id "
                        "(e.g. 3100000.serial) of 1-%d characters of [A-Za-z0-9._:-], or its object path "
                        "(e.g. " TV_DEVICE_PATH_PREFIX "/uarta)",
                        e ? e : "?", TV_NAME_MAX);
        return false;
}

/* ---- bus access ---- */

int ctl_bus(Ctl *ctl, sd_bus **ret)
{
        sd_bus *bus = NULL;
        int r;

        if (!ctl->bus) {
                r = sd_bus_open_system(&bus);
                if (r < 0) {
                        const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                        _cleanup_free_ char *e = addr ? ctl_escape(addr, true, 200) : NULL;

                        if (e)
                                return ctl_fail("cannot connect to the system bus at %s "
                                                "(DBUS_SYSTEM_BUS_ADDRESS): %s", e, strerror(-r));
                        return ctl_fail("cannot connect to the system bus: %s", strerror(-r));
                }
                if (ctl->timeout_usec > 0) {
                        r = sd_bus_set_method_call_timeout(bus, ctl->timeout_usec);
                        if (r < 0) {
                                sd_bus_flush_close_unref(bus);
                                return ctl_fail("cannot set the method call timeout: %s", strerror(-r));
                        }
                }
                ctl->bus = bus;
        }
        *ret = ctl->bus;
        return CTL_EXIT_OK;
}

/* Calls that may wait for a QEMU capability probe (10 s per command) and a device tree
 * dump (30 s) before tegravirtd answers: sd-bus's 25 s default would give up first. */
#define CTL_QEMU_CALL_TIMEOUT_USEC (90ULL * 1000000ULL)

static bool waits_for_qemu(const char *member)
{
        return strcmp(member, "AssignDevice") == 0 || strcmp(member, "UnassignDevice") == 0 ||
               strcmp(member, "RepairDomain") == 0;
}

int ctl_call_manager(Ctl *ctl, const char *member, sd_bus_message **reply, const char *types, ...)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        uint64_t usec = ctl->timeout_usec;
        sd_bus *bus = NULL;
        va_list ap;
        int r;

        r = ctl_bus(ctl, &bus);
        if (r != CTL_EXIT_OK)
                return r;
        if (usec == 0 && waits_for_qemu(member))
                usec = CTL_QEMU_CALL_TIMEOUT_USEC;
        r = sd_bus_message_new_method_call(bus, &m, TV_BUS_NAME, TV_MANAGER_PATH, TV_MANAGER_IFACE, member);
        if (r < 0)
                return ctl_fail("cannot build the %s call: %s", member, strerror(-r));
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return ctl_fail("cannot build the %s call: %s", member, strerror(-r));
        r = sd_bus_call(bus, m, usec, &error, reply);
        if (r < 0)
                return ctl_bus_error(&error, r);
        return CTL_EXIT_OK;
}

int ctl_get_all(Ctl *ctl, const char *path, const char *interface, sd_bus_message **reply)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        r = ctl_bus(ctl, &bus);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, TV_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, reply, "s", interface);
        if (r < 0)
                return ctl_bus_error(&error, r);
        return CTL_EXIT_OK;
}

/* ---- command line ---- */

typedef struct CtlCommand {
        const char *name;
        int min_args;
        int max_args;
        bool takes_xml;
        CtlCommandFn fn;
        const char *args;
        const char *help;
} CtlCommand;

static int cmd_help(Ctl *ctl, int argc, char **argv);

static const CtlCommand commands[] = {
        { "list",        0, 0, false, cmd_list,        "",
          "List the passthrough devices and their state" },
        { "status",      0, 1, false, cmd_status,      "[DEVICE]",
          "Show the manager summary, or every property of DEVICE" },
        { "assignments", 0, 0, false, cmd_assignments, "",
          "List the device assignments of all domains" },
        { "assign",      2, 2, false, cmd_assign,      "DOMAIN DEVICE",
          "Assign DEVICE to DOMAIN" },
        { "unassign",    2, 2, false, cmd_unassign,    "DOMAIN DEVICE",
          "Remove the assignment of DEVICE to DOMAIN" },
        { "prepare",     1, 1, true,  cmd_prepare,     "DOMAIN [--xml FILE|-]",
          "Bind the devices of DOMAIN to vfio-platform before it starts" },
        { "release",     1, 1, false, cmd_release,     "DOMAIN",
          "Return the devices of DOMAIN to their host drivers" },
        { "repair",      1, 1, false, cmd_repair,      "DOMAIN",
          "Rewrite DOMAIN's definition for its assignments (after drift, a rename or a copy)" },
        { "check",       0, 1, false, cmd_check,       "[DOMAIN]",
          "Report what the host still needs, with the exact fix (exit 1 if something is missing)" },
        { "host-overlay", 1, 64, false, cmd_host_overlay, "DEVICE...",
          "Print the host DT overlay DEVICEs need: BPMP proxy, own SMMU streams (compile: dtc -@ -I dts -O dtb)" },
        { "help",        0, 0, false, cmd_help,        "",
          "Show this help" },
};

static const char *const option_help[][2] = {
        { "-h --help",             "Show this help" },
        { "   --version",          "Show the version" },
        { "-j --json",             "Print JSON instead of tables and sentences" },
        { "   --no-legend",        "Do not print table headers" },
        { "-t --timeout SECONDS",  "Give up on each D-Bus call after SECONDS" },
        { "   --xml FILE|-",       "(prepare) Read the domain XML from FILE or stdin" },
};

static void help(FILE *f)
{
        fprintf(f,
                "Usage: " PROG " [OPTIONS...] COMMAND [ARGS...]\n"
                "\n"
                "Control the passthrough of Jetson Orin platform devices to libvirt domains\n"
                "through tegravirtd (%s on the system bus).\n"
                "\n"
                "Commands:\n", TV_BUS_NAME);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                char left[64];

                snprintf(left, sizeof(left), "%s%s%s", commands[i].name,
                         commands[i].args[0] ? " " : "", commands[i].args);
                fprintf(f, "  %-30s %s\n", left, commands[i].help);
        }
        fputs("\nOptions:\n", f);
        for (size_t i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
                fprintf(f, "  %-30s %s\n", option_help[i][0], option_help[i][1]);
        fputs("\n"
              "DEVICE is a catalog name (uarta), a platform id (3100000.serial) or its object\n"
              "path (/org/tegravirt/device/gpio_2dmain, or /org/tegravirt/device/gpio-main).\n"
              "Exit status: 0 success, 1 refused or failed, 2 usage error.\n"
              "See the " PROG "(1) man page for details.\n", f);
}

static int cmd_help(Ctl *ctl, int argc, char **argv)
{
        help(stdout);
        return CTL_EXIT_OK;
}

static int parse_timeout(const char *s, uint64_t *ret)
{
        char *end = NULL;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(d) || d <= 0 || d > 1e9)
                return -EINVAL;
        *ret = (uint64_t)(d * 1e6);
        if (*ret == 0)
                *ret = 1;
        return 0;
}

enum {
        OPT_VERSION = 0x100,
        OPT_NO_LEGEND,
        OPT_XML,
};

static const struct option options[] = {
        { "help",      no_argument,       NULL, 'h' },
        { "version",   no_argument,       NULL, OPT_VERSION },
        { "json",      no_argument,       NULL, 'j' },
        { "no-legend", no_argument,       NULL, OPT_NO_LEGEND },
        { "timeout",   required_argument, NULL, 't' },
        { "xml",       required_argument, NULL, OPT_XML },
        {}
};

/* Returns -1 to continue with a command, or an exit status. */
static int parse_argv(Ctl *ctl, int argc, char **argv)
{
        int c;

        while ((c = getopt_long(argc, argv, ":hjt:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help(stdout);
                        return CTL_EXIT_OK;
                case OPT_VERSION:
                        printf(PROG " %s\n", PACKAGE_VERSION);
                        return CTL_EXIT_OK;
                case 'j':
                        ctl->json = true;
                        break;
                case OPT_NO_LEGEND:
                        ctl->legend = false;
                        break;
                case 't':
                        if (parse_timeout(optarg, &ctl->timeout_usec) < 0) {
                                _cleanup_free_ char *e = ctl_escape(optarg, true, 32);

                                return ctl_usage_error("invalid --timeout '%s': expected a positive "
                                                       "number of seconds", e ? e : "?");
                        }
                        break;
                case OPT_XML:
                        if (optarg[0] == '\0')
                                return ctl_usage_error("--xml needs a file name, or '-' for stdin");
                        ctl->xml_path = optarg;
                        break;
                case ':':
                case '?': {
                        const char *arg = argv[optind - 1];
                        _cleanup_free_ char *e = NULL;
                        char shortopt[] = { '-', (char)optopt, '\0' };

                        /* a long option is named by its argv element, a short one by optopt */
                        if (strncmp(arg, "--", 2) != 0 && optopt > 0 && optopt < 0x100)
                                arg = shortopt;
                        e = ctl_escape(arg, true, 64);
                        return ctl_usage_error(c == ':' ? "option '%s' needs an argument"
                                                        : "unknown or invalid option '%s'", e ? e : "?");
                }
                default:
                        return ctl_usage_error("unexpected result from option parsing");
                }
        }
        return -1;
}

int main(int argc, char **argv)
{
        Ctl ctl = { .legend = true };
        const CtlCommand *cmd = NULL;
        int r, nargs;

        r = parse_argv(&ctl, argc, argv);
        if (r >= 0)
                return r == CTL_EXIT_OK && fflush(stdout) != 0 ? CTL_EXIT_FAIL : r;

        if (optind >= argc)
                return ctl_usage_error("missing command");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(argv[optind], commands[i].name) == 0) {
                        cmd = &commands[i];
                        break;
                }
        if (!cmd) {
                _cleanup_free_ char *e = ctl_escape(argv[optind], true, 32);

                return ctl_usage_error("unknown command '%s'", e ? e : "?");
        }
        nargs = argc - optind - 1;
        if (nargs < cmd->min_args || nargs > cmd->max_args)
                return ctl_usage_error("%s arguments for '%s' (usage: " PROG " %s%s%s)",
                                       nargs < cmd->min_args ? "missing" : "too many",
                                       cmd->name, cmd->name, cmd->args[0] ? " " : "", cmd->args);
        if (ctl.xml_path && !cmd->takes_xml)
                return ctl_usage_error("--xml is only valid with 'prepare'");

        r = cmd->fn(&ctl, nargs, argv + optind + 1);

        sd_bus_flush_close_unref(ctl.bus);
        ctl.bus = NULL;
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, PROG ": error writing to stdout: %s\n", strerror(errno));
                return CTL_EXIT_FAIL;
        }
        return r;
}
