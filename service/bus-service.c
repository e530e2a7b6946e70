// SPDX-License-Identifier: GPL-2.0-or-later
#include "bus-service.h"
#include "authorize.h"
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

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = userdata;
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
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int method_list_assignments(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = userdata;
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

        tv_bus_emit_changes(d);
        if (r < 0)
                reply_error(m, err);
        else
                sd_bus_reply_method_return(m, NULL);
        sd_bus_message_unref(m);
}

typedef int (*TwoArgOp)(TvDaemon *d, const char *a, const char *b, TvError *err);
typedef int (*TwoArgJobOp)(TvDaemon *d, const char *a, const char *b, TvDaemonDoneFn done, void *userdata,
                           TvError *err);

/* op answers now; jop may return 1 and answer through on_op_done when its job ends. */
static int run_two_arg(sd_bus_message *m, TvDaemon *d, TwoArgOp op, TwoArgJobOp jop, TvAuthLevel level,
                       sd_bus_message_handler_t self, sd_bus_error *e)
{
        const char *a, *b;
        TvError err = { 0 };
        int r = tv_authorize(m, level, self, d, e);

        if (r <= 0)
                return r < 0 ? r : 1; /* denied, or parked until polkit answers */
        r = sd_bus_message_read(m, "ss", &a, &b);
        if (r < 0)
                return r;
        d->caller = tv_authorize_caller();
        if (jop) {
                r = jop(d, a, b, on_op_done, sd_bus_message_ref(m), &err);
                if (r == 1) {
                        tv_bus_emit_changes(d);
                        return 1; /* answered when the job ends; the loop serves others meanwhile */
                }
                sd_bus_message_unref(m);
        } else {
                r = op(d, a, b, &err);
        }
        d->caller = TV_CALLER_DAEMON;
        tv_bus_emit_changes(d);
        if (r < 0)
                return reply_error(m, &err);
        return sd_bus_reply_method_return(m, NULL);
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
static int run_one_arg(sd_bus_message *m, TvDaemon *d, OneArgOp op, OneArgJobOp jop, TvAuthLevel level,
                       sd_bus_message_handler_t self, sd_bus_error *e)
{
        TvError err = { 0 };
        const char *domain;
        int r = tv_authorize(m, level, self, d, e);

        if (r <= 0)
                return r < 0 ? r : 1; /* denied, or parked until polkit answers */
        r = sd_bus_message_read(m, "s", &domain);
        if (r < 0)
                return r;
        d->caller = tv_authorize_caller();
        if (jop) {
                r = jop(d, domain, on_op_done, sd_bus_message_ref(m), &err);
                if (r == 1) {
                        tv_bus_emit_changes(d);
                        return 1;
                }
                sd_bus_message_unref(m);
        } else {
                r = op(d, domain, &err);
        }
        d->caller = TV_CALLER_DAEMON;
        tv_bus_emit_changes(d);
        if (r < 0)
                return reply_error(m, &err);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_repair(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        return run_one_arg(m, userdata, NULL, tv_daemon_repair, TV_AUTH_MANAGE, method_repair, e);
}

static int method_check(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = userdata;
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
        TvDaemon *d = userdata;
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
        return run_one_arg(m, userdata, tv_daemon_release, NULL, TV_AUTH_ROOT, method_release, e);
}

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
                        sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "u", TV_API_VERSION);
}

static int prop_soc(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        TvDaemon *d = userdata;

        return sd_bus_message_append(reply, "s", d->catalog->soc);
}

