// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl status [DEVICE]. */
#include "tegravirtctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tv-names.h"

/* ---- human output helpers ---- */

/* Prints "<label right-aligned to width>: value", value made terminal-safe;
 * NULL or "" is shown as dflt. */
static void field(int width, const char *label, const char *value, const char *dflt)
{
        _cleanup_free_ char *e = NULL;

        if (!value || !value[0])
                value = dflt;
        e = ctl_escape(value, false, 0);
        printf("%*s: %s\n", width, label, e ? e : "?");
}

/* Continuation line under a field. */
static void field_more(int width, const char *value)
{
        _cleanup_free_ char *e = ctl_escape(value, false, 0);

        printf("%*s  %s\n", width, "", e ? e : "?");
}

/* ---- manager summary ---- */

typedef struct ManagerProps {
        bool has_version;
        uint32_t version;
        char *soc;
        char *unsafe_interrupts;
} ManagerProps;

static void manager_props_clear(ManagerProps *p)
{
        free(p->soc);
        free(p->unsafe_interrupts);
}

static int read_string_variant(sd_bus_message *m, char **ret)
{
        const char *s;
        char *c;
        int r;

        r = sd_bus_message_read(m, "v", "s", &s);
        if (r < 0)
                return r;
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        free(*ret);
        *ret = c;
        return 0;
}

/* Iterates over the a{sv} of a GetAll reply; calls handle(m, name, userdata) with
 * the message positioned at the variant. handle returns 1 when it consumed the
 * variant, 0 to have it skipped, or -errno. On error *bad_property names the culprit. */
typedef int (*PropHandler)(sd_bus_message *m, const char *name, void *userdata);

