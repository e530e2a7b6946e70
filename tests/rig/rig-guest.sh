# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# The rig test's guest side (busybox sh, run by rig-run.sh; rig-test.sh is the host side).
# The binding engine (tv-rig-engine: tegravirtd's hostdev/sysfs/state code) against Debian's
# real driver core: prepare, a vfio user, release, rollback after real bind failures and after
# a failure injected at every step, recovery after SIGKILL before every step.
. /lib/rig/lib.sh
E="./tv-rig-engine --noiommu --state /tmp/state"
A=a003e00.virtio_mmio
B=a003c00.virtio_mmio
SYSDEV=/sys/bus/platform/devices

drv() { [ -e "$SYSDEV/$1/driver" ] && basename "$(readlink "$SYSDEV/$1/driver")" || echo "-"; }
ovr() { cat "$SYSDEV/$1/driver_override"; }
# native DEV DRIVER: on its host driver, no override left behind, no vfio node for it
native() {
        [ "$(drv "$1")" = "$2" ] && [ "$(ovr "$1")" = "(null)" ] && [ ! -e "$SYSDEV/$1/iommu_group" ] && return 0
        echo "$1: driver=$(drv "$1") override=$(ovr "$1") group=$(readlink "$SYSDEV/$1/iommu_group")"
        return 1
}
# bound DEV: on vfio-platform through its override, with a no-IOMMU group node
bound() {
        g=$(basename "$(readlink "$SYSDEV/$1/iommu_group")" 2>/dev/null)
        [ "$(drv "$1")" = vfio-platform ] && [ "$(ovr "$1")" = vfio-platform ] && [ -n "$g" ] &&
                [ -c "/dev/vfio/noiommu-$g" ] && return 0
        echo "$1: driver=$(drv "$1") override=$(ovr "$1") group=$g"
        return 1
}
# whole DEV DRIVER: never half-bound: on DRIVER without override, or on vfio-platform with it
whole() {
        [ "$(drv "$1")" = "$2" ] && [ "$(ovr "$1")" = "(null)" ] && return 0
        [ "$(drv "$1")" = vfio-platform ] && [ "$(ovr "$1")" = vfio-platform ] && return 0
        echo "$1 half-bound: driver=$(drv "$1") override=$(ovr "$1")"
        return 1
}
# phase DEV: the phase the engine's record holds for DEV, "none" without a record
phase() { $E status | sed -n "s/^device $1 .* phase=\([a-z]*\) .*/\1/p" | grep . || echo none; }
# consistent DEV DRIVER: host and record agree: native and no record, or bound and recorded bound
consistent() {
        p=$(phase "$1")
        if [ "$(drv "$1")" = vfio-platform ]; then
                bound "$1" && [ "$p" = bound ] && return 0
        else
                native "$1" "$2" && [ "$p" = none ] && return 0
        fi
        echo "$1: record phase=$p driver=$(drv "$1") override=$(ovr "$1")"
        return 1
}
both_native() { native $A virtio-mmio && native $B virtio-mmio && ! ls /dev/vfio/noiommu-* >/dev/null 2>&1; }
both_consistent() { consistent $A virtio-mmio && consistent $B virtio-mmio; }
steps() { # steps CMD...: how many host steps a clean run of the engine takes
        TV_RIG_TRACE=1 $E "$@" 2>&1 >/dev/null | grep -c '^step '
}

rig_check "load Debian's virtio_mmio" rig_load_virtio_mmio
rig_check "load vfio (noiommu), vfio_virqfd, vfio-platform with patch 0004 (reset_required=0)" rig_load_vfio
rig_check "load configfs and gpio-sim" rig_load_gpio_sim
rig_check "kernel $(uname -r): $A and $B on virtio-mmio" both_native

# --- the no-IOMMU mode is an explicit opt-in --------------------------------------------------
rig_check "without --noiommu (AllowNoIommu unset) a group-less device is refused" \
        eval "! ./tv-rig-engine --state /tmp/state prepare $A 2>/tmp/err; cat /tmp/err; grep -q '$A has no IOMMU group' /tmp/err"
rig_check "  ... and nothing changed" both_native
echo N >/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
rig_check "--noiommu with vfio not in no-IOMMU mode is refused" \
        eval "! $E prepare $A 2>/tmp/err; cat /tmp/err; grep -q 'vfio.enable_unsafe_noiommu_mode=1' /tmp/err"
