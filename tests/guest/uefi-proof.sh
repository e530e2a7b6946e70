#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# UEFI guest proof: a domain shaped like virt-install's (<os firmware='efi'>, ACPI on, disk boot,
# no <kernel>) goes through AssignDevice on a real libvirtd (simulated Orin host), then boots
# through libvirt: AAVMF without Secure Boot (chosen with <firmware><feature> in the XML), an
# ESP whose startup.nsh runs Debian 12's EFI-stub kernel with initrd= and console args, and
# the guest's /proc/device-tree must show the /bpmp node, uarta on the platform bus and its
# alias. A control boot of the same domain with <acpi/> left on shows why tegravirt removes it:
# the EFI stub generates an empty DTB and none of the nodes reach the guest.
# The booted copy has no -device vfio-platform (no such device on this host); it keeps the
# <dtb> and the <features> tegravirt wrote. Environment: TV_BUILD_DIR, TV_SOURCE_DIR (meson),
# TV_GUEST_CACHE (download cache, default $TV_BUILD_DIR/guest-cache), TV_GUEST_TIMEOUT (per boot).
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${TV_GUEST_CACHE:-${TV_BUILD_DIR:?}/guest-cache}
source "$TV_SOURCE_DIR/tests/lib/integration.sh"
source "$TV_SOURCE_DIR/tests/lib/libvirt.sh"
if [ -z "${TV_IN_NAMESPACE:-}" ]; then
        tap_require_root "a private mount namespace for libvirtd"
        # outside the namespace, where apt works as usual: the kernel and busybox, once
        "$HERE/fetch-guest.sh" "$CACHE" >/dev/null 2>"$CACHE.fetch.err" ||
                tap_skip_all "no guest kernel: $(tail -n1 "$CACHE.fetch.err")"
        "$HERE/mkinitramfs.sh" "$CACHE" >/dev/null || { not_ok "build the initramfs"; exit 1; }
fi
tv_enter_namespace "$@"
TV_LIBVIRT_URI=qemu:///system
TV_QEMU_CONF=/etc/libvirt/qemu.conf
LIMIT=${TV_GUEST_TIMEOUT:-150}
BOOT_SECONDS=0
FAKE_QEMU="$TV_SOURCE_DIR/tests/integration/fake-bpmp-qemu"   # a bpmp-virt build: the bridge at 0x090c0000
tv_setup
trap 'tv_stop_libvirt; tv_cleanup' EXIT
tv_start_libvirt
tv_start_daemon

for tool in mkfs.vfat mcopy dtc; do
        check "$tool is installed (tools/install-deps.sh)" bash -c "command -v $tool >/dev/null"
done
check "AAVMF without Secure Boot is installed (qemu-efi-aarch64)" test -s /usr/share/AAVMF/AAVMF_CODE.fd

# the ESP: the EFI shell runs startup.nsh when nothing else boots
printf 'fs0:\r\n\\linux.efi initrd=\\initrd.img console=ttyAMA0 panic=-1\r\n' >"$T/startup.nsh"
check "build the ESP (mkfs.vfat -C, mcopy: no root mounts)" bash -c "
        mkfs.vfat -C '$T/esp.img' 40960 >/dev/null &&
        mcopy -i '$T/esp.img' '$CACHE/kernel/Image' ::/linux.efi &&
        mcopy -i '$T/esp.img' '$CACHE/initramfs.cpio.gz' ::/initrd.img &&
        mcopy -i '$T/esp.img' '$T/startup.nsh' ::/startup.nsh"

# non-Secure-Boot AAVMF: the EFI shell (and its startup.nsh) is left out of the Secure Boot build
tv_uefi_domain_xml uefi-guest "$FAKE_QEMU" 524288 \
        "<firmware><feature enabled='no' name='enrolled-keys'/><feature enabled='no' name='secure-boot'/></firmware>" \
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/esp.img'/><target dev='vda' bus='virtio'/></disk>" \
        >"$T/guest.xml"
virsh_ define "$T/guest.xml" >/dev/null || not_ok "define uefi-guest"
check "AssignDevice uefi-guest uarta" expect_ok AssignDevice string:uefi-guest string:uarta
virsh_ dumpxml --inactive uefi-guest >"$T/assigned.xml"
check "  ... <dtb> set, <acpi/> removed" bash -c "grep -q '<dtb>$T/state/domains/uefi-guest.dtb</dtb>' '$T/assigned.xml' && ! grep -q '<acpi/>' '$T/assigned.xml'"

