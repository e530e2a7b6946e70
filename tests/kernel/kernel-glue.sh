#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kernel-glue: executes the Tegra BPMP host proxy (kernel/drivers/firmware/tegra/
# bpmp-host-proxy/, its glue: probe, /dev/bpmp-host ioctls, per-file sets and release undo,
# sysfs, unbind) in Debian's arm64 kernel under TCG. Builds the test module of module/ (the
# driver's own sources with tegra_bpmp_get/put/transfer replaced by a simulated BPMP)
# against Debian's kbuild tree (tests/rig/rig-kbuild.sh), builds bpmp-glue-test statically
# for aarch64 (and armhf: a 32-bit VMM through compat_ioctl), boots the rig
# (tests/rig/rig-run.sh) with guest.sh and prints its TAP.
# Usage: kernel-glue.sh [TREE]  TREE: where kernel/ is taken from (default: this source
# tree; mutation-check.sh passes mutated copies).
# Env: TV_BUILD_DIR (work and cache under it; default build-tests), TV_RIG_CACHE (the rig's
# cache, default $TV_BUILD_DIR/rig-cache), TV_GLUE_WORK (this run's work directory),
# TV_GLUE_ARM32=0 (leave out the 32-bit run).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$SRC/tests/lib/tap.sh"
TREE=$(cd "${1:-$SRC}" && pwd) || exit 1
BUILD=${TV_BUILD_DIR:-$SRC/build-tests}
CACHE=${TV_RIG_CACHE:-$BUILD/rig-cache}
WORK=${TV_GLUE_WORK:-$BUILD/kernel-glue}
DRV=kernel/drivers/firmware/tegra/bpmp-host-proxy
UAPI=kernel/include/uapi/linux/tegra-bpmp-host-proxy.h

tap_require_cmd qemu-system-aarch64 aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc apt-get cpio
mkdir -p "$WORK" "$CACHE" || exit 1

fail() { # fail WHAT [LOG]: one failure and the plan
        not_ok "$1"
        [ -n "${2:-}" ] && [ -s "$2" ] && tail -n 40 "$2" | sed 's/^/#   /'
        tap_finish
        exit 1
}

# the kernel side (Debian's image and kbuild tree, downloaded once): missing means no apt
if ! "$SRC/tests/rig/rig-kbuild.sh" "$CACHE" >/dev/null 2>"$WORK/rig-kbuild.log"; then
        sed 's/^/# /' "$WORK/rig-kbuild.log" | tail -n 20
        tap_skip_all "the rig's kernel (tests/rig/rig-kbuild.sh) is not available"
fi

# the module's directory: module/ plus the driver's sources under src/, laid out as in the
# tree so that its relative includes work (rig-kbuild.sh builds a copy of the directory)
# (named after WORK, without "-": rig-kbuild.sh removes older builds named NAME-*)
stage=$WORK/glue_$(basename "$WORK" | tr -c 'A-Za-z0-9\n' _)
rm -rf "$stage"
mkdir -p "$stage/src/$DRV" "$stage/src/$(dirname "$UAPI")" || exit 1
if ! cp "$HERE"/module/Makefile "$HERE"/module/*.c "$stage/" ||
        ! cp "$TREE/$DRV"/*.[ch] "$stage/src/$DRV/" || ! cp "$TREE/$UAPI" "$stage/src/$UAPI"; then
        fail "copy the driver's sources from $TREE"
fi
if ! ko=$("$SRC/tests/rig/rig-kbuild.sh" "$CACHE" "$stage" 2>"$WORK/module-build.log" | grep '/bpmp-host-glue\.ko$'); then
        fail "build the test module against Debian's arm64 kbuild tree" "$WORK/module-build.log"
fi
if grep -E '(warning|error):' "$CACHE/ext/$(basename "$stage")"-*.log >"$WORK/module-diag.log" 2>/dev/null; then
        fail "the test module builds without compiler diagnostics" "$WORK/module-diag.log"
fi
if ! aarch64-linux-gnu-gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static \
        -o "$WORK/bpmp-glue-test" "$HERE/bpmp-glue-test.c" >"$WORK/test-build.log" 2>&1; then
        fail "build bpmp-glue-test (static aarch64)" "$WORK/test-build.log"
fi
# and for a 32-bit VMM (compat_ioctl; Debian's arm64 kernel has CONFIG_COMPAT)
progs=("$WORK/bpmp-glue-test")
[ "${TV_GLUE_ARM32:-1}" = 0 ] || progs+=("$WORK/bpmp-glue-test32")
if [ ${#progs[@]} -gt 1 ] && ! arm-linux-gnueabihf-gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static \
        -o "$WORK/bpmp-glue-test32" "$HERE/bpmp-glue-test.c" >"$WORK/test32-build.log" 2>&1; then
        fail "build bpmp-glue-test32 (static armhf)" "$WORK/test32-build.log"
fi

# init_on_alloc=0 and a fixed stack offset: a buffer the driver forgets to zero holds what
# the previous transfer or the stack painter left, not zeros the kernel provided
TV_RIG_APPEND="init_on_alloc=0 randomize_kstack_offset=off ${TV_RIG_APPEND:-}" \
        "$SRC/tests/rig/rig-run.sh" "$CACHE" "$HERE/guest.sh" "$ko" "${progs[@]}" \
        >"$WORK/guest.tap" 2>"$WORK/guest.err"
rc=$?
cat "$WORK/guest.tap"
if ! grep -q '^1\.\.[0-9]' "$WORK/guest.tap"; then
        sed 's/^/# /' "$WORK/guest.err"
        # the guest's results without a plan: end them with a failure and one
        n=$(grep -c -E '^(ok|not ok)' "$WORK/guest.tap")
        echo "not ok - the guest finished (rig-run status $rc)"
        echo "1..$((n + 1))"
        exit 1
fi
exit "$rc"
