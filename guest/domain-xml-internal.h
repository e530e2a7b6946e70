/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain XML parse for the guest modules that walk the tree (domain-edit.c,
 * domain-dtb.c): libxml2 types stay below the public guest headers. */
#pragma once
#include <libxml/tree.h>
#include "domain-xml.h"

/* The safe parse shared by everything that reads domain XML: size cap, UTF-8 without
 * NUL, no network, no DOCTYPE (the parser stops at it), no entity substitution
 * (catalog/xml-util.h tv_xml_read), a <domain> root without namespace and exactly one
 * valid <name>. Both outputs are owned by the caller (xmlFreeDoc, free); name may be
 * NULL if not wanted. libxml2 prints nothing. */
int tv_domain_xml_read(const char *xml, size_t len, xmlDocPtr *doc, char **name, TvError *err);
