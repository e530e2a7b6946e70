#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CI check of kernel/ against Debian's linux-source-6.1, for arm64:
#   extract the tarball, link the two BPMP proxies into drivers/firmware/tegra
#   as kernel/README.md says, git apply kernel/patches/*.patch, defconfig with
#   both proxies and vfio-platform enabled, build drivers/firmware/tegra/
#   with W=1 (and again with the guest proxy disabled, for its stubs) and
#   drivers/vfio/platform/ (patch 0004) with W=1, sparse on the proxies,
#   build the host proxy as an out-of-tree module, run checkpatch --strict on
#   our sources, Documentation/ABI files and patches, validate
#   Documentation/ABI with scripts/get_abi.pl and the device tree bindings
#   (dt_binding_check when dt-schema is installed, else a YAML parse).
# Usage: tools/kernel-check.sh [WORKDIR]   (default $TV_KERNEL_WORK or
# build-tests/kernel). Prints "ok - ..."/"not ok - ..." per step and ends
# with "kernel: N passed, M failed"; exits non-zero when something failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
WORK=${1:-${TV_KERNEL_WORK:-$SRC/build-tests/kernel}}
TARBALL=${TV_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
JOBS=${TV_KERNEL_JOBS:-2}
export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
passed=0
failed=0
start=$(date +%s)

mkdir -p "$WORK" || exit 1
WORK=$(cd "$WORK" && pwd)
KSRC=$WORK/linux-source-6.1
KOUT=$WORK/out
LOG=$WORK/log
PROXIES="bpmp-host-proxy bpmp-guest-proxy"
# the tree is extracted under WORK, which may sit inside this repository:
# keep git apply from taking paths relative to the repository around it
export GIT_CEILING_DIRECTORIES=$WORK

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { # not_ok NAME [LOGFILE]
        echo "not ok - $1"
        if [ -n "${2:-}" ] && [ -s "$2" ]; then tail -n 60 "$2" | sed 's/^/#   /'; fi
        failed=$((failed + 1))
}
finish() {
        echo "# kernel check took $(($(date +%s) - start)) s; logs in $LOG"
        echo "kernel: $passed passed, $failed failed"
        [ "$failed" -eq 0 ]
        exit
}
kmake() { make -C "$KSRC" O="$KOUT" -j"$JOBS" "$@"; }
# compiler diagnostics in a build log (kbuild prints none on a clean build)
diagnostics() { grep -E '(warning|error):' "$1"; }

# 1. a fresh tree
rm -rf "$KSRC" "$KOUT" "$LOG" "$WORK/oot"
mkdir -p "$LOG"
if [ ! -r "$TARBALL" ]; then
        not_ok "extract: $TARBALL is missing (install linux-source-6.1)"
        finish
fi
if tar -C "$WORK" -xf "$TARBALL" 2>"$LOG/extract.log" && [ -f "$KSRC/Makefile" ]; then
        ok "extract $(basename "$TARBALL")"
else
        not_ok "extract $TARBALL (expected linux-source-6.1/)" "$LOG/extract.log"
        finish
fi

# 2. the proxies, linked in as kernel/README.md describes
linked=1
for d in $PROXIES; do
        if [ ! -f "$SRC/kernel/drivers/firmware/tegra/$d/Kconfig" ]; then
                not_ok "link $d: kernel/drivers/firmware/tegra/$d/Kconfig is missing"; linked=0
        elif ln -s "$SRC/kernel/drivers/firmware/tegra/$d" "$KSRC/drivers/firmware/tegra/$d"; then
                ok "link $d into drivers/firmware/tegra"
        else
                not_ok "link $d"; linked=0
        fi
done

# 3. the patches, in order
patched=1
for p in "$SRC"/kernel/patches/*.patch; do
        [ -f "$p" ] || { not_ok "kernel/patches/*.patch: none"; patched=0; break; }
        name=$(basename "$p")
        if (cd "$KSRC" && git apply --check "$p" && git apply "$p") >"$LOG/apply-$name.log" 2>&1; then
                ok "git apply $name"
        else
                not_ok "git apply $name" "$LOG/apply-$name.log"; patched=0
        fi
done
if [ "$linked" = 0 ] || [ "$patched" = 0 ]; then
        echo "# the build steps need the proxies and the patches; skipped"
        failed=$((failed + 1))
        finish
fi

# 4. configuration
cfg=$KOUT/.config
if { kmake defconfig &&
        "$KSRC"/scripts/config --file "$cfg" -e TEGRA_BPMP_HOST_PROXY -e TEGRA_BPMP_GUEST_PROXY \
                -e VFIO -e VFIO_PLATFORM &&
        kmake olddefconfig; } >"$LOG/config.log" 2>&1 &&
        grep -Eq '^CONFIG_TEGRA_BPMP_HOST_PROXY=(y|m)$' "$cfg" &&
        grep -q '^CONFIG_TEGRA_BPMP_GUEST_PROXY=y$' "$cfg" &&
        grep -q '^CONFIG_VFIO_PLATFORM=y$' "$cfg"; then
        ok "defconfig with $(grep -E '^CONFIG_(TEGRA_BPMP_(HOST|GUEST)_PROXY|VFIO_PLATFORM)=' "$cfg" | tr '\n' ' ')"
else
        grep -E 'CONFIG_TEGRA_BPMP|CONFIG_VFIO' "$cfg" >>"$LOG/config.log" 2>/dev/null
        not_ok "defconfig with both proxies and vfio-platform enabled" "$LOG/config.log"
        finish
fi

# 5. the build: prepare without W=1 (not ours), then the directory with it.
# Upstream's drivers/firmware/tegra/ has no W=1 warnings with Debian 12's
# gcc 12, so any diagnostic fails the step; no baseline build is needed.
if ! kmake prepare >"$LOG/prepare.log" 2>&1; then
        not_ok "make prepare" "$LOG/prepare.log"
        finish
fi
w1_build() { # w1_build NAME LOG OBJECTS... (DIR=directory, default drivers/firmware/tegra/)
        local name=$1 log=$2 o missing=""
        shift 2
        if ! kmake W=1 "${DIR:-drivers/firmware/tegra/}" >"$log" 2>&1; then
                not_ok "$name: build failed" "$log"; return
        fi
        if diagnostics "$log" >/dev/null; then
                diagnostics "$log" >"$log.diag"
                not_ok "$name: compiler diagnostics" "$log.diag"; return
        fi
        for o in "$@"; do [ -f "$KOUT/$o" ] || missing="$missing $o"; done
        if [ -n "$missing" ]; then
                not_ok "$name: not built:$missing" "$log"; return
        fi
        ok "$name"
}
w1_build "make W=1 drivers/firmware/tegra/ (patched bpmp core, host and guest proxies)" "$LOG/build.log" \
        drivers/firmware/tegra/bpmp.o \
        drivers/firmware/tegra/bpmp-host-proxy/built-in.a \
        drivers/firmware/tegra/bpmp-guest-proxy/bpmp-guest-proxy.o
# patch 0004's vfio-platform fix (upstream's drivers/vfio/platform/ has no W=1
# warnings with gcc 12 either)
DIR=drivers/vfio/platform/ w1_build "make W=1 drivers/vfio/platform/ (patched vfio-platform)" \
        "$LOG/build-vfio-platform.log" drivers/vfio/platform/vfio_platform_common.o
# (nm's output is kept whole: grep -q would close the pipe early, and pipefail
# would then report nm's SIGPIPE)
symbols() { nm "$KOUT/drivers/firmware/tegra/$1" 2>/dev/null; }
host_syms=$(symbols bpmp-host-proxy/built-in.a)
core_syms=$(symbols bpmp.o; symbols bpmp-tegra186.o)
if grep -q ' T ' <<<"$host_syms" &&
        grep -q ' U tegra_bpmp_guest_transfer$' <<<"$core_syms" &&
        grep -q ' U tegra_bpmp_guest_init$' <<<"$core_syms"; then
        ok "the host proxy is built in and the bpmp core calls the guest proxy"
else
        not_ok "the host proxy is built in and the bpmp core calls the guest proxy"
fi

# the same with the guest proxy disabled: the bpmp core's stubs
"$KSRC"/scripts/config --file "$cfg" -d TEGRA_BPMP_GUEST_PROXY
if kmake olddefconfig >"$LOG/config-noguest.log" 2>&1 && grep -q '^# CONFIG_TEGRA_BPMP_GUEST_PROXY is not set' "$cfg"; then
        w1_build "make W=1 drivers/firmware/tegra/ without the guest proxy (stubs)" "$LOG/build-noguest.log" \
                drivers/firmware/tegra/bpmp.o
        core_syms=$(symbols bpmp.o; symbols bpmp-tegra186.o)
        if grep -q 'tegra_bpmp_guest' <<<"$core_syms"; then
                not_ok "without the guest proxy the bpmp core references no guest symbol"
        else
                ok "without the guest proxy the bpmp core references no guest symbol"
        fi
else
        not_ok "olddefconfig without the guest proxy" "$LOG/config-noguest.log"
fi

# sparse on the proxies (upstream bpmp.c and bpmp-debugfs.c have sparse
# warnings of their own, none on the lines the patches touch)
if command -v sparse >/dev/null; then
        "$KSRC"/scripts/config --file "$cfg" -e TEGRA_BPMP_GUEST_PROXY
        if kmake olddefconfig >"$LOG/sparse.log" 2>&1 &&
                kmake C=2 drivers/firmware/tegra/bpmp-host-proxy/ drivers/firmware/tegra/bpmp-guest-proxy/ \
                        >>"$LOG/sparse.log" 2>&1; then
                # C=2 also checks the vdso during prepare (3 upstream warnings): ours only
                if diagnostics "$LOG/sparse.log" | grep -E '/bpmp-(host|guest)-proxy/' >"$LOG/sparse.diag"; then
                        not_ok "sparse (C=2) on both proxies" "$LOG/sparse.diag"
                else
                        ok "sparse (C=2) on both proxies"
                fi
        else
                not_ok "sparse (C=2) on both proxies: build failed" "$LOG/sparse.log"
        fi
else
        echo "# sparse is not installed: no sparse check"
fi

# 6. the host proxy as an out-of-tree module. The in-tree build above made no
# vmlinux, so modpost has no Module.symvers: that warning and the "undefined"
# symbols it causes are the only ones tolerated. The module is built from a
# copy of kernel/ so that no object lands in the repository.
mkdir -p "$WORK/oot"
cp -a "$SRC/kernel" "$WORK/oot/"
find "$WORK/oot/kernel" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' \
        -o -name built-in.a -o -name modules.order -o -name Module.symvers \) -delete
mdir=$WORK/oot/kernel/drivers/firmware/tegra/bpmp-host-proxy
if kmake modules_prepare >"$LOG/oot.log" 2>&1 &&
        kmake M="$mdir" CONFIG_TEGRA_BPMP_HOST_PROXY=m W=1 KBUILD_MODPOST_WARN=1 modules >>"$LOG/oot.log" 2>&1; then
        grep -E '(warning|error|WARNING|ERROR):' "$LOG/oot.log" |
                grep -Ev '^WARNING: (Module.symvers is missing|modpost: "[a-zA-Z0-9_]+" \[.*\] undefined!|modpost: suppressed [0-9]+ unresolved symbol warnings)' \
                        >"$LOG/oot.diag"
        if [ -s "$LOG/oot.diag" ]; then
                not_ok "out-of-tree module build of the host proxy (W=1): diagnostics" "$LOG/oot.diag"
        elif ls "$mdir"/*.ko >/dev/null 2>&1; then
                ok "out-of-tree module build of the host proxy (W=1): $(cd "$mdir" && echo ./*.ko)"
        else
                not_ok "out-of-tree module build of the host proxy: no .ko" "$LOG/oot.log"
        fi
else
        not_ok "out-of-tree module build of the host proxy" "$LOG/oot.log"
fi

# 7. checkpatch --strict: our sources (as files) and our patches
while IFS= read -r f; do
        rel=${f#"$SRC"/}
        if "$KSRC"/scripts/checkpatch.pl --strict --no-tree --quiet -f "$f" >"$LOG/checkpatch.log" 2>&1; then
                ok "checkpatch --strict $rel"
        else
                not_ok "checkpatch --strict $rel" "$LOG/checkpatch.log"
        fi
done < <({ find "$SRC/kernel" -type f \( -name '*.[ch]' -o -name Kconfig -o -name Makefile \)
        find "$SRC/kernel/Documentation/ABI" -type f 2>/dev/null; } | sort)
for p in "$SRC"/kernel/patches/*.patch; do
        if (cd "$KSRC" && scripts/checkpatch.pl --strict --quiet "$p") >"$LOG/checkpatch.log" 2>&1; then
                ok "checkpatch --strict $(basename "$p")"
        else
                not_ok "checkpatch --strict $(basename "$p")" "$LOG/checkpatch.log"
        fi
done

# 8. Documentation/ABI: ours are parsed by the kernel's own tool, which
# prints a warning (and still exits 0) for a bad tag or a What without a
# description, so any output is a failure
if [ -d "$SRC/kernel/Documentation/ABI" ]; then
        rm -rf "$WORK/abi" && mkdir -p "$WORK/abi" && cp -a "$SRC/kernel/Documentation/ABI/." "$WORK/abi/"
        if (cd "$KSRC" && perl scripts/get_abi.pl validate --dir "$WORK/abi") >"$LOG/abi.log" 2>&1 &&
                ! grep -q . "$LOG/abi.log" &&
                n=$(cd "$KSRC" && perl scripts/get_abi.pl rest --dir "$WORK/abi" 2>/dev/null | grep -c '^\.\. _abi_') &&
                [ "$n" -gt 0 ]; then
                ok "get_abi.pl validate kernel/Documentation/ABI ($n entries)"
        else
                not_ok "get_abi.pl validate kernel/Documentation/ABI" "$LOG/abi.log"
        fi
fi

# 9. device tree bindings: ours are copied next to the patched upstream one
bindings=$KSRC/Documentation/devicetree/bindings
yamls=("$bindings/firmware/nvidia,tegra186-bpmp.yaml")
while IFS= read -r y; do
        cp "$y" "$bindings/${y#"$SRC"/kernel/Documentation/devicetree/bindings/}" && yamls+=("$y")
done < <(find "$SRC/kernel/Documentation/devicetree/bindings" -name '*.yaml' 2>/dev/null | sort)
for y in "${yamls[@]}"; do
        if python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$y" >"$LOG/yaml.log" 2>&1; then
                ok "YAML parses: $(basename "$y")"
        else
                not_ok "YAML parses: $(basename "$y")" "$LOG/yaml.log"
        fi
done
if command -v dt-doc-validate >/dev/null; then
        # dt_binding_check prints nothing but problems with -s (and exits 0 on
        # most of them), so any output is a failure
        # one run (about 20 s) for the bindings in firmware/nvidia,*, one for each other
        patterns=("/firmware/nvidia,")
        for y in "${yamls[@]}"; do
                case $y in */firmware/nvidia,*) ;; *) patterns+=("/$(basename "$y")") ;; esac
        done
        for pat in "${patterns[@]}"; do
                if kmake -s dt_binding_check DT_SCHEMA_FILES="$pat" >"$LOG/dt-binding-check.log" 2>&1 &&
                        ! grep -q . "$LOG/dt-binding-check.log"; then
                        ok "dt_binding_check $pat*.yaml and examples (dt-schema $(dt-doc-validate --version))"
                else
                        not_ok "dt_binding_check $pat*.yaml" "$LOG/dt-binding-check.log"
                fi
        done
else
        echo "# dt-doc-validate (Debian package dt-schema) is not installed: no dt_binding_check"
fi

finish
