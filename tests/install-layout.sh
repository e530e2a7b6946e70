#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's build is a working install: configures its own build of SOURCE_DIR
# exactly as README.md says (`meson setup build`, no options), installs it into a
# DESTDIR, compares the list of installed files with install-layout.expected, checks
# that the built-in defaults are the paths tegravirtd(8) documents, lints what was
# installed (systemd-analyze verify on the unit, xmllint on the bus policy, polkit
# actions and interface XML, groff or mandoc on every man page), and runs the
# installed daemon on a system bus started from Debian's stock system.conf with the
# directories the bus, polkit and libvirt read shown from DESTDIR (private mount
# namespace): it must own org.tegravirt, and tegravirtctl check and the daemon must
# name each of those files once it is missing.
# Usage: install-layout.sh SOURCE_DIR
# TV_INSTALL_LAYOUT_DIR=DIR keeps (and reuses) the build there instead of a temp dir.
set -uo pipefail
S=$(cd "$1" && pwd)
if [ -n "${TV_INSTALL_LAYOUT_DIR:-}" ]; then
        T="$TV_INSTALL_LAYOUT_DIR"; mkdir -p "$T"
else
        T=$(mktemp -d /tmp/tv-install-layout.XXXXXX)
        trap 'rm -rf "$T"' EXIT
fi
B="$T/build" D="$T/dest"
source "$S/tests/lib/tap.sh"
nok() { not_ok "$1"; }
check_quiet() { # check_quiet WHAT LOGFILE COMMAND...: ok when COMMAND succeeds and prints nothing
        local what=$1 log=$2; shift 2
        if "$@" >"$log" 2>&1 && [ ! -s "$log" ]; then ok "$what"; else nok "$what"; sed 's/^/#   /' "$log"; fi
}

# README.md's command, nothing added: its defaults must give the layout below.
if [ ! -f "$B/build.ninja" ]; then
        meson setup "$B" "$S" >"$T/setup.log" 2>&1 || { not_ok "meson setup"; diag "$(cat "$T/setup.log")"; exit 1; }
fi
meson compile -C "$B" tegravirtd tegravirtctl tegravirt-hook-installed tegravirt-bpmp-backend tegravirt-gpio-backend >"$T/compile.log" 2>&1 \
        || { not_ok "meson compile"; diag "$(tail -40 "$T/compile.log")"; exit 1; }
rm -rf "$D"
# --no-rebuild: only what was just compiled (the unit tests are not installed)
meson install -C "$B" --destdir "$D" --no-rebuild >"$T/install.log" 2>&1 \
        || { not_ok "meson install"; diag "$(cat "$T/install.log")"; exit 1; }

(cd "$D" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort) >"$T/installed"
LC_ALL=C sort "$S/tests/install-layout.expected" | grep -v '^#' >"$T/expected"
if diff -u "$T/expected" "$T/installed" >"$T/layout.diff"; then
        ok "installed files match tests/install-layout.expected"
else
        nok "installed files differ from tests/install-layout.expected (- expected, + installed)"
        sed 's/^/#   /' "$T/layout.diff"
fi

# Another prefix moves our own files only: what the bus, polkit, systemd, libvirt
# and AppArmor read stays where they read it (configured only, nothing built).
if [ ! -f "$T/build-local/build.ninja" ]; then
        meson setup "$T/build-local" "$S" --prefix=/usr/local >"$T/setup-local.log" 2>&1 || diag "$(cat "$T/setup-local.log")"
fi
meson introspect --installed "$T/build-local" 2>/dev/null | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin).values()))' \
        >"$T/installed-local"
