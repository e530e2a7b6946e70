#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 16 concurrent AssignDevice calls for one device from separate clients: exactly one succeeds.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon

for round in 1 2 3; do
        rm -f "$T"/res.*
        for i in $(seq 1 16); do
                ( if mgr AssignDevice "string:vm$i" string:uarta >"$T/res.$i" 2>&1; then echo OK >>"$T/res.$i"; fi ) &
        done
        wait $(jobs -p | grep -v "^$SIM_PID$\|^$BUS_PID$\|^$DAEMON_PID$") 2>/dev/null || true
        while [ "$(ls "$T"/res.* | wc -l)" -lt 16 ]; do sleep 0.05; done
        sleep 0.2
        wins=$(grep -l '^OK$' "$T"/res.* | wc -l)
        busy=$(grep -l 'org.tegravirt.Error.DeviceBusy' "$T"/res.* | wc -l)
        check "round $round: exactly one of 16 concurrent assigns succeeded ($wins)" test "$wins" = 1
        check "round $round: the other 15 got DeviceBusy ($busy)" test "$busy" = 15
        owner=$(sed -n 's/^device uarta .*domain=\([^ ]*\).*/\1/p' "$T/state/state")
        check "round $round: the recorded owner ($owner) is the winner" grep -q '^OK$' "$T/res.${owner#vm}"
        expect_ok UnassignDevice "string:$owner" string:uarta || not_ok "unassign $owner"
done
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