static int parse_get_all(sd_bus_message *m, PropHandler handle, void *userdata,
                         char *bad_property, size_t bad_size)
{
        const char *name;
        int r;

        bad_property[0] = '\0';
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = handle(m, name, userdata);
                if (r < 0) {
                        snprintf(bad_property, bad_size, "%s", name);
                        return r;
                }
                if (r == 0) {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int get_all_error(const char *iface, const char *bad_property, int r)
{
        char what[160];

        if (bad_property[0]) {
                _cleanup_free_ char *e = ctl_escape(bad_property, false, 64);

                snprintf(what, sizeof(what), "GetAll(%s), property %s", iface, e ? e : "?");
        } else {
                snprintf(what, sizeof(what), "GetAll(%s)", iface);
        }
        if (r == -ENOMEM)
                return ctl_oom();
        return ctl_reply_error(what, r);
}

static int manager_prop(sd_bus_message *m, const char *name, void *userdata)
{
        ManagerProps *p = userdata;
        int r;

        if (strcmp(name, "Version") == 0) {
                r = sd_bus_message_read(m, "v", "u", &p->version);
                if (r < 0)
                        return r;
                p->has_version = true;
                return 1;
        }
        if (strcmp(name, "Soc") == 0)
                r = read_string_variant(m, &p->soc);
        else if (strcmp(name, "UnsafeInterrupts") == 0)
                r = read_string_variant(m, &p->unsafe_interrupts);
        else
                return 0;
        return r < 0 ? r : 1;
}

/* Device count per state: the known states in their documented order, then
 * any state this client does not know, in order of appearance. */
typedef struct StateCount {
        const char *state;      /* borrowed from the device list or a literal */
        size_t count;
} StateCount;

static const char *const known_states[] = {
        TV_STATE_AVAILABLE, TV_STATE_ASSIGNED, TV_STATE_ACTIVE,
        TV_STATE_TRANSITION, TV_STATE_FOREIGN, TV_STATE_MISSING,
};
#define N_KNOWN_STATES (sizeof(known_states) / sizeof(known_states[0]))

static StateCount *count_states(const CtlDeviceList *l, size_t *ret_n)
{
        StateCount *c = calloc(N_KNOWN_STATES + l->n, sizeof(*c));
        size_t n = N_KNOWN_STATES;

        if (!c)
                return NULL;
        for (size_t i = 0; i < N_KNOWN_STATES; i++)
                c[i].state = known_states[i];
        for (size_t i = 0; i < l->n; i++) {
                size_t k;

                for (k = 0; k < n; k++)
                        if (strcmp(c[k].state, l->items[i].state) == 0)
                                break;
                if (k == n)
                        c[n++].state = l->items[i].state;
                c[k].count++;
        }
        *ret_n = n;
        return c;
}

static int status_manager(Ctl *ctl)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ StateCount *counts = NULL;
        _cleanup_(manager_props_clear) ManagerProps p = {};
        _cleanup_(ctl_device_list_clear) CtlDeviceList devices = {};
        _cleanup_(ctl_assignment_list_clear) CtlAssignmentList assignments = {};
        char bad[128];
        size_t ncounts = 0;
        int r;

        r = ctl_get_all(ctl, TV_MANAGER_PATH, TV_MANAGER_IFACE, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = parse_get_all(reply, manager_prop, &p, bad, sizeof(bad));
        if (r < 0)
                return get_all_error(TV_MANAGER_IFACE, bad, r);
        r = ctl_fetch_devices(ctl, &devices);
        if (r != CTL_EXIT_OK)
                return r;
        r = ctl_fetch_assignments(ctl, &assignments);
        if (r != CTL_EXIT_OK)
                return r;
        counts = count_states(&devices, &ncounts);
        if (!counts)
                return ctl_oom();

        if (ctl->json) {
                CtlJson j;

                ctl_json_init(&j, stdout);
                ctl_json_begin_object(&j);
                ctl_json_key(&j, "version");
                if (p.has_version)
                        ctl_json_uint(&j, p.version);
                else
                        ctl_json_null(&j);
                ctl_json_key(&j, "soc");
                ctl_json_string_or_null(&j, p.soc);
                ctl_json_key(&j, "unsafe_interrupts");
                ctl_json_string_or_null(&j, p.unsafe_interrupts);
                ctl_json_key(&j, "device_count");
                ctl_json_uint(&j, devices.n);
                ctl_json_key(&j, "states");
                ctl_json_begin_object(&j);
                for (size_t i = 0; i < ncounts; i++) {
                        ctl_json_key(&j, counts[i].state);
                        ctl_json_uint(&j, counts[i].count);
                }
                ctl_json_end_object(&j);
                ctl_json_key(&j, "assignments");
                ctl_json_begin_array(&j);
                for (size_t i = 0; i < assignments.n; i++) {
                        ctl_json_begin_object(&j);
                        ctl_json_key(&j, "domain");
                        ctl_json_string(&j, assignments.items[i].domain);
                        ctl_json_key(&j, "device");
                        ctl_json_string(&j, assignments.items[i].device);
                        ctl_json_end_object(&j);
                }
                ctl_json_end_array(&j);
                ctl_json_end_object(&j);
                ctl_json_finish(&j);
        } else {
                const int w = (int)strlen("Unsafe interrupts");
                char buf[32];
                bool first;

                if (p.has_version) {
                        snprintf(buf, sizeof(buf), "%u", (unsigned)p.version);
                        field(w, "API version", buf, NULL);
                } else {
                        field(w, "API version", NULL, "unknown");
                }
                field(w, "SoC", p.soc, "unknown");
                field(w, "Unsafe interrupts", p.unsafe_interrupts, "unknown");

                printf("%*s: %zu", w, "Devices", devices.n);
                first = true;
                for (size_t i = 0; i < ncounts; i++) {
                        _cleanup_free_ char *e = NULL;

                        if (counts[i].count == 0)
                                continue;
                        e = ctl_escape(counts[i].state, false, 0);
                        printf("%s%zu %s", first ? " (" : ", ", counts[i].count, e ? e : "?");
                        first = false;
                }
                printf("%s\n", first ? "" : ")");

                /* one line per domain, in order of first appearance */
                first = true;
                for (size_t i = 0; i < assignments.n; i++) {
                        _cleanup_free_ char *line = NULL;
                        size_t len = 0;
                        FILE *f;
                        bool seen = false;

                        for (size_t k = 0; k < i; k++)
                                if (strcmp(assignments.items[k].domain, assignments.items[i].domain) == 0)
                                        seen = true;
                        if (seen)
                                continue;
                        f = open_memstream(&line, &len);
                        if (!f)
                                return ctl_oom();
                        fprintf(f, "%s:", assignments.items[i].domain);
                        for (size_t k = i; k < assignments.n; k++)
                                if (strcmp(assignments.items[k].domain, assignments.items[i].domain) == 0)
                                        fprintf(f, " %s", assignments.items[k].device);
                        if (fclose(f) != 0 || !line)
                                return ctl_oom();
                        if (first)
                                field(w, "Assignments", line, NULL);
                        else
                                field_more(w, line);
                        first = false;
                }
                if (first)
                        field(w, "Assignments", NULL, "none");
        }
        return CTL_EXIT_OK;
}

/* ---- one device ---- */

typedef struct Pair {
        uint32_t id;
        char *name;
} Pair;

typedef struct PairList {
        Pair *items;
        size_t n;
} PairList;

typedef struct DeviceProps {
        char *name;
        char *platform_id;
        char *kind;
        char *description;
        char *state;
        char *domain;
        char *domain_drift;
        char *driver;
        bool has_iommu_group;
        int32_t iommu_group;
        PairList clocks;
        PairList resets;
        PairList power_domains;
        char **hazards;
        char *controller;       /* a GPIO line group's controller, "" for a device */
        struct CtlLine {
                uint32_t offset;
                char *name;
                char *host_name;
        } *lines;
        size_t n_lines;
} DeviceProps;

static void pair_list_clear(PairList *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].name);
        free(l->items);
        l->items = NULL;
        l->n = 0;
}

