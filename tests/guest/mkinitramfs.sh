#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds OUTDIR/initramfs.cpio.gz: busybox-static plus an /init that prints what the guest
# sees under /proc/device-tree as "TVG key=value" lines, then powers off.
# Usage: mkinitramfs.sh OUTDIR [BUSYBOX]   (BUSYBOX defaults to OUTDIR/busybox/bin/busybox,
# the layout fetch-guest.sh OUTDIR leaves behind)
set -euo pipefail
die() { echo "mkinitramfs: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: mkinitramfs.sh OUTDIR [BUSYBOX]"
out=$1
bb=${2:-$out/busybox/bin/busybox}
[ -x "$bb" ] || die "busybox not found at $bb (run fetch-guest.sh first)"
command -v cpio >/dev/null || die "cpio not installed"
command -v gzip >/dev/null || die "gzip not installed"
mkdir -p "$out"
# the guest tests run in parallel and share OUTDIR: one build at a time (the lock fetch-guest.sh takes)
exec 9>"$out/.lock"
flock 9 || die "cannot lock $out/.lock"

stage=$(mktemp -d "${TMPDIR:-/tmp}/tv-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp}
cp "$bb" "$stage/bin/busybox"
for a in sh mount cat ls od tr awk sed grep printf echo poweroff sleep head wc hexdump; do
        ln -s busybox "$stage/bin/$a"
done
# the kernel opens /dev/console for init; /init also mounts devtmpfs in case this fails
if [ "$(id -u)" = 0 ]; then
        mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
fi

cat >"$stage/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
DT=/proc/device-tree

cells() { # the property as 32-bit big-endian cells: 0xc000000 0x10000
        [ -f "$1" ] || { echo "-"; return; }
        od -An -v -tx1 "$1" | awk '{ for (i = 1; i <= NF; i++) b = b $i } END {
                if (b == "") { print "(empty)"; exit }
                s = ""
                for (i = 1; i + 7 <= length(b); i += 8) {
                        w = substr(b, i, 8); sub(/^0+/, "", w); if (w == "") w = "0"
                        s = s (s == "" ? "" : " ") "0x" w
                }
                print s }'
}
u64() { # a 64-bit big-endian property as one hex number
        [ -f "$1" ] || { echo "-"; return; }
        od -An -v -tx1 "$1" | awk '{ for (i = 1; i <= NF; i++) b = b $i } END {
                sub(/^0+/, "", b); if (b == "") b = "0"; print "0x" b }'
}
str() { # a string list, NUL-separated in the DT, comma-joined here
        [ -f "$1" ] || { echo "-"; return; }
        tr '\0' ',' <"$1" | sed 's/,$//'
}

echo "TVG begin"
echo "TVG root-address-cells=$(cells $DT/#address-cells) root-size-cells=$(cells $DT/#size-cells)"
echo "TVG bpmp-present=$([ -d $DT/bpmp ] && echo yes || echo no)"
echo "TVG bpmp-compatible=$(str $DT/bpmp/compatible)"
echo "TVG bpmp-virtual-pa=$(u64 $DT/bpmp/virtual-pa)"
echo "TVG bpmp-phandle=$(cells $DT/bpmp/phandle)"
pb=""
for d in $DT/platform-bus@* $DT/platform@*; do
        [ -d "$d" ] && { pb=$d; break; }
done
if [ -n "$pb" ]; then
        echo "TVG platform-bus=${pb#$DT/}"
        echo "TVG platform-bus-compatible=$(str $pb/compatible)"
        echo "TVG platform-bus-address-cells=$(cells $pb/#address-cells) platform-bus-size-cells=$(cells $pb/#size-cells)"
        echo "TVG platform-bus-ranges=$(cells $pb/ranges)"
        for n in "$pb"/*; do
                [ -d "$n" ] || continue
                name=${n##*/}
                echo "TVG node $name compatible=$(str $n/compatible)"
                echo "TVG node $name reg=$(cells $n/reg)"
                echo "TVG node $name interrupts=$(cells $n/interrupts)"
                echo "TVG node $name clocks=$(cells $n/clocks) resets=$(cells $n/resets)"
                echo "TVG node $name status=$(str $n/status)"
        done
else
        echo "TVG platform-bus=none"
fi
if [ -d $DT/aliases ]; then
        for a in $DT/aliases/serial*; do
                [ -f "$a" ] && echo "TVG alias ${a##*/}=$(str $a)"
        done
fi
echo "TVG dt-cpus=$(ls -d $DT/cpus/cpu@* 2>/dev/null | wc -l)"
echo "TVG cpus-online=$(grep -c '^processor' /proc/cpuinfo)"
for m in $DT/memory@*; do
        [ -d "$m" ] && echo "TVG memory ${m##*/} reg=$(cells $m/reg)"
done
echo "TVG memtotal-kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "TVG end"
poweroff -f
sleep 5
INIT
chmod 755 "$stage/init"

(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
        gzip -9n >"$out/initramfs.cpio.gz.tmp" || die "cpio/gzip failed"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "INITRD=$out/initramfs.cpio.gz"
