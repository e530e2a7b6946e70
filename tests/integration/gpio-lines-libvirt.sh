#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GPIO line groups with a real libvirtd: assigning one leaves the definition alone (no GPIO
# backend yet) and shows no drift, PrepareDomain starts the GPIO backend, and undefining
# the domain releases its line groups like its devices.
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_libvirt_test "$@"
tv_start_daemon
LAST_ERROR=""
P=/org/tegravirt/device
prop() { busctl --system get-property org.tegravirt "$P/$1" org.tegravirt.Device1 "$2"; }

tv_domain_xml vma >"$T/vma.xml"
virsh_ define "$T/vma.xml" >/dev/null || not_ok "define vma"
virsh_ dumpxml --inactive vma >"$T/before.xml"
check "AssignDevice vma header-pin7" expect_ok AssignDevice string:vma string:header-pin7
virsh_ dumpxml --inactive vma >"$T/after.xml"
check "  ... the definition is unchanged (nothing to add without a GPIO backend)" cmp -s "$T/before.xml" "$T/after.xml"
virsh_ define "$T/after.xml" >"$T/redefine.out" 2>&1 || { not_ok "redefine vma"; diag "$(cat "$T/redefine.out")"; }
sleep 0.5
check "  ... a redefine shows no drift on the line group" test "$(prop header_2dpin7 DomainDrift)" = 's ""'
check "PrepareDomain vma (the hook's call) starts its GPIO backend" expect_ok PrepareDomain string:vma string:
check "  ... which requests line 106 as tegravirt:vma" wait_for 5 grep -q '^gpio 0 106 consumer=tegravirt:vma ' "$T/mnt/status"
check "ReleaseDomain vma (the hook's call) stops it" expect_ok ReleaseDomain string:vma
check "  ... the line is free" bash -c "! grep -q '^gpio 0 106 consumer=tegravirt:' '$T/mnt/status'"
virsh_ undefine vma >/dev/null || not_ok "undefine vma"
check "undefining vma releases header-pin7" wait_for 5 bash -c "[ \"\$(busctl --system get-property org.tegravirt $P/header_2dpin7 org.tegravirt.Device1 Domain)\" = 's \"\"' ]"
check "  ... and its record" bash -c "! grep -q '^device header-pin7 ' '$T/state/state'"
check "  ... audited" grep -q 'header-pin7.*the domain was undefined' "$T/daemon.log"
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
