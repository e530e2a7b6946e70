#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tegravirtctl host-overlay: the BPMP host proxy node and each device's host changes,
# compiled with dtc -@ and applied with fdtoverlay to the real mainline Jetson AGX Orin
# devkit DTB built from Debian's linux-source-6.1 (tegra234-p3737-0000+p3701-0000.dts).
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon
ctl() { "$TV_CTL_BIN" "$@"; }
KSRC_TAR=${TV_LINUX_SOURCE_TAR:-/usr/src/linux-source-6.1.tar.xz}

# --- the base: mainline AGX Orin devkit DTB with __symbols__ (as JetPack ships it)
check "linux-source-6.1 is installed (tools/install-deps.sh)" test -r "$KSRC_TAR"
tar -C "$T" -xJf "$KSRC_TAR" --wildcards 'linux-source-6.1/arch/arm64/boot/dts/nvidia/tegra234*' \
        'linux-source-6.1/include/dt-bindings/*' 'linux-source-6.1/include/uapi/linux/input-event-codes.h' 2>"$T/tar.err"
K="$T/linux-source-6.1"
check "host DTB: mainline tegra234-p3737-0000+p3701-0000 compiles with dtc -@" bash -c "
        cpp -nostdinc -undef -x assembler-with-cpp -D__DTS__ -I '$K/include' -I '$K/arch/arm64/boot/dts' \
                '$K/arch/arm64/boot/dts/nvidia/tegra234-p3737-0000+p3701-0000.dts' >'$T/agx.dts' &&
        dtc -@ -q -I dts -O dtb -o '$T/agx.dtb' '$T/agx.dts'"
smmu=$(fdtget -t x "$T/agx.dtb" /bus@0/iommu@12000000 phandle 2>/dev/null)
check "  ... smmu_niso0 (iommu@12000000) has a phandle" test -n "$smmu"

