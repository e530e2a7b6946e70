#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The documented introspection XML in dbus/ equals what the running daemon answers,
# and the ObjectManager exposes every catalog device.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon
D="$(dirname "$0")"

busctl --system introspect --xml-interface org.tegravirt /org/tegravirt >"$T/manager.xml"
busctl --system introspect --xml-interface org.tegravirt /org/tegravirt/device/uarta >"$T/device.xml"
check "Manager1 matches dbus/org.tegravirt.Manager1.xml" python3 "$D/introspect-compare.py" \
        "$TV_SOURCE_DIR/dbus/org.tegravirt.Manager1.xml" "$T/manager.xml" org.tegravirt.Manager1
check "Device1 matches dbus/org.tegravirt.Device1.xml" python3 "$D/introspect-compare.py" \
        "$TV_SOURCE_DIR/dbus/org.tegravirt.Device1.xml" "$T/device.xml" org.tegravirt.Device1
check "documented XML is well-formed" xmllint --noout "$TV_SOURCE_DIR/dbus/org.tegravirt.Manager1.xml" "$TV_SOURCE_DIR/dbus/org.tegravirt.Device1.xml"
check "/org/tegravirt implements ObjectManager" grep -q org.freedesktop.DBus.ObjectManager "$T/manager.xml"

objs=$(busctl --system call org.tegravirt /org/tegravirt org.freedesktop.DBus.ObjectManager GetManagedObjects)
count=$(grep -o '"/org/tegravirt/device/[^"]*"' <<<"$objs" | sort -u | wc -l)
ndev=$(( $(grep -c '<device ' "$TV_CATALOG") + $(grep -c '<line-group ' "$TV_CATALOG") ))
check "GetManagedObjects has one object per catalog device and line group ($count/$ndev)" test "$count" = "$ndev"
check "the platform id is not an object path alias" bash -c "! busctl --system introspect org.tegravirt /org/tegravirt/device/3100000.serial >/dev/null 2>&1"

# PropertiesChanged on assignment, InterfacesAdded on a catalog reload
busctl --system monitor --match "type='signal',sender='org.tegravirt'" >"$T/signals" 2>&1 &
MON=$!
sleep 0.5
expect_ok AssignDevice string:vm1 string:uarta || not_ok assign
cat >"$T/catalog.d/50-uartb.xml" <<XML
<?xml version="1.0"?>
<catalog xmlns="https://tegravirt.org/ns/catalog/1" soc="tegra234">
  <device name="uartb-test" platform-id="3110000.serial" kind="serial">
    <description>test addition</description>
    <reg base="0x03110000" size="0x10000"/>
    <interrupt spi="113"/>
    <guest><compatible>nvidia,tegra194-hsuart</compatible></guest>
  </device>
</catalog>
XML
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q InterfacesAdded "$T/signals" || true
rm "$T/catalog.d/50-uartb.xml"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q InterfacesRemoved "$T/signals" || true
sleep 0.3
kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null || true
check "PropertiesChanged announced uarta's new Domain" grep -q "PropertiesChanged" "$T/signals"
check "a catalog addition appears through InterfacesAdded" grep -q "InterfacesAdded" "$T/signals"
check "and disappears through InterfacesRemoved" grep -q "InterfacesRemoved" "$T/signals"
check "the reload left uarta assigned" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q uarta"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
