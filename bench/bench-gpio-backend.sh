#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 14's performance figures, as ratios measured in one run:
#  1. tegravirt-gpio-backend's per-request cost: SET_VALUE of a guest line through the backend
#     (tests/lib/vu-front plays QEMU and the guest driver) vs the same set called directly on
#     its line provider (backend/gpio-lines.c), both on orin-sim's simulated gpiochip0, every
#     process on one CPU (TV_BENCH_CPU, default 0); bench-gpio-backend.c (goal: ratio <= 2).
#  2. with TV_QEMU_BRIDGE (our QEMU) and the rig's kernel side: a guest set-value round trip
#     under TCG (tvgpio-guest in Debian's arm64 kernel, gpio-virtio, QEMU's vhost-user-gpio
#     device, the backend, the simulated chip) against the same guest's GET_CHIPINFO ioctl,
#     which stays in the guest kernel (reported, no goal: TCG).
#  3. the same as 1 on Linux's own chardev: tests/gpio-guest/rig-gpio-backend.sh in the rig
#     (gpio-sim, Debian's arm64 kernel under TCG, one vCPU), TV_RIG_GPIO_BENCH_ITER requests.
#   bench/bench-gpio-backend.sh [BUILDDIR]    (default build-bench, buildtype=release)
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
CPU=${TV_BENCH_CPU:-0}
PIN=(taskset -c "$CPU")
taskset -apc "$CPU" "$SIM_PID" >/dev/null
CHIP="$T/mnt/dev/gpiochip0"
# the backend on line 106 (guest line 0); the direct provider on 112, a line of the same chip;
# with a state file as tegravirtd passes it (its records are written on every request)
: >"$T/gpio-state"
"${PIN[@]}" "$B/backend/tegravirt-gpio-backend" --domain bench --socket "$T/gpio.sock" --chip "$CHIP" \
        --line 0:106:bench --user nobody --peer-uid "$(id -u)" --state-fd 9 9<>"$T/gpio-state" 2>"$T/backend.log" &
BP=$!
wait_for 5 test -S "$T/gpio.sock"
echo "GPIO backend (SET_VALUE, $N requests, best of 5): $("${PIN[@]}" "$B/bench/bench-gpio-backend" "$CHIP" 112 "$T/gpio.sock" "$N")"
kill "$BP"; wait "$BP" 2>/dev/null || true

# --- the real chardev, in the rig ---------------------------------------------------------------
if TV_RIG_GPIO_BENCH_ITER=${TV_RIG_GPIO_BENCH_ITER:-1000} "$SRC/tests/gpio-guest/rig-gpio-backend.sh" >"$T/rig.out" 2>&1; then
        sed -n 's/^# rig bench /GPIO backend on the real chardev, in the rig /p' "$T/rig.out"
else
        echo "GPIO backend on the real chardev: the rig test failed"; grep '^not ok' "$T/rig.out" || tail -n 5 "$T/rig.out"
fi

# --- the guest's set-value round trip under TCG ---------------------------------------------
QEMU=${TV_QEMU_BRIDGE:-$(ls "$B"/qemu/qemu-system-aarch64 2>/dev/null || true)}
if [ ! -x "$QEMU" ]; then
        echo "guest set-value round trip: skipped (no QEMU with vhost-user-gpio's IRQ feature: -Dqemu=enabled or TV_QEMU_BRIDGE)"
        exit 0
fi
TV_QEMU_BRIDGE=$QEMU
source "$SRC/tests/gpio-guest/guest-lib.sh"
not_ok() { echo "guest bench: $*" >&2; }
ok() { :; }
gg_build
gg_initrd "$T/initrd"
"$B/backend/tegravirt-gpio-backend" --domain vm1 --socket "$T/gpio.sock" --chip "$CHIP" \
        --line 0:106:bench --user nobody --peer-uid "$(id -u nobody)" 2>"$T/backend.log" &
BP=$!
wait_for 5 test -S "$T/gpio.sock"
chown nobody "$T/gpio.sock" 2>/dev/null || true
"$QEMU" -machine virt -cpu cortex-a57 -smp 1 -m 256 -nographic -nodefaults -machine dumpdtb="$T/base.dtb" >/dev/null 2>&1 || true
mapfile -t QARGS < <("$B/tests/qemu/gpio-place" "$T/gpio.sock" "$T/base.dtb" "$T/guest.dtb" bench)
gg_qemu_start "$T/gpio.sock" "$T/guest.dtb" vm1 "${QARGS[@]}"
gg_qmp cont
GN=${TV_BENCH_GUEST_ITER:-2000}
if gg_ready 300 && gg_cmd find && gg_cmd "out 0 0" &&
        gg_cmd "bench set 0 $GN" 600 && set_out=$GG_OUT && gg_cmd "bench info 0 $GN" 600; then
        s=$(sed -n 's/^bench set .* \([0-9]*\) ns\/op$/\1/p' <<<"$set_out")
        i=$(sed -n 's/^bench info .* \([0-9]*\) ns\/op$/\1/p' <<<"$GG_OUT")
        echo "guest set-value round trip under TCG: $s ns/op (in-guest GET_CHIPINFO ioctl: $i ns/op; ratio $(echo "scale=1; $s / $i" | bc)); $GN sets"
else
        echo "guest set-value round trip: the guest did not answer"; gg_console | tail -n 20
fi
gg_send quit
gg_qemu_wait 60 || gg_qemu_kill
kill "$BP"; wait "$BP" 2>/dev/null || true
