#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A whole GPIO controller whose host driver has bound since boot is refused (CheckHost and
# PrepareDomain), saying why and what to do; one the host overlay kept unbound from boot
# goes to vfio-platform. The fixture models 6.1's sticky IRQ_NOREQUEST on the parent IRQs
# (/sys/kernel/irq/N, /sys/kernel/debug/irq/irqs/N).
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon

# the kernel's files as the daemon reads them: SPI 288 is hwirq 320 on the GIC
irq_of_spi() {
        local d
        for d in "$T"/mnt/sys/kernel/irq/*; do
                [ "$(cat "$d/hwirq")" = "$(($1 + 32))" ] && [ "$(cat "$d/chip_name")" = GICv3 ] && { basename "$d"; return 0; }
        done
        return 1
}
IRQ=$(irq_of_spi 288)
check "SPI 288 has a Linux IRQ with hwirq 320 (/sys/kernel/irq)" test -n "$IRQ"
check "  ... its debugfs status has _IRQ_NOREQUEST while gpio-tegra186 is bound (chained handler)" \
        bash -c "grep -q '^status:   0x00010d04\$' '$T/mnt/sys/kernel/debug/irq/irqs/$IRQ' && grep -q '^ *_IRQ_NOREQUEST\$' '$T/mnt/sys/kernel/debug/irq/irqs/$IRQ'"

expect_ok AssignDevice string:vm1 string:gpio-main || not_ok "assign gpio-main"
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check: gpio-host-driver missing, the controller is on tegra186-gpio" \
        grep -q '^missing .*gpio-host-driver.*gpio-main (2200000.gpio) is bound to its host driver tegra186-gpio' "$T/chk.out"
check "  ... and the fix is the host overlay and a reboot" grep -q 'tegravirtctl host-overlay DEVICE.*and reboot' "$T/chk.out"
check "PrepareDomain with the controller on its host driver -> HostNotReady" \
        expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... says why (vfio, until reboot) and what to do (overlay, reboot)" \
        grep -q "bound to its host driver tegra186-gpio; unbinding it would leave its parent IRQs unusable for vfio until reboot; to pass it through whole: tegravirtctl host-overlay DEVICE.*and reboot" <<<"$LAST_ERROR"
check "  ... nothing changed on the host" test "$(dev_driver 2200000.gpio)" = tegra186-gpio
check "  ... no sysfs write was made" bash -c "! grep -q ' write sys/' '$T/mnt/log'"

# someone unbinds it by hand: the flag stays, the kernel still tells
printf '2200000.gpio' >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/unbind"
check "unbound by hand: the parent IRQ keeps _IRQ_NOREQUEST" grep -q '^ *_IRQ_NOREQUEST$' "$T/mnt/sys/kernel/debug/irq/irqs/$IRQ"
sleep 0.3       # the daemon's device view is re-read after 250 ms
check "PrepareDomain of a controller unbound since boot -> HostNotReady" \
        expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the flag, the SPI and the debugfs file" \
        grep -q "has bound since boot: its parent IRQs keep the no-request flag (SPI 288, Linux IRQ $IRQ: _IRQ_NOREQUEST in /sys/kernel/debug/irq/irqs/$IRQ), so vfio cannot set them up until reboot; to pass it through whole: tegravirtctl host-overlay" <<<"$LAST_ERROR"
check "  ... the device stays unbound" test "$(dev_driver 2200000.gpio)" = -
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check: gpio-host-driver missing after the unbind too" \
        grep -q '^missing .*gpio-host-driver.*_IRQ_NOREQUEST' "$T/chk.out"
check "daemon exits 0 on SIGTERM" tv_stop_daemon

# A host booted with the overlay: no driver bound the controllers, their IRQs are fresh.
fusermount3 -u "$T/mnt"
wait "$SIM_PID" 2>/dev/null || true
rm -rf "$T/state"; mkdir -p "$T/state"
sed -e 's/^\(device [0-9a-f]*\.gpio native=tegra186-gpio group=[0-9]*\) compatible=[^ ]*/\1 compatible=tegravirt,passthrough bound=no/' \
        "$TV_TOPO" >"$T/overlay.topo"
"$TV_SIM_BIN" --topology "$T/overlay.topo" --foreground "$T/mnt" 2>>"$T/sim.log" &
SIM_PID=$!
wait_for 10 test -e "$T/mnt/control" || { not_ok "the fixture mounts again"; exit 1; }
tv_start_daemon
check "with the overlay the parent IRQ has no _IRQ_NOREQUEST" bash -c "! grep -q NOREQUEST '$T/mnt/sys/kernel/debug/irq/irqs/$IRQ'"
expect_ok AssignDevice string:vm1 string:gpio-main || not_ok "assign gpio-main (overlay)"
"$TV_CTL_BIN" check vm1 >"$T/chk.out" 2>&1 || true
check "tegravirtctl check: gpio-host-driver ok" grep -q '^ok .*gpio-host-driver.*has not bound since boot' "$T/chk.out"
check "PrepareDomain binds the never-bound controller to vfio-platform" expect_ok PrepareDomain string:vm1 string:
check "  ... it is on vfio-platform" test "$(dev_driver 2200000.gpio)" = vfio-platform
check "ReleaseDomain leaves it unbound (it had no driver)" expect_ok ReleaseDomain string:vm1
check "  ... unbound" test "$(dev_driver 2200000.gpio)" = -
check "a second PrepareDomain works too (vfio never set the flag)" expect_ok PrepareDomain string:vm1 string:
expect_ok ReleaseDomain string:vm1 || not_ok "release"
# the native driver gets it anyway (a manual bind): refused from then on
printf '2200000.gpio' >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/bind"
printf '2200000.gpio' >"$T/mnt/sys/bus/platform/drivers/tegra186-gpio/unbind"
sleep 0.3
check "after a bind and unbind by hand PrepareDomain is refused" expect_error HostNotReady PrepareDomain string:vm1 string:
check "  ... naming the no-request flag" grep -q "keep the no-request flag" <<<"$LAST_ERROR"
check "daemon exits 0 on SIGTERM (overlay host)" tv_stop_daemon
tap_finish
