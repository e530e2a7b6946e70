#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 14: tegravirtd's side of the per-domain GPIO backend. PrepareDomain of a domain with
# line groups starts tegravirt-gpio-backend on a socket that already listens, with one chip
# fd per controller and the lines in assignment order; it requests each line as
# tegravirt:<domain> (orin-sim's simulated chip shows the consumer). tegravirtd answers its
# "peer <pid>" questions (the QEMU user's process whose -name is guest=<domain>), tells it the
# QEMU pid at DomainStarted, restarts it when it dies (lines requested again), adopts it
# across a daemon restart, and ReleaseDomain stops it: lines free, no socket, record or
# process. Its state file (--state-fd, gpio-state) exists while prepared, is the same file
# for every restart and across the daemon restart, and is gone after release. Refused
# prepares leave nothing behind. An adopted backend that was never told its
# QEMU is replaced (it has no control channel to ask on). A backend that cannot start (a line
# the host took after the prepare's check) is retried after 1, 2, 4, 8 s, then given up on
# (logged with its exit status, CheckHost gpio-backend missing) until PrepareDomain or
# DomainStarted re-arms it.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
chmod 755 "$T" # the QEMU user (nobody) reaches the socket under it
mkdir -p "$T/libvirt-qemu" # libvirt's QEMU run dir: <domain>.pid (we play libvirt)
echo "LibvirtQemuRunDir=$T/libvirt-qemu" >>"$T/tegravirtd.conf"
tv_start_daemon
tap_require_cmd setpriv /usr/bin/python3
DIR="$T/run/domains/vm1"
SOCK="$DIR/gpio.sock"
REC="$DIR/gpio-backend"
STATE="$DIR/gpio-state"
BE="$TV_BUILD_DIR/backend/tegravirt-gpio-backend"
QEMU_UID=$(id -u nobody)

backend_pid() { sed -n 's/^pid=\([0-9]*\) start=[0-9]*\( qemu=[0-9]*\)\{0,1\}$/\1/p' "$REC" 2>/dev/null; }
# "gpio CHIP OFFSET consumer=C ..." lines of orin-sim's status
line_consumer() { sed -n "s/^gpio $1 $2 consumer=\([^ ]*\) .*/\1/p" "$T/mnt/status"; }
ours() { # every line of vm1's groups is requested as tegravirt:vm1
        local l
        for l in "0 106" "1 9" "1 1" "1 0" "1 8" "1 2" "1 3"; do
                # shellcheck disable=SC2086
                [ "$(line_consumer $l)" = tegravirt:vm1 ] || return 1
        done
}
none_ours() { ! grep -q 'consumer=tegravirt:vm1 ' "$T/mnt/status"; }
our_backends() { tv_own_backends gpio; }
# no runtime directory for vm1, no GPIO or BPMP backend of this test, no line requested by us
nothing_left() {
        [ ! -e "$DIR" ] && [ -z "$(tv_own_backends gpio)$(tv_own_backends bpmp)" ] &&
                ! grep -q 'consumer=tegravirt:' "$T/mnt/status"
}
# A process of the QEMU user that connects to the socket with "-name NAME" in its command
# line (as libvirt starts QEMU): "open" when the backend keeps the connection for 1.5 s
# (served), "closed" when it closes it (refused).
peer() {
        setpriv --reuid "$QEMU_UID" --regid "$(id -g nobody)" --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(1.5)
try:
    print("closed" if not s.recv(1) else "data")
except socket.timeout:
    print("open")' "$SOCK" -name "$1"
}
# a backend other than pid $1 is recorded and runs
restarted() { local p; p=$(backend_pid); [ -n "$p" ] && [ "$p" != "$1" ] && kill -0 "$p"; }

"$TV_CTL_BIN" assign vm1 header-pin7 >/dev/null
"$TV_CTL_BIN" assign vm1 header-aon >/dev/null

