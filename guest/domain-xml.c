// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The domain XML reader: the one parse of a libvirt domain definition (limits,
 * hardened libxml2 via catalog/xml-util, the <domain>/<name> checks) and what can
 * be read from it without walking the tree further.
 */
#include "domain-xml-internal.h"

#include <stdlib.h>
#include <string.h>

#include "tv-names.h"
#include "tv-validate.h"
#include "xml-util.h"

int tv_domain_xml_read(const char *xml, size_t len, xmlDocPtr *out, char **name_out, TvError *err)
{
        TvXmlDiag d;
        xmlDocPtr doc;
        xmlNodePtr root, name = NULL;
        char *text;

        *out = NULL;
        if (name_out)
                *name_out = NULL;
        if (!xml)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "no domain XML given");
        if (len > TV_DOMAIN_XML_MAX_BYTES)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML larger than " TV_DOMAIN_XML_MAX_TEXT);
        if (!tv_utf8_valid(xml, len))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML is not UTF-8 (or contains NUL bytes)");

        doc = tv_xml_read(xml, len, "domain.xml", 0, &d);
        if (!doc) {
                if (d.doctype)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "domain XML must not carry a DOCTYPE (DTDs and entities are refused)");
                if (d.oom)
                        return tv_error_oom(err);
                if (d.have_line)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML is not well-formed: line %ld: %s",
                                            d.line, d.msg);
                if (d.have_msg)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML is not well-formed: %s", d.msg);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML is not well-formed");
        }
        root = xmlDocGetRootElement(doc);
        if (!tv_xml_is_el(root, "domain", NULL)) {
                xmlFreeDoc(doc);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML has no <domain> root");
        }
        for (xmlNodePtr n = root->children; n; n = n->next) {
                if (!tv_xml_is_el(n, "name", NULL))
                        continue;
                if (name) {
                        xmlFreeDoc(doc);
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML has more than one <name>");
                }
                name = n;
        }
        if (!name) {
                xmlFreeDoc(doc);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML has no <name>");
        }
        text = tv_xml_content(name, true);
        if (!text) {
                xmlFreeDoc(doc);
                return tv_error_oom(err);
        }
        if (!tv_domain_name_valid(text)) {
                free(text);
                xmlFreeDoc(doc);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain XML <name> is not a valid domain name");
        }
        if (name_out)
                *name_out = text;
        else
                free(text);
        *out = doc;
        return 0;
}

int tv_domain_xml_name(const char *buf, size_t len, char **name, TvError *err)
{
        xmlDocPtr doc;

        *name = NULL;
        if (tv_domain_xml_read(buf, len, &doc, name, err) < 0)
                return -1;
        xmlFreeDoc(doc);
        return 0;
}

bool tv_domain_xml_mentions_tegravirt(const char *xml, size_t len)
{
        return xml && memmem(xml, len, TV_DOMAIN_NS, strlen(TV_DOMAIN_NS)) != NULL;
}
