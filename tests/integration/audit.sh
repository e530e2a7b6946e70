#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The audit trail (tegravirtd(8), LOGGING): every change is logged exactly once with
# domain=, device=, platform-id= and the caller's uid; plain text without <N> prefixes
# when stderr is not the journal; under systemd (JOURNAL_STREAM names stderr) one
# journal entry per change with MESSAGE_ID and TEGRAVIRT_* fields. The journal is a
# socket of ours in a private mount namespace, on /run/systemd/journal/socket.
if [ -z "${TV_IN_NAMESPACE:-}" ]; then
        source "$(dirname "$0")/../lib/tap.sh"
        tap_require_root "a private mount namespace for the journal socket, setpriv"
        export TV_IN_NAMESPACE=1
        exec unshare --mount --propagation private "$0" "$@"
fi
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/journal
source "$(dirname "$0")/../lib/integration.sh"
MSGID=e7506b69223e495c93f113592f4f53d1
unset JOURNAL_STREAM
tv_setup
chmod 0755 "$T" # nobody must reach the bus socket in it
echo "PrivilegedGroup=nogroup" >>"$T/tegravirtd.conf"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$@"; }
audit_lines() { grep -c "^audit: " "$T/daemon.log" || true; }
# new_lines N: the audit lines logged since there were N
new_lines() { grep "^audit: " "$T/daemon.log" | tail -n +"$(($1 + 1))"; }
# expect_one N PATTERN: exactly one audit line since N, and it matches PATTERN
expect_one() {
        local got; got=$(new_lines "$1")
        [ "$(grep -c . <<<"$got")" = 1 ] && grep -qx -- "$2" <<<"$got" || { echo "  audit lines: '$got'"; return 1; }
}
# expect_lines N PATTERN...: exactly these lines since N, in this order
expect_lines() {
        local n=$1 got i=0; shift
        got=$(new_lines "$n")
        [ "$(grep -c . <<<"$got")" = $# ] || { echo "  audit lines: '$got'"; return 1; }
        for p in "$@"; do
                i=$((i + 1))
                sed -n "${i}p" <<<"$got" | grep -qx -- "$p" || { echo "  line $i: '$(sed -n "${i}p" <<<"$got")', want '$p'"; return 1; }
        done
}
UARTA='domain=vm1 device=uarta platform-id=3100000.serial'
PROXY='audit: bpmp-active platform-id=bpmp_host_proxy uid=daemon: active clocks'

# --- plain text: stderr is a file, no journal
tv_start_daemon
check "start-up: the proxy starts empty, so nothing to narrow and nothing logged" \
        test "$(audit_lines)" = 0
n=$(audit_lines)
check "AssignDevice vm1 uarta" expect_ok AssignDevice string:vm1 string:uarta
check "  ... one audit line: domain, device, platform id, root's uid" expect_one "$n" "audit: assign $UARTA uid=0: assigned"
n=$(audit_lines)
check "assigning again changes nothing" expect_ok AssignDevice string:vm1 string:uarta
check "  ... and logs nothing" test "$(audit_lines)" = "$n"
check "PrepareDomain vm1" expect_ok PrepareDomain string:vm1 string:
check "  ... one line for the BPMP set it widened, one for the device" expect_lines "$n" \
        "$PROXY \[155\] resets \[100\] power domains \[\] parent clocks \[102\]" "audit: prepare $UARTA uid=0: bound to vfio-platform"
n=$(audit_lines)
check "PrepareDomain again changes nothing" expect_ok PrepareDomain string:vm1 string:
check "  ... and logs nothing" test "$(audit_lines)" = "$n"
check "ReleaseDomain vm1" expect_ok ReleaseDomain string:vm1
check "  ... one line for the narrowed set, then one for the device (narrowed before its host driver got it)" expect_lines "$n" \
        "$PROXY \[\] resets \[\] power domains \[\] parent clocks \[\]" "audit: release $UARTA uid=0: back on its host driver"
n=$(audit_lines)
check "UnassignDevice by a PrivilegedGroup member (nobody)" bash -c "$(declare -f as_nobody); as_nobody busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vm1 uarta"
check "  ... logged with the caller's uid, not root's" expect_one "$n" "audit: unassign $UARTA uid=65534: unassigned"
n=$(audit_lines)
check "a refused call (DeviceBusy) logs nothing" bash -c "'$TV_CTL_BIN' assign vm1 uarti >/dev/null && ! '$TV_CTL_BIN' assign vm2 uarti >/dev/null 2>&1"
check "  ... but the assign that worked" expect_one "$n" "audit: assign domain=vm1 device=uarti platform-id=31d0000.serial uid=0: assigned"

# --- reconcile: a prepare killed after the bind is rolled back at start-up, logged without a caller
n=$(audit_lines)
sim "crash-after sys/bus/platform/drivers/vfio-platform/bind 31d0000.serial"
mgr PrepareDomain string:vm1 string: >/dev/null || true
tv_reap_daemon
sim clear
tv_start_daemon
check "restart after a kill -9 mid-prepare: the rollback is logged once, uid=daemon" expect_lines "$n" \
        "audit: reconcile domain=vm1 device=uarti platform-id=31d0000.serial uid=daemon: interrupted detaching step rolled back, host driver restored"
check "  ... uarti is back on serial-tegra" test "$(dev_driver 31d0000.serial)" = serial-tegra
check "no line of the daemon's stderr starts with a <N> priority prefix" bash -c "! grep -q '^<[0-7]>' '$T/daemon.log'"
check "  ... though it logged other messages too" grep -q "ready" "$T/daemon.log"
tv_stop_daemon

# --- under systemd: stderr is the stream JOURNAL_STREAM names
python3 - /run/systemd/journal/socket "$T/journal" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", 0) as f:
    while True:
        f.write(s.recv(1 << 20) + b"\n--\n")
PY
JPID=$!
wait_for 10 test -S /run/systemd/journal/socket
: >>"$T/daemon.log"
n=$(audit_lines)
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/daemon.log") tv_start_daemon
check "AssignDevice vm1 uarta under journald" expect_ok AssignDevice string:vm1 string:uarta
# jentry ACTION: the journal entries of that action, one field a line
jentry() { awk -v RS='\n--\n' -v a="TEGRAVIRT_ACTION=$1" '$0 ~ ("(^|\n)" a "(\n|$)")' "$T/journal"; }
has_fields() { # has_fields ACTION FIELD...: its entry has every FIELD line
        local e f; e=$(jentry "$1"); shift
        for f in "$@"; do grep -qx -- "$f" <<<"$e" || { echo "  missing $f in: $e"; return 1; }; done
}
# the journal socket's reader writes $T/journal on its own time: wait for an entry to arrive
jwait() { wait_for 10 bash -c "$(declare -f jentry); T='$T'; jentry $1 | grep -q '^MESSAGE_ID='"; }
jwait assign
check "  ... one journal entry for it" test "$(jentry assign | grep -c '^MESSAGE_ID=')" = 1
check "  ... with the MESSAGE_ID and the TEGRAVIRT_ fields" has_fields assign MESSAGE_ID=$MSGID TEGRAVIRT_DOMAIN=vm1 \
        TEGRAVIRT_DEVICE=uarta TEGRAVIRT_PLATFORM_ID=3100000.serial TEGRAVIRT_CALLER_UID=0 PRIORITY=5 "MESSAGE=assign: assigned"
check "  ... and not a second time as text on stderr" test "$(audit_lines)" = "$n"
check "PrepareDomain vm1 under journald" expect_ok PrepareDomain string:vm1 string:
jwait bpmp-active
jwait prepare
check "  ... its BPMP set change has no TEGRAVIRT_CALLER_UID (no caller)" bash -c "$(declare -f jentry has_fields); T='$T'; has_fields bpmp-active TEGRAVIRT_PLATFORM_ID=bpmp_host_proxy MESSAGE_ID=$MSGID && ! jentry bpmp-active | grep -q TEGRAVIRT_CALLER_UID"
check "  ... the prepare entries name the caller" has_fields prepare TEGRAVIRT_CALLER_UID=0 TEGRAVIRT_DOMAIN=vm1
check "  ... still no audit text on stderr" test "$(audit_lines)" = "$n"
check "  ... stderr keeps its <N> prefixes for journald" grep -q "^<6>tegravirtd .* ready" "$T/daemon.log"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
kill "$JPID" 2>/dev/null; wait "$JPID" 2>/dev/null || true
tap_finish
