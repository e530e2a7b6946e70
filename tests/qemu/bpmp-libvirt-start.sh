#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13 through libvirt: with Emulator= naming our QEMU (-device tegravirt-bpmp),
# `tegravirtctl assign vm1 uarta` then `virsh start vm1`: the hook prepares, tegravirtd
# starts vm1's tegravirt-bpmp-backend listening on its socket, libvirt starts our QEMU with
# -chardev socket to that socket and -device tegravirt-bpmp on it; QEMU fails on the
# vfio-platform host device this host does not have (as on stock QEMU), not on the bridge;
# libvirt runs the hook's release, which stops the backend: no process, socket, runtime
# dir or record is left and uarta is back on serial-tegra.
# Needs TV_QEMU_BRIDGE (our QEMU, -Dqemu=enabled).
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
if [ ! -x "${TV_QEMU_BRIDGE:-}" ]; then
        tap_skip_all "no QEMU with the tegravirt-bpmp bridge (TV_QEMU_BRIDGE='${TV_QEMU_BRIDGE:-}'; -Dqemu=enabled)"
fi
tv_libvirt_test "$@"
chmod 755 "$T" # the QEMU user reaches the socket under it
echo "Emulator=$TV_QEMU_BRIDGE" >>"$T/tegravirtd.conf"
tv_start_daemon
diag "libvirtd and tegravirtd are up" # (progress: a run once stalled before the first check)
DIR="$T/run/domains/vm1"
SOCK="$DIR/bpmp.sock"
BACKEND="$TV_BUILD_DIR/backend/tegravirt-bpmp-backend"
QLOG=/var/log/libvirt/qemu/vm1.log
# backends of this test's daemon serving vm1 (other tests, e.g. qemu-bridge-chain, run
# their own vm1 at the same time)
vm1_backends() {
        local p
        for p in $(pgrep -P "$DAEMON_PID" -x tegravirt-bpmp- || true); do
                [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BACKEND" ] &&
                        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '--domain vm1 ' && echo "$p"
        done
        return 0
}
# listening PID: one of PID's fds is a listening unix socket (the kernel's table) and $SOCK
# exists (the daemon binds it under a temporary name, so the table may not show $SOCK)
listening() {
        local f ino
        for f in /proc/"$1"/fd/*; do
                ino=$(readlink "$f" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' || true)
                [ -n "$ino" ] && awk -v i="$ino" '$7 == i && $4 == "00010000" && $6 == "01" { f = 1 } END { exit !f }' /proc/net/unix &&
                        [ -S "$SOCK" ] && return 0
        done
        return 1
}

# without its user-mode NIC: tools/build-qemu.sh configures our QEMU without slirp
tv_domain_xml vm1 | sed '/<interface type=.user.>/,/<\/interface>/d' >"$T/vm1.xml"
virsh_ define "$T/vm1.xml" >/dev/null || not_ok "define vm1"
diag "vm1 defined"
check "tegravirtctl assign vm1 uarta (Emulator= is our QEMU)" "$TV_CTL_BIN" assign vm1 uarta
virsh_ dumpxml --inactive vm1 >"$T/vm1.after"
check "  ... vm1's <emulator> is our QEMU" grep -q "<emulator>$TV_QEMU_BRIDGE</emulator>" "$T/vm1.after"
# the hook refuses a start whose qemu.conf would deny QEMU the VFIO group: give it uarta's
GROUP=$(sim_status 3100000.serial | sed -n 's/.* group=\([0-9]*\).*/\1/p')
tv_qemu_acl_add "/dev/vfio/$GROUP"
# QEMU runs as the QEMU user tegravirtd knows (QemuUser=nobody): its backend serves only that uid
sed -i 's/^user = "root"$/user = "nobody"/; s/^group = "root"$/group = "nogroup"/' /etc/libvirt/qemu.conf
tv_libvirtd_down
tv_libvirtd_up
check "uarta is on serial-tegra before the start" test "$(dev_driver 3100000.serial)" = serial-tegra
check "no backend for vm1 before the start" test -z "$(vm1_backends)"

# virsh start in the background; meanwhile catch the backend while it serves
virsh_ start vm1 >"$T/start.out" 2>&1 &
START=$!
seen="" qemus=""
while kill -0 "$START" 2>/dev/null; do
        P=$(sed -n 's/^pid=\([0-9]*\) start=[0-9]*$/\1/p' "$DIR/backend" 2>/dev/null || true)
        if [ -n "$P" ] && [ -z "$seen" ] && [ "$(readlink "/proc/$P/exe" 2>/dev/null)" = "$BACKEND" ] && listening "$P"; then
                seen=$P
        fi
        # QEMU's processes, by name: one that already failed is a zombie, its exe unreadable
        for q in $(pgrep -u nobody -x qemu-system-aar || true); do
                [[ " $qemus " != *" $q "* ]] && qemus+=" $q"
        done
        sleep 0.02
done
rc=0; wait "$START" || rc=$?
diag "virsh start vm1 (exit $rc): $(cat "$T/start.out")"
check "virsh start vm1 fails (no vfio device on this host)" test "$rc" != 0
check "the hook prepared vm1: the daemon bound uarta to vfio-platform" \
        grep -q "write sys/bus/platform/drivers/vfio-platform/bind 3100000.serial -> ok" "$T/mnt/log"
check "  ... and logged the prepare (audit)" grep -q "^audit: prepare domain=vm1 device=uarta platform-id=3100000.serial uid=0: bound to vfio-platform" "$T/daemon.log"
check "tegravirtd started vm1's backend on its socket" grep -q "bpmp-backend: vm1: started pid [0-9]* on $T/run/domains/vm1/" "$T/daemon.log"
check "  ... which listened there (its own log line)" grep -q "tegravirt-bpmp-backend\[vm1\]: serving the inherited socket uid [0-9]* for peer uid " "$T/daemon.log"
check "  ... caught during the start: pid ${seen:-?} runs tegravirt-bpmp-backend, listening on $SOCK" test -n "$seen"
check "libvirt ran our QEMU" grep -q "^[^ ]*$TV_QEMU_BRIDGE " "$QLOG"
check "  ... with -chardev socket to vm1's backend socket" \
        grep -q -- "-chardev socket,id=tvbpmp0,path=$SOCK,reconnect=1" "$QLOG"
check "  ... and -device tegravirt-bpmp on that chardev" grep -q -- "-device tegravirt-bpmp,chardev=tvbpmp0" "$QLOG"
# QEMU creates devices in command-line order: vfio-platform, before the bridge, ends this start.
# So the bridge's arguments as libvirt passed them, on the binary libvirt ran, once more alone:
# QEMU realizes the device and dumps its DTB (Debian's QEMU refuses the device model name).
RAN=$(sed -n "s|^\(/[^ ]*qemu[^ ]*\) .*|\1|p" "$QLOG" | tail -1)
mapfile -t BRIDGE_ARGS < <(grep -o -- '-chardev socket,id=tvbpmp0,[^ ]*\|-device tegravirt-bpmp,[^ ]*' "$QLOG" | tail -2 | tr ' ' '\n')
check "  ... those bridge arguments (${BRIDGE_ARGS[*]}) realize on ${RAN:-?}: its DTB has the window node" bash -c "
        [ ${#BRIDGE_ARGS[@]} = 4 ] &&
        timeout 60 '$RAN' -M virt -cpu cortex-a57 -display none -nodefaults -machine dumpdtb='$T/bridge.dtb' ${BRIDGE_ARGS[*]} >'$T/bridge.out' 2>&1 &&
        dtc -I dtb -O dts '$T/bridge.dtb' 2>/dev/null | grep -q 'compatible = \"tegravirt,bpmp-window\"'"
diag "$(cat "$T/bridge.out" 2>/dev/null)"
# QEMU dials the chardev (reconnect=1) in the background and may fail on vfio-platform before
# it got there, so whether the backend saw QEMU connect is shown, not asserted (the connection
# itself: qemu-bridge-chain)
CLIENT=$(sed -n 's/^tegravirt-bpmp-backend\[vm1\]: client pid \([0-9]*\) uid \([0-9]*\) connected$/pid \1 uid \2/p' "$T/daemon.log" | head -1)
diag "the backend's client during the start: ${CLIENT:-none} (QEMU pids seen:${qemus:- none})"
check "QEMU failed on the vfio-platform host device this host does not have" \
        grep -q "vfio-platform.*3100000.serial\|vfio.*3100000.serial" "$T/start.out"
check "  ... and on nothing else: the error names neither the bridge nor its chardev" bash -c "! grep -qi 'tegravirt-bpmp\|tvbpmp0\|bpmp.sock' '$T/start.out'"
check "libvirt ran release: the daemon stopped vm1's backend" wait_for 10 grep -q "bpmp-backend: vm1: stopped" "$T/daemon.log"
check "  ... no tegravirt-bpmp-backend process for vm1 is left" wait_for 10 test -z "$(vm1_backends)"
check "  ... ${seen:+pid $seen is gone, }no socket, no runtime dir (record) left" \
        bash -c "[ ! -e '$SOCK' ] && [ ! -e '$DIR' ] && { [ -z '$seen' ] || [ ! -e /proc/$seen ]; }"
check "  ... uarta is back on serial-tegra, override cleared" \
        wait_for 10 bash -c "[ \"\$(grep '^3100000.serial ' '$T/mnt/status' | sed -n 's/.* driver=\([^ ]*\).*/\1/p')\" = serial-tegra ] &&
                grep '^3100000.serial ' '$T/mnt/status' | grep -q 'override=-'"
check "  ... its record back to phase none" grep -q "^device uarta .* phase=none " "$T/state/state"
check "vm1 is shut off" bash -c "virsh -q -c qemu:///system domstate vm1 | grep -q 'shut off'"
diag "$(grep -i 'bpmp' "$T/daemon.log" | tail -20)"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
