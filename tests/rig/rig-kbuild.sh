#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rig's kernel side: Debian 12's arm64 kernel (the one linux-image-arm64 depends on), a
# kbuild tree that matches it exactly, and the modules the rig needs that Debian does not
# build, built out of tree against that tree:
#   vfio, vfio_virqfd        vfio core with CONFIG_VFIO_NOIOMMU (Debian: off)
#   vfio-platform(-base)     with kernel/patches/0004 (Debian: off; stock 6.1 cannot bind
#                            a device without a reset module)
#   gpio-sim                 with kernel/irq/irq_sim.c linked in (Debian: off)
# and, not printed, RIG_MODDIR/stock/vfio-platform-base.ko: 6.1's own, without patch 0004
# (its probe fails with ENOENT: the rig's real bind failure).
# plus every MODDIR given, each built with `make M=` on a copy (the source is not written).
# Usage: rig-kbuild.sh CACHE [MODDIR...]
# Prints the .ko paths, one a line (the rig's first, then each MODDIR's), on stdout;
# progress on stderr. Everything is cached under CACHE: the kernel by Debian version, the
# module builds by a hash of their inputs; a second call only checks and prints. It also
# writes CACHE/rig.env (RIG_KVER, RIG_KDIR: the kbuild tree, RIG_IMAGE, RIG_BUSYBOX, ...).
# The kbuild tree is Debian's own: linux-headers-<abi>-arm64 (config, Module.symvers,
# generated headers: vermagic and modversions match the image) + -common + linux-kbuild-6.1
# for the build machine (fixdep/modpost/genksyms as amd64 binaries, same version), all from
# apt-get download, unpacked under CACHE. The sources come from linux-source-6.1 of the same
# Debian version (the installed one, else apt-get download of that version).
# Env: TV_RIG_KVER (e.g. 6.1.0-57-arm64; default: what linux-image-arm64:arm64 depends on,
# or the one kernel already cached when apt cannot say), TV_RIG_JOBS (default 2),
# TV_KERNEL_TARBALL (a linux-source-6.1.tar.xz to use instead).
set -euo pipefail
die() { echo "rig-kbuild: $*" >&2; exit 1; }
say() { echo "rig-kbuild: $*" >&2; }
[ $# -ge 1 ] || die "usage: rig-kbuild.sh CACHE [MODDIR...]"
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
cache=$1
shift
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)
jobs=${TV_RIG_JOBS:-2}
for c in aarch64-linux-gnu-gcc-12 make dpkg-deb tar xz sha256sum git cpio modinfo flock; do
        command -v "$c" >/dev/null || die "$c not found (tools/install-deps.sh installs it)"
done
# one user of the cache at a time (the rig, the kernel tests and the bench may run together)
exec 8>"$cache/.kbuild-lock"
flock 8 || die "cannot lock $cache/.kbuild-lock"

