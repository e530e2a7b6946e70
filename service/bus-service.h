/* SPDX-License-Identifier: GPL-2.0-or-later */
/* org.tegravirt on the bus: Manager1 at /org/tegravirt, Device1 per catalog device. */
#pragma once
#include "daemon.h"
#include "libvirt-conn.h"

/* Registers the vtables, the object manager and takes the bus name. */
int tv_bus_service_start(TvDaemon *d);
/* Announces State/Domain/Driver changes since the last call (PropertiesChanged). */
void tv_bus_emit_changes(TvDaemon *d);
/* libvirt define/undefine events (TvDomainEventFn). */
void tv_bus_on_domain_event(void *userdata, const char *domain, enum TvDomainEvent event);
/* Reloads config and catalog (SIGHUP); devices that appear or vanish are
 * announced through the ObjectManager. Refuses to drop a device in use. */
int tv_bus_reload(TvDaemon *d, TvError *err);
