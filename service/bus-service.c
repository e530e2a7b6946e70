// SPDX-License-Identifier: GPL-2.0-or-later
#include "bus-service.h"
#include "host-check.h"
#include "host-overlay.h"
#include "log.h"
#include "libvirt-conn.h"
#include "tv-names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#define ERRNO_FAIL(r) ((r) < 0 ? (r) : -EIO)

static int reply_error(sd_bus_message *m, const TvError *err)
{
        return sd_bus_reply_method_errorf(m, err->name ? err->name : TV_ERR_FAILED, "%s", err->message);
}

/* ---- Manager1 ---- */

static const char *group_state(TvDaemon *d, const TvLineGroup *g);

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = ((TvBusService *)userdata)->d;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssss)");
        for (size_t i = 0; r >= 0 && i < d->catalog->n_devices; i++) {
                const TvCatalogDevice *dev = &d->catalog->devices[i];

                r = sd_bus_message_append(reply, "(sssss)", dev->name, dev->platform_id, dev->kind,
                                          tv_daemon_device_state(d, dev, NULL, NULL),
                                          tv_daemon_device_domain(d, dev));
        }
        /* the line groups: no platform device */
        for (size_t i = 0; r >= 0 && i < d->catalog->n_line_groups; i++) {
                const TvLineGroup *g = &d->catalog->line_groups[i];

                r = sd_bus_message_append(reply, "(sssss)", g->name, "", TV_KIND_GPIO_LINES, group_state(d, g),
                                          tv_daemon_line_group_domain(d, g));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int method_list_assignments(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = ((TvBusService *)userdata)->d;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < d->state.n_entries; i++) {
                const TvStateEntry *s = &d->state.entries[i];

                if (s->domain)
                        r = sd_bus_message_append(reply, "(ss)", s->domain, s->device);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

/* An operation that waited for a job (QEMU probe, dumpdtb) ended: answer its parked call. */
static void on_op_done(TvDaemon *d, int r, TvError *err, void *userdata)
{
        sd_bus_message *m = userdata;

        tv_bus_emit_changes(d->hooks.userdata); /* the service registered itself as the daemon's hooks */
        if (r < 0)
                reply_error(m, err);
        else
                sd_bus_reply_method_return(m, NULL);
        sd_bus_message_unref(m);
}

typedef int (*TwoArgOp)(TvDaemon *d, const char *a, const char *b, TvError *err);
typedef int (*TwoArgJobOp)(TvDaemon *d, const char *a, const char *b, TvDaemonDoneFn done, void *userdata,
                           TvError *err);

/* The end of a changing method: the caller is no longer the one acting, changes are
 * announced, and the call is answered now, or (r == 1) by on_op_done when its job ends
 * (it holds the reference a job operation took; otherwise that is dropped here). */
static int answer(TvBusService *svc, sd_bus_message *m, int r, bool took_ref, TvError *err)
{
        svc->d->caller = TV_CALLER_DAEMON;
        tv_bus_emit_changes(svc);
        if (r == 1)
                return 1; /* the loop serves others meanwhile */
        if (took_ref)
                sd_bus_message_unref(m);
        if (r < 0)
                return reply_error(m, err);
        return sd_bus_reply_method_return(m, NULL);
}

/* op answers now; jop may return 1 and answer through on_op_done when its job ends. */
static int run_two_arg(sd_bus_message *m, TvBusService *svc, TwoArgOp op, TwoArgJobOp jop, TvAuthLevel level,
                       sd_bus_message_handler_t self, sd_bus_error *e)
{
        const char *a, *b;
        TvError err = { 0 };
        TvDaemon *d = svc->d;
        int r = tv_authorize(&svc->authz, m, level, self, svc, e);

        if (r <= 0)
                return r < 0 ? r : 1; /* denied, or parked until polkit answers */
        r = sd_bus_message_read(m, "ss", &a, &b);
        if (r < 0)
                return r;
        d->caller = tv_authorize_caller(&svc->authz);
        r = jop ? jop(d, a, b, on_op_done, sd_bus_message_ref(m), &err) : op(d, a, b, &err);
        return answer(svc, m, r, jop != NULL, &err);
}

static int method_assign(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_two_arg(m, userdata, NULL, tv_daemon_assign, TV_AUTH_MANAGE, method_assign, e);
}

static int method_unassign(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_two_arg(m, userdata, NULL, tv_daemon_unassign, TV_AUTH_MANAGE, method_unassign, e);
}

static int method_prepare(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_two_arg(m, userdata, tv_daemon_prepare, NULL, TV_AUTH_ROOT, method_prepare, e);
}

typedef int (*OneArgOp)(TvDaemon *d, const char *domain, TvError *err);
typedef int (*OneArgJobOp)(TvDaemon *d, const char *domain, TvDaemonDoneFn done, void *userdata, TvError *err);

/* A changing method taking one domain name: run it, announce changes, reply (now, or
 * for jop through on_op_done when its job ends). */
static int run_one_arg(sd_bus_message *m, TvBusService *svc, OneArgOp op, OneArgJobOp jop, TvAuthLevel level,
                       sd_bus_message_handler_t self, sd_bus_error *e)
{
        TvError err = { 0 };
        const char *domain;
        TvDaemon *d = svc->d;
        int r = tv_authorize(&svc->authz, m, level, self, svc, e);

        if (r <= 0)
                return r < 0 ? r : 1; /* denied, or parked until polkit answers */
        r = sd_bus_message_read(m, "s", &domain);
        if (r < 0)
                return r;
        d->caller = tv_authorize_caller(&svc->authz);
        r = jop ? jop(d, domain, on_op_done, sd_bus_message_ref(m), &err) : op(d, domain, &err);
        return answer(svc, m, r, jop != NULL, &err);
}

static int method_repair(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_one_arg(m, userdata, NULL, tv_daemon_repair, TV_AUTH_MANAGE, method_repair, e);
}

static int method_domain_started(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_one_arg(m, userdata, tv_daemon_domain_started, NULL, TV_AUTH_ROOT, method_domain_started, e);
}

static int method_check(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = ((TvBusService *)userdata)->d;
        sd_bus_message *reply = NULL;
        TvError err = { 0 };
        TvCheck *checks = NULL;
        const char *domain;
        size_t n = 0;
        int r = sd_bus_message_read(m, "s", &domain);

        if (r < 0)
                return r;
        if (tv_host_check(d, domain, &checks, &n, &err) < 0)
                return reply_error(m, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssss)", checks[i].item, checks[i].status, checks[i].detail,
                                          checks[i].fix);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        tv_checks_free(checks, n);
        return r;
}

static int method_host_overlay(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = ((TvBusService *)userdata)->d;
        const TvCatalogDevice **devs = NULL;
        TvError err = { 0 };
        char **names = NULL, *dts = NULL;
        size_t n = 0;
        int r = sd_bus_message_read_strv(m, &names);

        if (r < 0)
                return r;
        for (char **p = names; p && *p; p++)
                n++;
        devs = calloc(n ? n : 1, sizeof(*devs));
        if (!devs)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                devs[i] = tv_daemon_resolve(d, names[i], &err);
                if (!devs[i])
                        r = -1;
        }
        if (r >= 0 && n == 0)
                r = tv_error_set(&err, TV_ERR_INVALID_ARGUMENT, "name at least one device");
        if (r >= 0)
                r = tv_host_overlay_dts(devs, n, &dts, &err);
        if (r >= 0)
                r = sd_bus_reply_method_return(m, "s", dts);
        else if (err.name)
                r = reply_error(m, &err);
        for (char **p = names; p && *p; p++)
                free(*p);
        free(names);
        free(devs);
        free(dts);
        return r;
}

