#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon never waits for QEMU: with an emulator whose probe or dumpdtb hangs,
# other calls (ListDevices, the hook's PrepareDomain of another domain) answer at
# once, calls for the same domain are refused with DomainBusy, a second domain on
# the same emulator joins the running probe, the slow call ends with the timeout's
# named error (or succeeds once the dump is done, defining the domain only then),
# and SIGTERM kills and reaps the running child.
source "$(dirname "$0")/../lib/integration.sh"
source "$(dirname "$0")/../lib/libvirt.sh"
tv_libvirt_test "$@"
tv_qemu_acl_add /dev/vfio/3
tv_start_daemon

# A functional bound, not a benchmark: a daemon that waits for the child takes 10 s.
# Under valgrind everything is ~20x slower, still far below the 10 s.
BOUND_MS=${TV_JOBS_BOUND_MS:-100}
[ -n "${TV_DAEMON_WRAPPER:-}" ] && BOUND_MS=${TV_JOBS_BOUND_MS:-2000}

# The slow emulator: Debian's QEMU, except that tegravirtd's probe (--version, -device
# help, -qmp stdio) or its dumpdtb sleeps first when $T/slow says "probe N" or "dump N".
# libvirt's own capability probe (-qmp unix:...) goes straight to QEMU.
SLOW="$T/slow-qemu"
cat >"$SLOW" <<EOF
#!/bin/bash
kind=""
case " \$* " in
*dumpdtb=*) kind=dump ;;
*" --version "*|*" -device help "*|*" -qmp stdio "*) kind=probe ;;
esac
if [ -n "\$kind" ]; then
        echo "\$\$ \$kind" >>"$T/slow.log"
        read -r want secs <"$T/slow" 2>/dev/null || true
        if [ "\$want" = "\$kind" ]; then
                sleep "\$secs" &
                echo "\$! sleeper" >>"$T/slow.log"
                wait
        fi
