#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every golden domain, after tegravirt's edit, is still a valid libvirt domain
# (virt-xml-validate, i.e. /usr/share/libvirt/schemas/domain.rng), and the
# record in its <metadata> matches xml-schemas/domain-metadata.rng.
# Usage: domain-xml-validate.sh TEST-DOMAIN-EDIT GOLDEN-DIR DOMAIN-METADATA.RNG
set -uo pipefail
T="$1" DIR="$2" RNG="$3"
source "$(dirname "$0")/../lib/tap.sh"
skip=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! command -v virt-xml-validate >/dev/null || [ ! -e /usr/share/libvirt/schemas/domain.rng ]; then
        skip="virt-xml-validate or libvirt's domain.rng missing (libvirt-clients)"
fi
for in in "$DIR"/*.xml; do
        name=$(basename "$in" .xml)
        if [ "$skip" = 0 ]; then
                if virt-xml-validate "$in" domain >"$tmp/log" 2>&1; then ok "$name: input is a valid domain"
                else not_ok "$name: input is a valid domain"; sed 's/^/# /' "$tmp/log"; fi
        else
                tap_skip "$name: input is a valid domain" "$skip"
        fi
        # the devices' edit, and the line groups' (vhost-user GPIO device, shared memfd memory)
        for mode in "" -gpio; do
                out="$tmp/$name$mode.applied.xml"
                if ! "$T" --dump-applied$mode "$in" "$out" 2>"$tmp/log"; then
                        not_ok "$name$mode: apply"; sed 's/^/# /' "$tmp/log"; continue
                fi
                ok "$name$mode: apply"
                if [ "$skip" = 0 ]; then
                        if virt-xml-validate "$out" domain >"$tmp/log" 2>&1; then ok "$name$mode: applied output is a valid domain"
                        else not_ok "$name$mode: applied output is a valid domain"; sed 's/^/# /' "$tmp/log"; fi
                else
                        tap_skip "$name$mode: applied output is a valid domain" "$skip"
                fi
                meta="$tmp/$name$mode.meta.xml"
                if xmllint --xpath '/domain/metadata/*[namespace-uri()="https://tegravirt.org/ns/domain/1"]' "$out" \
                        >"$meta" 2>"$tmp/log" && xmllint --noout --relaxng "$RNG" "$meta" >"$tmp/log" 2>&1; then
                        ok "$name$mode: metadata matches domain-metadata.rng"
                else
                        not_ok "$name$mode: metadata matches domain-metadata.rng"; sed 's/^/# /' "$tmp/log"
                fi
        done
done
tap_finish
