#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 12: each running domain's BPMP access is its own /dev/bpmp-host file, narrowed to
# exactly its devices' resources (the ioctl ABI; orin-sim decides with the kernel's own
# bpmp-host-policy.c); a release closes that file, narrows the proxy's active sets and only
# then gives the devices back to their host drivers; a re-bound proxy (empty sets, old files
# ENODEV) is re-synced at the daemon's next operation and CheckHost reports it.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon
BI="$TV_BUILD_DIR/tests/fixture/bpmp-ioctl"
DEVB="$T/mnt/dev/bpmp-host"
LOGP='sys/devices/platform/bus@0'

# The fixture's lines for the open /dev/bpmp-host files of one process, without the file number.
files_of() { # files_of PID
        grep "^bpmp-file [0-9]* pid=$1 " "$T/mnt/status" | sed 's/^bpmp-file [0-9]* //' | sort || true
}
# UARTA: clock 155, reset 100, parent clock 102; the GPU: clocks 304 41 236 (ceiling order), reset 19, power domain 35.
A_SETS="clocks=155 resets=100 power_domains=- parent_clocks=102 enabled=- asserted=- powered=-"
B_SETS="clocks=304,41,236 resets=19 power_domains=35 parent_clocks=- enabled=- asserted=- powered=-"
expect_files() { # expect_files "SETS..." (sorted lines of the daemon's files, state=open)
        local got want=""
        got=$(files_of "$DAEMON_PID")
        for s in "$@"; do want+="pid=$DAEMON_PID state=open $s"$'\n'; done
        want=$(printf '%s' "$want" | sort)
        [ "$got" = "$want" ] || { printf '  files: %s\n  want:  %s\n' "$got" "$want"; return 1; }
}
# seq of the first log line after seq $2 (default 0) that holds the text $1 (and $3 if given)
seq_of() {
        P1=$1 P2=${3:-} awk -v after="${2:-0}" \
                '$1 > after && index($0, ENVIRON["P1"]) && index($0, ENVIRON["P2"]) { print $1; exit }' "$T/mnt/log"
}
firmware() { grep '^bpmp-firmware ' "$T/mnt/status"; }
active() { cat "$T/mnt/sys/bus/platform/devices/bpmp_host_proxy/active_$1"; }

"$TV_CTL_BIN" assign vm1 uarta >/dev/null
"$TV_CTL_BIN" assign vm2 gpu >/dev/null

# --- each running domain holds its own file, narrowed to exactly its resources
check "prepare vm1 (uarta) and vm2 (gpu)" bash -c "'$TV_CTL_BIN' prepare vm1 >/dev/null && '$TV_CTL_BIN' prepare vm2 >/dev/null"
check "  ... the daemon holds one /dev/bpmp-host file per domain, each narrowed to exactly its resources" \
        expect_files "$A_SETS" "$B_SETS"
w=$(seq_of " write $LOGP/bpmp_host_proxy/active_clocks 155\\x20304")
o=$(seq_of ' open dev/bpmp-host ' "${w:-999999}")
check "  ... opened after the active set included the domain (vm2's active_clocks write $w, then an open $o)" \
        bash -c "[ -n '$w' ] && [ -n '$o' ]"
check "tegravirtctl check vm2: bpmp-ioctl and bpmp-active ok" bash -c "'$TV_CTL_BIN' check vm2 >'$T/chk'; grep -q '^ok .*bpmp-ioctl' '$T/chk' && grep -q '^ok .*bpmp-active' '$T/chk'"

# --- a file narrowed to A cannot touch B's resources, though the global set allows them
out=$("$BI" "$DEVB" restrict clocks 155 restrict resets 100 restrict power_domains - restrict parent_clocks 102 \
        clk enable 304 reset assert 19 pg on 35 clk enable 155 2>&1)
check "a fresh file narrowed to vm1's set: B's clock 304, reset 19, power domain 35 are EPERM; A's clock passes" \
        test "$out" = "restrict: ok
restrict: ok
restrict: ok
restrict: ok
clk: EPERM
reset: EPERM
pg: EPERM
clk: ok ret=0 rx=0 word=0"
check "  ... B's clock is globally active (the per-file set refused it)" grep -qw 304 <<<"$(active clocks)"
check "  ... a file cannot widen again (sealed)" test "$("$BI" "$DEVB" restrict clocks 155 restrict clocks 155,304)" = "restrict: ok
restrict: EPERM"

