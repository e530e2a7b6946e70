#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks for tegravirtd on the simulated Orin host. Every figure is printed as a
# ratio against a baseline measured in this same run (never a timed assertion).
#   bench/run.sh [BUILDDIR]    (default build-bench, configured with buildtype=release)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-bench}
ITER=${TV_BENCH_ITER:-200}
[ -d "$B" ] || meson setup "$B" "$SRC" --buildtype=release >/dev/null
meson compile -C "$B" >/dev/null
export TV_BUILD_DIR="$B" TV_SOURCE_DIR="$SRC"
source "$SRC/tests/integration/lib.sh"
tv_setup
cp "$SRC/bench/extra-uarts.xml" "$T/catalog.d/"
tv_start_daemon
BENCH="$B/bench/bench-listdevices"
S="$T/mnt/sys"

# The seed documents' steps as a shell script, one bash per prepare and per release.
mkscript() { # mkscript HOSTDRV:PID...
        {
                echo 'case "$1" in prepare)'
                for d in "$@"; do
                        drv=${d%%:*} pid=${d#*:}
                        echo "echo vfio-platform > $S/bus/platform/devices/$pid/driver_override"
                        echo "echo $pid > $S/bus/platform/drivers/$drv/unbind"
                        echo "echo $pid > $S/bus/platform/drivers/vfio-platform/bind"
                done
                echo ';; release)'
                for d in "$@"; do
                        drv=${d%%:*} pid=${d#*:}
                        echo "echo > $S/bus/platform/devices/$pid/driver_override"
                        echo "echo $pid > $S/bus/platform/drivers/vfio-platform/unbind"
                        echo "echo $pid > $S/bus/platform/drivers_probe"
                done
                echo ';; esac'
        } >"$T/seed-steps.sh"
}
timeit() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
script_loop() { for _ in $(seq "$ITER"); do bash "$T/seed-steps.sh" prepare; bash "$T/seed-steps.sh" release; done; }

echo "# tegravirt bench, $ITER iterations, $(nproc) cpus, $(date -u +%F)"
ONE=(serial-tegra:3100000.serial)
EIGHT=(serial-tegra:3100000.serial serial-tegra:3140000.serial serial-tegra:31d0000.serial
       tegra186-gpio:2200000.gpio tegra186-gpio:c2f0000.gpio gk20a:17000000.gpu
       serial-tegra:3110000.serial serial-tegra:3130000.serial)
for set in ONE EIGHT; do
        declare -n devs=$set
        mkscript "${devs[@]}"
        s=$(timeit script_loop)
        dom="bench-${#devs[@]}"
        for d in "${devs[@]}"; do
                name=$(busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices |
                        grep -o "\"[a-z0-9_-]*\" \"${d#*:}\"" | cut -d'"' -f2)
                mgr AssignDevice "string:$dom" "string:$name" >/dev/null
        done
        r=$("$BENCH" cycle "$dom" "$ITER" | awk '{print $3}')
        printf 'prepare+release %d device(s): tegravirtd %.2f ms, seed shell script %.2f ms per cycle, ratio %.3f (target <= 0.2)\n' \
                "${#devs[@]}" "$(echo "$r * 1000 / $ITER" | bc -l)" "$(echo "$s * 1000 / $ITER" | bc -l)" "$(echo "$r / $s" | bc -l)"
        for d in "${devs[@]}"; do
                name=$(busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices |
                        grep -o "\"[a-z0-9_-]*\" \"${d#*:}\"" | cut -d'"' -f2)
                mgr UnassignDevice "string:$dom" "string:$name" >/dev/null
        done
done

N=$((ITER * 50))
"$BENCH" ping 500 >/dev/null
ping_rate=$("$BENCH" ping "$N" | awk '{print $4}')
list_rate=$("$BENCH" list "$N" | awk '{print $4}')
printf 'ListDevices: %.0f calls/s from one client (target >= 10000); Peer.Ping baseline %.0f calls/s; ratio %.3f\n' \
        "$list_rate" "$ping_rate" "$(echo "$list_rate / $ping_rate" | bc -l)"

sleep 1
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status")
anon=$(awk '/^Anonymous/ {print $2}' "/proc/$DAEMON_PID/smaps_rollup")
bus_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$BUS_PID/status")
printf 'idle RSS: tegravirtd %d KiB (target <= 4096; %d KiB of it anonymous, the rest shared library pages), dbus-daemon %d KiB, ratio %.2f\n' \
        "$rss" "$anon" "$bus_rss" "$(echo "$rss / $bus_rss" | bc -l)"
w0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$DAEMON_PID/status")
sleep 5
w1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$DAEMON_PID/status")
echo "idle wake-ups over 5 s: $((w1 - w0)) (target 0)"
tv_stop_daemon
