// SPDX-License-Identifier: GPL-2.0-or-later
#include "libvirt-loop.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

typedef struct Watch {
        int id;
        bool is_timer;
        int fd;
        int period_ms;                  /* timers: -1 off, 0 every iteration, >0 period */
        virEventHandleCallback io_cb;
        virEventTimeoutCallback timer_cb;
        void *opaque;
        virFreeCallback ff;
        sd_event_source *source;
        struct Watch *next;
} Watch;

static sd_event *loop;
static Watch *watches;
static Watch *graveyard;        /* removed after the loop stopped: released at finish */
static int next_id = 1;

static Watch *find(int id, bool timer)
{
        for (Watch *w = watches; w; w = w->next)
                if (w->id == id && w->is_timer == timer)
                        return w;
        return NULL;
}

static uint32_t to_epoll(int events)
{
        return (events & VIR_EVENT_HANDLE_READABLE ? EPOLLIN : 0) |
               (events & VIR_EVENT_HANDLE_WRITABLE ? EPOLLOUT : 0);
}

static int from_epoll(uint32_t revents)
{
        return (revents & EPOLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
               (revents & EPOLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
               (revents & EPOLLERR ? VIR_EVENT_HANDLE_ERROR : 0) | (revents & EPOLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Watch *w = userdata;

        w->io_cb(w->id, fd, from_epoll(revents), w->opaque);
        return 0;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
        Watch *w = calloc(1, sizeof(*w));

        if (!w)
                return -1;
        *w = (Watch){ .id = next_id++, .fd = fd, .io_cb = cb, .opaque = opaque, .ff = ff, .next = watches };
        if (sd_event_add_io(loop, &w->source, fd, to_epoll(events), on_io, w) < 0) {
                free(w);
                return -1;
        }
        if (!events)
                sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
        watches = w;
        return w->id;
}

static void update_handle(int id, int events)
{
        Watch *w = find(id, false);

        if (!w)
                return;
        sd_event_source_set_io_events(w->source, to_epoll(events));
        sd_event_source_set_enabled(w->source, events ? SD_EVENT_ON : SD_EVENT_OFF);
}

/* libvirt may free what opaque points to from ff; call it outside the caller's stack */
static int on_release(sd_event_source *s, void *userdata)
{
        Watch *w = userdata;

        if (w->ff)
                w->ff(w->opaque);
        sd_event_source_unref(s);
        free(w);
        return 0;
}

static int remove_watch(int id, bool timer)
{
        Watch **pp, *w;

        for (pp = &watches; *pp; pp = &(*pp)->next)
                if ((*pp)->id == id && (*pp)->is_timer == timer)
                        break;
        if (!*pp)
                return -1;
        w = *pp;
        *pp = w->next;
        w->source = sd_event_source_unref(w->source);
        if (sd_event_add_defer(loop, NULL, on_release, w) < 0) {
                /* the loop has stopped (shutdown); ff may take a lock our caller holds, so never call it here */
                w->next = graveyard;
                graveyard = w;
        }
        return 0;
}

static int remove_handle(int id)
{
        return remove_watch(id, false);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Watch *w = userdata;
        int id = w->id;

        /* re-arm before the callback: it may update or remove this very timer */
        if (w->period_ms > 0) {
                sd_event_source_set_time_relative(s, (uint64_t)w->period_ms * 1000);
                sd_event_source_set_enabled(s, SD_EVENT_ON);
        }
        w->timer_cb(id, w->opaque);
        return 0;
}

static int on_timer_now(sd_event_source *s, void *userdata)
{
        Watch *w = userdata;

        w->timer_cb(w->id, w->opaque);
        return 0;
}

/* A timer is a time source for periods > 0 and a defer source for "every iteration". */
static int arm_timer(Watch *w, int period_ms)
{
        w->source = sd_event_source_unref(w->source);
        w->period_ms = period_ms;
        if (period_ms < 0)
                return 0;
        if (period_ms == 0) {
                if (sd_event_add_defer(loop, &w->source, on_timer_now, w) < 0)
                        return -1;
                return sd_event_source_set_enabled(w->source, SD_EVENT_ON) < 0 ? -1 : 0;
        }
        return sd_event_add_time_relative(loop, &w->source, CLOCK_MONOTONIC, (uint64_t)period_ms * 1000, 0, on_timer,
                                          w) < 0 ? -1 : 0;
}

static int add_timeout(int period_ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
        Watch *w = calloc(1, sizeof(*w));

        if (!w)
                return -1;
        *w = (Watch){ .id = next_id++, .is_timer = true, .timer_cb = cb, .opaque = opaque, .ff = ff };
        if (arm_timer(w, period_ms) < 0) {
                sd_event_source_unref(w->source);
                free(w);
                return -1;
        }
        w->next = watches;
        watches = w;
        return w->id;
}

static void update_timeout(int id, int period_ms)
{
        Watch *w = find(id, true);

        if (w && w->period_ms != period_ms)
                arm_timer(w, period_ms);
}

static int remove_timeout(int id)
{
        return remove_watch(id, true);
}

int tv_libvirt_loop_register(sd_event *event)
{
        loop = event;
        virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout, update_timeout, remove_timeout);
        return 0;
}

void tv_libvirt_loop_finish(void)
{
        while (graveyard) {
                Watch *w = graveyard;

                graveyard = w->next;
                if (w->ff)
                        w->ff(w->opaque);
                free(w);
        }
}
