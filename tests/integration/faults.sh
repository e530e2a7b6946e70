#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault injection at every step of prepare and release, and kill -9 of the daemon
# before and after every step: no device is ever left half-bound, errors name the
# step, and a restarted daemon reconciles its record with sysfs.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon

DEV=3100000.serial
OVR="sys/devices/platform/bus@0/$DEV/driver_override"
UNBIND_HOST="sys/bus/platform/drivers/serial-tegra/unbind"
BIND_VFIO="sys/bus/platform/drivers/vfio-platform/bind"
UNBIND_VFIO="sys/bus/platform/drivers/vfio-platform/unbind"
PROBE="sys/bus/platform/drivers_probe"

expect_ok AssignDevice string:vm1 string:uarta || { not_ok "assign"; exit 1; }

host_state_ok() { # device on serial-tegra, no override, state record back to phase none
        dev_whole $DEV serial-tegra && [ "$(dev_driver $DEV)" = serial-tegra ] &&
                grep -q "^device uarta .* phase=none " "$T/state/state"
}
vfio_state_ok() {
        [ "$(dev_driver $DEV)" = vfio-platform ] && dev_whole $DEV serial-tegra &&
                grep -q "^device uarta .* phase=bound " "$T/state/state"
}

# --- errors at each prepare step: rolled back, step named ---
for spec in "$OVR|vfio-platform|driver_override" "$UNBIND_HOST|$DEV|unbind" "$BIND_VFIO|$DEV|bind" \
            "dev/vfio/1|*|vfio group permissions"; do
        IFS='|' read -r path value step <<<"$spec"
        for errno in EIO ENOMEM; do
                sim clear
                sim "fail $path $value $errno"
                check "prepare fails when '$step' fails with $errno" expect_error "" PrepareDomain string:vm1 string:
                check "  ... the error names the step '$step'" grep -q "$step" <<<"$LAST_ERROR"
                check "  ... device rolled back to serial-tegra, record cleared" host_state_ok
        done
done
# a probe failure of vfio-platform (bind returns the probe's errno)
sim clear; sim "probe-fail vfio-platform $DEV EIO"
check "prepare fails when vfio-platform's probe fails" expect_error Failed PrepareDomain string:vm1 string:
check "  ... rolled back" host_state_ok
# rollback itself hits a fault (restore bind fails once): recorded, never half-bound
sim clear; sim "fail $BIND_VFIO $DEV EIO"; sim "probe-fail serial-tegra $DEV EIO"
check "prepare fails and the first rollback probe fails too" expect_error Failed PrepareDomain string:vm1 string:
check "  ... the device is not half-bound (explicit rebind fallback)" host_state_ok

# --- errors at each release step: device stays whole on vfio, release can be retried ---
for spec in "$OVR|*|restore driver_override" "$UNBIND_VFIO|$DEV|unbind" "$PROBE|$DEV|drivers_probe"; do
        IFS='|' read -r path value step <<<"$spec"
        sim clear
        expect_ok PrepareDomain string:vm1 string: || not_ok "prepare before release fault"
        sim "fail $path $value EIO"
        check "release fails when '$step' fails" expect_error Failed ReleaseDomain string:vm1
        check "  ... the error names the step '$step'" grep -q "$step" <<<"$LAST_ERROR"
        check "  ... device is whole on vfio-platform, record bound" vfio_state_ok
        check "  ... a retried release succeeds" expect_ok ReleaseDomain string:vm1
        check "  ... and serial-tegra is back" host_state_ok
done
# serial-tegra refuses to probe again: drivers_probe leaves it unbound, explicit bind fails -> back to vfio
sim clear
expect_ok PrepareDomain string:vm1 string: || not_ok "prepare"
sim "probe-fail serial-tegra $DEV EIO 2"
check "release fails when the host driver will not probe" expect_error Failed ReleaseDomain string:vm1
check "  ... device went back to vfio-platform instead of staying driverless" vfio_state_ok
check "  ... retry succeeds" expect_ok ReleaseDomain string:vm1
check "  ... host driver back" host_state_ok

# --- kill -9 before / after every step, then restart: reconciled ---
crash_case() { # crash_case MODE PATH VALUE OPERATION
        local mode="$1" path="$2" value="$3" op="$4"
        sim clear
        sim "$mode $path $value"
        if [ "$op" = release ]; then mgr ReleaseDomain string:vm1 >/dev/null || true
        else mgr PrepareDomain string:vm1 string: >/dev/null || true; fi
        tv_reap_daemon
        sim clear
        tv_start_daemon
}
for spec in "$OVR|vfio-platform" "$UNBIND_HOST|$DEV" "$BIND_VFIO|$DEV"; do
        IFS='|' read -r path value <<<"$spec"
        for mode in crash-before crash-after; do
                crash_case "$mode" "$path" "$value" prepare
                check "kill -9 $mode prepare step $path: restart rolls back to serial-tegra" host_state_ok
                check "  ... the assignment survived" grep -q "^device uarta .* domain=vm1 " "$T/state/state"
                check "  ... and a new prepare works" expect_ok PrepareDomain string:vm1 string:
                expect_ok ReleaseDomain string:vm1 || not_ok "release after recovery"
        done
done
for spec in "$OVR|*" "$UNBIND_VFIO|$DEV" "$PROBE|$DEV"; do
        IFS='|' read -r path value <<<"$spec"
        for mode in crash-before crash-after; do
                expect_ok PrepareDomain string:vm1 string: || not_ok "prepare before crash"
                crash_case "$mode" "$path" "$value" release
                check "kill -9 $mode release step $path: restart finishes the reattach" host_state_ok
        done
done
# killed at the last step (handing /dev/vfio/1 to QEMU): the record still says detaching, so the
# restart rolls the device back; a retried prepare (libvirt retries the start) then completes
sim clear
sim "crash-before dev/vfio/1 *"
mgr PrepareDomain string:vm1 string: >/dev/null || true
tv_reap_daemon; sim clear; tv_start_daemon
check "kill -9 at the vfio permission step: restart rolls back to serial-tegra" host_state_ok
check "  ... Device1 reports assigned" bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarta org.tegravirt.Device1 State | grep -q assigned"
check "  ... a new prepare completes, permissions included" expect_ok PrepareDomain string:vm1 string:
check "  ... /dev/vfio/1 owned by nobody" grep -q "^vfio 1 owner=$(id -u nobody):" "$T/mnt/status"
# killed after the bound record: the restarted daemon adopts the binding
tv_stop_daemon || true
tv_start_daemon
check "a restart with a bound device adopts it" vfio_state_ok
check "  ... Device1 reports active" bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarta org.tegravirt.Device1 State | grep -q active"
check "  ... release works" expect_ok ReleaseDomain string:vm1
check "  ... host driver back" host_state_ok

# drift: someone reattached the device by hand while the daemon was down
expect_ok PrepareDomain string:vm1 string: || not_ok "prepare"
tv_stop_daemon || true
printf '\n' >"$T/mnt/$OVR"; printf '%s' $DEV >"$T/mnt/$UNBIND_VFIO"; printf '%s' $DEV >"$T/mnt/$PROBE"
tv_start_daemon
check "drift is reported at start-up" grep -q "drift: $DEV" "$T/daemon.log"
check "  ... and the record follows the host" host_state_ok

check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
