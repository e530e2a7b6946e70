#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The BPMP host proxy's runtime narrowing (issue 6 part 4): tegravirtd keeps the
# proxy's active clocks/resets/power domains at the union of what the devices of
# running (prepared) domains need, refuses a domain whose device needs something
# outside the DT ceiling, and recovers the set after a crash. The simulated proxy
# enforces the driver's sysfs contract (subset of the ceiling, else EINVAL).
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon
P="$T/mnt/sys/bus/platform/devices/bpmp_host_proxy"
active() { cat "$P/active_$1"; }
sets() { echo "$(active clocks)|$(active resets)|$(active power_domains)|$(active parent_clocks)"; }
expect_sets() { # expect_sets "clocks|resets|pds|parent clocks"
        local got; got=$(sets)
        [ "$got" = "$1" ] || { echo "  active sets: '$got', want '$1'"; return 1; }
}
proxy_writes() { grep -c ' write sys/devices/platform/bus@0/bpmp_host_proxy/active_' "$T/mnt/log" || true; }

# Swaps the simulated host for another topology (fresh state).
restart_with_topo() {
        tv_stop_daemon
        fusermount3 -u "$T/mnt"
        wait "$SIM_PID" 2>/dev/null || true
        rm -rf "$T/state"; mkdir -p "$T/state"
        "$TV_SIM_BIN" --topology "$1" --foreground "$T/mnt" 2>>"$T/sim.log" &
        SIM_PID=$!
        wait_for 10 test -e "$T/mnt/control" || { echo "fixture did not mount"; exit 1; }
        tv_start_daemon
}

# --- start-up: no domain runs, so nothing is allowed
check "allowed_clocks shows the DT ceiling" test "$(cat "$P/allowed_clocks")" = "155 159 304 41 236"
check "allowed_parent_clocks shows the DT parent ceiling" test "$(cat "$P/allowed_parent_clocks")" = "102"
check "at start-up the daemon narrows the proxy to nothing (no domain runs)" expect_sets "|||"
check "  ... the fixture holds it as narrowed, not the DT default" bash -c "grep -q '^bpmp bpmp_host_proxy clocks=- resets=- power_domains=- parent_clocks=-$' '$T/mnt/status'"
check "  ... the proxy started empty (the driver's rule), so the daemon wrote nothing" test "$(proxy_writes)" = 0

# --- prepare/release follow the union of the running domains' devices
check "assign vm1 uarta, vm2 gpu, vm3 uarti" bash -c "'$TV_CTL_BIN' assign vm1 uarta && '$TV_CTL_BIN' assign vm2 gpu && '$TV_CTL_BIN' assign vm3 uarti"
check "assigning alone allows nothing (vm1 is not running)" expect_sets "|||"
check "tegravirtctl check vm1: bpmp-proxy ok" bash -c "'$TV_CTL_BIN' check vm1 | grep -q '^ok .*bpmp-proxy'"
check "prepare vm1" expect_ok PrepareDomain string:vm1 string:
check "  ... active = UARTA's clock and reset, its parent as a parent clock (enable/query only)" expect_sets "155|100||102"
check "prepare vm2" expect_ok PrepareDomain string:vm2 string:
check "  ... active = union with the GPU's clocks, reset and power domain" expect_sets "155 304 41 236|100 19|35|102"
n=$(proxy_writes)
check "prepare vm3 (UARTI needs no BPMP)" expect_ok PrepareDomain string:vm3 string:
check "  ... leaves the proxy untouched (no write)" test "$(proxy_writes)" = "$n"
check "release vm1" expect_ok ReleaseDomain string:vm1
check "  ... narrows to the GPU's resources (and no parent clock)" expect_sets "304 41 236|19|35|"
check "  ... uarta is back on its host driver" test "$(dev_driver 3100000.serial)" = serial-tegra

# --- a restart re-derives the set from the record and writes nothing new
n=$(proxy_writes)
check "daemon restart" bash -c "true"; tv_stop_daemon; tv_start_daemon
check "  ... the active set is unchanged and was not rewritten" bash -c "[ '$(sets)' = '304 41 236|19|35|' ] && [ \$(grep -c ' write sys/devices/platform/bus@0/bpmp_host_proxy/active_' '$T/mnt/log') = $n ]"
check "release vm2 and vm3" bash -c "'$TV_CTL_BIN' release vm2 && '$TV_CTL_BIN' release vm3"
check "  ... nothing allowed" expect_sets "|||"

