#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# With a real libvirtd: AssignDevice rewrites the persistent definition; virsh start
# runs the hook, which binds the device; QEMU fails (no vfio device on this host);
# libvirt's release hook gives the device back. Plain domains are untouched.
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_libvirt_test "$@"
tv_start_daemon
canon() { xmllint --c14n - | xmllint --format -; }

tv_domain_xml vm1 >"$T/vm1.xml"
tv_domain_xml vm2 >"$T/vm2.xml"
tv_domain_xml vm3 "$TV_SOURCE_DIR/tests/integration/fake-bpmp-qemu" >"$T/vm3.xml"
for v in vm1 vm2 vm3; do virsh_ define "$T/$v.xml" >/dev/null || not_ok "define $v"; done
virsh_ dumpxml --inactive vm1 | canon >"$T/vm1.before"
virsh_ dumpxml --inactive vm3 | canon >"$T/vm3.before"

# --- assignment rewrites the persistent definition ---
check "AssignDevice vm1 uarti (busctl)" busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 AssignDevice ss vm1 uarti
virsh_ dumpxml --inactive vm1 >"$T/vm1.after"
check "dumpxml carries -device vfio-platform,host=31d0000.serial" grep -q "value='vfio-platform,host=31d0000.serial'\|value=\"vfio-platform,host=31d0000.serial\"" "$T/vm1.after"
check "dumpxml carries <dtb> under the state dir" grep -q "<dtb>$T/state/domains/vm1.dtb</dtb>" "$T/vm1.after"
check "dumpxml carries our metadata" grep -q "https://tegravirt.org/ns/domain/1" "$T/vm1.after"
check "the definition validates (virt-xml-validate)" virt-xml-validate "$T/vm1.after" domain
check "the user's cmdline is kept" grep -q "<cmdline>console=ttyAMA0 root=/dev/vda</cmdline>" "$T/vm1.after"

check "a BPMP device on a QEMU without the bridge is refused, naming the binary" expect_error HostNotReady AssignDevice string:vm1 string:uarta
check "  ... the message names the emulator" grep -q "qemu-system-aarch64" <<<"$LAST_ERROR"
check "  ... and the definition is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vm1 | diff -q - '$T/vm1.after' >/dev/null"
check "  ... and nothing was recorded" bash -c "! grep -q '^device uarta ' '$T/state/state'"

check "AssignDevice vm3 uarta on a bpmp-virt build" expect_ok AssignDevice string:vm3 string:uarta
virsh_ dumpxml --inactive vm3 >"$T/vm3.after"
check "vm3 gets the guest kernel args BPMP guests need, once" grep -q "<cmdline>console=ttyAMA0 root=/dev/vda clk_ignore_unused pd_ignore_unused</cmdline>" "$T/vm3.after"
check "vm3's definition validates" virt-xml-validate "$T/vm3.after" domain
check "unassign vm3 restores the original definition exactly" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vm3 uarta && virsh -q -c qemu:///system dumpxml --inactive vm3 | xmllint --c14n - | xmllint --format - | diff -u '$T/vm3.before' -"
check "a domain libvirt does not know is refused" expect_error InvalidArgument AssignDevice string:nosuchvm string:uarte

# --- virsh start: first refused until qemu.conf lets QEMU open /dev/vfio/3 ---
check "uarti is on serial-tegra before start" test "$(dev_driver 31d0000.serial)" = serial-tegra
virsh_ start vm1 >"$T/start0.out" 2>&1 && not_ok "start without the vfio group in cgroup_device_acl unexpectedly succeeded"
check "virsh start shows the missing cgroup_device_acl entry" grep -q 'would deny QEMU /dev/vfio/3' "$T/start0.out"
check "  ... with the exact line to set" grep -q 'cgroup_device_acl = \[ .*"/dev/vfio/vfio", .*"/dev/vfio/3", \]' "$T/start0.out"
check "  ... and nothing was bound" test "$(dev_driver 31d0000.serial)" = serial-tegra
rc=0; "$TV_CTL_BIN" check vm1 >"$T/check0.out" 2>&1 || rc=$?
check "tegravirtctl check vm1 exits 1 while the ACL entry is missing" test "$rc" = 1
check "  ... and prints the exact cgroup_device_acl line as the fix" grep -q 'fix: cgroup_device_acl = \[ .*"/dev/vfio/3", \]' "$T/check0.out"
check "  ... and sees the installed hook" grep -q '^ok .*hook' "$T/check0.out"
tv_qemu_acl_add /dev/vfio/3
check "tegravirtctl check vm1 is satisfied once qemu.conf lists /dev/vfio/3" "$TV_CTL_BIN" check vm1
tv_libvirtd_down
tv_libvirtd_up

