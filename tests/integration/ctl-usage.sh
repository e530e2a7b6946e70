#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tegravirtctl checks that need no daemon: usage errors exit 2 without touching
# the bus, --help/--version, and exit 1 when the bus cannot be reached.
# Usage: ctl-usage.sh PATH-TO-TEGRAVIRTCTL
set -euo pipefail
source "$(dirname "$0")/../lib/tap.sh"

ctl=${1:?usage: $0 PATH-TO-TEGRAVIRTCTL}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Usage checks run against an unreachable bus: a client that contacted the bus
# would exit 1 there, so exit 2 also proves the bus was left alone.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/tegravirt-test-bus
export LC_ALL=C

# not_ok_run DESCRIPTION [DETAIL...]: a failure, with the last run's output
not_ok_run() {
        not_ok "$1"
        shift
        for line in "$@"; do echo "#   $line"; done
        sed 's/^/#   stdout: /' "$tmp/out" | head -n 5
        sed 's/^/#   stderr: /' "$tmp/err" | head -n 5
}

# run CMD...: runs tegravirtctl, leaves the status in $rc and output in $tmp/{out,err}
run() {
        rc=0
        "$ctl" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
}

# expect_rc DESCRIPTION RC ARGS...: exit status RC, a "tegravirtctl:" message on
# stderr and nothing on stdout (RC is 1 or 2 here)
expect_rc() {
        local desc=$1 want=$2
        shift 2
        run "$@"
        if [[ $rc -ne $want ]]; then
                not_ok_run "$desc" "expected exit status $want, got $rc"
        elif [[ -s $tmp/out ]]; then
                not_ok_run "$desc" "expected nothing on stdout"
        elif ! grep -q '^tegravirtctl: ' "$tmp/err"; then
                not_ok_run "$desc" "expected a 'tegravirtctl: ...' message on stderr"
        else
                ok "$desc"
        fi
}

usage() { expect_rc "usage: $1" 2 "${@:2}"; }

# --- command line structure ---
usage "no command"
usage "only options, no command" --json
usage "unknown command" frobnicate
usage "unknown command that looks like a prefix" lis
usage "unknown long option" --frobnicate list
usage "unknown short option" -Z list
usage "option after the command is still checked" list --frobnicate
usage "--timeout without a value" list --timeout
usage "--timeout not a number" --timeout soon list
usage "--timeout zero" --timeout 0 list
usage "--timeout negative" --timeout -1 list
usage "--xml with a command other than prepare" --xml /dev/null list
usage "--xml with an empty file name" prepare vm1 --xml ''
usage "--json with an argument" --json=yes list

# --- argument counts ---
usage "assign without arguments" assign
usage "assign with one argument" assign vm1
usage "unassign with one argument" unassign vm1
usage "prepare without a domain" prepare
usage "release without a domain" release
usage "list with an argument" list extra
usage "assignments with an argument" assignments extra
usage "status with two arguments" status uarta gpio
usage "assign with three arguments" assign vm1 uarta extra
usage "unassign with three arguments" unassign vm1 uarta extra
usage "prepare with two domains" prepare vm1 vm2
usage "release with two domains" release vm1 vm2
usage "help with an argument" help extra

# --- hostile names: rejected locally ---
long=$(printf 'a%.0s' {1..4096})
declare -A hostile=(
        [dotdot]='../x'
        [slash]='a/b'
        [empty]=''
        [long4096]="$long"
        [non-utf8]=$'\xff\xfe'
        [newline]=$'vm\n1'
        [space]='vm 1'
)
for label in dotdot slash empty long4096 non-utf8 newline space; do
        bad=${hostile[$label]}
        usage "assign: $label domain" assign "$bad" uarta
        usage "assign: $label device" assign vm1 "$bad"
        usage "unassign: $label domain" unassign "$bad" uarta
        usage "unassign: $label device" unassign vm1 "$bad"
        usage "status: $label device" status "$bad"
        usage "prepare: $label domain" prepare "$bad"
        usage "release: $label domain" release "$bad"
done
usage "domain starting with '-' (after --)" assign -- -x uarta
usage "domain starting with '.'" release .hidden
usage "65-character domain" release "$(printf 'v%.0s' {1..65})"

# --- help and version ---
run --help
if [[ $rc -ne 0 ]]; then
        not_ok_run "--help exits 0" "got $rc"
else
        ok "--help exits 0"
fi
for cmd in list status assignments assign unassign prepare release; do
        if grep -qE "^  $cmd( |$)" "$tmp/out"; then
                ok "--help lists '$cmd'"
        else
                not_ok_run "--help lists '$cmd'"
        fi
done
for opt in --json --timeout --version --help --xml; do
        if grep -q -- "$opt" "$tmp/out"; then
                ok "--help mentions $opt"
        else
                not_ok_run "--help mentions $opt"
        fi
done
run -h
if [[ $rc -eq 0 ]] && grep -q '^Usage: tegravirtctl' "$tmp/out"; then
        ok "-h prints the usage"
else
        not_ok_run "-h prints the usage" "got $rc"
fi
run help
if [[ $rc -eq 0 ]] && grep -q '^Usage: tegravirtctl' "$tmp/out"; then
        ok "'help' prints the usage"
else
        not_ok_run "'help' prints the usage" "got $rc"
fi
run --version
if [[ $rc -eq 0 ]] && grep -qE '^tegravirtctl [0-9]+\.[0-9]+' "$tmp/out"; then
        ok "--version prints the version"
else
        not_ok_run "--version prints the version" "got $rc"
fi

# --- unreachable bus: exit 1 with a message, nothing on stdout ---
expect_rc "list with no bus" 1 list
expect_rc "--json list with no bus" 1 --json list
expect_rc "status with no bus" 1 status
expect_rc "status DEVICE with no bus" 1 status uarta
expect_rc "assign with no bus" 1 assign vm1 uarta
expect_rc "prepare with no bus" 1 prepare vm1
expect_rc "platform id accepted, then no bus" 1 status 3100000.serial
run list
if grep -q 'system bus' "$tmp/err"; then
        ok "no-bus message names the system bus"
else
        not_ok_run "no-bus message names the system bus"
fi
expect_rc "prepare with an unreadable --xml file" 1 prepare vm1 --xml /nonexistent/domain.xml
# --xml is capped at the daemon's limit for a domain XML (4 MiB, common/tv-limits.h):
# exactly that much is read and sent (here: to no bus), one byte more is refused first
head -c 4194304 /dev/zero | tr '\0' ' ' >"$tmp/cap.xml"
run prepare vm1 --xml "$tmp/cap.xml"
if [[ $rc == 1 ]] && grep -q 'system bus' "$tmp/err" && ! grep -q 'larger than' "$tmp/err"; then
        ok "prepare --xml of exactly 4 MiB is read and sent"
else
        not_ok "prepare --xml of exactly 4 MiB is read and sent" "exit $rc"
fi
printf ' ' >>"$tmp/cap.xml"
run prepare vm1 --xml "$tmp/cap.xml"
if [[ $rc == 1 ]] && grep -q 'cap.xml is larger than 4194304 bytes (4 MiB)' "$tmp/err"; then
        ok "prepare --xml of 4 MiB and one byte is refused before the bus"
else
        not_ok "prepare --xml of 4 MiB and one byte is refused before the bus" "exit $rc"
fi

tap_finish
