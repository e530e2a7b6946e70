#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs dependencies and runs the whole suite: gcc -Werror build, ASan+UBSan
# build, the daemon's tests under valgrind, and every libFuzzer target briefly.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
OUT=${TV_TEST_OUT:-$SRC/build-tests}
FUZZ_SECONDS=${TV_FUZZ_SECONDS:-20}
passed=0
failed=0

tools/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

# CI has everything every test needs (root, FUSE, libvirtd, the guest kernel): a test or
# a check that would skip for want of one fails instead, saying what it lacked
export TV_TEST_NO_SKIP=1
# the rig's kernel, modules and initramfs (tests/rig) are built once for both builds
export TV_RIG_CACHE="$OUT/rig-cache"

# A skipped test counts as failed (see TV_TEST_NO_SKIP), with its reason.
count_meson() { # count_meson BUILDDIR LABEL
        local json="$1/meson-logs/testlog-full.json" p f # where --setup full logs
        if [ ! -s "$json" ]; then failed=$((failed + 1)); echo "!! $2: no test log"; return; fi
        p=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["result"] in ("OK","EXPECTEDFAIL")))' "$json")
        f=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["result"] not in ("OK","EXPECTEDFAIL")))' "$json")
        python3 -c '
import json, re, sys
for l in open(sys.argv[1]):
    t = json.loads(l)
    if t["result"] == "SKIP":
        why = re.findall(r"^1\.\.0 # SKIP (.*)$|# SKIP (.*)$", t.get("stdout") or "", re.M)
        why = "; ".join(a or b for a, b in why) or "no reason printed"
        print("!! %s: %s was skipped, which counts as a failure here (CI has what every test needs): %s"
              % (sys.argv[2], t["name"], why))' "$json" "$2"
        echo "== $2: $p passed, $f failed"
        passed=$((passed + p)); failed=$((failed + f))
}

build() { # build DIR MESON-ARGS...
        local dir="$1"; shift
        if [ ! -d "$dir" ]; then meson setup "$dir" "$@" >/dev/null; else meson setup --reconfigure "$dir" "$@" >/dev/null; fi &&
                meson compile -C "$dir"
}

echo "### gcc build (-Wall -Wextra -Werror), with our QEMU (tools/build-qemu.sh, cached in \$OUT/qemu-cache)"
if build "$OUT/gcc" --werror -Dqemu=enabled -Dqemu_cache="$OUT/qemu-cache"; then
        meson test -C "$OUT/gcc" --setup full --print-errorlogs --num-processes 2
        count_meson "$OUT/gcc" "gcc"
else
        echo "!! gcc build failed"; failed=$((failed + 1))
fi

# suite arm64 (rig, kernel-glue*) runs cross-compiled code in an arm64 guest: nothing the
# sanitizers instrument, so once (gcc) is enough
echo "### ASan+UBSan build"
if CC=clang build "$OUT/asan" --werror -Db_sanitize=address,undefined -Db_lundef=false; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                meson test -C "$OUT/asan" --setup full --print-errorlogs --num-processes 2 --no-suite arm64
        count_meson "$OUT/asan" "asan+ubsan"
else
        echo "!! asan build failed"; failed=$((failed + 1))
fi

echo "### daemon tests under valgrind"
if [ -x "$OUT/gcc/tegravirtd/tegravirtd" ]; then
        rm -f "$OUT/gcc/meson-logs/testlog-full.json"
        TV_DAEMON_WRAPPER="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
                meson test -C "$OUT/gcc" --setup full --print-errorlogs --num-processes 2 --suite integration --no-rebuild \
                integration-roundtrip integration-hostile integration-host-checks integration-concurrency integration-bpmp-proxy integration-bpmp-isolation integration-jobs integration-audit integration-hotplug integration-libvirt-drift integration-reload
        count_meson "$OUT/gcc" "valgrind"
fi

echo "### libFuzzer targets (${FUZZ_SECONDS}s each)"
# the libraries under test are instrumented too, or the fuzzers see only their harness
if CC=clang build "$OUT/fuzz" -Dfuzz=true -Dfixture=disabled -Db_lundef=false \
        -Dc_args=-fsanitize=fuzzer-no-link,address,undefined -Dc_link_args=-fsanitize=address,undefined; then
        for f in "$OUT"/fuzz/tests/fuzz/fuzz-*; do
                [ -f "$f" ] && [ -x "$f" ] || continue  # skip meson's *.p object dirs
                name=$(basename "$f"); corpus="$SRC/tests/fuzz/corpus/${name#fuzz-}"
                mkdir -p "$OUT/fuzz-work/$name"
                args=("$OUT/fuzz-work/$name"); [ -d "$corpus" ] && args+=("$corpus")
                if "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "${args[@]}" >"$OUT/$name.log" 2>&1; then
                        echo "ok - $name: $(grep -m1 'stat::number_of_executed_units' "$OUT/$name.log" | awk '{print $2}') execs"
                        passed=$((passed + 1))
                else
                        echo "not ok - $name"; tail -40 "$OUT/$name.log"; failed=$((failed + 1))
                fi
        done
else
        echo "!! fuzz build failed"; failed=$((failed + 1))
fi

echo "### kernel (arm64 W=1, checkpatch)"
tools/kernel-check.sh "$OUT/kernel" 2>&1 | tee "$OUT/kernel-check.log"
if summary=$(grep -E '^kernel: [0-9]+ passed, [0-9]+ failed$' "$OUT/kernel-check.log"); then
        read -r _ p _ f _ <<<"$summary"
        passed=$((passed + p)); failed=$((failed + f))
else
        echo "!! kernel check: no summary line"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
