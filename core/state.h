/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persistent record of assignments (device -> domain) and bindings (what we
 * changed on the host), in <state-dir>/state. Replaced atomically on every
 * change and always written *before* the host is touched.
 */
#pragma once
#include <stddef.h>
#include "hostdev.h"
#include "tv-error.h"

#define TV_STATE_FILE           "state"
#define TV_STATE_MAX_BYTES      (256 * 1024)
#define TV_STATE_MAX_ENTRIES    1024

typedef struct TvStateEntry {
        char *device;           /* catalog short name */
        char *platform_id;      /* kept so a record survives catalog edits */
        char *domain;           /* NULL when unassigned */
        TvBinding binding;
} TvStateEntry;

typedef struct TvState {
        int dir_fd;
        TvStateEntry *entries;
        size_t n_entries;
} TvState;

/* Opens (creating if needed, mode 0700) the state directory and loads the record. */
int tv_state_open(TvState *s, const char *dir, TvError *err);
/* Parses a state document into s (entries only; dir_fd untouched). */
int tv_state_parse_buffer(const char *buf, size_t len, TvState *s, TvError *err);
/* Serializes to a malloc'ed string. */
char *tv_state_format(const TvState *s);
/* Writes the record atomically (temp file, fsync, rename, fsync dir). */
int tv_state_save(TvState *s, TvError *err);
/* The same without the fsyncs, for a record written after the host change it describes:
 * if a power loss keeps the previous (durable) record instead, recovering from that one
 * is harmless (the host drivers are back after the reboot anyway). */
int tv_state_save_nosync(TvState *s, TvError *err);

TvStateEntry *tv_state_find(TvState *s, const char *device);
/* Returns the entry for device, creating an empty one. NULL on OOM. */
TvStateEntry *tv_state_ensure(TvState *s, const char *device, const char *platform_id);
/* Drops entries with no domain and no binding. */
void tv_state_compact(TvState *s);
void tv_state_free(TvState *s);
