#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the bpmp-guest-chain guest kernel: arm64 Image from Debian's linux-source-6.1 with
# kernel/patches/*.patch and both BPMP proxy directories linked into drivers/firmware/tegra
# (as tools/kernel-check.sh does), configured as allnoconfig + guest-kernel.config, and the
# test-only guest module (module/) built against it.
# Usage: build-guest-kernel.sh CACHE
# Prints IMAGE=<path> and MODULE=<path>. The result is kept in CACHE/kernel-<key>/, key =
# hash of the tarball, the patches, the proxies' sources, the config fragment, the module,
# this script and the compiler; the source tree is deleted after the build. Deleting CACHE
# only makes the next run cold. Progress and errors go to stderr.
# Env: TV_KERNEL_TARBALL (default /usr/src/linux-source-6.1.tar.xz), TV_GUEST_KERNEL_JOBS (2).
set -euo pipefail
die() { echo "build-guest-kernel: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: build-guest-kernel.sh CACHE"
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
TARBALL=${TV_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
JOBS=${TV_GUEST_KERNEL_JOBS:-2}
FRAGMENT=$HERE/guest-kernel.config
export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
[ -r "$TARBALL" ] || die "$TARBALL is missing (install linux-source-6.1)"
for c in ${CROSS_COMPILE}gcc make flex bison bc git; do
        command -v "$c" >/dev/null || die "$c not found (tools/install-deps.sh installs it)"
done
mkdir -p "$1"
cache=$(cd "$1" && pwd)

key=$( {
        sha256sum <"$TARBALL"
        cd "$SRC" && find kernel/patches kernel/drivers/firmware/tegra/bpmp-guest-proxy \
                kernel/drivers/firmware/tegra/bpmp-host-proxy tests/bpmp-guest/module -type f -print0 |
                LC_ALL=C sort -z | xargs -0 sha256sum
        # contents only: the same inputs give the same key whatever the paths they are named by
        sha256sum <"$FRAGMENT"
        sha256sum <"$HERE/build-guest-kernel.sh"
        "${CROSS_COMPILE}gcc" --version | head -n1
} | sha256sum | cut -c1-16)
out=$cache/kernel-$key
exec 9>"$cache/.kernel-lock"
flock 9 || die "cannot lock $cache/.kernel-lock"
if [ -s "$out/Image" ] && [ -s "$out/tv-bpmp-guest-test.ko" ]; then
        echo "build-guest-kernel: cached $out" >&2
        echo "IMAGE=$out/Image"
        echo "MODULE=$out/tv-bpmp-guest-test.ko"
        exit 0
fi

start=$SECONDS
work=$cache/work-$key
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
# git apply must not take paths relative to a repository around the cache
export GIT_CEILING_DIRECTORIES=$work
echo "build-guest-kernel: extracting $(basename "$TARBALL")" >&2
tar -C "$work" -xf "$TARBALL" || die "extracting $TARBALL failed"
ksrc=$work/linux-source-6.1
kout=$work/out
[ -f "$ksrc/Makefile" ] || die "$TARBALL has no linux-source-6.1/"
for d in bpmp-host-proxy bpmp-guest-proxy; do
        ln -s "$SRC/kernel/drivers/firmware/tegra/$d" "$ksrc/drivers/firmware/tegra/$d" || die "linking $d failed"
done
for p in "$SRC"/kernel/patches/*.patch; do
        (cd "$ksrc" && git apply "$p") || die "git apply $(basename "$p") failed"
done

kmake() { make -C "$ksrc" O="$kout" -j"$JOBS" "$@"; }
kmake -s allnoconfig >&2 || die "allnoconfig failed"
KCONFIG_CONFIG=$kout/.config "$ksrc/scripts/kconfig/merge_config.sh" -m -O "$kout" "$kout/.config" "$FRAGMENT" \
        >"$work/merge.log" 2>&1 || { cat "$work/merge.log" >&2; die "merging $FRAGMENT failed"; }
kmake -s olddefconfig >&2 || die "olddefconfig failed"
# every line of the fragment must survive olddefconfig (a dependency we lack would drop it)
missing=$(grep -E '^CONFIG_' "$FRAGMENT" | while IFS= read -r l; do grep -qxF "$l" "$kout/.config" || echo "$l"; done)
[ -z "$missing" ] || die "the configuration lost: $missing"

echo "build-guest-kernel: make -j$JOBS Image modules" >&2
kmake Image modules >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "kernel build failed"; }
# the module from a copy, so that no object lands in the source tree
cp -r "$SRC/tests/bpmp-guest/module" "$work/module"
kmake M="$work/module" modules >"$work/module.log" 2>&1 || { cat "$work/module.log" >&2; die "module build failed"; }
! grep -E '(warning|error):' "$work/module.log" >&2 || die "the test module has compiler diagnostics"

rm -rf "$cache"/kernel-*
mkdir -p "$out.tmp"
cp "$kout/arch/arm64/boot/Image" "$work/module/tv-bpmp-guest-test.ko" "$out.tmp/"
cp "$kout/.config" "$out.tmp/config"
echo "$((SECONDS - start))" >"$out.tmp/build-seconds"
mv "$out.tmp" "$out"
echo "build-guest-kernel: built in $((SECONDS - start)) s: $out" >&2
echo "IMAGE=$out/Image"
echo "MODULE=$out/tv-bpmp-guest-test.ko"
