#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13 with a real libvirtd: a BPMP device for a domain whose QEMU has no bridge is
# refused, naming the QEMU with -device tegravirt-bpmp and Emulator=; with Emulator= the
# domain is pointed at that QEMU (the original <emulator> recorded in our metadata) and
# gets -chardev socket to its BPMP backend + -device tegravirt-bpmp,chardev=; unassigning
# restores the definition exactly.
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_libvirt_test "$@"
tv_start_daemon
canon() { xmllint --c14n - | xmllint --format -; }
BRIDGE_QEMU="$TV_SOURCE_DIR/tests/integration/fake-tegravirt-bpmp-qemu"
STOCK=/usr/bin/qemu-system-aarch64

tv_domain_xml vm1 >"$T/vm1.xml"
virsh_ define "$T/vm1.xml" >/dev/null || not_ok "define vm1"
virsh_ dumpxml --inactive vm1 | canon >"$T/vm1.before"

check "without Emulator=, uarta on Debian's QEMU (no bridge) is refused" expect_error HostNotReady AssignDevice string:vm1 string:uarta
check "  ... naming the QEMU with -device tegravirt-bpmp and the key to set" grep -q \
        "use the QEMU with -device tegravirt-bpmp that tools/build-qemu.sh installs as /[^ ]*/tegravirt/qemu-system-aarch64: set Emulator=/[^ ]*/tegravirt/qemu-system-aarch64 in tegravirtd.conf" <<<"$LAST_ERROR"
check "  ... the definition is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vm1 | xmllint --c14n - | xmllint --format - | diff -q - '$T/vm1.before' >/dev/null"

tv_stop_daemon || not_ok "daemon exit"
echo "Emulator=$BRIDGE_QEMU" >>"$T/tegravirtd.conf"
tv_start_daemon
check "with Emulator= naming the bridge QEMU: AssignDevice vm1 uarta" expect_ok AssignDevice string:vm1 string:uarta
virsh_ dumpxml --inactive vm1 >"$T/vm1.after"
check "  ... <emulator> is the bridge QEMU" grep -q "<emulator>$BRIDGE_QEMU</emulator>" "$T/vm1.after"
check "  ... the original is recorded in our metadata" grep -q "<tegravirt:emulator path=\"$BRIDGE_QEMU\" previous=\"$STOCK\"/>" "$T/vm1.after"
check "  ... -chardev socket to vm1's backend socket, reconnecting" \
        grep -q "<qemu:arg value=.socket,id=tvbpmp0,path=$T/run/domains/vm1/bpmp.sock,reconnect=1./>" "$T/vm1.after"
last_args() { sed -n "s/^ *<qemu:arg value='\\(.*\\)'\\/>\$/\\1/p" "$1" | tail -4 | tr '\n' ' '; }
check "  ... -device tegravirt-bpmp on that chardev, last, after -chardev" test "$(last_args "$T/vm1.after")" = \
        "-chardev socket,id=tvbpmp0,path=$T/run/domains/vm1/bpmp.sock,reconnect=1 -device tegravirt-bpmp,chardev=tvbpmp0 "
check "  ... the guest /bpmp virtual-pa is the bridge window's slot on the platform bus, after uarta's 64 KiB" bash -c "
        dtc -I dtb -O dts '$T/state/domains/vm1.dtb' 2>/dev/null | grep -q 'virtual-pa = <0x00 0xc010000>'"
check "  ... the definition validates (virt-xml-validate)" virt-xml-validate "$T/vm1.after" domain
check "  ... our metadata validates against xml-schemas/domain-metadata.rng" bash -c "
        xmllint --xpath '//*[local-name()=\"domain\" and namespace-uri()=\"https://tegravirt.org/ns/domain/1\"]' '$T/vm1.after' >'$T/meta.xml' &&
        xmllint --noout --relaxng '$TV_SOURCE_DIR/xml-schemas/domain-metadata.rng' '$T/meta.xml'"
check "  ... no drift reported" bash -c "[ \"\$(busctl --system get-property org.tegravirt /org/tegravirt/device/uarta org.tegravirt.Device1 DomainDrift)\" = 's \"\"' ]"
check "a second device (uarti, no BPMP) keeps the bridge QEMU, the recorded original unchanged" bash -c "
        busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 AssignDevice ss vm1 uarti >/dev/null &&
        virsh -q -c qemu:///system dumpxml --inactive vm1 >'$T/vm1.two' &&
        grep -q '<emulator>$BRIDGE_QEMU</emulator>' '$T/vm1.two' &&
        grep -q '<tegravirt:emulator path=\"$BRIDGE_QEMU\" previous=\"$STOCK\"/>' '$T/vm1.two'"
check "unassign uarta: uarti needs no bridge, so vm1 is back on its own QEMU" bash -c "
        busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vm1 uarta >/dev/null &&
        virsh -q -c qemu:///system dumpxml --inactive vm1 >'$T/vm1.one' &&
        grep -q '<emulator>$STOCK</emulator>' '$T/vm1.one' && ! grep -q 'tegravirt:emulator\|tegravirt-bpmp' '$T/vm1.one'"
check "unassign uarti too: the definition is exactly the original" bash -c "
        busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vm1 uarti >/dev/null &&
        virsh -q -c qemu:///system dumpxml --inactive vm1 | xmllint --c14n - | xmllint --format - | diff -u '$T/vm1.before' -"
check "assign uarta again, then unassign it: exactly the original again" bash -c "
        busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 AssignDevice ss vm1 uarta >/dev/null &&
        busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vm1 uarta >/dev/null &&
        virsh -q -c qemu:///system dumpxml --inactive vm1 | xmllint --c14n - | xmllint --format - | diff -u '$T/vm1.before' -"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