fi
exec /usr/bin/qemu-system-aarch64 "\$@"
EOF
chmod 0755 "$SLOW"
: >"$T/slow.log"
echo "none 0" >"$T/slow"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# timed NAME METHOD ARGS...: the call succeeds within BOUND_MS
timed() {
        local what="$1" t0 t1 out rc=0; shift
        t0=$(now_ms)
        out=$(mgr "$@") || rc=$?
        t1=$(now_ms)
        echo "# $what: $((t1 - t0)) ms (bound $BOUND_MS ms)"
        [ "$rc" = 0 ] || { echo "  failed: $out"; return 1; }
        [ $((t1 - t0)) -lt "$BOUND_MS" ]
}
# bg NAME METHOD ARGS...: calls in the background; $T/NAME.out, $T/NAME.rc, $T/NAME.ms
bg() {
        local name="$1"; shift
        (
                t0=$(now_ms); rc=0
                dbus-send --system --print-reply --reply-timeout=60000 --dest=org.tegravirt /org/tegravirt \
                        "org.tegravirt.Manager1.$1" "${@:2}" >"$T/$name.out" 2>&1 || rc=$?
                echo $(($(now_ms) - t0)) >"$T/$name.ms"
                echo "$rc" >"$T/$name.rc"
        ) &
}
bg_done() { test -s "$T/$1.rc"; }
count_runs() { grep -c " $1\$" "$T/slow.log" || true; }
# gone PID: no such process, or a zombie its new parent has not reaped yet
gone() { [ ! -e "/proc/$1" ] || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
assigned() { busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q "\"$1\" \"$2\""; }

tv_domain_xml vmA "$SLOW" >"$T/vmA.xml"
tv_domain_xml vmB >"$T/vmB.xml"
tv_domain_xml vmC "$SLOW" >"$T/vmC.xml"
for v in vmA vmB vmC; do virsh_ define "$T/$v.xml" >/dev/null || not_ok "define $v"; done
virsh_ dumpxml --inactive vmA >"$T/vmA.before"
check "vmB gets uarti (Debian's QEMU)" expect_ok AssignDevice string:vmB string:uarti

# --- the probe hangs (20 s; tegravirtd gives up after 10 s) ---
echo "probe 20" >"$T/slow"
bg assignA AssignDevice string:vmA string:gpio-aon
check "the probe of the slow emulator started" wait_for 10 grep -q ' sleeper$' "$T/slow.log"
check "ListDevices answers while the probe runs" timed ListDevices ListDevices
check "PrepareDomain of another domain answers while the probe runs" timed "PrepareDomain vmB" PrepareDomain string:vmB string:
check "  ... and bound uarti for vmB" test "$(dev_driver 31d0000.serial)" = vfio-platform
check "ReleaseDomain vmB answers too" timed "ReleaseDomain vmB" ReleaseDomain string:vmB
check "  ... uarti is back on serial-tegra" test "$(dev_driver 31d0000.serial)" = serial-tegra
check "the device is taken meanwhile: AssignDevice vmC gpio-aon is DeviceBusy" expect_error DeviceBusy AssignDevice string:vmC string:gpio-aon
check "a second AssignDevice for vmA is refused with DomainBusy" expect_error DomainBusy AssignDevice string:vmA string:gpio-main
check "  ... naming the domain and what to do" grep -q "vmA .*retry" <<<"$LAST_ERROR"
check "PrepareDomain vmA is refused with DomainBusy" expect_error DomainBusy PrepareDomain string:vmA string:
check "RepairDomain vmA is refused with DomainBusy" expect_error DomainBusy RepairDomain string:vmA
check "vmA's call has not answered yet" bash -c "! test -s '$T/assignA.rc'"
bg assignC AssignDevice string:vmC string:gpio-main
sleep 0.5
check "vmC on the same emulator joins the running probe (one --version run)" test "$(count_runs probe)" = 1
check "vmA's AssignDevice ends with the probe's timeout" wait_for 30 bg_done assignA
check "  ... HostNotReady, the emulator killed after 10 s" grep -q "HostNotReady.*slow-qemu --version did not finish within 10000 ms; killed it" "$T/assignA.out"
check "  ... after about 10 s, not 20 s" bash -c "ms=\$(cat '$T/assignA.ms'); echo \"# assign took \$ms ms\"; [ \$ms -ge 9500 ] && [ \$ms -lt 15000 ]"
check "vmC's call got the same answer" bash -c "wait_for() { for i in \$(seq 100); do \"\$@\" && return 0; sleep 0.1; done; return 1; }; wait_for test -s '$T/assignC.rc' && grep -q 'HostNotReady.*did not finish within 10000 ms' '$T/assignC.out'"
check "the sleeping child was killed with its group" bash -c "$(declare -f gone); for p in \$(awk '{print \$1}' '$T/slow.log'); do gone \$p || exit 1; done"
check "the failed assignment was taken back" bash -c "! busctl --system call org.tegravirt /org/tegravirt org.tegravirt.Manager1 ListAssignments | grep -q vmA"
check "  ... and vmA's definition is unchanged" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmA | diff -q - '$T/vmA.before' >/dev/null"

# --- the dump is slow (4 s): the define waits for it ---
echo "dump 4" >"$T/slow"
: >"$T/slow.log"
bg assignA2 AssignDevice string:vmA string:gpio-aon
check "dumpdtb of vmA's machine started" wait_for 20 grep -q ' sleeper$' "$T/slow.log"
check "ListDevices answers while dumpdtb runs" timed ListDevices ListDevices
check "vmA is not redefined before its device tree exists" bash -c "! virsh -q -c qemu:///system dumpxml --inactive vmA | grep -q vfio-platform"
check "vmA's AssignDevice succeeds once the dump is done" wait_for 30 bg_done assignA2
check "  ... with a method return" bash -c "[ \"\$(cat '$T/assignA2.rc')\" = 0 ] || { cat '$T/assignA2.out'; false; }"
check "  ... vmA now carries the device and its DTB" bash -c "virsh -q -c qemu:///system dumpxml --inactive vmA | grep -q 'vfio-platform,host=c2f0000.gpio' && test -s '$T/state/domains/vmA.dtb'"
check "  ... one dumpdtb ran" test "$(count_runs dump)" = 1
check "gpio-aon is assigned to vmA" assigned vmA gpio-aon

# --- a redefinition with another machine re-dumps as a job too ---
: >"$T/slow.log"
fp_before=$(cat "$T/state/domains/vmA.fingerprint")
virsh_ dumpxml --inactive vmA | sed "s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>2</vcpu>|" >"$T/vmA.2cpu.xml"
virsh_ define "$T/vmA.2cpu.xml" >/dev/null || not_ok "redefine vmA with 2 vCPUs"
check "the redefinition started a dumpdtb for 2 vCPUs" wait_for 20 grep -q ' sleeper$' "$T/slow.log"
check "ListDevices answers while that dump runs" timed ListDevices ListDevices
check "PrepareDomain vmA is DomainBusy while its tree is remade" expect_error DomainBusy PrepareDomain string:vmA string:
check "the DTB follows once the dump is done" wait_for 30 bash -c "[ \"\$(cat '$T/state/domains/vmA.fingerprint')\" != '$fp_before' ]"
check "  ... for 2 CPUs" bash -c "dtc -I dtb -O dts '$T/state/domains/vmA.dtb' 2>/dev/null | grep -q 'cpu@1'"

# --- SIGTERM while a probe runs: the child is killed and reaped, the caller answered ---
echo "probe 20" >"$T/slow"
: >"$T/slow.log"
touch "$SLOW"   # a changed binary is probed again
bg repairA RepairDomain string:vmA
check "RepairDomain vmA waits for a new probe" wait_for 10 grep -q ' sleeper$' "$T/slow.log"
t0=$(now_ms)
check "the daemon exits 0 on SIGTERM while the probe runs" tv_stop_daemon
echo "# stop took $(($(now_ms) - t0)) ms"
check "  ... without waiting for the probe" test $(($(now_ms) - t0)) -lt 5000
check "the probe's process and its helper are gone (killed and reaped)" bash -c "$(declare -f gone); for p in \$(awk '{print \$1}' '$T/slow.log'); do gone \$p || { echo \"  \$p left\"; exit 1; }; done"
check "the RepairDomain caller got an answer" wait_for 10 bg_done repairA
check "  ... org.tegravirt.Error.Failed: cancelled, tegravirtd is stopping" bash -c "grep -q 'org.tegravirt.Error.Failed.*cancelled: tegravirtd is stopping' '$T/repairA.out' || { cat '$T/repairA.out'; false; }"
tv_start_daemon
check "after a restart vmA keeps gpio-aon" assigned vmA gpio-aon
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