# --- which kernel --------------------------------------------------------------------------
kver=${TV_RIG_KVER:-}
debver=""
# the arm64 package lists, as tests/guest/fetch-guest.sh gets them (nothing to do once cached)
if [ -z "$kver" ] && command -v apt-get >/dev/null && ! ls "$cache"/kernel/*/.done >/dev/null 2>&1 &&
        ! apt-cache show linux-image-arm64:arm64 >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64 ||
                die "dpkg --add-architecture arm64 failed"
        apt-get update -q >&2 || die "apt-get update failed"
fi
if [ -z "$kver" ]; then
        kver=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
                sed -n 's/^ *Depends: linux-image-\([0-9][^ :]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1) || kver=""
fi
if [ -z "$kver" ]; then
        # offline: the one kernel already in the cache
        cached=("$cache"/kernel/*/.done)
        [ ${#cached[@]} -eq 1 ] && [ -e "${cached[0]}" ] || die "cannot tell which arm64 kernel to use: apt-cache knows no linux-image-arm64:arm64 (run 'dpkg --add-architecture arm64 && apt-get update') and the cache holds none or several (set TV_RIG_KVER)"
        read -r kver debver <"${cached[0]}"
fi
[[ $kver =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-arm64$ ]] || die "unexpected kernel name $kver"
abi=${kver%-arm64}
done_files=("$cache"/kernel/"$kver"_*/.done)
# a pinned kernel already cached: no apt query (rig-run.sh pins the one rig-kbuild.sh chose)
if [ -z "$debver" ] && [ -n "${TV_RIG_KVER:-}" ] && [ ${#done_files[@]} -eq 1 ] && [ -e "${done_files[0]}" ]; then
        read -r _ debver <"${done_files[0]}"
fi
if [ -z "$debver" ]; then
        debver=$(apt-cache policy "linux-image-$kver:arm64" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1) || debver=""
        if [ -z "$debver" ] || [ "$debver" = "(none)" ]; then
                [ -e "${done_files[0]}" ] || die "apt-cache has no linux-image-$kver:arm64 (apt-get update?)"
                read -r _ debver <"${done_files[0]}"
        fi
fi
[[ $debver =~ ^[0-9][0-9a-z.+~-]*$ ]] || die "unexpected Debian version $debver"
kdir_top="$cache/kernel/${kver}_$debver"
KDIR="$kdir_top/root/usr/src/linux-headers-$kver"

# --- the kernel: image, Debian's modules the rig loads, kbuild tree, busybox ----------------
# Debian's modules the guest needs next to ours (the native drivers the rig moves devices off)
DEBIAN_MODS="kernel/drivers/virtio/virtio_mmio.ko kernel/fs/configfs/configfs.ko"
dl() { # dl DIR PKG...: apt-get download into DIR
        local d=$1
        shift
        (cd "$d" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2) ||
                die "apt-get download $* failed"
}
if [ ! -e "$kdir_top/.done" ]; then
        say "fetching Debian's arm64 kernel $kver ($debver) and its kbuild tree"
        command -v apt-get >/dev/null || die "apt-get not found (Debian host required)"
        rm -rf "$kdir_top"
        mkdir -p "$kdir_top/debs" "$kdir_top/root" "$kdir_top/x" "$kdir_top/mods" "$kdir_top/busybox"
        # the unsigned image is the same build as the signed one, smaller to unpack
        img="linux-image-$kver-unsigned"
        apt-cache show "$img:arm64=$debver" >/dev/null 2>&1 || img="linux-image-$kver"
        dl "$kdir_top/debs" "$img:arm64=$debver" "linux-headers-$kver:arm64=$debver" \
                "linux-headers-$abi-common=$debver" "linux-kbuild-6.1=$debver" busybox-static:arm64
        for d in "$kdir_top"/debs/linux-headers-*.deb "$kdir_top"/debs/linux-kbuild-*.deb; do
                dpkg-deb -x "$d" "$kdir_top/root" || die "dpkg-deb -x $d failed"
        done
        [ -f "$KDIR/Makefile" ] && [ -f "$KDIR/Module.symvers" ] && [ -f "$KDIR/.config" ] ||
                die "linux-headers-$kver has no Makefile/.config/Module.symvers"
        # Debian's arm64 headers include the -common Makefile by its absolute installed path
        sed -i "s|^include /usr/src/linux-headers-$abi-common/Makefile\$|include $kdir_top/root/usr/src/linux-headers-$abi-common/Makefile|" \
                "$KDIR/Makefile"
        grep -q "^include $kdir_top/" "$KDIR/Makefile" || die "$KDIR/Makefile does not include the -common Makefile as expected"
        [ -x "$kdir_top/root/usr/lib/linux-kbuild-6.1/scripts/mod/modpost" ] || die "linux-kbuild-6.1 has no modpost"
        paths=("./boot/vmlinuz-$kver")
        for m in $DEBIAN_MODS; do paths+=("./lib/modules/$kver/$m"); done
        dpkg-deb --fsys-tarfile "$kdir_top"/debs/linux-image-*.deb | tar -x -C "$kdir_top/x" "${paths[@]}" ||
                die "extracting the image and ${DEBIAN_MODS} from the linux-image package failed"
        for m in $DEBIAN_MODS; do cp "$kdir_top/x/lib/modules/$kver/$m" "$kdir_top/mods/"; done
        vmlinuz="$kdir_top/x/boot/vmlinuz-$kver"
        if gzip -t "$vmlinuz" 2>/dev/null; then gzip -dc "$vmlinuz" >"$kdir_top/Image"; else cp "$vmlinuz" "$kdir_top/Image"; fi
        [ "$(od -An -tx1 -j56 -N4 "$kdir_top/Image" | tr -d ' \n')" = 41524d64 ] || die "$vmlinuz is not an arm64 Image"
        dpkg-deb -x "$kdir_top"/debs/busybox-static_*.deb "$kdir_top/x/bb" || die "busybox-static unpack failed"
        cp "$kdir_top/x/bb/bin/busybox" "$kdir_top/busybox/busybox"
        [ "$(od -An -tx1 -j18 -N2 "$kdir_top/busybox/busybox" | tr -d ' \n')" = b700 ] || die "busybox is not aarch64"
        grep -q '^CONFIG_MODVERSIONS=y' "$KDIR/.config" || die "Debian's config has no MODVERSIONS?"
        rm -rf "$kdir_top/debs" "$kdir_top/x"
        echo "$kver $debver" >"$kdir_top/.done"
fi
# Debian's arm64 Makefile picks $(DEB_HOST_GNU_TYPE)-gcc-12 when the build and host differ
kmake() { make -C "$KDIR" DEB_BUILD_ARCH=amd64 DEB_HOST_ARCH=arm64 DEB_HOST_GNU_TYPE=aarch64-linux-gnu \
        -j"$jobs" "$@"; }

# --- sources: linux-source-6.1 of the same Debian version -----------------------------------
SRC_FILES="drivers/vfio drivers/gpio/gpio-sim.c drivers/gpio/gpiolib.h kernel/irq/irq_sim.c"
ksrc_top="$cache/src/$debver"
if [ ! -e "$ksrc_top/.done" ]; then
        tarball=${TV_KERNEL_TARBALL:-}
        if [ -z "$tarball" ]; then
                have=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
                if [ "$have" = "$debver" ] && [ -r /usr/src/linux-source-6.1.tar.xz ]; then
                        tarball=/usr/src/linux-source-6.1.tar.xz
                else
                        # the installed source is another version than the image: take the image's
                        say "linux-source-6.1 installed is '${have:-none}', the image is $debver: downloading linux-source-6.1=$debver"
                        rm -rf "$cache/src/dl"
                        mkdir -p "$cache/src/dl"
                        dl "$cache/src/dl" "linux-source-6.1=$debver"
                        dpkg-deb --fsys-tarfile "$cache"/src/dl/linux-source-6.1_*.deb |
                                tar -x -C "$cache/src/dl" ./usr/src/linux-source-6.1.tar.xz || die "unpacking linux-source-6.1 failed"
                        tarball="$cache/src/dl/usr/src/linux-source-6.1.tar.xz"
                fi
        fi
        say "extracting the rig's sources from $tarball"
        rm -rf "$ksrc_top"
        mkdir -p "$ksrc_top"
        members=()
        for f in $SRC_FILES; do members+=("linux-source-6.1/$f"); done
        tar -xf "$tarball" -C "$ksrc_top" "${members[@]}" || die "extracting $SRC_FILES from $tarball failed"
        rm -rf "$cache/src/dl"
        touch "$ksrc_top/.done"
fi
KSRC="$ksrc_top/linux-source-6.1"

# --- the rig's modules ------------------------------------------------------------------------
PATCH=$(ls "$SRC"/kernel/patches/0004-*.patch 2>/dev/null | head -n1)
[ -n "$PATCH" ] || die "kernel/patches/0004-*.patch is missing"
key=$( { echo "$kver $debver $(aarch64-linux-gnu-gcc-12 --version | head -n1)"; cat "$0" "$PATCH"; } |
        sha256sum | cut -c1-16)
mdir="$cache/mod/$key"
RIG_KOS="vfio/vfio.ko vfio/vfio_virqfd.ko vfio/vfio-platform-base.ko vfio/vfio-platform.ko gpio/gpio-sim.ko"
if [ ! -e "$mdir/.done" ]; then
        say "building vfio (NOIOMMU), vfio-platform (patch $(basename "$PATCH")) and gpio-sim against $kver"
        rm -rf "$cache/mod"   # older keys: the inputs changed
        mkdir -p "$mdir/tree"
        (cd "$KSRC" && cp -r --parents drivers/vfio drivers/gpio kernel/irq "$mdir/tree/") || die "copying the sources failed"
        # stock vfio-platform-base, without patch 0004: the rig's real bind failure (ENOENT)
        mkdir -p "$mdir/stock/platform"
        cp "$mdir"/tree/drivers/vfio/platform/*.[ch] "$mdir/stock/platform/"
        printf '%s\n' 'obj-m := vfio-platform-base.o' \
                'vfio-platform-base-y := platform/vfio_platform_common.o platform/vfio_platform_irq.o' >"$mdir/stock/Kbuild"
        # git apply, as tools/kernel-check.sh: kept from taking paths relative to a repository around the cache
        (cd "$mdir/tree" && GIT_CEILING_DIRECTORIES="$mdir" git apply "$PATCH") >&2 ||
                die "$(basename "$PATCH") does not apply to $debver"
        # vfio: one directory, Kbuild of our own (Debian's config has VFIO_NOIOMMU off; the
        # Kconfig symbols these files test are set here instead)
        mkdir -p "$mdir/vfio"
        cp "$mdir"/tree/drivers/vfio/*.[ch] "$mdir/vfio/"
        mkdir -p "$mdir/vfio/platform"
        cp "$mdir"/tree/drivers/vfio/platform/*.[ch] "$mdir/vfio/platform/"
        cat >"$mdir/vfio/Kbuild" <<'EOF'
obj-m := vfio.o vfio_virqfd.o vfio-platform-base.o vfio-platform.o
vfio-y := vfio_main.o iova_bitmap.o container.o
vfio_virqfd-y := virqfd.o
vfio-platform-base-y := platform/vfio_platform_common.o platform/vfio_platform_irq.o
vfio-platform-y := platform/vfio_platform.o
ccflags-y := -DCONFIG_VFIO_NOIOMMU=1
EOF
        # gpio-sim with the interrupt simulator linked in: Debian has IRQ_SIM off, and
        # irq_sim.c's irq_to_desc() is not exported to modules; generic_handle_irq() is,
        # and runs the same handler (handle_simple_irq, set when the irq is mapped)
        mkdir -p "$mdir/gpio"
        cp "$mdir/tree/drivers/gpio/gpio-sim.c" "$mdir/gpio/gpio-sim-main.c"
        cp "$mdir/tree/drivers/gpio/gpiolib.h" "$mdir/tree/kernel/irq/irq_sim.c" "$mdir/gpio/"
        grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$mdir/gpio/irq_sim.c" ||
                die "irq_sim.c of $debver no longer calls handle_simple_irq(irq_to_desc(irqnum)): update rig-kbuild.sh"
        sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$mdir/gpio/irq_sim.c"
        cat >"$mdir/gpio/Kbuild" <<'EOF'
obj-m := gpio-sim.o
gpio-sim-y := gpio-sim-main.o irq_sim.o
EOF
        rm -rf "$mdir/tree"
        for d in vfio gpio stock; do
                extra=()   # the stock base links against our vfio, built first
                [ "$d" = stock ] && extra=(KBUILD_EXTRA_SYMBOLS="$mdir/vfio/Module.symvers")
                kmake M="$mdir/$d" "${extra[@]}" modules >"$mdir/$d.log" 2>&1 ||
                        { tail -n 40 "$mdir/$d.log" >&2; die "building $d failed (log: $mdir/$d.log)"; }
        done
        for k in $RIG_KOS stock/vfio-platform-base.ko; do
                [ -f "$mdir/$k" ] || die "$k was not built"
                modinfo -F vermagic "$mdir/$k" | grep -q "^$kver SMP " || die "$k: vermagic is not $kver"
        done
        touch "$mdir/.done"
fi
for k in $RIG_KOS; do echo "$mdir/$k"; done
# for rig-run.sh and other callers: where the rest of the kernel side is (shell assignments)
cat >"$cache/rig.env.tmp" <<ENV
RIG_KVER=$kver
RIG_DEBVER=$debver
RIG_KDIR_TOP=$kdir_top
RIG_KDIR=$KDIR
RIG_IMAGE=$kdir_top/Image
RIG_BUSYBOX=$kdir_top/busybox/busybox
RIG_MODDIR=$mdir
ENV
mv "$cache/rig.env.tmp" "$cache/rig.env"

# --- extra out-of-tree module directories ----------------------------------------------------
# a copy keyed by its content, so a source tree is never written and an unchanged one is not rebuilt
for dir in "$@"; do
        [ -d "$dir" ] || die "$dir is not a directory"
        dir=$(cd "$dir" && pwd)
        ekey=$( { echo "$key $dir"; (cd "$dir" && find . -type f ! -name '*.o' ! -name '*.ko' ! -name '*.mod' \
                ! -name '*.mod.c' ! -name '.*.cmd' ! -name 'Module.symvers' ! -name 'modules.order' -print0 |
                LC_ALL=C sort -z | xargs -0 -r sha256sum); } | sha256sum | cut -c1-16)
        edir="$cache/ext/$(basename "$dir")-$ekey"
        if [ ! -e "$edir/.done" ]; then
                say "building $dir against $kver"
                rm -rf "$cache/ext/$(basename "$dir")"-*
                mkdir -p "$edir"
                (cd "$dir" && find . \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' \) -prune -o -type f -print0 |
                        cpio -0 -pdm --quiet "$edir") || die "copying $dir failed"
                kmake M="$edir" KBUILD_EXTRA_SYMBOLS="$mdir/vfio/Module.symvers" modules >"$edir.log" 2>&1 ||
                        { tail -n 40 "$edir.log" >&2; die "building $dir failed (log: $edir.log)"; }
                find "$edir" -name '*.ko' | grep -q . || die "$dir built no .ko"
                touch "$edir/.done"
        fi
        find "$edir" -name '*.ko' | LC_ALL=C sort
done