rig_check "  ... and nothing changed" both_native
echo Y >/sys/module/vfio/parameters/enable_unsafe_noiommu_mode

# --- prepare, use, release ----------------------------------------------------------------------
rig_check "prepare $A: bound to vfio-platform" eval "$E prepare $A >/tmp/out; cat /tmp/out"
G=$(sed -n "s/^group $A //p" /tmp/out)
rig_check "  ... vfio gave it no-IOMMU group $G: /dev/vfio/noiommu-$G, mode 0660" \
        eval "bound $A 2>/dev/null; [ -n '$G' ] && [ \"\$(stat -c %a /dev/vfio/noiommu-$G)\" = 660 ]"
rig_check "  ... host and record agree (bound)" consistent $A virtio-mmio
rig_check "a vfio user opens the group and reads the virtio magic through the device fd" \
        eval "./tv-rig-vfio /dev/vfio/noiommu-$G $A >/tmp/vfio; cat /tmp/vfio; grep -q '^word 0x74726976$' /tmp/vfio"
rig_check "  ... and the device id (4, entropy) at 0x8" \
        eval "./tv-rig-vfio /dev/vfio/noiommu-$G $A 8 | grep -q '^word 0x00000004$'"
rig_check "prepare again is idempotent" eval "$E prepare $A >/dev/null && bound $A"
rig_check "release $A: back on virtio-mmio, no override, no group" eval "$E release $A && native $A virtio-mmio"
rig_check "  ... the virtio device is back (virtio-mmio probed it again)" eval "ls -d $SYSDEV/$A/virtio*"
rig_check "  ... no record left" eval "[ \"\$(phase $A)\" = none ]"
rig_check "prepare $A $B together, then release" \
        eval "$E prepare $A $B >/dev/null && bound $A && bound $B && $E release $A $B && both_native"

# --- rollback after real bind failures -----------------------------------------------------------
mkdir /sys/kernel/config/gpio-sim/rig /sys/kernel/config/gpio-sim/rig/bank0
echo 8 >/sys/kernel/config/gpio-sim/rig/bank0/num_lines
echo 1 >/sys/kernel/config/gpio-sim/rig/live
S=$(cat /sys/kernel/config/gpio-sim/rig/dev_name)
rig_check "a gpio-sim chip ($S) on gpio-sim" native "$S" gpio-sim
# 6.1's vfio-platform takes only devices with a compatible property; gpio-sim's has none
rig_check "prepare $A $S: $S cannot be taken by vfio-platform (probe EINVAL, for real)" \
        eval "! $E prepare $A $S 2>/tmp/err; cat /tmp/err; grep -q '$S: step bind failed: Invalid argument' /tmp/err"
rig_check "  ... rolled back: $A (already bound) back on virtio-mmio" native $A virtio-mmio
rig_check "  ... $S back on gpio-sim, override cleared" native "$S" gpio-sim
rig_check "  ... no record left" eval "[ \"\$(phase $A)\" = none ] && [ \"\$(phase $S)\" = none ]"
rig_check "  ... the gpio-sim chip works again (its gpiochip is back)" eval "ls -d $SYSDEV/$S/gpiochip*"
# stock 6.1 vfio-platform-base, without patch 0004: every device without a reset module fails
rmmod vfio-platform vfio-platform-base
rig_check "stock 6.1 vfio-platform-base (no patch 0004) loaded" eval \
        "insmod /lib/modules/rig/stock/vfio-platform-base.ko && rig_insmod vfio-platform reset_required=0"
rig_check "prepare $A with stock vfio-platform: bind fails with ENOENT (for real)" \
        eval "! $E prepare $A 2>/tmp/err; cat /tmp/err; grep -q '$A: step bind failed: No such file or directory' /tmp/err"
rig_check "  ... the error names the fix (patch 0004, kernel $(uname -r))" \
        eval "grep -q 'kernel $(uname -r): .*lacks the reset-optional fix.*0004-vfio-platform' /tmp/err"
rig_check "  ... rolled back: on virtio-mmio, no override, no record" \
        eval "native $A virtio-mmio && [ \"\$(phase $A)\" = none ]"
rmmod vfio-platform vfio-platform-base
rig_check "patched vfio-platform back" eval "rig_insmod vfio-platform-base && rig_insmod vfio-platform reset_required=0"

