#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo: tegravirtd on a simulated Orin AGX host (FUSE sysfs) and a private
# system bus, doing list -> assign -> prepare -> release with tegravirtctl and busctl.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
B=${TV_DEMO_BUILD:-$SRC/build-demo}
W=$(mktemp -d /tmp/tegravirt-demo.XXXXXX)

tools/install-deps.sh
[ -d "$B" ] || meson setup "$B" >/dev/null
meson compile -C "$B" >/dev/null

cleanup() {
        set +e
        [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
        [ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null
        fusermount3 -u "$W/host" 2>/dev/null
        wait 2>/dev/null
        rm -rf "$W"
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

mkdir -p "$W/host" "$W/state" "$W/catalog.d"
"$B/tests/fixture/orin-sim" --topology "$SRC/tests/fixture/orin-agx.topo" --foreground "$W/host" &
until [ -e "$W/host/control" ]; do sleep 0.05; done
cat >"$W/bus.conf" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$W/bus</listen><auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>
BUS
dbus-daemon --config-file="$W/bus.conf" --nofork --nopidfile 2>"$W/bus.log" &
BPID=$!
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$W/bus"
until [ -S "$W/bus" ]; do sleep 0.05; done
# no libvirtd in the demo: assignments are recorded only; the hook's calls are made by hand
printf '[Daemon]\nQemuUser=nobody\nQemuGroup=nogroup\nAllowUnsafeInterrupts=yes\nLibvirtUri=\nQemuConf=\n' >"$W/tegravirtd.conf"
"$B/tegravirtd/tegravirtd" --sysfs-root "$W/host/sys" --dev-root "$W/host/dev" --state-dir "$W/state" \
        --catalog "$SRC/catalog/tegra234.xml" --catalog-dir "$W/catalog.d" --config "$W/tegravirtd.conf" &
DPID=$!
until busctl --system status org.tegravirt >/dev/null 2>&1; do sleep 0.05; done
export PATH="$B/cli:$PATH"

echo "Simulated Orin host mounted at $W/host; private system bus at $W/bus"
run tegravirtctl list
run busctl call org.tegravirt /org/tegravirt org.tegravirt.Manager1 AssignDevice ss vm1 uarta
run tegravirtctl assign vm1 uarti
run tegravirtctl assignments
run tegravirtctl assign vm2 uarta || true
say "readlink $W/host/sys/bus/platform/devices/3100000.serial/driver"
readlink "$W/host/sys/bus/platform/devices/3100000.serial/driver"
echo "# what 'virsh start vm1' makes the libvirt hook do:"
run tegravirtctl prepare vm1
say "readlink $W/host/sys/bus/platform/devices/3100000.serial/driver"
readlink "$W/host/sys/bus/platform/devices/3100000.serial/driver"
run ls -l "$W/host/dev/vfio"
echo "# the BPMP host proxy now lets guests use exactly UARTA's clocks (uarta, pllp_out0) and reset:"
run cat "$W/host/sys/bus/platform/devices/bpmp_host_proxy/active_clocks" "$W/host/sys/bus/platform/devices/bpmp_host_proxy/active_resets"
run tegravirtctl status uarta
run cat "$W/state/state"
echo "# what the hook does when vm1 stops:"
run busctl call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ReleaseDomain s vm1
say "readlink $W/host/sys/bus/platform/devices/3100000.serial/driver"
readlink "$W/host/sys/bus/platform/devices/3100000.serial/driver"
echo "# ... and the BPMP host proxy allows nothing again:"
run cat "$W/host/sys/bus/platform/devices/bpmp_host_proxy/active_clocks"
run tegravirtctl list
echo
echo "Every sysfs write the daemon made (the simulated kernel's log):"
grep -v ' control ' "$W/host/log"
