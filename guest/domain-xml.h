/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a libvirt domain XML document (as libvirt, the hook or a caller hands it
 * to us). The parse itself, for the guest modules that walk the tree, is in
 * domain-xml-internal.h; this header keeps libxml2 out of the layers above.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tv-error.h"
#include "tv-limits.h"        /* TV_DOMAIN_XML_MAX_BYTES */

/* Extracts /domain/name (malloc'ed); refuses DOCTYPEs, entities and oversized input. */
int tv_domain_xml_name(const char *buf, size_t len, char **name, TvError *err);

/* Fast check used by the libvirt hook before parsing: does the text mention our namespace? */
bool tv_domain_xml_mentions_tegravirt(const char *xml, size_t len);
