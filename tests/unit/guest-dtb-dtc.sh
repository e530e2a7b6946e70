#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The patched guest DTBs decompile with dtc without a single warning, and the UARTA
# case matches the golden DTS.
#   guest-dtb-dtc.sh GEN-GUEST-DTB CATALOG.xml DATADIR
set -euo pipefail
GEN=$1 CAT=$2 DATA=$3
W=$(mktemp -d /tmp/tv-guest-dtb.XXXXXX)
trap 'rm -rf "$W"' EXIT
source "$(dirname "$0")/../lib/tap.sh"
decompiles() { # decompiles NAME BPMP DEVICE...
        local name=$1 bpmp=$2
        shift 2
        if ! "$GEN" "$DATA/virt-7.2.dtb" "$W/$name.dtb" "$CAT" "$bpmp" "$@" >/dev/null ||
                ! dtc -I dtb -O dts -o "$W/$name.dts" "$W/$name.dtb" 2>"$W/$name.err" || [ -s "$W/$name.err" ]; then
                not_ok "$name decompiles cleanly"
                diag "$(cat "$W/$name.err" 2>/dev/null || true)"
        else
                ok "$name decompiles cleanly"
        fi
}
decompiles uarta 0x090c0000 uarta
decompiles uarti 0 uarti
decompiles five 0x090d0000 gpio-aon uarta gpio-main uarti uarte
decompiles gpio 0 gpio-main gpio-aon
check "uarta matches uarta.dts" diff -u "$DATA/uarta.dts" "$W/uarta.dts"
# and back through dtc: the DTS is valid source (decompiled phandles are plain numbers,
# which dtc's phandle-reference checks flag in QEMU's own nodes too, so those are off)
if dtc -W no-clocks_property -W no-resets_property -W no-gpios_property -I dts -O dtb -o "$W/rt.dtb" \
        "$W/five.dts" 2>"$W/rt.err" && ! [ -s "$W/rt.err" ]; then
        ok "five.dts recompiles cleanly"
else
        not_ok "five.dts recompiles"; diag "$(cat "$W/rt.err")"
fi
if "$GEN" "$DATA/virt-7.2.dtb" "$W/x.dtb" "$CAT" 0x090c0000 uarta gpu 2>"$W/gpu.err"; then
        not_ok "gpu with uarta refused"
elif grep -q "HostNotReady: device 'gpu' does not fit" "$W/gpu.err"; then
        ok "gpu with uarta refused: $(cat "$W/gpu.err")"
else
        not_ok "gpu refusal message"; diag "$(cat "$W/gpu.err")"
fi
tap_finish
