// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GPIO line groups as assignments: the record, the conflicts with whole-controller
 * passthrough and with other groups' lines, the host's claims at prepare, and what the
 * domain's GPIO backend (gpio-backend.h) is given and told.
 */
#include "daemon.h"
#include "gpio-chip.h"
#include "log.h"
#include "tv-gpio-cdev.h"
#include "tv-macros.h"
#include "tv-names.h"
#include "tv-quote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tv_daemon_is_line_group_entry(const TvDaemon *d, const TvStateEntry *e)
{
        return strncmp(e->platform_id, TV_LINE_GROUP_PID_PREFIX, strlen(TV_LINE_GROUP_PID_PREFIX)) == 0 ||
               tv_catalog_find_line_group(d->catalog, e->device) != NULL;
}

const char *tv_daemon_line_group_domain(TvDaemon *d, const TvLineGroup *g)
{
        TvStateEntry *e = tv_state_find(&d->state, g->name);

        return e && e->domain ? e->domain : "";
}

size_t tv_daemon_domain_line_groups(TvDaemon *d, const char *domain, const TvLineGroup **out)
{
        size_t n = 0;

        for (size_t i = 0; i < d->state.n_entries && n < d->catalog->n_line_groups; i++) {
                const TvStateEntry *e = &d->state.entries[i];
                const TvLineGroup *g;

                if (e->domain && strcmp(e->domain, domain) == 0 && (g = tv_catalog_find_line_group(d->catalog, e->device)))
                        out[n++] = g;
        }
        return n;
}

/* The first line both groups have, or NULL. */
static const TvGpioLine *shared_line(const TvLineGroup *a, const TvLineGroup *b)
{
        if (strcmp(a->controller, b->controller) != 0)
                return NULL;
        for (size_t i = 0; i < a->n_lines; i++)
                for (size_t j = 0; j < b->n_lines; j++)
                        if (a->lines[i].offset == b->lines[j].offset)
                                return &a->lines[i];
        return NULL;
}

int tv_daemon_controller_lines_check(TvDaemon *d, const TvCatalogDevice *dev, TvError *err)
{
        for (size_t i = 0; i < d->catalog->n_line_groups; i++) {
                const TvLineGroup *g = &d->catalog->line_groups[i];
                const char *owner = tv_daemon_line_group_domain(d, g);

                if (*owner && strcmp(g->controller, dev->name) == 0)
                        return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                            "lines of %s are assigned to domain %s (line group %s), so the controller "
                                            "cannot be passed through whole; unassign %s from %s first",
                                            dev->name, owner, g->name, g->name, owner);
        }
        return 0;
}

int tv_daemon_assign_lines(TvDaemon *d, const char *domain, const TvLineGroup *g, TvError *err)
{
        const TvCatalogDevice *ctl = tv_line_group_controller(d->catalog, g);
        TvStateEntry *e = tv_state_find(&d->state, g->name);
        const char *whole;
        char pid[128];

        if (!ctl)
                return tv_error_set(err, TV_ERR_FAILED, "line group %s: controller %s is not in the catalog", g->name,
                                    g->controller);
        if (e && e->domain) {
                if (strcmp(e->domain, domain) == 0)
                        return 0;
                return tv_error_set(err, TV_ERR_DEVICE_BUSY, "%s is assigned to domain %s; unassign it there first",
                                    g->name, e->domain);
        }
        whole = tv_daemon_device_domain(d, ctl);
        if (*whole)
                return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                    "the lines of %s are on %s, which is passed through whole to domain %s; unassign "
                                    "%s from %s first",
                                    g->name, ctl->name, whole, ctl->name, whole);
        for (size_t i = 0; i < d->catalog->n_line_groups; i++) {
                const TvLineGroup *o = &d->catalog->line_groups[i];
                const char *owner = tv_daemon_line_group_domain(d, o);
                const TvGpioLine *l;

                if (o == g || !*owner || !(l = shared_line(g, o)))
                        continue;
                if (strcmp(owner, domain) == 0)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "line %u (%s) of %s is already domain %s's through line group %s",
                                            (unsigned)l->offset, l->name, ctl->name, domain, o->name);
                return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                    "line %u (%s) of %s is in line group %s, assigned to domain %s; unassign %s "
                                    "there first",
                                    (unsigned)l->offset, l->name, ctl->name, o->name, owner, o->name);
        }
        snprintf(pid, sizeof(pid), TV_LINE_GROUP_PID_PREFIX "%s", ctl->platform_id);
        e = tv_state_ensure(&d->state, g->name, pid);
        if (!e)
                return tv_error_oom(err);
        e->domain = strdup(domain);
        if (!e->domain || tv_state_save(&d->state, err) < 0) {
                bool oom = !e->domain;

                free(e->domain);
                e->domain = NULL;
                tv_state_compact(&d->state);
                return oom ? tv_error_oom(err) : -1;
        }
        tv_audit(&(TvAudit){ "assign", domain, g->name, pid, d->caller }, "assigned %zu line(s) of %s", g->n_lines,
                 ctl->name);
        return 0;
}