# --- a failure injected at every step: rollback leaves nothing half-bound --------------------
n=$(steps prepare $A $B)
$E release $A $B >/dev/null 2>&1
rig_check "prepare $A $B takes $n host steps" eval "[ $n -ge 10 ] && both_native"
k=1
while [ $k -le "$n" ]; do
        out=$(TV_RIG_FAIL_AT=$k $E prepare $A $B 2>&1)
        rc=$?
        if [ $rc = 1 ] && both_native >/tmp/why 2>&1 && [ "$(phase $A)$(phase $B)" = nonenone ]; then
                rig_ok "prepare, EIO injected at step $k: fails and rolls back both"
        else
                rig_not_ok "prepare, EIO injected at step $k: fails and rolls back both (rc=$rc)"
                rig_diag "$out"; rig_diag "$(cat /tmp/why)"
                $E recover >/dev/null 2>&1
                $E release $A $B >/dev/null 2>&1
        fi
        k=$((k + 1))
done
$E prepare $A $B >/dev/null
n=$(steps release $A $B)
rig_check "release $A $B takes $n host steps" eval "[ $n -ge 6 ] && both_native"
k=1
while [ $k -le "$n" ]; do
        $E prepare $A $B >/dev/null 2>&1
        out=$(TV_RIG_FAIL_AT=$k $E release $A $B 2>&1)
        rc=$?
        # a failed release leaves each device whole (back on vfio-platform to retry, or native);
        # the next start (a new engine process: recover) makes the record agree
        if [ $rc = 1 ] && whole $A virtio-mmio >/tmp/why 2>&1 && whole $B virtio-mmio >>/tmp/why 2>&1 &&
                $E recover >>/tmp/why 2>&1 && both_consistent >>/tmp/why 2>&1 &&
                $E release $A $B >>/tmp/why 2>&1 && both_native >>/tmp/why 2>&1; then
                rig_ok "release, EIO injected at step $k: fails, each device whole; recover, release again: native"
        else
                rig_not_ok "release, EIO injected at step $k: fails, each device whole; recover, release again: native (rc=$rc)"
                rig_diag "$out"; rig_diag "$(cat /tmp/why)"
                $E recover >/dev/null 2>&1
                $E release $A $B >/dev/null 2>&1
        fi
        k=$((k + 1))
done

# --- SIGKILL before every step, then recovery (tegravirtd's start-up reconciliation) --------
n=$(steps prepare $A $B)
$E release $A $B >/dev/null 2>&1
k=1
while [ $k -le $((n + 1)) ]; do
        TV_RIG_KILL_AT=$k $E prepare $A $B >/dev/null 2>&1
        rc=$?
        out=$($E recover 2>&1)
        what="prepare killed before step $k of $n"
        [ $k -gt "$n" ] && what="prepare not killed (control)"
        if { [ $rc = 137 ] || { [ $k -gt "$n" ] && [ $rc = 0 ]; }; } && both_consistent >/tmp/why 2>&1 &&
                $E release $A $B >>/tmp/why 2>&1 && both_native >>/tmp/why 2>&1; then
                rig_ok "$what, recover: consistent; release leaves both native"
        else
                rig_not_ok "$what, recover: consistent; release leaves both native (rc=$rc)"
                rig_diag "$out"; rig_diag "$(cat /tmp/why)"
                $E release $A $B >/dev/null 2>&1
        fi
        k=$((k + 1))
done
$E prepare $A $B >/dev/null
n=$(steps release $A $B)
k=1
while [ $k -le "$n" ]; do
        $E prepare $A $B >/dev/null 2>&1
        TV_RIG_KILL_AT=$k $E release $A $B >/dev/null 2>&1
        rc=$?
        out=$($E recover 2>&1)
        if [ $rc = 137 ] && both_consistent >/tmp/why 2>&1 && $E release $A $B >>/tmp/why 2>&1 &&
                both_native >>/tmp/why 2>&1; then
                rig_ok "release killed before step $k of $n, recover: consistent; release leaves both native"
        else
                rig_not_ok "release killed before step $k of $n, recover: consistent; release leaves both native (rc=$rc)"
                rig_diag "$out"; rig_diag "$(cat /tmp/why)"
                $E release $A $B >/dev/null 2>&1
        fi
        k=$((k + 1))
done
rig_check "at the end: both on virtio-mmio, no vfio group, nothing recorded as changed" \
        eval "both_native && [ -z \"\$($E status | grep '^device' | grep -v ' phase=none ')\" ]"
rig_done
