/* SPDX-License-Identifier: GPL-2.0-or-later */
/* org.tegravirt on the bus: Manager1 at /org/tegravirt, Device1 per catalog device. */
#pragma once
#include <systemd/sd-bus.h>
#include "authorize.h"
#include "daemon.h"

typedef struct TvBusService TvBusService;

/* One Device1 object: what its property getters get, and the values last announced. */
typedef struct TvBusDevice {
        TvBusService *svc;
        const TvCatalogDevice *dev;     /* NULL for a line group */
        const TvLineGroup *group;       /* a GPIO line group's object, else NULL */
        char *state;
        char *domain;
        char *driver;
        char *drift;
} TvBusDevice;

struct TvBusService {
        TvDaemon *d;
        sd_bus *bus;                    /* not owned */
        TvAuthz authz;                  /* parked calls, PrivilegedGroup= */
        TvBusDevice *devices;           /* per catalog device, then per line group */
        size_t n_devices;
        TvBusDevice *fresh;             /* made for the catalog a reload is about to install */
};

/* Registers the vtables, the object manager and the daemon's hooks (reload, domain events),
 * and takes the bus name. */
int tv_bus_service_start(TvBusService *svc, TvDaemon *d, sd_bus *bus);
/* Drops parked calls and the daemon's hooks (shutdown). */
void tv_bus_service_free(TvBusService *svc);
/* Announces State/Domain/Driver/DomainDrift changes since the last call (PropertiesChanged). */
void tv_bus_emit_changes(TvBusService *svc);
