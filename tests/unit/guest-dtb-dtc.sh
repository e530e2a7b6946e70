#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The patched guest DTBs decompile with dtc without a single warning, and the UARTA
# case matches the golden DTS.
#   guest-dtb-dtc.sh GEN-GUEST-DTB CATALOG.xml DATADIR
set -euo pipefail
GEN=$1 CAT=$2 DATA=$3
W=$(mktemp -d /tmp/tv-guest-dtb.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail=0 n=0
check() { # check NAME BPMP DEVICE...
        local name=$1 bpmp=$2
        shift 2
        n=$((n + 1))
        if ! "$GEN" "$DATA/virt-7.2.dtb" "$W/$name.dtb" "$CAT" "$bpmp" "$@" >/dev/null ||
                ! dtc -I dtb -O dts -o "$W/$name.dts" "$W/$name.dtb" 2>"$W/$name.err" || [ -s "$W/$name.err" ]; then
                echo "not ok $n - $name decompiles cleanly"
                cat "$W/$name.err" 2>/dev/null || true
                fail=1
        else
                echo "ok $n - $name decompiles cleanly"
        fi
}
check uarta 0x090c0000 uarta
check uarti 0 uarti
check five 0x090d0000 gpio-aon uarta gpio-main uarti uarte
check gpio 0 gpio-main gpio-aon
n=$((n + 1))
if diff -u "$DATA/uarta.dts" "$W/uarta.dts"; then echo "ok $n - uarta matches uarta.dts"; else echo "not ok $n - uarta.dts"; fail=1; fi
# and back through dtc: the DTS is valid source (decompiled phandles are plain numbers,
# which dtc's phandle-reference checks flag in QEMU's own nodes too, so those are off)
n=$((n + 1))
if dtc -W no-clocks_property -W no-resets_property -W no-gpios_property -I dts -O dtb -o "$W/rt.dtb" \
        "$W/five.dts" 2>"$W/rt.err" && ! [ -s "$W/rt.err" ]; then
        echo "ok $n - five.dts recompiles cleanly"
else
        echo "not ok $n - five.dts recompiles"; cat "$W/rt.err"; fail=1
fi
n=$((n + 1))
if "$GEN" "$DATA/virt-7.2.dtb" "$W/x.dtb" "$CAT" 0x090c0000 uarta gpu 2>"$W/gpu.err"; then
        echo "not ok $n - gpu with uarta refused"; fail=1
elif grep -q "HostNotReady: device 'gpu' does not fit" "$W/gpu.err"; then
        echo "ok $n - gpu with uarta refused: $(cat "$W/gpu.err")"
else
        echo "not ok $n - gpu refusal message"; cat "$W/gpu.err"; fail=1
fi
echo "1..$n"
exit $fail