# --- closing a file undoes what it enabled and asserted (firmware state)
mkfifo "$T/hold"
"$BI" "$DEVB" restrict clocks 155 restrict resets 100 clk enable 155 reset assert 100 pause <"$T/hold" >"$T/hold.out" 2>&1 &
HP=$!
exec {HOLD}>"$T/hold"
wait_for 10 grep -q '^pause:' "$T/hold.out" || true
check "while A's file is open the firmware has clock 155 on and reset 100 asserted" \
        test "$(firmware)" = "bpmp-firmware clocks_on=155 resets_asserted=100 power_domains_on=-"
echo >&"$HOLD"; exec {HOLD}>&-; wait "$HP" || true
check "  ... closing it disables 155 and deasserts 100" \
        test "$(firmware)" = "bpmp-firmware clocks_on=- resets_asserted=- power_domains_on=-"

# --- release order: the domain's file is closed, then the active set narrowed, then the host driver binds
mark=$(tail -n 1 "$T/mnt/log" | cut -d' ' -f1)
check "release vm1" expect_ok ReleaseDomain string:vm1
rel=$(seq_of ' release dev/bpmp-host file=' "$mark")
nar=$(seq_of " write $LOGP/bpmp_host_proxy/active_clocks 304" "$mark")
bnd=$(seq_of " write sys/" "$mark" 3100000.serial)
check "  ... vm1's file released ($rel) before the active_clocks narrowing ($nar) before uarta's first host write ($bnd)" \
        bash -c "[ -n '$rel' ] && [ -n '$nar' ] && [ -n '$bnd' ] && [ '$rel' -lt '$nar' ] && [ '$nar' -lt '$bnd' ]"
check "  ... only vm2's file is left" expect_files "$B_SETS"
check "  ... uarta is back on serial-tegra" test "$(dev_driver 3100000.serial)" = serial-tegra

# --- a failing narrowing keeps the devices on vfio-platform, rolled back, for a retry
"$TV_CTL_BIN" prepare vm1 >/dev/null
sim "fail $LOGP/bpmp_host_proxy/active_clocks * EIO"
check "release vm1 with the active_clocks write failing: Failed" expect_error Failed ReleaseDomain string:vm1
check "  ... saying the devices stay on vfio-platform" grep -q "devices stay on vfio-platform (release again to retry)" <<<"$LAST_ERROR"
check "  ... uarta was not given to serial-tegra" test "$(dev_driver 3100000.serial)" = vfio-platform
check "  ... its record is bound again" bash -c "grep -q '^device uarta .* phase=bound ' '$T/state/state'"
check "  ... and vm1 holds a narrowed file again" expect_files "$A_SETS" "$B_SETS"
sim clear
check "release vm1 again" expect_ok ReleaseDomain string:vm1
check "  ... uarta back on serial-tegra" test "$(dev_driver 3100000.serial)" = serial-tegra

# --- a failing RESTRICT undoes the prepare (the proxy is narrowed again before the host driver binds)
sim "ioctl-fail RESTRICT EIO"
mark=$(tail -n 1 "$T/mnt/log" | cut -d' ' -f1)
check "prepare vm1 with RESTRICT failing: Failed" expect_error Failed PrepareDomain string:vm1 string:
check "  ... naming the file" grep -q "cannot narrow /dev/bpmp-host to its clocks" <<<"$LAST_ERROR"
check "  ... uarta is back on serial-tegra, whole" dev_whole 3100000.serial serial-tegra
check "  ... the active sets are vm2's again" test "$(active clocks)|$(active resets)|$(active parent_clocks)" = "304 41 236|19|"
bind=$(seq_of " write sys/bus/platform/drivers/vfio-platform/bind 3100000.serial" "$mark")
nar=$(seq_of " write $LOGP/bpmp_host_proxy/active_clocks 304\\x2041" "${bind:-0}")
bnd=$(seq_of " write sys/" "${nar:-999999}" 3100000.serial)
check "  ... narrowed ($nar) before the undo touched uarta again ($bnd)" bash -c "[ -n '$bind' ] && [ -n '$nar' ] && [ -n '$bnd' ] && [ '$nar' -lt '$bnd' ]"
sim clear

# --- the proxy is re-bound under a running domain: re-synced at the next operation
sim "proxy-rebind bpmp_host_proxy"
check "proxy-rebind: the active sets are empty" test "$(active clocks)|$(active resets)|$(active power_domains)" = "||"
check "  ... vm2's file is stale (ENODEV)" bash -c "grep -q '^bpmp-file [0-9]* pid=$DAEMON_PID state=stale ' '$T/mnt/status'"
check "tegravirtctl check vm2: bpmp-active missing, saying what the proxy enforces and what vm2 needs" bash -c "
        '$TV_CTL_BIN' check vm2 >'$T/chk'; grep -q '^missing .*bpmp-active' '$T/chk' &&
        grep -q 'enforces clocks \[\] resets \[\] power domains \[\] parent clocks \[\], but the running domains need clocks \[304 41 236\]' '$T/chk'"