static void device_props_clear(DeviceProps *p)
{
        free(p->name);
        free(p->platform_id);
        free(p->kind);
        free(p->description);
        free(p->state);
        free(p->domain);
        free(p->domain_drift);
        free(p->driver);
        pair_list_clear(&p->clocks);
        pair_list_clear(&p->resets);
        pair_list_clear(&p->power_domains);
        tv_strv_free(p->hazards);
        free(p->controller);
        for (size_t i = 0; i < p->n_lines; i++) {
                free(p->lines[i].name);
                free(p->lines[i].host_name);
        }
        free(p->lines);
}

static int read_pairs_variant(sd_bus_message *m, PairList *l)
{
        const char *name;
        uint32_t id;
        int r;

        pair_list_clear(l);
        r = sd_bus_message_enter_container(m, 'v', "a(us)");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(us)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(us)", &id, &name)) > 0) {
                Pair *items = reallocarray(l->items, l->n + 1, sizeof(*items));

                if (!items)
                        return -ENOMEM;
                l->items = items;
                items[l->n].id = id;
                items[l->n].name = strdup(name);
                if (!items[l->n].name)
                        return -ENOMEM;
                l->n++;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_strv_variant(sd_bus_message *m, char ***ret)
{
        char **v = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &v);
        if (r < 0)
                return r;
        tv_strv_free(*ret);
        *ret = v;
        return sd_bus_message_exit_container(m);
}