# --- virsh start: the hook binds, QEMU fails, release gives the device back ---
check "the daemon generated vm1's guest DTB" test -s "$T/state/domains/vm1.dtb"
check "  ... with uarti on the platform bus at 0xc000000" bash -c "dtc -I dtb -O dts '$T/state/domains/vm1.dtb' 2>/dev/null | grep -Eq 'serial@(0|c000000) '"
virsh_ start vm1 >"$T/start.out" 2>&1 && not_ok "virsh start vm1 unexpectedly succeeded (no vfio device on this host)"
check "the hook bound uarti to vfio-platform during the start" grep -q "write sys/bus/platform/drivers/vfio-platform/bind 31d0000.serial -> ok" "$T/mnt/log"
check "QEMU itself failed, on the vfio device this host does not have" grep -q "vfio.*31d0000.serial" "$T/start.out"
check "libvirt ran release: uarti is back on serial-tegra" wait_for 10 bash -c "[ \"\$(grep '^31d0000.serial ' '$T/mnt/status' | sed -n 's/.* driver=\([^ ]*\).*/\1/p')\" = serial-tegra ]"
check "  ... override cleared, record back to phase none" bash -c "grep '^31d0000.serial ' '$T/mnt/status' | grep -q 'override=-' && grep -q '^device uarti .* phase=none ' '$T/state/state'"
check "  ... no vfio group node left" bash -c "! grep -q '^vfio 3 ' '$T/mnt/status'"
check "vm1 is shut off" bash -c "virsh -q -c qemu:///system domstate vm1 | grep -q 'shut off'"

# --- refusal path: the hook vetoes the start with one clear line ---
sim "unload vfio-platform"
virsh_ start vm1 >"$T/start2.out" 2>&1 && not_ok "start with vfio-platform unloaded unexpectedly succeeded"
check "virsh start shows the daemon's refusal" grep -q "HostNotReady" "$T/start2.out"
check "  ... naming what to do" grep -q "modprobe vfio-platform" "$T/start2.out"
sim "load vfio-platform"

# --- a changed machine makes the DTB stale: regenerated on redefine, refused if stale ---
virsh_ dumpxml --inactive vm1 | sed "s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>2</vcpu>|" >"$T/vm1.2cpu.xml"
fp_before=$(cat "$T/state/domains/vm1.fingerprint")
virsh_ define "$T/vm1.2cpu.xml" >/dev/null || not_ok "redefine vm1 with 2 vCPUs"
check "changing <vcpu> regenerates the DTB" wait_for 15 bash -c "[ \"\$(cat '$T/state/domains/vm1.fingerprint')\" != '$fp_before' ]"
check "  ... for 2 CPUs" bash -c "dtc -I dtb -O dts '$T/state/domains/vm1.dtb' 2>/dev/null | grep -q 'cpu@1'"
sed "s|<vcpu placement='static'>2</vcpu>|<vcpu placement='static'>3</vcpu>|" "$T/vm1.2cpu.xml" >"$T/vm1.3cpu.xml"
check "PrepareDomain with the XML of another machine refuses the stale DTB" expect_error HostNotReady PrepareDomain string:vm1 "string:$(cat "$T/vm1.3cpu.xml")"
check "  ... saying what changed and what to do" grep -q "made for another machine.*RepairDomain" <<<"$LAST_ERROR"
# --- what changed while tegravirtd was down is looked at when it starts ---
check "tegravirtd stops" tv_stop_daemon
virsh_ dumpxml --inactive vm1 | sed "s|<vcpu placement='static'>2</vcpu>|<vcpu placement='static'>1</vcpu>|" >"$T/vm1.1cpu.xml"
fp_before=$(cat "$T/state/domains/vm1.fingerprint")
virsh_ define "$T/vm1.1cpu.xml" >/dev/null || not_ok "redefine vm1 with 1 vCPU while tegravirtd is down"
tv_start_daemon
check "a <vcpu> change made while tegravirtd was down: the DTB is made again at its start" \
        wait_for 15 bash -c "[ \"\$(cat '$T/state/domains/vm1.fingerprint')\" != '$fp_before' ]"
