# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Helpers for rig guest scripts (busybox sh), installed as /lib/rig/lib.sh: `. /lib/rig/lib.sh`.
#   rig_insmod NAME [PARAM=VALUE...]   insmod /lib/modules/rig/NAME.ko once
#   rig_load_virtio_mmio               Debian's virtio_mmio (binds a003e00.virtio_mmio)
#   rig_load_vfio                      vfio (noiommu enabled), vfio_virqfd, vfio-platform
#                                      (reset_required=0, as tegravirtd requires)
#   rig_load_gpio_sim                  configfs (mounted on /sys/kernel/config) and gpio-sim
#   rig_ok DESC / rig_not_ok DESC      one TAP result, numbered
#   rig_check DESC COMMAND...          runs COMMAND; ok or not ok; its output as "# " lines
#   rig_diag TEXT                      "# " lines
#   rig_done                           prints the plan "1..N"; status 1 if anything failed
RIG_N=0
RIG_FAILED=0

rig_diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
rig_ok() { RIG_N=$((RIG_N + 1)); echo "ok $RIG_N - $*"; }
rig_not_ok() { RIG_N=$((RIG_N + 1)); RIG_FAILED=$((RIG_FAILED + 1)); echo "not ok $RIG_N - $*"; }
rig_check() {
        _rig_what=$1
        shift
        if "$@" >/tmp/.rig-check 2>&1; then rig_ok "$_rig_what"; else rig_not_ok "$_rig_what"; fi
        sed 's/^/# /' /tmp/.rig-check
        rm -f /tmp/.rig-check
        return 0
}
rig_done() {
        [ "$RIG_N" -gt 0 ] || rig_not_ok "the guest script ran no check"
        echo "1..$RIG_N"
        [ "$RIG_FAILED" -eq 0 ]
}

rig_insmod() {
        _rig_m=$1
        shift
        [ -d "/sys/module/$(echo "$_rig_m" | tr - _)" ] && return 0
        insmod "/lib/modules/rig/$_rig_m.ko" "$@"
}
rig_load_virtio_mmio() { rig_insmod virtio_mmio; }
rig_load_vfio() {
        rig_insmod vfio enable_unsafe_noiommu_mode=1 &&
                rig_insmod vfio_virqfd &&
                rig_insmod vfio-platform-base &&
                rig_insmod vfio-platform reset_required=0
}
rig_load_gpio_sim() {
        rig_insmod configfs || return 1
        grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config || return 1
        rig_insmod gpio-sim
}
