#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# With a real libvirtd: drift and state defects (issue 10, part 4). Our own redefines
# never swallow a later edit; a start is refused while the definition lost our args,
# carries another domain's record (virt-clone) or none of its own; a rename moves the
# assignments; orphan DTBs go; an unreachable libvirt is reported and refused; the
# catalog cannot move an assigned device under the record; reconcile says what it did.
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_libvirt_test "$@"
# QEMU may open uarti's group: a start that is not refused would really bind and run
tv_qemu_acl_add /dev/vfio/3
tv_libvirtd_down
tv_libvirtd_up
tv_start_daemon
LAST_ERROR=""
ctl() { "$TV_CTL_BIN" "$@"; }
assignments() { busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments; }
drift_of() { busctl --system get-property org.tegravirt "/org/tegravirt/device/$1" org.tegravirt.Device1 DomainDrift; }
binds() { grep -c "write sys/bus/platform/drivers/vfio-platform/bind 31d0000.serial" "$T/mnt/log" || true; }
daemon_check() { # runs tegravirtd --check with the test's roots; extra options follow
        "$TV_DAEMON_BIN" --sysfs-root "$T/mnt/sys" --dev-root "$T/mnt/dev" --state-dir "$T/state" \
                --catalog "$TV_CATALOG" --catalog-dir "$T/catalog.d" --config "$T/tegravirtd.conf" --check "$@"
}

tv_domain_xml vma >"$T/vma.xml"
virsh_ define "$T/vma.xml" >/dev/null || not_ok "define vma"

# --- own redefines: assign, unassign, assign leaves no pending own-define behind ---
expect_ok AssignDevice string:vma string:uarti || not_ok "assign 1"
expect_ok UnassignDevice string:vma string:uarti || not_ok "unassign"
expect_ok AssignDevice string:vma string:uarti || not_ok "assign 2"
virt-xml --connect qemu:///system vma --edit --qemu-commandline clearxml=yes >"$T/virt-xml.out" 2>&1 ||
        not_ok "virt-xml clearxml: $(cat "$T/virt-xml.out")"
check "after assign/unassign/assign, an edit removing our args still sets DomainDrift" \
        wait_for 10 bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarti org.tegravirt.Device1 DomainDrift | grep -q 'qemu.*removed.*tegravirtctl repair vma'"

# --- a start with known drift is refused, naming the drift and the repair ---
before=$(binds)
virsh_ start vma >"$T/start-drift.out" 2>&1 && not_ok "virsh start vma with drift unexpectedly succeeded"
check "virsh start with drift is refused with the repair command" grep -q "tegravirtctl repair vma" "$T/start-drift.out"
check "  ... naming the missing -device arguments" grep -q "qemu\|vfio-platform" "$T/start-drift.out"
check "  ... and uarti was never bound" test "$(binds)" = "$before"
check "  ... vma is not running" bash -c "virsh -q -c qemu:///system domstate vma | grep -q 'shut off'"
virsh_ destroy vma >/dev/null 2>&1 || true   # only if the refusal failed: the rest needs vma stopped
rc=0; ctl prepare vma >"$T/prep.out" 2>&1 || rc=$?
check "tegravirtctl prepare vma (no XML) is refused by the recorded drift" \
        bash -c "[ $rc = 1 ] && grep -q 'HostNotReady' '$T/prep.out' && grep -q 'repair vma' '$T/prep.out'"
check "tegravirtctl repair vma" ctl repair vma
check "  ... the vfio-platform args are back" bash -c "virsh -q -c qemu:///system dumpxml --inactive vma | grep -q 'vfio-platform,host=31d0000.serial'"
check "  ... and the drift is cleared" bash -c "drift_of() { busctl --system get-property org.tegravirt /org/tegravirt/device/uarti org.tegravirt.Device1 DomainDrift; }; drift_of | grep -qx 's \"\"'"
virsh_ dumpxml --inactive vma | sed "s|<tegravirt:device name=.uarti./>|<tegravirt:device name='uarte'/>|" >"$T/vma.other.xml"
check "PrepareDomain with a definition recorded for other devices is refused" \
        expect_error HostNotReady PrepareDomain string:vma "string:$(cat "$T/vma.other.xml")"
check "  ... saying so, with the repair command" grep -q "other devices than the ones assigned.*tegravirtctl repair vma" <<<"$LAST_ERROR"
check "  ... and nothing was bound" test "$(binds)" = "$before"
check "our metadata records the domain's name and UUID" \
        bash -c "virsh -q -c qemu:///system dumpxml --inactive vma | grep -Eq \"<tegravirt:domain [^>]*name=.vma. uuid=.\$(virsh -q -c qemu:///system domuuid vma).\""

