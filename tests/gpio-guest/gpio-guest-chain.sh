#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 14's acceptance with a real guest: Debian 12's arm64 kernel with gpio-virtio (built out
# of tree, build-guest.sh) boots under TCG in our QEMU with the vhost-user GPIO device that
# tegravirtd's arguments describe (tv_guest_gpio_qemu_args, the DTB of tv_guest_dtb_build_gpio,
# both through tests/qemu/gpio-place) on vm1's socket, served by the tegravirt-gpio-backend
# that PrepareDomain started on orin-sim's simulated gpiochip0 for the line group header-main.
# tvgpio-guest (GPIO uAPI v2) in the guest is driven through the console (guest-lib.sh); the
# host side drives and observes the lines through orin-sim's control and status files:
# names, values both ways, rising/falling/both edge events, a level-triggered interrupt
# (tv-gpio-level.ko), no other line reachable; the backend killed while a guest request is
# pending is restarted and the request completes; after release nothing is left.
# Needs TV_QEMU_BRIDGE (our QEMU, -Dqemu=enabled), the rig's kernel side (tests/rig,
# apt-get), linux-source-6.1 and the aarch64 cross compiler.
# Env: TV_RIG_CACHE (default <builddir>/rig-cache), TV_GUEST_TIMEOUT.
source "$(dirname "$0")/../lib/integration.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "${TV_QEMU_BRIDGE:-}" ]; then
        tap_skip_all "no QEMU with vhost-user-gpio's IRQ feature (TV_QEMU_BRIDGE='${TV_QEMU_BRIDGE:-}'; -Dqemu=enabled)"
fi
tap_require_cmd aarch64-linux-gnu-gcc cpio setpriv mkfifo python3 fdtget
tv_setup
source "$HERE/guest-lib.sh"
chmod 755 "$T" # the QEMU user reads the guest's files and reaches the socket under it
DIR="$T/run/domains/vm1"
SOCK="$DIR/gpio.sock"
REC="$DIR/gpio-backend"
BE="$TV_BUILD_DIR/backend/tegravirt-gpio-backend"
chain_cleanup() {
        set +e
        gg_qemu_kill
        tv_daemon_running && mgr ReleaseDomain string:vm1 >/dev/null 2>&1
        tv_stop_daemon
        if [ -n "$SIM_PID" ] && mountpoint -q "$T/mnt" 2>/dev/null; then
                fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
        fi
        tv_cleanup
}
trap chain_cleanup EXIT

gg_build
gg_initrd "$T/initrd"

# header-main: nine lines of gpiochip0 (2200000.gpio), guest names header-7 ... header-40
mapfile -t GROUP < <(python3 - "$TV_CATALOG" <<'PY'
import sys, xml.etree.ElementTree as E
ns = {"c": "https://tegravirt.org/ns/catalog/1"}
for g in E.parse(sys.argv[1]).getroot().iter("{%s}line-group" % ns["c"]):
    if g.get("name") == "header-main":
        for l in g.findall("c:line", ns):
            print(l.get("offset"), l.get("name"))
PY
)
OFF=() NAMES=()
for g in "${GROUP[@]}"; do OFF+=("${g%% *}"); NAMES+=("${g#* }"); done
check "the catalog's header-main has nine lines (${NAMES[*]})" test "${#OFF[@]}" = 9

