/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Public names of the tegravirt D-Bus API v1, shared by the daemon and its clients. */
#pragma once

#define TV_BUS_NAME             "org.tegravirt"
#define TV_MANAGER_PATH         "/org/tegravirt"
#define TV_DEVICE_PATH_PREFIX   "/org/tegravirt/device"
#define TV_MANAGER_IFACE        "org.tegravirt.Manager1"
#define TV_DEVICE_IFACE         "org.tegravirt.Device1"

/* Minor API level inside Manager1, exposed as the Version property. */
#define TV_API_VERSION          1u

#define TV_ERR_NO_SUCH_DEVICE   "org.tegravirt.Error.NoSuchDevice"
#define TV_ERR_DEVICE_BUSY      "org.tegravirt.Error.DeviceBusy"
#define TV_ERR_DOMAIN_BUSY      "org.tegravirt.Error.DomainBusy"
#define TV_ERR_INVALID_ARGUMENT "org.tegravirt.Error.InvalidArgument"
#define TV_ERR_HOST_NOT_READY   "org.tegravirt.Error.HostNotReady"
#define TV_ERR_FAILED           "org.tegravirt.Error.Failed"
#define TV_ERR_NOT_SUPPORTED    "org.tegravirt.Error.NotSupported"

/* Device states (Device1.State, 4th field of ListDevices). */
#define TV_STATE_AVAILABLE      "available"   /* on its host driver, not assigned */
#define TV_STATE_ASSIGNED       "assigned"    /* assigned to a domain, still on its host driver */
#define TV_KIND_GPIO_LINES      "gpio-lines"  /* Device1 Kind of a GPIO line group */
#define TV_STATE_ACTIVE         "active"      /* bound to vfio-platform for its domain */
#define TV_STATE_TRANSITION     "transition"  /* a recorded step did not finish (reconciled at start) */
#define TV_STATE_FOREIGN        "foreign"     /* bound to vfio-platform by someone else */
#define TV_STATE_MISSING        "missing"     /* in the catalog, absent from sysfs */

/* XML namespace of tegravirt's elements in a libvirt domain definition
 * (tegravirt-domain-metadata(5)); the hook looks for it, the daemon writes it. */
#define TV_DOMAIN_NS            "https://tegravirt.org/ns/domain/1"

#define TV_VFIO_DRIVER          "vfio-platform"