static int method_release(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_one_arg(m, userdata, NULL, tv_daemon_release_async, TV_AUTH_ROOT, method_release, e);
}

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
                        sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "u", TV_API_VERSION);
}

static int prop_soc(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = ((TvBusService *)userdata)->d;

        return sd_bus_message_append(reply, "s", d->catalog->soc);
}

static int prop_unsafe(sd_bus *bus, const char *path, const char *iface, const char *prop,
                       sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "s", tv_daemon_unsafe_interrupts(((TvBusService *)userdata)->d));
}

/* Reading is open to all; changing methods authorize themselves (authorize.c: root or polkit). */
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "u", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Soc", "s", prop_soc, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UnsafeInterrupts", "s", prop_unsafe, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssss)", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AssignDevice", SD_BUS_ARGS("s", domain, "s", device), SD_BUS_NO_RESULT,
                                method_assign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnassignDevice", SD_BUS_ARGS("s", domain, "s", device), SD_BUS_NO_RESULT,
                                method_unassign, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAssignments", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", assignments),
                                method_list_assignments, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PrepareDomain", SD_BUS_ARGS("s", domain, "s", domain_xml), SD_BUS_NO_RESULT,
                                method_prepare, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReleaseDomain", SD_BUS_ARGS("s", domain), SD_BUS_NO_RESULT, method_release,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DomainStarted", SD_BUS_ARGS("s", domain), SD_BUS_NO_RESULT, method_domain_started,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RepairDomain", SD_BUS_ARGS("s", domain), SD_BUS_NO_RESULT, method_repair,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("HostOverlay", SD_BUS_ARGS("as", devices), SD_BUS_RESULT("s", dts),
                                method_host_overlay, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckHost", SD_BUS_ARGS("s", domain), SD_BUS_RESULT("a(ssss)", checks), method_check,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* ---- Device1 ---- */

