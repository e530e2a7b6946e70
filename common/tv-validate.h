/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Validation of names that come from outside (D-Bus, XML, state files, sysfs). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TV_NAME_MAX 64

/* Valid UTF-8 without NUL bytes in the first len bytes. */
bool tv_utf8_valid(const char *s, size_t len);
/* A libvirt domain name we accept: 1..64 bytes of [A-Za-z0-9_.+-], not starting with '.' or '-'.
 * Stricter than libvirt (which only forbids '/') because the name becomes part of file names. */
bool tv_domain_name_valid(const char *s);
/* A device token: a catalog short name ([a-z0-9_-], 1..64) or a platform-bus id
 * ([A-Za-z0-9._:-], 1..64, not "." or "..", no leading '.'). Never contains '/'. */
bool tv_device_token_valid(const char *s);
/* A kernel driver name as seen in sysfs: [A-Za-z0-9_.:-], 1..64 bytes, no leading '.'. */
bool tv_driver_name_valid(const char *s);