for f in usr/share/dbus-1/system.d/org.tegravirt.conf usr/share/dbus-1/system-services/org.tegravirt.service \
         usr/share/polkit-1/actions/org.tegravirt.policy etc/libvirt/hooks/qemu.d/tegravirt \
         etc/apparmor.d/abstractions/libvirt-qemu.d/tegravirt \
         "$(grep '/systemd/system/tegravirtd.service$' "$T/expected")"; do
        grep -qx "/$f" "$T/installed-local" && ok "with --prefix=/usr/local still installs /$f" \
                || nok "with --prefix=/usr/local still installs /$f"
done

f=usr/sbin/tegravirtd
[ -x "$D/$f" ] && ok "$f is executable" || nok "$f is executable"
# the daemon's built-in paths are the ones tegravirtd(8) documents
"$D/$f" --help >"$T/help.out" 2>&1
for opt in --state-dir --catalog --catalog-dir --config; do
        v=$(sed -n "s/^ *$opt [A-Z]* .*(default \(.*\))\$/\1/p" "$T/help.out")
        if [ -n "$v" ] && grep -qF "(default \\fI$v\\fR)" "$S/man/tegravirtd.8"; then
                ok "built-in $opt default is tegravirtd(8)'s ($v)"
        else
                nok "built-in $opt default '$v' is not the one tegravirtd(8) documents"
        fi
done
f=etc/libvirt/hooks/qemu.d/tegravirt
[ -x "$D/$f" ] && [ ! -L "$D/$f" ] && ok "$f is an executable file" || nok "$f is an executable file"

unit=$(cd "$D" && find . -name tegravirtd.service -path '*/systemd/system/*' | sed 's|^\./||' | head -1)
if [ -z "$unit" ]; then
        nok "tegravirtd.service installed"
else
        grep -q '^ExecStart=/usr/sbin/tegravirtd$' "$D/$unit" && ok "unit runs /usr/sbin/tegravirtd" \
                || nok "unit runs /usr/sbin/tegravirtd"
        # verify needs ExecStart's binary: --root resolves it inside DESTDIR.
        # --recursive-errors=no: the units it names (dbus.socket, multi-user.target) are
        # not in DESTDIR; only this unit's own errors count. Documentation= man: pages
        # are looked up in DESTDIR through MANPATH (--man=no without man(1)).
        if command -v systemd-analyze >/dev/null; then
                manopt=--man=yes
                command -v man >/dev/null || manopt=--man=no
                check_quiet "systemd-analyze verify $unit" "$T/verify.log" \
                        env MANPATH="$D/usr/share/man" systemd-analyze verify $manopt --recursive-errors=no \
                        --root="$D" "/$unit"
        else
                tap_skip "systemd-analyze verify" "systemd-analyze not installed"
        fi
fi
grep -q '^SystemdService=tegravirtd.service$' "$D/usr/share/dbus-1/system-services/org.tegravirt.service" \
        && ok "activation file names tegravirtd.service" || nok "activation file names tegravirtd.service"