/* Objects: the catalog devices, then the GPIO line groups (same namespace). */
static size_t n_objects(const TvCatalog *c)
{
        return c->n_devices + c->n_line_groups;
}

static const char *object_name(const TvCatalog *c, size_t i)
{
        return i < c->n_devices ? c->devices[i].name : c->line_groups[i - c->n_devices].name;
}

static bool catalog_has_object(const TvCatalog *c, const char *name)
{
        return tv_catalog_find_line_group(c, name) ||
               (tv_catalog_find(c, name) && strcmp(tv_catalog_find(c, name)->name, name) == 0);
}

/* A line group holds nothing on the host yet: assigned or available. */
static const char *group_state(TvDaemon *d, const TvLineGroup *g)
{
        return *tv_daemon_line_group_domain(d, g) ? TV_STATE_ASSIGNED : TV_STATE_AVAILABLE;
}

static int device_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
                       sd_bus_error *e)
{
        TvBusService *svc = userdata;
        TvDaemon *d = svc->d;
        const TvCatalogDevice *dev;
        char *name = NULL;
        int r = sd_bus_path_decode(path, TV_DEVICE_PATH_PREFIX, &name);

        if (r <= 0)
                return 0;
        dev = tv_catalog_find(d->catalog, name);
        /* only the short name is an object label, never the platform id */
        if (dev && strcmp(dev->name, name) != 0)
                dev = NULL;
        if (!dev) {
                const TvLineGroup *g = tv_catalog_find_line_group(d->catalog, name);
                size_t i = g ? d->catalog->n_devices + (size_t)(g - d->catalog->line_groups) : SIZE_MAX;

                free(name);
                if (i >= svc->n_devices)
                        return 0;
                *found = &svc->devices[i];
                return 1;
        }
        free(name);
        if ((size_t)(dev - d->catalog->devices) >= svc->n_devices)
                return 0;
        *found = &svc->devices[dev - d->catalog->devices];
        return 1;
}