check "the next operation (prepare vm1)" expect_ok PrepareDomain string:vm1 string:
check "  ... rewrote the active sets for both domains" test "$(active clocks)|$(active resets)|$(active power_domains)" = "155 304 41 236|100 19|35"
# (vm2's BPMP backend held a dup of the stale file: it is replaced, asynchronously, by one on the new file)
check "  ... and gave vm2 a new narrowed file (the stale one closed), vm1 its own" wait_for 5 expect_files "$A_SETS" "$B_SETS"
check "  ... audited" grep -q "re-bound? a fresh probe starts empty" "$T/daemon.log"
check "tegravirtctl check vm2: bpmp-active warning, re-synced once" bash -c "
        '$TV_CTL_BIN' check vm2 >'$T/chk'; grep -q '^warning .*bpmp-active.*re-synced 1 time since start-up' '$T/chk'"

# --- a restart reopens the files of the domains still running
tv_stop_daemon; tv_start_daemon
check "after a daemon restart both running domains hold their narrowed files again" expect_files "$A_SETS" "$B_SETS"
check "release vm1 and vm2" bash -c "'$TV_CTL_BIN' release vm1 && '$TV_CTL_BIN' release vm2"
check "  ... no file is left open" test -z "$(grep '^bpmp-file ' "$T/mnt/status" || true)"

# --- a crash between the release's record and its narrowing: the restart narrows, then rolls forward
"$TV_CTL_BIN" prepare vm1 >/dev/null; "$TV_CTL_BIN" prepare vm2 >/dev/null
sim "crash-before $LOGP/bpmp_host_proxy/active_clocks *"
mgr ReleaseDomain string:vm1 >/dev/null 2>&1 || true
tv_reap_daemon; sim clear
check "killed at the release's narrowing: uarta still on vfio-platform, recorded reattaching" bash -c "
        [ '$(dev_driver 3100000.serial)' = vfio-platform ] && grep -q '^device uarta .* phase=reattaching ' '$T/state/state'"
mark=$(tail -n 1 "$T/mnt/log" | cut -d' ' -f1)
tv_start_daemon
nar=$(seq_of " write $LOGP/bpmp_host_proxy/active_clocks 304\\x2041" "$mark")
bnd=$(seq_of " write sys/" "$mark" 3100000.serial)
check "  ... the restart narrows the active sets ($nar) before uarta's host driver gets it back ($bnd)" \
        bash -c "[ -n '$nar' ] && [ -n '$bnd' ] && [ '$nar' -lt '$bnd' ]"
check "  ... uarta is back on serial-tegra" test "$(dev_driver 3100000.serial)" = serial-tegra
check "  ... vm2 runs with its narrowed file, vm1 has none" expect_files "$B_SETS"
check "release vm2" expect_ok ReleaseDomain string:vm2

# --- an older proxy (write() ABI, no ioctls): refused with a named error, nothing changed
restart_with_topo() { # a fresh fixture with another topology, the same state
        tv_stop_daemon
        fusermount3 -u "$T/mnt"; wait "$SIM_PID" 2>/dev/null || true
        "$TV_SIM_BIN" --topology "$1" --foreground "$T/mnt" 2>>"$T/sim.log" &
        SIM_PID=$!
        wait_for 10 test -e "$T/mnt/control" || { echo "fixture did not mount"; exit 1; }
        tv_start_daemon
}
sed 's/^bpmp-proxy .*/& abi=write/' "$TV_TOPO" >"$T/old.topo"
restart_with_topo "$T/old.topo"
check "an older proxy (write() ABI): prepare vm1 is HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... saying the proxy is older and what to install" grep -q "is older than this tegravirtd (the write() ABI, no ioctls).*install the proxy from this release's kernel/" <<<"$LAST_ERROR"
check "  ... uarta is back on serial-tegra, whole" dev_whole 3100000.serial serial-tegra
check "  ... the proxy allows nothing" test "$(active clocks)|$(active resets)" = "|"
check "tegravirtctl check vm1: bpmp-ioctl missing" bash -c "'$TV_CTL_BIN' check vm1 | grep -q '^missing .*bpmp-ioctl.*write() ABI'"

# --- a proxy in sysfs without its /dev node: refused, naming the node
grep -v '^chardev bpmp-host' "$TV_TOPO" >"$T/nonode.topo"
restart_with_topo "$T/nonode.topo"
check "no /dev/bpmp-host: prepare vm1 is HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the missing node" grep -q "/bpmp-host is missing: the BPMP host proxy is not bound" <<<"$LAST_ERROR"
check "  ... uarta is back on serial-tegra, whole" dev_whole 3100000.serial serial-tegra
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
