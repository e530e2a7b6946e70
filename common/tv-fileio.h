/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-file reads with a size cap and crash-safe replacement of small files. */
#pragma once
#include <stddef.h>
#include <stdio.h>

/* Reads fd to its end into a NUL-terminated buffer (pipes and terminals too).
 * Returns 0, or -errno; -EFBIG when more than max_bytes arrive. */
int tv_read_fd(int fd, size_t max_bytes, char **out, size_t *out_len);

/* Reads a regular file (at dirfd, or AT_FDCWD) into a NUL-terminated buffer.
 * Returns 0, -errno; -EFBIG when the file is larger than max_bytes. */
int tv_read_file_at(int dirfd, const char *path, size_t max_bytes, char **out, size_t *out_len);

/* Replaces dirfd/name atomically: writes a temp file in the same directory,
 * fsyncs it, renames it over name and fsyncs the directory. mode is applied
 * to the new file. Returns 0 or -errno; on error the old file is intact. */
int tv_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, int mode);
/* The same replace-by-rename without fsync: a crash of the process leaves the old or the
 * new file, never a mix; a power loss may leave the old one (or, off ext4, an empty one). */
int tv_write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, int mode);

/* Closes f, an open_memstream() on *buf, and hands out the text: *buf, or NULL (the
 * text freed) when the stream failed, i.e. ran out of memory. *buf is NULL afterwards. */
char *tv_memstream_close(FILE *f, char **buf);
