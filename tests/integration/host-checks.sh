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

# A 6.1 kernel's vfio-platform (probe fails with ENOENT although reset_required=N) and
# vfio's cache-coherency refusal (EINVAL). The release is read beside the sysfs root
# (<root>/../proc/sys/kernel/osrelease), so the daemon gets a root of its own.
mkdir -p "$T/host/proc/sys/kernel"
ln -s "$T/mnt/sys" "$T/host/sys"
echo 6.1.0-31-arm64 >"$T/host/proc/sys/kernel/osrelease"
tv_start_daemon --sysfs-root "$T/host/sys"
ctl_check() { "$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1; grep -q "$@" "$T/chk.out"; }
check "tegravirtctl check on 6.1 before any bind: vfio-reset-fix warning" ctl_check '^warning .*vfio-reset-fix.*6\.1\.0-31-arm64'
sim "probe-fail vfio-platform 3100000.serial ENOENT"
check "6.1 vfio-platform without the fix (probe ENOENT) -> HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... keeps the step and errno" grep -q "3100000.serial: step bind failed: No such file or directory" <<<"$LAST_ERROR"
check "  ... names the upstream fix and the kernel release" grep -q "kernel 6.1.0-31-arm64: this kernel's vfio-platform lacks the reset-optional fix (upstream v6.3, commit 168a9c91fe0a)" <<<"$LAST_ERROR"
check "  ... and says what to do" grep -q "kernel/patches/0004-vfio-platform-do-not-fail-probe-without-an-optional-reset.patch or boot a kernel >= 6.3 or a JetPack 5.x/6.x kernel" <<<"$LAST_ERROR"
check "  ... the host driver is back" test "$(dev_driver 3100000.serial)" = serial-tegra
check "tegravirtctl check: vfio-reset-fix missing, with the patch to apply" ctl_check '^missing .*vfio-reset-fix.*3100000.serial.*ENOENT'
check "  ... and the fix line names kernel/patches/0004" grep -q 'kernel/patches/0004-vfio-platform' "$T/chk.out"
sim "probe-fail vfio-platform 3100000.serial EINVAL"
check "vfio's cache-coherency refusal (probe EINVAL) -> Failed" expect_error Failed PrepareDomain string:vm1 string:
check "  ... explains it and names dma-coherent" grep -q "3100000.serial: step bind failed: Invalid argument; vfio refuses a device whose IOMMU is not cache coherent.*dma-coherent" <<<"$LAST_ERROR"
check "tegravirtctl check: cache-coherency missing, naming dma-coherent" ctl_check '^missing .*cache-coherency.*dma-coherent'
echo 6.3.0 >"$T/host/proc/sys/kernel/osrelease"
sim "probe-fail vfio-platform 3100000.serial ENOENT"
check "on 6.3 an ENOENT probe is not blamed on the 6.1 regression" expect_error HostNotReady PrepareDomain string:vm1 string:
no_upstream_fix() { ! grep -q 168a9c91fe0a <<<"$LAST_ERROR"; }
check "  ... (no mention of 168a9c91fe0a)" no_upstream_fix
echo 6.1.0-31-arm64 >"$T/host/proc/sys/kernel/osrelease"
check "a kernel with the fix binds" expect_ok PrepareDomain string:vm1 string:
check "tegravirtctl check: no vfio-reset-fix item once a device is on vfio-platform" bash -c "'$TV_CTL_BIN' check vm1 >'$T/chk.out' 2>&1; ! grep -q vfio-reset-fix '$T/chk.out'"
expect_ok ReleaseDomain string:vm1 || not_ok "release"
check "daemon exits 0 on SIGTERM (own root)" tv_stop_daemon

# A device without an IOMMU group: refused unless AllowNoIommu=yes (tests/rig's mode), and
# then only with vfio in its no-IOMMU mode. A host with the vfio module and its parameter:
tv_stop_daemon
fusermount3 -u "$T/mnt"
wait "$SIM_PID" 2>/dev/null || true
rm -rf "$T/state"; mkdir -p "$T/state"
{ cat "$TV_TOPO"; echo "module vfio enable_unsafe_noiommu_mode=N rw"; } >"$T/noiommu.topo"
"$TV_SIM_BIN" --topology "$T/noiommu.topo" --foreground "$T/mnt" 2>>"$T/sim.log" &
SIM_PID=$!
wait_for 10 test -e "$T/mnt/control" || { not_ok "the fixture mounts again"; exit 1; }
sim "set-param vfio_iommu_type1 allow_unsafe_interrupts Y"
sim "set-group 3100000.serial -"
: >"$T/daemon.log"
tv_start_daemon
"$TV_CTL_BIN" assign vm1 uarta >/dev/null
writes() { grep -c ' write sys/.*3100000.serial' "$T/mnt/log" || true; }
n=$(writes)
check "no IOMMU group, AllowNoIommu unset: HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... '3100000.serial has no IOMMU group'" grep -q "3100000.serial has no IOMMU group; give it its own SMMU stream" <<<"$LAST_ERROR"
check "  ... without advertising the no-IOMMU mode" bash -c '! grep -qi "noiommu\|no-IOMMU" <<<"$0"' "$LAST_ERROR"
check "  ... no sysfs write was made" test "$(writes)" = "$n"
check "  ... and the daemon never mentioned AllowNoIommu" bash -c "! grep -q AllowNoIommu '$T/daemon.log'"
check "tegravirtctl check: iommu-group missing" ctl_check '^missing .*iommu-group.*uarta (3100000.serial) has no IOMMU group'
tv_stop_daemon
echo "AllowNoIommu=yes" >>"$T/tegravirtd.conf"
tv_start_daemon
check "AllowNoIommu=yes: the daemon warns at start" grep -q "AllowNoIommu=yes: devices without an IOMMU group are bound in vfio's UNSAFE no-IOMMU mode" "$T/daemon.log"
check "AllowNoIommu=yes but vfio not in no-IOMMU mode: HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the vfio parameter" grep -q "3100000.serial has no IOMMU group and AllowNoIommu=yes, but vfio is not in its no-IOMMU mode (vfio.enable_unsafe_noiommu_mode=1)" <<<"$LAST_ERROR"
check "  ... no sysfs write was made" test "$(writes)" = "$n"
check "tegravirtctl check: iommu-group only a warning, naming the unsafe mode" ctl_check "^warning .*iommu-group.*has no IOMMU group: AllowNoIommu=yes binds it in vfio's unsafe no-IOMMU mode"
sim "set-param vfio enable_unsafe_noiommu_mode Y"
# the simulated vfio-platform cannot register a group-less device (probe EINVAL), which
# a real kernel in no-IOMMU mode does (tests/rig): here the bind fails and rolls back
check "AllowNoIommu=yes and vfio in no-IOMMU mode: the group-less device gets to the bind" expect_error Failed PrepareDomain string:vm1 string:
check "  ... the engine did bind vfio-platform" grep -q " write sys/bus/platform/drivers/vfio-platform/bind 3100000.serial" "$T/mnt/log"
check "  ... and rolled back: on serial-tegra without override" dev_whole 3100000.serial serial-tegra
check "  ... on serial-tegra" test "$(dev_driver 3100000.serial)" = serial-tegra
check "daemon exits 0 on SIGTERM (AllowNoIommu)" tv_stop_daemon
tap_finish
