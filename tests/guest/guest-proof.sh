#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest proof: boots Debian 12's real arm64 kernel under qemu-system-aarch64 (TCG) with the
# DTB gen-guest-dtb wrote for uarta, and asserts what the guest sees in /proc/device-tree.
# Environment: TV_BUILD_DIR, TV_SOURCE_DIR (set by meson); TV_GUEST_CACHE overrides the
# download cache ($TV_BUILD_DIR/guest-cache); TV_GUEST_TIMEOUT the per-boot limit.
set -euo pipefail
: "${TV_BUILD_DIR:?}" "${TV_SOURCE_DIR:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${TV_GUEST_CACHE:-$TV_BUILD_DIR/guest-cache}
GEN="$TV_BUILD_DIR/tests/unit/gen-guest-dtb"
CATALOG="$TV_SOURCE_DIR/catalog/tegra234.xml"
BPMP_BASE=0x090c0000
UART_GPA=0xc000000
UART_SIZE=0x10000
QEMU=${QEMU_SYSTEM_AARCH64:-qemu-system-aarch64}

source "$TV_SOURCE_DIR/tests/lib/tap.sh"
tap_require_cmd "$QEMU"

T=$(mktemp -d "${TMPDIR:-/tmp}/tv-guest-proof.XXXXXX")
trap 'rm -rf "$T"' EXIT

# tvg KEY: the value of "TVG KEY=value" in the current boot's report ($OUT)
tvg() { sed -n "s/^TVG $1=//p" "$OUT" | head -n1; }
same() { # same HEX1 HEX2: numerically equal
        [ -n "$1" ] && [ -n "$2" ] && [ "$(($1))" = "$(($2))" ] 2>/dev/null
}
# the guest-physical address of the serial node's reg, through the platform bus ranges
uart_gpa() { # prints "ADDR SIZE" as hex
        local pac psc rac node reg ranges
        pac=$(($(tvg platform-bus-address-cells | cut -d' ' -f1)))
        psc=$(($(sed -n 's/.*platform-bus-size-cells=//p' "$OUT" | head -n1)))
        rac=$(($(tvg root-address-cells | cut -d' ' -f1)))
        node=$1
        reg=$(sed -n "s/^TVG node $node reg=//p" "$OUT" | head -n1)
        ranges=$(tvg platform-bus-ranges)
        python3 - "$pac" "$psc" "$rac" "$reg" "$ranges" <<'PY'
import sys
pac, psc, rac = (int(x) for x in sys.argv[1:4])
reg = [int(x, 16) for x in sys.argv[4].split()]
def num(cells):
    v = 0
    for c in cells:
        v = (v << 32) | c
    return v
addr, size = num(reg[:pac]), num(reg[pac:pac + psc])
rng = sys.argv[5].split()
if rng == ["(empty)"]:  # identity mapping
    print(hex(addr), hex(size)); sys.exit(0)
r = [int(x, 16) for x in rng]
n = pac + rac + psc
for i in range(0, len(r) - n + 1, n):
    child, parent, length = num(r[i:i + pac]), num(r[i + pac:i + pac + rac]), num(r[i + pac + rac:i + n])
    if child <= addr < child + length:
        print(hex(parent + addr - child), hex(size)); sys.exit(0)
print("unmapped", hex(size))
PY
}

# without the guest kernel (not cached, and apt-get cannot fetch it here) the test skips
"$HERE/fetch-guest.sh" "$CACHE" >"$T/fetch.out" 2>"$T/fetch.err" ||
        tap_skip_all "no guest kernel: $(tail -n1 "$T/fetch.err")"
ok "fetch Debian 12 arm64 kernel and busybox-static into $CACHE"
KERNEL=$(sed -n 's/^KERNEL=//p' "$T/fetch.out" 2>/dev/null || true)
check "build the initramfs" bash -c '"$0" "$1" >/dev/null' "$HERE/mkinitramfs.sh" "$CACHE"
INITRD="$CACHE/initramfs.cpio.gz"
check "gen-guest-dtb is built at $GEN" test -x "$GEN"
check "$QEMU is installed" bash -c 'command -v "$0" >/dev/null' "$QEMU"

