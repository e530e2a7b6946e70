#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetches (once) Debian 12's arm64 kernel and busybox-static for the guest proof.
# Usage: fetch-guest.sh CACHEDIR
# Prints "KERNEL=<path>" and "BUSYBOX=<path>" on success. Only apt-get is used.
set -euo pipefail
die() { echo "fetch-guest: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: fetch-guest.sh CACHEDIR"
cache=$1
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)
# the guest tests run in parallel and share the cache: one fetch at a time (util-linux flock)
exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"

kernel_ok() { # an arm64 Linux Image (magic ARM\x64 at 0x38), possibly gzip'd by Debian
        local f=$1 magic
        [ -s "$f" ] || return 1
        magic=$(od -An -tx1 -j56 -N4 "$f" | tr -d ' \n')
        [ "$magic" = 41524d64 ]
}

if [ -s "$cache/kernel/Image" ] && kernel_ok "$cache/kernel/Image" && [ -x "$cache/busybox/bin/busybox" ]; then
        echo "KERNEL=$cache/kernel/Image"
        echo "BUSYBOX=$cache/busybox/bin/busybox"
        exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (Debian host required)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# the arm64 package lists
need_update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        [ "$(id -u)" = 0 ] || die "arm64 is not a dpkg architecture yet; run as root: dpkg --add-architecture arm64 && apt-get update"
        dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
        need_update=1
fi
if [ $need_update = 1 ] || ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "no arm64 package lists; run as root: apt-get update"
        apt-get update -q >&2 || die "apt-get update failed"
fi

# the current Debian 12 arm64 kernel: the linux-image-arm64 metapackage depends on it
meta_dep=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1)
[ -n "$meta_dep" ] || die "cannot find the kernel that linux-image-arm64:arm64 depends on (apt-cache depends)"
kver=${meta_dep#linux-image-}
echo "fetch-guest: kernel $kver" >&2

first() { local f; for f in "$@"; do [ -e "$f" ] && { echo "$f"; return 0; }; done; return 0; }
dl="$cache/debs"
mkdir -p "$dl"
fetch() { # fetch PACKAGE:arm64 -> prints the .deb path
        local pkg=$1 name=${1%%:*} f
        f=$(first "$dl/${name}_"*_arm64.deb)
        if [ -z "$f" ]; then
                (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || return 1
                f=$(first "$dl/${name}_"*_arm64.deb)
        fi
        [ -n "$f" ] && echo "$f"
}

# prefer the unsigned image (smaller, plain vmlinuz), fall back to the signed one
kdeb=""
for cand in "linux-image-$kver-unsigned" "linux-image-$kver"; do
        apt-cache show "$cand:arm64" >/dev/null 2>&1 || continue
        kdeb=$(fetch "$cand:arm64") || kdeb=""
        [ -n "$kdeb" ] || continue
        dpkg-deb -c "$kdeb" | grep '/boot/vmlinuz-' >/dev/null && break
        kdeb=""
done
[ -n "$kdeb" ] || die "no linux-image-$kver(-unsigned):arm64 with /boot/vmlinuz-* could be downloaded"
bdeb=$(fetch busybox-static:arm64) || die "apt-get download busybox-static:arm64 failed"

rm -rf "$cache/kernel.x" "$cache/busybox.x"
mkdir -p "$cache/kernel.x" "$cache/busybox.x"
# only /boot is needed from the kernel package
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$cache/kernel.x" --wildcards './boot/vmlinuz-*' ||
        die "extracting /boot/vmlinuz-* from $kdeb failed"
dpkg-deb -x "$bdeb" "$cache/busybox.x" || die "dpkg-deb -x $bdeb failed"

vmlinuz=$(first "$cache"/kernel.x/boot/vmlinuz-*)
[ -n "$vmlinuz" ] || die "no vmlinuz in $kdeb"
mkdir -p "$cache/kernel"
# Debian's arm64 vmlinuz is a gzip'd Image; QEMU -kernel takes either, keep the plain one
if gzip -t "$vmlinuz" 2>/dev/null; then
        gzip -dc "$vmlinuz" >"$cache/kernel/Image.tmp"
else
        cp "$vmlinuz" "$cache/kernel/Image.tmp"
fi
kernel_ok "$cache/kernel/Image.tmp" || die "$vmlinuz is not an arm64 Linux Image (no ARMd magic)"
mv "$cache/kernel/Image.tmp" "$cache/kernel/Image"
basename "$kdeb" >"$cache/kernel/package"

[ -x "$cache/busybox.x/bin/busybox" ] || die "no /bin/busybox in $bdeb"
file_magic=$(od -An -tx1 -j18 -N2 "$cache/busybox.x/bin/busybox" | tr -d ' \n')
[ "$file_magic" = b700 ] || die "busybox in $bdeb is not an aarch64 ELF (e_machine $file_magic)"
rm -rf "$cache/busybox"
mv "$cache/busybox.x" "$cache/busybox"
basename "$bdeb" >"$cache/busybox/package"
rm -rf "$cache/kernel.x" "$dl"
echo "KERNEL=$cache/kernel/Image"
echo "BUSYBOX=$cache/busybox/bin/busybox"
