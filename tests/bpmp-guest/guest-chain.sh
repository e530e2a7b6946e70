#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13, a real guest: an arm64 kernel built from linux-source-6.1 with kernel/patches and
# the guest proxy (build-guest-kernel.sh) boots under TCG in our QEMU with -device
# tegravirt-bpmp and the guest DTB of tegravirtd's generator (tv_guest_dtb_build, uarta on
# /bpmp). Its BPMP driver's probe traffic and a test-only guest module (module/) that takes
# uarta's clock and reset through the clock and reset frameworks travel guest proxy -> window
# -> QEMU -> tegravirtd's backend for vm1 -> vm1's narrowed /dev/bpmp-host -> the simulated
# firmware (tests/fixture), whose log and state the assertions read. A clock outside vm1's set
# fails in the guest and the host log names the domain; ReleaseDomain undoes what the guest
# left on.
# Needs TV_QEMU_BRIDGE (our QEMU, -Dqemu=enabled), linux-source-6.1, the aarch64 cross
# compiler and busybox-static:arm64 (tests/guest/fetch-guest.sh fetches it with apt-get).
# Env: TV_GUEST_KERNEL_CACHE (default <builddir>/guest-kernel-cache), TV_GUEST_CACHE (the
# busybox download, shared with guest-proof), TV_GUEST_TIMEOUT (boot limit, default 180 s).
source "$(dirname "$0")/../lib/integration.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "${TV_QEMU_BRIDGE:-}" ]; then
        tap_skip_all "no QEMU with the tegravirt-bpmp bridge (TV_QEMU_BRIDGE='${TV_QEMU_BRIDGE:-}'; -Dqemu=enabled)"
fi
[ -r "${TV_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}" ] ||
        tap_skip_all "no linux-source-6.1 tarball (apt-get install linux-source-6.1)"
tap_require_cmd aarch64-linux-gnu-gcc cpio setpriv
KCACHE=${TV_GUEST_KERNEL_CACHE:-$TV_BUILD_DIR/guest-kernel-cache}
GCACHE=${TV_GUEST_CACHE:-$TV_BUILD_DIR/guest-cache}
LIMIT=${TV_GUEST_TIMEOUT:-180}
tv_setup
chmod 755 "$T" # the QEMU user reads the guest's files and reaches the socket under it
# a test that ends early still stops vm1's backend: tegravirtd leaves backends running when
# it stops (it adopts them at its next start), and one holding /dev/bpmp-host keeps the
# fixture mounted
chain_cleanup() {
        set +e
        if tv_daemon_running; then
                mgr ReleaseDomain string:vm1 >/dev/null 2>&1
        fi
        local pid
        pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$T/run/domains/vm1/backend" 2>/dev/null)
        [ -n "$pid" ] && grep -qa tegravirt-bpmp-backend "/proc/$pid/cmdline" 2>/dev/null && kill "$pid"
        tv_stop_daemon
        # a copy of the fixture's mount in another mount namespace (a concurrent test's private
        # one) keeps orin-sim serving after our unmount, and tv_cleanup would wait for it
        if [ -n "$SIM_PID" ] && mountpoint -q "$T/mnt" 2>/dev/null; then
                fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
                wait_for 5 sim_gone || kill "$SIM_PID" 2>/dev/null
        fi
        tv_cleanup
}
sim_gone() { [ ! -e "/proc/$SIM_PID" ] || grep -q ') Z ' "/proc/$SIM_PID/stat" 2>/dev/null; }
trap chain_cleanup EXIT

# --- the guest: kernel + module (cached), busybox, initramfs, DTB ----------------------------
t0=$SECONDS
if ! "$HERE/build-guest-kernel.sh" "$KCACHE" >"$T/kernel.out" 2>"$T/kernel.err"; then
        not_ok "the guest kernel builds"; diag "$(tail -n 30 "$T/kernel.err")"; tap_finish; exit 1
