#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13: PrepareDomain starts the domain's tegravirt-bpmp-backend on a socket that already
# listens, holding only that socket and the domain's narrowed /dev/bpmp-host, unprivileged
# (QemuUser=nobody), no capabilities, no_new_privs, seccomp; it serves the wire protocol v1 to
# the QEMU user only (tests/integration/bpmp-client.c plays QEMU) and its transfers reach the
# simulated firmware; a restarted tegravirtd adopts it, a killed one is restarted, ReleaseDomain
# stops it and leaves no process, socket or record.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
chmod 755 "$T" # the QEMU user (nobody) reaches the socket under it
# a qemu.conf whose ACL has uarta's VFIO nodes but not /dev/bpmp-host: QEMU no longer opens it
UARTA_GROUP=$(sim_status 3100000.serial | sed -n 's/.* group=\([0-9]*\).*/\1/p')
printf 'cgroup_device_acl = [ "/dev/null", "/dev/kvm", "/dev/vfio/vfio", "/dev/vfio/%s" ]\n' "$UARTA_GROUP" >"$T/qemu.conf"
sed -i "s|^QemuConf=.*|QemuConf=$T/qemu.conf|" "$T/tegravirtd.conf"
mkdir -p "$T/libvirt-qemu" # libvirt's QEMU run dir: <domain>.pid (we play libvirt)
echo "LibvirtQemuRunDir=$T/libvirt-qemu" >>"$T/tegravirtd.conf"
tv_start_daemon
CLIENT="$TV_BUILD_DIR/tests/integration/bpmp-client"
DIR="$T/run/domains/vm1"
SOCK="$DIR/bpmp.sock"
QEMU_UID=$(id -u nobody)

