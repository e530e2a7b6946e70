# SPDX-License-Identifier: GPL-2.0-or-later
# Shared harness for integration tests: a simulated Orin host (FUSE), a private
# system bus (dbus-daemon) and tegravirtd pointed at both. Source it, then call tv_setup.
# Environment: TV_BUILD_DIR, TV_SOURCE_DIR (set by meson), TV_DAEMON_WRAPPER
# (e.g. "valgrind --leak-check=full --error-exitcode=99") to run the daemon under a tool.
# Needs FUSE and dbus-daemon; the test is skipped (tests/lib/tap.sh) without them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

: "${TV_BUILD_DIR:?}" "${TV_SOURCE_DIR:?}"
TV_DAEMON_BIN="$TV_BUILD_DIR/tegravirtd/tegravirtd"
TV_CTL_BIN="$TV_BUILD_DIR/cli/tegravirtctl"
TV_SIM_BIN="$TV_BUILD_DIR/tests/fixture/orin-sim"
TV_TOPO="${TV_TOPO:-$TV_SOURCE_DIR/tests/fixture/orin-agx.topo}"
TV_CATALOG="$TV_SOURCE_DIR/catalog/tegra234.xml"

T=""
SIM_PID=""
BUS_PID=""
DAEMON_PID=""

tv_cleanup() {
        set +e
        tv_stop_daemon
        tv_kill_backends
        [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
        if [ -n "$T" ] && mountpoint -q "$T/mnt" 2>/dev/null; then
                fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
        fi
        [ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null
        [ -n "$T" ] && [ -z "${TV_KEEP:-}" ] && rm -rf "$T"
}

# The BPMP and GPIO backends tegravirtd left running (it leaves them for its next start to
# adopt): killed by their recorded pid, if that is still this build's backend.
tv_kill_backends() {
        local r p kind
        for r in "$T"/run/domains/*/backend "$T"/run/domains/*/gpio-backend; do
                [ -f "$r" ] || continue
                kind=bpmp; [ "${r##*/}" = gpio-backend ] && kind=gpio
                p=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$r")
                [ -n "$p" ] && [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$TV_BUILD_DIR/backend/tegravirt-$kind-backend" ] &&
                        kill -9 "$p" 2>/dev/null
        done
        return 0
}

# Pids of this test's backends of KIND (bpmp|gpio): this build's binary whose stderr is a file
# under $T (tegravirtd's log, or the test's own log for a backend it started), so the backends
# of tests running in parallel, and of other worktrees, never count.
tv_own_backends() { # tv_own_backends KIND
        local p
        for p in $(pgrep -x "tegravirt-$1-" || true); do
                [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$TV_BUILD_DIR/backend/tegravirt-$1-backend" ] || continue
                case "$(readlink "/proc/$p/fd/2" 2>/dev/null)" in "$T"/*) echo "$p" ;; esac
        done
        return 0
}

wait_for() { # wait_for SECONDS COMMAND...
        local deadline=$((SECONDS + $1)); shift
        until "$@"; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.05
        done
}

# The simulated host needs FUSE, the private bus dbus-daemon and its clients.
tv_require() {
        tap_require_fuse
        tap_require_cmd dbus-daemon busctl dbus-send
}

tv_setup() {
        tv_require
        T=$(mktemp -d /tmp/tv-test.XXXXXX)
        trap tv_cleanup EXIT
        mkdir -p "$T/mnt" "$T/state" "$T/catalog.d"
        "$TV_SIM_BIN" --topology "$TV_TOPO" --foreground "$T/mnt" 2>"$T/sim.log" &
        SIM_PID=$!
        wait_for 10 test -e "$T/mnt/control" || { not_ok "the fixture mounts"; diag "$(cat "$T/sim.log")"; exit 1; }
        cat >"$T/tegravirtd.conf" <<CONF
# test configuration
[Daemon]
QemuUser=nobody
QemuGroup=nogroup
AllowUnsafeInterrupts=${TV_ALLOW_UNSAFE:-yes}
LibvirtUri=${TV_LIBVIRT_URI:-}
QemuConf=${TV_QEMU_CONF:-}
CONF
        TV_BUS_PATH="${TV_BUS_PATH:-$T/bus}"
        cat >"$T/bus.conf" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$TV_BUS_PATH</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
BUS
        dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/bus.log" &
        BUS_PID=$!
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$TV_BUS_PATH"
        wait_for 10 test -S "$TV_BUS_PATH" || { not_ok "dbus-daemon starts"; diag "$(cat "$T/bus.log")"; exit 1; }
}

tv_daemon_running() { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; }

name_owned() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                NameHasOwner s org.tegravirt 2>/dev/null | grep -q true
}

tv_start_daemon() {
        # shellcheck disable=SC2086
        ${TV_DAEMON_WRAPPER:-} "$TV_DAEMON_BIN" --sysfs-root "$T/mnt/sys" --dev-root "$T/mnt/dev" \
                --state-dir "$T/state" --catalog "$TV_CATALOG" --catalog-dir "$T/catalog.d" \
                --config "$T/tegravirtd.conf" --run-dir "$T/run" \
                --bpmp-backend "$TV_BUILD_DIR/backend/tegravirt-bpmp-backend" \
                --gpio-backend "$TV_BUILD_DIR/backend/tegravirt-gpio-backend" "$@" >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
        wait_for 60 name_owned || { not_ok "tegravirtd takes its name"; diag "$(cat "$T/daemon.log")"; exit 1; }
}

# Stops the daemon with SIGTERM; returns its exit status (valgrind's too).
tv_stop_daemon() {
        local rc=0
        if tv_daemon_running; then
                kill -TERM "$DAEMON_PID"
                wait "$DAEMON_PID" || rc=$?
        elif [ -n "$DAEMON_PID" ]; then
                wait "$DAEMON_PID" 2>/dev/null || rc=$?
        fi
        DAEMON_PID=""
        return $rc
}

# Waits for a daemon that the fixture killed (crash-before/after) and forgets it.
tv_reap_daemon() {
        [ -n "$DAEMON_PID" ] && { wait "$DAEMON_PID" 2>/dev/null || true; }
        DAEMON_PID=""
        wait_for 10 bash -c '! busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.tegravirt 2>/dev/null | grep -q true'
}

# mgr METHOD ARGS... : dbus-send call to Manager1; prints the reply or "Error <name>: <msg>".
mgr() {
        local method="$1"; shift
        dbus-send --system --print-reply --reply-timeout=20000 --dest=org.tegravirt /org/tegravirt \
                "org.tegravirt.Manager1.$method" "$@" 2>&1
}

# expect_error NAME METHOD ARGS... : the call fails with org.tegravirt.Error.NAME
expect_error() {
        local name="$1" out; shift
        out=$(mgr "$@") && { diag "  unexpected success: $out"; return 1; }
        if ! grep -q "org.tegravirt.Error.$name" <<<"$out"; then diag "  got: $out"; return 1; fi
        LAST_ERROR="$out"
}

expect_ok() {
        local out
        out=$(mgr "$@") || { diag "  failed: $out"; return 1; }
        LAST_REPLY="$out"
}

# fds 3.. of PID, "N=target " each in fd order (sockets as "socket"): what a backend holds
fds_of() {
        local f n t out=""
        for f in /proc/"$1"/fd/*; do
                n=${f##*/}; [ "$n" -ge 3 ] || continue
                t=$(readlink "$f"); case "$t" in socket:*) t=socket;; esac
                out+="$n=$t "
        done
        echo "$out"
}
status_of() { grep "^$2:" "/proc/$1/status" | tr -s ' \t' ' '; } # status_of PID FIELD
# check_confined PID UID WHO: a spawned backend's sandbox -- stdin/stdout /dev/null, all four
# uids UID and no supplementary groups, no capabilities, no_new_privs and a seccomp filter
check_confined() {
        local p=$1 uid=$2 who=$3
        check "  ... stdin and stdout are /dev/null" test "$(readlink /proc/"$p"/fd/0)|$(readlink /proc/"$p"/fd/1)" = "/dev/null|/dev/null"
        check "  ... runs as $who (all uids), no supplementary groups" \
                test "$(status_of "$p" Uid)|$(status_of "$p" Groups)" = "Uid: $uid $uid $uid $uid|Groups: "
        check "  ... without capabilities (CapEff, CapPrm 0)" test "$(status_of "$p" CapEff)|$(status_of "$p" CapPrm)" = \
                "CapEff: 0000000000000000|CapPrm: 0000000000000000"
        check "  ... with no_new_privs and a seccomp filter" test "$(status_of "$p" NoNewPrivs)|$(status_of "$p" Seccomp)" = \
                "NoNewPrivs: 1|Seccomp: 2"
}

sim() { printf '%s' "$*" >"$T/mnt/control"; }
sim_status() { grep "^$1 " "$T/mnt/status"; }
dev_driver() { sim_status "$1" | sed -n 's/.* driver=\([^ ]*\).*/\1/p'; }
dev_override() { sim_status "$1" | sed -n 's/.* override=\([^ ]*\).*/\1/p'; }
# A device is whole when it is on its host driver without override or on vfio-platform with it.
dev_whole() {
        local drv ovr
        drv=$(dev_driver "$1"); ovr=$(dev_override "$1")
        [ "$drv" = "$2" ] && [ "$ovr" = "-" ] && return 0
        [ "$drv" = vfio-platform ] && [ "$ovr" = vfio-platform ] && return 0
        diag "  $1 half-bound: driver=$drv override=$ovr"
        return 1
}
state_line() { grep "^device $1 " "$T/state/state" 2>/dev/null || true; }
