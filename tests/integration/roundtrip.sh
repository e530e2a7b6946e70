#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# assign -> prepare -> release round trip on the simulated host; state file at each step.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon

out=$(busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices)
check "ListDevices lists uarta with its platform id and state" grep -q '"uarta" "3100000.serial" "serial" "available" ""' <<<"$out"
check "ListDevices lists the GPU and both GPIO controllers" bash -c "grep -q 17000000.gpu <<<'$out' && grep -q 2200000.gpio <<<'$out' && grep -q c2f0000.gpio <<<'$out'"
check "busctl AssignDevice vm1 uarta" busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 AssignDevice ss vm1 uarta
check "state records the assignment before any host change" grep -q "^device uarta platform-id=3100000.serial domain=vm1 phase=none driver=- override=-$" "$T/state/state"
check "assign changes nothing on the host" test "$(dev_driver 3100000.serial)" = serial-tegra
check "State is assigned" bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarta org.tegravirt.Device1 State | grep -q '\"assigned\"'"
check "assigning again to the same domain is a no-op" expect_ok AssignDevice string:vm1 string:uarta
check "a second domain gets DeviceBusy naming the owner" expect_error DeviceBusy AssignDevice string:vm2 string:uarta
check "  ... and the message names vm1" grep -q "vm1" <<<"$LAST_ERROR"
check "the platform id names the same device" expect_error DeviceBusy AssignDevice string:vm2 string:3100000.serial
check "ListAssignments" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q '\"vm1\" \"uarta\"'"

check "PrepareDomain vm1 (as the hook would, with the domain XML)" expect_ok PrepareDomain string:vm1 "string:<domain type='kvm'><name>vm1</name></domain>"
check "uarta is bound to vfio-platform" test "$(dev_driver 3100000.serial)" = vfio-platform
check "driver_override is vfio-platform" test "$(dev_override 3100000.serial)" = vfio-platform
check "state says bound, original driver serial-tegra" grep -q "^device uarta platform-id=3100000.serial domain=vm1 phase=bound driver=serial-tegra override=-$" "$T/state/state"
check "/dev/vfio/1 handed to nobody:nogroup 0660" grep -q "^vfio 1 owner=$(id -u nobody):$(getent group nogroup | cut -d: -f3) mode=0*660" "$T/mnt/status"
check "Device1 State active, Driver vfio-platform" bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarta org.tegravirt.Device1 State Driver IommuGroup | tr '\n' ' ' | grep -q '\"active\" s \"vfio-platform\" i 1'"
check "unsafe interrupts were enabled because the config allows it and uarta needs it" grep -q "allow_unsafe_interrupts=Y" "$T/mnt/status"
check "PrepareDomain twice is idempotent" expect_ok PrepareDomain string:vm1 string:
check "unassign while active is refused with DeviceBusy" expect_error DeviceBusy UnassignDevice string:vm1 string:uarta
check "PrepareDomain with XML of another domain is refused" expect_error InvalidArgument PrepareDomain string:vm1 "string:<domain><name>vm9</name></domain>"

check "ReleaseDomain vm1" busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ReleaseDomain s vm1
check "serial-tegra is back" test "$(dev_driver 3100000.serial)" = serial-tegra
check "override cleared" test "$(dev_override 3100000.serial)" = -
check "/dev/vfio/1 is gone" bash -c "! grep -q '^vfio 1 ' '$T/mnt/status'"
check "state keeps only the assignment" grep -q "^device uarta platform-id=3100000.serial domain=vm1 phase=none driver=- override=-$" "$T/state/state"
check "ReleaseDomain again is idempotent (libvirt runs release after failed starts)" expect_ok ReleaseDomain string:vm1
check "ReleaseDomain of a domain with nothing assigned succeeds" expect_ok ReleaseDomain string:nothing-here

# a multi-device domain, mixing names and platform ids
check "assign uarti by platform id" expect_ok AssignDevice string:vm1 string:31d0000.serial
check "prepare vm1 with two devices" expect_ok PrepareDomain string:vm1 string:
check "both on vfio-platform" bash -c "[ \"\$(grep '^3100000.serial' $T/mnt/status | grep -c driver=vfio-platform)\" = 1 ] && grep '^31d0000.serial' $T/mnt/status | grep -q driver=vfio-platform"
check "release vm1 with two devices" expect_ok ReleaseDomain string:vm1
check "both back on serial-tegra" bash -c "grep '^31d0000.serial' $T/mnt/status | grep -q driver=serial-tegra && grep '^3100000.serial' $T/mnt/status | grep -q driver=serial-tegra"
check "unassign uarta" expect_ok UnassignDevice string:vm1 string:uarta
check "unassign from the wrong domain is refused" expect_error DeviceBusy UnassignDevice string:vm2 string:uarti
check "unassign uarti" expect_ok UnassignDevice string:vm1 string:uarti
check "state file is empty of records" bash -c "[ \$(grep -c '^device' $T/state/state) = 0 ]"
check "unknown device is NoSuchDevice" expect_error NoSuchDevice AssignDevice string:vm1 string:uartz

# a device someone bound to vfio-platform by hand is adopted, and release leaves it there
S="$T/mnt/sys/bus/platform"
echo vfio-platform >"$S/devices/3140000.serial/driver_override"
echo 3140000.serial >"$S/drivers/serial-tegra/unbind"
echo 3140000.serial >"$S/drivers/vfio-platform/bind"
check "uarte was bound to vfio-platform by hand" test "$(dev_driver 3140000.serial)" = vfio-platform
check "assign and prepare vm4 with uarte" bash -c "'$TV_CTL_BIN' assign vm4 uarte >/dev/null && '$TV_CTL_BIN' prepare vm4"
check "  ... the record keeps where it was found" bash -c "grep '^device uarte ' '$T/state/state' | grep -q 'phase=bound driver=vfio-platform override=vfio-platform'"
check "release vm4" expect_ok ReleaseDomain string:vm4
check "  ... leaves uarte on vfio-platform with its override, as found" test "$(dev_driver 3140000.serial) $(dev_override 3140000.serial)" = "vfio-platform vfio-platform"
check "unassign uarte" expect_ok UnassignDevice string:vm4 string:uarte

# the daemon shuts down cleanly (valgrind's exit code when wrapped)
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