/* Lines a(uss): (offset, guest name, host name) */
static int read_lines_variant(sd_bus_message *m, DeviceProps *p)
{
        const char *name, *host;
        uint32_t off;
        int r = sd_bus_message_enter_container(m, 'v', "a(uss)");

        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(uss)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(uss)", &off, &name, &host)) > 0) {
                struct CtlLine *l = reallocarray(p->lines, p->n_lines + 1, sizeof(*l));

                if (!l)
                        return -ENOMEM;
                p->lines = l;
                l[p->n_lines] = (struct CtlLine){ off, strdup(name), strdup(host) };
                if (!l[p->n_lines].name || !l[p->n_lines++].host_name)
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int device_prop(sd_bus_message *m, const char *name, void *userdata)
{
        static const struct {
                const char *name;
                size_t offset;
        } strings[] = {
                { "Name",        offsetof(DeviceProps, name) },
                { "PlatformId",  offsetof(DeviceProps, platform_id) },
                { "Kind",        offsetof(DeviceProps, kind) },
                { "Description", offsetof(DeviceProps, description) },
                { "State",       offsetof(DeviceProps, state) },
                { "Domain",      offsetof(DeviceProps, domain) },
                { "DomainDrift", offsetof(DeviceProps, domain_drift) },
                { "Driver",      offsetof(DeviceProps, driver) },
                { "Controller",  offsetof(DeviceProps, controller) },
        };
        DeviceProps *p = userdata;
        int r;

        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
                if (strcmp(name, strings[i].name) == 0) {
                        r = read_string_variant(m, (char **)((char *)p + strings[i].offset));
                        return r < 0 ? r : 1;
                }
        if (strcmp(name, "IommuGroup") == 0) {
                r = sd_bus_message_read(m, "v", "i", &p->iommu_group);
                if (r < 0)
                        return r;
                p->has_iommu_group = p->iommu_group >= 0;
                return 1;
        }
        if (strcmp(name, "Clocks") == 0)
                r = read_pairs_variant(m, &p->clocks);
        else if (strcmp(name, "Resets") == 0)
                r = read_pairs_variant(m, &p->resets);
        else if (strcmp(name, "PowerDomains") == 0)
                r = read_pairs_variant(m, &p->power_domains);
        else if (strcmp(name, "Hazards") == 0)
                r = read_strv_variant(m, &p->hazards);
        else if (strcmp(name, "Lines") == 0)
                r = read_lines_variant(m, p);
        else
                return 0;
        return r < 0 ? r : 1;
}

static void json_pairs(CtlJson *j, const char *key, const PairList *l)
{
        ctl_json_key(j, key);
        ctl_json_begin_array(j);
        for (size_t i = 0; i < l->n; i++) {
                ctl_json_begin_object(j);
                ctl_json_key(j, "id");
                ctl_json_uint(j, l->items[i].id);
                ctl_json_key(j, "name");
                ctl_json_string(j, l->items[i].name);
                ctl_json_end_object(j);
        }
        ctl_json_end_array(j);
}

static void human_pairs(int w, const char *label, const PairList *l)
{
        if (l->n == 0) {
                field(w, label, NULL, "-");
                return;
        }
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *e = ctl_escape(l->items[i].name, false, 0);

                if (i == 0)
                        printf("%*s: %s (%u)\n", w, label, e ? e : "?", (unsigned)l->items[i].id);
                else
                        printf("%*s  %s (%u)\n", w, "", e ? e : "?", (unsigned)l->items[i].id);
        }
}

