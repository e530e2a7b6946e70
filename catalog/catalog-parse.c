// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: one document, from bytes to a draft.
 *
 * Every document goes through four gates, in this order:
 *   1. raw input: size cap, valid UTF-8 without NUL bytes;
 *   2. XML well-formedness with libxml2: from memory, no network, no entity
 *      substitution, no DTD loading; a DOCTYPE stops the parser at once;
 *   3. the embedded RelaxNG schema (xml-schemas/catalog.rng);
 *   4. our own extraction, which re-checks every value it reads and adds the
 *      checks a schema cannot express (uniqueness, references, ranges).
 * When both 3 and 4 object, the message from 4 is reported: it names the
 * device and the value, where libxml2 says "Invalid attribute name".
 *
 * libxml2 never prints: its error callbacks are routed into the TvError.
 */
#include "catalog-internal.h"
#include "xml-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "catalog-rng.h"
#include "tv-validate.h"


/* ------------------------------------------------------------------------- */
/* DOM access                                                                */

/* Refuses attributes not in the NULL-terminated list allowed[]. */
int cat_check_attrs(Ctx *c, xmlNodePtr n, const char *const *allowed)
{
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
                bool ok = false;

                if (!a->ns)
                        for (const char *const *p = allowed; *p; p++)
                                if (strcmp((const char *)a->name, *p) == 0)
                                        ok = true;
                if (!ok)
                        return cat_fail(c, n, "unexpected attribute '%s' on <%s>", Q((const char *)a->name),
                                        (const char *)n->name);
        }
        return 0;
}

/* Gets an attribute as a malloc'd string; *out = NULL when absent and !required. */
int cat_get_attr(Ctx *c, xmlNodePtr n, const char *name, bool required, const char *what, char **out)
{
        xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

        *out = NULL;
        if (!v) {
                if (required)
                        return cat_fail(c, n, "%s<%s> has no '%s' attribute", what ? what : "",
                                        (const char *)n->name, name);
                return 0;
        }
        *out = strdup((const char *)v);
        xmlFree(v);
        if (!*out)
                return tv_error_oom(c->err);
        return 0;
}

/* Text content of an element that may only hold text (comments and PIs are skipped). */
int cat_get_text(Ctx *c, xmlNodePtr n, const char *what, char **out)
{
        size_t len = 0;
        char *s;

        *out = NULL;
        for (xmlNodePtr k = n->children; k; k = k->next) {
                if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
                        len += k->content ? strlen((const char *)k->content) : 0;
                        if (len > MAX_RAW_TEXT)
                                return cat_fail(c, n, "%s<%s> text is longer than %d bytes", what,
                                                (const char *)n->name, MAX_RAW_TEXT);
                } else if (k->type == XML_ELEMENT_NODE) {
                        return cat_fail(c, k, "%sunexpected element <%s> inside <%s>", what,
                                        Q((const char *)k->name), (const char *)n->name);
                } else if (k->type != XML_COMMENT_NODE && k->type != XML_PI_NODE) {
                        return cat_fail(c, n, "%s<%s> contains unsupported content", what, (const char *)n->name);
                }
        }
        s = malloc(len + 1);
        if (!s)
                return tv_error_oom(c->err);
        s[0] = 0;
        len = 0;
        for (xmlNodePtr k = n->children; k; k = k->next)
                if ((k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) && k->content) {
                        size_t l = strlen((const char *)k->content);

                        memcpy(s + len, k->content, l);
                        len += l;
                        s[len] = 0;
                }
        *out = s;
        return 0;
}

/* Prose: whitespace runs folded to one space, trimmed; no control characters. */
int cat_get_prose(Ctx *c, xmlNodePtr n, const char *what, char **out)
{
        char *s, *w;
        const char *r;
        bool space = false;

        if (cat_get_text(c, n, what, &s) < 0)
                return -1;
        /* the schema's maxLength counts characters of the raw text, before folding */
        {
                size_t chars = 0;

                for (r = s; *r; r++)
                        chars += ((unsigned char)*r & 0xc0) != 0x80;
                if (chars > MAX_PROSE) {
                        free(s);
                        return cat_fail(c, n, "%s<%s> is longer than %d characters", what, (const char *)n->name,
                                        MAX_PROSE);
                }
        }
        for (r = s, w = s; *r; r++) {
                unsigned char ch = (unsigned char)*r;

                if (cat_is_space(*r)) {
                        space = w != s;
                        continue;
                }
                if (ch < 0x20 || ch == 0x7f || (ch == 0xc2 && (unsigned char)r[1] >= 0x80 &&
                                                 (unsigned char)r[1] <= 0x9f)) {
                        free(s);
                        return cat_fail(c, n, "%s<%s> contains a control character", what, (const char *)n->name);
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *r;
        }
        *w = 0;
        if (w == s) {
                free(s);
                return cat_fail(c, n, "%s<%s> is empty", what, (const char *)n->name);
        }
        if ((size_t)(w - s) > MAX_PROSE) {
                free(s);
                return cat_fail(c, n, "%s<%s> is longer than %d bytes", what, (const char *)n->name, MAX_PROSE);
        }
        *out = s;
        return 0;
}

/* ------------------------------------------------------------------------- */
/* libxml2 plumbing                                                          */

static xmlRelaxNGPtr schema_compile(TvError *err)
{
        TvXmlDiag d = { .line = -1 };
        TvXmlErrorScope sv;
        xmlRelaxNGParserCtxtPtr pc;
        xmlRelaxNGPtr schema = NULL;

        xmlInitParser();
        tv_xml_errors_push(&sv, &d, tv_xml_diag_note, tv_xml_diag_ignore);
        pc = xmlRelaxNGNewMemParserCtxt(tv_catalog_rng, (int)(sizeof(tv_catalog_rng) - 1));
        if (pc) {
                xmlRelaxNGSetParserStructuredErrors(pc, tv_xml_diag_note, &d);
                schema = xmlRelaxNGParse(pc);
                xmlRelaxNGFreeParserCtxt(pc);
        }
        tv_xml_errors_pop(&sv);
        if (!schema)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the embedded catalog schema does not compile: %s",
                                    d.have_msg ? d.msg : "out of memory"),
                       NULL;
        return schema;
}