for x in "$D"/usr/share/dbus-1/system.d/org.tegravirt.conf "$D"/usr/share/dbus-1/interfaces/*.xml; do
        x=${x#"$D"/}
        check_quiet "xmllint $x" "$T/xmllint.log" xmllint --noout "$D/$x"
done
x=usr/share/polkit-1/actions/org.tegravirt.policy
if [ -f /usr/share/polkit-1/policyconfig-1.dtd ]; then
        check_quiet "xmllint --dtdvalid $x" "$T/xmllint.log" \
                xmllint --noout --dtdvalid /usr/share/polkit-1/policyconfig-1.dtd "$D/$x"
else
        check_quiet "xmllint $x" "$T/xmllint.log" xmllint --noout "$D/$x"
fi
if command -v dbus-daemon >/dev/null; then
        # dbus-daemon parses the policy as it would from system.d (refuses unknown
        # elements and attributes that xmllint accepts); its complaint about the fd
        # limit of a <type>system</type> bus run unprivileged is not ours.
        cat >"$T/bus.conf" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$T/bus</listen><auth>EXTERNAL</auth>
  <include>$D/usr/share/dbus-1/system.d/org.tegravirt.conf</include>
</busconfig>
BUS
        if bash -c 'dbus-daemon --config-file="$1" --print-address=3 --nofork --nopidfile 3>/dev/null & p=$!
                         for _ in $(seq 100); do [ -S "$2" ] && break; kill -0 $p 2>/dev/null || break; sleep 0.05; done
                         [ -S "$2" ] || { wait $p; exit 1; }; kill $p; wait $p 2>/dev/null; exit 0' _ "$T/bus.conf" "$T/bus" \
                >"$T/busconf.log" 2>&1 && ! grep -v 'fd limit' "$T/busconf.log" | grep -q .; then
                ok "dbus-daemon accepts the bus policy"
        else
                nok "dbus-daemon accepts the bus policy"; sed 's/^/#   /' "$T/busconf.log"
        fi
fi

# The policy at work on a bus with system.conf's default rules: as root (the
# daemon's user) and as nobody. Needs root, setpriv and python3-dbus.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v dbus-daemon >/dev/null \
        && /usr/bin/python3 -c 'import dbus.mainloop.glib, gi' 2>/dev/null; then
        P=$(mktemp -d /tmp/tv-install-bus.XXXXXX)
        chmod 755 "$P"      # nobody reaches the socket and the probe
        cat >"$P/probe.py" <<'PY'
import sys, dbus, dbus.bus, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(sys.argv[2])
try:
    if sys.argv[1] == "own":
        r = bus.request_name("org.tegravirt", dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
        print("owned" if r == dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER else "not-owned", flush=True)
        if len(sys.argv) > 3:
            GLib.MainLoop().run()
    else:
        bus.call_blocking("org.tegravirt", "/org/tegravirt", sys.argv[3], sys.argv[4], "", (), timeout=5)
        print("reply")
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name(), flush=True)
PY
        chmod 644 "$P/probe.py"
        cat >"$P/bus.conf" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$P/bus</listen><auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>$D/usr/share/dbus-1/system.d/org.tegravirt.conf</include>
</busconfig>
BUS
        dbus-daemon --config-file="$P/bus.conf" --nofork --nopidfile 2>"$P/bus.log" &
        bus_pid=$!
        for _ in $(seq 100); do [ -S "$P/bus" ] && break; sleep 0.05; done
        chmod 666 "$P/bus"
        A="unix:path=$P/bus"
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$P/probe.py" "$@"; }
        r=$(nobody own "$A")
        [ "$r" = org.freedesktop.DBus.Error.AccessDenied ] && ok "bus policy: nobody may not own org.tegravirt" \
                || nok "bus policy: nobody may not own org.tegravirt (got $r)"
        /usr/bin/python3 "$P/probe.py" own "$A" hold >"$P/owner.out" &
        owner_pid=$!
        for _ in $(seq 100); do [ -s "$P/owner.out" ] && break; sleep 0.05; done
        r=$(cat "$P/owner.out")
        [ "$r" = owned ] && ok "bus policy: root owns org.tegravirt" || nok "bus policy: root owns org.tegravirt (got $r)"
        # allowed calls reach the owner, which has no objects: UnknownMethod or a reply
        for call in org.tegravirt.Manager1:ListDevices org.tegravirt.Device1:Get \
                    org.freedesktop.DBus.Introspectable:Introspect org.freedesktop.DBus.Peer:Ping \
                    org.freedesktop.DBus.Properties:GetAll org.freedesktop.DBus.ObjectManager:GetManagedObjects; do
                r=$(nobody call "$A" "${call%%:*}" "${call#*:}")
                case $r in
                reply|org.freedesktop.DBus.Error.UnknownMethod) ok "bus policy: nobody may call $call" ;;
                *) nok "bus policy: nobody may call $call (got $r)" ;;
                esac
        done
        for call in org.example.Other:Foo org.freedesktop.DBus.Debug.Stats:GetStats; do
                r=$(nobody call "$A" "${call%%:*}" "${call#*:}")
                [ "$r" = org.freedesktop.DBus.Error.AccessDenied ] && ok "bus policy: nobody may not call $call" \
                        || nok "bus policy: nobody may not call $call (got $r)"
        done
        kill "$owner_pid" "$bus_pid" 2>/dev/null
        wait "$owner_pid" "$bus_pid" 2>/dev/null
        rm -rf "$P"
else
        tap_skip "bus policy at work" "needs root, setpriv, dbus-daemon and python3-dbus"
fi

# --- the installed daemon on a stock system bus ---
# A private mount namespace shows DESTDIR's copies of the directories Debian's
# system bus (system.conf's system.d and /etc/dbus-1/system.d), polkit and libvirt
# read at their real paths; the bus is /usr/share/dbus-1/system.conf unchanged,
# listening on a private socket. Needs root (the bus drops to messagebus).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v dbus-daemon >/dev/null \
        && [ -f /usr/share/dbus-1/system.conf ]; then
        cat >"$T/stock-bus.sh" <<'NS'
set -u
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; }
policy=usr/share/dbus-1/system.d/org.tegravirt.conf
action=usr/share/polkit-1/actions/org.tegravirt.policy
hook=etc/libvirt/hooks/qemu.d/tegravirt
for dir in /usr/share/dbus-1/system.d /etc/dbus-1/system.d /usr/share/polkit-1/actions /etc/libvirt; do
        mkdir -p "$D$dir"
        if [ -d "$dir" ] && mount --bind "$D$dir" "$dir"; then :; else nok "show DESTDIR's $dir at $dir"; fi
done
bus_pid=""
bus_up() {
        rm -f "$T/sysbus"
        dbus-daemon --config-file=/usr/share/dbus-1/system.conf --address="unix:path=$T/sysbus" \
                --nofork --nopidfile 2>>"$T/sysbus.log" &
        bus_pid=$!
        for _ in $(seq 100); do [ -S "$T/sysbus" ] && break; sleep 0.05; done
}
bus_down() { kill "$bus_pid" 2>/dev/null; wait "$bus_pid" 2>/dev/null; }
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/sysbus"
mkdir -p "$T/host/sys/bus/platform/devices" "$T/host/sys/bus/platform/drivers" "$T/host/dev" "$T/host/state" "$T/host/catalog.d"
printf '[Daemon]\nLibvirtUri=\n' >"$T/host/tegravirtd.conf"
# an empty simulated host; the catalog is DESTDIR's; qemu.conf is the default, under /etc/libvirt
daemon() {
        exec "$D/usr/sbin/tegravirtd" --sysfs-root "$T/host/sys" --dev-root "$T/host/dev" --state-dir "$T/host/state" \
                --catalog "$D/usr/share/tegravirt/catalog/tegra234.xml" --catalog-dir "$T/host/catalog.d" \
                --config "$T/host/tegravirtd.conf" "$@"
}
ctl() { "$D/usr/bin/tegravirtctl" "$@"; }
bus_up
daemon 2>"$T/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do ctl list >/dev/null 2>&1 && break; kill -0 $daemon_pid 2>/dev/null || break; sleep 0.05; done
if ctl list >"$T/list.out" 2>&1 && grep -q '^uarta ' "$T/list.out"; then
        ok "the installed tegravirtd owns org.tegravirt on a bus from Debian's stock system.conf"
else
        nok "the installed tegravirtd owns org.tegravirt on a bus from Debian's stock system.conf"
        sed 's/^/#   /' "$T/daemon.log" "$T/list.out"
fi
ctl check >"$T/check.out" 2>&1
for item in "bus-policy:/$policy" "polkit-action:/$action" "hook:/$hook"; do
        grep -q "^ok  *${item%%:*}  *${item#*:} is installed" "$T/check.out" \
                && ok "tegravirtctl check: ${item%%:*} ${item#*:} is installed" \
                || { nok "tegravirtctl check: ${item%%:*} ${item#*:} is installed"; sed 's/^/#   /' "$T/check.out"; }
done
# Each file gone, the bus not reloaded (dbus-broker reloads only when told; the
# stock dbus-daemon reloads on inotify, then even root may not call us): an empty
# tmpfs over the file's directory hides it from tegravirtd without an inotify event.
for item in "bus-policy:$policy" "polkit-action:$action" "hook:$hook"; do
        f=${item#*:}
        mount -t tmpfs tmpfs "/${f%/*}"
        rc=0; ctl check >"$T/check.out" 2>&1 || rc=$?
        if [ "$rc" = 1 ] && grep -q "^missing  *${item%%:*}  */$f is missing" "$T/check.out"; then
                ok "tegravirtctl check reports /$f missing (exit 1)"
        else
                nok "tegravirtctl check reports /$f missing (exit 1, got $rc)"; sed 's/^/#   /' "$T/check.out"
        fi
        umount "/${f%/*}"