# --- refusals roll back: nothing is left
sim "gpio-use 1 0 regulator-x"
check "a line the host uses: PrepareDomain vm1 -> DeviceBusy" expect_error DeviceBusy PrepareDomain string:vm1 string:
check "  ... no backend, no runtime directory, no line requested" nothing_left
sim "gpio-free 1 0"
tv_stop_daemon
tv_start_daemon --gpio-backend "$T/no-such-backend"
"$TV_CTL_BIN" assign vm1 uarta >/dev/null # a device too: its prepare (vfio, BPMP backend) is undone
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check vm1: gpio-backend missing, the binary cannot run" \
        grep -q "^missing .*gpio-backend.*$T/no-such-backend cannot run" "$T/chk.out"
check "the backend binary missing: PrepareDomain vm1 -> HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming it" grep -q "cannot run the GPIO backend $T/no-such-backend" <<<"$LAST_ERROR"
check "  ... after uarta was bound and its BPMP backend started" grep -q "bpmp-backend: vm1: started pid" "$T/daemon.log"
check "  ... uarta is back on its host driver" grep -q '^3100000.serial driver=serial-tegra ' "$T/mnt/status"
check "  ... its BPMP backend went too: nothing is left (no runtime directory, no process, no line requested)" \
        wait_for 5 nothing_left
check "  ... logged the BPMP backend's stop" grep -q "bpmp-backend: vm1: stopped" "$T/daemon.log"
"$TV_CTL_BIN" unassign vm1 uarta >/dev/null
tv_stop_daemon
tv_start_daemon

