#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds qemu-system-aarch64 with tegravirt's patch series (qemu/patches/series) from
# Debian 12's QEMU source, fetched with `apt-get source qemu` (Debian's repositories
# only; tools/install-deps.sh adds the deb-src line). aarch64-softmmu only, most
# optional features off (no GUI, audio, block drivers beyond the basics, networking
# backends), but what libvirt needs to run it: QMP, -device help, dumpdtb (libfdt),
# virtio-mmio/pci, vfio-platform, KVM (on an arm64 host), vhost-user.
#
#   tools/build-qemu.sh [--cache DIR] [--jobs N] OUTDIR
#
# Copies the binary to OUTDIR/qemu-system-aarch64 and prints that path on the last
# line of stdout. DIR (default: OUTDIR/qemu-cache) keeps the source and one build
# tree per key = source version + hash of the series, its patches, this script's
# configure flags; a rerun with the same key copies the cached binary (a cache only
# saves time: deleting it is always safe). The Debian source version may be pinned
# with TV_QEMU_SOURCE_VERSION (default: the newest apt knows).
set -euo pipefail

usage() { echo "usage: $0 [--cache DIR] [--jobs N] OUTDIR" >&2; exit 2; }
cache="" jobs=2
while [ $# -gt 0 ]; do
        case "$1" in
        --cache) [ $# -ge 2 ] || usage; cache=$2; shift 2 ;;
        --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) break ;;
        esac
done
[ $# -eq 1 ] || usage
out=$1
src_root=$(cd "$(dirname "$0")/.." && pwd)
series_dir=$src_root/qemu/patches
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${cache:-$out/qemu-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

log() { echo "build-qemu: $*" >&2; }
die() { echo "build-qemu: $*" >&2; exit 1; }

# The configure flags are part of the cache key.
CONFIGURE_FLAGS=(
        --target-list=aarch64-softmmu
        --without-default-features
        --prefix=/usr
        --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
        --enable-tcg --enable-fdt=system --enable-vhost-user
        # what libvirt domains commonly use: user-mode networking, VNC graphics
        --enable-slirp --enable-vnc
        --disable-docs --disable-werror
)
# KVM exists only when host and target are both arm64.
[ "$(uname -m)" = aarch64 ] && CONFIGURE_FLAGS+=(--enable-kvm)

[ -f "$series_dir/series" ] || die "no series file in $series_dir"
patches=()
while read -r p; do
        case "$p" in ''|'#'*) continue ;; esac
        [ -f "$series_dir/$p" ] || die "series names $p, which is not in $series_dir"
        patches+=("$series_dir/$p")
done <"$series_dir/series"

# Which source: apt's newest qemu source version, unless pinned.
version=${TV_QEMU_SOURCE_VERSION:-}
if [ -z "$version" ]; then
        version=$(apt-cache showsrc qemu 2>/dev/null | awk '/^Version:/ {print $2}' | sort -V | tail -1) || true
        [ -n "$version" ] || die "apt knows no qemu source package; add a deb-src line for bookworm main (tools/install-deps.sh does, as root) and run apt-get update"
fi
key=$( { echo "$version"; printf '%s\n' "${CONFIGURE_FLAGS[@]}"; cat "$series_dir/series" "${patches[@]}"; } |
       sha256sum | cut -c1-16)
upstream=${version#*:}              # 1:7.2+dfsg-7+deb12u18 -> 7.2+dfsg-7+deb12u18
work=$cache/qemu-$upstream-$key
bin=$work/build/qemu-system-aarch64

if [ -x "$bin" ] && [ -f "$work/stamp" ]; then
        log "cached build $work (source $version, key $key)"
else
        rm -rf "$work"
        mkdir -p "$cache/dl"
        t0=$(date +%s)
        # apt-get source skips files it already has with the right hashes
        (cd "$cache/dl" && apt-get source --download-only -q "qemu=$version" >&2) ||
                die "apt-get source qemu=$version failed (a deb-src line for bookworm main is needed: tools/install-deps.sh)"
        dsc=$cache/dl/qemu_${upstream}.dsc
        [ -f "$dsc" ] || die "apt-get source left no $dsc"
        mkdir -p "$work"
        # dpkg-source unpacks and applies Debian's own patches
        dpkg-source --no-check -x "$dsc" "$work/src" >&2
        for p in "${patches[@]}"; do
                log "applying $(basename "$p")"
                patch -d "$work/src" -p1 --forward --batch --quiet <"$p" >&2 ||
                        die "$(basename "$p") does not apply to Debian's qemu $version"
        done
        t1=$(date +%s)
        mkdir -p "$work/build"
        (cd "$work/build" && ../src/configure "${CONFIGURE_FLAGS[@]}" >configure.log 2>&1) ||
                { tail -30 "$work/build/configure.log" >&2; die "configure failed (log: $work/build/configure.log)"; }
        t2=$(date +%s)
        ninja -C "$work/build" -j "$jobs" qemu-system-aarch64 >"$work/build/ninja.log" 2>&1 ||
                { tail -40 "$work/build/ninja.log" >&2; die "build failed (log: $work/build/ninja.log)"; }
        t3=$(date +%s)
        log "source+patches $((t1 - t0)) s, configure $((t2 - t1)) s, ninja -j$jobs $((t3 - t2)) s"
        echo "$version $key" >"$work/stamp"
        # one build tree is ~600 MiB: keep only this key's
        for old in "$cache"/qemu-*; do
                [ "$old" = "$work" ] || [ ! -f "$old/stamp" ] || rm -rf "$old"
        done
fi
# install(1) replaces the file, so a running QEMU keeps its inode
install -m 0755 "$bin" "$out/qemu-system-aarch64.tmp"
mv -f "$out/qemu-system-aarch64.tmp" "$out/qemu-system-aarch64"
echo "$out/qemu-system-aarch64"
