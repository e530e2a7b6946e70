#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGHUP reloads the configuration and rebuilds what it changes: a LibvirtUri= set or
# cleared takes effect at once (a new libvirt connection, its domain events included),
# as tegravirtd(8) says, with a real libvirtd.
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_enter_namespace "$@"
TV_LIBVIRT_URI=""
tv_setup
trap 'tv_stop_libvirt; tv_cleanup' EXIT
tv_start_libvirt
tv_start_daemon
LAST_ERROR=""
drift_of() { busctl --system get-property org.tegravirt "/org/tegravirt/device/$1" org.tegravirt.Device1 DomainDrift; }
carries_uarti() { virsh_ dumpxml --inactive vm1 | grep -q "vfio-platform,host=31d0000.serial"; }
# sends SIGHUP and waits until the daemon logged the n-th reload
reload() {
        local n
        n=$(grep -c "reloaded catalog and config" "$T/daemon.log" || true)
        kill -HUP "$DAEMON_PID"
        wait_for 10 bash -c "[ \$(grep -c 'reloaded catalog and config' '$T/daemon.log') -gt $n ]"
}

tv_domain_xml vm1 >"$T/vm1.xml"
virsh_ define "$T/vm1.xml" >/dev/null || not_ok "define vm1"

# --- started with LibvirtUri= empty: the integration is off ---
check "with LibvirtUri= empty, RepairDomain says the integration is off" expect_error HostNotReady RepairDomain string:vm1
check "  ... naming LibvirtUri=" grep -q "LibvirtUri= is empty" <<<"$LAST_ERROR"

# --- LibvirtUri= set, SIGHUP: definitions are rewritten through the new connection ---
sed -i 's|^LibvirtUri=.*|LibvirtUri=qemu:///system|' "$T/tegravirtd.conf"
check "SIGHUP reloads the configuration" reload
check "AssignDevice after the reload rewrites the definition" expect_ok AssignDevice string:vm1 string:uarti
check "  ... vm1's definition carries -device vfio-platform,host=31d0000.serial" carries_uarti
check "  ... and the guest DTB was made" test -s "$T/state/domains/vm1.dtb"
check "the daemon logged the new connection" grep -q "libvirt integration now through qemu:///system" "$T/daemon.log"

# --- the new connection delivers domain events: an edit that drops our elements is drift ---
virt-xml --connect qemu:///system vm1 --edit --qemu-commandline clearxml=yes >"$T/virt-xml.out" 2>&1 ||
        not_ok "virt-xml clearxml: $(cat "$T/virt-xml.out")"
check "an edit after the reload sets DomainDrift (events follow the new connection)" \
        wait_for 10 bash -c "busctl --system get-property org.tegravirt /org/tegravirt/device/uarti org.tegravirt.Device1 DomainDrift | grep -q 'tegravirtctl repair vm1'"
check "RepairDomain puts the device back" expect_ok RepairDomain string:vm1
check "  ... into the definition" carries_uarti
check "  ... and clears the drift" bash -c "$(declare -f drift_of); drift_of uarti | grep -qx 's \"\"'"

# --- and back: LibvirtUri= cleared, SIGHUP: assignments are only recorded again ---
sed -i 's|^LibvirtUri=.*|LibvirtUri=|' "$T/tegravirtd.conf"
check "SIGHUP reloads the configuration again" reload
check "the daemon logged that the integration is off" grep -q "libvirt integration off" "$T/daemon.log"
check "RepairDomain says the integration is off again" expect_error HostNotReady RepairDomain string:vm1
check "UnassignDevice is only recorded" expect_ok UnassignDevice string:vm1 string:uarti
check "  ... the definition still carries the device" carries_uarti
check "  ... and the record has no assignment" bash -c "! grep -q '^device uarti .*domain=vm1' '$T/state/state'"

# --- a reload that fails keeps the old configuration, connection included ---
sed -i 's|^LibvirtUri=.*|LibvirtUri=qemu:///system|' "$T/tegravirtd.conf"
echo "NoSuchKey=1" >>"$T/tegravirtd.conf"
kill -HUP "$DAEMON_PID"
check "a configuration that does not load is refused" wait_for 10 grep -q "reload refused" "$T/daemon.log"
check "  ... and LibvirtUri= stays empty" expect_error HostNotReady RepairDomain string:vm1

check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
