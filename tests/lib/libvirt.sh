# SPDX-License-Identifier: GPL-2.0-or-later
# A real libvirtd + virtlogd for tests, running as root without systemd inside a
# private mount namespace: tmpfs over libvirt's /etc, /run and /var directories,
# and our private system bus at the standard socket path so the hook (which gets
# a minimal environment from libvirt) reaches it. Source after integration.sh; the test
# script must call tv_enter_namespace "$@" first thing (skipped without root or libvirtd).

tv_enter_namespace() {
        if [ -z "${TV_IN_NAMESPACE:-}" ]; then
                tap_require_root "a private mount namespace for libvirtd"
                tap_require_cmd unshare libvirtd virtlogd virsh qemu-system-aarch64
                tv_require
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
        tv_firmware_from_install_deps
        tv_show_installed_data
}

# tv_overlay_dir DIR [FILTER]: a tmpfs over DIR showing the original's files (kept
# below /run/tv-orig, each file bind-mounted: a regular file to QEMU and libvirt);
# with FILTER (a file of absolute paths) only the paths listed there. Symlinks are
# copied as they are, so a link to a hidden file dangles as it would on a machine
# without that file.
tv_overlay_dir() {
        local dir="$1" filter="${2:-}" orig="/run/tv-orig$1" p rel
        mkdir -p "$orig"
        mount --bind "$dir" "$orig"
        mount -t tmpfs -o mode=0755 tmpfs "$dir"
        if [ -n "$filter" ]; then
                grep "^$dir/" "$filter" || true
        else
                find "$orig" -mindepth 1 | sed "s|^$orig|$dir|"
        fi | LC_ALL=C sort -u | while IFS= read -r p; do
                rel=${p#"$dir"}
                if [ -L "$orig$rel" ]; then
                        mkdir -p "$(dirname "$p")" && cp -P "$orig$rel" "$p"
                elif [ -d "$orig$rel" ]; then
                        mkdir -p "$p"
                elif [ -e "$orig$rel" ]; then
                        mkdir -p "$(dirname "$p")" && touch "$p" && mount --bind "$orig$rel" "$p"
                fi
        done
}

# A fresh machine has only what tools/install-deps.sh installs (without Recommends).
# QEMU's firmware directories (its -L path: /usr/share/qemu, seabios, ipxe; the UEFI
# ones) show here only the files owned by packages in the Depends closure of
# install-deps' list, so a ROM that only a Recommends brings (or a developer
# installed by hand) is missing on every machine, not only in CI.
tv_firmware_from_install_deps() {
        local list="/run/tv-firmware-files" dir
        # The closure over dpkg's own database (no apt lists needed): for each
        # dependency the first alternative installed here, as apt would pick it,
        # directly or through a package that Provides it.
        "$TV_SOURCE_DIR/tools/install-deps.sh" --list | python3 -c '
import re, subprocess, sys
fmt = "${Package}\t${Status}\t${Provides}\t${Pre-Depends}, ${Depends}\n"
db = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], capture_output=True, text=True, check=True).stdout
deps, providers = {}, {}
for line in db.splitlines():
    pkg, status, provides, depends = line.split("\t")
    if not status.endswith(" installed"):
        continue
    deps.setdefault(pkg, []).append(depends)
    for p in provides.split(","):
        if p.strip():
            providers.setdefault(p.split()[0], []).append(pkg)
def installed(name):
    name = name.split(":")[0]
    return [name] if name in deps else providers.get(name, [])
todo, seen = sys.stdin.read().split(), set()
while todo:
    pkg = todo.pop()
    for p in installed(pkg):
        if p in seen:
            continue
        seen.add(p)
        for group in ", ".join(deps[p]).split(","):
            for alt in group.split("|"):
                found = installed(re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", alt).strip()) if alt.strip() else []
                if found:
                    todo.extend(found)
                    break
print("\n".join(sorted(seen)))' >/run/tv-closure
        if ! grep -qx qemu-system-arm /run/tv-closure; then
                not_ok "the Depends closure of tools/install-deps.sh --list has qemu-system-arm"
                exit 1
        fi
        # shellcheck disable=SC2046
        dpkg-query -L $(cat /run/tv-closure) >"$list"
        for dir in $( { qemu-system-aarch64 -L help 2>/dev/null
                        echo /usr/share/AAVMF /usr/share/qemu-efi-aarch64 /usr/share/OVMF /etc/qemu; } |
                      xargs -r realpath -eq 2>/dev/null | LC_ALL=C sort -u); do
                if [ -d "$dir" ]; then
                        tv_overlay_dir "$dir" "$list"
                        echo "# $dir: only files of install-deps' Depends closure ($(find "$dir" ! -type d | wc -l) of $(find "/run/tv-orig$dir" ! -type d | wc -l))"
                fi
        done
}

# The bus policy and polkit action of this build at the paths it installs them to,
# as after meson install (tegravirtctl check looks for them there).
tv_show_installed_data() {
        local src dst
        meson introspect --installed "$TV_BUILD_DIR" | python3 -c '
import json, sys
for src, dst in json.load(sys.stdin).items():
    if src.endswith(("/org.tegravirt.conf", "/org.tegravirt.policy")):
        print(src, dst)' | while read -r src dst; do
                [ -d "${dst%/*}" ] || continue # not on this host: check reports it missing
                [ -d "/run/tv-orig${dst%/*}" ] || tv_overlay_dir "${dst%/*}"
                cp "$src" "$dst"
        done
}

# tv_libvirt_test "$@": how a test with a real libvirtd starts: its own mount namespace,
# the simulated Orin, tegravirtd configured for qemu:///system (unless the test set
# TV_LIBVIRT_URI, empty included, before), and libvirtd with our hook; all undone at exit.
tv_libvirt_test() {
        tv_enter_namespace "$@"
        TV_LIBVIRT_URI=${TV_LIBVIRT_URI-qemu:///system}
        TV_QEMU_CONF=/etc/libvirt/qemu.conf
        tv_setup
        trap 'tv_stop_libvirt; tv_cleanup' EXIT
        tv_start_libvirt
}

# tv_qemu_acl_add NODE: QEMU may open NODE too (cgroup_device_acl of the test's qemu.conf)
tv_qemu_acl_add() {
        sed -i "s|\"/dev/vfio/vfio\",|\"/dev/vfio/vfio\", \"$1\",|" /etc/libvirt/qemu.conf
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
                { not_ok "libvirtd starts"; diag "$(tail -20 "$T/libvirtd.log")"; exit 1; }
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

# tv_uefi_domain_xml NAME EMULATOR MEMORY-KIB OS-EXTRA DEVICES-EXTRA: what virt-install 4.1
# writes for an aarch64 disk image (firmware='efi', ACPI, GICv2, disk boot, no <kernel>)
tv_uefi_domain_xml() {
        cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='KiB'>$3</memory>
  <vcpu placement='static'>2</vcpu>
  <os firmware='efi'>
    <type arch='aarch64' machine='virt'>hvm</type>
    $4
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <gic version='2'/>
  </features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>cortex-a57</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$2</emulator>
    $5
    <controller type='pci' index='0' model='pcie-root'/>
    <serial type='pty'><target type='system-serial' port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

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