# --- uarta + both GPIO controllers: every node exists in mainline 6.1
ctl host-overlay uarta gpio-main gpio-aon >"$T/ov.dts"
check "host-overlay uarta gpio-main gpio-aon" test -s "$T/ov.dts"
check "  ... compiles with dtc -@ without a warning" bash -c "dtc -@ -I dts -O dtb -o '$T/ov.dtbo' '$T/ov.dts' 2>'$T/dtc.err' && [ ! -s '$T/dtc.err' ]"
check "  ... applies to the mainline AGX Orin DTB with fdtoverlay" fdtoverlay -i "$T/agx.dtb" -o "$T/merged.dtb" "$T/ov.dtbo"
check "  ... /bpmp_host_proxy allows UARTA's clock and reset, its parent as a parent clock" bash -c "
        [ \"\$(fdtget '$T/merged.dtb' /bpmp_host_proxy compatible)\" = nvidia,bpmp-host-proxy ] &&
        [ \"\$(fdtget '$T/merged.dtb' /bpmp_host_proxy allowed-clocks)\" = '155' ] &&
        [ \"\$(fdtget '$T/merged.dtb' /bpmp_host_proxy allowed-parent-clocks)\" = '102' ] &&
        [ \"\$(fdtget '$T/merged.dtb' /bpmp_host_proxy allowed-resets)\" = '100' ]"
check "  ... and points at the host's BPMP (nvidia,bpmp = <&bpmp>)" bash -c "
        [ \"\$(fdtget -t x '$T/merged.dtb' /bpmp_host_proxy nvidia,bpmp)\" = \"\$(fdtget -t x '$T/agx.dtb' /bpmp phandle)\" ]"
check "  ... no allowed-power-domains when no device has one" bash -c "! fdtget '$T/merged.dtb' /bpmp_host_proxy allowed-power-domains 2>/dev/null"
for spec in "serial@3100000 7c" "gpio@2200000 7a" "gpio@c2f0000 79"; do
        set -- $spec
        check "  ... /bus@0/$1: iommus = <&smmu_niso0 0x$2>, driver kept off, status okay" bash -c "
                [ \"\$(fdtget -t x '$T/merged.dtb' /bus@0/$1 iommus)\" = '$smmu $2' ] &&
                [ \"\$(fdtget '$T/merged.dtb' /bus@0/$1 compatible)\" = tegravirt,passthrough ] &&
                [ \"\$(fdtget '$T/merged.dtb' /bus@0/$1 status)\" = okay ]"
done
check "  ... the rest of the host tree is untouched (GPCDMA keeps its stream)" bash -c "
        [ \"\$(fdtget -t x '$T/merged.dtb' /bus@0/dma-controller@2600000 iommus)\" = \"\$(fdtget -t x '$T/agx.dtb' /bus@0/dma-controller@2600000 iommus)\" ]"

# --- devices not in mainline 6.1's tree still give a valid overlay
ctl host-overlay uarti gpu uarte >"$T/ov2.dts"
check "host-overlay uarti gpu uarte compiles with dtc -@ without a warning" bash -c "dtc -@ -I dts -O dtb -o '$T/ov2.dtbo' '$T/ov2.dts' 2>'$T/dtc2.err' && [ ! -s '$T/dtc2.err' ]"
check "  ... GPU resources and each device's own stream" bash -c "
        grep -q 'allowed-clocks = <304 41 236 159>;' '$T/ov2.dts' && grep -q 'allowed-parent-clocks = <102>;' '$T/ov2.dts' && grep -q 'allowed-power-domains = <35>;' '$T/ov2.dts' &&
        grep -q 'iommus = <&smmu_niso0 0x7e>;' '$T/ov2.dts' && grep -q 'iommus = <&smmu_niso0 0x7f>;' '$T/ov2.dts' &&
        grep -q 'target-path = \"/bus@0/gpu@17000000\";' '$T/ov2.dts'"
ctl host-overlay uarti >"$T/ov3.dts"
check "host-overlay uarti (no BPMP) has no bpmp_host_proxy node but its own stream" bash -c "
        ! grep -q bpmp_host_proxy '$T/ov3.dts' && grep -q 'iommus = <&smmu_niso0 0x7e>;' '$T/ov3.dts' &&
        dtc -@ -I dts -O dtb -o /dev/null '$T/ov3.dts' 2>&1 | { ! grep -q .; }"
ctl host-overlay uarta 3100000.serial >"$T/ov4.dts"
check "a device named twice counts once" bash -c "[ \$(grep -c 'target-path = \"/bus@0/serial@3100000\"' '$T/ov4.dts') = 1 ] && grep -q 'allowed-clocks = <155>;' '$T/ov4.dts' && grep -q 'allowed-parent-clocks = <102>;' '$T/ov4.dts'"

# --- refusals: a shared stream, nothing to change
cat >"$T/catalog.d/50-shared.xml" <<'XML'
<?xml version="1.0"?>
<catalog xmlns="https://tegravirt.org/ns/catalog/1" soc="tegra234">
  <device name="uarti" platform-id="31d0000.serial" kind="serial">
    <reg base="0x031d0000" size="0x10000"/>
    <interrupt spi="285"/>
    <guest><compatible>arm,sbsa-uart</compatible></guest>
    <host node="/bus@0/serial@31d0000"><iommu smmu="smmu_niso0" stream-id="0x7c"/></host>
  </device>
  <device name="plain" platform-id="3130000.serial" kind="serial">
    <reg base="0x03130000" size="0x10000"/>
    <guest><compatible>arm,sbsa-uart</compatible></guest>
  </device>
</catalog>
XML
kill -HUP "$DAEMON_PID"
check "the daemon reloads the catalog with the override" wait_for 10 bash -c "'$TV_CTL_BIN' list 2>/dev/null | grep -q '^plain '"
check "two devices on one SMMU stream are refused, naming both (exit 1)" bash -c "
        '$TV_CTL_BIN' host-overlay uarta uarti >'$T/bad.dts' 2>'$T/bad.err'; [ \$? = 1 ] && [ ! -s '$T/bad.dts' ] &&
        grep -q InvalidArgument '$T/bad.err' && grep -q 'uarta and uarti both use stream 0x7c on smmu_niso0' '$T/bad.err'"
check "a device needing no host change is refused (exit 1)" bash -c "
        '$TV_CTL_BIN' host-overlay plain >'$T/none.dts' 2>'$T/none.err'; [ \$? = 1 ] && [ ! -s '$T/none.dts' ] &&
        grep -q 'need no host device-tree change' '$T/none.err'"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
