#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kernel-glue-mutants: proves that kernel-glue executes the host proxy's glue. Each mutant is
# a copy of kernel/ with one change to bpmp-host-proxy.c (sed); kernel-glue.sh runs on it
# and must fail, at the named bpmp-glue-test case. The first two are the mutations of issue
# 12 part 3 (the reply-size bound and the zeroing of the reply buffer), restated for the
# ioctl ABI; the others delete the per-MRQ reply cap, the file's own set check, the release
# undo, the waits for transfers in flight on narrowing and on unbinding, compat_ioctl, and the
# undo of the open files' marks at unbind. The unmutated tree must pass first.
# A mutation that no longer applies (the driver changed) fails: update it here.
# Usage: mutation-check.sh [NUMBER...]   (default: all). Env as kernel-glue.sh.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$SRC/tests/lib/tap.sh"
BUILD=${TV_BUILD_DIR:-$SRC/build-tests}
DRV=kernel/drivers/firmware/tegra/bpmp-host-proxy
FILE=$DRV/bpmp-host-proxy.c

# mutant i: NAME[i], SED[i] (applied to bpmp-host-proxy.c), EXPECT[i] (a bpmp-glue-test
# case, ERE, that must then fail); only a case marked [arm32] needs the 32-bit run
NAME=() SED=() EXPECT=()
mutant() { NAME+=("$1"); SED+=("$2"); EXPECT+=("$3"); }
mutant "no tx_size/rx_size bound in XFER" \
        '/if (x\.tx_size > sizeof(x\.tx) || x\.rx_size > sizeof(x\.rx))/{N;d}' \
        "XFER rx_size 121"
mutant "no zeroing of the reply (bounce) buffer" \
        '/memset(x->rx, 0, sizeof(x->rx));/d' \
        "the rx buffer handed to the BPMP was zeroed"
mutant "no per-MRQ cap of the reply size" \
        's/msg->rx\.size = min3(x->rx_size, verdict\.rx_size, own_verdict\.rx_size);/msg->rx.size = x->rx_size;/' \
        "PING with rx_size 120: 4 bytes of reply"
mutant "the file's own sets not enforced" \
        's/err = bpmp_policy_check(&own, x->mrq,/err = 0; bpmp_policy_check(\&own, x->mrq,/' \
        "A cannot touch B's"
mutant "no undo at release" \
        's/^\([[:space:]]*\)bpmp_host_undo_marks(f, "release");/\1if (0) bpmp_host_undo_marks(f, "release");/' \
        "releasing A's file disabled 10"
mutant "no wait for transfers in flight when narrowing" \
        '/synchronize_srcu(&proxy->srcu);/d' \
        "narrowing the global set returned only after it finished"
mutant "unbinding does not wait for transfers in flight" \
        '/down_write(&proxy->unbind_lock);/d; /up_write(&proxy->unbind_lock);/d' \
        "unbinding returned only after the transfers in flight finished"
mutant "no compat_ioctl (a 32-bit VMM)" \
        '/\.compat_ioctl = compat_ptr_ioctl,/d' \
        "\\[arm32\\] VERSION: 1, 120, 256, 4"
mutant "no undo of the open files' marks at unbind" \
        's/^\([[:space:]]*\)bpmp_host_undo_open_files(proxy);/\1if (0) bpmp_host_undo_open_files(proxy);/' \
        "unbinding undid the open file's marks"

tap_require_cmd qemu-system-aarch64 aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
selected=("$@")
[ ${#selected[@]} -gt 0 ] || mapfile -t selected < <(seq 1 ${#NAME[@]})

run() { # run TREE WORKNAME [ARM32]: kernel-glue.sh's TAP in $BUILD/WORKNAME.tap, its status
        TV_GLUE_ARM32=${3:-1} TV_GLUE_WORK="$BUILD/$2" "$HERE/kernel-glue.sh" "$1" >"$BUILD/$2.tap" 2>&1
}

mkdir -p "$BUILD" || exit 1
if run "$SRC" kernel-glue-baseline; then
        ok "kernel-glue passes on the unmutated driver"
elif grep -q '^1\.\.0 # SKIP' "$BUILD/kernel-glue-baseline.tap"; then
        tap_skip_all "$(sed -n 's/^1\.\.0 # SKIP //p' "$BUILD/kernel-glue-baseline.tap")"
else
        not_ok "kernel-glue passes on the unmutated driver"
        grep -E '^(not ok|#)' "$BUILD/kernel-glue-baseline.tap" | head -n 40 | sed 's/^#*/#/'
        tap_finish
        exit 1
fi

for i in "${selected[@]}"; do
        name=${NAME[$((i - 1))]} script=${SED[$((i - 1))]} expect=${EXPECT[$((i - 1))]}
        tree="$BUILD/kernel-glue-mutant-$i/tree"
        rm -rf "$tree"
        mkdir -p "$tree/$DRV" "$tree/kernel/include/uapi/linux" || exit 1
        cp "$SRC/$DRV"/*.[ch] "$tree/$DRV/" &&
                cp "$SRC/kernel/include/uapi/linux/tegra-bpmp-host-proxy.h" "$tree/kernel/include/uapi/linux/" ||
                exit 1
        sed -i "$script" "$tree/$FILE"
        if cmp -s "$SRC/$FILE" "$tree/$FILE"; then
                not_ok "mutant $i ($name): the mutation applies to $FILE (update mutation-check.sh)"
                continue
        fi
        diff -u "$SRC/$FILE" "$tree/$FILE" | sed -n 's/^\([-+][^-+]\)/#   \1/p'
        arm32=0
        case $expect in *arm32*) arm32=1 ;; esac
        if run "$tree" "kernel-glue-mutant-$i" "$arm32"; then
                not_ok "mutant $i ($name) is caught: kernel-glue passed on it"
                continue
        fi
        out="$BUILD/kernel-glue-mutant-$i.tap"
        if grep -E "^not ok .*$expect" "$out" >/dev/null; then
                ok "mutant $i ($name) is caught by \"$expect\""
        else
                not_ok "mutant $i ($name) is caught by \"$expect\" (it failed elsewhere)"
        fi
        grep -E '^(not ok|Bail out!)' "$out" | head -n 12 | sed 's/^/#   /'
done
tap_finish