backend_pid() { sed -n 's/^pid=\([0-9]*\) start=[0-9]*\( qemu=[0-9]*\)\{0,1\}$/\1/p' "$DIR/backend" 2>/dev/null; }
firmware() { grep '^bpmp-firmware ' "$T/mnt/status"; }
client() { "$CLIENT" --uid "$QEMU_UID" "$SOCK" "$@"; }
# The domain's "QEMU": one long-lived bpmp-client of the QEMU user taking steps on fd 7,
# answering on fd 8 (q STEP prints its one answer line, "-" after 3 s without one).
qemu_start() {
        rm -f "$T/q.in" "$T/q.out"; mkfifo "$T/q.in" "$T/q.out"
        "$CLIENT" --uid "$QEMU_UID" "$SOCK" - <"$T/q.in" >"$T/q.out" 2>>"$T/q.err" &
        QEMU_PID=$!
        exec 7>"$T/q.in" 8<"$T/q.out"
        wait_for 5 grep -q "vm1\]: client pid $QEMU_PID uid $QEMU_UID connected" "$T/daemon.log" || true
}
# killed: a tegravirtd started meanwhile inherited fd 7, so the client would not see EOF
qemu_stop() { exec 7>&- 8<&-; kill "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; }
q() { local l; echo "$*" >&7; read -r -t "${QT:-3}" -u 8 l || l=-; echo "$l"; }
# libvirt's "started" hook: the pid file, then DomainStarted
started() { echo "$1" >"$T/libvirt-qemu/vm1.pid"; expect_ok DomainStarted string:vm1; }
our_backends() { tv_own_backends bpmp; }

"$TV_CTL_BIN" assign vm1 uarta >/dev/null
check "prepare vm1 (uarta needs the BPMP), qemu.conf's ACL without /dev/bpmp-host" expect_ok PrepareDomain string:vm1 string:
check "  ... tegravirtctl check vm1: qemu.conf ok" bash -c "'$TV_CTL_BIN' check vm1 | grep -q '^ok .*qemu.conf'"
check "  ... and bpmp-backend ok, naming its pid and socket" bash -c "
        '$TV_CTL_BIN' check vm1 | grep -q \"^ok .*bpmp-backend.*vm1: tegravirt-bpmp-backend pid \$(sed -n 's/^pid=\\([0-9]*\\) .*/\\1/p' '$DIR/backend') serves $SOCK\""
P=$(backend_pid)
check "  ... recorded its backend in the runtime dir (pid $P, its start time)" bash -c "
        [ -n '$P' ] && [ \"\$(cut -d' ' -f22 /proc/$P/stat)\" = \"\$(sed -n 's/.* start=//p' '$DIR/backend')\" ]"
check "  ... which runs tegravirt-bpmp-backend" test "$(cat /proc/"$P"/comm)" = tegravirt-bpmp-
check "  ... its socket exists, owned by the QEMU user, mode 0600" test "$(stat -c '%F %u %a' "$SOCK")" = "socket $QEMU_UID 600"
listening() { # listening PID FD: /proc/net/unix has that socket's inode with __SO_ACCEPTCON, state 01
        local ino; ino=$(readlink "/proc/$1/fd/$2" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
        [ -n "$ino" ] && awk -v i="$ino" '$7 == i && $4 == "00010000" && $6 == "01" { f = 1 } END { exit !f }' /proc/net/unix
}
check "  ... and its fd 3 listens (the kernel's table)" listening "$P" 3
check "  ... it holds exactly three fds beyond stdio: the listening socket, the narrowed /dev/bpmp-host, the control channel" \
        test "$(fds_of "$P")" = "3=socket 4=$T/mnt/dev/bpmp-host 5=socket "
check_confined "$P" "$QEMU_UID" "the QEMU user"

# --- peer pid: nothing is served before libvirt's "started" hook names the domain's QEMU
qemu_start
check "the domain's QEMU (pid $QEMU_PID) connects before DomainStarted: held, no reply within 1 s" \
        test "$(QT=1 q clk enable 155)" = "-"
check "  ... logged as held" grep -q "vm1\]: client pid $QEMU_PID uid $QEMU_UID connected; held until" "$T/daemon.log"
check "  ... the firmware untouched" test "$(firmware)" = "bpmp-firmware clocks_on=- resets_asserted=- power_domains_on=-"
echo 999999999 >"$T/libvirt-qemu/vm1.pid"
check "DomainStarted with a pid file naming no process: HostNotReady" expect_error HostNotReady DomainStarted string:vm1
check "  ... naming the pid file" grep -q "from $T/libvirt-qemu/vm1.pid" <<<"$LAST_ERROR"
echo $$ >"$T/libvirt-qemu/vm1.pid"
check "DomainStarted with a pid of another user (root): HostNotReady, not the QEMU user" expect_error HostNotReady DomainStarted string:vm1
check "  ... saying so" grep -q "does not run as the QEMU user" <<<"$LAST_ERROR"
check "DomainStarted of a domain without BPMP devices (vm9): ok, nothing to do" expect_ok DomainStarted string:vm9
check "DomainStarted of a bad name: InvalidArgument" expect_error InvalidArgument DomainStarted string:../x
check "DomainStarted vm1 with the pid file naming the QEMU: ok" started "$QEMU_PID"
check "  ... the held request is answered now: err 0" bash -c "read -r -t 5 -u 8 l && [ \"\$l\" = 'clk: err=0 ret=0 rx=0' ]"
check "  ... the backend logged the pid" grep -q "vm1\]: the domain's QEMU is pid $QEMU_PID" "$T/daemon.log"
check "  ... recorded with the backend" grep -qx "pid=$P start=[0-9]* qemu=$QEMU_PID" "$DIR/backend"
check "another process of the QEMU user (another domain's QEMU) is refused" test "$(client clk is-enabled 155 || true)" = "clk: closed"
check "  ... logged naming its pid and the expected QEMU" grep -q "vm1\]: client refused: pid [0-9]* uid $QEMU_UID (expected uid $QEMU_UID and the domain's QEMU pid)" "$T/daemon.log"

# --- the wire protocol, end to end to the simulated firmware
check "the QEMU user enabled uarta's clock 155 through the socket: the simulated firmware has it on" test "$(firmware)" = "bpmp-firmware clocks_on=155 resets_asserted=- power_domains_on=-"
check "  ... asks whether it is on: err 0, a 4-byte reply" test "$(q clk is-enabled 155)" = "clk: err=0 ret=0 rx=4"
check "  ... asserts uarta's reset 100: err 0, firmware has it" bash -c "
        [ \"\$(echo reset assert 100 >&7; read -r -t 3 -u 8 l; echo \"\$l\")\" = 'reset: err=0 ret=0 rx=0' ] &&
        grep -q '^bpmp-firmware clocks_on=155 resets_asserted=100 ' '$T/mnt/status'"
check "a clock outside vm1's set (the GPU's 304): err -EPERM, the firmware untouched" bash -c "
        [ \"\$(echo clk enable 304 >&7; read -r -t 3 -u 8 l; echo \"\$l\")\" = 'clk: err=-1 ret=0 rx=0' ] &&
        ! grep -q '^bpmp-firmware clocks_on=.*304' '$T/mnt/status'"
check "  ... the backend logged it, naming the domain" grep -q "tegravirt-bpmp-backend\[vm1\]: MRQ 22 denied" "$T/daemon.log"
check "a request the proxy finds malformed (MRQ_CLK with 3 bytes): err -EINVAL, connection kept" \
        test "$(q xfer 22 3 16)|$(q clk is-enabled 155)" = "xfer: err=-22 ret=0 rx=0|clk: err=0 ret=0 rx=4"
check "a bad magic closes the connection" test "$(q raw 5456425801000100010000001600000000000000000000000)" = "raw: closed"
check "  ... logged as malformed (magic)" grep -q "vm1\]: client: malformed request (magic)" "$T/daemon.log"
check "  ... the same QEMU reconnects and is served" test "$(q connect)|$(q clk is-enabled 155)" = "connect: ok|clk: err=0 ret=0 rx=4"
check "a wrong version closes it" test "$(q raw 545642500200010001000000160000001000000010000000)|$(q connect)" = "raw: closed|connect: ok"
check "a tx_size over 120 closes it" test "$(q raw 545642500100010001000000160000007900000010000000)|$(q connect)" = "raw: closed|connect: ok"
check "a reply type as request closes it" test "$(q raw 545642500100020001000000160000001000000010000000)|$(q connect)" = "raw: closed|connect: ok"
check "a peer of another uid (root) is refused" test "$("$CLIENT" "$SOCK" clk enable 155 || true)" = "clk: closed"
check "  ... logged with its uid" grep -q "vm1\]: client refused: pid [0-9]* uid 0 (expected uid $QEMU_UID" "$T/daemon.log"
check "  ... the backend still serves the QEMU (same pid $P)" bash -c "
        [ \"\$(echo clk is-enabled 155 >&7; read -r -t 3 -u 8 l; echo \"\$l\")\" = 'clk: err=0 ret=0 rx=4' ] && [ '$(backend_pid)' = '$P' ] && kill -0 $P"

# --- standalone, as tests without tegravirtd run it: its own socket, the node, --restrict
BACKEND="$TV_BUILD_DIR/backend/tegravirt-bpmp-backend"
"$BACKEND" --domain vmA --socket "$T/a.sock" --bpmp-dev "$T/mnt/dev/bpmp-host" --user nobody --peer-uid 0 \
        --restrict clocks=155 --restrict resets=100 --restrict power_domains=- --restrict parent_clocks=102 2>>"$T/standalone.log" &
SA=$!
wait_for 5 test -S "$T/a.sock" || true
check "standalone backend (--socket, --bpmp-dev, --restrict): its file is narrowed to vm1's set" \
        grep -q "^bpmp-file [0-9]* pid=$SA state=open clocks=155 resets=100 power_domains=- parent_clocks=102 " "$T/mnt/status"
check "  ... serves peer uid 0 as asked: 155 passes" test "$("$CLIENT" "$T/a.sock" clk is-enabled 155)" = "clk: err=0 ret=0 rx=4"
check "  ... a bad --restrict is refused (exit 2)" bash -c "'$BACKEND' --domain x --socket '$T/b.sock' --bpmp-dev '$T/mnt/dev/bpmp-host' --user nobody --restrict clocks=abc 2>/dev/null; [ \$? = 2 ]"
kill "$SA"; wait "$SA" 2>/dev/null || true

# --- peer pid: the backend serves only the QEMU pid tegravirtd announces on its control
# channel (fd --control-fd, "pid N"); a connection of the right uid is held unserved until then
mkfifo "$T/ctl"
"$BACKEND" --domain vmC --socket "$T/c.sock" --bpmp-dev "$T/mnt/dev/bpmp-host" --user nobody --peer-uid 0 \
        --control-fd 5 --restrict clocks=155 5<>"$T/ctl" 2>>"$T/standalone.log" &
SC=$!
exec 6<>"$T/ctl" # read-write: never blocks nor SIGPIPEs the test if the backend is gone
wait_for 5 test -S "$T/c.sock" || true
"$CLIENT" "$T/c.sock" clk is-enabled 155 >"$T/held.out" 2>&1 &
HP=$!
sleep 1
check "--control-fd: before the QEMU pid is announced, a connection of the right uid gets no reply (1 s)" \
        bash -c "kill -0 $HP && [ ! -s '$T/held.out' ]"
check "  ... logged as held" grep -q "vmC\]: client pid $HP uid 0 connected; held until" "$T/standalone.log"
echo "pid $HP" >&6
check "  ... once 'pid $HP' is announced, that held connection is served" bash -c "
        wait_for() { for i in \$(seq 50); do \"\$@\" && return 0; sleep 0.1; done; return 1; }
        wait_for grep -qx 'clk: err=0 ret=0 rx=4' '$T/held.out'"
check "  ... another process of the right uid (root) is refused: closed" test "$("$CLIENT" "$T/c.sock" clk is-enabled 155 || true)" = "clk: closed"
check "  ... logged naming the expected pid" grep -q "vmC\]: client refused: pid [0-9]* uid 0 (expected uid 0 and the domain's QEMU pid)" "$T/standalone.log"
# the new QEMU's pid is known before it connects: a subshell that execs the client later
mkfifo "$T/go"
( read -r _ <"$T/go"; exec "$CLIENT" "$T/c.sock" clk is-enabled 155 >"$T/held2.out" 2>&1 ) &
H2=$!
echo "pid $H2" >&6
sleep 0.3
echo go >"$T/go"
check "a new announcement (the domain started again) replaces the pid: the new QEMU is served" \
        wait_for 5 grep -qx 'clk: err=0 ret=0 rx=4' "$T/held2.out"
# held before an announcement that names another pid: closed, not served
echo "pid 1" >&6 # init: never a client here
"$CLIENT" "$T/c.sock" clk is-enabled 155 >"$T/held3.out" 2>&1 || true
check "  ... a client that is not the announced pid is refused even with the right uid" grep -qx 'clk: closed' "$T/held3.out"
kill "$SC" 2>/dev/null || true; wait "$SC" 2>/dev/null || true
"$BACKEND" --domain vmD --socket "$T/d.sock" --bpmp-dev "$T/mnt/dev/bpmp-host" --user nobody --peer-uid 0 \
        --control-fd 5 --restrict clocks=155 5<>"$T/ctl" 2>>"$T/standalone.log" &
SD=$!
wait_for 5 test -S "$T/d.sock" || true
"$CLIENT" "$T/d.sock" clk is-enabled 155 >"$T/held4.out" 2>&1 &
H4=$!
sleep 0.5
echo "pid $((H4 + 100000))" >&6 # not the held client's
check "a connection held before the announcement of another pid is closed, not served" \
        wait_for 5 grep -qx 'clk: closed' "$T/held4.out"
check "  ... logged: not the domain's QEMU" grep -q "vmD\]: client refused: pid $H4 is not the domain's QEMU" "$T/standalone.log"
kill "$SD" 2>/dev/null || true; wait "$SD" 2>/dev/null || true
exec 6>&-

# --- a restarted tegravirtd adopts the backend
tv_stop_daemon; tv_start_daemon
check "after a tegravirtd restart the same backend (pid $P) runs and is recorded" bash -c "kill -0 $P && [ \"\$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' '$DIR/backend')\" = '$P' ]"
check "  ... adopted" grep -q "bpmp-backend: vm1: adopted pid $P" "$T/daemon.log"
check "  ... and serves the QEMU (its connection outlived tegravirtd)" test "$(q clk is-enabled 155)" = "clk: err=0 ret=0 rx=4"
check "  ... and no other process" test "$(client clk is-enabled 155 || true)" = "clk: closed"

# --- an adopted backend killed: restarted by the new tegravirtd
kill -9 "$P"
check "kill -9 of the adopted backend: a new one is recorded within 5 s" wait_for 5 bash -c "
        p=\$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' '$DIR/backend'); [ -n \"\$p\" ] && [ \"\$p\" != '$P' ] && kill -0 \"\$p\""
P2=$(backend_pid)
check "  ... logged as died, restarting" grep -q "bpmp-backend: vm1: died .* while the domain runs; restarting" "$T/daemon.log"
check "  ... started with --peer-pid $QEMU_PID (the recorded QEMU)" bash -c "tr '\\0' ' ' </proc/$P2/cmdline | grep -q -- '--peer-pid $QEMU_PID '"
check "  ... the new one (pid $P2) serves the reconnected QEMU without a new DomainStarted" \
        test "$(q connect)|$(q clk is-enabled 155)" = "connect: ok|clk: err=0 ret=0 rx=4"
check "  ... and no other process of the QEMU user" test "$(client clk is-enabled 155 || true)" = "clk: closed"
check "  ... and is as confined (Seccomp 2, CapEff 0, three fds and the QEMU's connection)" bash -c "
        grep -q '^Seccomp:.*2' /proc/$P2/status && grep -q '^CapEff:.*0000000000000000' /proc/$P2/status &&
        [ \"\$(ls /proc/$P2/fd | sort -n | tr '\n' ' ')\" = '0 1 2 3 4 5 6 ' ]"
# killed again, by our own child this time (the restart made it our child)
kill -9 "$P2"
check "kill -9 of a backend the daemon started: restarted too" wait_for 5 bash -c "
        p=\$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' '$DIR/backend'); [ -n \"\$p\" ] && [ \"\$p\" != '$P2' ] && kill -0 \"\$p\""
P3=$(backend_pid)
check "  ... which serves the QEMU too" wait_for 5 bash -c "echo connect >&7; read -r -t 3 -u 8 l; echo clk is-enabled 155 >&7; read -r -t 3 -u 8 l; [ \"\$l\" = 'clk: err=0 ret=0 rx=4' ]"

# --- release: the backend is stopped first, then the file closes (the proxy undoes what it enabled)
check "release vm1" expect_ok ReleaseDomain string:vm1
check "  ... its backend is gone (no process $P3)" bash -c "! kill -0 $P3 2>/dev/null"
check "  ... no tegravirt-bpmp-backend process is left" test -z "$(our_backends)"
check "  ... no socket, no record, no domain directory" test ! -e "$DIR"
check "  ... the firmware has clock 155 off and reset 100 deasserted again" \
        test "$(firmware)" = "bpmp-firmware clocks_on=- resets_asserted=- power_domains_on=-"
check "  ... no /dev/bpmp-host file is left open" test -z "$(grep '^bpmp-file ' "$T/mnt/status" || true)"
check "  ... logged stopped" grep -q "bpmp-backend: vm1: stopped" "$T/daemon.log"

# --- a backend that ignores SIGTERM: SIGKILL after the timeout, the loop serving meanwhile
check "prepare vm1 again" expect_ok PrepareDomain string:vm1 string:
P=$(backend_pid)
# recorded before it execs: stop it only once it runs the backend, serving
check "  ... its backend (pid ${P:-none}) runs" wait_for 5 bash -c \
        "[ \"\$(readlink /proc/${P:-0}/exe)\" = '$TV_BUILD_DIR/backend/tegravirt-bpmp-backend' ]"
kill -STOP "$P" # a stopped process keeps SIGTERM pending: only SIGKILL ends it
mgr ReleaseDomain string:vm1 >"$T/rel.out" 2>&1 &
RP=$!
sleep 0.3
check "  ... while the release waits for the stopped backend, the daemon answers (ListAssignments)" \
        bash -c "timeout 1 busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments >/dev/null"
check "  ... the release ends once SIGKILL did (about 2 s)" wait "$RP"
check "  ... logged the SIGKILL" grep -q "bpmp-backend: vm1: pid $P still runs 2000 ms after SIGTERM: SIGKILL" "$T/daemon.log"
grep -q "pid $P still runs" "$T/daemon.log" || diag "$(grep 'bpmp-backend: vm1' "$T/daemon.log" | tail -n 8)"
check "  ... nothing is left" bash -c "! kill -0 $P 2>/dev/null && [ ! -e '$DIR' ]"

# --- start-up: a recorded backend whose domain no longer runs is stopped; a running domain
# whose recorded backend is dead gets a new one
check "prepare vm1 once more" expect_ok PrepareDomain string:vm1 string:
P=$(backend_pid)
tv_stop_daemon
check "  ... (daemon stopped; the backend outlives it)" kill -0 "$P"
cp "$T/state/state" "$T/state.bak"
sed -i 's/^\(device uarta .*\) phase=bound /\1 phase=none /' "$T/state/state"
tv_start_daemon
check "  ... a daemon whose record no longer has vm1 running stops vm1's backend" wait_for 5 bash -c "! kill -0 $P 2>/dev/null"
check "  ... saying so" grep -q "bpmp-backend: vm1: adopted pid $P; its domain no longer runs: stopping it" "$T/daemon.log"
check "  ... and removes its socket and record" wait_for 5 test ! -e "$DIR"
tv_stop_daemon
cp "$T/state.bak" "$T/state/state"
tv_start_daemon
P=$(backend_pid)
check "a daemon that finds vm1 running without a live backend starts one" bash -c "[ -n '$P' ] && kill -0 '$P'"
qemu_stop; qemu_start
check "  ... which serves the QEMU DomainStarted names" bash -c "[ \"\$(echo clk is-enabled 155 >&7; read -r -t 1 -u 8 l; echo \"\${l:--}\")\" = - ]"
# libvirt's "started begin" hook, with the XML libvirt passes (our namespace, the bridge)
HOOK="$TV_BUILD_DIR/libvirt-hooks/tegravirt-hook"
cat >"$T/bpmp-domain.xml" <<XML
<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>vm1</name>
<metadata><tv:devices xmlns:tv='https://tegravirt.org/ns/domain/1'/></metadata>
<qemu:commandline><qemu:arg value='-device'/><qemu:arg value='tegravirt-bpmp,chardev=tvbpmp0'/></qemu:commandline></domain>
XML
grep -v tegravirt-bpmp "$T/bpmp-domain.xml" >"$T/plain-domain.xml"
rm -f "$T/libvirt-qemu/vm1.pid"
check "  ... hook 'started begin' of vm1 without its pid file: exit 1 (the start fails), naming the file" bash -c "
        '$HOOK' vm1 started begin - <'$T/bpmp-domain.xml' 2>'$T/hook.err'; [ \$? = 1 ] &&
        grep -q '^tegravirt: cannot read the QEMU pid of vm1 from $T/libvirt-qemu/vm1.pid' '$T/hook.err'"
check "  ... the same hook for a tegravirt domain without the BPMP bridge: exit 0, no call" bash -c "
        '$HOOK' vm1 started begin - <'$T/plain-domain.xml' 2>'$T/hook.err' && [ ! -s '$T/hook.err' ]"
echo "$QEMU_PID" >"$T/libvirt-qemu/vm1.pid"
check "  ... with libvirt's pid file naming the QEMU (pid $QEMU_PID): exit 0" bash -c "
        '$HOOK' vm1 started begin - <'$T/bpmp-domain.xml' 2>'$T/hook.err' && [ ! -s '$T/hook.err' ]"
check "  ... the held request is answered" bash -c "read -r -t 5 -u 8 l && [ \"\$l\" = 'clk: err=0 ret=0 rx=4' ]"
qemu_stop
check "release vm1: no socket, record or directory is left" bash -c "'$TV_CTL_BIN' release vm1 >/dev/null && [ ! -e '$DIR' ]"
check "  ... and no backend process" test -z "$(our_backends)"

# --- a backend that exits at start-up every time: restarts back off, then tegravirtd gives up
tv_stop_daemon
printf '#!/bin/sh\necho "failing-backend: cannot start (test)" >&2\nexit 1\n' >"$T/failing-backend"
chmod 755 "$T/failing-backend"
tv_start_daemon --bpmp-backend "$T/failing-backend"
L0=$(($(wc -l <"$T/daemon.log") + 1))
check "a BPMP backend that exits 1 at once: prepare vm1 is ok (it starts)" expect_ok PrepareDomain string:vm1 string:
check "  ... tegravirtd gives up after 5 starts in a row, naming the domain, the backend and its exit status" \
        wait_for 40 bash -c "tail -n +$L0 '$T/daemon.log' | grep -q 'bpmp-backend: vm1: gave up: 5 starts of tegravirt-bpmp-backend in a row failed within 5 s (last: exit status 1)'"
check "  ... after waiting 1 s, 2 s, 4 s, 8 s" bash -c "
        [ \"\$(tail -n +$L0 '$T/daemon.log' | sed -n 's/.*bpmp-backend: vm1: restarting in \([0-9]*\) s .*/\1/p' | tr '\n' ' ')\" = '1 2 4 8 ' ]"
check "  ... its own messages are in the log" test "$(tail -n +"$L0" "$T/daemon.log" | grep -c 'failing-backend: cannot start (test)')" = 5
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "  ... tegravirtctl check vm1: bpmp-backend missing, gave up, with the exit status and what to do" \
        bash -c "grep -q '^missing .*bpmp-backend.*vm1: no BPMP backend runs: tegravirtd gave up after 5 starts in a row failed (last: exit status 1)' '$T/chk.out' &&
                 grep -q 'fix: journalctl -u tegravirtd: .*tegravirtctl prepare' '$T/chk.out'"
check "release vm1: nothing left" bash -c "'$TV_CTL_BIN' release vm1 >/dev/null && [ ! -e '$DIR' ]"
check "  ... uarta is back on serial-tegra, whole" dev_whole 3100000.serial serial-tegra

# --- no backend binary: prepare refused, naming it, and undone
tv_stop_daemon
tv_start_daemon --bpmp-backend "$T/no-such-backend"
check "without the backend binary, prepare vm1 is HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the binary" grep -q "cannot run the BPMP backend $T/no-such-backend" <<<"$LAST_ERROR"
check "  ... uarta is back on serial-tegra, whole" dev_whole 3100000.serial serial-tegra
check "  ... no file left open, no runtime directory" bash -c "! grep -q '^bpmp-file ' '$T/mnt/status' && [ ! -e '$DIR' ]"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
