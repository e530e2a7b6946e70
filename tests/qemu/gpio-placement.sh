#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gpio-placement.py with the real tegravirt-gpio-backend instead of the stand-in: the
# backend serves the group's lines of orin-sim's simulated chip on the socket tegravirtd
# would give it, our QEMU realizes vhost-user-gpio-device on it with the generated
# arguments, and the device's transport is the DTB node's parent.
# Needs TV_QEMU_BRIDGE (our QEMU, -Dqemu=enabled). Usage: gpio-placement.sh GPIO-PLACE
source "$(dirname "$0")/../lib/integration.sh"
if [ ! -x "${TV_QEMU_BRIDGE:-}" ]; then
        tap_skip_all "no QEMU with the tegravirt-bpmp bridge (TV_QEMU_BRIDGE='${TV_QEMU_BRIDGE:-}'; -Dqemu=enabled)"
fi
tv_setup
BACKEND="$TV_BUILD_DIR/backend/tegravirt-gpio-backend"
SOCK="$T/run/domains/vm1/gpio.sock"
mkdir -p "$T/run/domains/vm1"
chmod 755 "$T" "$T/run" "$T/run/domains" "$T/run/domains/vm1"
# header-main's lines, the names the guest sees; QEMU runs as root here (--peer-uid 0)
"$BACKEND" --domain vm1 --socket "$SOCK" --chip "$T/mnt/dev/gpiochip0" --line 0:106:header-7 \
        --line 0:112:header-11 --line 0:108:header-13 --user nobody --peer-uid 0 2>"$T/backend.log" &
BPID=$!
check "tegravirt-gpio-backend serves vm1's lines" wait_for 5 grep -q serving "$T/backend.log"
check "  ... requested as tegravirt:vm1" wait_for 5 grep -q '^gpio 0 106 consumer=tegravirt:vm1 ' "$T/mnt/status"
TV_GPIO_BACKEND_SOCKET="$SOCK" TV_GPIO_LINE_NAMES="header-7 header-11 header-13" \
        python3 "$(dirname "$0")/gpio-placement.py" "$1" >"$T/place.tap" 2>&1
while read -r line; do
        case "$line" in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        "#"*) echo "$line" ;;
        esac
done <"$T/place.tap"
check "the backend served our QEMU's connection" grep -q "serving client pid" "$T/backend.log"
kill "$BPID" 2>/dev/null || true
wait "$BPID" 2>/dev/null || true
check "  ... and gave its lines back when it stopped" wait_for 5 bash -c "! grep -q '^gpio 0 106 consumer=tegravirt:' '$T/mnt/status'"
tap_finish