done
# a libvirt configured elsewhere (QemuConf=) does not read the hook where we installed it
mkdir -p "$T/host/other-libvirt"
printf '[Daemon]\nLibvirtUri=\nQemuConf=%s\n' "$T/host/other-libvirt/qemu.conf" >"$T/host/tegravirtd.conf"
kill -HUP "$daemon_pid"
for _ in $(seq 100); do grep -q 'reloaded' "$T/daemon.log" && break; sleep 0.05; done
ctl check >"$T/check.out" 2>&1
grep -q "^missing  *hook  *$T/host/other-libvirt/hooks/qemu.d/tegravirt is missing: tegravirt installed its hook as /$hook" \
        "$T/check.out" && ok "tegravirtctl check names where the hook was installed when libvirt reads another directory" \
        || { nok "tegravirtctl check names where the hook was installed when libvirt reads another directory"
             sed 's/^/#   /' "$T/check.out"; }
kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null
bus_down
# a bus (re)started without the policy refuses the name: the daemon says which file is missing
mv "$D/$policy" "$T/aside"
bus_up
rc=0; timeout 20 bash -c "$(declare -f daemon); daemon" 2>"$T/daemon2.log" || rc=$?
if [ "$rc" = 1 ] && grep -q "bus policy /$policy is missing" "$T/daemon2.log"; then
        ok "without the bus policy the daemon exits naming /$policy"
