#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rig test (meson test 'rig', suite 'guest'): tegravirtd's binding engine, built static for
# aarch64 (build-tools.sh), in Debian 12's arm64 kernel under TCG (rig-kbuild.sh, rig-run.sh)
# against the real driver core, vfio in no-IOMMU mode and vfio-platform with patch 0004. What
# the guest asserts: rig-guest.sh. Its results come through as this test's TAP lines.
# Environment: TV_BUILD_DIR, TV_SOURCE_DIR (meson); TV_RIG_CACHE (default
# $TV_BUILD_DIR/rig-cache: kernel, kbuild tree, modules, initramfs, tools; safe to delete).
set -euo pipefail
: "${TV_BUILD_DIR:?}" "${TV_SOURCE_DIR:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${TV_RIG_CACHE:-$TV_BUILD_DIR/rig-cache}
source "$TV_SOURCE_DIR/tests/lib/tap.sh"
tap_require_cmd "${QEMU_SYSTEM_AARCH64:-qemu-system-aarch64}" aarch64-linux-gnu-gcc aarch64-linux-gnu-gcc-12 \
        cpio gzip dpkg-deb flock make git modinfo
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || tap_skip_all "needs libc6-dev-arm64-cross (tools/install-deps.sh installs it)"

T=$(mktemp -d "${TMPDIR:-/tmp}/tv-rig-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
start=$SECONDS

# the kernel side first: without it (no arm64 packages reachable, nothing cached) the test skips
if ! "$HERE/rig-kbuild.sh" "$CACHE" >"$T/kos" 2>"$T/kbuild.err"; then
        tail -n 20 "$T/kbuild.err" | sed 's/^/# /'
        tap_skip_all "no rig kernel: $(tail -n1 "$T/kbuild.err")"
fi
ok "Debian's arm64 kernel, its kbuild tree and the rig's modules ($((SECONDS - start)) s so far)"
check "the engine and the vfio user program cross-compile (static aarch64, -Werror)" \
        bash -c '"$0" "$1" >"$2"' "$HERE/build-tools.sh" "$CACHE/tools" "$T/tools"
mapfile -t tools <"$T/tools"
[ "${#tools[@]}" = 2 ] || { not_ok "build-tools.sh printed two programs"; tap_finish; exit 1; }

rc=0
# the kernel rig-kbuild.sh just chose: rig-run.sh need not ask apt again
TV_RIG_KVER=$(sed -n 's/^RIG_KVER=//p' "$CACHE/rig.env")
export TV_RIG_KVER
"$HERE/rig-run.sh" "$CACHE" "$HERE/rig-guest.sh" "${tools[@]}" >"$T/guest.out" 2>"$T/guest.err" || rc=$?
# the guest's numbered results, renumbered as this test's (tap.sh counts them)
plan=""
while IFS= read -r line; do
        case $line in
        "ok "*) ok "guest: ${line#ok * - }" ;;
        "not ok "*) not_ok "guest: ${line#not ok * - }" ;;
        "1.."*) plan=${line#1..} ;;
        "#"*) echo "$line" ;;
        *) echo "# $line" ;;
        esac
done <"$T/guest.out"
sed 's/^/# /' "$T/guest.err"
results=$(grep -cE '^(not )?ok ' "$T/guest.out" || true)
check "the guest ran to its end (plan 1..$plan, $results results, rig-run exit $rc)" \
        test -n "$plan" -a "$plan" = "$results" -a "$rc" = 0
diag "rig test took $((SECONDS - start)) s"
tap_finish
