#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 14: tegravirt-gpio-backend alone (no tegravirtd), on orin-sim's simulated GPIO chip,
# driven by gpio-vu-client (tests/lib/vu-front, what QEMU's vhost-user-gpio device and the
# guest's gpio-virtio driver do): start-up (each line requested as tegravirt:<domain>,
# failures naming the line), config and names, every request type, ERR cases, edge and level
# interrupts with the masking rules, a pending request answered by a restarted backend after
# the front end reconnects like QEMU 7.2, a restart on the same state file (--state-fd) that
# keeps the guest's output value, interrupt types and held eventq buffers (one completed out
# of order before the kill), corrupt state files discarded, confinement (fds, uid, CapEff, NoNewPrivs, Seccomp),
# peer refusal by uid, one connection at a time, the control channel (peer/allow/deny/peer-pid),
# and exit when the chip goes away.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
chmod 755 "$T" # nobody (the backend, a client) reaches the sockets under it
BACKEND="$TV_BUILD_DIR/backend/tegravirt-gpio-backend"
CLIENT="$TV_BUILD_DIR/tests/integration/gpio-vu-client"
RELAY="$(dirname "$0")/gpio-ctl-relay.py"
CHIP="$T/mnt/dev/gpiochip0"
SOCK="$T/g.sock"
NOBODY=$(id -u nobody)
gpio_status() { grep "^gpio $1 " "$T/mnt/status" || true; }
drive() { sim gpio-drive 0 "$1" "$2"; }

# The front end ("QEMU"): one long-lived client taking commands on fd 7, answering on fd 8.
q_start() { # q_start [--uid UID] SOCKET
        rm -f "$T/q.in" "$T/q.out"; mkfifo "$T/q.in" "$T/q.out"
        "$CLIENT" "$@" <"$T/q.in" >"$T/q.out" 2>>"$T/q.err" &
        QPID=$!
        exec 7>"$T/q.in" 8<"$T/q.out"
}
q_stop() { exec 7>&- 8<&-; wait "$QPID" 2>/dev/null || true; }
q() { local l; echo "$*" >&7; read -r -t "${QT:-5}" -u 8 l || l=-; echo "$l"; }
# a one-shot client: its commands on stdin, its answers joined by |
client() { printf '%s\n' "${@:2}" | "$CLIENT" $1 2>>"$T/q.err" | paste -sd'|'; }

start_backend() { # start_backend LOG ARGS...: BPID
        local log=$1; shift
        "$BACKEND" --domain vm1 --socket "$SOCK" --chip "$CHIP" "$@" 2>>"$log" &
        BPID=$!
        wait_for 5 grep -q "serving" "$log" || true
}

# --- start-up refusals: each line requested alone, failures name the line
sim gpio-use 0 110 vdd-fan
check "a line the host uses (offset 110, vdd-fan): exit 1" bash -c "
        '$BACKEND' --domain vm1 --socket '$SOCK' --chip '$CHIP' --line 0:106:PIN7 --line 0:110:PIN11 --user nobody 2>'$T/e1'; [ \$? = 1 ]"
check "  ... naming the line, chip, offset, EBUSY and the host consumer" \
        grep -q "cannot request line PIN11 (chip 0 offset 110): EBUSY, used by vdd-fan" "$T/e1"
check "  ... and the first line, requested before, is free again" test -z "$(gpio_status "0 106")"
sim gpio-free 0 110
check "an offset beyond the chip (500 of 164): exit 1, EINVAL" bash -c "
        '$BACKEND' --domain vm1 --socket '$SOCK' --chip '$CHIP' --line 0:500:X --user nobody 2>'$T/e2'; [ \$? = 1 ] &&
        grep -q 'cannot request line X (chip 0 offset 500): EINVAL' '$T/e2'"
check "a chip index without its --chip (1 of 1): usage error, exit 2" bash -c "
        '$BACKEND' --domain vm1 --socket '$SOCK' --chip '$CHIP' --line 1:3:X 2>/dev/null; [ \$? = 2 ]"
