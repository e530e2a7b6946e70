// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Proves a device bound by the rig's engine is usable through vfio, the way a VMM
 * opens it: container, group (no-IOMMU), device fd, region 0 read through the fd.
 *   tv-rig-vfio GROUP_NODE DEVICE [OFFSET]
 * GROUP_NODE is /dev/vfio/noiommu-N (or /dev/vfio/N). Prints the device info, region 0
 * and the 32-bit little-endian word at OFFSET (default 0) of region 0 as "word 0x...".
 * For the rig only (tests/rig/README.md); static aarch64 build.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int die(const char *what)
{
        fprintf(stderr, "tv-rig-vfio: %s: %s\n", what, strerror(errno));
        return 1;
}

int main(int argc, char **argv)
{
        struct vfio_group_status status = { .argsz = sizeof(status) };
        struct vfio_device_info info = { .argsz = sizeof(info) };
        struct vfio_region_info region = { .argsz = sizeof(region), .index = 0 };
        unsigned long offset = 0;
        uint8_t b[4];
        int container, group, device, ext;

        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: tv-rig-vfio GROUP_NODE DEVICE [OFFSET]\n");
                return 2;
        }
        if (argc == 4)
                offset = strtoul(argv[3], NULL, 0);
        container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
        if (container < 0)
                return die("open /dev/vfio/vfio");
        if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
                fprintf(stderr, "tv-rig-vfio: unexpected VFIO API version\n");
                return 1;
        }
        ext = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU);
        printf("noiommu-extension %d\n", ext);
        group = open(argv[1], O_RDWR | O_CLOEXEC);
        if (group < 0)
                return die(argv[1]);
        if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
                return die("VFIO_GROUP_GET_STATUS");
        printf("group-viable %d\n", !!(status.flags & VFIO_GROUP_FLAGS_VIABLE));
        if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
                fprintf(stderr, "tv-rig-vfio: group not viable\n");
                return 1;
        }
        if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
                return die("VFIO_GROUP_SET_CONTAINER");
        if (ioctl(container, VFIO_SET_IOMMU, ext > 0 ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU) < 0)
                return die("VFIO_SET_IOMMU");
        device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
        if (device < 0)
                return die("VFIO_GROUP_GET_DEVICE_FD");
        if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
                return die("VFIO_DEVICE_GET_INFO");
        printf("device platform=%d regions=%u irqs=%u\n", !!(info.flags & VFIO_DEVICE_FLAGS_PLATFORM),
               info.num_regions, info.num_irqs);
        if (info.num_regions < 1) {
                fprintf(stderr, "tv-rig-vfio: no region\n");
                return 1;
        }
        if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &region) < 0)
                return die("VFIO_DEVICE_GET_REGION_INFO");
        printf("region0 size=0x%llx offset=0x%llx flags=0x%x\n", (unsigned long long)region.size,
               (unsigned long long)region.offset, region.flags);
        if (!(region.flags & VFIO_REGION_INFO_FLAG_READ) || offset + 4 > region.size) {
                fprintf(stderr, "tv-rig-vfio: region 0 is not readable at 0x%lx\n", offset);
                return 1;
        }
        if (pread(device, b, 4, (off_t)(region.offset + offset)) != 4)
                return die("pread region 0");
        printf("word 0x%08x\n", (unsigned)b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 | (unsigned)b[3] << 24);
        close(device);
        close(group);
        close(container);
        return 0;
}
