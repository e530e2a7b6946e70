#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 14 through libvirt: with Emulator= naming our QEMU, `tegravirtctl assign vm1
# header-pin7` writes the definition (validated by virt-xml-validate), `virsh start vm1` runs
# the hook: tegravirtd prepares vm1 and starts its tegravirt-gpio-backend on line 106 of
# gpiochip0, libvirt starts our QEMU with shared memfd memory and the vhost-user GPIO device on
# the backend's socket, QEMU connects and the backend serves it (the peer question answered,
# then the "started" hook's DomainStarted names its pid); the device sits on virtio-mmio-bus.0
# (info qtree over QMP). `virsh destroy` runs the release: backend, socket, runtime directory
# and line request gone; `tegravirtctl unassign` restores the definition byte for byte.
# Then `virsh undefine` of the running vm1 (it runs on, transient) keeps the line, the backend
# serving its QEMU and the assignment; the `virsh destroy` after it releases all three.
# Needs TV_QEMU_BRIDGE (our QEMU, -Dqemu=enabled).
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
if [ ! -x "${TV_QEMU_BRIDGE:-}" ]; then
        tap_skip_all "no QEMU with vhost-user-gpio's IRQ feature (TV_QEMU_BRIDGE='${TV_QEMU_BRIDGE:-}'; -Dqemu=enabled)"