int tv_daemon_unassign_lines(TvDaemon *d, const char *domain, const TvLineGroup *g, TvError *err)
{
        TvStateEntry *e = tv_state_find(&d->state, g->name);
        char *old;

        if (!e || !e->domain)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s is not assigned to any domain", g->name);
        if (strcmp(e->domain, domain) != 0)
                return tv_error_set(err, TV_ERR_DEVICE_BUSY, "%s is assigned to domain %s, not %s", g->name, e->domain,
                                    domain);
        old = e->domain;
        e->domain = NULL;
        if (tv_state_save(&d->state, err) < 0) {
                e->domain = old;
                return -1;
        }
        free(old);
        tv_audit(&(TvAudit){ "unassign", domain, g->name, e->platform_id, d->caller }, "unassigned");
        tv_state_compact(&d->state);
        return 0;
}

int tv_daemon_line_group_hazard(TvDaemon *d, const TvLineGroup *g, TvError *err)
{
        const TvCatalogDevice *ctl = tv_line_group_controller(d->catalog, g);
        const TvHostView *v;
        TvGpioLineUse use[TV_LINE_GROUP_MAX_LINES];
        uint32_t offsets[TV_LINE_GROUP_MAX_LINES], n_lines = 0;
        char ours[32];  /* the consumer our backend sets: "tegravirt:<domain>", cut like the kernel's */
        int chip, r;

        if (!ctl)
                return tv_error_set(err, TV_ERR_FAILED, "line group %s: controller %s is not in the catalog", g->name,
                                    g->controller);
        v = tv_daemon_host_view(d, ctl);
        if (!v->present)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s (%s), the controller of line group %s, is not on "
                                    "this host", ctl->name, ctl->platform_id, g->name);
        if (!v->driver || strcmp(v->driver, TV_VFIO_DRIVER) == 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "%s (%s), the controller of line group %s, is not on its host driver (%s): a line "
                                    "group needs the host to keep the controller; leave it out of the host overlay "
                                    "(tegravirtctl host-overlay) and reboot",
                                    ctl->name, ctl->platform_id, g->name, v->driver ? v->driver : "none bound");
        r = tv_gpio_chip_index(&d->host, ctl->platform_id, &chip);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s (%s) on %s has no gpiochip: %s", ctl->name,
                                    ctl->platform_id, v->driver, strerror(-r));
        for (size_t i = 0; i < g->n_lines; i++)
                offsets[i] = g->lines[i].offset;
        r = tv_gpio_lines_use(&d->host, chip, offsets, g->n_lines, use, &n_lines);
        if (r == -EINVAL && n_lines)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "line group %s names lines beyond the %u of /dev/gpiochip%d (%s): the catalog does "
                                    "not fit this kernel",
                                    g->name, (unsigned)n_lines, chip, ctl->name);
        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot read the lines of /dev/gpiochip%d (%s): %s", chip,
                                    ctl->name, strerror(-r));
        /* what the domain's own backend requested is not the host's */
        snprintf(ours, sizeof(ours), "tegravirt:%s", tv_daemon_line_group_domain(d, g));
        if (!tv_backend_pid(&d->gpio_backends, tv_daemon_line_group_domain(d, g)))
                ours[0] = 0;
        for (size_t i = 0; i < g->n_lines; i++) {
                char who[48];

                if (!use[i].used || (ours[0] && strcmp(use[i].consumer, ours) == 0))
                        continue;
                tv_quote(who, sizeof(who), use[i].consumer, (size_t)-1, 32, TV_QUOTE_ASCII | TV_QUOTE_LINE);
                return tv_error_set(err, TV_ERR_DEVICE_BUSY,
                                    "line %u (%s%s%s) of %s is used by the host (consumer \"%s\"); free it there "
                                    "(the driver or device-tree node that requests it) or take it out of line group %s",
                                    (unsigned)g->lines[i].offset, g->lines[i].name, g->lines[i].port ? ", " : "",
                                    g->lines[i].port ? g->lines[i].port : "", ctl->name, who, g->name);
        }
        return 0;
}

