// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the qemu.conf reader (cgroup_device_acl, namespaces). */
#include <stdint.h>
#include "qemu-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TvQemuConf c;
        TvError err = { 0 };

        if (tv_qemu_conf_parse((const char *)data, size, &c, &err) == 0) {
                tv_qemu_conf_allows(&c, "/dev/vfio/vfio");
                tv_qemu_conf_clear(&c);
        }
        return 0;
}
