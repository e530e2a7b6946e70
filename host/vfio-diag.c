// SPDX-License-Identifier: GPL-2.0-or-later
#include "vfio-diag.h"
#include "tv-fileio.h"
#include "tv-macros.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tv_host_kernel_release(TvHost *h, char **release)
{
        _cleanup_free_ char *copy = strdup(h->sysfs_root), *path = NULL, *buf = NULL;
        _cleanup_close_ int fd = -1;
        size_t len;
        int r;

        if (!copy || asprintf(&path, "%s/proc/sys/kernel/osrelease", dirname(copy)) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = tv_read_fd(fd, 256, &buf, &len);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        if (!*buf)
                return -ENODATA;
        *release = TAKE_PTR(buf);
        return 0;
}

bool tv_kernel_release_lacks_reset_fix(const char *release)
{
        unsigned major, minor;

        return sscanf(release, "%u.%u", &major, &minor) == 2 && major == 6 && minor >= 1 && minor < 3;
}

static char *reset_hint(TvHost *h)
{
        _cleanup_free_ char *param = NULL, *release = NULL;
        char *s = NULL;
        int r;

        if (tv_sysfs_param_read(h, "vfio_platform", "reset_required", &param) == 0 && strcmp(param, "N") != 0)
                r = asprintf(&s, "vfio_platform.reset_required is %s and no Tegra device has a vfio reset module: "
                             "add vfio_platform.reset_required=0 to the kernel command line and reboot", param);
        else if (tv_host_kernel_release(h, &release) == 0 && !tv_kernel_release_lacks_reset_fix(release))
                return NULL;
        else
                r = asprintf(&s, "kernel %s: this kernel's vfio-platform lacks the reset-optional fix "
                             "(upstream v6.3, commit 168a9c91fe0a) and fails every device without a vfio reset module "
                             "even with reset_required=0; apply tegravirt's "
                             "kernel/patches/0004-vfio-platform-do-not-fail-probe-without-an-optional-reset.patch "
                             "or boot a kernel >= 6.3 or a JetPack 5.x/6.x kernel", release ? release : "release unknown");
        return r < 0 ? NULL : s;
}

/* 6.1's vfio-platform reads the device's "compatible" to look its reset up and fails a device
 * without one with EINVAL, like the coherency check; an OF device's modalias lists it as C<compat>. */
bool tv_vfio_device_lacks_compatible(TvHost *h, const char *pid)
{
        _cleanup_free_ char *modalias = NULL;
        const char *c;

        if (tv_sysfs_dev_attr_read(h, pid, "modalias", &modalias) < 0)
                return false;   /* unknown: do not guess */
        c = strncmp(modalias, "of:", 3) == 0 ? strchr(modalias + 3, 'C') : NULL;
        return !c || c[1] == 0 || c[1] == '\n';
}

char *tv_vfio_bind_hint(TvHost *h, const char *pid, int r)
{
        char *s = NULL;

        if (r == -ENOENT)
                return reset_hint(h);
        if (r == -EINVAL && pid && tv_vfio_device_lacks_compatible(h, pid))
                return asprintf(&s, "%s has no compatible property (no device-tree node), which vfio-platform "
                                "needs to look a reset function up (Linux 6.1); only devices with a device-tree "
                                "node can be passed through", pid) < 0 ? NULL : s;
        if (r == -EINVAL)
                return strdup("vfio refuses a device whose IOMMU is not cache coherent (Linux >= 6.1); "
                              "on arm-smmu that follows the dma-coherent property: add dma-coherent to the SMMU "
                              "node and the device node in the host device tree");
        return NULL;
}
