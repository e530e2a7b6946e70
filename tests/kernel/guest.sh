# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# kernel-glue's guest side (busybox sh, run by tests/rig/rig-run.sh): load the test module
# (the host proxy's own sources with a simulated BPMP), run bpmp-glue-test against it (and
# its 32-bit build), unload it, and check the kernel log. Prints TAP with the plan; status 1 on a failure.
out=/tmp/glue.tap
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
{
        if insmod /rig/bpmp-host-glue.ko; then
                echo "ok - insmod bpmp-host-glue.ko"
                /rig/bpmp-glue-test
                echo "# bpmp-glue-test exit $?"
                # a 32-bit VMM: the same cases through the driver's compat_ioctl
                if [ -x /rig/bpmp-glue-test32 ]; then
                        /rig/bpmp-glue-test32 "[arm32] "
                        echo "# bpmp-glue-test32 exit $?"
                fi
                if rmmod bpmp_host_glue; then echo "ok - rmmod bpmp_host_glue"; else echo "not ok - rmmod bpmp_host_glue"; fi
        else
                echo "not ok - insmod bpmp-host-glue.ko"
        fi
        # the driver must not have warned, oopsed or corrupted anything on the way
        if dmesg | grep -E 'WARNING:|BUG:|Oops|Call trace:|refcount_t:|list_(add|del) corruption|stack-protector|usercopy:' >/tmp/bad; then
                echo "not ok - the kernel log holds no warning, oops or corruption report"
                sed 's/^/# /' /tmp/bad
        else
                echo "ok - the kernel log holds no warning, oops or corruption report"
        fi
} 2>&1 | tee "$out"
if grep -q '^not ok' "$out"; then
        echo "# the driver's log:"
        dmesg | grep -E 'bpmp|glue' | tail -n 40 | sed 's/^/# /'
fi
echo "1..$(grep -c -E '^(ok|not ok)' "$out")"
! grep -q -E '^(not ok|Bail out!)' "$out"
