#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GPIO line groups: Device1 shows their lines, they are assigned like devices, a controller
# and its lines never go to two places (refusals name the other domain), PrepareDomain refuses
# lines the host uses and otherwise starts the GPIO backend on them (its lifecycle:
# gpio-backend-lifecycle.sh), and the record survives a restart and a catalog reload.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon

P=/org/tegravirt/device
prop() { busctl --system get-property org.tegravirt "$P/$1" org.tegravirt.Device1 "$2"; }
check "header-pin7 is a Device1 object of kind gpio-lines" test "$(prop header_2dpin7 Kind)" = 's "gpio-lines"'
check "  ... its Controller is gpio-main" test "$(prop header_2dpin7 Controller)" = 's "gpio-main"'
check "  ... its Lines: offset 106, guest name header-7, host name PQ.06" \
        test "$(prop header_2dpin7 Lines)" = 'a(uss) 1 106 "header-7" "PQ.06"'
check "  ... no platform device, no IOMMU group" \
        bash -c "[ \"\$(busctl --system get-property org.tegravirt $P/header_2dpin7 org.tegravirt.Device1 PlatformId)\" = 's \"\"' ] &&
                 [ \"\$(busctl --system get-property org.tegravirt $P/header_2dpin7 org.tegravirt.Device1 IommuGroup)\" = 'i -1' ]"
check "header-aon lists six AON lines, header pin 16 (PBB.01 = 9) first" \
        bash -c "busctl --system get-property org.tegravirt $P/header_2daon org.tegravirt.Device1 Lines | grep -q '^a(uss) 6 9 \"header-16\" \"PBB.01\" '"
check "a device's Lines are empty and its Controller is \"\"" \
        bash -c "[ \"\$(busctl --system get-property org.tegravirt $P/gpio_2dmain org.tegravirt.Device1 Lines)\" = 'a(uss) 0' ]"

check "tegravirtctl list shows the line groups" bash -c "'$TV_CTL_BIN' list | grep -q '^header-pin7 .*gpio-lines .*available'"
check "tegravirtctl status header-pin7: controller and lines" bash -c "
        out=\$('$TV_CTL_BIN' status header-pin7) && grep -q '^ *Controller: gpio-main\$' <<<\"\$out\" &&
        grep -q '^ *Lines: header-7: line 106 (PQ.06)\$' <<<\"\$out\""
check "tegravirtctl --json status header-aon: the lines in the guest's order" python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.check_output(['$TV_CTL_BIN', '--json', 'status', 'header-aon']))
sys.exit(0 if d['controller'] == 'gpio-aon' and d['platform_id'] == '' and d['lines'][0] == {'offset': 9, 'name': 'header-16', 'host_name': 'PBB.01'} and len(d['lines']) == 6 else 1)"
check "AssignDevice vm1 header-pin7" expect_ok AssignDevice string:vm1 string:header-pin7
check "  ... State assigned, Domain vm1" bash -c "[ \"\$(busctl --system get-property org.tegravirt $P/header_2dpin7 org.tegravirt.Device1 State)\" = 's \"assigned\"' ] &&
                 [ \"\$(busctl --system get-property org.tegravirt $P/header_2dpin7 org.tegravirt.Device1 Domain)\" = 's \"vm1\"' ]"
check "  ... recorded with the controller's platform id" grep -q '^device header-pin7 platform-id=lines:2200000.gpio domain=vm1 phase=none ' "$T/state/state"
listed() { mgr ListAssignments | grep -q header-pin7; }
check "  ... listed by ListAssignments" listed
check "assigning it again to vm1 succeeds" expect_ok AssignDevice string:vm1 string:header-pin7
check "the whole controller for vm2 -> DeviceBusy" expect_error DeviceBusy AssignDevice string:vm2 string:gpio-main
check "  ... naming vm1 and the line group" grep -q "lines of gpio-main are assigned to domain vm1 (line group header-pin7)" <<<"$LAST_ERROR"
check "  ... the controller stays available" test "$(prop gpio_2dmain Domain)" = 's ""'
check "a group sharing line 106 for vm2 -> DeviceBusy" expect_error DeviceBusy AssignDevice string:vm2 string:header-main
check "  ... naming the line, the group and vm1" grep -q "line 106 (header-7) of gpio-main is in line group header-pin7, assigned to domain vm1" <<<"$LAST_ERROR"
check "the same for vm1 itself -> InvalidArgument" expect_error InvalidArgument AssignDevice string:vm1 string:header-main
check "lines of the other controller for vm2" expect_ok AssignDevice string:vm2 string:header-aon
check "header-pin7 for vm2 -> DeviceBusy naming vm1" expect_error DeviceBusy AssignDevice string:vm2 string:header-pin7
check "  ... (assigned to domain vm1)" grep -q "header-pin7 is assigned to domain vm1" <<<"$LAST_ERROR"

# host hazards first (GPIO uAPI line info on /dev/gpiochip0: the fixture's simulated chip)
sim "gpio-use 0 106 regulator-vdd-fan"
check "a line the host uses: PrepareDomain vm1 -> DeviceBusy" expect_error DeviceBusy PrepareDomain string:vm1 string:
check "  ... naming the line and the consumer" grep -q 'line 106 (header-7, PQ.06) of gpio-main is used by the host (consumer .*regulator-vdd-fan' <<<"$LAST_ERROR"
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check: gpio-lines missing, naming the consumer" grep -q '^missing .*gpio-lines.*regulator-vdd-fan' "$T/chk.out"
sim "gpio-free 0 106"
# a line held by a uAPI line request (not by the kernel) is as busy: the check sees the request
mkfifo "$T/hold.in"
"$TV_BUILD_DIR/tests/fixture/gpio-cdev-tool" "$T/mnt/dev/gpiochip0" <"$T/hold.in" >"$T/hold.out" &
HOLD_PID=$!
exec 7>"$T/hold.in"
echo "req 0 106 0x4 someone-else" >&7
for _ in $(seq 50); do grep -q . "$T/hold.out" && break; sleep 0.1; done
check "a line requested by another program: PrepareDomain vm1 -> DeviceBusy" expect_error DeviceBusy PrepareDomain string:vm1 string:
check "  ... naming the request's consumer" grep -q 'line 106 (header-7, PQ.06) of gpio-main is used by the host (consumer .*someone-else' <<<"$LAST_ERROR"
exec 7>&-
wait "$HOLD_PID" || true
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check: gpio-lines ok once the line is free" grep -q '^ok .*gpio-lines.*header-pin7 (for vm1) are free on gpio-main' "$T/chk.out"
check "  ... and no 'no devices are assigned' warning for a domain with only a line group" bash -c "! grep -q '^warning *assignments ' '$T/chk.out'"
chmod 755 "$T" # the QEMU user (nobody) reaches the backend's socket under it
check "PrepareDomain vm1 (the line is free now) starts its GPIO backend" expect_ok PrepareDomain string:vm1 string:
check "  ... which requests line 106 as tegravirt:vm1" \
        wait_for 5 grep -q '^gpio 0 106 consumer=tegravirt:vm1 ' "$T/mnt/status"
check "  ... no sysfs write was made (the controller stays with the host)" bash -c "! grep -q ' write sys/' '$T/mnt/log'"
check "ReleaseDomain vm1: the line is free again" expect_ok ReleaseDomain string:vm1
check "  ... no consumer on it" bash -c "! grep -q '^gpio 0 106 consumer=tegravirt:' '$T/mnt/status'"
printf '2200000.gpio' >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/unbind"
sleep 0.3       # the daemon's device view is re-read after 250 ms
check "the controller off its host driver: PrepareDomain vm1 -> HostNotReady" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... says the host must keep the controller" grep -q "gpio-main (2200000.gpio), the controller of line group header-pin7, is not on its host driver (none bound)" <<<"$LAST_ERROR"
printf '2200000.gpio' >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/bind"
sleep 0.3
check "UnassignDevice from the wrong domain -> DeviceBusy" expect_error DeviceBusy UnassignDevice string:vm2 string:header-pin7

# the record survives a restart and a catalog reload
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tv_start_daemon
check "after a restart vm1 keeps header-pin7" test "$(prop header_2dpin7 Domain)" = 's "vm1"'
n=$(grep -c "reloaded catalog and config" "$T/daemon.log" || true)
kill -HUP "$DAEMON_PID"
check "a catalog reload with line groups assigned succeeds" \
        wait_for 10 bash -c "[ \$(grep -c 'reloaded catalog and config' '$T/daemon.log') -gt $n ]"
check "  ... and keeps them" test "$(prop header_2daon Domain)" = 's "vm2"'

check "UnassignDevice vm1 header-pin7" expect_ok UnassignDevice string:vm1 string:header-pin7
check "  ... the record is gone" bash -c "! grep -q '^device header-pin7 ' '$T/state/state'"
check "now gpio-main goes whole to vm2" expect_ok AssignDevice string:vm2 string:gpio-main
check "and header-pin7 for vm1 -> DeviceBusy naming vm2" expect_error DeviceBusy AssignDevice string:vm1 string:header-pin7
check "  ... (passed through whole)" grep -q "the lines of header-pin7 are on gpio-main, which is passed through whole to domain vm2" <<<"$LAST_ERROR"
check "an unknown group or device -> NoSuchDevice" expect_error NoSuchDevice AssignDevice string:vm1 string:header-pin99
check "daemon exits 0 on SIGTERM (end)" tv_stop_daemon
tap_finish