static int device_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *e)
{
        TvDaemon *d = ((TvBusService *)userdata)->d;
        char **v = calloc(n_objects(d->catalog) + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n_objects(d->catalog); i++) {
                int r = sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, object_name(d->catalog, i), &v[i]);

                if (r < 0) {
                        for (size_t k = 0; k < i; k++)
                                free(v[k]);
                        free(v);
                        return r;
                }
        }
        *nodes = v;
        return 0;
}

/* Device1 property getters get the device's TvBusDevice as userdata (device_find). */
#define DEV (((const TvBusDevice *)userdata)->dev)
#define GROUP (((const TvBusDevice *)userdata)->group)
#define DAEMON (((const TvBusDevice *)userdata)->svc->d)

/* A line group's strings: no platform device, kind gpio-lines, its controller's name. */
static const char *group_string(TvDaemon *d, const TvLineGroup *g, const char *prop)
{
        const char *domain = tv_daemon_line_group_domain(d, g);

        if (strcmp(prop, "Name") == 0)
                return g->name;
        if (strcmp(prop, "Kind") == 0)
                return TV_KIND_GPIO_LINES;
        if (strcmp(prop, "Description") == 0)
                return g->description ? g->description : "";
        if (strcmp(prop, "State") == 0)
                return group_state(d, g);
        if (strcmp(prop, "Domain") == 0)
                return domain;
        if (strcmp(prop, "DomainDrift") == 0)
                return *domain ? tv_daemon_domain_drift(d, domain) : "";
        if (strcmp(prop, "Controller") == 0)
                return g->controller;
        return ""; /* PlatformId */
}

static int prop_dev_string(sd_bus *bus, const char *path, const char *iface, const char *prop,
                           sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        const char *v = "";

        if (GROUP)
                return sd_bus_message_append(reply, "s", group_string(DAEMON, GROUP, prop));
        if (strcmp(prop, "Name") == 0)
                v = DEV->name;
        else if (strcmp(prop, "PlatformId") == 0)
                v = DEV->platform_id;
        else if (strcmp(prop, "Kind") == 0)
                v = DEV->kind;
        else if (strcmp(prop, "Description") == 0)
                v = DEV->description ? DEV->description : "";
        else if (strcmp(prop, "State") == 0)
                v = tv_daemon_device_state(DAEMON, DEV, NULL, NULL);
        else if (strcmp(prop, "Domain") == 0)
                v = tv_daemon_device_domain(DAEMON, DEV);
        else if (strcmp(prop, "DomainDrift") == 0)
                v = *tv_daemon_device_domain(DAEMON, DEV) ?
                            tv_daemon_domain_drift(DAEMON, tv_daemon_device_domain(DAEMON, DEV)) : "";
        return sd_bus_message_append(reply, "s", v);
}

static int prop_dev_driver(sd_bus *bus, const char *path, const char *iface, const char *prop,
                           sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        const char *drv = NULL;

        if (!GROUP)
                tv_daemon_device_state(DAEMON, DEV, &drv, NULL);
        return sd_bus_message_append(reply, "s", drv ? drv : "");
}

static int prop_dev_group(sd_bus *bus, const char *path, const char *iface, const char *prop,
                          sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "i", GROUP ? -1 : (int32_t)tv_daemon_host_view(DAEMON, DEV)->group);
}

static int append_refs(sd_bus_message *reply, const TvBpmpRef *refs, size_t n)
{
        int r = sd_bus_message_open_container(reply, 'a', "(us)");

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(us)", refs[i].id, refs[i].name);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_dev_refs(sd_bus *bus, const char *path, const char *iface, const char *prop,
                         sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        if (GROUP)
                return append_refs(reply, NULL, 0);
        if (strcmp(prop, "Clocks") == 0)
                return append_refs(reply, DEV->clocks, DEV->n_clocks);
        if (strcmp(prop, "Resets") == 0)
                return append_refs(reply, DEV->resets, DEV->n_resets);
        return append_refs(reply, DEV->power_domains, DEV->n_power_domains);
}