check "  ... for 1 CPU" bash -c "! dtc -I dtb -O dts '$T/state/domains/vm1.dtb' 2>/dev/null | grep -q 'cpu@1'"

# --- a domain without tegravirt devices is untouched by the hook ---
log_before=$(wc -l <"$T/mnt/log")
check "vm2 (no passthrough) starts with the hook installed" virsh_ start vm2
check "vm2 is running" bash -c "virsh -q -c qemu:///system domstate vm2 | grep -q running"
check "  ... and tegravirt did not touch sysfs" test "$(wc -l <"$T/mnt/log")" = "$log_before"
tv_libvirtd_down
tv_libvirtd_up
check "libvirtd restarted: the reconnect hook kept vm2 running" bash -c "virsh -q -c qemu:///system domstate vm2 | grep -q running"
# right after a libvirtd restart the domain's monitor reconnects in the background, and on a
# loaded machine a destroy can meet it still busy: the domain must end up shut off all the same
check "vm2 stops normally" wait_for 30 bash -c "virsh -q -c qemu:///system destroy vm2; virsh -q -c qemu:///system domstate vm2 | grep -q 'shut off'"
# --- an edit that drops our elements is reported as drift and repaired on request ---
virsh_ define "$T/vm1.before" >/dev/null || not_ok "redefine vm1"   # what a careless 'virsh edit' or tool would write back
check "the edit shows up as DomainDrift on uarti" wait_for 10 bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarti org.tegravirt.Device1 DomainDrift | grep -q RepairDomain"
check "  ... and tegravirtctl status shows it" bash -c "'$TV_CTL_BIN' status uarti | grep -q '^ *Drift: .*RepairDomain'"
check "RepairDomain vm1" expect_ok RepairDomain string:vm1
check "  ... the vfio-platform args are back" bash -c "virsh -q -c qemu:///system dumpxml --inactive vm1 | grep -q 'vfio-platform,host=31d0000.serial'"
check "  ... and the drift is cleared" bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarti org.tegravirt.Device1 DomainDrift | grep -qx 's \"\"'"
# --- undefining a domain releases its assignments ---
tv_domain_xml vm4 "$TV_SOURCE_DIR/tests/integration/fake-bpmp-qemu" >"$T/vm4.xml"
virsh_ define "$T/vm4.xml" >/dev/null
expect_ok AssignDevice string:vm4 string:uarte || not_ok "assign uarte to vm4"
check "uarte is assigned to vm4" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q 'vm4. .uarte'"
virsh_ undefine vm4 >/dev/null
check "undefine vm4 released uarte" wait_for 10 bash -c "! busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q vm4"
check "the unassign of vm1 restores its original definition" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vm1 uarti && virsh -q -c qemu:///system dumpxml --inactive vm1 | xmllint --c14n - | xmllint --format - | diff -u '$T/vm1.before' -"
# --- BpmpBridge= overrides the probe (a build whose bridge address the version rule gets wrong) ---
tv_stop_daemon || not_ok "daemon exit"
echo "BpmpBridge=0x090d0000" >>"$T/tegravirtd.conf"
tv_start_daemon
check "with BpmpBridge=0x090d0000 uarta may go to vm1 on stock QEMU" expect_ok AssignDevice string:vm1 string:uarta
check "  ... and the guest /bpmp sits at 0x090d0000" bash -c "dtc -I dtb -O dts '$T/state/domains/vm1.dtb' 2>/dev/null | grep -q 'virtual-pa = <0x00 0x90d0000>'"
expect_ok UnassignDevice string:vm1 string:uarta || not_ok "unassign uarta"
check "daemon exits 0 on SIGTERM" tv_stop_daemon

