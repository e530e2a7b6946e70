// SPDX-License-Identifier: GPL-2.0-or-later
#include "domain-xml.h"
#include "domain-edit.h"

/* The parsing rules (size cap, UTF-8, no DOCTYPE, one <name>) live in domain-edit.c. */
int tv_domain_xml_name(const char *buf, size_t len, char **name, TvError *err)
{
        xmlDocPtr doc;

        *name = NULL;
        if (tv_domain_xml_read(buf, len, &doc, name, err) < 0)
                return -1;
        xmlFreeDoc(doc);
        return 0;
}