static int prop_dev_hazards(sd_bus *bus, const char *path, const char *iface, const char *prop,
                            sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        static char *none[] = { NULL };

        if (GROUP)
                return sd_bus_message_append_strv(reply, none);
        return sd_bus_message_append_strv(reply, DEV->hazards ? DEV->hazards : none);
}

/* Controller: a line group's GPIO controller, "" for a device. */
static int prop_dev_controller(sd_bus *bus, const char *path, const char *iface, const char *prop,
                               sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "s", GROUP ? GROUP->controller : "");
}

/* Lines: (offset on the controller, the guest's name, the host's name) in the guest's order. */
static int prop_dev_lines(sd_bus *bus, const char *path, const char *iface, const char *prop,
                          sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        int r = sd_bus_message_open_container(reply, 'a', "(uss)");

        for (size_t i = 0; r >= 0 && GROUP && i < GROUP->n_lines; i++)
                r = sd_bus_message_append(reply, "(uss)", GROUP->lines[i].offset, GROUP->lines[i].name,
                                          GROUP->lines[i].port ? GROUP->lines[i].port : "");
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PlatformId", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Description", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Domain", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Driver", "s", prop_dev_driver, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DomainDrift", "s", prop_dev_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuGroup", "i", prop_dev_group, 0, 0),
        SD_BUS_PROPERTY("Clocks", "a(us)", prop_dev_refs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Resets", "a(us)", prop_dev_refs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PowerDomains", "a(us)", prop_dev_refs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hazards", "as", prop_dev_hazards, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Controller", "s", prop_dev_controller, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Lines", "a(uss)", prop_dev_lines, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

/* ---- change announcements ---- */

static bool update(char **slot, const char *now)
{
        if (*slot && strcmp(*slot, now) == 0)
                return false;
        free(*slot);
        *slot = strdup(now);
        return true;
}

void tv_bus_emit_changes(TvBusService *svc)
{
        TvDaemon *d = svc->d;

        for (size_t i = 0; i < svc->n_devices; i++) {
                const TvCatalogDevice *dev = svc->devices[i].dev;
                const TvLineGroup *g = svc->devices[i].group;
                TvBusDevice *s = &svc->devices[i];
                const char *drv = NULL;
                char *path = NULL;
                const char *state = g ? group_state(d, g) : tv_daemon_device_state(d, dev, &drv, NULL);
                const char *names[5], *domain = g ? tv_daemon_line_group_domain(d, g) : tv_daemon_device_domain(d, dev);
                size_t n = 0;

                if (update(&s->state, state))
                        names[n++] = "State";
                if (update(&s->domain, domain))
                        names[n++] = "Domain";
                if (update(&s->drift, *domain ? tv_daemon_domain_drift(d, domain) : ""))
                        names[n++] = "DomainDrift";
                if (update(&s->driver, drv ? drv : ""))
                        names[n++] = "Driver";
                names[n] = NULL;
                if (n == 0 || !svc->bus ||
                    sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, g ? g->name : dev->name, &path) < 0)
                        continue;
                sd_bus_emit_properties_changed_strv(svc->bus, path, TV_DEVICE_IFACE, (char **)names);
                free(path);
        }
}

static int emit_object(TvBusService *svc, const char *name, bool added)
{
        char *path = NULL;
        int r = sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, name, &path);

        if (r < 0)
                return r;
        r = added ? sd_bus_emit_object_added(svc->bus, path) : sd_bus_emit_object_removed(svc->bus, path);
        free(path);
        return r;
}

static void free_devices(TvBusDevice *devs, size_t n)
{
        for (size_t i = 0; devs && i < n; i++) {
                free(devs[i].state);
                free(devs[i].domain);
                free(devs[i].driver);
                free(devs[i].drift);
        }
        free(devs);
}

