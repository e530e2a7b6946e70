# SPDX-License-Identifier: GPL-2.0-or-later
# The shell tests' TAP harness. Source it; then
#   check WHAT COMMAND...   one "ok - WHAT" / "not ok - WHAT"; what COMMAND
#                           prints to stdout follows as "# " lines (TAP diagnostics)
#   ok WHAT / not_ok WHAT   a result without a command
#   diag TEXT...            "# " lines
#   tap_skip_all REASON     the whole test cannot run here (root, FUSE, libvirtd, ...)
#   tap_skip WHAT REASON    one check cannot run here
#   tap_finish              the plan "1..N"; returns non-zero on a failure or no check
# meson runs every test with protocol 'tap'. A skip is TAP's ("1..0 # SKIP REASON" and
# exit 0): meson's TAP runner turns any non-zero exit, 77 included, into ERROR. With
# TV_TEST_NO_SKIP=1 (tools/run-tests.sh: CI has everything a test needs) a skip is
# "not ok" with its reason instead.

# What a check's command prints goes to an unlinked file, shown as diagnostics. The
# results are counted in another ("p" or "f" per result), so that checks in subshells
# and pipelines count too (TAP numbers are left to the reader for the same reason).
_tap_f=$(mktemp "${TMPDIR:-/tmp}/tv-tap.XXXXXX")
exec {TAP_FD}<>"$_tap_f"
rm -f "$_tap_f"
_tap_f=$(mktemp "${TMPDIR:-/tmp}/tv-tap.XXXXXX")
exec {TAP_COUNT_FD}>>"$_tap_f"
rm -f "$_tap_f"
unset _tap_f
TV_PASS=0 # counts of this shell; tap_finish counts all
TV_FAIL=0

diag() { # diag TEXT...: each line as a TAP diagnostic
        printf '%s\n' "$*" | sed 's/^\([^#]\)/# \1/; s/^$/#/'
}

ok() { TV_PASS=$((TV_PASS + 1)); printf p >&"$TAP_COUNT_FD"; echo "ok - $*"; }
not_ok() { TV_FAIL=$((TV_FAIL + 1)); printf f >&"$TAP_COUNT_FD"; echo "not ok - $*"; }
_tap_count() { # _tap_count [p|f]: results so far (of that kind)
        tr -cd "${1:-pf}" <"/proc/$$/fd/$TAP_COUNT_FD" | wc -c
}

check() { # check DESCRIPTION COMMAND...: runs COMMAND in this shell (it may set variables)
        local what="$1" rc=0
        shift
        "$@" >"/proc/$$/fd/$TAP_FD" || rc=$?
        if [ "$rc" = 0 ]; then ok "$what"; else not_ok "$what"; fi
        sed 's/^\([^#]\)/# \1/; s/^$/#/' "/proc/$$/fd/$TAP_FD"
        return 0
}

tap_skip() { # tap_skip WHAT REASON
        if [ -n "${TV_TEST_NO_SKIP:-}" ]; then
                not_ok "$1 (skipped: $2; TV_TEST_NO_SKIP makes a skip a failure)"
        else
                printf p >&"$TAP_COUNT_FD"; echo "ok - $1 # SKIP $2"
        fi
}

tap_skip_all() { # tap_skip_all REASON: ends the test
        if [ -n "${TV_TEST_NO_SKIP:-}" ]; then
                not_ok "cannot run: $1 (TV_TEST_NO_SKIP makes a skip a failure)"
                echo "1..$(_tap_count)"
                exit 1
        fi
        echo "1..0 # SKIP $1"
        exit 0
}

# Requirements: each skips the whole test when it is not met.
tap_require_root() {
        [ "$(id -u)" = 0 ] || tap_skip_all "needs root${1:+ ($1)}"
}
tap_require_cmd() { # tap_require_cmd COMMAND...
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || tap_skip_all "needs $c (tools/install-deps.sh installs it)"
        done
}
tap_require_fuse() {
        [ -c /dev/fuse ] || tap_skip_all "needs FUSE (/dev/fuse)"
        tap_require_cmd fusermount3
}

tap_finish() {
        local n f
        [ "$(_tap_count)" -gt 0 ] || not_ok "the test ran no check"
        n=$(_tap_count); f=$(_tap_count f)
        echo "1..$n"
        echo "# $((n - f)) passed, $f failed"
        [ "$f" -eq 0 ]
}