# ======== issue 10 parts 3 and 8: UEFI domains, the guest DTB is the tree QEMU builds ========
sed -i '/^BpmpBridge=/d' "$T/tegravirtd.conf"
tv_start_daemon
FAKE_QEMU="$TV_SOURCE_DIR/tests/integration/fake-bpmp-qemu"

# uefi_xml NAME EMULATOR EXTRA-DEVICES: what virt-install 4.1 writes for an aarch64 disk image
uefi_xml() { tv_uefi_domain_xml "$1" "$2" 262144 "" "$3"; }

# qemu_tree DOMAIN OUT.dtb: the tree QEMU itself builds when libvirt starts DOMAIN as defined
# now (a copy without our -device/-dtb, plus -machine dumpdtb=; QEMU dumps and exits)
qemu_tree() {
        virsh_ dumpxml --inactive "$1" | python3 -c '
import sys, xml.etree.ElementTree as ET
Q = "http://libvirt.org/schemas/domain/qemu/1.0"
ET.register_namespace("qemu", Q)
d = ET.fromstring(sys.stdin.read())
d.find("name").text = sys.argv[1] + "-probe"
for tag in ("uuid", "metadata", "{%s}commandline" % Q):
    for e in d.findall(tag):
        d.remove(e)
os_ = d.find("os")
for tag in ("dtb", "nvram"):
    for e in os_.findall(tag):
        os_.remove(e)
cl = ET.SubElement(d, "{%s}commandline" % Q)
for v in ("-machine", "dumpdtb=" + sys.argv[2]):
    ET.SubElement(cl, "{%s}arg" % Q, value=v)
print(ET.tostring(d, encoding="unicode"))' "$1" "$2" >"$T/$1-probe.xml" || return 1
        rm -f "$2"
        virsh_ define "$T/$1-probe.xml" >/dev/null || return 1
        virsh_ start "$1-probe" >"$T/$1-probe.out" 2>&1   # fails: QEMU exits after the dump
        virsh_ undefine --nvram "$1-probe" >/dev/null 2>&1 || virsh_ undefine "$1-probe" >/dev/null
        test -s "$2" || { sed 's/^/# /' "$T/$1-probe.out"; return 1; }
}

uefi_xml vmu "$FAKE_QEMU" "<iommu model='smmuv3'/>" >"$T/vmu.xml"
virsh_ define "$T/vmu.xml" >/dev/null || not_ok "define vmu (UEFI, ACPI, disk boot)"
virsh_ dumpxml --inactive vmu | canon >"$T/vmu.before"
check "a virt-install UEFI domain (no <kernel>, ACPI) is accepted: AssignDevice vmu uarta" expect_ok AssignDevice string:vmu string:uarta
virsh_ dumpxml --inactive vmu >"$T/vmu.after"
check "  ... <dtb> is set" grep -q "<dtb>$T/state/domains/vmu.dtb</dtb>" "$T/vmu.after"
check "  ... and <acpi/> is gone (with ACPI the firmware hands the guest an empty tree)" bash -c "! grep -q '<acpi/>' '$T/vmu.after'"
check "  ... both recorded in our metadata" grep -q "<tegravirt:acpi position=.0./>" "$T/vmu.after"
check "  ... no <cmdline> (libvirt needs <kernel> for it)" bash -c "! grep -q '<cmdline>' '$T/vmu.after'"
check "  ... the definition validates" virt-xml-validate "$T/vmu.after" domain
check "  ... libvirt runs it with -no-acpi" bash -c "virsh -q -c qemu:///system domxml-to-native qemu-argv --domain vmu | grep -q -- ' -no-acpi '"
check "  ... the smmuv3 and a 2-socket topology reach the dump" bash -c "dtc -I dtb -O dts '$T/state/domains/vmu.dtb' 2>/dev/null | grep -q 'smmuv3@9050000' && dtc -I dtb -O dts '$T/state/domains/vmu.dtb' 2>/dev/null | grep -q 'socket1'"
check "QEMU's own tree for vmu as libvirt starts it" qemu_tree vmu "$T/vmu-qemu.dtb"
check "  ... equals our guest DTB node by node, but for the nodes we add (UEFI, smmuv3, GICv2, sockets)" \
        "$TV_SOURCE_DIR/tests/integration/dtb-compare.py" "$T/vmu-qemu.dtb" "$T/state/domains/vmu.dtb"