mkdir -p "$T/libvirt-qemu"; chown "$(id -u nobody):$(id -g nobody)" "$T/libvirt-qemu"
echo "LibvirtQemuRunDir=$T/libvirt-qemu" >>"$T/tegravirtd.conf"
tv_start_daemon
backend_pid() { sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$REC" 2>/dev/null; }
# "gpio 0 OFFSET consumer=C dir=D value=V edge=E" of orin-sim's status
line() { grep "^gpio 0 $1 " "$T/mnt/status" || true; }
field() { line "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
all_ours() {
        local o
        for o in "${OFF[@]}"; do [ "$(field "$o" consumer)" = tegravirt:vm1 ] || return 1; done
}
"$TV_CTL_BIN" assign vm1 header-main >/dev/null
check "prepare vm1 (header-main)" expect_ok PrepareDomain string:vm1 string:
check "  ... its GPIO backend listens on $SOCK" wait_for 5 test -S "$SOCK"
check "  ... and holds the nine lines of gpiochip0 as tegravirt:vm1" all_ours
BPID=$(backend_pid)

# what tegravirtd gives the domain: the device's arguments and the guest DTB
MACHINE_DUMP=(-machine virt -cpu cortex-a57 -smp 1 -m 256 -nographic -nodefaults)
"$TV_QEMU_BRIDGE" "${MACHINE_DUMP[@]}" -machine dumpdtb="$T/base.dtb" >"$T/dumpdtb.log" 2>&1 || true
"$TV_BUILD_DIR/tests/qemu/gpio-place" "$SOCK" "$T/base.dtb" "$T/guest.dtb" "${NAMES[@]}" >"$T/args" 2>"$T/place.err"
check "the device's arguments and the guest DTB from tegravirtd's generators" \
        bash -c "[ -s '$T/guest.dtb' ] && grep -q '^vhost-user-gpio-device' '$T/args'"
mapfile -t QARGS <"$T/args"
diag "QEMU args: ${QARGS[*]}"

# --- the boot: QEMU paused, the "started" hook names it to the backend, then it runs -------
t0=$SECONDS
gg_qemu_start "$SOCK" "$T/guest.dtb" vm1 "${QARGS[@]}"
check "the \"started\" hook's DomainStarted names QEMU (pid $(cat "$T/libvirt-qemu/vm1.pid" 2>/dev/null)) to the backend" \
        expect_ok DomainStarted string:vm1
gg_qmp cont || diag "QMP cont failed"
if ! check "the guest boots, loads virtio_mmio and gpio-virtio, tvgpio-guest is ready" gg_ready 300; then
        diag "$(gg_console | tail -n 40)"; diag "$(cat "$T/qemu.err")"
        tap_finish; exit 1
fi
boot=$((SECONDS - t0))
diag "boot to the tool: ${boot} s"

gg_cmd find
check "the guest has a virtio GPIO chip with exactly nine lines" grep -q "^chip /dev/gpiochip[0-9]* label=virtio[0-9]* lines=9\$" <<<"$GG_OUT"
diag "$GG_OUT"
LABEL=$(sed -n 's/^chip .* label=\([^ ]*\) .*/\1/p' <<<"$GG_OUT")
gg_cmd lines
want=""
for i in "${!NAMES[@]}"; do want+="line $i name=${NAMES[$i]} used=0 dir=in consumer=-"$'\n'; done
check "  ... named header-7 ... header-40 in the group's order, all free" test "$GG_OUT"$'\n' = "$want"
[ "$GG_OUT"$'\n' = "$want" ] || diag "$GG_OUT"
gg_cmd "sh cat /sys/bus/gpio/devices/${LABEL:-none}/of_node/compatible 2>/dev/null || cat /sys/bus/virtio/devices/${LABEL:-none}/of_node/compatible"
check "  ... the virtio device has the DTB's node (compatible virtio,device29)" grep -q '^| virtio,device29$' <<<"$(tr -d '\0' <<<"$GG_OUT")"

# --- values both ways ----------------------------------------------------------------------
gg_cmd "out 0 1"
check "guest: line 0 (header-7) as output 1 -> the host sees gpiochip0 ${OFF[0]} dir=out value=1" \
        bash -c "grep -qx 'out 0 ok' <<<'$GG_OUT' && [ '$(field "${OFF[0]}" dir)' = out ] && [ '$(field "${OFF[0]}" value)' = 1 ]"
gg_cmd "set 0 0"
check "guest: set line 0 to 0 -> value=0 on the host" bash -c "[ '$(field "${OFF[0]}" value)' = 0 ]"
gg_cmd "set 0 1"
check "guest: set line 0 to 1 -> value=1 on the host" bash -c "[ '$(field "${OFF[0]}" value)' = 1 ]"
gg_cmd "in 1"
sim "gpio-drive 0 ${OFF[1]} 1"
gg_cmd "get 1"
v1=$GG_OUT
sim "gpio-drive 0 ${OFF[1]} 0"
gg_cmd "get 1"
check "host drives gpiochip0 ${OFF[1]} 1 then 0 -> the guest reads line 1 (header-11) as 1 then 0" \
        test "$v1/$GG_OUT" = "value 1 1/value 1 0"

# --- edge events ---------------------------------------------------------------------------
gg_cmd "edge 2 rising"
gg_cmd "wait 2 300"
quiet=$GG_OUT
sim "gpio-drive 0 ${OFF[2]} 1"
gg_cmd "wait 2 10000" 15
ev=$GG_OUT
sim "gpio-drive 0 ${OFF[2]} 0"
gg_cmd "wait 2 1500" 15
check "rising edge on line 2: nothing before, one rising event when the host drives it high, none when low" \
        bash -c "[ '$quiet' = 'timeout 2' ] && grep -q '^event 2 rising seqno=1 line_seqno=1\$' <<<'$ev' && [ '$GG_OUT' = 'timeout 2' ]"
[ "$ev" = "event 2 rising seqno=1 line_seqno=1" ] || diag "quiet=$quiet ev=$ev after-low=$GG_OUT"
gg_cmd "edge 3 falling"
sim "gpio-drive 0 ${OFF[3]} 1"
gg_cmd "wait 3 1500" 15
up=$GG_OUT
sim "gpio-drive 0 ${OFF[3]} 0"
gg_cmd "wait 3 10000" 15
check "falling edge on line 3: no event when the host drives it high, a falling one when low" \
        bash -c "[ '$up' = 'timeout 3' ] && grep -q '^event 3 falling ' <<<'$GG_OUT'"
[ "$up" = "timeout 3" ] || diag "up=$up down=$GG_OUT"
gg_cmd "edge 4 both"
sim "gpio-drive 0 ${OFF[4]} 1"
gg_cmd "wait 4 10000" 15
e1=$GG_OUT
sim "gpio-drive 0 ${OFF[4]} 0"
gg_cmd "wait 4 10000" 15
check "both edges on line 4: rising then falling, in order" \
        bash -c "grep -q '^event 4 rising seqno=1 ' <<<'$e1' && grep -q '^event 4 falling seqno=2 ' <<<'$GG_OUT'"
[ -n "$e1" ] || diag "e1=$e1 e2=$GG_OUT"
check "  ... the host saw the guest's edge requests as its line configuration (edge= in status)" \
        bash -c "[ '$(field "${OFF[2]}" edge)' = rising ] && [ '$(field "${OFF[3]}" edge)' = falling ] && [ '$(field "${OFF[4]}" edge)' = both ]"

# --- a level-triggered interrupt (an in-kernel consumer: the uAPI has only edges) -----------
gg_cmd "sh insmod /lib/modules/tv-gpio-level.ko label=${LABEL:-virtio0} line=5 type=high max=3"
check "tv-gpio-level takes line 5 (header-35) as a level-high interrupt" grep -qx 'status 0' <<<"$GG_OUT"
gg_cmd "sleep 1000"
gg_cmd "sh cat /sys/module/tv_gpio_level/parameters/count"
c0=$GG_OUT
sim "gpio-drive 0 ${OFF[5]} 1"
lvl_fired() { gg_cmd "sh cat /sys/module/tv_gpio_level/parameters/disabled /sys/module/tv_gpio_level/parameters/count" &&
        [ "$GG_OUT" = $'| 1\n| 3\nstatus 0' ]; }
check "level high: no interrupt while the line is low" test "$c0" = $'| 0\nstatus 0'
lvl_ok=0
wait_for 20 lvl_fired && lvl_ok=1
check "  ... driven high: it fires again each time it is unmasked while the level holds (3, then the module disables it)" test $lvl_ok = 1
[ $lvl_ok = 1 ] || diag "count/disabled: $GG_OUT"
sim "gpio-drive 0 ${OFF[5]} 0"
gg_cmd "sh rmmod tv_gpio_level"
rm_ok=$GG_OUT
# level low on line 6 (header-36): held high first, so nothing may fire until the host drives it low
sim "gpio-drive 0 ${OFF[6]} 1"
gg_cmd "sh insmod /lib/modules/tv-gpio-level.ko label=${LABEL:-virtio0} line=6 type=low max=3"
ins_ok=$GG_OUT
gg_cmd "sleep 1000"
gg_cmd "sh cat /sys/module/tv_gpio_level/parameters/count"
c0=$GG_OUT
sim "gpio-drive 0 ${OFF[6]} 0"
lvl_ok=0
wait_for 20 lvl_fired && lvl_ok=1
check "level low on line 6 (header-36): none while the host holds it high, then 3 interrupts while low" \
        bash -c "[ '$rm_ok' = 'status 0' ] && [ '$ins_ok' = 'status 0' ] && [ '$c0' = $'| 0\nstatus 0' ] && [ $lvl_ok = 1 ]"
[ $lvl_ok = 1 ] || diag "rmmod: $rm_ok insmod: $ins_ok before: $c0 count/disabled: $GG_OUT"
gg_cmd "sh rmmod tv_gpio_level"

# --- nothing else is reachable -------------------------------------------------------------
gg_cmd "bad 9"
b9=$GG_OUT
gg_cmd "bad ${OFF[0]}"
check "line 9 and line ${OFF[0]} (a host offset) do not exist in the guest: EINVAL for line info and request" \
        bash -c "[ '$b9' = 'bad 9 lineinfo=EINVAL request=EINVAL' ] && [ '$GG_OUT' = 'bad ${OFF[0]} lineinfo=EINVAL request=EINVAL' ]"
# the simulated chips' GPIO operations ("SEQ gpio-OP dev/gpiochipN OFFSETS|OFF=V,...|OFF:cfg,... ...")
# as "chip offset" pairs, one a line
gpio_ops() {
        sed -n 's/^[0-9]* gpio-[a-z]* dev\/gpiochip\([0-9]*\) \([^ ]*\).*/\1 \2/p' "$T/mnt/log" |
                while read -r c list; do
                        for o in ${list//,/ }; do echo "$c ${o%%[=:]*}"; done
                done
}
outside() { gpio_ops | grep -vxE "0 ($(IFS='|'; echo "${OFF[*]}"))" || true; }
nops=$(gpio_ops | wc -l)
check "the host's log: all $nops line operations of the simulated chips were on gpiochip0's header-main lines" \
        bash -c "[ '$nops' -gt 20 ] && [ -z '$(outside)' ]"
[ -z "$(outside)" ] || diag "$(outside | sort | uniq -c | head)"

# --- the backend dies while a guest request waits for it -----------------------------------
gg_cmd "in 7"
sim "gpio-drive 0 ${OFF[7]} 1"
kill -STOP "$BPID"
gg_send "get 7"
pending=$GG_N
sleep 2
check "backend stopped (SIGSTOP): the guest's get of line 7 waits (no answer after 2 s)" \
        bash -c "! tr -d '\r' <'$T/console.raw' | grep -qx 'R $pending done'"
kill -9 "$BPID"
check "kill -9 the backend (pid $BPID): tegravirtd restarts it" \
        wait_for 20 bash -c "p=\$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' '$REC'); [ -n \"\$p\" ] && [ \"\$p\" != '$BPID' ] && kill -0 \"\$p\""
NPID=$(backend_pid)
check "  ... which requests the nine lines again as tegravirt:vm1" wait_for 10 all_ours
check "  ... QEMU reconnects and the guest's pending get completes with the host's level 1" gg_wait "$pending" 60
check "  ... value 1" test "$(gg_out "$pending")" = "value 7 1"
# the harder case: the dying backend has taken the request off the ring (its kick consumed)
# and waits on the host chip (orin-sim stopped); only processing what is available when the
# ring starts again answers it (nobody kicks for it)
gg_cmd "in 8"
sim "gpio-drive 0 ${OFF[8]} 1"
kill -STOP "$SIM_PID"
gg_send "get 8"
pending2=$GG_N
took=0
wait_for 15 bash -c "n=\$(cut -d' ' -f1 /proc/$NPID/syscall 2>/dev/null); [ -n \"\$n\" ] && [ \"\$n\" != 7 ] && [ \"\$n\" != 271 ]" && took=1
sleep 0.5
sc=$(cut -d' ' -f1 "/proc/$NPID/syscall" 2>/dev/null || true)
kill -9 "$NPID"
kill -CONT "$SIM_PID"
check "with the host chip stopped the backend took the guest's get of line 8 and waits in syscall ${sc:-?} (not in poll)" test $took = 1
check "kill -9 that backend (pid $NPID): restarted again" \
        wait_for 20 bash -c "p=\$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' '$REC'); [ -n \"\$p\" ] && [ \"\$p\" != '$NPID' ] && kill -0 \"\$p\""
NPID=$(backend_pid)
check "  ... the request it took is answered by the new one: the guest's get completes" gg_wait "$pending2" 60
check "  ... value 1" test "$(gg_out "$pending2")" = "value 8 1"
gg_cmd "set 0 0"
check "the guest goes on: set line 0 to 0 after the restart -> value=0 on the host" \
        bash -c "grep -qx 'set 0 0 ok' <<<'$GG_OUT' && [ '$(field "${OFF[0]}" value)' = 0 ]"
# interrupts after the restarts: the backends kept the guest's line configuration and their
# rings' in-flight heads in the state file tegravirtd passes (--state-fd), so the eventq
# buffers the guest holds for its edge lines are the new backend's again, with their types
check "  ... the state file is still the domain's (restored by the restarted backends)" \
        bash -c "[ -f '$DIR/gpio-state' ] && grep -q 'tegravirt-gpio-backend\[vm1\]: restored the guest.s configuration of' '$T/daemon.log'"
check "  ... the host lines detect the guest's edges again (line 2 rising, 3 falling, 4 both)" \
        bash -c "[ '$(field "${OFF[2]}" edge)' = rising ] && [ '$(field "${OFF[3]}" edge)' = falling ] && [ '$(field "${OFF[4]}" edge)' = both ]"
sim "gpio-drive 0 ${OFF[4]} 1"
gg_cmd "wait 4 10000" 15
check "after the kill -9 restarts the guest's held edge request on line 4 gets the host's next edge (rising, seqno 3)" \
        grep -q '^event 4 rising seqno=3 ' <<<"$GG_OUT"
[ "${GG_OUT#event 4 rising seqno=3 }" != "$GG_OUT" ] || diag "line 4 after the restarts: '$GG_OUT'"
sim "gpio-drive 0 ${OFF[4]} 0"
gg_cmd "wait 4 10000" 15
check "  ... and the falling one after it (seqno 4: nothing lost, nothing twice)" grep -q '^event 4 falling seqno=4 ' <<<"$GG_OUT"
sim "gpio-drive 0 ${OFF[2]} 1"
gg_cmd "wait 2 10000" 15
check "  ... line 2 (rising) too: its held request gets the edge (seqno 2)" grep -q '^event 2 rising seqno=2 ' <<<"$GG_OUT"
sim "gpio-drive 0 ${OFF[2]} 0"
gg_cmd "sh dmesg | grep -c 'WARNING: .* virtio_gpio_irq_prepare'"
check "  ... no guest kernel warning in virtio_gpio_irq_prepare (a buffer it believes queued)" \
        test "$(sed -n 's/^| //p' <<<"$GG_OUT" | tr -d '\r')" = 0
check "  ... no eventq buffer came twice to the restarted backends (none for a line holding one)" \
        bash -c "! grep -q 'malformed eventq buffer' '$T/daemon.log'"
diag "$(grep -E 'gpio-backend|tegravirt-gpio-backend' "$T/daemon.log" | tail -n 8)"

# --- the guest stops, the domain is released: nothing is left ------------------------------
if [ "${TV_FAIL:-0}" -gt 0 ]; then # the guest kernel's side of what failed
        gg_cmd "sh dmesg | tail -n 40" 20
        diag "$GG_OUT"
fi
gg_send quit
gg_qemu_wait 60
check "the guest powers off (QEMU exit ${GG_QEMU_RC:-?})" test "${GG_QEMU_RC:-x}" = 0
check "release vm1" expect_ok ReleaseDomain string:vm1
check "  ... no line of gpiochip0 is requested any more" bash -c "! grep -q 'consumer=tegravirt:' '$T/mnt/status'"
check "  ... the backend (pid $NPID) is gone" bash -c "! grep -qa tegravirt-gpio-backend /proc/$NPID/cmdline 2>/dev/null"
check "  ... no socket, no record, no runtime directory for vm1" bash -c "[ ! -e '$SOCK' ] && [ ! -e '$REC' ] && [ ! -e '$DIR' ]"
check "  ... no process of this build's backend left" \
        test -z "$(tv_own_backends gpio)"
diag "boot ${boot} s; $nops line operations on the simulated chip before the restart"
tap_finish
