#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs a shell script inside Debian 12's arm64 kernel under qemu-system-aarch64 (TCG):
#   rig-run.sh CACHE GUEST_SCRIPT [FILE...]
# The initramfs holds busybox (every applet in /bin), Debian's virtio_mmio.ko and configfs.ko
# and the rig's modules (rig-kbuild.sh CACHE) in /lib/modules/rig/, /lib/rig/lib.sh (helpers,
# see README.md), GUEST_SCRIPT as /rig/script.sh and every FILE in /rig/ (by its base name).
# /init mounts proc, sysfs, devtmpfs and /tmp, runs `sh /rig/script.sh` in /rig, and powers
# off. The machine: -M virt -cpu cortex-a57 -m 512 -smp 1 with two virtio-rng devices, which
# QEMU puts on the last two virtio-mmio transports, a003e00.virtio_mmio and a003c00.virtio_mmio
# (bound by virtio-mmio once the guest loads virtio_mmio; the other 30 transports are empty
# and stay unbound). /lib/modules/rig/stock/vfio-platform-base.ko is 6.1's own, unpatched.
# Prints what the script printed (nothing of the kernel's but emergencies: loglevel=1) and
# exits with the script's status; 1 if the guest did not get to the end (timeout, panic).
# Env: TV_RIG_TIMEOUT (seconds, default 300), TV_RIG_LOG (keep the whole console log there),
# TV_RIG_APPEND (more kernel command line), TV_RIG_QEMU_ARGS (more QEMU arguments, split on
# blanks), QEMU_SYSTEM_AARCH64.
set -euo pipefail
die() { echo "rig-run: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: rig-run.sh CACHE GUEST_SCRIPT [FILE...]"
HERE=$(cd "$(dirname "$0")" && pwd)
cache=$1 script=$2
shift 2
[ -f "$script" ] || die "no guest script $script"
for f in "$@"; do [ -f "$f" ] || die "no such file: $f"; done
qemu=${QEMU_SYSTEM_AARCH64:-qemu-system-aarch64}
for c in "$qemu" cpio gzip timeout; do command -v "$c" >/dev/null || die "$c not found (tools/install-deps.sh installs it)"; done
limit=${TV_RIG_TIMEOUT:-300}

mapfile -t kos < <("$HERE/rig-kbuild.sh" "$cache") || die "rig-kbuild.sh failed"
# rig-kbuild.sh ended with "$cache/rig.env"; a failure shows as no module below
[ "${#kos[@]}" -gt 0 ] || die "rig-kbuild.sh printed no module"
cache=$(cd "$cache" && pwd)
# shellcheck source=/dev/null
. "$cache/rig.env" || die "$cache/rig.env missing (rig-kbuild.sh writes it)"

T=$(mktemp -d "${TMPDIR:-/tmp}/tv-rig-run.XXXXXX")
trap 'rm -rf "$T"' EXIT

# --- the base initramfs: busybox, modules, /init, lib.sh; cached by its inputs --------------
stock="$RIG_MODDIR/stock/vfio-platform-base.ko"
bkey=$( { printf '%s\n' "$RIG_KDIR_TOP" "${kos[@]}"; sha256sum "${kos[@]}" "$stock" "$RIG_BUSYBOX"; cat "$0" "$HERE/guest-lib.sh"; } |
        sha256sum | cut -c1-16)
base="$cache/initramfs/base-$bkey.cpio.gz"
exec 8>"$cache/.initramfs-lock"
flock 8 || die "cannot lock $cache/.initramfs-lock"
if [ ! -s "$base" ]; then
        stage="$T/base"
        mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,rig,lib/modules/rig/stock,lib/rig,etc}
        cp "$RIG_BUSYBOX" "$stage/bin/busybox"
        ln -s busybox "$stage/bin/sh"
        for m in "$RIG_KDIR_TOP"/mods/*.ko "${kos[@]}"; do cp "$m" "$stage/lib/modules/rig/"; done
        cp "$stock" "$stage/lib/modules/rig/stock/"
        cp "$HERE/guest-lib.sh" "$stage/lib/rig/lib.sh"
        [ "$(id -u)" = 0 ] && mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
        cat >"$stage/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "RIG-BEGIN"
cd /rig
sh /rig/script.sh
echo "RIG-END rc=$?"
poweroff -f
sleep 10
INIT
        chmod 755 "$stage/init"
        mkdir -p "$cache/initramfs"
        rm -f "$cache"/initramfs/base-*.cpio.gz
        (cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
                gzip -6n >"$base.tmp" || die "cpio/gzip failed"
        mv "$base.tmp" "$base"
fi
flock -u 8

# --- this run's files: a second, uncompressed archive the kernel unpacks over the first ------
mkdir -p "$T/run/rig"
cp "$script" "$T/run/rig/script.sh"
for f in "$@"; do cp "$f" "$T/run/rig/"; done
(cd "$T/run" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$T/run.cpio" ||
        die "cpio failed"
# the kernel looks for a cpio header only at 4-byte aligned offsets: pad the first with zeros
cp "$base" "$T/initrd"
pad=$(( (4 - $(stat -c %s "$base") % 4) % 4 ))
head -c "$pad" /dev/zero >>"$T/initrd"
cat "$T/run.cpio" >>"$T/initrd"

log=${TV_RIG_LOG:-$T/console.log}
start=$SECONDS
rc=0
# shellcheck disable=SC2086
timeout --foreground -k 10 "$limit" "$qemu" -machine virt -cpu cortex-a57 -smp 1 -m 512 \
        -nographic -no-reboot -monitor none -serial stdio -nodefaults \
        -device virtio-rng-device -device virtio-rng-device ${TV_RIG_QEMU_ARGS:-} \
        -kernel "$RIG_IMAGE" -initrd "$T/initrd" \
        -append "console=ttyAMA0 panic=-1 loglevel=1 ${TV_RIG_APPEND:-}" \
        </dev/null >"$log" 2>&1 || rc=$?
elapsed=$((SECONDS - start))
tr -d '\r' <"$log" | sed -n '/^RIG-BEGIN$/,/^RIG-END rc=/{/^RIG-BEGIN$/d;/^RIG-END rc=/d;p}'
end=$(tr -d '\r' <"$log" | sed -n 's/^RIG-END rc=\([0-9]*\)$/\1/p' | tail -n1)
echo "# rig-run: qemu exit $rc after ${elapsed}s" >&2
if [ -z "$end" ]; then
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
                echo "rig-run: timed out after ${limit}s; last console lines:" >&2
        else
                echo "rig-run: the guest script did not finish (qemu exit $rc); last console lines:" >&2
        fi
        tr -d '\r' <"$log" | tail -n 40 >&2
        exit 1
fi
exit "$end"
