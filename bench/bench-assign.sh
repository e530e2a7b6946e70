#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# AssignDevice (read XML, rewrite, define through libvirt) against Debian's virt-xml
# making the same change (-device vfio-platform,host=... in qemu:commandline), both on
# a real libvirtd in a private namespace, in one run. Prints per-call times and the ratio.
#   bench/bench-assign.sh [BUILDDIR] [N]
SRC=$(cd "$(dirname "$0")/.." && pwd)
export TV_BUILD_DIR=$(cd "${1:-$SRC/build-bench}" && pwd) TV_SOURCE_DIR="$SRC"
N=${2:-20}
source "$SRC/tests/lib/integration.sh"
source "$SRC/tests/lib/libvirt.sh"
tv_enter_namespace "$@"
TV_LIBVIRT_URI=qemu:///system
tv_setup
trap 'tv_stop_libvirt; tv_cleanup' EXIT
tv_start_libvirt
tv_start_daemon
tv_domain_xml vm1 >"$T/vm1.xml"
virsh_ define "$T/vm1.xml" >/dev/null
now() { date +%s.%N; }

mgr AssignDevice string:vm1 string:uarti >/dev/null && mgr UnassignDevice string:vm1 string:uarti >/dev/null # warm the caps cache
t0=$(now)
for _ in $(seq "$N"); do
        mgr AssignDevice string:vm1 string:uarti >/dev/null || { echo "assign failed"; exit 1; }
        mgr UnassignDevice string:vm1 string:uarti >/dev/null || { echo "unassign failed"; exit 1; }
done
t1=$(now)
for _ in $(seq "$N"); do
        virt-xml -c qemu:///system vm1 --edit --qemu-commandline='-device vfio-platform,host=31d0000.serial' >/dev/null 2>&1 ||
                { echo "virt-xml failed"; exit 1; }
        virt-xml -c qemu:///system vm1 --edit --qemu-commandline=clearxml=yes >/dev/null 2>&1 ||
                { echo "virt-xml clear failed"; exit 1; }
done
t2=$(now)
tv=$(echo "($t1 - $t0) * 1000 / (2 * $N)" | bc -l)
vx=$(echo "($t2 - $t1) * 1000 / (2 * $N)" | bc -l)
printf 'AssignDevice/UnassignDevice: %.1f ms per call; virt-xml --edit --qemu-commandline: %.1f ms per call; ratio %.3f (target <= 0.05)\n' \
        "$tv" "$vx" "$(echo "$tv / $vx" | bc -l)"
tv_stop_daemon