rc=0; "$TV_CTL_BIN" check vmu >"$T/checku.out" 2>&1 || rc=$?
check "tegravirtctl check vmu reports the guest kernel args a disk-booting guest must set itself" \
        grep -q '^warning  *guest-kernel-args .*boots from its disk' "$T/checku.out"
check "  ... with the GRUB line as the fix" grep -q 'fix: in the guest, add "clk_ignore_unused pd_ignore_unused" to GRUB_CMDLINE_LINUX' "$T/checku.out"
# the user changes something else while assigned; unassign takes back exactly ours
virsh_ dumpxml --inactive vmu | sed "s|<memory unit='KiB'>262144</memory>|<memory unit='KiB'>524288</memory>|" >"$T/vmu.edit.xml"
virsh_ define "$T/vmu.edit.xml" >/dev/null || not_ok "redefine vmu with more memory"
sed "s|<memory unit=\"KiB\">262144</memory>|<memory unit=\"KiB\">524288</memory>|" "$T/vmu.before" >"$T/vmu.expected"
check "unassign vmu: <acpi/> back, <dtb> gone, the user's memory change kept" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vmu uarta && virsh -q -c qemu:///system dumpxml --inactive vmu | xmllint --c14n - | xmllint --format - | diff -u '$T/vmu.expected' -"

# direct kernel boot with a threads topology and GICv3: the tree follows libvirt's -smp/-machine
tv_domain_xml vmt | sed "s|<model fallback='forbid'>cortex-a57</model>|<model fallback='forbid'>cortex-a57</model><topology sockets='1' dies='1' cores='1' threads='2'/>|; s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>2</vcpu><features><gic version='3'/></features>|" >"$T/vmt.xml"
virsh_ define "$T/vmt.xml" >/dev/null || not_ok "define vmt"
check "AssignDevice vmt uarti (threads topology, GICv3)" expect_ok AssignDevice string:vmt string:uarti
check "QEMU's own tree for vmt" qemu_tree vmt "$T/vmt-qemu.dtb"
check "  ... equals our guest DTB node by node, but for the nodes we add (cpu-map threads, GICv3)" \
        "$TV_SOURCE_DIR/tests/integration/dtb-compare.py" "$T/vmt-qemu.dtb" "$T/state/domains/vmt.dtb"
expect_ok UnassignDevice string:vmt string:uarti || not_ok "unassign vmt"

# virtio-iommu: libvirt 9.0 allows it only with ACPI, and with ACPI the guest ignores our tree
uefi_xml vmv /usr/bin/qemu-system-aarch64 "<iommu model='virtio'/>" >"$T/vmv.xml"
virsh_ define "$T/vmv.xml" >/dev/null || not_ok "define vmv"
virsh_ dumpxml --inactive vmv >"$T/vmv.before"
check "a virtio-iommu domain is refused (a configuration problem: InvalidArgument)" expect_error InvalidArgument AssignDevice string:vmv string:uarti
check "  ... with libvirt's reason (ACPI)" grep -q "requires ACPI" <<<"$LAST_ERROR"
check "  ... and is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmv | diff -q - '$T/vmv.before' >/dev/null"

