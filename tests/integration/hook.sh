#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The libvirt hook against the real tegravirtd on the simulated host, called the way
# libvirt calls it: argv DOMAIN OPERATION SUB-OPERATION EXTRA, the domain XML on stdin,
# and a minimal environment. TV_HOOK_WRAPPER (e.g. "valgrind -q --error-exitcode=99
# --log-file=/tmp/vg.%p") runs the hook under a tool.
# As root the script re-runs itself in a private mount namespace with the bus at the
# standard socket, to also check the hook without DBUS_SYSTEM_BUS_ADDRESS (libvirt's case).
if [ -z "${TV_HOOK_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null; then
        export TV_HOOK_NS=1
        exec unshare --mount --propagation private "$0" "$@"
fi
if [ -n "${TV_HOOK_NS:-}" ]; then
        mkdir -p /run/dbus && mount -t tmpfs -o mode=0755 tmpfs /run/dbus && export TV_BUS_PATH=/run/dbus/system_bus_socket
fi
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
# a failure while the daemon is stopped (SIGSTOP below) must not hang the cleanup
trap '[ -n "$DAEMON_PID" ] && kill -CONT "$DAEMON_PID" 2>/dev/null; tv_cleanup' EXIT
tv_start_daemon

HOOK="$TV_BUILD_DIR/libvirt-hooks/tegravirt-hook"
NS=https://tegravirt.org/ns/domain/1
HOOK_ENV=()
BUS_ENV=("DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS")

# hook INPUT ARGS... : runs the hook with stdin from INPUT; sets RC, OUT, ERR, SECS.
hook() {
        local input="$1" t0 t1; shift
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        env -i LC_ALL=C PATH=/usr/bin:/bin "${BUS_ENV[@]}" "${HOOK_ENV[@]}" ${TV_HOOK_WRAPPER:-} \
                "$HOOK" "$@" <"$input" >"$T/hook.out" 2>"$T/hook.err" && RC=0 || RC=$?
        t1=$(date +%s.%N)
        SECS=$(echo "$t1 - $t0" | bc -l)
        OUT=$(cat "$T/hook.out")
        ERR=$(cat "$T/hook.err")
}
# result RC LINES [PATTERN]: exit status, number of stderr lines (each "tegravirt: ..."),
# a pattern stderr must match; stdout is always empty (it is the XML for filters).
result() {
        local n
        n=$(printf '%s' "$ERR" | grep -c '' || true)
        if [ "$RC" = "$1" ] && [ "$n" = "$2" ] && [ -z "$OUT" ] &&
           { [ "$n" = 0 ] || ! grep -qv '^tegravirt: ' <<<"$ERR"; } &&
           { [ -z "${3:-}" ] || grep -q -- "$3" <<<"$ERR"; }; then
                return 0
        fi
        echo "  exit $RC (expected $1), $n stderr line(s) (expected $2)${3:+ matching '$3'}"
        [ -n "$ERR" ] && sed 's/^/  stderr: /' <<<"$ERR"
        [ -n "$OUT" ] && sed 's/^/  stdout: /' <<<"$OUT"
        return 1
}
rc_is() { [ "$RC" = "$1" ] || { echo "  exit $RC, expected $1"; return 1; }; }
within() { [ "$(echo "$SECS < $1" | bc)" = 1 ] || { echo "  took $SECS s"; return 1; }; }
drv_is() { local d; d=$(dev_driver 3100000.serial); [ "$d" = "$1" ] || { echo "  uarta on $d"; return 1; }; }
# "at once": generous enough for a wrapper such as valgrind
FAST=$([ -n "${TV_HOOK_WRAPPER:-}" ] && echo 4 || echo 1)

domain_xml() { # domain_xml NAME [tegravirt]: what libvirt would pass on stdin
        printf "<domain type='kvm'>\n  <name>%s</name>\n  <memory unit='KiB'>131072</memory>\n" "$1"
        [ "${2:-}" = tegravirt ] && printf "  <metadata>\n    <tegravirt:domain xmlns:tegravirt='%s'>\n      <tegravirt:device name='uarta'/>\n    </tegravirt:domain>\n  </metadata>\n" "$NS"
        printf "  <os><type arch='aarch64' machine='virt'>hvm</type></os>\n</domain>\n"
}
domain_xml vm1 tegravirt >"$T/vm1.xml"
domain_xml vm1 >"$T/vm1-plain.xml"
domain_xml plain >"$T/plain.xml"
domain_xml vm9 tegravirt >"$T/vm9.xml"
: >"$T/empty"

# --- the fast path: domains that are not ours never touch D-Bus ---
BUS_ENV=("DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/no-such-bus")
for op in "prepare begin -" "release end destroyed" "reconnect begin -" "start begin -" "stopped end -"; do
        # shellcheck disable=SC2086
        hook "$T/plain.xml" plain $op
        check "not ours, bus unreachable: '$op' exits 0 silently" result 0 0
done
hook "$T/vm1.xml" vm1 prepare begin -
check "the same prepare for a tegravirt domain does go for the bus: exit 1, one line" \
        result 1 1 "tegravirtd is not running: start it with 'systemctl start tegravirtd'"
hook "$T/plain.xml" 'my vm/with odd name' prepare begin -
check "a plain domain with a name tegravirt would refuse still starts" result 0 0
# started: only a domain whose backend must learn its QEMU (BPMP bridge, GPIO line groups) calls
hook "$T/vm1.xml" vm1 started begin -
check "started of a tegravirt domain without BPMP bridge or GPIO device costs no D-Bus: exit 0" result 0 0
sed "s|</domain>|  <qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n    <qemu:arg value='-device'/>\n    <qemu:arg value='vhost-user-gpio-device,chardev=tvgpio0,id=tvgpio,bus=virtio-mmio-bus.0'/>\n  </qemu:commandline>\n</domain>|" \
        "$T/vm1.xml" >"$T/vm1-gpio.xml"
hook "$T/vm1-gpio.xml" vm1 started begin -
check "started of a domain with line groups (vhost-user-gpio-device) does go for the bus: exit 1, one line" \
        result 1 1 "tegravirtd is not running"
sed "s|$NS|https://example.org/other|" "$T/vm1-gpio.xml" >"$T/plain-gpio.xml"
hook "$T/plain-gpio.xml" vm1 started begin -
check "started of a plain domain with its own vhost-user-gpio-device: exit 0, no D-Bus" result 0 0
BUS_ENV=("DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS")
if command -v strace >/dev/null && [ -z "${TV_HOOK_WRAPPER:-}" ]; then
        env -i LC_ALL=C PATH=/usr/bin:/bin "${BUS_ENV[@]}" ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$T/strace" -e trace=socket,connect,openat \
                "$HOOK" plain prepare begin - <"$T/plain.xml" && RC=0 || RC=$?
        check "strace: a plain domain costs no socket, no connect, no libsystemd" \
                bash -c "[ $RC = 0 ] && ! grep -E 'socket\\(|connect\\(|libsystemd' '$T/strace'"
fi

# --- prepare / release through the daemon, in libvirt's order ---
check "assign uarta to vm1" expect_ok AssignDevice string:vm1 string:uarta
hook "$T/vm1.xml" vm1 prepare begin -
check "prepare begin exits 0 silently" result 0 0
check "  ... uarta is on vfio-platform" drv_is vfio-platform
hook "$T/vm1.xml" vm1 prepare begin -
check "prepare begin again is idempotent" result 0 0
for op in "start begin -" "started begin -" "stopped end -"; do
        # shellcheck disable=SC2086
        hook "$T/vm1.xml" vm1 $op
        check "'$op' exits 0 silently" result 0 0
        check "  ... and leaves uarta on vfio-platform" drv_is vfio-platform
done
hook "$T/vm1.xml" vm1 release end shutdown
check "release end exits 0 silently" result 0 0
check "  ... uarta is back on serial-tegra" drv_is serial-tegra
check "  ... override cleared" test "$(dev_override 3100000.serial)" = -
hook "$T/vm1.xml" vm1 release end -
check "release end twice exits 0 silently (libvirt also runs it after failed starts)" result 0 0
hook "$T/empty" vm1 release end -
check "release end without XML still asks the daemon (idempotent), exit 0" result 0 0
hook "$T/vm1-plain.xml" vm1 release end -
check "release of a domain whose XML does not name us exits 0 silently" result 0 0

# --- refusals: exit 1, exactly one line ---
sim "unload vfio-platform"
hook "$T/vm1.xml" vm1 prepare begin -
check "prepare with vfio-platform unloaded: exit 1, one line ending in (…HostNotReady)" \
        result 1 1 "(org.tegravirt.Error.HostNotReady)$"
check "  ... uarta stays on serial-tegra" drv_is serial-tegra
hook "$T/vm1.xml" vm1 stopped end failed
check "libvirt's cleanup after the failed start: stopped end exits 0" result 0 0
hook "$T/vm1.xml" vm1 release end failed
check "  ... release end failed exits 0" result 0 0
check "  ... uarta on serial-tegra" drv_is serial-tegra
sim "load vfio-platform"
hook "$T/vm9.xml" vm1 prepare begin -
check "XML of another domain: exit 1, one line naming InvalidArgument" result 1 1 "InvalidArgument"
check "  ... uarta on serial-tegra" drv_is serial-tegra
hook "$T/vm1.xml" vm1 prepare end -
check "prepare with an unexpected sub-operation for a tegravirt domain: exit 1, one line" \
        result 1 1 "expected 'begin'"
for bad in '.hidden' 'a/b' "$(printf 'x%.0s' {1..65})"; do
        hook "$T/vm1.xml" "$bad" prepare begin -
        check "a tegravirt domain named '${bad:0:12}': exit 1, one line" result 1 1 "domain names are"
        hook "$T/vm1.xml" "$bad" release end -
        check "  ... release of it: exit 0, one line" result 0 1 "not a valid tegravirt domain name"
done

# --- malformed, oversized and empty stdin ---
printf '%s <<<this is not xml &&& \n' "$NS" >"$T/garbage"
hook "$T/garbage" vm1 prepare begin -
check "garbage naming our namespace: the daemon refuses it, exit 1, one line" result 1 1 "InvalidArgument"
printf '<domain><name>vm1</name><!-- %s -->\0\377</domain>' "$NS" >"$T/binary"
hook "$T/binary" vm1 prepare begin -
check "NUL and invalid UTF-8 naming our namespace: refused before D-Bus, exit 1, one line" \
        result 1 1 "not UTF-8"
head -c 4096 /dev/urandom >"$T/noise"
hook "$T/noise" vm1 prepare begin -
check "binary noise that does not name us is not ours: exit 0" result 0 0
hook "$T/empty" vm1 prepare begin -
check "empty stdin on prepare: exit 1, one line" result 1 1 "no domain XML"
{ printf '%s' "$NS"; head -c 10485760 /dev/zero; } >"$T/big"
hook <(cat "$T/big"; echo "$?" >"$T/writer.rc") vm1 prepare begin -
check "10 MiB on stdin: exit 1, one line about the 4 MiB limit" result 1 1 "standard input is larger than 4 MiB"
check "  ... in bounded time" within 5
check "  ... the writer saw all of it consumed (no EPIPE)" test "$(cat "$T/writer.rc")" = 0
hook <(head -c 10485760 /dev/zero) plain prepare begin -
check "10 MiB without our namespace on prepare: refused as well" result 1 1 "larger than 4 MiB"
# the hook's cap is the daemon's (common/tv-limits.h): 4 MiB goes to the daemon, one byte more does not
pad_to() { # pad_to BYTES: garbage naming our namespace, exactly BYTES long (no cut pipe: no SIGPIPE under pipefail)
        local p; p=$(printf '%s <<<not xml ' "$NS")
        printf '%s' "$p"
        head -c $(($1 - ${#p})) /dev/zero | tr '\0' ' '
}
pad_to 4194304 >"$T/cap"
hook "$T/cap" vm1 prepare begin -
check "exactly 4 MiB naming our namespace: passed to the daemon (which refuses the garbage)" \
        result 1 1 "InvalidArgument"
pad_to 4194305 >"$T/cap1"
hook "$T/cap1" vm1 prepare begin -
check "4 MiB and one byte: refused by the hook before D-Bus, naming the limit" \
        result 1 1 "standard input is larger than 4 MiB"
hook <(head -c 10485760 /dev/zero; echo "$?" >"$T/writer.rc") vm1 started begin -
check "10 MiB on an operation we ignore: exit 0" result 0 0
check "  ... drained to the end" test "$(cat "$T/writer.rc")" = 0
hook <(head -c 104857600 /dev/zero 2>/dev/null) vm1 start begin -
check "100 MiB on stdin: the drain is bounded, exit 0" result 0 0
check "  ... in bounded time" within 5
hook "$T/empty" vm1 start begin -
check "empty stdin on start begin: exit 0" result 0 0
HOOK_ENV=(TEGRAVIRT_HOOK_TIMEOUT=2)
mkfifo "$T/fifo"
exec 7<>"$T/fifo"       # a writer that never closes
cat "$T/vm1.xml" >&7
hook "$T/fifo" vm1 prepare begin -
exec 7>&-
check "stdin never closed: prepare gives up, exit 1, one line" result 1 1 "timed out after 2 s reading the domain XML"
check "  ... after about 2 s" bash -c "[ \$(echo '$SECS >= 1.8 && $SECS < 5' | bc) = 1 ]"
HOOK_ENV=()

# --- migrate and restore are filters: empty output means unchanged ---
for op in "migrate begin -" "restore begin -"; do
        for f in vm1 plain; do
                # shellcheck disable=SC2086
                hook "$T/$f.xml" "$f" $op
                check "'$op' of $f: exit 0, prints nothing" result 0 0
        done
done

# --- operations we do not know, missing arguments, --help/--version ---
hook "$T/vm1.xml" vm1 frobnicate begin -
check "unknown operation: exit 0, one line naming it" result 0 1 "unknown operation 'frobnicate'"
hook "$T/vm1.xml" vm1 attach begin -
check "attach begin (obsolete in libvirt): exit 0 silently" result 0 0
hook "$T/vm1.xml" vm1
check "too few arguments: usage on stderr, exit 0" bash -c "[ $RC = 0 ] && grep -q Usage: '$T/hook.err'"
hook "$T/empty" --version
check "--version" bash -c "[ $RC = 0 ] && grep -q '^tegravirt-hook [0-9]' '$T/hook.out'"
hook "$T/empty" --help
check "--help" bash -c "[ $RC = 0 ] && grep -q 'TEGRAVIRT_HOOK_TIMEOUT' '$T/hook.out'"
HOOK_ENV=(TEGRAVIRT_HOOK_TIMEOUT=0)
hook "$T/plain.xml" plain prepare begin -
check "an invalid TEGRAVIRT_HOOK_TIMEOUT is reported and ignored" result 0 1 "ignoring TEGRAVIRT_HOOK_TIMEOUT='0'"
HOOK_ENV=()

# --- reconnect never fails, whatever it is given ---
check "prepare vm1 again for the reconnect checks" expect_ok PrepareDomain string:vm1 string:
for f in vm1.xml plain.xml empty garbage binary big; do
        hook "$T/$f" vm1 reconnect begin -
        check "reconnect begin with $f: exit 0" rc_is 0
done
hook "$T/vm1.xml" .hidden reconnect begin -
check "reconnect of a tegravirt domain with a name we cannot handle: exit 0, one line" result 0 1
check "  ... uarta still on vfio-platform" drv_is vfio-platform

# --- a hung daemon: bounded by TEGRAVIRT_HOOK_TIMEOUT ---
kill -STOP "$DAEMON_PID"
HOOK_ENV=(TEGRAVIRT_HOOK_TIMEOUT=2)
hook "$T/vm1.xml" vm1 prepare begin -
check "daemon stopped (SIGSTOP): prepare exits 1, one line saying it timed out after 2 s" \
        result 1 1 "timed out after 2 s"
check "  ... after about 2 s" bash -c "[ \$(echo '$SECS >= 1.8 && $SECS < 5' | bc) = 1 ]"
hook "$T/vm1.xml" vm1 release end -
check "  ... release exits 0 with one line saying it timed out" result 0 1 "timed out after 2 s"
check "  ... after about 2 s" bash -c "[ \$(echo '$SECS >= 1.8 && $SECS < 5' | bc) = 1 ]"
hook "$T/vm1.xml" vm1 reconnect begin -
check "  ... reconnect exits 0 at once" bash -c "[ $RC = 0 ] && [ \$(echo '$SECS < $FAST' | bc) = 1 ]"
hook "$T/plain.xml" plain prepare begin -
check "  ... plain domains start at once" bash -c "[ $RC = 0 ] && [ \$(echo '$SECS < $FAST' | bc) = 1 ]"
HOOK_ENV=()
kill -CONT "$DAEMON_PID"
# Whether the daemon still runs calls whose caller gave up is its business; what
# matters is that it answers again and the next release puts the device back.
check "after SIGCONT the daemon answers again" wait_for 10 name_owned
hook "$T/vm1.xml" vm1 release end -
check "  ... release end exits 0 silently" result 0 0
check "  ... uarta on serial-tegra" drv_is serial-tegra
check "  ... record back to phase none" grep -q '^device uarta .* phase=none ' "$T/state/state"

# --- daemon not running ---
check "daemon exits 0 on SIGTERM" tv_stop_daemon
hook "$T/vm1.xml" vm1 prepare begin -
check "daemon down: prepare exits 1, one line saying how to start it" \
        result 1 1 "tegravirtd is not running: start it with 'systemctl start tegravirtd'"
check "  ... in less than 2 s" within 2
hook "$T/vm1.xml" vm1 release end -
check "daemon down: release exits 0 with the same line" result 0 1 "tegravirtd is not running"
for f in vm1.xml empty; do
        hook "$T/$f" vm1 reconnect begin -
        check "daemon down: reconnect begin with $f exits 0" rc_is 0
done
hook "$T/plain.xml" plain prepare begin -
check "daemon down: plain domains still start" result 0 0

# --- libvirt's own environment: no DBUS_SYSTEM_BUS_ADDRESS, the standard socket ---
if [ "${TV_BUS_PATH:-}" = /run/dbus/system_bus_socket ]; then
        tv_start_daemon
        BUS_ENV=()
        hook "$T/vm1.xml" vm1 prepare begin -
        check "without DBUS_SYSTEM_BUS_ADDRESS the hook finds the bus at its standard socket" result 0 0
        check "  ... uarta on vfio-platform" drv_is vfio-platform
        hook "$T/vm1.xml" vm1 release end -
        check "  ... and releases through it" result 0 0
        check "  ... uarta on serial-tegra" drv_is serial-tegra
        check "daemon exits 0 on SIGTERM" tv_stop_daemon
else
        tap_skip "without DBUS_SYSTEM_BUS_ADDRESS the hook finds the bus at its standard socket" \
                "needs root and a private mount namespace"
fi
tap_finish