/* The embedded schema, compiled on first use and kept for the life of the process
 * (it is only read while validating, each validation has its own context). No
 * lock: the catalog is used from one thread (catalog.h), as is libxml2's error
 * routing around it. */
static xmlRelaxNGPtr schema_cached;

xmlRelaxNGPtr cat_schema_load(TvError *err)
{
        if (!schema_cached)
                schema_cached = schema_compile(err);
        return schema_cached;
}

/* The line of the first byte sequence that is not UTF-8 (or is NUL), or -1. */
static long bad_utf8_line(const char *buf, size_t len)
{
        long line = 1;
        size_t start = 0;

        for (size_t i = 0; i <= len; i++) {
                if (i == len || buf[i] == '\n') {
                        if (!tv_utf8_valid(buf + start, i - start))
                                return line;
                        line++;
                        start = i + 1;
                }
        }
        return -1;
}

static xmlDocPtr parse_xml(Ctx *c, const char *buf, size_t len)
{
        xmlDocPtr doc = tv_xml_read(buf, len, NULL, XML_PARSE_NOCDATA, &c->xml);

        if (doc)
                return doc;
        if (c->xml.oom)
                return tv_error_oom(c->err), NULL;
        if (c->xml.doctype)
                return cat_fail_at(c->err, c->origin, c->xml.line,
                                   "documents with a DOCTYPE (DTDs, entity declarations) are refused"),
                       NULL;
        if (c->xml.have_msg)
                return cat_fail_at(c->err, c->origin, c->xml.line, "not well-formed XML: %s", c->xml.msg), NULL;
        return cat_fail_at(c->err, c->origin, -1, "not well-formed XML"), NULL;
}

/* ------------------------------------------------------------------------- */
/* One document                                                              */

