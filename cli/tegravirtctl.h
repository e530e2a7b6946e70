// SPDX-License-Identifier: GPL-2.0-or-later
/* tegravirtctl: shared declarations of the command-line client. */
#pragma once
#include "tv-limits.h"
#include "tv-macros.h"
#include "tv-strv.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

/* Exit status of the program (see tegravirtctl(1), EXIT STATUS). */
#define CTL_EXIT_OK     0
#define CTL_EXIT_FAIL   1       /* refused or failed: any D-Bus error, no bus, bad reply, I/O */
#define CTL_EXIT_USAGE  2       /* bad command line; the bus was not contacted */

typedef struct Ctl {
        bool json;              /* --json */
        bool legend;            /* table headers; cleared by --no-legend */
        uint64_t timeout_usec;  /* --timeout; 0 keeps the sd-bus default */
        const char *xml_path;   /* prepare --xml FILE|-, NULL when not given */
        sd_bus *bus;            /* connected lazily by ctl_bus() */
} Ctl;

typedef int (*CtlCommandFn)(Ctl *ctl, int argc, char **argv);

/* ---- tegravirtctl.c: bus access and diagnostics ---- */

/* Connects to the system bus on first use. Returns CTL_EXIT_OK or, after
 * printing a message, CTL_EXIT_FAIL. */
int ctl_bus(Ctl *ctl, sd_bus **ret);
/* Calls member on the Manager1 object. Returns CTL_EXIT_OK or, after printing
 * the D-Bus error, CTL_EXIT_FAIL. reply may be NULL. */
int ctl_call_manager(Ctl *ctl, const char *member, sd_bus_message **reply, const char *types, ...);
/* Calls org.freedesktop.DBus.Properties.GetAll(interface) on path. */
int ctl_get_all(Ctl *ctl, const char *path, const char *interface, sd_bus_message **reply);

/* Print "tegravirtctl: ..." on stderr and return the matching exit status. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ctl_fail("out of memory"). */
int ctl_oom(void);
int ctl_bus_error(const sd_bus_error *error, int r);
/* A reply that does not have the shape of API v1. */
int ctl_reply_error(const char *what, int r);

/* Argument checks done before any bus traffic; they print a usage error. */
bool ctl_check_domain(const char *s);
/* Also accepts a device's object path (escaped or not) and rewrites s to the name. */
bool ctl_check_device(char *s);

/* Cleanup: tv-macros.h; sd-bus.h provides sd_bus_message_unrefp() and friends,
 * and sd_bus_error_free() works with _cleanup_ as it is. */

/* ---- output.c: escaping, tables, JSON ---- */

/* A copy of s that is safe to print to a terminal: C0/C1 control characters,
 * DEL and (when strict) every non-ASCII or invalid byte become \xNN; at most
 * max_chars characters are kept (0: no limit), longer input ends in "...". */
char *ctl_escape(const char *s, bool strict, size_t max_chars);

typedef struct CtlTable CtlTable;
CtlTable *ctl_table_new(size_t ncols, const char *const *headers);
/* Adds one row of ncols cells; NULL or "" cells are shown as "-". */
int ctl_table_add(CtlTable *t, const char *const *cells);
size_t ctl_table_rows(const CtlTable *t);
void ctl_table_print(const CtlTable *t, FILE *f, bool legend);
void ctl_table_free(CtlTable *t);
void ctl_table_freep_(CtlTable **t);

/* A list as a table, or with --json as {"<json_key>":[{keys[0]:cell,...},...]}: row()
 * fills the ncols (at most CTL_ROW_MAX) cells of item i; a column whose bit is set in
 * null_if_empty shows "" as null in JSON. Returns an exit status. */
#define CTL_ROW_MAX 8
typedef void (*CtlRowFn)(const void *items, size_t i, const char **cells);
int ctl_print_rows(Ctl *ctl, const char *json_key, size_t ncols, const char *const *headers,
                   const char *const *keys, unsigned null_if_empty, const void *items, size_t n, CtlRowFn row);

/* Minimal streaming JSON writer (compact, one document per line). */
#define CTL_JSON_DEPTH 16
typedef struct CtlJson {
        FILE *f;
        unsigned depth;
        bool first[CTL_JSON_DEPTH];     /* nothing written yet at this level */
        bool after_key;
} CtlJson;

void ctl_json_init(CtlJson *j, FILE *f);
void ctl_json_begin_object(CtlJson *j);
void ctl_json_end_object(CtlJson *j);
void ctl_json_begin_array(CtlJson *j);
void ctl_json_end_array(CtlJson *j);
void ctl_json_key(CtlJson *j, const char *key);
void ctl_json_string(CtlJson *j, const char *s);
/* A string, or null when s is NULL or "". */
void ctl_json_string_or_null(CtlJson *j, const char *s);
void ctl_json_null(CtlJson *j);
void ctl_json_bool(CtlJson *j, bool b);
void ctl_json_int(CtlJson *j, int64_t v);
void ctl_json_uint(CtlJson *j, uint64_t v);
/* Ends the document with a newline. */
void ctl_json_finish(CtlJson *j);
/* Writes the whole document {"ok":true}. */
void ctl_json_ok(FILE *f);

/* ---- cmd-list.c: devices and assignments ---- */

typedef struct CtlDevice {
        char *name;
        char *platform_id;
        char *kind;
        char *state;
        char *domain;           /* "" when unassigned */
} CtlDevice;

typedef struct CtlDeviceList {
        CtlDevice *items;
        size_t n;
} CtlDeviceList;

typedef struct CtlAssignment {
        char *domain;
        char *device;
} CtlAssignment;

typedef struct CtlAssignmentList {
        CtlAssignment *items;
        size_t n;
} CtlAssignmentList;

/* Call ListDevices / ListAssignments; return an exit status (errors printed). */
int ctl_fetch_devices(Ctl *ctl, CtlDeviceList *out);
void ctl_device_list_clear(CtlDeviceList *l);
int ctl_fetch_assignments(Ctl *ctl, CtlAssignmentList *out);
void ctl_assignment_list_clear(CtlAssignmentList *l);

int cmd_list(Ctl *ctl, int argc, char **argv);
int cmd_check(Ctl *ctl, int argc, char **argv);
int cmd_host_overlay(Ctl *ctl, int argc, char **argv);
int cmd_assignments(Ctl *ctl, int argc, char **argv);

/* ---- cmd-status.c ---- */
int cmd_status(Ctl *ctl, int argc, char **argv);

/* ---- cmd-domain.c ---- */
int cmd_assign(Ctl *ctl, int argc, char **argv);
int cmd_unassign(Ctl *ctl, int argc, char **argv);
int cmd_prepare(Ctl *ctl, int argc, char **argv);
int cmd_release(Ctl *ctl, int argc, char **argv);
int cmd_repair(Ctl *ctl, int argc, char **argv);
