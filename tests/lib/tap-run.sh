#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One command as a TAP test: tap-run.sh DESCRIPTION COMMAND... (for tools such as
# xmllint that print no TAP themselves).
set -uo pipefail
source "$(dirname "$0")/tap.sh"
what=${1:?usage: tap-run.sh DESCRIPTION COMMAND...}
shift
both() { "$@" 2>&1; } # its stderr among the diagnostics too
check "$what" both "$@"
tap_finish
