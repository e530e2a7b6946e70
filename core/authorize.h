/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may call what. Root (uid 0: the libvirt hook, admins with sudo) is always
 * allowed; everyone else goes through polkit's CheckAuthorization for the
 * method's action, asynchronously: the call is parked and run again when polkit
 * answers, so other clients are served meanwhile. No polkit means denied.
 */
#pragma once
#include <systemd/sd-bus.h>

#define TV_ACTION_MANAGE "org.tegravirt.manage"

typedef enum TvAuthLevel {
        TV_AUTH_MANAGE,         /* root, or polkit says yes to TV_ACTION_MANAGE */
        TV_AUTH_ROOT,           /* root only (PrepareDomain, ReleaseDomain: the hook) */
} TvAuthLevel;

/* 1: go on. 0: parked; the handler must return 1 now and will be called again.
 * <0: denied, error set (org.freedesktop.DBus.Error.AccessDenied or
 * InteractiveAuthorizationRequired); the handler returns it. */
int tv_authorize(sd_bus_message *m, TvAuthLevel level, sd_bus_message_handler_t handler, void *userdata,
                 sd_bus_error *error);
/* The uid of the caller tv_authorize last allowed: the current call's, right after it returned 1. */
uid_t tv_authorize_caller(void);
/* Members of this group (PrivilegedGroup=) may do what org.tegravirt.manage allows
 * without asking polkit. NULL: nobody. */
void tv_authorize_set_group(const char *group);
/* Drops parked calls (shutdown). */
void tv_authorize_flush(void);
