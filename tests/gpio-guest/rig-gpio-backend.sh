#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 14: tegravirt-gpio-backend's real uAPI path. The backend, cross-compiled static for
# aarch64, runs in the rig (tests/rig: Debian 12's arm64 kernel under TCG) on a gpio-sim chip,
# i.e. Linux 6.1's own gpiolib-cdev; gpio-vu-client (tests/lib/vu-front) plays QEMU and the
# guest's driver; gpio-sim's sysfs (value, pull) and tvgpio-guest's line info are the host
# side. rig-gpio-guest.sh is what runs in the guest; its TAP results become this test's.
# It also prints bench/bench-gpio-backend.c's figure on the real chardev (a diagnostic line
# "# rig bench: ..."; TV_RIG_GPIO_BENCH_ITER requests, default 300; 0 skips it).
# Env: TV_RIG_CACHE (default <builddir>/rig-cache), QEMU_SYSTEM_AARCH64.
set -euo pipefail
: "${TV_BUILD_DIR:?}" "${TV_SOURCE_DIR:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$TV_SOURCE_DIR
CACHE=${TV_RIG_CACHE:-$TV_BUILD_DIR/rig-cache}
source "$SRC/tests/lib/tap.sh"
tap_require_cmd "${QEMU_SYSTEM_AARCH64:-qemu-system-aarch64}" aarch64-linux-gnu-gcc cpio gzip dpkg-deb flock make
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || tap_skip_all "needs libc6-dev-arm64-cross (tools/install-deps.sh installs it)"
T=$(mktemp -d "${TMPDIR:-/tmp}/tv-rig-gpio.XXXXXX")
trap 'rm -rf "$T"' EXIT
start=$SECONDS

if ! "$HERE/build-guest.sh" "$CACHE" >"$T/guest-bits" 2>"$T/build.err"; then
        tail -n 20 "$T/build.err" | sed 's/^/# /'
        not_ok "the rig kernel and tvgpio-guest build"; tap_finish; exit 1
fi
TOOL=$(sed -n 's/^TOOL=//p' "$T/guest-bits")
# the backend and the client, static aarch64, cached by their sources
CC=${TV_RIG_CC:-aarch64-linux-gnu-gcc}
CFLAGS="-static -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wno-unused-parameter"
BE_SRCS="backend/tegravirt-gpio-backend.c backend/virtio-gpio.c backend/gpio-lines.c backend/gpio-state.c backend/vhost-user.c
        backend/virtqueue.c backend/confine.c common/tv-gpio-cdev.c common/tv-log.c common/tv-validate.c"
CL_SRCS="tests/integration/gpio-vu-client.c tests/lib/vu-front.c"
BENCH_SRCS="bench/bench-gpio-backend.c backend/gpio-lines.c common/tv-gpio-cdev.c tests/lib/vu-front.c"
key=$( { echo "$CC $CFLAGS"; "$CC" --version | head -n1; cd "$SRC" && cat $BE_SRCS $CL_SRCS $BENCH_SRCS backend/*.h common/*.h tests/lib/vu-front.h; } |
        sha256sum | cut -c1-16)
out="$CACHE/gpio-rig-tools/$key"
exec 7>"$CACHE/.gpio-guest-lock" # the cache is shared with the other gpio-guest tests
flock 7
if [ ! -x "$out/bench-gpio-backend" ]; then
        rm -rf "$CACHE/gpio-rig-tools"
        mkdir -p "$out"
        inc=(-I"$SRC/backend" -I"$SRC/common" -I"$SRC/tests/lib" -I"$TV_BUILD_DIR")
        # shellcheck disable=SC2086
        (cd "$SRC" && "$CC" $CFLAGS "${inc[@]}" -o "$out/tegravirt-gpio-backend" $BE_SRCS) 2> >(grep -v "requires at runtime" >&2) &&
                (cd "$SRC" && "$CC" $CFLAGS "${inc[@]}" -o "$out/gpio-vu-client" $CL_SRCS) &&
                (cd "$SRC" && "$CC" $CFLAGS "${inc[@]}" -o "$out/bench-gpio-backend" $BENCH_SRCS) ||
                { not_ok "tegravirt-gpio-backend and gpio-vu-client cross-compile (static aarch64)"; tap_finish; exit 1; }
fi
flock -u 7
ok "the rig kernel, tvgpio-guest, and tegravirt-gpio-backend, gpio-vu-client, bench-gpio-backend static for aarch64 ($((SECONDS - start)) s)"

rc=0
TV_RIG_KVER=$(sed -n 's/^RIG_KVER=//p' "$CACHE/rig.env")
export TV_RIG_KVER
# the guest script reads the kernel command line for the bench's request count
export TV_RIG_APPEND="tvbench=${TV_RIG_GPIO_BENCH_ITER:-300}"
"$SRC/tests/rig/rig-run.sh" "$CACHE" "$HERE/rig-gpio-guest.sh" "$out/tegravirt-gpio-backend" "$out/gpio-vu-client" \
        "$out/bench-gpio-backend" "$TOOL" >"$T/guest.out" 2>"$T/guest.err" || rc=$?
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
diag "took $((SECONDS - start)) s"
tap_finish