fi
IMAGE=$(sed -n 's/^IMAGE=//p' "$T/kernel.out")
MODULE=$(sed -n 's/^MODULE=//p' "$T/kernel.out")
ok "the guest kernel and test module build ($((SECONDS - t0)) s; $(grep -c '^CONFIG_.*=y' "$(dirname "$IMAGE")/config") options =y)"
if ! "$TV_SOURCE_DIR/tests/guest/fetch-guest.sh" "$GCACHE" >"$T/fetch.out" 2>"$T/fetch.err"; then
        not_ok "busybox-static:arm64 is fetched"; diag "$(tail -n 10 "$T/fetch.err")"; tap_finish; exit 1
fi
BUSYBOX=$(sed -n 's/^BUSYBOX=//p' "$T/fetch.out")

mkdir -p "$T/root"/{bin,dev,proc,sys,tmp}
cp "$BUSYBOX" "$T/root/bin/busybox"
ln -s busybox "$T/root/bin/sh"
cp "$MODULE" "$T/root/"
mknod -m 600 "$T/root/dev/console" c 5 1
cp "$HERE/guest-init.sh" "$T/root/init"
chmod 755 "$T/root/init"
(cd "$T/root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$T/initrd"

# the bridge is the only platform-bus device of this QEMU (no vfio-platform host device
# here): our placement of a bridge alone; the DTB gets uarta's node and /bpmp from
# tegravirtd's generator, with virtual-pa at that address
BRIDGE=$("$TV_BUILD_DIR/tests/qemu/bpmp-place" "$TV_CATALOG")
MACHINE=(-machine virt -cpu cortex-a57 -smp 1 -m 256 -nographic -nodefaults)
"$TV_QEMU_BRIDGE" "${MACHINE[@]}" -machine dumpdtb="$T/base.dtb" >"$T/dumpdtb.log" 2>&1 || true
check "the DTB: QEMU's dumpdtb + uarta and /bpmp (virtual-pa $BRIDGE) by tegravirtd's generator" \
        "$TV_BUILD_DIR/tests/unit/gen-guest-dtb" "$T/base.dtb" "$T/guest.dtb" "$TV_CATALOG" "$BRIDGE" uarta
diag "$(fdtdump "$T/guest.dtb" 2>/dev/null | sed -n '/ bpmp {/,/};/p;/serial@/,/};/p' | head -40)"

# --- the host side: vm1 with uarta, its backend on the narrowed /dev/bpmp-host --------------
# libvirt's QEMU run dir: QEMU writes its pid file there, DomainStarted reads it (we play
# libvirt's "started" hook)
mkdir -p "$T/libvirt-qemu"; chown "$(id -u nobody):$(id -g nobody)" "$T/libvirt-qemu"
echo "LibvirtQemuRunDir=$T/libvirt-qemu" >>"$T/tegravirtd.conf"
tv_start_daemon
firmware() { grep '^bpmp-firmware ' "$T/mnt/status"; }
"$TV_CTL_BIN" assign vm1 uarta >/dev/null
check "prepare vm1 (uarta: clock 155, parent 102, reset 100)" expect_ok PrepareDomain string:vm1 string:
check "  ... its backend listens" wait_for 5 test -S "$T/run/domains/vm1/bpmp.sock"
file=$(sed -n 's/^bpmp-file \([0-9]*\) .* clocks=155 resets=100 .*/\1/p' "$T/mnt/status" | tail -n1)
check "  ... on a /dev/bpmp-host file narrowed to uarta's set (file ${file:-?})" test -n "$file"
before=$(wc -l <"$T/mnt/log")

# --- the boot ------------------------------------------------------------------------------
QU=$(id -u nobody) QG=$(id -g nobody)
t0=$SECONDS
rc=0
# as libvirt does: QEMU starts paused (-S), the "started" hook names its pid to the domain's
# backend (which serves no other process), then the vCPUs run
timeout -k 5 "$LIMIT" setpriv --reuid "$QU" --regid "$QG" --clear-groups \
        "$TV_QEMU_BRIDGE" "${MACHINE[@]}" -no-reboot -monitor none -serial stdio -S \
        -pidfile "$T/libvirt-qemu/vm1.pid" -qmp "unix:$T/libvirt-qemu/qmp.sock,server=on,wait=off" \
        -kernel "$IMAGE" -initrd "$T/initrd" -dtb "$T/guest.dtb" \
        -append "console=ttyAMA0 panic=-1 clk_ignore_unused pd_ignore_unused" \
        -chardev "socket,id=tvbpmp0,path=$T/run/domains/vm1/bpmp.sock,reconnect=1" \
        -device tegravirt-bpmp,chardev=tvbpmp0 </dev/null >"$T/console.raw" 2>"$T/qemu.err" &
QEMU_JOB=$!
wait_for 20 test -s "$T/libvirt-qemu/vm1.pid" && wait_for 20 test -S "$T/libvirt-qemu/qmp.sock"
check "the \"started\" hook's DomainStarted names QEMU (pid $(cat "$T/libvirt-qemu/vm1.pid" 2>/dev/null)) to vm1's backend" \
        expect_ok DomainStarted string:vm1
python3 - "$T/libvirt-qemu/qmp.sock" <<'PY' || diag "QMP cont failed"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "cont"):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while "return" not in (r := json.loads(f.readline())) and "error" not in r:
        pass