static int prop_unsafe(sd_bus *bus, const char *path, const char *iface, const char *prop,
                       sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "s", tv_daemon_unsafe_interrupts(userdata));
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
        SD_BUS_METHOD_WITH_ARGS("RepairDomain", SD_BUS_ARGS("s", domain), SD_BUS_NO_RESULT, method_repair,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("HostOverlay", SD_BUS_ARGS("as", devices), SD_BUS_RESULT("s", dts),
                                method_host_overlay, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckHost", SD_BUS_ARGS("s", domain), SD_BUS_RESULT("a(ssss)", checks), method_check,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* ---- Device1 ---- */

static int device_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
                       sd_bus_error *e)
{
        TvDaemon *d = userdata;
        const TvCatalogDevice *dev;
        char *name = NULL;
        int r = sd_bus_path_decode(path, TV_DEVICE_PATH_PREFIX, &name);

        if (r <= 0)
                return 0;
        dev = tv_catalog_find(d->catalog, name);
        /* only the short name is an object label, never the platform id */
        if (dev && strcmp(dev->name, name) != 0)
                dev = NULL;
        free(name);
        if (!dev)
                return 0;
        *found = (void *)dev;
        return 1;
}

static int device_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *e)
{
        TvDaemon *d = userdata;
        char **v = calloc(d->catalog->n_devices + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < d->catalog->n_devices; i++) {
                int r = sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, d->catalog->devices[i].name, &v[i]);

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

static TvDaemon *the_daemon; /* property getters get the device as userdata */

#define DEV ((const TvCatalogDevice *)userdata)

static int prop_dev_string(sd_bus *bus, const char *path, const char *iface, const char *prop,
                           sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        const char *v = "";

        if (strcmp(prop, "Name") == 0)
                v = DEV->name;
        else if (strcmp(prop, "PlatformId") == 0)
                v = DEV->platform_id;
        else if (strcmp(prop, "Kind") == 0)
                v = DEV->kind;
        else if (strcmp(prop, "Description") == 0)
                v = DEV->description ? DEV->description : "";
        else if (strcmp(prop, "State") == 0)
                v = tv_daemon_device_state(the_daemon, DEV, NULL, NULL);
        else if (strcmp(prop, "Domain") == 0)
                v = tv_daemon_device_domain(the_daemon, DEV);
        else if (strcmp(prop, "DomainDrift") == 0)
                v = *tv_daemon_device_domain(the_daemon, DEV) ?
                            tv_daemon_domain_drift(the_daemon, tv_daemon_device_domain(the_daemon, DEV)) : "";
        return sd_bus_message_append(reply, "s", v);
}

static int prop_dev_driver(sd_bus *bus, const char *path, const char *iface, const char *prop,
                           sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        const char *drv = NULL;

        tv_daemon_device_state(the_daemon, DEV, &drv, NULL);
        return sd_bus_message_append(reply, "s", drv ? drv : "");
}

static int prop_dev_group(sd_bus *bus, const char *path, const char *iface, const char *prop,
                          sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
        return sd_bus_message_append(reply, "i", (int32_t)tv_daemon_host_view(the_daemon, DEV)->group);
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

        return sd_bus_message_append_strv(reply, DEV->hazards ? DEV->hazards : none);
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

void tv_bus_emit_changes(TvDaemon *d)
{
        for (size_t i = 0; i < d->catalog->n_devices; i++) {
                const TvCatalogDevice *dev = &d->catalog->devices[i];
                TvDeviceSnapshot *s = &d->emitted[i];
                const char *drv = NULL;
                char *path = NULL;
                const char *state = tv_daemon_device_state(d, dev, &drv, NULL);
                const char *names[5], *domain = tv_daemon_device_domain(d, dev);
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
                if (n == 0 || !d->bus || sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, dev->name, &path) < 0)
                        continue;
                sd_bus_emit_properties_changed_strv(d->bus, path, TV_DEVICE_IFACE, (char **)names);
                free(path);
        }
}

static int emit_object(TvDaemon *d, const char *name, bool added)
{
        char *path = NULL;
        int r = sd_bus_path_encode(TV_DEVICE_PATH_PREFIX, name, &path);

        if (r < 0)
                return r;
        r = added ? sd_bus_emit_object_added(d->bus, path) : sd_bus_emit_object_removed(d->bus, path);
        free(path);
        return r;
}

int tv_bus_reload(TvDaemon *d, TvError *err)
{
        TvCatalog *fresh = NULL, *old = d->catalog;
        TvConfig cfg = { 0 };

        if (tv_config_defaults(&cfg) < 0 || tv_config_load(&cfg, d->config_path, err) < 0) {
                tv_config_free(&cfg);
                return tv_error_set(err, TV_ERR_FAILED, "out of memory");
        }
        if (tv_catalog_load(d->catalog_path, d->catalog_dir, &fresh, err) < 0) {
                tv_config_free(&cfg);
                return -1;
        }
        for (size_t i = 0; i < d->state.n_entries; i++) {
                const TvStateEntry *s = &d->state.entries[i];
                const TvCatalogDevice *nd = tv_catalog_find(fresh, s->device);

                if (!nd || strcmp(nd->platform_id, s->platform_id) != 0) {
                        tv_catalog_free(fresh);
                        tv_config_free(&cfg);
                        return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                            "the new catalog drops or moves %s, which is assigned; unassign it first",
                                            s->device);
                }
        }
        for (size_t i = 0; i < old->n_devices; i++)
                if (!tv_catalog_find(fresh, old->devices[i].name))
                        emit_object(d, old->devices[i].name, false);
        tv_daemon_free_views(d);
        d->catalog = fresh;
        if (tv_daemon_alloc_views(d) < 0) {
                d->catalog = old;
                tv_catalog_free(fresh);
                tv_config_free(&cfg);
                tv_daemon_alloc_views(d);
                return tv_error_set(err, TV_ERR_FAILED, "out of memory");
        }
        tv_config_free(&d->config);
        d->config = cfg;
        d->hostdev_config.qemu_user = d->config.qemu_user;
        d->hostdev_config.qemu_group = d->config.qemu_group;
        d->hostdev_config.allow_unsafe_interrupts = d->config.allow_unsafe_interrupts;
        tv_authorize_set_group(d->config.privileged_group);
        for (size_t i = 0; i < fresh->n_devices; i++)
                if (!tv_catalog_find(old, fresh->devices[i].name))
                        emit_object(d, fresh->devices[i].name, true);
        tv_catalog_free(old);
        tv_bus_emit_changes(d);
        return 0;
}

void tv_bus_on_domain_event(void *userdata, const char *domain, TvDomainEvent event)
{
        TvDaemon *d = userdata;

        tv_daemon_domain_event(d, domain, event == TV_DOMAIN_UNDEFINED);
        tv_bus_emit_changes(d);
}

int tv_bus_service_start(TvDaemon *d)
{
        int r;

        the_daemon = d;
        r = sd_bus_add_object_manager(d->bus, NULL, TV_MANAGER_PATH);
        if (r >= 0)
                r = sd_bus_add_object_vtable(d->bus, NULL, TV_MANAGER_PATH, TV_MANAGER_IFACE, manager_vtable, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, TV_DEVICE_PATH_PREFIX, TV_DEVICE_IFACE, device_vtable,
                                               device_find, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(d->bus, NULL, TV_DEVICE_PATH_PREFIX, device_enumerate, d);
        if (r < 0)
                return r;
        tv_bus_emit_changes(d); /* prime the snapshots, nobody listens yet */
        r = sd_bus_request_name(d->bus, TV_BUS_NAME, 0);
        if (r < 0)
                return r;
        return 0;
}
