#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Authorization: unprivileged callers may read but not change anything, unless polkit
# says yes; root-only methods stay root-only; a slow polkit blocks nobody else.
source "$(dirname "$0")/../lib/integration.sh"
tap_require_root "setpriv, to call as nobody"
tv_setup
chmod 0755 "$T"   # nobody must reach the bus socket in it
tv_start_daemon
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$@"; }
nobody_call() { # nobody_call METHOD ARGS...
        local method="$1"; shift
        as_nobody dbus-send --system --print-reply --reply-timeout=20000 --dest=org.tegravirt /org/tegravirt \
                "org.tegravirt.Manager1.$method" "$@" 2>&1
}
denied() { local out; out=$(nobody_call "$@") && { echo "  allowed: $out"; return 1; }; grep -q "AccessDenied" <<<"$out" || { echo "  got: $out"; return 1; }; }

check "nobody can ListDevices" bash -c "$(declare -f as_nobody); as_nobody busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices | grep -q uarta"
check "nobody can read Device1 properties" bash -c "$(declare -f as_nobody); as_nobody busctl --system get-property org.tegravirt /org/tegravirt/device/uarta org.tegravirt.Device1 State | grep -q available"
check "nobody can run CheckHost" bash -c "$(declare -f as_nobody); as_nobody busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 CheckHost s '' >/dev/null"
# no polkit on the bus: denied
check "no polkit: AssignDevice denied" denied AssignDevice string:vm1 string:uarta
check "no polkit: UnassignDevice denied" denied UnassignDevice string:vm1 string:uarta
check "no polkit: RepairDomain denied" denied RepairDomain string:vm1
check "PrepareDomain is root only" denied PrepareDomain string:vm1 string:
check "ReleaseDomain is root only" denied ReleaseDomain string:vm1
check "  ... and nothing changed" bash -c "[ ! -e '$T/state/state' ] || ! grep -q '^device' '$T/state/state'"

# a polkit that says no, then yes (python3-dbusmock's polkitd template)
/usr/bin/python3 -m dbusmock --system --template polkitd >"$T/polkit.log" 2>&1 &
POLKIT_PID=$!
trap 'kill $POLKIT_PID 2>/dev/null || true; tv_cleanup' EXIT
wait_for 10 busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 || not_ok "polkit mock did not start"
check "polkit says no: AssignDevice denied" denied AssignDevice string:vm1 string:uarta
busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Mock SetAllowed as 1 org.tegravirt.manage
check "polkit says yes: nobody may AssignDevice" bash -c "$(declare -f as_nobody nobody_call); nobody_call AssignDevice string:vm1 string:uarta | grep -q 'method return'"
check "  ... and it was recorded" grep -q "^device uarta .* domain=vm1 " "$T/state/state"
check "polkit yes does not open root-only PrepareDomain" denied PrepareDomain string:vm1 string:

# a polkit that hangs must not block other clients
busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Mock SimulateHang b true
( nobody_call UnassignDevice string:vm1 string:uarta >"$T/hung.out" ) &
HUNG=$!
wait_for 10 bash -c "busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Mock HaveHangingCalls | grep -q true" || not_ok "polkit never saw the call"
t0=$(date +%s%N)
check "ListDevices answers while polkit thinks" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListDevices | grep -q uarta"
t1=$(date +%s%N)
check "  ... at once (< 2 s)" test $(( (t1 - t0) / 1000000 )) -lt 2000
check "  ... the parked call is still waiting" kill -0 "$HUNG"
busctl --system call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Mock ReleaseHangingCalls
wait "$HUNG" || true
check "the parked call completes once polkit answers" grep -q "method return" "$T/hung.out"
check "  ... and took effect" bash -c "! grep -q '^device uarta .* domain=vm1 ' '$T/state/state'"
# PrivilegedGroup=: members may manage without polkit (polkit gone now)
kill "$POLKIT_PID" 2>/dev/null; wait "$POLKIT_PID" 2>/dev/null || true
tv_stop_daemon || not_ok "daemon exit"
echo "PrivilegedGroup=nogroup" >>"$T/tegravirtd.conf"
tv_start_daemon
check "a PrivilegedGroup member may AssignDevice without polkit" bash -c "$(declare -f as_nobody nobody_call); nobody_call AssignDevice string:vm2 string:uarte | grep -q 'method return'"
check "  ... but PrepareDomain stays root only" denied PrepareDomain string:vm2 string:
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