fi
tap_require_cmd virt-xml-validate
tv_libvirt_test "$@"
chmod 755 "$T" # the QEMU user reaches the socket under it
echo "Emulator=$TV_QEMU_BRIDGE" >>"$T/tegravirtd.conf"
tv_start_daemon
DIR="$T/run/domains/vm1"
SOCK="$DIR/gpio.sock"
BACKEND="$TV_BUILD_DIR/backend/tegravirt-gpio-backend"
QLOG=/var/log/libvirt/qemu/vm1.log
vm1_backends() { # this test's daemon's GPIO backends serving vm1
        local p
        for p in $(pgrep -P "$DAEMON_PID" -x tegravirt-gpio- || true); do
                [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BACKEND" ] &&
                        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- '--domain vm1 ' && echo "$p"
        done
        return 0
}
consumer106() { sed -n 's/^gpio 0 106 consumer=\([^ ]*\) .*/\1/p' "$T/mnt/status"; }

tv_domain_xml vm1 | sed '/<interface type=.user.>/,/<\/interface>/d' >"$T/vm1.xml"
virsh_ define "$T/vm1.xml" >/dev/null || not_ok "define vm1"
virsh_ dumpxml --inactive vm1 >"$T/before.xml"
check "tegravirtctl assign vm1 header-pin7 (Emulator= is our QEMU)" "$TV_CTL_BIN" assign vm1 header-pin7
virsh_ dumpxml --inactive vm1 >"$T/assigned.xml"
check "  ... the definition validates (virt-xml-validate, libvirt's domain.rng)" virt-xml-validate "$T/assigned.xml" domain
check "  ... <emulator> is our QEMU, memfd shared memory, the vhost-user GPIO device on vm1's socket" bash -c "
        grep -q '<emulator>$TV_QEMU_BRIDGE</emulator>' '$T/assigned.xml' &&
        grep -q \"<source type='memfd'/>\" '$T/assigned.xml' && grep -q \"<access mode='shared'/>\" '$T/assigned.xml' &&
        grep -q 'socket,id=tvgpio0,path=$SOCK,reconnect=1' '$T/assigned.xml' &&
        grep -q 'vhost-user-gpio-device,chardev=tvgpio0' '$T/assigned.xml'"
# QEMU runs as the QEMU user tegravirtd knows (QemuUser=nobody): the backend serves only that uid
sed -i 's/^user = "root"$/user = "nobody"/; s/^group = "root"$/group = "nogroup"/' /etc/libvirt/qemu.conf
tv_libvirtd_down
tv_libvirtd_up
check "no GPIO backend for vm1 and line 106 free before the start" bash -c "[ -z '$(vm1_backends)' ] && [ -z '$(consumer106)' ]"

rc=0
virsh_ start vm1 >"$T/start.out" 2>&1 || rc=$?
diag "virsh start vm1 (exit $rc): $(cat "$T/start.out")"
check "virsh start vm1 succeeds" test "$rc" = 0
[ "$rc" = 0 ] || diag "$(tail -n 20 "$QLOG" 2>/dev/null)"
QPID=$(cat /run/libvirt/qemu/vm1.pid 2>/dev/null || true)
BPID=$(vm1_backends)
check "the hook prepared vm1: tegravirtd started its GPIO backend (pid ${BPID:-?})" \
        bash -c "[ -n '$BPID' ] && grep -q 'gpio-backend: vm1: started pid $BPID on $SOCK' '$T/daemon.log'"
check "  ... which holds gpiochip0's line 106 as tegravirt:vm1" test "$(consumer106)" = tegravirt:vm1
check "libvirt ran our QEMU (pid ${QPID:-?}) with memfd shared memory and the device on vm1's socket" bash -c "
        grep -q '^[^ ]*$TV_QEMU_BRIDGE ' '$QLOG' && grep -q 'memory-backend-memfd.*share.*on\|\"share\":true' '$QLOG' &&
        grep -q -- '-chardev socket,id=tvgpio0,path=$SOCK,reconnect=1' '$QLOG' &&
        grep -q -- '-device vhost-user-gpio-device,chardev=tvgpio0' '$QLOG'"
check "  ... QEMU connected: the backend serves it (peer answered)" \
        wait_for 20 grep -q "tegravirt-gpio-backend\[vm1\]: serving client pid $QPID\$" "$T/daemon.log"
check "  ... and the \"started\" hook named it to the backend (DomainStarted)" \
        wait_for 20 grep -q "gpio-backend: vm1: serves QEMU pid $QPID\$" "$T/daemon.log"
{ virsh_ qemu-monitor-command vm1 --hmp 'info qtree' 2>&1 || true; } | tr -d '\r' >"$T/qtree"
check "  ... QEMU's qtree: vhost-user-gpio-device on virtio-mmio-bus.0" bash -c "
        awk '/bus: virtio-mmio-bus\./ { bus = \$2 } /dev: vhost-user-gpio-device/ { print bus }' '$T/qtree' | grep -qx virtio-mmio-bus.0"
grep -q 'dev: vhost-user-gpio-device' "$T/qtree" || diag "$(head -c 1500 "$T/qtree")"
check "vm1 is running" bash -c "virsh -q -c qemu:///system domstate vm1 | grep -qx running"
# stop and run again with the definition intact: destroy releases, start prepares anew
destroy_vm1() {
        check "virsh destroy vm1" virsh_ destroy vm1
        check "libvirt ran release: the daemon stopped vm1's GPIO backend" \
                wait_for 10 bash -c "[ \"\$(grep -c 'gpio-backend: vm1: stopped' '$T/daemon.log')\" = $1 ]"
        check "  ... no backend process, socket or runtime directory left; line 106 free" \
                wait_for 10 bash -c "[ -z \"\$(pgrep -P $DAEMON_PID -x tegravirt-gpio- || true)\" ] && [ ! -e '$SOCK' ] && [ ! -e '$DIR' ] &&
                        ! grep -q '^gpio 0 106 consumer=tegravirt:' '$T/mnt/status'"
}
destroy_vm1 1
check "tegravirtctl unassign vm1 header-pin7" "$TV_CTL_BIN" unassign vm1 header-pin7
virsh_ dumpxml --inactive vm1 >"$T/after.xml"
check "  ... the definition is restored byte for byte" cmp "$T/before.xml" "$T/after.xml"
cmp -s "$T/before.xml" "$T/after.xml" || diag "$(diff "$T/before.xml" "$T/after.xml")"

# `virsh undefine` of the running vm1 leaves it running as a transient domain: like a bound
# device, its line group stays with it while its backend serves the live QEMU; the stop
# (release) then frees the line and, the domain being gone, the assignment too
assigned_vm1() { "$TV_CTL_BIN" --no-legend assignments | awk '$1 == "vm1" && $2 == "header-pin7" { f = 1 } END { exit !f }'; }
released_vm1() { ! assigned_vm1 && ! grep -q '^device header-pin7 ' "$T/state/state"; }
check "tegravirtctl assign vm1 header-pin7 again" "$TV_CTL_BIN" assign vm1 header-pin7
rc=0
virsh_ start vm1 >"$T/start2.out" 2>&1 || rc=$?
check "virsh start vm1 again" test "$rc" = 0
[ "$rc" = 0 ] || diag "$(cat "$T/start2.out"; tail -n 20 "$QLOG" 2>/dev/null)"
QPID=$(cat /run/libvirt/qemu/vm1.pid 2>/dev/null || true)
BPID=$(vm1_backends)
check "  ... its backend (pid ${BPID:-?}) serves QEMU pid ${QPID:-?} (DomainStarted)" \
        wait_for 20 bash -c "[ -n '$BPID' ] && [ -n '$QPID' ] && grep -q 'gpio-backend: vm1: serves QEMU pid $QPID\$' '$T/daemon.log'"
check "virsh undefine vm1 (running)" virsh_ undefine vm1
check "  ... vm1 runs on as a transient domain" bash -c "virsh -q -c qemu:///system dominfo vm1 | grep -q '^Persistent: *no' &&
        virsh -q -c qemu:///system domstate vm1 | grep -qx running"
check "  ... the daemon saw the undefine" wait_for 10 grep -q "domain vm1 undefined: its line groups stay with its running QEMU" "$T/daemon.log"
check "  ... line 106 is still requested as tegravirt:vm1" test "$(consumer106)" = tegravirt:vm1
check "  ... the same backend still runs and serves QEMU pid $QPID" bash -c "[ -n '$BPID' ] && [ '$(vm1_backends)' = '$BPID' ] &&
        grep -q '^pid=$BPID .*qemu=$QPID\$' '$DIR/gpio-backend' && [ \$(grep -c 'gpio-backend: vm1: stopped' '$T/daemon.log') = 1 ]"
check "  ... header-pin7 is still assigned to vm1" assigned_vm1
check "  ... not audited as released" bash -c "! grep -q 'header-pin7.*the domain was undefined' '$T/daemon.log'"
destroy_vm1 2
check "  ... the transient vm1 is gone" bash -c "! virsh -q -c qemu:///system dominfo vm1 >/dev/null 2>&1"
check "  ... and so is header-pin7's assignment (no domain left to hold it)" released_vm1
check "  ... audited" grep -q 'header-pin7.*the domain was undefined' "$T/daemon.log"
check "  ... vm1's guest DTB is gone" test ! -e "$T/state/domains/vm1.dtb"
diag "$(grep -E 'gpio-backend|tegravirt-gpio-backend' "$T/daemon.log" | tail -n 12)"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