PY
wait "$QEMU_JOB" || rc=$?
boot=$((SECONDS - t0))
tr -d '\r' <"$T/console.raw" >"$T/console"
check "the guest boots, runs its checks and powers off (QEMU exit $rc after ${boot} s, limit ${LIMIT} s)" \
        bash -c "[ $rc = 0 ] && grep -qx 'TVB-END' '$T/console'"
if ! grep -qx 'TVB-END' "$T/console"; then
        diag "$(tail -n 40 "$T/console")"; diag "$(cat "$T/qemu.err")"
fi
tail -n +"$((before + 1))" "$T/mnt/log" >"$T/xfers"
guest() { grep -q -- "$1" "$T/console"; }
# the fixture's log lines of vm1's file: ioctl dev/bpmp-host file=N:XFER:mrq=M[:cmd=C][:id=I] -> ok|ERR
xfer() { grep -c -- " dev/bpmp-host file=$file:XFER:$1 -> $2\$" "$T/xfers" || true; }

check "the guest kernel logs 'virtual BPMP, bridge at $BRIDGE'" guest "virtual BPMP, bridge at $BRIDGE\$"
check "the BPMP driver pings the firmware: one MRQ_PING reaches it" test "$(xfer mrq=0 ok)" = 1
check "  ... reads its tag (QUERY_ABI, then one QUERY_FW_TAG), which comes back to the guest" \
        bash -c "[ '$(xfer mrq=71 ok)' = 1 ] && [ '$(xfer mrq=23 ok)' -ge 1 ] &&
                grep -q 'tegra-bpmp bpmp: firmware: orin-sim simulated BPMP firmware\$' '$T/console'"
check "the clock driver asks for the highest clock ID once" test "$(xfer mrq=22:cmd=15:id=0 ok)" = 1
n=$(grep -c " dev/bpmp-host file=$file:XFER:mrq=22:cmd=14:id=[0-9]* -> ok\$" "$T/xfers" || true)
u=$({ grep -o " dev/bpmp-host file=$file:XFER:mrq=22:cmd=14:id=[0-9]* -> ok\$" "$T/xfers" || true; } | sort -u | wc -l)
check "  ... and for each clock's info, 0..304, each exactly once ($n transfers, $u IDs)" \
        bash -c "[ '$n' = 305 ] && [ '$u' = 305 ]"
check "  ... the guest's clock tree has the firmware's six clocks (next to QEMU's clk24mhz), uarta under pllp_out0" \
        bash -c "[ \"\$(sed -n 's/^TVB clk //p' '$T/console' | sort | tr '\n' ' ')\" = 'clk24mhz gpc0clk gpc1clk gpusys pllp_out0 pllp_out0/uarta pllp_out0/uarte ' ]"