# refused at once, by name: other architectures and machines (vexpress-a9 made dumpdtb hang 30 s)
cat >"$T/vmx.xml" <<XML
<domain type='qemu'>
  <name>vmx</name>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='aarch64' machine='vexpress-a9'>hvm</type>
    <kernel>/var/lib/libvirt/images/Image</kernel>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
  </devices>
</domain>
XML
virsh_ define "$T/vmx.xml" >/dev/null || not_ok "define vmx (vexpress-a9)"
start=$SECONDS
check "a vexpress-a9 domain is refused as InvalidArgument" expect_error InvalidArgument AssignDevice string:vmx string:uarti
check "  ... naming the machine, within 5 s" bash -c "grep -q \"machine type 'vexpress-a9' is not QEMU's 'virt'\" <<<\"\$0\" && [ $((SECONDS - start)) -lt 5 ]" "$LAST_ERROR"
tv_domain_xml vma /usr/bin/qemu-system-arm | sed "s|arch='aarch64'|arch='armv7l'|; s|<model fallback='forbid'>cortex-a57</model>|<model fallback='forbid'>cortex-a15</model>|" >"$T/vma.xml"
virsh_ define "$T/vma.xml" >/dev/null || not_ok "define vma (armv7l)"
check "an armv7l domain is refused as InvalidArgument" expect_error InvalidArgument AssignDevice string:vma string:uarti
check "  ... naming the architecture" grep -q "architecture is 'armv7l'" <<<"$LAST_ERROR"

# QEMU's own reason when the dump fails, as a problem of the domain's configuration
tv_domain_xml vmg | sed "s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>9</vcpu><features><gic version='2'/></features>|" >"$T/vmg.xml"
virsh_ define "$T/vmg.xml" >/dev/null || not_ok "define vmg (9 vCPUs, GICv2)"
virsh_ dumpxml --inactive vmg >"$T/vmg.before"
check "9 vCPUs with GICv2 is refused as InvalidArgument" expect_error InvalidArgument AssignDevice string:vmg string:uarti
check "  ... with QEMU's reason" grep -q "exceeds max CPUs supported by machine" <<<"$LAST_ERROR"
check "  ... and the definition is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmg | diff -q - '$T/vmg.before' >/dev/null"

# a domain with its own <dtb>: refused, saying why, instead of silently getting ours
tv_domain_xml vmd | sed "s|<cmdline>|<dtb>/var/lib/libvirt/images/user.dtb</dtb><cmdline>|" >"$T/vmd.xml"
virsh_ define "$T/vmd.xml" >/dev/null || not_ok "define vmd (own dtb)"
virsh_ dumpxml --inactive vmd >"$T/vmd.before"
check "a domain with its own <dtb> is refused" expect_error InvalidArgument AssignDevice string:vmd string:uarti
check "  ... saying so" grep -q "boots with its own device tree (<os><dtb>/var/lib/libvirt/images/user.dtb</dtb>)" <<<"$LAST_ERROR"
check "  ... and is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmd | diff -q - '$T/vmd.before' >/dev/null"
# ... or passes its own -dtb in <qemu:commandline>, which would come after ours and win
tv_domain_xml vmq | sed "s|<domain type='qemu'>|<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>|; s|</devices>|</devices><qemu:commandline><qemu:arg value='-dtb'/><qemu:arg value='/var/lib/libvirt/images/user.dtb'/></qemu:commandline>|" >"$T/vmq.xml"
virsh_ define "$T/vmq.xml" >/dev/null || not_ok "define vmq (-dtb in qemu:commandline)"
virsh_ dumpxml --inactive vmq >"$T/vmq.before"
check "a domain with -dtb in <qemu:commandline> is refused" expect_error InvalidArgument AssignDevice string:vmq string:uarti
check "  ... saying so" grep -q "passes QEMU its own device tree (-dtb /var/lib/libvirt/images/user.dtb" <<<"$LAST_ERROR"
check "  ... and is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmq | diff -q - '$T/vmq.before' >/dev/null"
check "daemon exits 0 on SIGTERM (2)" tv_stop_daemon
tap_finish
