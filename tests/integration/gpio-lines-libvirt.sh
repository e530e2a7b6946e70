#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GPIO line groups with a real libvirtd: assigning one adds exactly what the vhost-user GPIO
# device needs to the definition (shared memfd memory, -chardev/-device/-global, the guest
# DTB with a virtio,device29 node under virtio-mmio-bus.0's transport), libvirt's own schema
# accepts it, two groups share one device, a conflicting <memoryBacking> is refused naming it
# with nothing changed, PrepareDomain starts the GPIO backend, unassigning restores the
# definition byte for byte, undefining the domain releases its line groups like its devices
# (a device still bound stays until ReleaseDomain, which then releases it), and with Emulator= the domain runs on that QEMU (the one with VIRTIO_GPIO_F_IRQ).
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_libvirt_test "$@"
tv_start_daemon
LAST_ERROR=""
P=/org/tegravirt/device
prop() { busctl --system get-property org.tegravirt "$P/$1" org.tegravirt.Device1 "$2"; }
QNS=http://libvirt.org/schemas/domain/qemu/1.0
# xp FILE XPATH: xmllint's answer (the qemu namespace bound to q)
xp() { xmllint --xpath "$2" - <"$1" 2>/dev/null | sed 's/^ *//' | awk 'NF' ; }
qargs() { # the <qemu:arg> values, one a line
        xmllint --xpath "//*[local-name()='commandline' and namespace-uri()='$QNS']/*[local-name()='arg']/@value" \
                - <"$1" 2>/dev/null | sed 's/^ *value="\(.*\)"$/\1/'
}
SOCK="$T/run/domains/vma/gpio.sock"
DTB="$T/state/domains/vma.dtb"

tv_domain_xml vma >"$T/vma.xml"
virsh_ define "$T/vma.xml" >/dev/null || not_ok "define vma"
virsh_ dumpxml --inactive vma >"$T/before.xml"
check "AssignDevice vma header-pin7" expect_ok AssignDevice string:vma string:header-pin7
virsh_ dumpxml --inactive vma >"$T/one.xml"
printf '%s\n' -chardev "socket,id=tvgpio0,path=$SOCK,reconnect=1" -device \
        "vhost-user-gpio-device,chardev=tvgpio0,id=tvgpio,bus=virtio-mmio-bus.0" -global \
        virtio-mmio.force-legacy=false >"$T/want-args"
qargs "$T/one.xml" >"$T/one-args"
check "  ... <qemu:commandline> has exactly the GPIO device's args" cmp "$T/want-args" "$T/one-args"
check "  ... <memoryBacking> is exactly memfd source + shared access" \
        test "$(xp "$T/one.xml" '/domain/memoryBacking/*')" = "$(printf '%s\n' '<source type="memfd"/>' '<access mode="shared"/>')"
check "  ... <os><dtb> is the domain's guest DTB" test "$(xp "$T/one.xml" 'string(/domain/os/dtb)')" = "$DTB"
check "  ... the definition validates (virt-xml-validate, libvirt's domain.rng)" virt-xml-validate "$T/one.xml" domain
check "  ... the record lists the group and the memoryBacking it created" \
        grep -q '<tegravirt:memory-backing created-element="yes" source="yes" access="yes"/>' "$T/one.xml"
check "  ... the DTB has virtio,device29 under virtio_mmio@a000000 with the group's line" \
        test "$(fdtget -t s "$DTB" /virtio_mmio@a000000/gpio compatible 2>&1)" = "virtio,device29" -a \
             "$(fdtget -t s "$DTB" /virtio_mmio@a000000/gpio gpio-line-names 2>&1)" = "header-7"