# boot_copy NAME ACPI(yes|no): defines NAME from the assigned definition without our -device
# args and metadata (and with <acpi/> put back for yes), boots it, leaves the console in $T/NAME.log
boot_copy() {
        local name=$1 acpi=$2 start
        python3 - "$name" "$acpi" "$T/$name.log" "$T/assigned.xml" >"$T/$name.xml" <<'PY' || return 1
import sys, xml.etree.ElementTree as ET
Q = "http://libvirt.org/schemas/domain/qemu/1.0"
d = ET.parse(sys.argv[4]).getroot()
d.find("name").text = sys.argv[1]
for tag in ("uuid", "metadata", "{%s}commandline" % Q):
    for e in d.findall(tag):
        d.remove(e)
os_ = d.find("os")
for e in os_.findall("nvram"):
    os_.remove(e)
if sys.argv[2] == "yes":
    f = d.find("features")
    if f is None:
        f = ET.Element("features")
        d.insert(list(d).index(os_) + 1, f)
    f.insert(0, ET.Element("acpi"))
devs = d.find("devices")
for tag in ("serial", "console"):
    for e in devs.findall(tag):
        devs.remove(e)
s = ET.SubElement(devs, "serial", type="file")
ET.SubElement(s, "source", path=sys.argv[3])
ET.SubElement(s, "target", type="system-serial", port="0")
print(ET.tostring(d, encoding="unicode"))
PY
        rm -f "$T/$name.log"
        virsh_ define "$T/$name.xml" >/dev/null || return 1
        start=$SECONDS
        virsh_ start "$name" >"$T/$name.start" 2>&1 || { sed 's/^/# /' "$T/$name.start"; return 1; }
        # init powers off after its report; <on_poweroff> destroy ends the domain
        wait_for "$LIMIT" bash -c "virsh -q -c qemu:///system domstate '$name' | grep -q 'shut off'" ||
                { virsh_ destroy "$name" >/dev/null 2>&1; echo "# $name: no power-off within $LIMIT s"; }
        BOOT_SECONDS=$((SECONDS - start))
        tr -d '\r' <"$T/$name.log" >"$T/$name.txt" 2>/dev/null || true
        grep -q '^TVG end' "$T/$name.txt" || { tail -n 20 "$T/$name.txt" | sed 's/^/# /'; return 1; }
}
tvg() { sed -n "s/^TVG $1=//p" "$OUT" | head -n1; }

check "the UEFI domain boots through libvirt: AAVMF, EFI shell, startup.nsh, EFI stub, /init" boot_copy uefi-boot no
echo "# UEFI boot through libvirt (firmware, EFI shell countdown, kernel, report, power-off): $BOOT_SECONDS s"
OUT="$T/uefi-boot.txt"
grep '^TVG ' "$OUT" | sed 's/^/# /'
check "libvirt chose the firmware without Secure Boot (AAVMF_CODE.fd)" \
        grep -q "AAVMF_CODE.fd" "/var/log/libvirt/qemu/uefi-boot.log"
check "  ... and started QEMU with -no-acpi" grep -q -- "-no-acpi" "/var/log/libvirt/qemu/uefi-boot.log"
check "the EFI stub used tegravirt's tree (DTB from configuration table)" grep -q "EFI stub: Using DTB from configuration table" "$OUT"
check "the guest sees /bpmp: nvidia,tegra234-bpmp, nvidia,tegra186-bpmp" \
        test "$(tvg bpmp-compatible)" = "nvidia,tegra234-bpmp,nvidia,tegra186-bpmp"
check "  ... at virtual-pa 0x090c0000" test "$(($(tvg bpmp-virtual-pa)))" = "$((0x090c0000))"
pb=$(tvg platform-bus)
node=$(sed -n 's/^TVG node \(serial@[^ ]*\) reg=.*/\1/p' "$OUT" | head -n1)
check "uarta's serial node is on the platform bus (${pb:-none}/${node:-none})" test -n "$pb" -a -n "$node"
check "  ... with compatible nvidia,tegra194-hsuart" bash -c "grep -q '^TVG node $node compatible=.*nvidia,tegra194-hsuart' '$OUT'"
check "  ... its clocks point at /bpmp" bash -c "
        ph=\$(sed -n 's/^TVG bpmp-phandle=//p' '$OUT'); grep -q \"^TVG node $node clocks=\$ph .* resets=\$ph \" '$OUT'"
check "  ... and an alias names it" bash -c "grep -q '^TVG alias serial[0-9]*=/$pb/$node$' '$OUT'"
check "the guest sees 2 CPUs online" test "$(tvg dt-cpus)/$(tvg cpus-online)" = "2/2"

# control: the same domain with <acpi/> on, as tegravirt used to leave it
check "the same domain with ACPI on boots too" boot_copy uefi-acpi yes
OUT="$T/uefi-acpi.txt"
check "  ... but the EFI stub generates an empty DTB (our <dtb> is ignored)" grep -q "EFI stub: Generating empty DTB" "$OUT"
check "  ... and the guest has no /bpmp" test "$(tvg bpmp-present)" = no

check "UnassignDevice uefi-guest uarta" expect_ok UnassignDevice string:uefi-guest string:uarta
check "  ... gives back <acpi/> and drops <dtb>" bash -c "virsh -q -c qemu:///system dumpxml --inactive uefi-guest | grep -q '<acpi/>' && ! virsh -q -c qemu:///system dumpxml --inactive uefi-guest | grep -q '<dtb>'"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
