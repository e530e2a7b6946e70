// SPDX-License-Identifier: GPL-2.0-or-later
#include "sysfs.h"
#include "tv-macros.h"
#include "tv-validate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ATTR_MAX 4096

#define MAX_COMPONENTS 64
#define MAX_LINK_HOPS 40

/*
 * Lexical resolution inside root for kernels (and valgrind) without openat2:
 * ".." never climbs above root and absolute symlinks restart at root, like
 * RESOLVE_IN_ROOT. sysfs is ours to read, so the check-then-open race is moot.
 */
static int resolve_in_root(int rootfd, const char *path, char *out, size_t size)
{
        char queue[PATH_MAX * 2], *stack[MAX_COMPONENTS], cur[PATH_MAX];
        char storage[MAX_COMPONENTS][NAME_MAX + 1];
        size_t depth = 0, hops = 0;
        char *rest = queue, *comp;

        if (strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;
        snprintf(queue, sizeof(queue), "%s", path);
        for (;;) {
                while (*rest == '/')
                        rest++;
                if (!*rest)
                        break;
                comp = rest;
                rest += strcspn(rest, "/");
                if (*rest)
                        *rest++ = 0;
                if (strcmp(comp, ".") == 0)
                        continue;
                if (strcmp(comp, "..") == 0) {
                        if (depth > 0)
                                depth--;
                        continue;
                }
                if (depth == MAX_COMPONENTS || strlen(comp) > NAME_MAX)
                        return -ENAMETOOLONG;
                snprintf(storage[depth], sizeof(storage[depth]), "%s", comp);
                stack[depth] = storage[depth];
                depth++;
                {
                        char target[PATH_MAX], tail[PATH_MAX * 2];
                        size_t len = 0;
                        ssize_t n;

                        cur[0] = 0;
                        for (size_t i = 0; i < depth; i++)
                                len += (size_t)snprintf(cur + len, sizeof(cur) - len, "%s%s", i ? "/" : "", stack[i]);
                        n = readlinkat(rootfd, cur, target, sizeof(target) - 1);
                        if (n < 0)
                                continue; /* not a symlink (or absent: open reports it) */
                        if (++hops > MAX_LINK_HOPS)
                                return -ELOOP;
                        target[n] = 0;
                        depth--;
                        if (target[0] == '/')
                                depth = 0;
                        if (snprintf(tail, sizeof(tail), "%s/%s", target, rest) >= (int)sizeof(tail))
                                return -ENAMETOOLONG;
                        snprintf(queue, sizeof(queue), "%s", tail);
                        rest = queue;
                }
        }
        out[0] = 0;
        for (size_t i = 0, len = 0; i < depth; i++) {
                int w = snprintf(out + len, size - len, "%s%s", i ? "/" : "", stack[i]);

                if (w < 0 || (size_t)w >= size - len)
                        return -ENAMETOOLONG;
                len += (size_t)w;
        }
        if (!out[0])
                snprintf(out, size, ".");
        return 0;
}

static int open_in_root(int rootfd, const char *path, int flags)
{
        /* openat2 refuses O_PATH combined with anything but O_CLOEXEC/O_DIRECTORY/O_NOFOLLOW */
        int extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
        struct open_how how = {
                .flags = (unsigned long long)(flags | extra),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        static bool no_openat2;
        char resolved[PATH_MAX];
        long fd = -1;
        int r;

        if (!no_openat2) {
                /* EAGAIN: a rename elsewhere raced with a ".." walk; the kernel asks us to retry */
                for (int tries = 0; tries < 64; tries++) {
                        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                        if (fd >= 0 || errno != EAGAIN)
                                break;
                }
                if (fd >= 0 || errno != ENOSYS)
                        return fd < 0 ? -errno : (int)fd;
                no_openat2 = true;
        }
        r = resolve_in_root(rootfd, path, resolved, sizeof(resolved));
        if (r < 0)
                return r;
        fd = openat(rootfd, resolved, flags | extra | O_NOFOLLOW);
        return fd < 0 ? -errno : (int)fd;
}

static int open_root(const char *path, char **copy)
{
        _cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *copy = strdup(path);
        if (!*copy)
                return -ENOMEM;
        return TAKE_FD(fd);
}

int tv_host_open(TvHost *h, const char *sysfs_root, const char *dev_root)
{
        memset(h, 0, sizeof(*h));
        h->dev_fd = -1;
        h->sysfs_fd = open_root(sysfs_root, &h->sysfs_root);
        if (h->sysfs_fd < 0)
                return h->sysfs_fd;
        h->dev_fd = open_root(dev_root, &h->dev_root);
        if (h->dev_fd < 0) {
                int r = h->dev_fd;

                tv_host_close(h);
                return r;
        }
        return 0;
}

struct TvDevDir {
        char *pid;
        int fd;                 /* O_PATH, on the device's directory */
        struct TvDevDir *next;
};

#define MAX_DEV_DIRS 128        /* the catalog's devices and their group mates, with room */

static void drop_dev_dir(TvHost *h, const char *pid)
{
        for (struct TvDevDir **pp = &h->dev_dirs; *pp; pp = &(*pp)->next)
                if (strcmp((*pp)->pid, pid) == 0) {
                        struct TvDevDir *x = *pp;

                        *pp = x->next;
                        close(x->fd);
                        free(x->pid);
                        free(x);
                        h->n_dev_dirs--;
                        return;
                }
}

void tv_host_close(TvHost *h)
{
        while (h->dev_dirs)
                drop_dev_dir(h, h->dev_dirs->pid);
        if (h->sysfs_fd >= 0)
                close(h->sysfs_fd);
        if (h->dev_fd >= 0)
                close(h->dev_fd);
        free(h->sysfs_root);
        free(h->dev_root);
        free(h->irq_spi);
        free(h->irq_num);
        h->irq_spi = NULL;
        h->irq_num = NULL;
        h->n_irq_map = 0;
        h->irq_map_read = false;
        h->sysfs_fd = h->dev_fd = -1;
        h->sysfs_root = h->dev_root = NULL;
}

/* Writes value to fd (closed here) in one write(2), as the kernel expects. A negative
 * fd is the error of the open before, returned as it is. */
static int fd_write_attr(int fd, const char *value)
{
        size_t len = strlen(value);
        ssize_t n;
        int r = 0;

        if (fd < 0)
                return fd;
        do {
                n = write(fd, value, len);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                r = -errno;
        else if ((size_t)n != len)
                r = -EIO;
        if (close(fd) < 0 && r == 0 && errno != EINTR)
                r = -errno;
        return r;
}

static int attr_write(int rootfd, const char *path, const char *value)
{
        return fd_write_attr(open_in_root(rootfd, path, O_WRONLY), value);
}

/* Reads an attribute from fd (closed here); trailing newline stripped. A negative fd
 * is the error of the open before, returned as it is. */
static int fd_read_attr(int fd_in, char **out)
{
        _cleanup_close_ int fd = fd_in;
        _cleanup_free_ char *buf = NULL;
        ssize_t n;

        if (fd < 0)
                return fd;
        buf = malloc(ATTR_MAX + 1);
        if (!buf)
                return -ENOMEM;
        do {
                n = read(fd, buf, ATTR_MAX);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (memchr(buf, 0, (size_t)n))
                return -EBADMSG; /* embedded NUL: not an attribute we understand */
        buf[n] = 0;
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = 0;
        *out = TAKE_PTR(buf);
        return 0;
}

static int dev_path(char *buf, size_t size, const char *pid, const char *attr)
{
        if (!tv_device_token_valid(pid))
                return -EINVAL;
        if (snprintf(buf, size, "bus/platform/devices/%s/%s", pid, attr) >= (int)size)
                return -ENAMETOOLONG;
        return 0;
}

static int link_base_at(int dfd, const char *name, char **out);

/*
 * The device's directory, walked to through bus/platform/devices (RESOLVE_IN_ROOT) once
 * and kept: a path walk costs a lookup per component and the link hop, an attribute
 * under a kept directory one. fresh: walk again (the kept one went stale: a device
 * removed and added again is a new directory). The fd stays owned by the cache.
 */
static int dev_dir(TvHost *h, const char *pid, bool fresh)
{
        struct TvDevDir *x;
        char p[PATH_MAX];
        _cleanup_close_ int fd = -1;
        int r;

        for (x = h->dev_dirs; x; x = x->next)
                if (strcmp(x->pid, pid) == 0)
                        break;
        if (x && !fresh)
                return x->fd;
        if (x)
                drop_dev_dir(h, pid);
        r = dev_path(p, sizeof(p), pid, "");
        if (r < 0)
                return r;
        fd = open_in_root(h->sysfs_fd, p, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return fd == -ENOENT ? -ENODEV : fd;
        if (h->n_dev_dirs >= MAX_DEV_DIRS)
                drop_dev_dir(h, h->dev_dirs->pid); /* full: the newest goes, the catalog's stay */
        x = calloc(1, sizeof(*x));
        if (!x || !(x->pid = strdup(pid))) {
                free(x);
                return -ENOMEM;
        }
        x->fd = TAKE_FD(fd);
        x->next = h->dev_dirs;
        h->dev_dirs = x;
        h->n_dev_dirs++;
        return x->fd;
}

/* A removed kernfs directory has no children left: uevent is in every live one. */
static bool dev_dir_alive(int dfd)
{
        struct stat st;

        return fstatat(dfd, "uevent", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Opens one attribute of the device (a single name: O_NOFOLLOW keeps it inside). */
static int dev_attr_fd(TvHost *h, const char *pid, const char *attr, int flags)
{
        for (int fresh = 0;; fresh++) {
                int dfd = dev_dir(h, pid, fresh), fd;

                if (dfd < 0)
                        return dfd;
                fd = openat(dfd, attr, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd >= 0)
                        return fd;
                fd = -errno;
                if (fresh || fd != -ENOENT || dev_dir_alive(dfd))
                        return fd;
        }
}

/* The last component of the device's link `name`; *out = NULL when it has none. */
static int dev_link(TvHost *h, const char *pid, const char *name, char **out)
{
        for (int fresh = 0;; fresh++) {
                int dfd = dev_dir(h, pid, fresh), r;

                if (dfd < 0)
                        return dfd;
                r = link_base_at(dfd, name, out);
                if (r < 0 || *out || fresh || dev_dir_alive(dfd))
                        return r;
        }
}

bool tv_sysfs_device_exists(TvHost *h, const char *pid)
{
        /* always walked: a kept directory of a removed device would still stat */
        return dev_dir(h, pid, true) >= 0;
}

int tv_sysfs_get_driver(TvHost *h, const char *pid, char **driver)
{
        int r;

        *driver = NULL;
        if (!tv_device_token_valid(pid))
                return -EINVAL;
        r = dev_link(h, pid, "driver", driver);
        if (r == 0 && *driver && !tv_driver_name_valid(*driver)) {
                free(*driver);
                *driver = NULL;
                return -EBADMSG;
        }
        return r;
}

/* The last component of a link in dfd, or NULL (0) when there is no such link. */
static int link_base_at(int dfd, const char *name, char **out)
{
        char target[PATH_MAX];
        const char *base;
        ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);

        *out = NULL;
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        target[n] = 0;
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (!*base)
                return -EBADMSG;
        *out = strdup(base);
        return *out ? 0 : -ENOMEM;
}

void tv_device_info_clear(TvDeviceInfo *info)
{
        free(info->driver);
        free(info->override);
        *info = (TvDeviceInfo){ .group = -1 };
}

int tv_sysfs_device_info(TvHost *h, const char *pid, TvDeviceInfo *info)
{
        int r;

        /* under the kept directory: two link reads and one attribute */
        *info = (TvDeviceInfo){ .group = -1 };
        r = tv_sysfs_get_driver(h, pid, &info->driver);
        if (r == 0)
                r = tv_sysfs_iommu_group(h, pid, &info->group);
        if (r == 0)
                r = tv_sysfs_get_override(h, pid, &info->override);
        if (r < 0)
                tv_device_info_clear(info);
        return r;
}

int tv_sysfs_get_override(TvHost *h, const char *pid, char **override)
{
        _cleanup_free_ char *v = NULL;
        int fd = dev_attr_fd(h, pid, "driver_override", O_RDONLY), r;

        *override = NULL;
        if (fd < 0)
                return fd == -ENOENT ? -ENODEV : fd;
        r = fd_read_attr(fd, &v);
        if (r < 0)
                return r;
        /* kernels print "(null)" or nothing for an unset override */
        if (!*v || strcmp(v, "(null)") == 0)
                return 0;
        if (!tv_driver_name_valid(v))
                return -EBADMSG;
        *override = TAKE_PTR(v);
        return 0;
}

int tv_sysfs_set_override(TvHost *h, const char *pid, const char *override)
{
        int fd;

        if (override && !tv_driver_name_valid(override))
                return -EINVAL;
        fd = dev_attr_fd(h, pid, "driver_override", O_WRONLY);
        if (fd < 0)
                return fd == -ENOENT ? -ENODEV : fd;
        return fd_write_attr(fd, override ? override : "\n");
}

static int driver_attr(TvHost *h, const char *driver, const char *attr, const char *pid)
{
        char p[PATH_MAX];

        if (!tv_driver_name_valid(driver) || !tv_device_token_valid(pid))
                return -EINVAL;
        if (snprintf(p, sizeof(p), "bus/platform/drivers/%s/%s", driver, attr) >= (int)sizeof(p))
                return -ENAMETOOLONG;
        return attr_write(h->sysfs_fd, p, pid);
}

int tv_sysfs_bind(TvHost *h, const char *pid, const char *driver)
{
        return driver_attr(h, driver, "bind", pid);
}

int tv_sysfs_unbind(TvHost *h, const char *pid, const char *driver)
{
        return driver_attr(h, driver, "unbind", pid);
}

int tv_sysfs_drivers_probe(TvHost *h, const char *pid)
{
        if (!tv_device_token_valid(pid))
                return -EINVAL;
        return attr_write(h->sysfs_fd, "bus/platform/drivers_probe", pid);
}

bool tv_sysfs_driver_loaded(TvHost *h, const char *driver)
{
        char p[PATH_MAX];
        _cleanup_close_ int fd = -1;

        if (!tv_driver_name_valid(driver))
                return false;
        snprintf(p, sizeof(p), "bus/platform/drivers/%s", driver);
        fd = open_in_root(h->sysfs_fd, p, O_PATH | O_DIRECTORY);
        return fd >= 0;
}

int tv_sysfs_iommu_group(TvHost *h, const char *pid, int *group)
{
        _cleanup_free_ char *base = NULL;
        char *end;
        long v;
        int r = dev_link(h, pid, "iommu_group", &base);

        *group = -1;
        if (r < 0 || !base)
                return r;
        errno = 0;
        v = strtol(base, &end, 10);
        if (errno || *end || end == base || v < 0 || v > 1000000)
                return -EBADMSG;
        *group = (int)v;
        return 0;
}

/* The platform-device names in a sysfs directory, skipping names we could not act on. */
static int list_devices(TvHost *h, const char *dir, char ***pids)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(tv_strv_clear) TvStrv v = { 0 };
        struct dirent *de;
        int fd;

        *pids = NULL;
        fd = open_in_root(h->sysfs_fd, dir, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;

                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (!tv_device_token_valid(de->d_name))
                        continue; /* not a platform device name we could act on */
                if (tv_strv_push(&v, de->d_name) < 0)
                        return -ENOMEM;
        }
        *pids = tv_strv_steal(&v);
        return *pids ? 0 : -ENOMEM;
}

int tv_sysfs_group_devices(TvHost *h, int group, char ***pids)
{
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "kernel/iommu_groups/%d/devices", group);
        return list_devices(h, p, pids);
}

int tv_sysfs_platform_devices(TvHost *h, char ***pids)
{
        return list_devices(h, "bus/platform/devices", pids);
}

int tv_sysfs_read(TvHost *h, const char *path, char **value)
{
        *value = NULL;
        return fd_read_attr(open_in_root(h->sysfs_fd, path, O_RDONLY), value);
}

int tv_sysfs_list(TvHost *h, const char *dir, char ***names)
{
        return list_devices(h, dir, names);
}

int tv_sysfs_dev_attr_open(TvHost *h, const char *pid, const char *attr, int flags)
{
        char p[PATH_MAX];
        int r = dev_path(p, sizeof(p), pid, attr);

        return r < 0 ? r : open_in_root(h->sysfs_fd, p, flags);
}

int tv_sysfs_dev_attr_read(TvHost *h, const char *pid, const char *attr, char **value)
{
        return fd_read_attr(tv_sysfs_dev_attr_open(h, pid, attr, O_RDONLY), value);
}

int tv_sysfs_dev_attr_write(TvHost *h, const char *pid, const char *attr, const char *value)
{
        return fd_write_attr(tv_sysfs_dev_attr_open(h, pid, attr, O_WRONLY), value);
}

static int param_open(TvHost *h, const char *mod, const char *param, int flags)
{
        char p[PATH_MAX];

        if (!tv_driver_name_valid(mod) || !tv_driver_name_valid(param))
                return -EINVAL;
        if (snprintf(p, sizeof(p), "module/%s/parameters/%s", mod, param) >= (int)sizeof(p))
                return -ENAMETOOLONG;
        return open_in_root(h->sysfs_fd, p, flags);
}

int tv_sysfs_param_read(TvHost *h, const char *mod, const char *param, char **value)
{
        *value = NULL;
        return fd_read_attr(param_open(h, mod, param, O_RDONLY), value);
}

int tv_sysfs_param_write(TvHost *h, const char *mod, const char *param, const char *value)
{
        return fd_write_attr(param_open(h, mod, param, O_WRONLY), value);
}

int tv_dev_open(TvHost *h, const char *name, int flags)
{
        return open_in_root(h->dev_fd, name, flags);
}

bool tv_dev_vfio_group_exists(TvHost *h, int group)
{
        char p[64];
        int fd;

        snprintf(p, sizeof(p), "vfio/%d", group);
        fd = open_in_root(h->dev_fd, p, O_PATH);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

static int vfio_node_chown(TvHost *h, const char *prefix, int group, uid_t uid, gid_t gid, mode_t mode)
{
        char p[64];
        int fd, r = 0;

        snprintf(p, sizeof(p), "vfio/%s%d", prefix, group);
        fd = open_in_root(h->dev_fd, p, O_PATH);
        if (fd < 0)
                return fd;
        /* O_PATH fds need AT_EMPTY_PATH for fchownat and /proc for chmod */
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
                r = -errno;
        } else {
                char proc[64];

                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (chmod(proc, mode) < 0)
                        r = -errno;
        }
        close(fd);
        return r;
}

int tv_dev_vfio_group_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode)
{
        return vfio_node_chown(h, "", group, uid, gid, mode);
}

int tv_dev_vfio_noiommu_chown(TvHost *h, int group, uid_t uid, gid_t gid, mode_t mode)
{
        return vfio_node_chown(h, "noiommu-", group, uid, gid, mode);
}