check "the same host line twice: exit 2" bash -c "
        '$BACKEND' --domain vm1 --socket '$SOCK' --chip '$CHIP' --line 0:106:A --line 0:106:B 2>'$T/e3'; [ \$? = 2 ] &&
        grep -q 'line 0:106 given twice' '$T/e3'"
check "the same guest name twice: exit 2" bash -c "
        '$BACKEND' --domain vm1 --socket '$SOCK' --chip '$CHIP' --line 0:106:A --line 0:107:A 2>/dev/null; [ \$? = 2 ]"
check "a guest name with a space: exit 2" bash -c "
        '$BACKEND' --domain vm1 --socket '$SOCK' --chip '$CHIP' '--line=0:106:A B' 2>/dev/null; [ \$? = 2 ]"
check "  ... none of these left a line requested" test -z "$(grep '^gpio ' "$T/mnt/status" || true)"

# --- the backend: three lines of chip 0, as nobody, serving root (the test's client)
drive 108 1 # PIN13 is high before anyone asks
LOGN=$(wc -l <"$T/mnt/log")
# --uid/--gid as tegravirtd passes them (nothing before the filter looks the user up)
start_backend "$T/be.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:PIN13 --uid "$NOBODY" --gid "$(id -g nobody)" --peer-uid 0
P=$BPID
# a backend that died at start (killed by its own filter, say) would make every step below wait out its timeout
if ! kill -0 "$P" 2>/dev/null; then not_ok "the backend runs"; diag "$(cat "$T/be.log")"; tap_finish; exit 1; fi
check "started: the three lines are requested as tegravirt:vm1, as-is" test "$(gpio_status 0)" = \
"gpio 0 106 consumer=tegravirt:vm1 dir=as-is value=0 edge=none
gpio 0 107 consumer=tegravirt:vm1 dir=as-is value=0 edge=none
gpio 0 108 consumer=tegravirt:vm1 dir=as-is value=1 edge=none"
check "  ... orin-sim logged three requests of one line each, flags 0 (as-is)" test "$(tail -n +$((LOGN + 1)) "$T/mnt/log" |
        grep -c 'gpio-request dev/gpiochip0 10[678] consumer=tegravirt:vm1 flags=0x0 -> ok')" = 3
check "  ... it holds the listening socket and two sockets per line (event, control), no chip" \
        test "$(fds_of "$P")" = "3=socket 4=socket 5=socket 6=socket 7=socket 8=socket 9=socket "