# --- rename: the assignments follow the definition, the old DTB goes ---
check "vma's DTB exists" test -s "$T/state/domains/vma.dtb"
virsh_ domrename vma vmb >/dev/null || not_ok "domrename vma vmb"
check "virsh domrename vma vmb: uarti is now assigned to vmb" wait_for 10 bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q '\"vmb\" \"uarti\"'"
check "  ... vmb's definition points at vmb's own DTB" wait_for 10 bash -c "virsh -q -c qemu:///system dumpxml --inactive vmb | grep -q '<dtb>$T/state/domains/vmb.dtb</dtb>'"
check "  ... which exists" test -s "$T/state/domains/vmb.dtb"
check "  ... and vma's DTB was removed" test ! -e "$T/state/domains/vma.dtb"
check "  ... vmb's record names vmb" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmb | grep -Eq '<tegravirt:domain [^>]*name=.vmb.'"

# --- virt-clone: the copy carries vmb's record and no assignment; its start is refused ---
virt-clone --connect qemu:///system --original vmb --name vmc --auto-clone >"$T/clone.out" 2>&1 ||
        not_ok "virt-clone: $(cat "$T/clone.out")"
before=$(binds)
virsh_ start vmc >"$T/start-clone.out" 2>&1 && not_ok "virsh start of the clone unexpectedly succeeded"
check "virsh start vmc (a virt-clone of vmb) is refused: the record is vmb's" grep -q "record of domain vmb" "$T/start-clone.out"
check "  ... with the repair command" grep -q "tegravirtctl repair vmc" "$T/start-clone.out"
check "  ... nothing was bound" test "$(binds)" = "$before"
check "  ... and vmc has no assignment" bash -c "! busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q vmc"
check "tegravirtctl repair vmc strips the copied elements" ctl repair vmc
check "  ... no tegravirt metadata or vfio-platform arg left in vmc" \
        bash -c "! virsh -q -c qemu:///system dumpxml --inactive vmc | grep -q 'tegravirt.org/ns\|vfio-platform'"
check "  ... and vmb keeps its own" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmb | grep -q 'vfio-platform,host=31d0000.serial'"
virsh_ undefine vmc >/dev/null || not_ok "undefine vmc"
# a definition whose record is its own but has no assignment (stale elements) is refused too
virsh_ dumpxml --inactive vmb | sed -e 's|<name>vmb</name>|<name>vmf</name>|' -e '/<uuid>/d' \
        -e "s|name=\"vmb\"|name=\"vmf\"|; s|name='vmb'|name='vmf'|" -e 's|uuid="[^"]*"||; s|uuid='"'"'[^'"'"']*'"'"'||' \
        -e 's|<mac [^>]*/>||' >"$T/vmf.xml"
check "PrepareDomain of a domain with tegravirt elements and no assignment is refused" \
        expect_error InvalidArgument PrepareDomain string:vmf "string:$(cat "$T/vmf.xml")"
check "  ... saying it has no device assigned" grep -q "no device assigned.*repair vmf" <<<"$LAST_ERROR"

# --- undefine removes the domain's DTB ---
tv_domain_xml vme "$TV_SOURCE_DIR/tests/integration/fake-bpmp-qemu" >"$T/vme.xml"
virsh_ define "$T/vme.xml" >/dev/null || not_ok "define vme"
expect_ok AssignDevice string:vme string:uarte || not_ok "assign uarte to vme"
check "vme's DTB exists" test -s "$T/state/domains/vme.dtb"
virsh_ undefine vme >/dev/null || not_ok "undefine vme"
check "undefine vme removes its DTB and fingerprint" \
        wait_for 10 bash -c "[ ! -e '$T/state/domains/vme.dtb' ] && [ ! -e '$T/state/domains/vme.fingerprint' ]"

# --- rename while tegravirtd is down: refused at start, repair takes the assignments over ---
tv_stop_daemon || not_ok "daemon exit"
virsh_ domrename vmb vmd >/dev/null || not_ok "domrename vmb vmd"
printf 'x' >"$T/state/domains/ghost.dtb"
printf 'y\n' >"$T/state/domains/ghost.fingerprint"
# an interrupted detach that had not moved the device yet
echo "device uarta platform-id=3100000.serial domain=- phase=detaching driver=serial-tegra override=-" >>"$T/state/state"
tv_start_daemon
check "start-up removed the orphan ghost.dtb and ghost.fingerprint" \
        bash -c "[ ! -e '$T/state/domains/ghost.dtb' ] && [ ! -e '$T/state/domains/ghost.fingerprint' ]"
