#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots a QEMU virt aarch64 guest (TCG) with the given kernel, initramfs and DTB and prints
# the "TVG ..." lines its /init writes to the serial console.
# Usage: boot-guest.sh KERNEL INITRD DTB VCPUS MEM_MB
# Env: TV_GUEST_TIMEOUT (seconds, default 240), TV_GUEST_LOG (keep the full console log there)
set -euo pipefail
die() { echo "boot-guest: $*" >&2; exit 1; }
[ $# -eq 5 ] || die "usage: boot-guest.sh KERNEL INITRD DTB VCPUS MEM_MB"
kernel=$1 initrd=$2 dtb=$3 vcpus=$4 mem=$5
for f in "$kernel" "$initrd" "$dtb"; do [ -s "$f" ] || die "missing or empty: $f"; done
qemu=${QEMU_SYSTEM_AARCH64:-qemu-system-aarch64}
command -v "$qemu" >/dev/null || die "$qemu not found"
limit=${TV_GUEST_TIMEOUT:-240}

log=${TV_GUEST_LOG:-}
tmplog=""
if [ -z "$log" ]; then
        tmplog=$(mktemp "${TMPDIR:-/tmp}/tv-guest-log.XXXXXX")
        log=$tmplog
fi
cleanup() { [ -z "$tmplog" ] || rm -f "$tmplog"; }
trap cleanup EXIT

start=$SECONDS
rc=0
timeout --foreground -k 10 "$limit" "$qemu" -machine virt -cpu cortex-a57 -smp "$vcpus" -m "$mem" \
        -nographic -no-reboot -monitor none -serial stdio -nodefaults \
        -kernel "$kernel" -initrd "$initrd" -dtb "$dtb" \
        -append "console=ttyAMA0 panic=-1 clk_ignore_unused pd_ignore_unused" \
        </dev/null >"$log" 2>&1 || rc=$?
elapsed=$((SECONDS - start))
tr -d '\r' <"$log" | grep '^TVG ' || true
echo "# boot ${vcpus} vCPU ${mem} MiB: qemu exit $rc after ${elapsed}s" >&2
if [ $rc = 124 ] || [ $rc = 137 ]; then
        echo "boot-guest: timed out after ${limit}s; last console lines:" >&2
        tr -d '\r' <"$log" | tail -n 30 >&2
        exit 1
fi
if ! tr -d '\r' <"$log" | grep -q '^TVG end'; then
        echo "boot-guest: the guest did not finish its report (qemu exit $rc); last console lines:" >&2
        tr -d '\r' <"$log" | tail -n 30 >&2
        exit 1
fi
[ $rc = 0 ] || die "qemu exited with $rc"
