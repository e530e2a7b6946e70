// SPDX-License-Identifier: GPL-2.0-or-later
#include "domain-xml.h"
#include "tv-names.h"
#include "tv-validate.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static void quiet(void *ctx, const char *msg, ...)
{
}

int tv_domain_xml_name(const char *buf, size_t len, char **name, TvError *err)
{
        xmlDocPtr doc;
        xmlNodePtr root, n;
        int r = -1;

        *name = NULL;
        if (len > TV_DOMAIN_XML_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML larger than 4 MiB");
        if (!tv_utf8_valid(buf, len))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML is not UTF-8");
        xmlSetGenericErrorFunc(NULL, quiet);
        doc = xmlReadMemory(buf, (int)len, "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML is not well-formed");
        if (doc->intSubset || doc->extSubset) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML must not carry a DOCTYPE");
                goto out;
        }
        root = xmlDocGetRootElement(doc);
        if (!root || strcmp((const char *)root->name, "domain") != 0) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML has no <domain> root");
                goto out;
        }
        for (n = root->children; n; n = n->next) {
                xmlChar *text;

                if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "name") != 0)
                        continue;
                text = xmlNodeGetContent(n);
                if (text && tv_domain_name_valid((const char *)text)) {
                        *name = strdup((const char *)text);
                        r = *name ? 0 : tv_error_set(err, TV_ERR_FAILED, "out of memory");
                } else {
                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML <name> is not a valid domain name");
                }
                xmlFree(text);
                goto out;
        }
        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML has no <name>");
out:
        xmlFreeDoc(doc);
        return r;
}