check "  ... none of them is the chip's socket (closed after the requests)" bash -c "
        ! ls -l /proc/$P/fd | grep -q gpiochip && command -v ss >/dev/null && [ \"\$(ss -xp | grep -c 'mnt.gpio/gpiochip0.*pid=$P,' || true)\" = 0 ]"
check_confined "$P" "$NOBODY" "nobody"
check "  ... its socket is nobody's" test "$(stat -c '%F %u' "$SOCK")" = "socket $NOBODY"

# --- peer refusal by uid: nobody is not the peer uid (0)
check "a client of another uid (nobody) is refused: the connection is closed" \
        bash -c "[ \"\$(printf 'connect\n' | '$CLIENT' --uid $NOBODY '$SOCK' 2>/dev/null)\" != 'connect: ok features=0x140000001' ]"
check "  ... logged with its uid" grep -q "vm1\]: client refused: pid [0-9]* uid $NOBODY (expected uid 0)" "$T/be.log"

# --- config, names, requests
q_start "$SOCK"
check "connect: VERSION_1, F_IRQ (bit 0) and PROTOCOL_FEATURES acked" test "$(q connect)" = "connect: ok features=0x140000001"
check "config: ngpio 3, gpio_names_size 17" test "$(q config)" = "config: ngpio=3 names_size=17"
check "GET_NAMES: OK, 1 + 17 bytes, the --line names in order (no host offset)" test "$(q names)" = "names: st=0 len=18 PIN7,PIN11,PIN13"
R=$(client "$SOCK" connect)
check "a second connection while one is served is refused: one at a time ($R)" test "${R#connect: failed }" != "$R"
check "  ... logged" grep -q "vm1\]: client pid [0-9]* refused: pid $QPID is connected already (one connection at a time)" "$T/be.log"
check "  ... the first one is still served" test "$(q req get 2 0)" = "req: st=0 val=1 len=2"
check "GET_DIRECTION of line 0 (an input on the host): IN (2)" test "$(q req get-dir 0 0)" = "req: st=0 val=2 len=2"
check "GET_VALUE of line 2 (PIN13, driven high): 1" test "$(q req get 2 0)" = "req: st=0 val=1 len=2"
check "SET_VALUE 1 on line 0 while input (the driver's order): OK, the host line stays input" \
        bash -c "[ \"\$(echo 'req set 0 1' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        [ \"\$(grep '^gpio 0 106 ' '$T/mnt/status')\" = 'gpio 0 106 consumer=tegravirt:vm1 dir=as-is value=0 edge=none' ]"
check "SET_DIRECTION OUT on line 0: the host line is an output at 1 (the value set before)" bash -c "
        [ \"\$(echo 'req set-dir 0 1' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        [ \"\$(grep '^gpio 0 106 ' '$T/mnt/status')\" = 'gpio 0 106 consumer=tegravirt:vm1 dir=out value=1 edge=none' ]"
check "GET_DIRECTION of line 0: OUT (1)" test "$(q req get-dir 0 0)" = "req: st=0 val=1 len=2"
check "SET_VALUE 0 on line 0: the host line goes low" bash -c "
        [ \"\$(echo 'req set 0 0' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        grep -q '^gpio 0 106 consumer=tegravirt:vm1 dir=out value=0 ' '$T/mnt/status'"
check "GET_VALUE of line 0 reads it back: 0" test "$(q req get 0 0)" = "req: st=0 val=0 len=2"
check "SET_DIRECTION IN on line 1: the host line is an input" bash -c "
        [ \"\$(echo 'req set-dir 1 2' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        grep -q '^gpio 0 107 consumer=tegravirt:vm1 dir=in ' '$T/mnt/status'"
check "SET_DIRECTION NONE on line 0: OK, the host line keeps its direction" bash -c "
        [ \"\$(echo 'req set-dir 0 0' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        grep -q '^gpio 0 106 consumer=tegravirt:vm1 dir=out ' '$T/mnt/status'"
# errors: status ERR (1), never a host offset
check "GET_VALUE of line 3 (of 3): ERR" test "$(q req get 3 0)" = "req: st=1 val=0 len=2"
check "GET_VALUE of line 65535: ERR" test "$(q req get 65535 0)" = "req: st=1 val=0 len=2"
check "SET_VALUE 2: ERR" test "$(q req set 0 2)" = "req: st=1 val=0 len=2"
check "SET_DIRECTION 3: ERR" test "$(q req set-dir 1 3)" = "req: st=1 val=0 len=2"
check "request type 7 and 0: ERR" test "$(q req 7 0 0)|$(q req 0 0 0)" = "req: st=1 val=0 len=2|req: st=1 val=0 len=2"
check "SET_IRQ_TYPE 5 (no such type): ERR" test "$(q req irq 1 5)" = "req: st=1 val=0 len=2"
check "a 7-byte request: ERR" test "$(q raw 04000100000000 2)" = "raw: st=1 len=2"
check "a 9-byte request: ERR" test "$(q raw 040001000000000000 2)" = "raw: st=1 len=2"
check "a request with a 1-byte response buffer: ERR in 1 byte" test "$(q raw 0400010000000000 1)" = "raw: st=1 len=1"
check "a request with no response buffer: returned with 0 bytes" test "$(q raw 0400010000000000 0)" = "raw: st=255 len=0"
check "GET_NAMES with a response buffer too small (10 of 18): ERR" test "$(q raw 0100000000000000 10)" = "raw: st=1 len=2"
sim gpio-fault 0 107 EIO
check "a host failure (gpio-fault EIO on GET_VALUES of line 1): ERR" test "$(q req get 1 0)" = "req: st=1 val=0 len=2"
check "  ... logged with the guest name and the host offset (the log is the host's)" \
        grep -q "vm1\]: line PIN11 (offset 107): reading the value: EIO" "$T/be.log"
check "  ... the next GET_VALUE works again" test "$(q req get 1 0)" = "req: st=0 val=0 len=2"
check "the backend still runs (pid $P)" kill -0 "$P"

# --- interrupts: edge
check "SET_IRQ_TYPE rising on line 1: OK, the host line detects rising edges" bash -c "
        [ \"\$(echo 'req irq 1 1' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        grep -q '^gpio 0 107 consumer=tegravirt:vm1 dir=in value=0 edge=rising' '$T/mnt/status'"
q evq 1 >/dev/null
check "a buffer queued for line 1 (unmasked), no edge: nothing comes (0.3 s)" test "$(q ev 300)" = "ev: none"
drive 107 1
check "the host drives line 1 high: the buffer comes back VALID (1), 1 byte" test "$(q ev 2000)" = "ev: gpio=1 status=1 len=1"
drive 107 0; drive 107 1; drive 107 0; drive 107 1
check "two more rising edges while masked (no buffer): nothing comes" test "$(q ev 300)" = "ev: none"
q evq 1 >/dev/null
check "  ... the next buffer is used at once: the edge was latched" test "$(q ev 2000)" = "ev: gpio=1 status=1 len=1"
q evq 1 >/dev/null
check "  ... once only: the buffer after it is held" test "$(q ev 300)" = "ev: none"
drive 107 0
check "a falling edge on a rising line: nothing" test "$(q ev 300)" = "ev: none"
check "SET_IRQ_TYPE NONE: OK, the held buffer comes back INVALID (0)" bash -c "
        [ \"\$(echo 'req irq 1 0' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'req: st=0 val=0 len=2' ] &&
        [ \"\$(echo 'ev 2000' >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'ev: gpio=1 status=0 len=1' ]"
check "  ... edge detection off on the host" grep -q '^gpio 0 107 consumer=tegravirt:vm1 dir=in value=0 edge=none' "$T/mnt/status"
check "SET_IRQ_TYPE both on line 1" test "$(q req irq 1 3)" = "req: st=0 val=0 len=2"
check "  ... the host line detects both edges" grep -q '^gpio 0 107 .* edge=both' "$T/mnt/status"
q evq 1 >/dev/null
drive 107 1
check "  ... rising: VALID" test "$(q ev 2000)" = "ev: gpio=1 status=1 len=1"
q evq 1 >/dev/null
drive 107 0
check "  ... falling: VALID" test "$(q ev 2000)" = "ev: gpio=1 status=1 len=1"
check "SET_DIRECTION OUT of an interrupt line: ERR" test "$(q req set-dir 1 1)" = "req: st=1 val=0 len=2"
check "SET_DIRECTION NONE of it: OK (its state forgotten)" test "$(q req set-dir 1 0)" = "req: st=0 val=0 len=2"
check "  ... edge detection off" grep -q '^gpio 0 107 .* edge=none' "$T/mnt/status"
check "an eventq buffer for line 9 (of 3): returned with 0 bytes" test "$(q evq 9 >/dev/null; q ev 2000)" = "ev: gpio=9 status=255 len=0"

# --- interrupts: level, and per-line independence
check "SET_IRQ_TYPE level high on line 2 (PIN13, high now): OK" test "$(q req irq 2 4)" = "req: st=0 val=0 len=2"
check "  ... both edges detected on the host line" grep -q '^gpio 0 108 .* edge=both' "$T/mnt/status"
q evq 2 >/dev/null
check "  ... a buffer while the level holds: VALID at once" test "$(q ev 2000)" = "ev: gpio=2 status=1 len=1"
q evq 2 >/dev/null
check "  ... and again for the next buffer (still high)" test "$(q ev 2000)" = "ev: gpio=2 status=1 len=1"
drive 108 0
q evq 2 >/dev/null
check "  ... low: the buffer is held" test "$(q ev 300)" = "ev: none"
check "SET_IRQ_TYPE rising on line 1 while line 2 holds its buffer" test "$(q req irq 1 1)" = "req: st=0 val=0 len=2"
q evq 1 >/dev/null
drive 107 1
check "  ... line 1's edge comes back for line 1" test "$(q ev 2000)" = "ev: gpio=1 status=1 len=1"
drive 108 1
check "line 2 goes high: its held buffer comes back VALID" test "$(q ev 2000)" = "ev: gpio=2 status=1 len=1"
check "SET_IRQ_TYPE level low on line 2 (high now)" test "$(q req irq 2 8)" = "req: st=0 val=0 len=2"
q evq 2 >/dev/null
check "  ... held while high" test "$(q ev 300)" = "ev: none"
drive 108 0
check "  ... low: VALID" test "$(q ev 2000)" = "ev: gpio=2 status=1 len=1"
check "SET_IRQ_TYPE NONE on line 2 without a buffer: OK, nothing comes" test "$(q req irq 2 0)|$(q ev 300)" = "req: st=0 val=0 len=2|ev: none"
# the rings stop (QEMU's vhost_dev_stop: GET_VRING_BASE counts a held buffer as consumed)
check "SET_IRQ_TYPE rising on line 1, a buffer queued" test "$(q req irq 1 1)|$(q evq 1 | cut -c1-10)" = "req: st=0 val=0 len=2|evq: head="
check "the front end stops the rings: the held buffer comes back INVALID, not lost" \
        test "$(q stop)|$(q ev 2000)" = "stop: ok|ev: gpio=1 status=0 len=1"
check "  ... the rings start again and requests go on" test "$(q start)|$(q req get 2 0)" = "start: ok|req: st=0 val=0 len=2"
check "the requests and interrupts so far left the backend running (pid $P)" kill -0 "$P"
q_stop
check "the client closed: logged with its counts" grep -q "vm1\]: client pid $QPID: connection ended ([0-9]* requests, [0-9]* failed, [0-9]* interrupts)" "$T/be.log"
check "  ... a new connection is a new driver: edge detection off on every line" \
        wait_for 3 bash -c "! grep -q '^gpio 0 10[678] .* edge=[rfb]' '$T/mnt/status'"
check "  ... F_IRQ not acked: SET_IRQ_TYPE fails" test "$(client "$SOCK" 'connect noirq' 'req irq 1 1')" = "connect: ok features=0x140000000|req: st=1 val=0 len=2"

# --- restart: a request the backend never answered is answered by the next backend once
# the front end reconnects and rewinds the ring like QEMU 7.2 (no new kick)
q_start "$SOCK"
q connect >/dev/null
check "before the kill: line 0 reads 0" test "$(q req get 0 0)" = "req: st=0 val=0 len=2"
# orin-sim stopped: the backend takes the kick and the request and waits for the chip's
# reply, as a backend dies mid-request (a pending kick would hide a backend that only
# looks at the ring when kicked)
case $(uname -m) in x86_64) SYS_RECVMSG=47;; aarch64) SYS_RECVMSG=212;; *) SYS_RECVMSG=?;; esac
kill -STOP "$SIM_PID"
trap 'kill -CONT "$SIM_PID" 2>/dev/null; tv_cleanup' EXIT # never leave a stopped FUSE server behind
R=$(q submit get 2 0)
check "orin-sim stopped; GET_VALUE of line 2 submitted and kicked ($R)" test "${R#submit: head=}" -ge 0
check "  ... no answer (the backend waits for the chip)" test "$(q wait 500)" = "wait: none"
check "  ... the backend took the request: it waits in recvmsg for the chip's reply" \
        test "$(cut -d' ' -f1 /proc/"$P"/syscall)" = "$SYS_RECVMSG"
kill -9 "$P"; wait "$P" 2>/dev/null || true
kill -CONT "$SIM_PID"
check "kill -9: the backend's lines are free again (released with its fds)" wait_for 5 bash -c "[ -z \"\$(grep '^gpio 0 10[678] ' '$T/mnt/status' || true)\" ]"
drive 108 1
start_backend "$T/be2.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:PIN13 --user nobody --peer-uid 0
P2=$BPID
check "a new backend (pid $P2) requested them again" test "$(grep -c '^gpio 0 10[678] consumer=tegravirt:vm1' "$T/mnt/status")" = 3
check "  ... line 0 is still the output the hardware held (requested as-is)" grep -q '^gpio 0 106 consumer=tegravirt:vm1 dir=as-is value=0' "$T/mnt/status"
check "the front end sees the connection lost: rings rewound to the used idx" test "$(q disconnect)" = "disconnect: ok"
check "  ... reconnects and restarts the rings (SET_VRING_BASE = used idx, no kick)" test "$(q reconnect)" = "reconnect: ok"
check "  ... the pending GET_VALUE is answered by the new backend: 1 (PIN13 is high)" test "$(q wait 3000)" = "wait: st=0 val=1 len=2"
check "  ... and requests go on" test "$(q req get 2 0)" = "req: st=0 val=1 len=2"
check "  ... the new backend logged one client" grep -q "vm1\]: serving client pid $QPID" "$T/be2.log"
q_stop
kill "$P2"; wait "$P2" 2>/dev/null || true

# --- restart with a state file (--state-fd, as tegravirtd passes it): the guest's line
# configuration and its interrupts survive. The eventq is left as QEMU 7.2's rewind loses it
# without the record: line 1's buffer (older slot) still held, line 2's later one completed
# out of order before it, then line 2's next buffer held.
GS="$T/gpio-state"
: >"$GS"; chown nobody "$GS"; chmod 600 "$GS"
start_backend "$T/be5.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:PIN13 --user nobody --peer-uid 0 \
        --state-fd 9 9<>"$GS"
P5=$BPID
drive 107 0; drive 108 0
q_start "$SOCK"
q connect >/dev/null
check "state file: the backend sized it (header, 2 queue records, 3 lines)" test "$(stat -c %s "$GS")" -gt 8192
check "the guest sets line 0 to output 1 (SET_VALUE then SET_DIRECTION OUT)" \
        test "$(q req set 0 1)|$(q req set-dir 0 1)" = "req: st=0 val=0 len=2|req: st=0 val=0 len=2"
check "  ... the host line is an output at 1" grep -q '^gpio 0 106 consumer=tegravirt:vm1 dir=out value=1' "$T/mnt/status"
check "SET_IRQ_TYPE rising on lines 1 and 2" test "$(q req irq 1 1)|$(q req irq 2 1)" = "req: st=0 val=0 len=2|req: st=0 val=0 len=2"
q evq 1 >/dev/null; q evq 2 >/dev/null
drive 108 1
check "line 2 fires first: its buffer (the later slot) completes out of order" test "$(q ev 2000)" = "ev: gpio=2 status=1 len=1"
q evq 2 >/dev/null
drive 108 0
check "  ... line 2's next buffer and line 1's older one are held (nothing comes)" test "$(q ev 300)" = "ev: none"
kill -9 "$P5"; wait "$P5" 2>/dev/null || true
check "kill -9: the lines are free again" wait_for 5 bash -c "[ -z \"\$(grep '^gpio 0 10[678] ' '$T/mnt/status' || true)\" ]"
start_backend "$T/be6.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:PIN13 --user nobody --peer-uid 0 \
        --state-fd 9 9<>"$GS"
P6=$BPID
check "a new backend maps the state file (shared) and keeps no fd of it" bash -c "
        grep -q ' $GS\$' /proc/$P6/maps && ! ls -l /proc/$P6/fd | grep -q gpio-state"
check "a new backend on the same state file restores the guest's configuration before serving" \
        grep -q "vm1\]: restored the guest's configuration of 3 lines from the state file" "$T/be6.log"
check "  ... line 0 is an output at 1 again (the guest's value, not as-is)" \
        grep -q '^gpio 0 106 consumer=tegravirt:vm1 dir=out value=1' "$T/mnt/status"
check "  ... lines 1 and 2 detect rising edges again" test "$(grep -c '^gpio 0 10[78] consumer=tegravirt:vm1 dir=in value=0 edge=rising' "$T/mnt/status")" = 2
check "the front end reconnects like QEMU 7.2 (rings rewound to the used idx)" test "$(q disconnect)|$(q reconnect)" = "disconnect: ok|reconnect: ok"
check "  ... the eventq continues from the record (the held buffers adopted, not re-popped)" \
        grep -q "^vhost-user: queue 1 continues from its record: last_avail 3, 2 buffers in flight" "$T/be6.log"
drive 107 1
check "  ... an edge on line 1 comes back in line 1's old buffer (the slot below the used idx)" test "$(q ev 2000)" = "ev: gpio=1 status=1 len=1"
drive 108 1
check "  ... an edge on line 2 comes back in its held buffer" test "$(q ev 2000)" = "ev: gpio=2 status=1 len=1"
check "  ... nothing is delivered twice (the completed slot is not presented again)" test "$(q ev 500)" = "ev: none"
check "  ... and requests go on: line 0 reads 1" test "$(q req get 0 0)" = "req: st=0 val=1 len=2"
q_stop
check "the connection ended (a new driver next): the state file is reset, nothing restored next time" bash -c "
        grep -q 'vm1\]: client pid $QPID: connection ended' '$T/be6.log'"
kill -9 "$P6"; wait "$P6" 2>/dev/null || true
wait_for 5 bash -c "[ -z \"\$(grep '^gpio 0 10[678] ' '$T/mnt/status' || true)\" ]" || true
start_backend "$T/be7.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:PIN13 --user nobody --peer-uid 0 \
        --state-fd 9 9<>"$GS"
P7=$BPID
check "  ... a backend started after it restores nothing" bash -c "
        grep -q 'vm1\]: serving' '$T/be7.log' && ! grep -q 'restored' '$T/be7.log'"
kill "$P7"; wait "$P7" 2>/dev/null || true
# a corrupt state file (a line record with an invalid irq type) is discarded, logged
printf '\x07' | dd of="$GS" bs=1 seek=$(( $(stat -c %s "$GS") - 12 + 2 )) conv=notrunc status=none
start_backend "$T/be8.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:PIN13 --user nobody --peer-uid 0 \
        --state-fd 9 9<>"$GS"
P8=$BPID
check "a corrupt state file: discarded with a log line" \
        grep -q "vm1\]: state file discarded (inconsistent line record): lines and interrupts start as a new device's" "$T/be8.log"
check "  ... the backend still serves" test "$(client "$SOCK" connect 'req get 2 0')" = "connect: ok features=0x140000001|req: st=0 val=1 len=2"
kill "$P8"; wait "$P8" 2>/dev/null || true
start_backend "$T/be10.log" --line 0:106:PIN7 --line 0:107:PIN11 --line 0:108:OTHER --user nobody --peer-uid 0 \
        --state-fd 9 9<>"$GS"
P10=$BPID
check "a state file of other lines (same count, another name): discarded, logged" \
        grep -q "vm1\]: state file discarded (recorded for other lines)" "$T/be10.log"
kill "$P10"; wait "$P10" 2>/dev/null || true
: >"$GS.short"; printf 'garbage' >"$GS.short"; chown nobody "$GS.short"
start_backend "$T/be9.log" --line 0:106:PIN7 --user nobody --peer-uid 0 --state-fd 9 9<>"$GS.short"
P9=$BPID
check "a state file of the wrong size: discarded, logged, served" bash -c "
        grep -q 'vm1\]: state file discarded (wrong size)' '$T/be9.log' && kill -0 $P9"
kill "$P9"; wait "$P9" 2>/dev/null || true

# --- the control channel: tegravirtd is asked about each client
rm -f "$T/ctl.in"; mkfifo "$T/ctl.in"
"$RELAY" "$BACKEND" --domain vm1 --socket "$SOCK" --chip "$CHIP" --line 0:106:PIN7 --user nobody --peer-uid 0 \
        --control-fd 5 <"$T/ctl.in" >"$T/ctl.out" 2>>"$T/be3.log" &
RP=$!
exec 6>"$T/ctl.in"
wait_for 5 grep -q serving "$T/be3.log" || true
P3=$(sed -n 's/^backend //p' "$T/ctl.out")
check "with --control-fd: the backend (pid $P3) holds the control socket too" \
        test "$(fds_of "$P3")" = "3=socket 4=socket 5=socket 6=socket "
q_start "$SOCK"
echo connect >&7
check "a client connects: the backend asks 'peer $QPID'" wait_for 5 grep -qx "peer $QPID" "$T/ctl.out"
sleep 0.5
check "  ... and reads nothing from it before the answer (no reply to its first message)" \
        bash -c "! read -r -t 0.2 -u 8 l"
check "  ... logged as held" grep -q "vm1\]: client pid $QPID uid 0 connected; held until tegravirtd answers" "$T/be3.log"
echo "allow $QPID" >&6
check "'allow $QPID': the client is served" bash -c "read -r -t 5 -u 8 l && [ \"\$l\" = 'connect: ok features=0x140000001' ]"
check "  ... config and names" test "$(q config)|$(q names)" = "config: ngpio=1 names_size=5|names: st=0 len=6 PIN7"
q_stop
wait_for 3 grep -q "client pid $QPID: connection ended" "$T/be3.log" || true
q_start "$SOCK"
echo connect >&7
wait_for 5 grep -qx "peer $QPID" "$T/ctl.out" || true
echo "deny $QPID" >&6
check "'deny': the client is closed" bash -c "read -r -t 5 -u 8 l && [ \"\${l%% *}\" = 'connect:' ] && [ \"\$l\" != 'connect: ok features=0x140000001' ]"
check "  ... logged" grep -q "vm1\]: client pid $QPID refused by tegravirtd" "$T/be3.log"
q_stop
# a client that goes away while tegravirtd has not answered does not block the next one
q_start "$SOCK"
echo connect >&7
wait_for 5 grep -qx "peer $QPID" "$T/ctl.out" || true
kill -9 "$QPID"; q_stop
check "a client killed before the answer: dropped, logged" \
        wait_for 3 grep -q "vm1\]: client pid $QPID went away before tegravirtd answered" "$T/be3.log"
q_start "$SOCK"
echo connect >&7
check "  ... the next client is asked about (not refused as a second connection)" wait_for 5 grep -qx "peer $QPID" "$T/ctl.out"
echo "deny $QPID" >&6
read -r -t 5 -u 8 _ || true
q_stop
# 'peer-pid N': the domain's QEMU is known; only it is served, without asking
q_start "$SOCK"
QP=$(q pid | sed -n 's/^pid: //p')
echo "peer-pid $QP" >&6
wait_for 3 grep -q "the domain's QEMU is pid $QP" "$T/be3.log" || true
check "'peer-pid $QP': that client is served without a question" bash -c "
        [ \"\$(echo connect >&7; read -r -t 5 -u 8 l; echo \"\$l\")\" = 'connect: ok features=0x140000001' ] &&
        ! grep -qx 'peer $QP' '$T/ctl.out'"
q_stop
wait_for 3 grep -q "client pid $QP: connection ended" "$T/be3.log" || true
R=$(client "$SOCK" connect)
check "  ... another process of the right uid is refused at once ($R)" test "${R#connect: failed }" != "$R"
check "  ... logged naming the expected pid" grep -q "vm1\]: client refused: pid [0-9]* uid 0 (expected uid 0 and the domain's QEMU pid)" "$T/be3.log"
echo "bogus" >&6
check "a malformed control line closes the channel" wait_for 3 grep -q "vm1\]: bad control message: control channel closed" "$T/be3.log"
exec 6>&-
kill "$P3" 2>/dev/null || true; wait "$RP" 2>/dev/null || true

# --- the chip goes away (its controller unbound): the backend exits for a restart
start_backend "$T/be4.log" --line 0:106:PIN7 --user nobody --peer-uid 0
P4=$BPID
sim_unbind() { printf '%s' 2200000.gpio >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/unbind"; }
sim_unbind
check "gpio-main unbound: the backend exits" wait_for 5 bash -c "! kill -0 $P4 2>/dev/null"
RC=0; wait "$P4" || RC=$?
check "  ... exit 1" test "$RC" = 1
check "  ... saying the line is gone (ENODEV)" grep -q "vm1\]: a host line is gone (ENODEV): exiting for a restart" "$T/be4.log"
printf '%s' 2200000.gpio >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/bind"
check "no backend of this test is left" test -z "$(tv_own_backends gpio)"
tap_finish
