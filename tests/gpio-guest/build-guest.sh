#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The gpio-guest tests' guest side, all cached under CACHE (the rig's cache: tests/rig/):
#   Debian 12's arm64 kernel and kbuild tree (tests/rig/rig-kbuild.sh), Debian's
#   virtio_mmio.ko (=m in Debian's config), gpio-virtio.ko built out of tree from
#   linux-source-6.1's drivers/gpio/gpio-virtio.c of the same Debian version (Debian's config
#   has GPIO_VIRTIO off), the test-only tv-gpio-level/ (a level-triggered interrupt consumer), and
#   tvgpio-guest (tvgpio-guest.c, static aarch64).
# Usage: build-guest.sh CACHE   prints IMAGE=, BUSYBOX=, VIRTIO_MMIO=, GPIO_VIRTIO=, LEVEL_KO=,
# TOOL=, KVER= lines. Env: TV_KERNEL_TARBALL (a linux-source-6.1.tar.xz of the image's
# version), TV_RIG_CC (default aarch64-linux-gnu-gcc); rig-kbuild.sh's variables.
set -euo pipefail
die() { echo "build-guest: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: build-guest.sh CACHE"
HERE=$(cd "$(dirname "$0")" && pwd)
RIG="$HERE/../rig"
mkdir -p "$1"
cache=$(cd "$1" && pwd)
CC=${TV_RIG_CC:-aarch64-linux-gnu-gcc}
command -v "$CC" >/dev/null || die "$CC not found (tools/install-deps.sh installs gcc-aarch64-linux-gnu)"

# the gpio-guest tests may run in parallel and share the cache: one build at a time
exec 7>"$cache/.gpio-guest-lock"
flock 7 || die "cannot lock $cache/.gpio-guest-lock"
"$RIG/rig-kbuild.sh" "$cache" >/dev/null || die "rig-kbuild.sh failed"
# shellcheck source=/dev/null
. "$cache/rig.env"

# --- gpio-virtio.c of the image's Debian version, once -------------------------------------
vsrc="$cache/gpio-virtio-src/$RIG_DEBVER"
if [ ! -e "$vsrc/.done" ]; then
        tarball=${TV_KERNEL_TARBALL:-}
        if [ -z "$tarball" ]; then
                have=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
                if [ "$have" = "$RIG_DEBVER" ] && [ -r /usr/src/linux-source-6.1.tar.xz ]; then
                        tarball=/usr/src/linux-source-6.1.tar.xz
                else
                        echo "build-guest: linux-source-6.1 installed is '${have:-none}', the image is $RIG_DEBVER: downloading that version" >&2
                        rm -rf "$cache/gpio-virtio-src/dl"
                        mkdir -p "$cache/gpio-virtio-src/dl"
                        (cd "$cache/gpio-virtio-src/dl" && apt-get download -q -o APT::Sandbox::User=root \
                                "linux-source-6.1=$RIG_DEBVER" >&2) || die "apt-get download linux-source-6.1=$RIG_DEBVER failed"
                        dpkg-deb --fsys-tarfile "$cache"/gpio-virtio-src/dl/linux-source-6.1_*.deb |
                                tar -x -C "$cache/gpio-virtio-src/dl" ./usr/src/linux-source-6.1.tar.xz ||
                                die "unpacking linux-source-6.1 failed"
                        tarball="$cache/gpio-virtio-src/dl/usr/src/linux-source-6.1.tar.xz"
                fi
        fi
        echo "build-guest: extracting drivers/gpio/gpio-virtio.c from $tarball" >&2
        rm -rf "$vsrc"
        mkdir -p "$vsrc/x"
        tar -xf "$tarball" -C "$vsrc/x" linux-source-6.1/drivers/gpio/gpio-virtio.c ||
                die "extracting gpio-virtio.c from $tarball failed"
        mkdir -p "$vsrc/gpio-virtio"
        mv "$vsrc/x/linux-source-6.1/drivers/gpio/gpio-virtio.c" "$vsrc/gpio-virtio/"
        echo 'obj-m := gpio-virtio.o' >"$vsrc/gpio-virtio/Kbuild"
        rm -rf "$vsrc/x" "$cache/gpio-virtio-src/dl"
        touch "$vsrc/.done"
fi

# --- the modules (rig-kbuild.sh caches each directory by its contents) ------------------------
mapfile -t kos < <("$RIG/rig-kbuild.sh" "$cache" "$vsrc/gpio-virtio" "$HERE/tv-gpio-level") || die "rig-kbuild.sh failed"
gv="" lv=""
for k in "${kos[@]}"; do
        case "$k" in
        */gpio-virtio.ko) gv=$k ;;
        */tv-gpio-level.ko) lv=$k ;;
        esac
done
[ -n "$gv" ] || die "gpio-virtio.ko was not built"
[ -n "$lv" ] || die "tv-gpio-level.ko was not built"
vm="$RIG_KDIR_TOP/mods/virtio_mmio.ko"
[ -f "$vm" ] || die "Debian's virtio_mmio.ko is not in $RIG_KDIR_TOP/mods"

# --- tvgpio-guest ------------------------------------------------------------------------------
CFLAGS="-std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -static"
key=$( { echo "$CC $CFLAGS"; "$CC" --version | head -n1; cat "$HERE/tvgpio-guest.c"; } | sha256sum | cut -c1-16)
tool="$cache/tvgpio-guest/$key/tvgpio-guest"
if [ ! -x "$tool" ]; then
        rm -rf "$cache/tvgpio-guest"
        mkdir -p "$(dirname "$tool")"
        # shellcheck disable=SC2086
        "$CC" $CFLAGS -o "$tool.tmp" "$HERE/tvgpio-guest.c" || die "building tvgpio-guest failed"
        mv "$tool.tmp" "$tool"
fi

echo "KVER=$RIG_KVER"
echo "IMAGE=$RIG_IMAGE"
echo "BUSYBOX=$RIG_BUSYBOX"
echo "VIRTIO_MMIO=$vm"
echo "GPIO_VIRTIO=$gv"
echo "LEVEL_KO=$lv"
echo "TOOL=$tool"
