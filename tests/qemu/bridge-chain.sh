#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13, the whole host side of the chain: window -> our QEMU's tegravirt-bpmp -> the
# domain's tegravirt-bpmp-backend (started by tegravirtd at PrepareDomain, confined, peer
# uid checked) -> its narrowed /dev/bpmp-host -> the simulated firmware (tests/fixture).
# QEMU runs as the QEMU user (nobody) with -accel qtest; tests/qemu/qtest-session.py writes
# the transfers into the window as the guest proxy does. Two domains, two QEMUs, two
# backends: neither can touch the other's clock; a backend killed mid-transfer leaves the
# guest's marker, no hang, and the restarted backend serves the next request.
# Needs TV_QEMU_BRIDGE (our QEMU, -Dqemu=enabled).
source "$(dirname "$0")/../lib/integration.sh"
if [ ! -x "${TV_QEMU_BRIDGE:-}" ]; then
        tap_skip_all "no QEMU with the tegravirt-bpmp bridge (TV_QEMU_BRIDGE='${TV_QEMU_BRIDGE:-}'; -Dqemu=enabled)"
fi
tv_setup
chmod 755 "$T" # the QEMU user reaches the sockets under it
# libvirt's pid files, which DomainStarted (the "started" hook's call) reads
mkdir -p "$T/libvirt-qemu"
echo "LibvirtQemuRunDir=$T/libvirt-qemu" >>"$T/tegravirtd.conf"
tv_start_daemon
SESSION="$TV_SOURCE_DIR/tests/qemu/qtest-session.py"
QU=$(id -u nobody) QG=$(id -g nobody)
firmware() { grep '^bpmp-firmware ' "$T/mnt/status"; }
session() { # session DOMAIN STEP...: our QEMU as the QEMU user on DOMAIN's socket
        local d=$1; shift
        mkdir -p "$T/q-$d"; chown "$QU:$QG" "$T/q-$d"
        timeout 60 python3 "$SESSION" --uid "$QU" --gid "$QG" --timeout-ms 1000 "$TV_QEMU_BRIDGE" \
                "$T/run/domains/$d/bpmp.sock" "$T/q-$d" "$@" 2>>"$T/qemu-$d.log"
}

"$TV_CTL_BIN" assign vm1 uarta >/dev/null
"$TV_CTL_BIN" assign vm2 gpu >/dev/null
check "prepare vm1 (uarta: clock 155)" expect_ok PrepareDomain string:vm1 string:
check "  ... its backend listens" wait_for 5 test -S "$T/run/domains/vm1/bpmp.sock"

out=$(session vm1 wait-connected started "$T/libvirt-qemu/vm1.pid" vm1 window clk enable 155 clk is-enabled 155 clk enable 304)
diag "$out"
check "the \"started\" hook's DomainStarted names this QEMU to vm1's backend" test "$(sed -n 2p <<<"$out")" = "started: ok"
# (no vfio-platform here: the fixture has no VFIO; bridge-qtest.py covers the placement rule)
check "the window lands where our placement puts a bridge alone" \
        test "$(sed -n 's/^window: //p' <<<"$out")" = "$("$TV_BUILD_DIR/tests/qemu/bpmp-place" "$TV_CATALOG")"
check "a clock enable written into the window returns firmware status 0, no payload" \
        test "$(sed -n 4p <<<"$out")" = "clk: ret=0 rx_size=0 rx="
check "  ... and the simulated firmware has clock 155 on" \
        test "$(firmware)" = "bpmp-firmware clocks_on=155 resets_asserted=- power_domains_on=-"
check "is-enabled comes back through the window: 4 bytes, value 1" \
        test "$(sed -n 5p <<<"$out")" = "clk: ret=0 rx_size=4 rx=01000000"
check "a clock outside vm1's set (the GPU's 304) gives the guest its marker (-EIO)" \
        test "$(sed -n 6p <<<"$out")" = "clk: marker"
check "  ... the firmware is untouched" test "$(firmware)" = "bpmp-firmware clocks_on=155 resets_asserted=- power_domains_on=-"
check "  ... the backend logged the denial, naming the domain" grep -q "tegravirt-bpmp-backend\[vm1\]: MRQ 22 denied" "$T/daemon.log"

# the backend dies while QEMU waits for its reply; tegravirtd restarts it; QEMU redials
# a second QEMU for the same prepared domain: announced before it connects (the backend
# closes a connection from any pid but the announced one)
out=$(session vm1 started "$T/libvirt-qemu/vm1.pid" vm1 wait-connected kill-during "$T/run/domains/vm1/backend" clk disable 155 wait-connected clk disable 155)
diag "$out"
ms=$(sed -n '3s/.*(\([0-9]*\) ms)$/\1/p' <<<"$out")
check "a backend killed mid-transfer: the guest gets its marker, within the timeout (${ms:-?} ms)" \
        bash -c "[[ '$(sed -n 3p <<<"$out")' == 'kill-during: marker ('* ]] && [ '${ms:-9999}' -lt 1000 ]"
check "  ... QEMU reconnects to the restarted backend" bash -c "sed -n 4p <<<'$out' | grep -q '^wait-connected: unix:'"
check "  ... which serves the next request" test "$(sed -n 5p <<<"$out")" = "clk: ret=0 rx_size=0 rx="
check "  ... the firmware has clock 155 off" test "$(firmware)" = "bpmp-firmware clocks_on=- resets_asserted=- power_domains_on=-"

check "prepare vm2 (gpu: clock 304)" expect_ok PrepareDomain string:vm2 string:
check "  ... its backend listens" wait_for 5 test -S "$T/run/domains/vm2/bpmp.sock"
out=$(session vm2 wait-connected started "$T/libvirt-qemu/vm2.pid" vm2 clk enable 155 clk enable 304)
diag "$out"
check "vm2's QEMU cannot enable vm1's clock 155 through its own bridge: marker" test "$(sed -n 3p <<<"$out")" = "clk: marker"
check "  ... vm2's backend logged it" grep -q "tegravirt-bpmp-backend\[vm2\]: MRQ 22 denied" "$T/daemon.log"
check "  ... but enables its own clock 304" test "$(sed -n 4p <<<"$out")" = "clk: ret=0 rx_size=0 rx="
check "  ... the firmware has exactly 304 on" test "$(firmware)" = "bpmp-firmware clocks_on=304 resets_asserted=- power_domains_on=-"
check "release vm1 and vm2: their backends stop" bash -c "
        '$TV_CTL_BIN' release vm1 >/dev/null && '$TV_CTL_BIN' release vm2 >/dev/null &&
        ! pgrep -P '$DAEMON_PID' -x tegravirt-bpmp- >/dev/null"
check "no QEMU is left" bash -c "! pgrep -u nobody -f -- '-qtest unix:$T/' >/dev/null"
diag "$(cat "$T"/qemu-*.log 2>/dev/null | head -20)"
tap_finish