# --- prepare starts it
check "PrepareDomain vm1 (header-pin7 on gpio-main, then header-aon on gpio-aon)" expect_ok PrepareDomain string:vm1 string:
P=$(backend_pid)
check "  ... recorded its backend (pid $P, its start time)" bash -c "
        [ -n '$P' ] && [ \"\$(cut -d' ' -f22 /proc/$P/stat)\" = \"\$(sed -n 's/.* start=\\([0-9]*\\).*/\\1/p' '$REC')\" ]"
# recorded before it execs: PrepareDomain may return before the exec
check "  ... which runs tegravirt-gpio-backend of this build" wait_for 5 bash -c "[ \"\$(readlink /proc/$P/exe)\" = '$BE' ]"
check "  ... its socket exists, owned by the QEMU user, mode 0600" test "$(stat -c '%F %u %a' "$SOCK")" = "socket $QEMU_UID 600"
check "  ... its arguments: two chip fds, the lines in assignment order with the catalog's names" bash -c "
        c=\$(tr '\\0' ' ' </proc/$P/cmdline)
        grep -q -- '--domain vm1 --listen-fd 3 --chip-fd 4 --line 0:106:header-7 --chip-fd 5 --line 1:9:header-16 --line 1:1:header-29 .* --line 1:3:header-37 --state-fd 6 ' <<<\"\$c\" &&
        grep -q -- '--uid $QEMU_UID --gid [0-9]* --peer-uid $QEMU_UID --control-fd 7' <<<\"\$c\""
check "  ... its state file exists, a regular file of the QEMU user, mode 0600" \
        test "$(stat -c '%F %u %a' "$STATE")" = "regular file $QEMU_UID 600"
check "  ... which the backend has mapped (and sized: header, 2 queue records, 7 lines)" bash -c "
        grep -q ' $STATE\$' /proc/$P/maps && [ \$(stat -c %s '$STATE') -gt 8192 ]"
STATE_INO=$(stat -c %i "$STATE")
check "  ... each line is requested as tegravirt:vm1 (orin-sim status)" wait_for 5 ours
check "  ... one request per line (gpio-request in orin-sim's log, 7 lines)" \
        test "$(grep -c 'gpio-request .*consumer=tegravirt:vm1 ' "$T/mnt/log")" = 7
check "  ... it runs as the QEMU user" bash -c "[ \"\$(grep '^Uid:' /proc/$P/status | tr -s ' \t' ' ')\" = 'Uid: $QEMU_UID $QEMU_UID $QEMU_UID $QEMU_UID' ]"
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check vm1: gpio-backend ok, naming its pid and socket" \
        grep -q "^ok .*gpio-backend.*vm1: tegravirt-gpio-backend pid $P serves $SOCK" "$T/chk.out"
check "  ... and gpio-lines ok: lines our backend holds are not the host's" grep -q "^ok .*gpio-lines.*header-pin7" "$T/chk.out"
check "PrepareDomain vm1 again: ok" expect_ok PrepareDomain string:vm1 string:
check "  ... the same backend" test "$(backend_pid)" = "$P"

# --- who may connect: tegravirtd answers the backend's "peer <pid>"
check "a QEMU-user process named -name guest=vm1,debug-threads=on is served" test "$(peer guest=vm1,debug-threads=on)" = open
check "  ... tegravirtd logged the allow" grep -q "gpio-backend: vm1: serves pid [0-9]*$" "$T/daemon.log"
check "-name guest=vm10 (another domain, same prefix) is refused" test "$(peer guest=vm10)" = closed
check "  ... tegravirtd logged the deny" grep -q "gpio-backend: vm1: refused pid [0-9]*: not the domain's QEMU" "$T/daemon.log"
check "-name vm1 (no guest=) is refused" test "$(peer vm1)" = closed

# --- kill -9: restarted, the lines requested again
kill -9 "$P"
check "kill -9 the backend: restarted (a new pid recorded)" \
        wait_for 10 restarted "$P"
P2=$(backend_pid)
check "  ... logged" grep -q "gpio-backend: vm1: died (signal KILL) while the domain runs; restarting" "$T/daemon.log"
check "  ... the lines are requested again by the new one" wait_for 5 ours
check "  ... 14 requests in all" test "$(grep -c 'gpio-request .*consumer=tegravirt:vm1 ' "$T/mnt/log")" = 14
check "  ... and it serves the domain's QEMU" test "$(peer guest=vm1)" = open
check "  ... the restarted backend maps the same state file (same inode, not recreated)" bash -c "
        [ \$(stat -c %i '$STATE') = $STATE_INO ] && grep -q ' $STATE\$' /proc/$P2/maps"

# --- DomainStarted: the QEMU pid goes to the backend, and to its restarts
setpriv --reuid "$QEMU_UID" --regid "$(id -g nobody)" --clear-groups sleep 300 &
QEMU_PID=$!
sleep 0.2
echo "$QEMU_PID" >"$T/libvirt-qemu/vm1.pid"
check "DomainStarted vm1 (its QEMU pid $QEMU_PID)" expect_ok DomainStarted string:vm1
check "  ... recorded with the backend" grep -qx "pid=$P2 start=[0-9]* qemu=$QEMU_PID" "$REC"
check "  ... told on the control channel" grep -q "gpio-backend: vm1: serves QEMU pid $QEMU_PID" "$T/daemon.log"
check "  ... now another process, even named guest=vm1, is refused" test "$(peer guest=vm1)" = closed
kill -9 "$P2"
check "kill -9 again: restarted" \
        wait_for 10 restarted "$P2"
P3=$(backend_pid)
wait_for 5 bash -c "[ \"\$(readlink /proc/$P3/exe)\" = '$BE' ]" || true
check "  ... with --peer-pid $QEMU_PID" bash -c "tr '\\0' ' ' </proc/$P3/cmdline | grep -q -- '--peer-pid $QEMU_PID'"
check "  ... lines requested again" wait_for 5 ours

# --- a daemon restart adopts it
check "tegravirtd stops (SIGTERM) with exit status 0" tv_stop_daemon
check "  ... the backend still runs, its lines still requested" bash -c "kill -0 $P3 && [ '$(line_consumer 0 106)' = tegravirt:vm1 ]"
tv_start_daemon
check "a new tegravirtd adopts it" wait_for 5 grep -q "gpio-backend: vm1: adopted pid $P3" "$T/daemon.log"
check "  ... the record is unchanged" grep -qx "pid=$P3 start=[0-9]* qemu=$QEMU_PID" "$REC"
check "  ... lines still requested" ours
check "  ... the state file is still there (same inode)" test "$(stat -c %i "$STATE")" = "$STATE_INO"
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "  ... tegravirtctl check vm1: gpio-backend ok with pid $P3" grep -q "^ok .*gpio-backend.*pid $P3 serves" "$T/chk.out"

# --- release stops it: lines free, socket and record gone
check "ReleaseDomain vm1" expect_ok ReleaseDomain string:vm1
# adopted, so not tegravirtd's child: a zombie until init reaps it
check "  ... the backend is gone" bash -c "! kill -0 $P3 2>/dev/null || grep -q '^State:.Z' /proc/$P3/status"
check "  ... every line is free (no consumer tegravirt:vm1)" none_ours
check "  ... orin-sim logged the releases" grep -q "gpio-release" "$T/mnt/log"
check "  ... no state file" test ! -e "$STATE"
check "  ... no socket, no record, no domain directory" test ! -e "$DIR"
check "  ... no tegravirt-gpio-backend process of this build is left" test -z "$(our_backends)"
check "  ... logged stopped" grep -q "gpio-backend: vm1: stopped" "$T/daemon.log"
check "DomainStarted after the release: HostNotReady (no backend runs)" expect_error HostNotReady DomainStarted string:vm1
kill "$QEMU_PID" 2>/dev/null || true
wait "$QEMU_PID" 2>/dev/null || true

# --- a backend that died while tegravirtd was down is started again by the next one
check "PrepareDomain vm1 once more" expect_ok PrepareDomain string:vm1 string:
P4=$(backend_pid)
tv_stop_daemon
kill -9 "$P4"
check "  ... with tegravirtd down, its backend killed: its lines are free" wait_for 5 none_ours
tv_start_daemon
check "the next tegravirtd starts a new one for the still-prepared domain" \
        wait_for 10 restarted "$P4"
check "  ... lines requested again" wait_for 5 ours
check "ReleaseDomain vm1" expect_ok ReleaseDomain string:vm1
check "  ... nothing left" bash -c "[ ! -e '$DIR' ] && ! grep -q 'consumer=tegravirt:vm1 ' '$T/mnt/status'"
check "  ... no backend process of this build" test -z "$(our_backends)"

# --- adopted without a QEMU pid (prepared, not started): its control channel died with the
# previous tegravirtd, so it would serve any process of the QEMU user without asking; it is
# replaced by one that asks
check "PrepareDomain vm1 (no DomainStarted)" expect_ok PrepareDomain string:vm1 string:
P5=$(backend_pid)
tv_stop_daemon
tv_start_daemon
check "a new tegravirtd adopts it, then replaces it: no control channel, no QEMU pid" \
        wait_for 5 grep -q "gpio-backend: vm1: adopted pid $P5 has no control channel and no QEMU pid: replaced" "$T/daemon.log"
check "  ... a new backend runs" wait_for 10 restarted "$P5"
P6=$(backend_pid)
check "  ... the old one is gone" bash -c "! kill -0 $P5 2>/dev/null || grep -q '^State:.Z' /proc/$P5/status"
check "  ... lines requested again" wait_for 5 ours
check "  ... a QEMU-user process named guest=vm10 is refused (asked on the new control channel)" \
        test "$(peer guest=vm10)" = closed
check "  ... the domain's QEMU (guest=vm1) is served" test "$(peer guest=vm1)" = open
check "ReleaseDomain vm1" expect_ok ReleaseDomain string:vm1
check "  ... nothing left" bash -c "[ ! -e '$DIR' ] && [ -z '$(our_backends)' ] && ! grep -q 'consumer=tegravirt:vm1 ' '$T/mnt/status'"

# --- a backend that cannot start (a line the host took after the prepare's check): the
# restarts back off (1 s, 2 s, 4 s, 8 s), tegravirtd gives up after 5 and says so in the
# log and in CheckHost; the next PrepareDomain starts it again
check "PrepareDomain vm1" expect_ok PrepareDomain string:vm1 string:
P7=$(backend_pid)
tv_stop_daemon
kill -9 "$P7"
wait_for 5 none_ours || true
sim "gpio-use 1 0 regulator-x"
L0=$(($(wc -l <"$T/daemon.log") + 1))
since() { tail -n +"$L0" "$T/daemon.log"; } # this tegravirtd's log
tv_start_daemon
check "the host took line 1 0: each start exits 1; tegravirtd gives up after 5" \
        wait_for 40 bash -c "tail -n +$L0 '$T/daemon.log' | grep -q 'gpio-backend: vm1: gave up: 5 starts of tegravirt-gpio-backend in a row failed within 5 s (last: exit status 1)'"
check "  ... it started it 5 times" test "$(since | grep -c 'gpio-backend: vm1: started pid')" = 5
check "  ... waiting 1 s, 2 s, 4 s, 8 s between them" bash -c "
        [ \"\$(tail -n +$L0 '$T/daemon.log' | sed -n 's/.*gpio-backend: vm1: restarting in \([0-9]*\) s .*/\1/p' | tr '\n' ' ')\" = '1 2 4 8 ' ]"
check "  ... the backend's own reason is in the log (its stderr), each time" \
        test "$(since | grep -c 'tegravirt-gpio-backend\[vm1\]: cannot request line .* (chip 1 offset 0): EBUSY')" = 5
sleep 3
check "  ... and nothing is started after giving up" test "$(since | grep -c 'gpio-backend: vm1: started pid')" = 5
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check vm1: gpio-backend missing, tegravirtd gave up, last exit status, what to do" \
        bash -c "grep -q '^missing .*gpio-backend.*vm1: no GPIO backend runs: tegravirtd gave up after 5 starts in a row failed (last: exit status 1)' '$T/chk.out' &&
                 grep -q 'fix: journalctl -u tegravirtd: .*free it); then tegravirtctl prepare' '$T/chk.out'"
sim "gpio-free 1 0"
check "the line freed: PrepareDomain vm1 starts it again" expect_ok PrepareDomain string:vm1 string:
check "  ... lines requested" wait_for 5 ours
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "  ... tegravirtctl check vm1: gpio-backend ok" grep -q "^ok .*gpio-backend.*vm1: tegravirt-gpio-backend pid" "$T/chk.out"
# ... and DomainStarted re-arms it too, with the QEMU pid
P8=$(backend_pid)
tv_stop_daemon
kill -9 "$P8"
wait_for 5 none_ours || true
sim "gpio-use 1 0 regulator-x"
L0=$(($(wc -l <"$T/daemon.log") + 1))
tv_start_daemon
check "the host took line 1 0 again: tegravirtd gives up again" \
        wait_for 40 bash -c "tail -n +$L0 '$T/daemon.log' | grep -q 'gpio-backend: vm1: gave up: 5 starts'"
sim "gpio-free 1 0"
setpriv --reuid "$QEMU_UID" --regid "$(id -g nobody)" --clear-groups sleep 300 &
QEMU_PID=$!
sleep 0.2
echo "$QEMU_PID" >"$T/libvirt-qemu/vm1.pid"
check "DomainStarted vm1 (QEMU pid $QEMU_PID) starts it again" expect_ok DomainStarted string:vm1
P9=$(backend_pid)
check "  ... a backend runs, recorded with the QEMU pid" bash -c "[ -n '$P9' ] && grep -qx 'pid=$P9 start=[0-9]* qemu=$QEMU_PID' '$REC'"
wait_for 5 bash -c "[ \"\$(readlink /proc/$P9/exe)\" = '$BE' ]" || true
check "  ... with --peer-pid $QEMU_PID" bash -c "tr '\\0' ' ' </proc/$P9/cmdline | grep -q -- '--peer-pid $QEMU_PID'"
check "  ... lines requested" wait_for 5 ours
check "ReleaseDomain vm1" expect_ok ReleaseDomain string:vm1
check "  ... nothing left" bash -c "[ ! -e '$DIR' ] && [ -z '$(our_backends)' ] && ! grep -q 'consumer=tegravirt:vm1 ' '$T/mnt/status'"
kill "$QEMU_PID" 2>/dev/null || true
wait "$QEMU_PID" 2>/dev/null || true
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