# --- a failing write of the set undoes the prepare
sim "fail sys/devices/platform/bus@0/bpmp_host_proxy/active_resets * EIO"
check "prepare vm1 with the active_resets write failing: Failed" expect_error Failed PrepareDomain string:vm1 string:
check "  ... names the proxy attribute" grep -q "active resets on bpmp_host_proxy" <<<"$LAST_ERROR"
check "  ... uarta is back on its host driver, whole" dev_whole 3100000.serial serial-tegra
check "  ... and the proxy allows nothing again" expect_sets "|||"
sim clear

# --- a crash between binding and the proxy write is recovered at start
sim "crash-before sys/devices/platform/bus@0/bpmp_host_proxy/active_clocks *"
mgr PrepareDomain string:vm1 string: >/dev/null || true
tv_reap_daemon; sim clear
check "crash before the proxy write: the proxy still allows nothing" expect_sets "|||"
tv_start_daemon
check "  ... restart adopts the bound uarta and allows its resources" expect_sets "155|100||102"
check "  ... uarta is on vfio-platform for vm1" test "$(dev_driver 3100000.serial)" = vfio-platform
check "release vm1" expect_ok ReleaseDomain string:vm1
check "  ... nothing allowed" expect_sets "|||"

# --- a DT ceiling without UARTA's parent clock: refused, naming it, nothing changed
sed 's/^bpmp-proxy .*/bpmp-proxy bpmp_host_proxy native=bpmp-host-proxy clocks=155,304,41,236 resets=100,19 power-domains=35/' \
        "$TV_TOPO" >"$T/narrow.topo"
restart_with_topo "$T/narrow.topo"
"$TV_CTL_BIN" assign vm1 uarta >/dev/null
n=$(proxy_writes)
check "a device needing a clock outside the DT ceiling: HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the device and the clock" grep -q "uarta needs BPMP parent clock 102 (pllp_out0), which the host device tree does not allow (allowed-parent-clocks of bpmp_host_proxy)" <<<"$LAST_ERROR"
check "tegravirtctl check vm1: bpmp-proxy missing, naming the clock" bash -c "'$TV_CTL_BIN' check vm1 >'$T/chk.out'; grep -q '^missing .*bpmp-proxy' '$T/chk.out' && grep -q 'clock 102 (pllp_out0)' '$T/chk.out'"
check "  ... nothing changed on the host" bash -c "[ '$(dev_driver 3100000.serial)' = serial-tegra ] && [ \$(grep -c ' write sys/devices/platform/bus@0/bpmp_host_proxy/active_' '$T/mnt/log') = $n ]"

# --- no proxy at all: a BPMP device is refused, others work
grep -v '^bpmp-proxy ' "$TV_TOPO" >"$T/noproxy.topo"
restart_with_topo "$T/noproxy.topo"
"$TV_CTL_BIN" assign vm1 uarta >/dev/null
"$TV_CTL_BIN" assign vm3 uarti >/dev/null
check "without a BPMP host proxy, a domain with uarta: HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... saying how to add it" grep -q "uarta needs the BPMP host proxy (nvidia,bpmp-host-proxy, /dev/bpmp-host) for clock 155 (uarta), but this host has none: add it to the host device tree (tegravirtctl host-overlay uarta)" <<<"$LAST_ERROR"
check "  ... while a domain with only uarti starts" expect_ok PrepareDomain string:vm3 string:
check "release vm3" expect_ok ReleaseDomain string:vm3

# --- an older proxy without the active_* attributes: works, DT lists apply, warned
sed 's/^bpmp-proxy .*/& narrowing=no/' "$TV_TOPO" >"$T/old.topo"
restart_with_topo "$T/old.topo"
"$TV_CTL_BIN" assign vm1 uarta >/dev/null
check "a proxy that cannot narrow: prepare works" expect_ok PrepareDomain string:vm1 string:
check "  ... the daemon warns that its DT lists apply to every guest" grep -q "cannot narrow its allow-list" "$T/daemon.log"
check "  ... and never wrote to it" test "$(proxy_writes)" = 0
check "tegravirtctl check vm1: bpmp-proxy warning (cannot narrow)" bash -c "'$TV_CTL_BIN' check vm1 | grep -q '^warning .*bpmp-proxy.*cannot narrow'"
check "release vm1" expect_ok ReleaseDomain string:vm1
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
