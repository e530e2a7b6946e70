#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# With a real libvirtd: AssignDevice rewrites the persistent definition; virsh start
# runs the hook, which binds the device; QEMU fails (no vfio device on this host);
# libvirt's release hook gives the device back. Plain domains are untouched.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/libvirt-lib.sh"
tv_enter_namespace "$@"
TV_LIBVIRT_URI=qemu:///system
TV_QEMU_CONF=/etc/libvirt/qemu.conf
tv_setup
trap 'tv_stop_libvirt; tv_cleanup' EXIT
tv_start_libvirt
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
sed -i 's|"/dev/vfio/vfio",|"/dev/vfio/vfio", "/dev/vfio/3",|' /etc/libvirt/qemu.conf
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

# --- a domain without tegravirt devices is untouched by the hook ---
log_before=$(wc -l <"$T/mnt/log")
check "vm2 (no passthrough) starts with the hook installed" virsh_ start vm2
check "vm2 is running" bash -c "virsh -q -c qemu:///system domstate vm2 | grep -q running"
check "  ... and tegravirt did not touch sysfs" test "$(wc -l <"$T/mnt/log")" = "$log_before"
tv_libvirtd_down
tv_libvirtd_up
check "libvirtd restarted: the reconnect hook kept vm2 running" bash -c "virsh -q -c qemu:///system domstate vm2 | grep -q running"
check "vm2 stops normally" virsh_ destroy vm2
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
tv_finish