check "  ... gpio-controller, #gpio-cells 2, interrupt-controller, #interrupt-cells 2" \
        bash -c "fdtget '$DTB' /virtio_mmio@a000000/gpio gpio-controller >/dev/null && [ \"\$(fdtget '$DTB' /virtio_mmio@a000000/gpio '#gpio-cells')\" = 2 ] &&
                 fdtget '$DTB' /virtio_mmio@a000000/gpio interrupt-controller >/dev/null && [ \"\$(fdtget '$DTB' /virtio_mmio@a000000/gpio '#interrupt-cells')\" = 2 ]"

# a second group (another controller): the same one device, its lines after the first's
check "AssignDevice vma header-aon" expect_ok AssignDevice string:vma string:header-aon
virsh_ dumpxml --inactive vma >"$T/two.xml"
qargs "$T/two.xml" >"$T/two-args"
check "  ... still exactly one GPIO device: the args are unchanged" cmp "$T/want-args" "$T/two-args"
check "  ... the record lists both groups" \
        bash -c "grep -q '<tegravirt:device name=\"header-pin7\"/>' '$T/two.xml' && grep -q '<tegravirt:device name=\"header-aon\"/>' '$T/two.xml'"
check "  ... the DTB names header-pin7's line, then header-aon's, densely" \
        test "$(fdtget -t s "$DTB" /virtio_mmio@a000000/gpio gpio-line-names 2>&1)" = \
             "header-7 header-16 header-29 header-31 header-32 header-33 header-37"
check "  ... the definition validates" virt-xml-validate "$T/two.xml" domain
virsh_ define "$T/two.xml" >"$T/redefine.out" 2>&1 || { not_ok "redefine vma"; diag "$(cat "$T/redefine.out")"; }
sleep 0.5
check "  ... a redefine shows no drift on the line groups" test "$(prop header_2dpin7 DomainDrift)" = 's ""'
check "PrepareDomain vma (the hook's call) starts its GPIO backend" expect_ok PrepareDomain string:vma string:
check "  ... which requests line 106 as tegravirt:vma" wait_for 5 grep -q '^gpio 0 106 consumer=tegravirt:vma ' "$T/mnt/status"
check "ReleaseDomain vma (the hook's call) stops it" expect_ok ReleaseDomain string:vma
check "  ... the line is free" bash -c "! grep -q '^gpio 0 106 consumer=tegravirt:' '$T/mnt/status'"
check "UnassignDevice vma header-aon" expect_ok UnassignDevice string:vma string:header-aon
virsh_ dumpxml --inactive vma >"$T/back-one.xml"
check "  ... the definition is the one-group one again, byte for byte" cmp "$T/one.xml" "$T/back-one.xml"
check "UnassignDevice vma header-pin7" expect_ok UnassignDevice string:vma string:header-pin7
virsh_ dumpxml --inactive vma >"$T/after.xml"
check "  ... the definition is restored byte for byte" cmp "$T/before.xml" "$T/after.xml"
check "  ... and the guest DTB is gone" test ! -e "$DTB"

# a <memoryBacking> that cannot be shared: refused naming it, nothing changed
sed "s|  <vcpu|  <memoryBacking>\n    <access mode='private'/>\n  </memoryBacking>\n  <vcpu|" "$T/vma.xml" >"$T/vmb.xml"
sed -i "s|<name>vma</name>|<name>vmb</name>|" "$T/vmb.xml"
virsh_ define "$T/vmb.xml" >/dev/null || not_ok "define vmb"
virsh_ dumpxml --inactive vmb >"$T/vmb-before.xml"
check "AssignDevice vmb header-pin7 with <access mode='private'/> -> InvalidArgument" \
        expect_error InvalidArgument AssignDevice string:vmb string:header-pin7
check "  ... naming the element and the reason" \
        grep -q "<memoryBacking><access mode='private'/>.*vhost-user GPIO device of its line groups needs guest memory" <<<"$LAST_ERROR"
virsh_ dumpxml --inactive vmb >"$T/vmb-after.xml"
check "  ... the definition is unchanged" cmp "$T/vmb-before.xml" "$T/vmb-after.xml"
check "  ... the group stays free" test "$(prop header_2dpin7 Domain)" = 's ""'
check "  ... and has no record" bash -c "! grep -q '^device header-pin7 ' '$T/state/state'"
virsh_ undefine vmb >/dev/null || not_ok "undefine vmb"

# a compatible <memoryBacking> keeps what it has and gets the rest; unassign gives it back exactly
sed "s|  <vcpu|  <memoryBacking>\n    <nosharepages/>\n    <locked/>\n  </memoryBacking>\n  <vcpu|; s|<name>vma</name>|<name>vmc</name>|" \
        "$T/vma.xml" >"$T/vmc.xml"
virsh_ define "$T/vmc.xml" >/dev/null || not_ok "define vmc"
virsh_ dumpxml --inactive vmc >"$T/vmc-before.xml"
check "AssignDevice vmc header-pin7 (its <memoryBacking> has <nosharepages/><locked/>)" \
        expect_ok AssignDevice string:vmc string:header-pin7
virsh_ dumpxml --inactive vmc >"$T/vmc-after.xml"
check "  ... kept, with memfd source and shared access added" test "$(xp "$T/vmc-after.xml" '/domain/memoryBacking/*')" = \
        "$(printf '%s\n' '<nosharepages/>' '<locked/>' '<source type="memfd"/>' '<access mode="shared"/>')"
check "  ... the record says only those two were added" \
        grep -q '<tegravirt:memory-backing source="yes" access="yes"/>' "$T/vmc-after.xml"
check "  ... the definition validates" virt-xml-validate "$T/vmc-after.xml" domain
check "UnassignDevice vmc header-pin7" expect_ok UnassignDevice string:vmc string:header-pin7
virsh_ dumpxml --inactive vmc >"$T/vmc-back.xml"
check "  ... the definition is restored byte for byte" cmp "$T/vmc-before.xml" "$T/vmc-back.xml"
virsh_ undefine vmc >/dev/null || not_ok "undefine vmc"

check "AssignDevice vma header-pin7 again" expect_ok AssignDevice string:vma string:header-pin7
check "AssignDevice vma uarti" expect_ok AssignDevice string:vma string:uarti
UARTI_DRV=$(dev_driver 31d0000.serial)
tv_qemu_acl_add "/dev/vfio/$(sim_status 31d0000.serial | sed -n 's/.* group=\([0-9]*\).*/\1/p')"
check "PrepareDomain vma: its GPIO backend runs" expect_ok PrepareDomain string:vma string:
check "  ... line 106 requested as tegravirt:vma" wait_for 5 grep -q '^gpio 0 106 consumer=tegravirt:vma ' "$T/mnt/status"
check "  ... uarti is bound to vfio-platform" test "$(dev_driver 31d0000.serial)" = vfio-platform
BE_PID=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$T/run/domains/vma/gpio-backend")
# no QEMU runs (no DomainStarted): the line group goes at once, the bound device stays
virsh_ undefine vma >/dev/null || not_ok "undefine vma"
check "undefining vma releases header-pin7" wait_for 5 bash -c "[ \"\$(busctl --system get-property org.tegravirt $P/header_2dpin7 org.tegravirt.Device1 Domain)\" = 's \"\"' ]"
check "  ... and its record" bash -c "! grep -q '^device header-pin7 ' '$T/state/state'"
check "  ... audited" grep -q 'header-pin7.*the domain was undefined' "$T/daemon.log"
check "  ... its GPIO backend (pid $BE_PID) is stopped (logged: a second time, after ReleaseDomain's above)" \
        wait_for 5 bash -c "[ \"\$(grep -c 'gpio-backend: vma: stopped' '$T/daemon.log')\" = 2 ]"
check "  ... the process is gone" bash -c "[ -n '$BE_PID' ] && ! kill -0 $BE_PID 2>/dev/null"
check "  ... line 106 is free" bash -c "! grep -q '^gpio 0 106 consumer=tegravirt:' '$T/mnt/status'"
check "  ... no GPIO socket, no GPIO record" bash -c "[ ! -e '$SOCK' ] && [ ! -e '$T/run/domains/vma/gpio-backend' ]"
check "  ... uarti, still bound, stays vma's" bash -c "[ '$(dev_driver 31d0000.serial)' = vfio-platform ] && grep -q 'domain=vma phase=bound' <<<'$(state_line uarti)'"
check "ReleaseDomain vma (libvirt no longer knows it)" expect_ok ReleaseDomain string:vma
check "  ... uarti is back on its host driver (${UARTI_DRV:-?})" dev_whole 31d0000.serial "$UARTI_DRV"
check "  ... and its assignment is released: no record left" test -z "$(state_line uarti)"
check "  ... audited" grep -q 'uarti.*the domain was undefined' "$T/daemon.log"
check "  ... vma's guest DTB is gone" test ! -e "$DTB"
check "  ... no socket, no record, no runtime directory" test ! -e "$T/run/domains/vma"
check "daemon exits 0 on SIGTERM" tv_stop_daemon

# with Emulator= (our QEMU: the guest gets GPIO interrupts) a domain with line groups runs on it
BRIDGE_QEMU="$TV_SOURCE_DIR/tests/integration/fake-tegravirt-bpmp-qemu"
echo "Emulator=$BRIDGE_QEMU" >>"$T/tegravirtd.conf"
tv_start_daemon
virsh_ define "$T/vma.xml" >/dev/null || not_ok "define vma again"
virsh_ dumpxml --inactive vma >"$T/emu-before.xml"
check "with Emulator=: AssignDevice vma header-pin7" expect_ok AssignDevice string:vma string:header-pin7
virsh_ dumpxml --inactive vma >"$T/emu.xml"
check "  ... <emulator> is Emulator=, the original recorded" bash -c "grep -q '<emulator>$BRIDGE_QEMU</emulator>' '$T/emu.xml' &&
        grep -q '<tegravirt:emulator path=\"$BRIDGE_QEMU\" previous=\"/usr/bin/qemu-system-aarch64\"/>' '$T/emu.xml'"
check "  ... the definition validates" virt-xml-validate "$T/emu.xml" domain
check "UnassignDevice vma header-pin7" expect_ok UnassignDevice string:vma string:header-pin7
virsh_ dumpxml --inactive vma >"$T/emu-after.xml"
check "  ... the definition, emulator included, is restored byte for byte" cmp "$T/emu-before.xml" "$T/emu-after.xml"
check "daemon exits 0 on SIGTERM" tv_stop_daemon

# an emulator without -device vhost-user-gpio-device: refused, naming it, nothing changed
NOGPIO="$TV_SOURCE_DIR/tests/unit/fake-qemu/qemu-9.2-vfio"
sed -i "s|^Emulator=.*|Emulator=$NOGPIO|" "$T/tegravirtd.conf"
tv_start_daemon
check "with an Emulator= lacking vhost-user-gpio-device: AssignDevice vma header-pin7 -> HostNotReady" \
        expect_error HostNotReady AssignDevice string:vma string:header-pin7
check "  ... naming the binary and what it lacks" grep -q "$NOGPIO (QEMU 9.2.0) has no -device vhost-user-gpio-device" <<<"$LAST_ERROR"
virsh_ dumpxml --inactive vma >"$T/nogpio.xml"
check "  ... the definition is unchanged" cmp "$T/emu-before.xml" "$T/nogpio.xml"
check "  ... and the group stays free" test "$(prop header_2dpin7 Domain)" = 's ""'
virsh_ undefine vma >/dev/null || not_ok "undefine vma"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
