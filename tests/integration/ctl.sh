#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tegravirtctl against a live daemon: tables, --json, exit codes 0 / 1 / 2.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon
ctl() { "$TV_CTL_BIN" "$@"; }

out=$(ctl list)
check "list shows a header and uarta" bash -c "grep -q '^NAME' <<<'$out' && grep -q '^uarta .*3100000.serial .*serial .*available' <<<'$out'"
check "assign vm1 uarta" ctl assign vm1 uarta
check "list shows the domain" bash -c "'$TV_CTL_BIN' list | grep -q '^uarta .*assigned .*vm1'"
check "assign to another domain exits 1" bash -c "'$TV_CTL_BIN' assign vm2 uarta 2>'$T/err'; [ \$? = 1 ]"
check "  ... and prints the error name and the owner" bash -c "grep -q 'org.tegravirt.Error.DeviceBusy' '$T/err' && grep -q vm1 '$T/err'"
check "usage error exits 2" bash -c "'$TV_CTL_BIN' assign vm1 2>/dev/null; [ \$? = 2 ]"
check "unknown device exits 1 (NoSuchDevice)" bash -c "'$TV_CTL_BIN' assign vm1 nosuch 2>&1 | grep -q NoSuchDevice"
check "prepare vm1" ctl prepare vm1
check "status uarta shows the vfio driver" bash -c "'$TV_CTL_BIN' status uarta | grep -q vfio-platform"
check "--json list parses and says active" python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.check_output(['$TV_CTL_BIN', '--json', 'list']))
u = [x for x in d['devices'] if x['name'] == 'uarta'][0]
sys.exit(0 if u['state'] == 'active' and u['domain'] == 'vm1' else 1)"
check "--json list: an unassigned device's domain is null, the exact keys" python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.check_output(['$TV_CTL_BIN', '--json', 'list']))
g = [x for x in d['devices'] if x['name'] == 'gpio-main'][0]
sys.exit(0 if list(g) == ['name', 'platform_id', 'kind', 'state', 'domain'] and g['domain'] is None else 1)"
check "--json assignments is exactly the pairs" python3 -c "
import json, subprocess, sys
out = subprocess.check_output(['$TV_CTL_BIN', '--json', 'assignments']).decode()
sys.exit(0 if out == '{\"assignments\":[{\"domain\":\"vm1\",\"device\":\"uarta\"}]}\n' else 1)"
check "assignments table: header and the pair" bash -c "'$TV_CTL_BIN' assignments | head -1 | grep -q '^DOMAIN *DEVICE' && '$TV_CTL_BIN' assignments | grep -q '^vm1 *uarta'"
check "status (the manager): API version, device count by state, assignments per domain" bash -c "
out=\$('$TV_CTL_BIN' status) &&
grep -q '^ *API version: 1\$' <<<\"\$out\" && grep -q '^ *Devices: [0-9]* (.*1 active' <<<\"\$out\" &&
grep -q '^ *Assignments: vm1: uarta\$' <<<\"\$out\""
check "--json status (the manager) parses and has the counts and pairs" python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.check_output(['$TV_CTL_BIN', '--json', 'status']))
sys.exit(0 if d['version'] == 1 and d['states'].get('active') == 1 and d['device_count'] == len(
    json.loads(subprocess.check_output(['$TV_CTL_BIN', '--json', 'list']))['devices']) and
    d['assignments'] == [{'domain': 'vm1', 'device': 'uarta'}] else 1)"
check "--json status uarta parses" python3 -c "
import json, subprocess
json.loads(subprocess.check_output(['$TV_CTL_BIN', '--json', 'status', 'uarta']))"
check "release vm1" ctl release vm1
check "the host driver is back" test "$(dev_driver 3100000.serial)" = serial-tegra
check "unassign vm1 uarta" ctl unassign vm1 uarta
# device object paths, escaped as busctl shows them or as people type them
check "status takes the escaped object path /org/tegravirt/device/gpio_2dmain" \
        bash -c "'$TV_CTL_BIN' status /org/tegravirt/device/gpio_2dmain | grep -q 'gpio-main'"
check "status takes /org/tegravirt/device/gpio-main as typed" \
        bash -c "'$TV_CTL_BIN' status /org/tegravirt/device/gpio-main | grep -q '2200000.gpio'"
check "assign takes an object path" ctl assign vm2 /org/tegravirt/device/gpio-main
check "  ... and assigned gpio-main" bash -c "'$TV_CTL_BIN' assignments | grep -q '^vm2 .*gpio-main'"
check "unassign takes the escaped object path" ctl unassign vm2 /org/tegravirt/device/gpio_2dmain
check "a path outside /org/tegravirt/device is a usage error (exit 2)" \
        bash -c "'$TV_CTL_BIN' status /org/tegravirt/other/uarta 2>/dev/null; [ \$? = 2 ]"
# repair: the command every drift message names, here without libvirt
rc=0; "$TV_CTL_BIN" repair vm1 >"$T/repair.out" 2>&1 || rc=$?
check "repair calls RepairDomain (refused: the libvirt integration is off, exit 1)" \
        bash -c "[ $rc = 1 ] && grep -q 'org.tegravirt.Error.HostNotReady' '$T/repair.out' && grep -q 'LibvirtUri' '$T/repair.out'"
check "repair without a domain is a usage error (exit 2)" bash -c "'$TV_CTL_BIN' repair 2>/dev/null; [ \$? = 2 ]"
"$TV_CTL_BIN" host-overlay uarta gpu >"$T/host.dts"
check "host-overlay: allowed-clocks are the union, parents apart" bash -c "grep -q 'allowed-clocks = <155 304 41 236>;' '$T/host.dts' && grep -q 'allowed-parent-clocks = <102>;' '$T/host.dts'"
check "  ... allowed-resets and allowed-power-domains" bash -c "grep -q 'allowed-resets = <100 19>;' '$T/host.dts' && grep -q 'allowed-power-domains = <35>;' '$T/host.dts'"
check "  ... compiles with dtc -@ without a warning" bash -c "dtc -@ -I dts -O dtb -o '$T/host.dtbo' '$T/host.dts' 2>'$T/dtc.err' && [ ! -s '$T/dtc.err' ]"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