for combo in "1 512" "4 512" "1 5120"; do
        read -r vcpus mem <<<"$combo"
        tag="${vcpus} vCPU/${mem} MiB"
        base="$T/base-$vcpus-$mem.dtb"
        dtb="$T/guest-$vcpus-$mem.dtb"
        OUT="$T/tvg-$vcpus-$mem.txt"
        : >"$OUT"
        if ! "$QEMU" -machine "virt,dumpdtb=$base" -cpu cortex-a57 -smp "$vcpus" -m "$mem" \
                -nographic -nodefaults >"$T/dump.log" 2>&1 || [ ! -s "$base" ]; then
                not_ok "$tag: dump the virt base DTB"; sed 's/^/# /' "$T/dump.log"; continue
        fi
        ok "$tag: dump the virt base DTB"
        if ! [ -x "$GEN" ] || ! "$GEN" "$base" "$dtb" "$CATALOG" "$BPMP_BASE" uarta >"$T/gen.log" 2>&1 ||
                [ ! -s "$dtb" ]; then
                not_ok "$tag: gen-guest-dtb writes the guest DTB for uarta"
                [ -s "$T/gen.log" ] && sed 's/^/# /' "$T/gen.log"
                continue
        fi
        ok "$tag: gen-guest-dtb writes the guest DTB for uarta"
        start=$SECONDS
        if ! TV_GUEST_LOG="$T/console-$vcpus-$mem.log" "$HERE/boot-guest.sh" \
                "$KERNEL" "$INITRD" "$dtb" "$vcpus" "$mem" >"$OUT" 2>"$T/boot.err"; then
                not_ok "$tag: the Debian kernel boots and the guest reports"
                sed 's/^/# /' "$T/boot.err"
                continue
        fi
        ok "$tag: the Debian kernel boots and the guest reports ($((SECONDS - start)) s)"
        sed 's/^/# /' "$OUT"

        check "$tag: /bpmp compatible is nvidia,tegra234-bpmp, nvidia,tegra186-bpmp" \
                test "$(tvg bpmp-compatible)" = "nvidia,tegra234-bpmp,nvidia,tegra186-bpmp"
        check "$tag: /bpmp virtual-pa is $BPMP_BASE" same "$(tvg bpmp-virtual-pa)" "$BPMP_BASE"
        pb=$(tvg platform-bus)
        check "$tag: the platform bus is there ($pb)" \
                bash -c '[[ $0 == platform-bus@c000000 || $0 == platform@c000000 ]]' "$pb"
        nodes=$(sed -n 's/^TVG node \(serial@[^ ]*\) reg=.*/\1/p' "$OUT")
        check "$tag: exactly one serial node on the platform bus (${nodes:-none})" \
                test "$(grep -c . <<<"$nodes")" = 1
        node=$(head -n1 <<<"$nodes")
        [ -n "$node" ] || node=serial@none
        read -r gpa size <<<"$(uart_gpa "$node" 2>/dev/null || echo "? ?")"
        check "$tag: $node reg is guest-physical $UART_GPA (got ${gpa:-?}, reg $(sed -n "s/^TVG node $node reg=//p" "$OUT"))" \
                same "$gpa" "$UART_GPA"
        check "$tag: $node reg size is $UART_SIZE" same "$size" "$UART_SIZE"
        check "$tag: $node interrupts are <0 0x70 4>" \
                test "$(sed -n "s/^TVG node $node interrupts=//p" "$OUT")" = "0x0 0x70 0x4"
        bpmp_ph=$(tvg bpmp-phandle)
        clk=$(sed -n "s/^TVG node $node clocks=\([^ ]*\).* resets=\([^ ]*\).*/\1 \2/p" "$OUT")
        check "$tag: $node clocks and resets point at /bpmp (phandle $bpmp_ph)" \
                test "$bpmp_ph" != - -a "$clk" = "$bpmp_ph $bpmp_ph"
        check "$tag: /aliases serial0 is /$pb/$node" test "$(tvg 'alias serial0')" = "/$pb/$node"
        check "$tag: the guest sees $vcpus CPU(s) in the DT and online" \
                test "$(tvg dt-cpus)/$(tvg cpus-online)" = "$vcpus/$vcpus"
        memreg=$(sed -n 's/^TVG memory memory@[0-9a-f]* reg=//p' "$OUT" | head -n1)
        read -r _ _ hi lo <<<"$memreg" || true
        memsize=$(( (${hi:-0} << 32) + ${lo:-0} ))
        check "$tag: the DT memory node is $mem MiB (reg $memreg)" test "$memsize" = "$((mem * 1048576))"
        kb=$(tvg memtotal-kb)
        check "$tag: MemTotal ${kb:-?} kB is between 85% and 100% of $mem MiB" \
                test "${kb:-0}" -gt $((mem * 1024 * 85 / 100)) -a "${kb:-0}" -le $((mem * 1024))
done
tap_finish
