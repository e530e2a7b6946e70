# SPDX-License-Identifier: GPL-2.0-or-later
# A real libvirtd + virtlogd for tests, running as root without systemd inside a
# private mount namespace: tmpfs over libvirt's /etc, /run and /var directories,
# and our private system bus at the standard socket path so the hook (which gets
# a minimal environment from libvirt) reaches it. Source after lib.sh; the test
# script must call tv_enter_namespace "$@" first thing.

tv_enter_namespace() {
        if [ -z "${TV_IN_NAMESPACE:-}" ]; then
                export TV_IN_NAMESPACE=1
                exec unshare --mount --propagation private "$0" "$@"
        fi
        local d
        # all of /run: libvirtd's pid file lives there and a host libvirtd may hold it
        for d in /run /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt; do
                mkdir -p "$d"
                mount -t tmpfs -o mode=0755 tmpfs "$d"
        done
        mkdir -p /run/libvirt /run/dbus /var/log/libvirt/qemu
        export TV_BUS_PATH=/run/dbus/system_bus_socket
}

LIBVIRTD_PID=""
VIRTLOGD_PID=""

# tv_start_libvirt: qemu.conf for root without confinement, our hook installed.
tv_start_libvirt() {
        cat >/etc/libvirt/qemu.conf <<'CONF'
# tests: QEMU runs as root, no LSM; the nodes tegravirt hands over are in the ACL
user = "root"
group = "root"
security_driver = "none"
cgroup_device_acl = [
    "/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom",
    "/dev/ptmx", "/dev/kvm", "/dev/vfio/vfio", "/dev/bpmp-host"
]
CONF
        mkdir -p /etc/libvirt/hooks/qemu.d /var/lib/libvirt/images
        install -m 0755 "$TV_BUILD_DIR/libvirt-hooks/tegravirt-hook" /etc/libvirt/hooks/qemu.d/tegravirt
        virtlogd >"$T/virtlogd.log" 2>&1 &
        VIRTLOGD_PID=$!
        tv_libvirtd_up
}

tv_libvirtd_up() {
        libvirtd >>"$T/libvirtd.log" 2>&1 &
        LIBVIRTD_PID=$!
        wait_for 60 virsh -q -c qemu:///system list --all >/dev/null 2>&1 ||
                { echo "libvirtd did not start"; tail -20 "$T/libvirtd.log"; exit 1; }
}

tv_libvirtd_down() {
        [ -n "$LIBVIRTD_PID" ] && kill "$LIBVIRTD_PID" 2>/dev/null && wait "$LIBVIRTD_PID" 2>/dev/null
        LIBVIRTD_PID=""
}

tv_stop_libvirt() {
        set +e
        for dom in $(virsh -q -c qemu:///system list --name 2>/dev/null); do
                virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1
        done
        tv_libvirtd_down
        [ -n "$VIRTLOGD_PID" ] && kill "$VIRTLOGD_PID" 2>/dev/null && wait "$VIRTLOGD_PID" 2>/dev/null
        VIRTLOGD_PID=""
}

virsh_() { virsh -q -c qemu:///system "$@"; }

# tv_domain_xml NAME [EMULATOR]: an aarch64 TCG domain with direct kernel boot, the
# shape virt-install --boot kernel=... writes (console, NIC, RNG), minus disks.
tv_domain_xml() {
        local name="$1" emu="${2:-/usr/bin/qemu-system-aarch64}"
        [ -e /var/lib/libvirt/images/Image ] || head -c 65536 /dev/zero >/var/lib/libvirt/images/Image
        cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>/var/lib/libvirt/images/Image</kernel>
    <cmdline>console=ttyAMA0 root=/dev/vda</cmdline>
  </os>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>cortex-a57</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$emu</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <interface type='user'>
      <mac address='52:54:00:12:34:56'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <target type='system-serial' port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
