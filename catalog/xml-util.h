/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libxml2 the hardened way, for every layer that reads XML (catalog/, and the
 * guest layer's domain XML above it): one parse of untrusted bytes, the first
 * error kept as a message fit for a TvError, and the small DOM helpers.
 * Nothing here prints; nothing here has limits of its own (callers cap the
 * input size and check UTF-8 first, with their own messages).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "xml-errors.h"

/* What libxml2 objected to, collected by the functions below. */
typedef struct TvXmlDiag {
        bool doctype;           /* tv_xml_read(): the document has a DOCTYPE */
        bool oom;               /* tv_xml_read(): no parser context */
        bool have_msg;
        bool have_line;
        long line;              /* of msg, or of the DOCTYPE; -1 if unknown */
        char msg[320];          /* whitespace-trimmed, control characters blanked */
} TvXmlDiag;

/* Keeps the first error (level >= XML_ERR_ERROR) in the TvXmlDiag `diag`, or a
 * later one that has a line when the first had none. Has the signature of an
 * xmlStructuredErrorFunc, for tv_xml_errors_push() and the RelaxNG/XSD
 * SetStructuredErrors calls. With diag NULL it drops the error (a span where
 * libxml2 must stay silent: tv_xml_errors_push(&q, NULL, tv_xml_diag_note,
 * tv_xml_diag_ignore)). */
void tv_xml_diag_note(void *diag, TV_XML_ERROR_CONST xmlError *e);
/* Drops unstructured messages (libxml2 sends them in fragments). */
void tv_xml_diag_ignore(void *diag, const char *msg, ...);

/* Parses len bytes from memory: no network, no entity substitution, no DTD
 * loading, a DOCTYPE refused before any declaration in it is read, libxml2's
 * depth and size limits kept (no XML_PARSE_HUGE), an encoding declaration
 * ignored (the caller has checked the bytes are UTF-8). extra_options adds
 * XML_PARSE_* flags (e.g. XML_PARSE_NOCDATA); url names the document in
 * libxml2's own structures and may be NULL. Returns the document, or NULL with
 * *diag saying why: doctype, oom, or else a well-formedness error (have_msg
 * when libxml2 gave one). *diag is cleared first; libxml2's global error
 * handlers are routed into it for the duration. */
xmlDocPtr tv_xml_read(const char *buf, size_t len, const char *url, int extra_options, TvXmlDiag *diag);

/* An element named name in namespace ns_href (NULL: in no namespace); n may be NULL. */
bool tv_xml_is_el(xmlNodePtr n, const char *name, const char *ns_href);
/* The first child element named name in ns_href (NULL: no namespace), or NULL. */
xmlNodePtr tv_xml_child(xmlNodePtr parent, const char *name, const char *ns_href);
/* The node's line in its document, or -1. */
long tv_xml_line(xmlNodePtr n);
/* The node's text content as a malloc'd string ("" when empty; n may be NULL),
 * with leading and trailing XML whitespace removed if trim; NULL only when out
 * of memory. */
char *tv_xml_content(xmlNodePtr n, bool trim);
/* The value of the attribute name in no namespace as a malloc'd string; NULL
 * when absent (or out of memory: callers that must tell the two apart use
 * xmlHasProp() first). */
char *tv_xml_attr(xmlNodePtr n, const char *name);
