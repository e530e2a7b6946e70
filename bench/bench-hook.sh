#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the libvirt hook costs a domain that does not use tegravirt (libvirt runs it
# for every operation of every domain), against exec of /bin/true, both run the same
# way from one bash loop with a typical domain XML on stdin. Prints a ratio measured
# in this run, never a timed assertion (target <= 1.5).
#   bench/bench-hook.sh [BUILDDIR]    (default build-bench, configured with buildtype=release)
#   TV_BENCH_HOOK_N=2000 runs per side
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-bench}
N=${TV_BENCH_HOOK_N:-2000}
[ -d "$B" ] || meson setup "$B" "$SRC" --buildtype=release >/dev/null
meson compile -C "$B" libvirt-hooks/tegravirt-hook >/dev/null
HOOK="$B/libvirt-hooks/tegravirt-hook"
W=$(mktemp -d /tmp/tv-bench-hook.XXXXXX)
trap 'rm -rf "$W"' EXIT

# A domain as libvirt formats it for the prepare hook (about 5 KiB), without our namespace.
{
        echo "<domain type='kvm'>"
        echo "  <name>vm1</name>"
        echo "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"
        echo "  <memory unit='KiB'>2097152</memory>"
        echo "  <vcpu placement='static'>4</vcpu>"
        echo "  <os><type arch='aarch64' machine='virt-7.2'>hvm</type><kernel>/var/lib/libvirt/images/Image</kernel>"
        echo "    <cmdline>console=ttyAMA0 root=/dev/vda rw</cmdline></os>"
        echo "  <features><acpi/><gic version='3'/></features>"
        echo "  <cpu mode='host-passthrough' check='none'/>"
        echo "  <devices>"
        echo "    <emulator>/usr/bin/qemu-system-aarch64</emulator>"
        for i in $(seq 0 15); do
                echo "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                echo "      <source file='/var/lib/libvirt/images/disk$i.qcow2'/><target dev='vd$i' bus='virtio'/>"
                echo "      <address type='pci' domain='0x0000' bus='0x0$((i % 8))' slot='0x00' function='0x0'/></disk>"
        done
        echo "    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/><model type='virtio'/></interface>"
        echo "    <console type='pty'><target type='serial' port='0'/></console>"
        echo "  </devices>"
        echo "</domain>"
} >"$W/domain.xml"

# N runs with the XML on stdin, in 20 interleaved blocks per side so that drift of a
# shared machine hits both sides alike; prints the seconds of each side.
run_both() {
        local t0 t1 b k blocks=20 base=0 hook=0
        for ((b = 0; b < blocks; b++)); do
                for side in base hook; do
                        t0=$(date +%s.%N)
                        if [ $side = base ]; then
                                for ((k = 0; k < N / blocks; k++)); do /bin/true <"$W/domain.xml"; done
                        else
                                for ((k = 0; k < N / blocks; k++)); do "$HOOK" vm1 prepare begin - <"$W/domain.xml"; done
                        fi
                        t1=$(date +%s.%N)
                        if [ $side = base ]; then base=$(echo "$base + $t1 - $t0" | bc -l)
                        else hook=$(echo "$hook + $t1 - $t0" | bc -l); fi
                done
        done
        echo "$base $hook"
}

# the hook must take its fast path: exit 0, nothing printed
out=$("$HOOK" vm1 prepare begin - <"$W/domain.xml" 2>&1) || { echo "hook failed: $out"; exit 1; }
[ -z "$out" ] || { echo "hook printed: $out"; exit 1; }

[ $((N % 20)) = 0 ] || { echo "TV_BENCH_HOOK_N must be a multiple of 20"; exit 1; }
echo "# tegravirt hook bench, $N runs per side, $(stat -c %s "$W/domain.xml")-byte domain XML, $(nproc) cpus, $(date -u +%F)"
read -r base hook < <(run_both)
printf 'exec /bin/true:               %.3f ms per call\n' "$(echo "$base * 1000 / $N" | bc -l)"
printf 'hook, not a tegravirt domain: %.3f ms per call\n' "$(echo "$hook * 1000 / $N" | bc -l)"
printf 'ratio %.3f (target <= 1.5)\n' "$(echo "$hook / $base" | bc -l)"
