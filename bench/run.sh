#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks for tegravirtd on the simulated Orin host. Every figure is printed as a
# ratio against a baseline measured in this same run (never a timed assertion).
#   bench/run.sh [BUILDDIR]    (default build-bench, configured with buildtype=release)
# Every process of the timed parts (fixture, bus, daemon, clients, the seed script) runs
# on one CPU (TV_BENCH_CPU, default 0): a FUSE round trip costs ~8 us on one CPU and
# ~35 us across two, so placement alone would swing the figures 3-4x. The cycles also
# print their cost as counts, FUSE requests (the fixture's stats file) and fsyncs
# (strace on a separate, untimed run), so a regression shows as a number.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-bench}
ITER=${TV_BENCH_ITER:-200}
[ -d "$B" ] || meson setup "$B" "$SRC" --buildtype=release >/dev/null
meson compile -C "$B" >/dev/null
export TV_BUILD_DIR="$B" TV_SOURCE_DIR="$SRC"
# Whole GPIO controllers only pass through when booted with the host overlay (no host driver
# ever bound: tegravirtd refuses them otherwise), so the bench host is booted that way.
TOPO=$(mktemp /tmp/tv-bench-topo.XXXXXX)
sed -e 's/^\(device [0-9a-f]*\.gpio\) native=tegra186-gpio \(group=[0-9]*\) compatible=[^ ]*/\1 native=tegravirt-none \2 compatible=tegravirt,passthrough bound=no/' \
        "$SRC/tests/fixture/orin-agx.topo" >"$TOPO"
echo "driver tegravirt-none loaded=no" >>"$TOPO"      # what would match tegravirt,passthrough: nothing
export TV_TOPO="$TOPO"
source "$SRC/tests/lib/integration.sh"
tv_setup
rm -f "$TOPO"
cp "$SRC/bench/extra-uarts.xml" "$T/catalog.d/"
tv_start_daemon
BENCH="$B/bench/bench-listdevices"
S="$T/mnt/sys"
CPU=${TV_BENCH_CPU:-0}
PIN=(taskset -c "$CPU")
for pid in "$SIM_PID" "$BUS_PID" "$DAEMON_PID"; do taskset -apc "$CPU" "$pid" >/dev/null; done
requests() { awk '$1 == "requests" { print $2 }' "$T/mnt/stats"; }
# fsync_count CMD...: fsync+fdatasync calls of the daemon while CMD runs
fsync_count() {
        local out="$T/strace.out" spid
        strace -f -c -e trace=fsync,fdatasync -o "$out" -p "$DAEMON_PID" 2>/dev/null &
        spid=$!
        wait_for 10 bash -c "grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/$DAEMON_PID/status"
        "$@" >/dev/null
        kill -INT "$spid"
        wait "$spid" || true
        # strace -c: "% time, seconds, usecs/call, calls, [errors,] syscall"
        awk '$NF == "fsync" || $NF == "fdatasync" { n += $4 } END { print n + 0 }' "$out"
}

# The seed documents' steps as a shell script, one bash per prepare and per release.
mkscript() { # mkscript HOSTDRV:PID...
        {
                echo 'case "$1" in prepare)'
                for d in "$@"; do
                        drv=${d%%:*} pid=${d#*:}
                        echo "echo vfio-platform > $S/bus/platform/devices/$pid/driver_override"
                        [ "$drv" = - ] || echo "echo $pid > $S/bus/platform/drivers/$drv/unbind"
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

echo "# tegravirt bench, $ITER iterations, $(nproc) cpus, timed parts pinned to cpu $CPU, $(date -u +%F)"
ONE=(serial-tegra:3100000.serial)
EIGHT=(serial-tegra:3100000.serial serial-tegra:3140000.serial serial-tegra:31d0000.serial
       -:2200000.gpio -:c2f0000.gpio gk20a:17000000.gpu
       serial-tegra:3110000.serial serial-tegra:3130000.serial)
for set in ONE EIGHT; do
        declare -n devs=$set
        mkscript "${devs[@]}"
        q0=$(requests)
        s=$(timeit "${PIN[@]}" bash -c "$(declare -f script_loop); ITER=$ITER T=$T; script_loop")
        q1=$(requests)
        dom="bench-${#devs[@]}"
        for d in "${devs[@]}"; do
                name=$(busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices |
                        grep -o "\"[a-z0-9_-]*\" \"${d#*:}\"" | cut -d'"' -f2)
                mgr AssignDevice "string:$dom" "string:$name" >/dev/null
        done
        q2=$(requests)
        r=$("${PIN[@]}" "$BENCH" cycle "$dom" "$ITER" | awk '{print $3}')
        q3=$(requests)
        fs=$(fsync_count "${PIN[@]}" "$BENCH" cycle "$dom" 20)
        printf 'prepare+release %d device(s): tegravirtd %.2f ms, seed shell script %.2f ms per cycle, ratio %.3f (target <= 0.2)\n' \
                "${#devs[@]}" "$(echo "$r * 1000 / $ITER" | bc -l)" "$(echo "$s * 1000 / $ITER" | bc -l)" "$(echo "$r / $s" | bc -l)"
        printf '  per cycle: tegravirtd %d FUSE requests, %s fsyncs; seed shell script %d FUSE requests, 0 fsyncs\n' \
                "$(((q3 - q2) / ITER))" "$(echo "scale=1; $fs / 20" | bc -l)" "$(((q1 - q0) / ITER))"
        for d in "${devs[@]}"; do
                name=$(busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices |
                        grep -o "\"[a-z0-9_-]*\" \"${d#*:}\"" | cut -d'"' -f2)
                mgr UnassignDevice "string:$dom" "string:$name" >/dev/null
        done
done

N=$((ITER * 50))
"$BENCH" ping 500 >/dev/null
ping_rate=$("${PIN[@]}" "$BENCH" ping "$N" | awk '{print $4}')
list_rate=$("${PIN[@]}" "$BENCH" list "$N" | awk '{print $4}')
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
# prepare+release against the seed script on a real driver core, in the rig's guest
# (Debian's arm64 kernel under TCG; downloads it once into $B/rig-cache)
"$SRC/bench/bench-rig.sh" "$B" || echo "rig bench: could not run (above)"
# issue 14: tegravirt-gpio-backend per request vs its line provider (goal <= 2x), and with our
# QEMU (-Dqemu=enabled or TV_QEMU_BRIDGE) a guest set-value round trip under TCG
"$SRC/bench/bench-gpio-backend.sh" "$B" || echo "gpio backend bench: could not run (above)"
