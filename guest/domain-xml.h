/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal reading of a libvirt domain XML as handed to us by the hook. */
#pragma once
#include <stddef.h>
#include "tv-error.h"
#include "tv-limits.h"        /* TV_DOMAIN_XML_MAX_BYTES */

/* Extracts /domain/name; refuses DOCTYPEs, entities and oversized input. */
int tv_domain_xml_name(const char *buf, size_t len, char **name, TvError *err);
