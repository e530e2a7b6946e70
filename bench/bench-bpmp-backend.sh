#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One BPMP transfer (MRQ_CLK IS_ENABLED) through tegravirt-bpmp-backend (a wire protocol
# v1 client, tests/integration/bpmp-client, plays QEMU) vs the same ioctl issued directly
# to the simulated /dev/bpmp-host: a ratio measured in this run (the best of 5 runs of
# TV_BENCH_ITER transfers each), every process on one CPU (TV_BENCH_CPU, default 0).
#   bench/bench-bpmp-backend.sh [BUILDDIR]    (default build-bench, buildtype=release)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-bench}
N=${TV_BENCH_ITER:-3000}
[ -d "$B" ] || meson setup "$B" "$SRC" --buildtype=release >/dev/null
meson compile -C "$B" >/dev/null
export TV_BUILD_DIR="$B" TV_SOURCE_DIR="$SRC"
source "$SRC/tests/lib/integration.sh"
tv_setup
chmod 755 "$T"
PIN=(taskset -c "${TV_BENCH_CPU:-0}")
taskset -apc "${TV_BENCH_CPU:-0}" "$SIM_PID" >/dev/null
echo all >"$T/mnt/sys/bus/platform/devices/bpmp_host_proxy/active_clocks"
"${PIN[@]}" "$B/backend/tegravirt-bpmp-backend" --domain bench --socket "$T/bench.sock" \
        --bpmp-dev "$T/mnt/dev/bpmp-host" --user nobody --peer-uid "$(id -u)" 2>"$T/backend.log" &
BP=$!
wait_for 5 test -S "$T/bench.sock"
read -ra steps <<<"$(for _ in $(seq "$N"); do printf 'clk is-enabled 155 '; done)"
best() { # best CMD...: the fastest of 5 runs, in ns per transfer
        local b=0 s e t
        for _ in 1 2 3 4 5; do
                s=$(date +%s%N); "${PIN[@]}" "$@" >/dev/null; e=$(date +%s%N)
                t=$(((e - s) / N)); { [ "$b" = 0 ] || [ "$t" -lt "$b" ]; } && b=$t
        done
        echo "$b"
}
d=$(best "$B/tests/fixture/bpmp-ioctl" "$T/mnt/dev/bpmp-host" "${steps[@]}")
v=$(best "$B/tests/integration/bpmp-client" "$T/bench.sock" "${steps[@]}")
echo "direct ioctl: $d ns/transfer; through the backend: $v ns/transfer; ratio $(echo "scale=2; $v / $d" | bc)"
kill "$BP"; wait "$BP" 2>/dev/null || true # its file closes before the fixture unmounts (tv_cleanup)
