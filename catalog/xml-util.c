// SPDX-License-Identifier: GPL-2.0-or-later
#include "xml-util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

static bool is_xml_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void tv_xml_diag_note(void *data, TV_XML_ERROR_CONST xmlError *e)
{
        TvXmlDiag *d = data;
        char msg[sizeof(d->msg)];
        long line;
        size_t l;

        if (!d || !e || e->level < XML_ERR_ERROR)
                return;
        line = e->line > 0 ? e->line : -1;
        if (line < 0 && e->node)
                line = tv_xml_line((xmlNodePtr)e->node);
        snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "unknown XML error");
        l = strlen(msg);
        while (l > 0 && is_xml_space(msg[l - 1]))
                msg[--l] = 0;
        /* messages may quote document content */
        for (size_t i = 0; i < l; i++)
                if ((unsigned char)msg[i] < 0x20)
                        msg[i] = ' ';
        if (!d->have_msg || (line > 0 && !d->have_line)) {
                memcpy(d->msg, msg, sizeof(msg));
                d->line = line;
                d->have_msg = true;
                d->have_line = line > 0;
        }
}

void tv_xml_diag_ignore(void *data, const char *msg, ...)
{
}

/* Parser errors: userData is the parser context, the TvXmlDiag hangs off _private. */
static void on_parser_error(void *data, TV_XML_ERROR_CONST xmlError *e)
{
        xmlParserCtxtPtr p = data;

        tv_xml_diag_note(p ? p->_private : NULL, e);
}

static void on_doctype(void *data, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
        xmlParserCtxtPtr p = data;
        TvXmlDiag *d = p->_private;

        d->doctype = true;
        d->line = p->input ? p->input->line : -1;
        xmlStopParser(p);
}

xmlDocPtr tv_xml_read(const char *buf, size_t len, const char *url, int extra_options, TvXmlDiag *diag)
{
        TvXmlErrorScope sv;
        xmlParserCtxtPtr p;
        xmlDocPtr doc;
        bool ok;

        memset(diag, 0, sizeof(*diag));
        diag->line = -1;
        if (len > INT_MAX) {
                snprintf(diag->msg, sizeof(diag->msg), "document too large");
                diag->have_msg = true;
                return NULL;
        }
        tv_xml_errors_push(&sv, diag, tv_xml_diag_note, tv_xml_diag_ignore);
        p = xmlNewParserCtxt();
        if (!p || !p->sax) {
                xmlFreeParserCtxt(p);
                tv_xml_errors_pop(&sv);
                diag->oom = true;
                return NULL;
        }
        p->_private = diag;
        p->sax->internalSubset = on_doctype;    /* stop at "<!DOCTYPE", before any declaration */
        p->sax->externalSubset = on_doctype;
        p->sax->serror = on_parser_error;
        p->sax->initialized = XML_SAX2_MAGIC;
        /* No XML_PARSE_NOENT (never substitute entities), no DTDLOAD/DTDATTR/DTDVALID,
         * no XML_PARSE_HUGE (keep libxml2's depth and size limits); the input was
         * checked to be UTF-8, so an encoding declaration is ignored. */
        doc = xmlCtxtReadMemory(p, buf, (int)len, url, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC |
                                        extra_options);
        ok = doc && p->wellFormed && !diag->doctype && p->errNo == XML_ERR_OK;
        xmlFreeParserCtxt(p);
        tv_xml_errors_pop(&sv);
        if (!ok) {
                xmlFreeDoc(doc);
                return NULL;
        }
        return doc;
}

bool tv_xml_is_el(xmlNodePtr n, const char *name, const char *ns_href)
{
        if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
                return false;
        if (!ns_href)
                return n->ns == NULL;
        return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns_href) == 0;
}

xmlNodePtr tv_xml_child(xmlNodePtr parent, const char *name, const char *ns_href)
{
        for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
                if (tv_xml_is_el(n, name, ns_href))
                        return n;
        return NULL;
}

long tv_xml_line(xmlNodePtr n)
{
        long l = n ? xmlGetLineNo(n) : -1;

        return l > 0 ? l : -1;
}

char *tv_xml_content(xmlNodePtr n, bool trim)
{
        xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
        const char *s = t ? (const char *)t : "";
        size_t len;
        char *r;

        if (trim)
                while (is_xml_space(*s))
                        s++;
        len = strlen(s);
        if (trim)
                while (len > 0 && is_xml_space(s[len - 1]))
                        len--;
        r = strndup(s, len);
        xmlFree(t);
        return r;
}

char *tv_xml_attr(xmlNodePtr n, const char *name)
{
        xmlChar *t = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
        char *s = t ? strdup((const char *)t) : NULL;

        xmlFree(t);
        return s;
}