int cat_parse_doc(const char *buf, size_t len, const char *origin, xmlRelaxNGPtr schema, Cat **out,
                     TvError *err)
{
        Ctx c = { .origin = origin ? origin : "(buffer)", .err = err };
        TvXmlErrorScope sv;
        xmlDocPtr doc = NULL;
        xmlNodePtr root;
        Cat *cat = NULL;
        bool schema_ok = false;
        char schema_msg[sizeof(c.xml.msg)] = "";
        long schema_line = -1;
        int r = -1;

        if (!buf)
                return cat_fail_at(err, c.origin, -1, "no document");
        if (len > TV_CATALOG_MAX_BYTES)
                return cat_fail_at(err, c.origin, -1, "document is %zu bytes, more than the limit of %d", len,
                                   TV_CATALOG_MAX_BYTES);
        if (len == 0)
                return cat_fail_at(err, c.origin, -1, "document is empty");
        {
                long bad = bad_utf8_line(buf, len);

                if (bad > 0)
                        return cat_fail_at(err, c.origin, bad, "not valid UTF-8 (or contains a NUL byte)");
        }

        xmlInitParser();
        tv_xml_errors_push(&sv, &c.xml, tv_xml_diag_note, tv_xml_diag_ignore);
        doc = parse_xml(&c, buf, len);
        if (!doc)
                goto out;
        root = xmlDocGetRootElement(doc);
        if (!root || !cat_is_el(root, "catalog")) {
                cat_fail(&c, root, "the root element must be <catalog xmlns=\"%s\">, not <%s>%s%s%s", CAT_NS,
                         root ? Q((const char *)root->name) : "(none)",
                         root && root->ns && root->ns->href ? " in namespace '" : " without a namespace",
                         root && root->ns && root->ns->href ? Q((const char *)root->ns->href) : "",
                         root && root->ns && root->ns->href ? "'" : "");
                goto out;
        }

        /* schema first; its complaint is kept until our own pass has had its say */
        c.xml.have_msg = c.xml.have_line = false;
        schema_ok = !schema;
        if (schema) {
                xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schema);
                int vr;

                if (!v) {
                        tv_error_oom(err);
                        goto out;
                }
                xmlRelaxNGSetValidStructuredErrors(v, tv_xml_diag_note, &c.xml);
                vr = xmlRelaxNGValidateDoc(v, doc);
                xmlRelaxNGFreeValidCtxt(v);
                schema_ok = vr == 0;
                if (!schema_ok) {
                        snprintf(schema_msg, sizeof(schema_msg), "%s",
                                 c.xml.have_msg ? c.xml.msg : "document does not match the catalog schema");
                        schema_line = c.xml.have_msg ? c.xml.line : -1;
                }
        }

        cat = cat_calloc(1, sizeof(*cat));
        if (!cat) {
                tv_error_oom(err);
                goto out;
        }
        cat->line = tv_xml_line(root);
        cat->origin = strdup(c.origin);
        if (!cat->origin) {
                tv_error_oom(err);
                goto out;
        }
        {
                static const char *const attrs[] = { "soc", NULL };

                if (cat_check_attrs(&c, root, attrs) < 0 || cat_get_attr(&c, root, "soc", true, "", &cat->soc) < 0)
                        goto out;
                if (!cat_soc_valid(cat->soc)) {
                        cat_fail(&c, root, "soc '%s' is not valid ([a-z][a-z0-9], up to 32 bytes)", Q(cat->soc));
                        goto out;
                }
        }
        {
                bool seen_bpmp = false;

                for (xmlNodePtr n = root->children; n; n = n->next) {
                        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
                                for (const xmlChar *s = n->content; s && *s; s++)
                                        if (!cat_is_space((char)*s)) {
                                                cat_fail(&c, n, "unexpected text in <catalog>");
                                                goto out;
                                        }
                                continue;
                        }
                        if (n->type != XML_ELEMENT_NODE)
                                continue;
                        if (cat_is_el(n, "bpmp")) {
                                if (seen_bpmp) {
                                        cat_fail(&c, n, "more than one <bpmp> section");
                                        goto out;
                                }
                                seen_bpmp = true;
                                if (cat_parse_bpmp(&c, n, cat) < 0)
                                        goto out;
                        } else if (cat_is_el(n, "device")) {
                                DevDraft *nd;

                                if (cat->n_devs >= TV_CATALOG_MAX_DEVICES) {
                                        cat_fail(&c, n, "more than %d devices", TV_CATALOG_MAX_DEVICES);
                                        goto out;
                                }
                                nd = realloc(cat->devs, (cat->n_devs + 1) * sizeof(*nd));
                                if (!nd) {
                                        tv_error_oom(err);
                                        goto out;
                                }
                                cat->devs = nd;
                                memset(&cat->devs[cat->n_devs], 0, sizeof(*nd));
                                cat->n_devs++;
                                if (cat_parse_device(&c, n, &cat->devs[cat->n_devs - 1]) < 0)
                                        goto out;
                        } else if (cat_is_el(n, "line-group")) {
                                GroupDraft *ng;

                                if (cat->n_groups >= TV_CATALOG_MAX_LINE_GROUPS) {
                                        cat_fail(&c, n, "more than %d line groups", TV_CATALOG_MAX_LINE_GROUPS);
                                        goto out;
                                }
                                ng = realloc(cat->groups, (cat->n_groups + 1) * sizeof(*ng));
                                if (!ng) {
                                        tv_error_oom(err);
                                        goto out;
                                }
                                cat->groups = ng;
                                memset(&cat->groups[cat->n_groups], 0, sizeof(*ng));
                                cat->n_groups++;
                                if (cat_parse_line_group(&c, n, &cat->groups[cat->n_groups - 1]) < 0)
                                        goto out;
                        } else {
                                cat_fail(&c, n, "unexpected element <%s> in <catalog>", Q((const char *)n->name));
                                goto out;
                        }
                }
        }
        /* our pass found nothing more specific than what the schema says */
        if (!schema_ok) {
                cat_fail_at(err, c.origin, schema_line, "does not match the catalog schema: %s", schema_msg);
                goto out;
        }
        if (cat_check_resources_unique(&c, cat) < 0)
                goto out;
        for (size_t i = 0; i < cat->n_devs; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(cat->devs[i].dev.name, cat->devs[j].dev.name) == 0) {
                                cat_fail_at(err, c.origin, cat->devs[i].line,
                                            "device name '%s' is already used by the device at line %ld",
                                            cat->devs[i].dev.name, cat->devs[j].line);
                                goto out;
                        }
        *out = cat;
        cat = NULL;
        r = 0;
out:
        xmlFreeDoc(doc);
        tv_xml_errors_pop(&sv);
        cat_free(cat);
        return r;
}
