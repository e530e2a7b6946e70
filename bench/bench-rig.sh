#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# prepare+release on a real driver core: tegravirtd's binding engine against the seed's echo
# script (driver_override, unbind, drivers_probe and back), both inside the rig's guest
# (Debian 12's arm64 kernel under TCG, tests/rig/README.md), in one run. Prints the ratio and
# where the time goes. Not a test: TCG figures are for ratios only.
#   bench/bench-rig.sh [BUILDDIR] [N]      (default build-bench, 300 cycles)
# The rig cache is BUILDDIR/rig-cache (TV_RIG_CACHE), shared with the rig test.
# The guest runs with -icount shift=0,sleep=off: its clock counts emulated instructions
# (1 ns each), so the figures are the same from run to run whatever else the host runs, and
# TCG's own costs (translating code, emulated TLB flushes at every exec) do not distort
# them. TV_BENCH_RIG_ICOUNT=0 times wall-clock TCG instead (noisy on a shared machine: the
# same run measured 0.27x and 0.85x).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-bench}
N=${2:-${TV_BENCH_RIG_ITER:-300}}
icount="-icount shift=0,sleep=off"
clock="guest instructions, 1 ns each"
if [ "${TV_BENCH_RIG_ICOUNT:-1}" = 0 ]; then icount="" clock="wall clock under TCG"; fi
mkdir -p "$B"
CACHE=${TV_RIG_CACHE:-$(cd "$B" && pwd)/rig-cache}
T=$(mktemp -d "${TMPDIR:-/tmp}/tv-bench-rig.XXXXXX")
trap 'rm -rf "$T"' EXIT

"$SRC/tests/rig/rig-kbuild.sh" "$CACHE" >/dev/null 2>"$T/kbuild.err" ||
        { echo "rig bench: no rig kernel: $(tail -n1 "$T/kbuild.err")"; exit 1; }
mapfile -t tools < <("$SRC/tests/rig/build-tools.sh" "$CACHE/tools")
echo "$N" >"$T/iterations"
TV_RIG_QEMU_ARGS="$icount ${TV_RIG_QEMU_ARGS:-}" TV_RIG_TIMEOUT=${TV_RIG_TIMEOUT:-1200} "$SRC/tests/rig/rig-run.sh" "$CACHE" "$SRC/bench/rig-bench-guest.sh" \
        "${tools[@]}" "$T/iterations" >"$T/out" 2>"$T/err" || true
if ! grep -q '^BENCH-DONE' "$T/out"; then
        echo "rig bench: the guest did not finish"; sed 's/^/  /' "$T/out" "$T/err" | tail -n 30
        exit 1
fi
v() { sed -n "s/^BENCH $1 //p" "$T/out"; }
seed=$(v seed-script) proc=$(v engine-process) res=$(v engine-resident) floor=$(v sysfs-floor) exe=$(v exec-static)
echo "# rig bench: $N prepare+release cycles of a003e00.virtio_mmio each way, Debian $(. "$CACHE/rig.env"; echo "$RIG_KVER") under TCG, 1 vCPU, time: $clock, $(date -u +%F)"
printf 'rig prepare+release: engine resident (as in tegravirtd) %.2f ms, seed echo script %.2f ms per cycle, ratio %.3f (target <= 0.2)\n' \
        "$res" "$seed" "$(echo "$res / $seed" | bc -l)"
printf '  engine one process per prepare and per release %.2f ms per cycle, ratio %.3f\n' \
        "$proc" "$(echo "$proc / $seed" | bc -l)"
printf '  the six sysfs writes alone in one shell (the driver core'"'"'s own work) %.2f ms per cycle: %.0f%% of the seed script, %.0f%% of the resident engine\n' \
        "$floor" "$(echo "100 * $floor / $seed" | bc -l)" "$(echo "100 * $floor / $res" | bc -l)"
printf '  one fork+exec of a static program %.2f ms (the seed script pays two per cycle)\n' "$exe"
printf '  resident engine per cycle:'
for p in driver_override unbind bind drivers_probe chown record other; do
        printf ' %s %.2f' "$p" "$(v "part-$p")"
done
printf ' (ms)\n'
