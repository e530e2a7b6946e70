#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The in-process libfdt patch step (tv_guest_dtb_build) against the seed documents'
# pipeline (dtc -I dtb -O dts, a text edit inserting the same nodes, dtc -I dts -O dtb),
# both producing the same tree (checked with dtc -s) from the same QEMU dumpdtb.
# Prints per-run times and the ratio measured in this run (target <= 0.02).
#   bench/bench-guest-dtb.sh [BUILDDIR] [N]    (default build-bench, 20 runs)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-bench}
N=${2:-20}
DEVS=(uarta gpio-main uarti)
[ -d "$B" ] || meson setup "$B" "$SRC" --buildtype=release >/dev/null
meson compile -C "$B" tests/unit/gen-guest-dtb >/dev/null
GEN="$B/tests/unit/gen-guest-dtb"
CAT="$SRC/catalog/tegra234.xml"
W=$(mktemp -d /tmp/tv-bench-gdtb.XXXXXX)
trap 'rm -rf "$W"' EXIT

# A real dump (1 MiB, like the daemon will see) when QEMU is here, else the packed one.
if command -v qemu-system-aarch64 >/dev/null &&
        qemu-system-aarch64 -machine virt,dumpdtb="$W/base.dtb" -cpu cortex-a57 -m 512 -nodefaults \
                -nographic >/dev/null 2>&1; then
        what="fresh QEMU dumpdtb"
else
        cp "$SRC/tests/unit/guest-dtb/virt-7.2.dtb" "$W/base.dtb"
        what="tests/unit/guest-dtb/virt-7.2.dtb"
fi
echo "base: $what, $(stat -c %s "$W/base.dtb") bytes; devices: ${DEVS[*]}; $N runs each"

# libfdt side: one build to get the result, then N timed in-process builds.
"$GEN" --time "$N" "$W/base.dtb" "$W/libfdt.dtb" "$CAT" 0x090c0000 "${DEVS[@]}" | grep '^run' >"$W/libfdt.times"

# The nodes the text edit inserts: taken (untimed) from the libfdt result, so both
# sides produce the same tree. Top-level /bpmp and /aliases, and the bus's children.
dtc -q -I dtb -O dts -o "$W/libfdt.dts" "$W/libfdt.dtb"
awk '
        /^\t(bpmp|aliases) \{$/ { top = 1 }
        top { print > "'"$W/top.frag"'" }
        top && /^\t\};$/ { top = 0 }
        /^\tplatform(-bus)?@c000000 \{$/ { bus = 1; next }
        bus && /^\t\t[a-z0-9,_-]+@[0-9a-f]+ \{$/ { child = 1 }
        bus && child { print > "'"$W/bus.frag"'" }
        bus && child && /^\t\t\};$/ { child = 0 }
        bus && /^\t\};$/ { bus = 0 }
' "$W/libfdt.dts"

now() { date +%s%N; }
: >"$W/dtc.times"
for i in $(seq "$N"); do
        t0=$(now)
        dtc -q -I dtb -O dts -o "$W/t.dts" "$W/base.dtb"
        awk -v top="$W/top.frag" -v bus="$W/bus.frag" '
                { line[NR] = $0 }
                END {
                        for (i = 1; i <= NR; i++) {
                                if (line[i] ~ /^\tplatform(-bus)?@c000000 \{$/) inbus = 1
                                if (inbus && line[i] ~ /^\t\};$/) {
                                        while ((getline l < bus) > 0) print l
                                        inbus = 0
                                }
                                if (line[i] == "};")
                                        while ((getline l < top) > 0) print l
                                print line[i]
                        }
                }' "$W/t.dts" >"$W/t2.dts"
        dtc -q -I dts -O dtb -o "$W/dtc.dtb" "$W/t2.dts"
        t1=$(now)
        echo "run $i: $(((t1 - t0) / 1000)) us" >>"$W/dtc.times"
done

# Same tree both ways?
dtc -q -s -I dtb -O dts "$W/libfdt.dtb" >"$W/a.dts"
dtc -q -s -I dtb -O dts "$W/dtc.dtb" >"$W/b.dts"
if ! diff -u "$W/a.dts" "$W/b.dts" >"$W/diff"; then
        echo "the two pipelines disagree:"; head -40 "$W/diff"; exit 1
fi
echo "both pipelines give the same tree ($(grep -c '@' "$W/a.dts") nodes with a unit address)"

paste -d' ' <(sed 's/^run \([0-9]*\): \(.*\) us/\1 \2/' "$W/libfdt.times") \
        <(sed 's/^run [0-9]*: \(.*\) us/\1/' "$W/dtc.times") |
        awk '{ printf "run %2d: libfdt %8.1f us   dtc pipeline %8.1f us\n", $1, $2, $3; a += $2; b += $3 }
             END { printf "mean: libfdt %.1f us, dtc pipeline %.1f us; ratio %.4f (target <= 0.02)\n", a / NR, b / NR, a / b }'