int tv_daemon_prepare_lines_check(TvDaemon *d, const char *domain, TvError *err)
{
        /* the host's claims first: they are what the admin can fix now */
        for (size_t i = 0; i < d->catalog->n_line_groups; i++) {
                const TvLineGroup *g = &d->catalog->line_groups[i];

                if (strcmp(tv_daemon_line_group_domain(d, g), domain) == 0 && tv_daemon_line_group_hazard(d, g, err) < 0)
                        return -1;
        }
        return 0;
}

bool tv_daemon_domain_has_lines(TvDaemon *d, const char *domain)
{
        for (size_t i = 0; i < d->catalog->n_line_groups; i++)
                if (strcmp(tv_daemon_line_group_domain(d, &d->catalog->line_groups[i]), domain) == 0)
                        return true;
        return false;
}

bool tv_daemon_gpio_backend_running(void *userdata, const char *domain)
{
        return tv_daemon_domain_has_lines(userdata, domain);
}

/* Opens the controller's gpiochip (a character device, or orin-sim's socket): fd or -1 (err). */
static int open_chip(TvDaemon *d, const TvCatalogDevice *ctl, TvError *err)
{
        _cleanup_free_ char *path = NULL;
        int chip, fd, r = tv_gpio_chip_index(&d->host, ctl->platform_id, &chip);

        if (r < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "%s (%s) has no gpiochip: %s", ctl->name,
                                    ctl->platform_id, strerror(-r));
        if (asprintf(&path, "%s/gpiochip%d", d->dev_root, chip) < 0)
                return tv_error_oom(err);
        fd = tv_gpio_chip_open(path);
        if (fd < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot open %s (%s) for the GPIO backend: %s", path,
                                    ctl->name, strerror(-fd));
        return fd;
}

int tv_daemon_gpio_backend_args(void *userdata, const char *domain, TvBackendArgs *a, TvError *err)
{
        TvDaemon *d = userdata;
        _cleanup_free_ const TvLineGroup **groups = calloc(d->catalog->n_line_groups + 1, sizeof(*groups));
        _cleanup_free_ const char **chips = calloc(d->catalog->n_line_groups + 1, sizeof(*chips));
        size_t n, n_chips = 0;

        if (!groups || !chips)
                return tv_error_oom(err);
        n = tv_daemon_domain_line_groups(d, domain, groups);
        if (!n)
                return 1; /* nothing to serve: the domain no longer holds lines */
        for (size_t i = 0; i < n; i++) {
                const TvCatalogDevice *ctl = tv_line_group_controller(d->catalog, groups[i]);
                size_t c = 0;
                int fd;

                if (!ctl)
                        return tv_error_set(err, TV_ERR_FAILED, "line group %s: controller %s is not in the catalog",
                                            groups[i]->name, groups[i]->controller);
                while (c < n_chips && strcmp(chips[c], ctl->name) != 0)
                        c++;
                if (c == n_chips) { /* the backend's chip index c: the order of the --chip-fd */
                        fd = open_chip(d, ctl, err);
                        if (fd < 0)
                                return -1;
                        fd = tv_backend_args_fd(a, fd, true);
                        if (fd < 0)
                                return tv_error_set(err, TV_ERR_FAILED, "too many GPIO controllers for one backend");
                        if (tv_backend_args_add(a, "--chip-fd") < 0 || tv_backend_args_add(a, "%d", fd) < 0)
                                return tv_error_oom(err);
                        chips[n_chips++] = ctl->name;
                }
                for (size_t l = 0; l < groups[i]->n_lines; l++)
                        if (tv_backend_args_add(a, "--line") < 0 ||
                            tv_backend_args_add(a, "%zu:%u:%s", c, (unsigned)groups[i]->lines[l].offset,
                                                groups[i]->lines[l].name) < 0)
                                return tv_error_oom(err);
        }
        return 0;
}

bool tv_daemon_gpio_backend_control(void *userdata, const char *domain, pid_t qemu, const char *line, char *buf,
                                    size_t size)
{
        TvDaemon *d = userdata;
        pid_t pid = tv_gpio_backend_peer_question(line);
        bool ok;
        char what[48];

        if (!pid) {
                tv_quote(what, sizeof(what), line, (size_t)-1, 32, TV_QUOTE_ASCII | TV_QUOTE_LINE);
                tv_log(LOG_WARNING, "gpio-backend: %s: unknown control message \"%s\" ignored", domain, what);
                return false;
        }
        ok = tv_daemon_qemu_peer_ok(d, domain, pid, qemu);
        tv_log(ok ? LOG_INFO : LOG_WARNING, "gpio-backend: %s: %s pid %d%s", domain, ok ? "serves" : "refused",
               (int)pid, ok ? "" : ": not the domain's QEMU");
        snprintf(buf, size, "%s %d\n", ok ? "allow" : "deny", (int)pid);
        return true;
}
