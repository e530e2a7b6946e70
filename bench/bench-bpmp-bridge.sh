#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# BPMP transfer through the bridge vs the same ioctl issued directly, in one run, on the
# simulated Orin: tegravirtd prepares vm1 (uarta) and starts its tegravirt-bpmp-backend; our
# QEMU (-Dqemu=enabled, or TV_QEMU_BRIDGE) runs as the QEMU user with -accel qtest.
# Prints per-transfer times and the ratio (never a timed assertion).
#   bench/bench-bpmp-bridge.sh [BUILDDIR] [N]
SRC=$(cd "$(dirname "$0")/.." && pwd)
export TV_BUILD_DIR=$(cd "${1:-$SRC/build-bench}" && pwd) TV_SOURCE_DIR="$SRC"
N=${2:-500}
QEMU=${TV_QEMU_BRIDGE:-$TV_BUILD_DIR/qemu/qemu-system-aarch64}
[ -x "$QEMU" ] || { echo "no QEMU with the bridge at $QEMU (configure with -Dqemu=enabled or set TV_QEMU_BRIDGE)" >&2; exit 1; }
source "$SRC/tests/lib/integration.sh"
tv_setup
chmod 755 "$T"
tv_start_daemon
"$TV_CTL_BIN" assign vm1 uarta >/dev/null
mgr PrepareDomain string:vm1 string: >/dev/null
wait_for 5 test -S "$T/run/domains/vm1/bpmp.sock" || { echo "no backend socket" >&2; exit 1; }
mkdir -p "$T/q"; chown nobody:nogroup "$T/q"
# every process of the path on one CPU (TV_BENCH_CPU, as bench/run.sh): a wakeup across CPUs
# costs several times one on the same CPU, and placement alone would swing the figures
CPU=${TV_BENCH_CPU:-0}
BPID=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$T/run/domains/vm1/backend")
for pid in "$SIM_PID" "$DAEMON_PID" "$BPID"; do taskset -apc "$CPU" "$pid" >/dev/null; done
taskset -c "$CPU" python3 "$SRC/bench/bench-bpmp-bridge.py" "$T/mnt/dev/bpmp-host" "$QEMU" "$T/run/domains/vm1/bpmp.sock" "$T/q" \
        "$(id -u nobody)" "$(id -g nobody)" "$N"
rc=$?
"$TV_CTL_BIN" release vm1 >/dev/null
exit $rc