static void print_device(Ctl *ctl, const DeviceProps *p)
{
        if (ctl->json) {
                CtlJson j;

                ctl_json_init(&j, stdout);
                ctl_json_begin_object(&j);
                ctl_json_key(&j, "name");
                ctl_json_string(&j, p->name);
                ctl_json_key(&j, "platform_id");
                ctl_json_string(&j, p->platform_id);
                ctl_json_key(&j, "kind");
                ctl_json_string(&j, p->kind);
                ctl_json_key(&j, "description");
                ctl_json_string(&j, p->description);
                ctl_json_key(&j, "state");
                ctl_json_string(&j, p->state);
                ctl_json_key(&j, "domain");
                ctl_json_string_or_null(&j, p->domain);
                ctl_json_key(&j, "domain_drift");
                ctl_json_string_or_null(&j, p->domain_drift);
                ctl_json_key(&j, "driver");
                ctl_json_string_or_null(&j, p->driver);
                ctl_json_key(&j, "iommu_group");
                if (p->has_iommu_group)
                        ctl_json_int(&j, p->iommu_group);
                else
                        ctl_json_null(&j);
                json_pairs(&j, "clocks", &p->clocks);
                json_pairs(&j, "resets", &p->resets);
                json_pairs(&j, "power_domains", &p->power_domains);
                ctl_json_key(&j, "hazards");
                ctl_json_begin_array(&j);
                for (char **h = p->hazards; h && *h; h++)
                        ctl_json_string(&j, *h);
                ctl_json_end_array(&j);
                ctl_json_key(&j, "controller");
                ctl_json_string_or_null(&j, p->controller);
                ctl_json_key(&j, "lines");
                ctl_json_begin_array(&j);
                for (size_t i = 0; i < p->n_lines; i++) {
                        ctl_json_begin_object(&j);
                        ctl_json_key(&j, "offset");
                        ctl_json_uint(&j, p->lines[i].offset);
                        ctl_json_key(&j, "name");
                        ctl_json_string(&j, p->lines[i].name);
                        ctl_json_key(&j, "host_name");
                        ctl_json_string_or_null(&j, p->lines[i].host_name);
                        ctl_json_end_object(&j);
                }
                ctl_json_end_array(&j);
                ctl_json_end_object(&j);
                ctl_json_finish(&j);
        } else {
                const int w = (int)strlen("Power domains");
                char buf[16];

                field(w, "Name", p->name, "-");
                field(w, "Platform ID", p->platform_id, "-");
                field(w, "Kind", p->kind, "-");
                field(w, "Description", p->description, "-");
                field(w, "State", p->state, "-");
                field(w, "Domain", p->domain, "-");
                if (p->domain_drift && *p->domain_drift)
                        field(w, "Drift", p->domain_drift, "-");
                field(w, "Driver", p->driver, "(none)");
                snprintf(buf, sizeof(buf), "%d", (int)p->iommu_group);
                field(w, "IOMMU group", p->has_iommu_group ? buf : NULL, "(none)");
                human_pairs(w, "Clocks", &p->clocks);
                human_pairs(w, "Resets", &p->resets);
                human_pairs(w, "Power domains", &p->power_domains);
                if (!p->hazards || !p->hazards[0])
                        field(w, "Hazards", NULL, "none");
                for (size_t i = 0; p->hazards && p->hazards[i]; i++) {
                        if (i == 0)
                                field(w, "Hazards", p->hazards[i], NULL);
                        else
                                field_more(w, p->hazards[i]);
                }
                if (p->controller && *p->controller)
                        field(w, "Controller", p->controller, "-");
                for (size_t i = 0; i < p->n_lines; i++) {
                        _cleanup_free_ char *n = ctl_escape(p->lines[i].name, false, 0);
                        _cleanup_free_ char *h = ctl_escape(p->lines[i].host_name, false, 0);

                        printf("%*s%s %s: line %u%s%s%s\n", w, i == 0 ? "Lines" : "", i == 0 ? ":" : " ", n ? n : "?",
                               (unsigned)p->lines[i].offset, h && *h ? " (" : "", h && *h ? h : "", h && *h ? ")" : "");
                }
        }
}

static int status_device(Ctl *ctl, const char *token)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_(ctl_device_list_clear) CtlDeviceList devices = {};
        _cleanup_(device_props_clear) DeviceProps p = { .iommu_group = -1 };
        const char *name = NULL;
        char bad[128];
        int r;

        r = ctl_fetch_devices(ctl, &devices);
        if (r != CTL_EXIT_OK)
                return r;
        /* a catalog name wins over a platform id */
        for (size_t i = 0; i < devices.n && !name; i++)
                if (strcmp(devices.items[i].name, token) == 0)
                        name = devices.items[i].name;
        for (size_t i = 0; i < devices.n && !name; i++)
                if (strcmp(devices.items[i].platform_id, token) == 0)
                        name = devices.items[i].name;
        if (!name)
                return ctl_fail("no device '%s' in the catalog; 'tegravirtctl list' shows the known "
                                "devices (%s)", token, TV_ERR_NO_SUCH_DEVICE);
        r = sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, name, &path);
        if (r < 0)
                return ctl_oom();
        r = ctl_get_all(ctl, path, TV_DEVICE_IFACE, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = parse_get_all(reply, device_prop, &p, bad, sizeof(bad));
        if (r < 0)
                return get_all_error(TV_DEVICE_IFACE, bad, r);
        print_device(ctl, &p);
        return CTL_EXIT_OK;
}

int cmd_status(Ctl *ctl, int argc, char **argv)
{
        if (argc == 0)
                return status_manager(ctl);
        if (!ctl_check_device(argv[0]))
                return CTL_EXIT_USAGE;
        return status_device(ctl, argv[0]);
}