check "the power-domain driver: one PG GET_MAX_ID, 36 GET_NAMEs; the guest has domain 'gpu'" \
        bash -c "[ '$(xfer mrq=66:cmd=4:id=0 ok)' = 1 ] &&
                [ \"\$(grep -c ' dev/bpmp-host file=$file:XFER:mrq=66:cmd=3:id=[0-9]* -> ok\$' '$T/xfers')\" = 36 ] &&
                grep -qx 'TVB pd gpu' '$T/console'"

check "the test module binds uarta's node and enables its clock: 0, rate 408000000 from the firmware, parent pllp_out0" \
        guest "tv-bpmp-test: serial clock uarta enable 0 rate 408000000 parent pllp_out0\$"
check "  ... the enable reached the firmware: parent 102, then 155 (one each before the rebind)" \
        bash -c "grep -o 'mrq=22:cmd=7:id=[0-9]* -> [A-Za-z]*\$' '$T/xfers' | head -n2 | tr '\n' ' ' |
                grep -qx 'mrq=22:cmd=7:id=102 -> ok mrq=22:cmd=7:id=155 -> ok '"
check "  ... its reset pulse: assert 0 deassert 0, both in the firmware log" \
        bash -c "grep -q 'tv-bpmp-test: serial reset assert 0 deassert 0\$' '$T/console' &&
                [ '$(xfer mrq=20:cmd=1:id=100 ok)' -ge 1 ] && [ '$(xfer mrq=20:cmd=2:id=100 ok)' -ge 1 ]"
check "a clock outside vm1's set (uarte, 159) fails in the guest with -EIO" \
        guest "tv-bpmp-test: other clock 159 uarte: enable -5\$"
check "  ... the kernel proxy refused it on vm1's file (EPERM in the fixture log)" \
        test "$(xfer mrq=22:cmd=7:id=159 EPERM)" -ge 1
check "  ... the backend's log names the domain and the refusal" \
        grep -q "tegravirt-bpmp-backend\[vm1\]: MRQ 22 denied by the proxy's policy (EPERM)" "$T/daemon.log"
check "unbind + bind in the guest: the clock goes off and on again (disable 155 between two enables)" \
        bash -c "grep -o 'mrq=22:cmd=[78]:id=155 -> ok\$' '$T/xfers' | tr '\n' ' ' |
                grep -qx 'mrq=22:cmd=7:id=155 -> ok mrq=22:cmd=8:id=155 -> ok mrq=22:cmd=7:id=155 -> ok '"
check "after the guest's poweroff the firmware still has what it left on: 102 and 155" \
        test "$(firmware)" = "bpmp-firmware clocks_on=102,155 resets_asserted=- power_domains_on=-"
check "  ... and vm1's file marks 155 as its own" grep -q "^bpmp-file $file .* enabled=155 " "$T/mnt/status"
check "  ... nothing outside vm1's set was switched by anyone" \
        bash -c "! grep -E 'XFER:mrq=(22:cmd=[78]|20:cmd=[12]|66:cmd=1):id=[0-9]+ -> ok\$' '$T/xfers' |
                grep -vE ':id=(102|155|100) -> ok\$'"

bpid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$T/run/domains/vm1/backend" 2>/dev/null || true)
check "release vm1" expect_ok ReleaseDomain string:vm1
check "  ... its file's last close undid the guest's clock (undo clk-disable:155)" \
        grep -q "undo dev/bpmp-host file=$file:clk-disable:155 -> ok" "$T/mnt/log"
check "  ... the firmware has 155 off; the parent pllp_out0 (102), a protected root, stays the host's" \
        test "$(firmware)" = "bpmp-firmware clocks_on=102 resets_asserted=- power_domains_on=-"
check "  ... no backend (pid ${bpid:-?}), socket or open /dev/bpmp-host file is left" \
        bash -c "[ -n '$bpid' ] && ! grep -qa tegravirt-bpmp-backend /proc/$bpid/cmdline 2>/dev/null &&
                ! test -e '$T/run/domains/vm1/bpmp.sock' && ! grep -q '^bpmp-file ' '$T/mnt/status'"
diag "boot ${boot} s; $(grep -c ':XFER:' "$T/xfers") transfers through the bridge"
diag "$(grep -E 'bpmp|tv-bpmp-test' "$T/console" | head -n 30)"
tap_finish
