#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# IOMMU-group viability, module state and missing devices give clear HostNotReady errors and change nothing.
source "$(dirname "$0")/../lib/integration.sh"
TV_ALLOW_UNSAFE=no
tv_setup
tv_start_daemon

expect_ok AssignDevice string:vm1 string:uarta || not_ok "assign"
# 3110000.serial (UARTB, not in the catalog) shares uarta's group and stays on serial-tegra
sim "unload vfio-platform"
check "vfio-platform not loaded -> HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... says to modprobe vfio-platform" grep -q "modprobe vfio-platform" <<<"$LAST_ERROR"
sim "load vfio-platform"
sim "set-param vfio_platform reset_required Y"
check "reset_required=Y -> HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... says to set it on the kernel command line" grep -q "vfio_platform.reset_required=0 to the kernel command line" <<<"$LAST_ERROR"
sim "set-param vfio_platform reset_required N"
check "unsafe interrupts needed but not allowed -> HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... names the config key and the kernel parameter" grep -q "AllowUnsafeInterrupts=yes.*vfio_iommu_type1.allow_unsafe_interrupts=1" <<<"$LAST_ERROR"
check "  ... and the daemon did not write the parameter" grep -q "allow_unsafe_interrupts=N" "$T/mnt/status"
check "UnsafeInterrupts property is disabled" bash -c "busctl --system get-property org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnsafeInterrupts | grep -q disabled"
sim "set-param vfio_iommu_type1 allow_unsafe_interrupts Y"
check "UnsafeInterrupts property is enabled once the host has it" bash -c "busctl --system get-property org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnsafeInterrupts | grep -q enabled"

sim "set-group 3110000.serial 1"
check "shared IOMMU group with a host-bound device is refused" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the blocking device and its driver" grep -q "3110000.serial, which is bound to host driver serial-tegra" <<<"$LAST_ERROR"
check "  ... nothing changed on the host" test "$(dev_driver 3100000.serial)" = serial-tegra
check "  ... no sysfs write was made" bash -c "! grep -q ' write sys/.*3100000.serial' '$T/mnt/log'"
printf '3110000.serial' >"$T/mnt/sys/bus/platform/drivers/serial-tegra/unbind"
check "a driverless group member is fine" expect_ok PrepareDomain string:vm1 string:
check "  ... /dev/vfio/1 exists" grep -q "^vfio 1 " "$T/mnt/status"
expect_ok ReleaseDomain string:vm1 || not_ok "release"

sim "vanish 3140000.serial"
check "a catalog device absent from the host cannot be assigned" expect_error HostNotReady AssignDevice string:vm1 string:uarte
check "its State is missing (within the 250 ms view age)" wait_for 2 bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarte org.tegravirt.Device1 State | grep -q missing"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
