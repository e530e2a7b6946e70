// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl list, tegravirtctl assignments. */
#include "tegravirtctl.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tv-names.h"

/* Lists of structs whose members are all strings, read from an a(s...s) reply: each
 * struct is described by the offsets of its string members, in the reply's order. */
typedef struct RowShape {
        const char *member;             /* the Manager1 method */
        const char *contents;           /* "(sssss)" */
        const char *fields;             /* "sssss" */
        const size_t *offsets;
        size_t nfields, item_size;
} RowShape;

static const size_t device_offsets[] = { offsetof(CtlDevice, name), offsetof(CtlDevice, platform_id),
                                         offsetof(CtlDevice, kind), offsetof(CtlDevice, state),
                                         offsetof(CtlDevice, domain) };
static const RowShape device_shape = { "ListDevices", "(sssss)", "sssss", device_offsets, 5, sizeof(CtlDevice) };
static const size_t assignment_offsets[] = { offsetof(CtlAssignment, domain), offsetof(CtlAssignment, device) };
static const RowShape assignment_shape = { "ListAssignments", "(ss)", "ss", assignment_offsets, 2, sizeof(CtlAssignment) };

static char **row_field(const RowShape *sh, void *items, size_t i, size_t f)
{
        return (char **)((char *)items + i * sh->item_size + sh->offsets[f]);
}

static void rows_clear(const RowShape *sh, void **items, size_t *n)
{
        for (size_t i = 0; i < *n; i++)
                for (size_t f = 0; f < sh->nfields; f++)
                        free(*row_field(sh, *items, i, f));
        free(*items);
        *items = NULL;
        *n = 0;
}

static int fetch_rows(Ctl *ctl, const RowShape *sh, void **items, size_t *n)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call_manager(ctl, sh->member, &reply, "");
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', sh->contents);
        if (r < 0)
                return ctl_reply_error(sh->member, r);
        while ((r = sd_bus_message_enter_container(reply, 'r', sh->fields)) > 0) {
                void *grown = reallocarray(*items, *n + 1, sh->item_size);

                if (!grown) {
                        rows_clear(sh, items, n);
                        return ctl_oom();
                }
                *items = grown;
                memset((char *)grown + *n * sh->item_size, 0, sh->item_size);
                (*n)++;
                for (size_t f = 0; f < sh->nfields && r > 0; f++) {
                        const char *v;

                        r = sd_bus_message_read_basic(reply, 's', &v);
                        if (r == 0)
                                r = -EBADMSG;   /* the struct ended early */
                        if (r < 0)
                                break;
                        *row_field(sh, grown, *n - 1, f) = strdup(v);
                        if (!*row_field(sh, grown, *n - 1, f)) {
                                rows_clear(sh, items, n);
                                return ctl_oom();
                        }
                }
                if (r > 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
        }
        if (r == 0)     /* the end of the array */
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                rows_clear(sh, items, n);
                return ctl_reply_error(sh->member, r);
        }
        return CTL_EXIT_OK;
}

void ctl_device_list_clear(CtlDeviceList *l)
{
        void *items = l->items;

        rows_clear(&device_shape, &items, &l->n);
        l->items = items;
}

void ctl_assignment_list_clear(CtlAssignmentList *l)
{
        void *items = l->items;

        rows_clear(&assignment_shape, &items, &l->n);
        l->items = items;
}

int ctl_fetch_devices(Ctl *ctl, CtlDeviceList *out)
{
        void *items = out->items;
        int r = fetch_rows(ctl, &device_shape, &items, &out->n);

        out->items = items;
        return r;
}

int ctl_fetch_assignments(Ctl *ctl, CtlAssignmentList *out)
{
        void *items = out->items;
        int r = fetch_rows(ctl, &assignment_shape, &items, &out->n);

        out->items = items;
        return r;
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
