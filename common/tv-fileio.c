// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-fileio.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tv-macros.h"

int tv_read_fd(int fd, size_t max_bytes, char **out, size_t *out_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t cap = 4096, len = 0;

        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        char *nb;

                        if (cap > max_bytes)
                                return -EFBIG;
                        cap *= 2;
                        nb = realloc(buf, cap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max_bytes)
                return -EFBIG;
        buf[len] = 0;
        *out = TAKE_PTR(buf);
        if (out_len)
                *out_len = len;
        return 0;
}

int tv_read_file_at(int dirfd, const char *path, size_t max_bytes, char **out, size_t *out_len)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        return tv_read_fd(fd, max_bytes, out, out_len);
}

static int write_replace(int dirfd, const char *name, const void *data, size_t len, int mode, bool durable)
{
        char tmp[256];
        const char *p = data;
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                p += n;
                len -= (size_t)n;
        }
        if (r == 0 && fchmod(fd, (mode_t)mode) < 0)
                r = -errno;
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        /* make the rename itself durable */
        if (durable && fsync(dirfd) < 0)
                return -errno;
        return 0;
}

int tv_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, int mode)
{
        return write_replace(dirfd, name, data, len, mode, true);
}

int tv_write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, int mode)
{
        return write_replace(dirfd, name, data, len, mode, false);
}

char *tv_memstream_close(FILE *f, char **buf)
{
        bool failed = fclose(f) != 0;
        char *text = *buf;

        *buf = NULL;
        if (failed) {
                free(text);
                return NULL;
        }
        return text;
}
