// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit test of catalog/xml-util: the hardened parse and the DOM helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "tv-tap.h"
#include "xml-util.h"

static xmlDocPtr rd(const char *s, TvXmlDiag *d)
{
        return tv_xml_read(s, strlen(s), NULL, 0, d);
}

static int count_errors;

static void counting(void *ctx, TV_XML_ERROR_CONST xmlError *e)
{
        count_errors++;
}

static void test_read(void)
{
        TvXmlDiag d;
        xmlDocPtr doc;
        char *deep;
        size_t n = 0;

        doc = rd("<a x='1'>t</a>", &d);
        CHECK(doc && !d.have_msg && !d.doctype && !d.oom, "a plain document parses");
        xmlFreeDoc(doc);

        doc = rd("<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY e 'boom'>]>\n<a>&e;</a>", &d);
        CHECK(!doc && d.doctype && d.line == 2, "a DOCTYPE is refused, with its line");

        doc = rd("<?xml version='1.0'?>\n<!DOCTYPE a SYSTEM 'file:///etc/passwd'>\n<a/>", &d);
        CHECK(!doc && d.doctype, "an external DTD is refused before it is loaded");

        doc = rd("<a>\n<b>\n</a>", &d);
        CHECK(!doc && !d.doctype && d.have_msg && d.line == 3, "not well-formed: the first error with its line");
        CHECK(!strchr(d.msg, '\n'), "the message has no line breaks");

        doc = rd("<a>&undefined;</a>", &d);
        CHECK(!doc && d.have_msg, "an undeclared entity is an error");

        /* libxml2's default depth limit (256) stays: no XML_PARSE_HUGE */
        deep = malloc(20000);
        for (int i = 0; i < 2000; i++)
                n += (size_t)sprintf(deep + n, "<a>");
        doc = tv_xml_read(deep, n, NULL, 0, &d);
        CHECK(!doc && d.have_msg, "nesting beyond libxml2's depth limit is refused");
        free(deep);

        doc = rd("<a><![CDATA[x]]></a>", &d);
        CHECK(doc && doc->children->children->type == XML_CDATA_SECTION_NODE, "CDATA kept without extra options");
        xmlFreeDoc(doc);
        doc = tv_xml_read("<a><![CDATA[x]]></a>", 20, NULL, XML_PARSE_NOCDATA, &d);
        CHECK(doc && doc->children->children->type == XML_TEXT_NODE, "extra options are passed (NOCDATA)");
        xmlFreeDoc(doc);

        /* the caller's handlers are back afterwards, and saw nothing of the parse */
        xmlSetStructuredErrorFunc(NULL, counting);
        doc = rd("<a>", &d);
        CHECK(!doc && count_errors == 0, "libxml2's errors go to the diag, not to the global handler");
        xmlFreeDoc(xmlReadMemory("<a>", 3, NULL, NULL, 0));
        CHECK(count_errors > 0, "the caller's handler is restored");

        /* a silent span (domain-edit.c while it edits): a NULL diag drops every error */
        {
                TvXmlErrorScope q;
                int before = count_errors;

                tv_xml_errors_push(&q, NULL, tv_xml_diag_note, tv_xml_diag_ignore);
                xmlFreeDoc(xmlReadMemory("<a>", 3, NULL, NULL, 0));
                tv_xml_errors_pop(&q);
                CHECK(count_errors == before, "tv_xml_diag_note with no diag drops the error");
        }
        xmlSetStructuredErrorFunc(NULL, NULL);
}

static void test_dom(void)
{
        static const char doc_s[] = "<r xmlns:t='urn:t'>\n"
                                    "  <name>  web 1\n</name>\n"
                                    "  <t:name>ns</t:name>\n"
                                    "  <e a='v' t:a='w'/>\n"
                                    "</r>";
        TvXmlDiag d;
        xmlDocPtr doc = rd(doc_s, &d);
        xmlNodePtr r = xmlDocGetRootElement(doc), n, tn, e;
        char *s;

        CHECK(doc != NULL, "DOM document parses");
        if (!doc)
                return;
        n = tv_xml_child(r, "name", NULL);
        tn = tv_xml_child(r, "name", "urn:t");
        e = tv_xml_child(r, "e", NULL);
        CHECK(n && tn && n != tn && e, "child finds by name and namespace");
        CHECK(tv_xml_is_el(tn, "name", "urn:t") && !tv_xml_is_el(tn, "name", NULL) && !tv_xml_is_el(n, "name", "urn:t"),
              "is_el tells namespaces apart (NULL: none)");
        CHECK(!tv_xml_is_el(NULL, "name", NULL) && !tv_xml_child(NULL, "name", NULL), "NULL nodes are fine");
        CHECK(tv_xml_line(n) == 2 && tv_xml_line(NULL) == -1, "line numbers");
        s = tv_xml_content(n, true);
        CHECK(s && strcmp(s, "web 1") == 0, "content trimmed");
        free(s);
        s = tv_xml_content(n, false);
        CHECK(s && strcmp(s, "  web 1\n") == 0, "content untrimmed");
        free(s);
        s = tv_xml_content(NULL, true);
        CHECK(s && !*s, "content of NULL is empty");
        free(s);
        s = tv_xml_attr(e, "a");
        CHECK(s && strcmp(s, "v") == 0, "attribute in no namespace");
        free(s);
        CHECK(tv_xml_attr(e, "b") == NULL, "absent attribute is NULL");
        xmlFreeDoc(doc);
}

int main(void)
{
        test_read();
        test_dom();
        return tap_finish();
}
