// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl list, tegravirtctl assignments. */
#include "tegravirtctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tv-names.h"

void ctl_device_list_clear(CtlDeviceList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].platform_id);
                free(l->items[i].kind);
                free(l->items[i].state);
                free(l->items[i].domain);
        }
        free(l->items);
        l->items = NULL;
        l->n = 0;
}

void ctl_assignment_list_clear(CtlAssignmentList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].domain);
                free(l->items[i].device);
        }
        free(l->items);
        l->items = NULL;
        l->n = 0;
}

int ctl_fetch_devices(Ctl *ctl, CtlDeviceList *out)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *pid, *kind, *state, *domain;
        int r;

        r = ctl_call_manager(ctl, "ListDevices", &reply, "");
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssss)");
        if (r < 0)
                return ctl_reply_error("ListDevices", r);
        while ((r = sd_bus_message_read(reply, "(sssss)", &name, &pid, &kind, &state, &domain)) > 0) {
                CtlDevice *items = reallocarray(out->items, out->n + 1, sizeof(*items)), *d;

                if (!items)
                        goto oom;
                out->items = items;
                d = &items[out->n++];
                memset(d, 0, sizeof(*d));
                d->name = strdup(name);
                d->platform_id = strdup(pid);
                d->kind = strdup(kind);
                d->state = strdup(state);
                d->domain = strdup(domain);
                if (!d->name || !d->platform_id || !d->kind || !d->state || !d->domain)
                        goto oom;
        }
        if (r < 0)
                goto bad;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                goto bad;
        return CTL_EXIT_OK;
bad:
        ctl_device_list_clear(out);
        return ctl_reply_error("ListDevices", r);
oom:
        ctl_device_list_clear(out);
        return ctl_oom();
}

int ctl_fetch_assignments(Ctl *ctl, CtlAssignmentList *out)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *domain, *device;
        int r;

        r = ctl_call_manager(ctl, "ListAssignments", &reply, "");
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return ctl_reply_error("ListAssignments", r);
        while ((r = sd_bus_message_read(reply, "(ss)", &domain, &device)) > 0) {
                CtlAssignment *items = reallocarray(out->items, out->n + 1, sizeof(*items)), *a;

                if (!items)
                        goto oom;
                out->items = items;
                a = &items[out->n++];
                memset(a, 0, sizeof(*a));
                a->domain = strdup(domain);
                a->device = strdup(device);
                if (!a->domain || !a->device)
                        goto oom;
        }
        if (r < 0)
                goto bad;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                goto bad;
        return CTL_EXIT_OK;
bad:
        ctl_assignment_list_clear(out);
        return ctl_reply_error("ListAssignments", r);
oom:
        ctl_assignment_list_clear(out);
        return ctl_oom();
}

static void device_row(const void *items, size_t i, const char **cells)
{
        const CtlDevice *d = (const CtlDevice *)items + i;

        cells[0] = d->name;
        cells[1] = d->platform_id;
        cells[2] = d->kind;
        cells[3] = d->state;
        cells[4] = d->domain;
}

int cmd_list(Ctl *ctl, int argc, char **argv)
{
        static const char *const headers[] = { "NAME", "PLATFORM-ID", "KIND", "STATE", "DOMAIN" };
        static const char *const keys[] = { "name", "platform_id", "kind", "state", "domain" };
        _cleanup_(ctl_device_list_clear) CtlDeviceList l = {};
        int r;

        r = ctl_fetch_devices(ctl, &l);
        if (r != CTL_EXIT_OK)
                return r;
        /* an unassigned device's domain is null in JSON */
        return ctl_print_rows(ctl, "devices", 5, headers, keys, 1u << 4, l.items, l.n, device_row);
}

static void assignment_row(const void *items, size_t i, const char **cells)
{
        const CtlAssignment *a = (const CtlAssignment *)items + i;

        cells[0] = a->domain;
        cells[1] = a->device;
}

int cmd_assignments(Ctl *ctl, int argc, char **argv)
{
        static const char *const headers[] = { "DOMAIN", "DEVICE" };
        static const char *const keys[] = { "domain", "device" };
        _cleanup_(ctl_assignment_list_clear) CtlAssignmentList l = {};
        int r;

        r = ctl_fetch_assignments(ctl, &l);
        if (r != CTL_EXIT_OK)
                return r;
        return ctl_print_rows(ctl, "assignments", 2, headers, keys, 0, l.items, l.n, assignment_row);
}