else
        nok "without the bus policy the daemon exits naming /$policy (exit $rc)"; sed 's/^/#   /' "$T/daemon2.log"
fi
bus_down
mv "$T/aside" "$D/$policy"
NS
        while IFS= read -r line; do
                case $line in
                "ok - "*) ok "${line#ok - }" ;;
                "not ok - "*) not_ok "${line#not ok - }" ;;
                *) diag "$line" ;;
                esac
        done < <(export D T; unshare --mount --propagation private bash "$T/stock-bus.sh" 2>&1)
else
        tap_skip "installed daemon on a stock system bus" "needs root, unshare, dbus-daemon and /usr/share/dbus-1/system.conf"
fi

lint_man() { # prints warnings only
        if command -v mandoc >/dev/null; then
                mandoc -T lint -W warning "$1"
        else
                groff -ww -man -z "$1"
        fi
}
if ! command -v mandoc >/dev/null && ! command -v groff >/dev/null; then
        tap_skip "man page lint" "neither mandoc nor groff (groff-base) installed"
else for m in $(cd "$D" && find usr/share/man -type f | LC_ALL=C sort); do
        case $m in
        *.gz) check_quiet "man $m" "$T/man.log" bash -c "zcat '$D/$m' > '$T/page' && $(declare -f lint_man); lint_man '$T/page'" ;;
        *) check_quiet "man $m" "$T/man.log" lint_man "$D/$m" ;;
        esac
done; fi

tap_finish
