#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cross-compiles the rig's guest programs, static for aarch64:
#   tv-rig-engine  the binding engine (host/hostdev.c, host/sysfs.c, host/vfio-diag.c,
#                  core/state.c and the common/ helpers they use; no sd-bus, no libxml2,
#                  no libvirt: those belong to the daemon around the engine)
#   tv-rig-vfio    opens a vfio group and reads a device's region 0 through the device fd
# Usage: build-tools.sh OUTDIR   prints the two paths. Cached under OUTDIR by a hash of the
# sources and flags: an unchanged tree is not rebuilt.
set -euo pipefail
die() { echo "build-tools: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: build-tools.sh OUTDIR"
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CC=${TV_RIG_CC:-aarch64-linux-gnu-gcc}
command -v "$CC" >/dev/null || die "$CC not found (tools/install-deps.sh installs gcc-aarch64-linux-gnu)"
mkdir -p "$1"
out=$(cd "$1" && pwd)

ENGINE_SRCS="tests/rig/tv-rig-engine.c host/hostdev.c host/sysfs.c host/vfio-diag.c core/state.c
        common/tv-error.c common/tv-validate.c common/tv-fileio.c common/tv-strv.c"
# the wrapped calls: the engine's host steps, counted for fault injection (tv-rig-engine.c)
WRAP="tv_sysfs_set_override tv_sysfs_bind tv_sysfs_unbind tv_sysfs_drivers_probe
        tv_dev_vfio_group_chown tv_dev_vfio_noiommu_chown getpwnam getgrnam"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -static"
wraps=""
for w in $WRAP; do wraps="$wraps -Wl,--wrap=$w"; done

hdrs=$(cd "$SRC" && ls common/*.h host/*.h core/state.h)
key=$( { echo "$CC $CFLAGS $wraps"; "$CC" --version | head -n1; cd "$SRC" && cat $ENGINE_SRCS $hdrs tests/rig/tv-rig-vfio.c; } |
        sha256sum | cut -c1-16)
if [ ! -e "$out/.tools-$key" ]; then
        rm -f "$out"/.tools-* "$out/tv-rig-engine" "$out/tv-rig-vfio"
        srcs=()
        for s in $ENGINE_SRCS; do srcs+=("$SRC/$s"); done
        # shellcheck disable=SC2086
        "$CC" $CFLAGS -I"$SRC/common" -I"$SRC/host" -I"$SRC/core" -o "$out/tv-rig-engine.tmp" "${srcs[@]}" $wraps \
                2> >(grep -v "requires at runtime the shared libraries" >&2) ||
                die "building tv-rig-engine failed"
        # shellcheck disable=SC2086
        "$CC" $CFLAGS -o "$out/tv-rig-vfio.tmp" "$SRC/tests/rig/tv-rig-vfio.c" || die "building tv-rig-vfio failed"
        mv "$out/tv-rig-engine.tmp" "$out/tv-rig-engine"
        mv "$out/tv-rig-vfio.tmp" "$out/tv-rig-vfio"
        touch "$out/.tools-$key"
fi
echo "$out/tv-rig-engine"
echo "$out/tv-rig-vfio"