/* One Device1 object per catalog device, with the values last announced (none yet). */
static TvBusDevice *new_devices(TvBusService *svc, const TvCatalog *catalog)
{
        TvBusDevice *devs = calloc(n_objects(catalog) ? n_objects(catalog) : 1, sizeof(*devs));

        for (size_t i = 0; devs && i < catalog->n_devices; i++)
                devs[i] = (TvBusDevice){ .svc = svc, .dev = &catalog->devices[i] };
        for (size_t i = 0; devs && i < catalog->n_line_groups; i++)
                devs[catalog->n_devices + i] = (TvBusDevice){ .svc = svc, .group = &catalog->line_groups[i] };
        return devs;
}

/* A reload is about to replace the catalog: the objects of its devices are made first. */
static int on_catalog_prepare(void *userdata, const TvCatalog *fresh)
{
        TvBusService *svc = userdata;

        free_devices(svc->fresh, 0);
        svc->fresh = new_devices(svc, fresh);
        return svc->fresh ? 0 : -ENOMEM;
}

/* The catalog and config were reloaded (SIGHUP): devices that vanished or appeared are
 * announced through the ObjectManager, PrivilegedGroup= applies from now on. */
static void on_reloaded(void *userdata, const TvCatalog *old)
{
        TvBusService *svc = userdata;
        TvDaemon *d = svc->d;

        for (size_t i = 0; i < n_objects(old); i++)
                if (!catalog_has_object(d->catalog, object_name(old, i)))
                        emit_object(svc, object_name(old, i), false);
        free_devices(svc->devices, svc->n_devices);
        svc->devices = svc->fresh;
        svc->n_devices = n_objects(d->catalog);
        svc->fresh = NULL;
        tv_authorize_set_group(&svc->authz, d->config.privileged_group);
        for (size_t i = 0; i < n_objects(d->catalog); i++)
                if (!catalog_has_object(old, object_name(d->catalog, i)))
                        emit_object(svc, object_name(d->catalog, i), true);
        tv_bus_emit_changes(svc);
}

/* libvirt told the daemon about a domain: its devices' Domain or DomainDrift may have changed. */
static void on_changed(void *userdata)
{
        tv_bus_emit_changes(userdata);
}

int tv_bus_service_start(TvBusService *svc, TvDaemon *d, sd_bus *bus)
{
        int r;

        *svc = (TvBusService){ .d = d, .bus = bus };
        tv_authz_init(&svc->authz);
        tv_authorize_set_group(&svc->authz, d->config.privileged_group);
        svc->devices = new_devices(svc, d->catalog);
        if (!svc->devices)
                return -ENOMEM;
        svc->n_devices = n_objects(d->catalog);
        d->hooks = (TvDaemonHooks){ .catalog_prepare = on_catalog_prepare, .reloaded = on_reloaded,
                                    .changed = on_changed, .userdata = svc };
        r = sd_bus_add_object_manager(bus, NULL, TV_MANAGER_PATH);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, TV_MANAGER_PATH, TV_MANAGER_IFACE, manager_vtable, svc);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, TV_DEVICE_PATH_PREFIX, TV_DEVICE_IFACE, device_vtable,
                                               device_find, svc);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, TV_DEVICE_PATH_PREFIX, device_enumerate, svc);
        if (r < 0)
                return r;
        tv_bus_emit_changes(svc); /* prime the snapshots, nobody listens yet */
        r = sd_bus_request_name(bus, TV_BUS_NAME, 0);
        if (r < 0)
                return r;
        return 0;
}

void tv_bus_service_free(TvBusService *svc)
{
        if (svc->d)
                svc->d->hooks = (TvDaemonHooks){ 0 };
        tv_authorize_flush(&svc->authz);
        free_devices(svc->devices, svc->n_devices);
        free_devices(svc->fresh, 0);
        *svc = (TvBusService){ 0 };
}