check "  ... and kept vmb's DTB (still assigned in the record)" test -s "$T/state/domains/vmb.dtb"
check "reconcile does not claim to have restored a device it never moved" \
        bash -c "grep -q 'uarta: interrupted detaching step: the device was still' '$T/daemon.log' && ! grep -q 'uarta: interrupted detaching step rolled back' '$T/daemon.log'"
before=$(binds)
virsh_ start vmd >"$T/start-renamed.out" 2>&1 && not_ok "virsh start vmd unexpectedly succeeded"
check "virsh start vmd (renamed from vmb while tegravirtd was down) is refused" grep -q "record of domain vmb" "$T/start-renamed.out"
check "  ... nothing was bound" test "$(binds)" = "$before"
check "tegravirtctl repair vmd" ctl repair vmd
check "  ... uarti moved from vmb to vmd" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q '\"vmd\" \"uarti\"'"
check "  ... vmd's DTB replaces vmb's" bash -c "[ -s '$T/state/domains/vmd.dtb' ] && [ ! -e '$T/state/domains/vmb.dtb' ]"

# --- libvirt unreachable: check says so, unassign is refused and changes nothing ---
tv_libvirtd_down
rc=0; ctl check >"$T/check-down.out" 2>&1 || rc=$?
check "tegravirtctl check exits 1 while libvirt is unreachable" test "$rc" = 1
check "  ... with a missing libvirt item saying so" grep -Eq '^missing +libvirt +.*unreachable' "$T/check-down.out"
check "UnassignDevice while libvirtd is down is refused (HostNotReady)" expect_error HostNotReady UnassignDevice string:vmd string:uarti
check "  ... saying libvirt is unreachable and nothing changed" grep -q "unreachable, nothing was changed" <<<"$LAST_ERROR"
check "  ... the record still assigns uarti to vmd" bash -c "grep -q '^device uarti .*domain=vmd ' '$T/state/state'"
tv_libvirtd_up
check "tegravirtctl check reports libvirt ok again" wait_for 10 bash -c "'$TV_CTL_BIN' check 2>&1 | grep -Eq '^ok +libvirt '"

# --- the catalog cannot move an assigned device under the record ---
tv_stop_daemon || not_ok "daemon exit"
cat >"$T/catalog.d/50-move.xml" <<XML
<?xml version="1.0"?>
<catalog xmlns="https://tegravirt.org/ns/catalog/1" soc="tegra234">
  <device name="uarti" platform-id="3110000.serial" kind="serial" unsafe-interrupts="required">
    <description>moved by an override</description>
    <reg base="0x03110000" size="0x10000"/>
    <interrupt spi="113"/>
    <guest><compatible>arm,sbsa-uart</compatible></guest>
  </device>
</catalog>
XML
rc=0; daemon_check >"$T/move.out" 2>&1 || rc=$?
check "a catalog.d override moving assigned uarti is refused at start" test "$rc" = 1
check "  ... naming both platform ids" bash -c "grep -q '31d0000.serial' '$T/move.out' && grep -q '3110000.serial' '$T/move.out'"
rm "$T/catalog.d/50-move.xml"
check "without the override the daemon's checks pass" bash -c "'$TV_DAEMON_BIN' --sysfs-root '$T/mnt/sys' --dev-root '$T/mnt/dev' --state-dir '$T/state' --catalog '$TV_CATALOG' --catalog-dir '$T/catalog.d' --config '$T/tegravirtd.conf' --check >/dev/null 2>&1"
# an empty state file stops the daemon with what to do
mkdir -p "$T/empty-state"
: >"$T/empty-state/state"
rc=0; daemon_check --state-dir "$T/empty-state" >"$T/empty.out" 2>&1 || rc=$?
check "an empty state file stops the daemon with a hint" bash -c "[ $rc = 1 ] && grep -q 'empty.*remove it' '$T/empty.out'"

tv_start_daemon
check "unassign vmd uarti restores vmd's definition" bash -c "busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 UnassignDevice ss vmd uarti && ! virsh -q -c qemu:///system dumpxml --inactive vmd | grep -q 'vfio-platform'"
check "  ... and removes vmd's DTB" test ! -e "$T/state/domains/vmd.dtb"
# a domain undefined while tegravirtd was down: its devices can still be unassigned
expect_ok AssignDevice string:vmd string:uarti || not_ok "assign uarti to vmd again"
tv_stop_daemon || not_ok "daemon exit"
virsh_ undefine vmd >/dev/null || not_ok "undefine vmd"
tv_start_daemon
check "UnassignDevice for a domain libvirt no longer knows succeeds" expect_ok UnassignDevice string:vmd string:uarti
check "  ... the record is gone and so is the DTB" \
        bash -c "! grep -q '^device uarti ' '$T/state/state' && [ ! -e '$T/state/domains/vmd.dtb' ]"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
