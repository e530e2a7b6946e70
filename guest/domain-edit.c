// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rewrites a libvirt domain definition for the devices assigned to it.
 *
 * libvirt throws hook output away at start, so the persistent definition must
 * already carry the qemu:commandline args, <os><dtb> and guest kernel args. We
 * record exactly what we added in <metadata><tegravirt:domain> (format in
 * tegravirt-domain-metadata(5)), so the next apply can take it back out without
 * touching anything the user wrote, even where the user's values equal ours.
 *
 * The document is edited in place with libxml2 and written back whole; nodes we
 * add get the indentation of their neighbours, and removing them removes that
 * indentation again, so apply + revert gives back the original text.
 *
 * libxml2 never prints: parser errors go to a per-parse callback, and the
 * thread-local fallbacks are swapped for silent ones while we work.
 */
#include "domain-edit.h"
#include "domain-xml-internal.h"
#include "tv-strv.h"
#include "xml-util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include "tv-limits.h"
#include "tv-names.h"
#include "tv-quote.h"
#include "tv-validate.h"

#define META_VERSION    "1"
#define MAX_POSITION    1000000L        /* more qemu:arg elements than fit in 4 MiB */
#define QUOTE_MAX       160     /* bytes of a value quoted in a drift sentence */
#define QUOTE_BUF       (QUOTE_MAX + 4)
#define MAX_CMDLINE     65536   /* the kernel takes 2048 (arm64): this only bounds our work */

/* ------------------------------------------------------------------------- */
/* Small helpers                                                             */
/* The DOM helpers below (insert_*, apply_*, revert_*, record_write, ...) fail only
 * when libxml2 cannot allocate: they return 0 or -ENOMEM (common/README.md), and the
 * functions with a TvError turn that into tv_error_oom(). */

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A growable string for drift sentences. */
typedef struct Buf {
        char *s;
        size_t len, cap;
        bool failed;
} Buf;

static void buf_add(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(Buf *b, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (b->failed)
                return;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n + 3 > SIZE_MAX / 2 - b->len) {
                b->failed = true;
                return;
        }
        if (b->len + (size_t)n + 3 > b->cap) {
                size_t cap = (b->len + (size_t)n + 3) * 2;
                char *ns = realloc(b->s, cap);

                if (!ns) {
                        b->failed = true;
                        return;
                }
                b->s = ns;
                b->cap = cap;
        }
        if (b->len) {
                memcpy(b->s + b->len, "; ", 3);
                b->len += 2;
        }
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

/* A value for quoting in a sentence: control characters shown as '?', long ones cut. */
static const char *quote_value(char out[QUOTE_BUF], const char *v)
{
        return tv_quote(out, QUOTE_BUF, v, (size_t)-1, QUOTE_MAX, 0);
}

/* What the record accepts as uuid=: 32 hex digits, with or without dashes. */
static bool uuid_valid(const char *v)
{
        size_t len = strlen(v);

        return len >= 32 && len <= 36 && strspn(v, "0123456789abcdefABCDEF-") == len;
}

/* ------------------------------------------------------------------------- */
/* Tree editing that keeps the indentation of the document                   */

static bool is_ws_text(xmlNodePtr n)
{
        if (!n || n->type != XML_TEXT_NODE)
                return false;
        for (const xmlChar *s = n->content; s && *s; s++)
                if (!is_ws((char)*s))
                        return false;
        return true;
}

static xmlNodePtr ws_copy(xmlNodePtr n)
{
        return xmlNewDocText(n->doc, n->content);
}

/* Inserts node after ref; if ref is indented, node gets the same indentation. */
static int insert_after(xmlNodePtr ref, xmlNodePtr node)
{
        xmlNodePtr ws = NULL;

        if (is_ws_text(ref->prev) && !(ws = ws_copy(ref->prev)))
                return -ENOMEM;
        /* element first: a text node added next to text would be merged */
        if (!xmlAddNextSibling(ref, node)) {
                xmlFreeNode(ws);
                return -ENOMEM;
        }
        if (ws && !xmlAddPrevSibling(node, ws)) {
                /* the caller frees node: it must not stay linked */
                xmlUnlinkNode(node);
                xmlFreeNode(ws);
                return -ENOMEM;
        }
        return 0;
}

/* Inserts node before ref, keeping ref's indentation for both. */
static int insert_before(xmlNodePtr ref, xmlNodePtr node)
{
        xmlNodePtr ws = NULL;

        if (is_ws_text(ref->prev) && !(ws = ws_copy(ref->prev)))
                return -ENOMEM;
        if (!xmlAddPrevSibling(ref, node)) {
                xmlFreeNode(ws);
                return -ENOMEM;
        }
        if (ws && !xmlAddPrevSibling(ref, ws)) {
                xmlUnlinkNode(node);
                xmlFreeNode(ws);
                return -ENOMEM;
        }
        return 0;
}

static xmlNodePtr last_el(xmlNodePtr parent)
{
        xmlNodePtr last = NULL;

        for (xmlNodePtr n = parent->children; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE)
                        last = n;
        return last;
}

static xmlNodePtr first_el(xmlNodePtr parent)
{
        for (xmlNodePtr n = parent->children; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE)
                        return n;
        return NULL;
}

/* Appends node as the last element of parent. In an empty parent whose own line is
 * indented, the child goes one level (two spaces, as libvirt writes) deeper. */
static int append_indented(xmlNodePtr parent, xmlNodePtr node)
{
        xmlNodePtr last = last_el(parent), open = NULL, close = NULL;
        const char *nl;
        char *text;

        if (last)
                return insert_after(last, node);
        if (parent->children || !is_ws_text(parent->prev) ||
            !(nl = strrchr((const char *)parent->prev->content, '\n')))
                return xmlAddChild(parent, node) ? 0 : -1;
        if (asprintf(&text, "%s  ", nl) < 0)
                return -ENOMEM;
        open = xmlNewDocText(parent->doc, (const xmlChar *)text);
        close = xmlNewDocText(parent->doc, (const xmlChar *)nl);
        free(text);
        if (!open || !close) {
                xmlFreeNode(open);
                xmlFreeNode(close);
                return -ENOMEM;
        }
        xmlAddChild(parent, open);
        xmlAddChild(parent, node);
        xmlAddChild(parent, close);
        return 0;
}

/* Removes node with the indentation in front of it; a parent left with nothing but
 * whitespace is emptied, as it was before we added to it. */
static void remove_node(xmlNodePtr node)
{
        xmlNodePtr parent = node->parent, ws = node->prev;

        if (is_ws_text(ws)) {
                xmlUnlinkNode(ws);
                xmlFreeNode(ws);
        }
        xmlUnlinkNode(node);
        xmlFreeNode(node);
        if (!parent || parent->type != XML_ELEMENT_NODE || !parent->parent ||
            parent->parent->type != XML_ELEMENT_NODE)
                return;
        for (xmlNodePtr n = parent->children; n; n = n->next)
                if (!is_ws_text(n))
                        return;
        while (parent->children) {
                xmlNodePtr n = parent->children;

                xmlUnlinkNode(n);
                xmlFreeNode(n);
        }
}

static int set_text(xmlNodePtr el, const char *text)
{
        while (el->children) {
                xmlNodePtr n = el->children;

                xmlUnlinkNode(n);
                xmlFreeNode(n);
        }
        /* AddContent takes the text literally (SetContent would parse entity references) */
        if (*text)
                xmlNodeAddContent(el, (const xmlChar *)text);
        return *text && !el->children ? -1 : 0;
}

static xmlNodePtr new_text_el(xmlDocPtr doc, const char *name, const char *text)
{
        xmlNodePtr n = xmlNewDocNode(doc, NULL, (const xmlChar *)name, NULL);

        if (n && set_text(n, text) < 0) {
                xmlFreeNode(n);
                n = NULL;
        }
        return n;
}

/* The last child of parent, in document order, named like any of names. */
static xmlNodePtr last_of(xmlNodePtr parent, const char *const *names)
{
        xmlNodePtr found = NULL;

        for (xmlNodePtr n = parent->children; n; n = n->next)
                for (const char *const *nm = names; *nm; nm++)
                        if (tv_xml_is_el(n, *nm, NULL))
                                found = n;
        return found;
}

/* Is ns referenced by any element or attribute of the tree below (and including) n? */
static bool ns_used(xmlNodePtr n, xmlNsPtr ns)
{
        xmlNodePtr cur = n;

        while (cur) {
                if (cur->type == XML_ELEMENT_NODE) {
                        if (cur->ns == ns)
                                return true;
                        for (xmlAttrPtr a = cur->properties; a; a = a->next)
                                if (a->ns == ns)
                                        return true;
                        if (cur->children) {
                                cur = cur->children;
                                continue;
                        }
                }
                while (cur && cur != n && !cur->next)
                        cur = cur->parent;
                if (!cur || cur == n)
                        break;
                cur = cur->next;
        }
        return false;
}

/* ------------------------------------------------------------------------- */
/* The kernel command line                                                   */

/* The start of the last occurrence of tok in s as a whole token, or -1. Tokens are
 * split like the kernel does: on whitespace, double quotes keeping spaces inside. */
static long cmdline_find(const char *s, const char *tok)
{
        size_t i = 0, tl = strlen(tok);
        long found = -1;

        while (s[i]) {
                bool quoted = false;
                size_t start;

                while (is_ws(s[i]))
                        i++;
                if (!s[i])
                        break;
                start = i;
                while (s[i] && (quoted || !is_ws(s[i]))) {
                        if (s[i] == '"')
                                quoted = !quoted;
                        i++;
                }
                if (i - start == tl && memcmp(s + start, tok, tl) == 0)
                        found = (long)start;
        }
        return found;
}

static bool all_ws(const char *s)
{
        while (is_ws(*s))
                s++;
        return !*s;
}

/* Removes the last occurrence of tok and one separator next to it (the one before,
 * which is the one we added). Returns whether it was there. */
static bool cmdline_remove(char *s, const char *tok)
{
        long at = cmdline_find(s, tok);
        size_t start, end;

        if (at < 0)
                return false;
        start = (size_t)at;
        end = start + strlen(tok);
        if (start > 0 && is_ws(s[start - 1]))
                start--;
        else if (is_ws(s[end]))
                end++;
        memmove(s + start, s + end, strlen(s + end) + 1);
        return true;
}

static bool cmdline_unbalanced(const char *s)
{
        bool open = false;

        for (; *s; s++)
                open = *s == '"' ? !open : open;
        return open;
}

/* The text of <os><cmdline>, "" without one; malloc'ed. NULL with err set. */
static char *cmdline_text(xmlNodePtr cmd, TvError *err)
{
        xmlChar *raw = cmd ? xmlNodeGetContent(cmd) : NULL;
        char *text = NULL;

        if (raw && strlen((const char *)raw) > MAX_CMDLINE)
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "<os><cmdline> is longer than %d bytes", MAX_CMDLINE);
        else if (!(text = strdup(raw ? (const char *)raw : "")))
                tv_error_oom(err);
        xmlFree(raw);
        return text;
}

/* ------------------------------------------------------------------------- */
/* Our record in <metadata>                                                  */

typedef struct Record {
        xmlNodePtr node;                /* <tegravirt:domain>, NULL if absent */
        bool created_metadata;
        char *owner_name;               /* name= and uuid= of the domain the record was written for */
        char *owner_uuid;
        TvStrv devices;
        bool has_qemu;
        long position;
        bool created_commandline;
        bool declared_ns;
        TvStrv qemu_args;
        bool has_dtb;
        char *dtb_path;
        char *dtb_previous;             /* NULL: there was no <dtb> before */
        bool has_acpi;                  /* we removed <features><acpi/> ... */
        long acpi_position;             /* ... which was the n-th element of <features> */
        bool has_cmdline;
        bool created_cmdline;
        TvStrv kernel_args;
        bool has_emulator;
        char *emulator_path;
        char *emulator_previous;        /* NULL: there was no <emulator> before */
        bool has_membacking;            /* we made guest memory shared memfd: */
        bool created_membacking;        /* created <memoryBacking>, */
        bool added_source, added_access;  /* added its <source type='memfd'/>, <access mode='shared'/> */
} Record;

static void record_clear(Record *r)
{
        tv_strv_free(r->devices.v);
        tv_strv_free(r->qemu_args.v);
        tv_strv_free(r->kernel_args.v);
        free(r->dtb_path);
        free(r->dtb_previous);
        free(r->emulator_path);
        free(r->emulator_previous);
        free(r->owner_name);
        free(r->owner_uuid);
        *r = (Record){ 0 };
}

static int meta_fail(TvError *err, const char *dom, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int meta_fail(TvError *err, const char *dom, const char *fmt, ...)
{
        char what[300];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                            "domain %s: the tegravirt metadata is not understood (%s); "
                            "remove <tegravirt:domain> from <metadata> and assign the devices again",
                            dom, what);
}

/* Reads a yes/no attribute; absent = no. */
static int attr_flag(xmlNodePtr n, const char *name, bool *out)
{
        xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
        int r = 0;

        *out = false;
        if (!v)
                return 0;
        if (strcmp((const char *)v, "yes") == 0)
                *out = true;
        else if (strcmp((const char *)v, "no") != 0)
                r = -1;
        xmlFree(v);
        return r;
}

/* Only attributes from the list, none in a namespace. */
static bool attrs_known(xmlNodePtr n, const char *const *names)
{
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
                bool known = false;

                if (a->ns)
                        return false;
                for (const char *const *nm = names; *nm; nm++)
                        known = known || strcmp((const char *)a->name, *nm) == 0;
                if (!known)
                        return false;
        }
        return true;
}

/* Children of a record element: whitespace, comments, and our own elements only. */
static bool only_our_elements(xmlNodePtr parent, const char *name)
{
        for (xmlNodePtr n = parent->children; n; n = n->next) {
                if (n->type == XML_COMMENT_NODE || is_ws_text(n))
                        continue;
                if (n->type != XML_ELEMENT_NODE || (name && !tv_xml_is_el(n, name, TV_DOMAIN_NS)))
                        return false;
        }
        return true;
}

/* <tegravirt:arg value=".."/>* into v */
static int read_args(xmlNodePtr parent, TvStrv *v, const char *dom, const char *what, TvError *err)
{
        static const char *const arg_attrs[] = { "value", NULL };

        if (!only_our_elements(parent, "arg"))
                return meta_fail(err, dom, "<%s> may only contain <arg value=\"...\"/>", what);
        for (xmlNodePtr a = parent->children; a; a = a->next) {
                xmlChar *val;
                int r;

                if (a->type != XML_ELEMENT_NODE)
                        continue;
                if (!attrs_known(a, arg_attrs) || a->children)
                        return meta_fail(err, dom, "<%s><arg> has unknown attributes or content", what);
                val = xmlGetNoNsProp(a, (const xmlChar *)"value");
                if (!val)
                        return meta_fail(err, dom, "<%s><arg> without value", what);
                if (v->n >= TV_DOMAIN_EDIT_MAX_TOKENS) {
                        xmlFree(val);
                        return meta_fail(err, dom, "more than %d values in <%s>", TV_DOMAIN_EDIT_MAX_TOKENS, what);
                }
                r = tv_strv_push(v, (const char *)val);
                xmlFree(val);
                if (r < 0)
                        return tv_error_oom(err);
        }
        if (v->n == 0)
                return meta_fail(err, dom, "empty <%s>", what);
        return 0;
}

static xmlNodePtr find_metadata(xmlNodePtr root)
{
        return tv_xml_child(root, "metadata", NULL);
}


static int record_read(xmlNodePtr root, const char *dom, Record *r, TvError *err)
{
        static const char *const top_attrs[] = { "version", "created-metadata", "name", "uuid", NULL };
        static const char *const dev_attrs[] = { "name", NULL };
        static const char *const qemu_attrs[] = { "position", "created-commandline", "declared-namespace", NULL };
        static const char *const dtb_attrs[] = { "path", "previous", NULL };
        static const char *const cmd_attrs[] = { "created-element", NULL };
        static const char *const acpi_attrs[] = { "position", NULL };
        static const char *const emu_attrs[] = { "path", "previous", NULL };
        static const char *const mb_attrs[] = { "created-element", "source", "access", NULL };
        xmlNodePtr meta = find_metadata(root), node = NULL;
        xmlChar *v;
        bool version_ok;

        *r = (Record){ 0 };
        for (xmlNodePtr n = meta ? meta->children : NULL; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href ||
                    strcmp((const char *)n->ns->href, TV_DOMAIN_NS) != 0)
                        continue;
                if (!tv_xml_is_el(n, "domain", TV_DOMAIN_NS))
                        return meta_fail(err, dom, "unknown element <%s> in <metadata>", (const char *)n->name);
                if (node)
                        return meta_fail(err, dom, "more than one <tegravirt:domain> in <metadata>");
                node = n;
        }
        if (!node)
                return 0;
        r->node = node;
        v = xmlGetNoNsProp(node, (const xmlChar *)"version");
        version_ok = v && strcmp((const char *)v, META_VERSION) == 0;
        xmlFree(v);
        if (!version_ok)
                return meta_fail(err, dom, "version is not " META_VERSION);
        if (!attrs_known(node, top_attrs) || attr_flag(node, "created-metadata", &r->created_metadata) < 0)
                return meta_fail(err, dom, "unknown attributes on <tegravirt:domain>");
        /* whose record this is: a clone or a rename carries another domain's */
        v = xmlGetNoNsProp(node, (const xmlChar *)"name");
        if (v && !tv_domain_name_valid((const char *)v)) {
                xmlFree(v);
                return meta_fail(err, dom, "invalid name= on <tegravirt:domain>");
        }
        r->owner_name = v ? strdup((const char *)v) : NULL;
        xmlFree(v);
        v = xmlGetNoNsProp(node, (const xmlChar *)"uuid");
        if (v && !uuid_valid((const char *)v)) {
                xmlFree(v);
                return meta_fail(err, dom, "invalid uuid= on <tegravirt:domain>");
        }
        r->owner_uuid = v ? strdup((const char *)v) : NULL;
        xmlFree(v);
        if (!only_our_elements(node, NULL))
                return meta_fail(err, dom, "text or foreign elements inside <tegravirt:domain>");

        for (xmlNodePtr n = node->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (!n->ns || !n->ns->href || strcmp((const char *)n->ns->href, TV_DOMAIN_NS) != 0)
                        return meta_fail(err, dom, "foreign element <%s>", (const char *)n->name);
                if (tv_xml_is_el(n, "device", TV_DOMAIN_NS)) {
                        int rr;

                        if (!attrs_known(n, dev_attrs) || n->children)
                                return meta_fail(err, dom, "unknown attributes or content in <device>");
                        v = xmlGetNoNsProp(n, (const xmlChar *)"name");
                        if (!v || !tv_device_token_valid((const char *)v)) {
                                xmlFree(v);
                                return meta_fail(err, dom, "<device> without a valid name");
                        }
                        for (size_t i = 0; i < r->devices.n; i++)
                                if (strcmp(r->devices.v[i], (const char *)v) == 0) {
                                        xmlFree(v);
                                        return meta_fail(err, dom, "device listed twice");
                                }
                        if (r->devices.n >= TV_DOMAIN_EDIT_MAX_TOKENS) {
                                xmlFree(v);
                                return meta_fail(err, dom, "too many devices");
                        }
                        rr = tv_strv_push(&r->devices, (const char *)v);
                        xmlFree(v);
                        if (rr < 0)
                                return tv_error_oom(err);
                } else if (tv_xml_is_el(n, "qemu-args", TV_DOMAIN_NS)) {
                        char *end;

                        if (r->has_qemu)
                                return meta_fail(err, dom, "more than one <qemu-args>");
                        r->has_qemu = true;
                        if (!attrs_known(n, qemu_attrs) ||
                            attr_flag(n, "created-commandline", &r->created_commandline) < 0 ||
                            attr_flag(n, "declared-namespace", &r->declared_ns) < 0)
                                return meta_fail(err, dom, "unknown attributes on <qemu-args>");
                        v = xmlGetNoNsProp(n, (const xmlChar *)"position");
                        errno = 0;
                        r->position = v && *v >= '0' && *v <= '9' ? strtol((const char *)v, &end, 10) : -1;
                        if (r->position < 0 || errno || *end || r->position > MAX_POSITION) {
                                xmlFree(v);
                                return meta_fail(err, dom, "<qemu-args> without a valid position");
                        }
                        xmlFree(v);
                        if (read_args(n, &r->qemu_args, dom, "qemu-args", err) < 0)
                                return -1;
                } else if (tv_xml_is_el(n, "dtb", TV_DOMAIN_NS)) {
                        xmlChar *prev;

                        if (r->has_dtb)
                                return meta_fail(err, dom, "more than one <dtb>");
                        r->has_dtb = true;
                        if (!attrs_known(n, dtb_attrs) || n->children)
                                return meta_fail(err, dom, "unknown attributes or content in <dtb>");
                        v = xmlGetNoNsProp(n, (const xmlChar *)"path");
                        prev = xmlGetNoNsProp(n, (const xmlChar *)"previous");
                        r->dtb_path = v ? strdup((const char *)v) : NULL;
                        r->dtb_previous = prev ? strdup((const char *)prev) : NULL;
                        xmlFree(v);
                        if (!r->dtb_path || (prev && !r->dtb_previous)) {
                                xmlFree(prev);
                                return r->dtb_path ? tv_error_oom(err) : meta_fail(err, dom, "<dtb> without path");
                        }
                        xmlFree(prev);
                } else if (tv_xml_is_el(n, "acpi", TV_DOMAIN_NS)) {
                        char *end;

                        if (r->has_acpi)
                                return meta_fail(err, dom, "more than one <acpi>");
                        r->has_acpi = true;
                        if (!attrs_known(n, acpi_attrs) || n->children)
                                return meta_fail(err, dom, "unknown attributes or content in <acpi>");
                        v = xmlGetNoNsProp(n, (const xmlChar *)"position");
                        errno = 0;
                        r->acpi_position = v && *v >= '0' && *v <= '9' ? strtol((const char *)v, &end, 10) : -1;
                        if (r->acpi_position < 0 || errno || *end || r->acpi_position > MAX_POSITION) {
                                xmlFree(v);
                                return meta_fail(err, dom, "<acpi> without a valid position");
                        }
                        xmlFree(v);
                } else if (tv_xml_is_el(n, "cmdline", TV_DOMAIN_NS)) {
                        if (r->has_cmdline)
                                return meta_fail(err, dom, "more than one <cmdline>");
                        r->has_cmdline = true;
                        if (!attrs_known(n, cmd_attrs) || attr_flag(n, "created-element", &r->created_cmdline) < 0)
                                return meta_fail(err, dom, "unknown attributes on <cmdline>");
                        if (read_args(n, &r->kernel_args, dom, "cmdline", err) < 0)
                                return -1;
                } else if (tv_xml_is_el(n, "emulator", TV_DOMAIN_NS)) {
                        xmlChar *prev;

                        if (r->has_emulator)
                                return meta_fail(err, dom, "more than one <emulator>");
                        r->has_emulator = true;
                        if (!attrs_known(n, emu_attrs) || n->children)
                                return meta_fail(err, dom, "unknown attributes or content in <emulator>");
                        v = xmlGetNoNsProp(n, (const xmlChar *)"path");
                        prev = xmlGetNoNsProp(n, (const xmlChar *)"previous");
                        r->emulator_path = v && *v ? strdup((const char *)v) : NULL;
                        r->emulator_previous = prev ? strdup((const char *)prev) : NULL;
                        xmlFree(v);
                        if (!r->emulator_path || (prev && !r->emulator_previous)) {
                                bool empty = !v || !*v;

                                xmlFree(prev);
                                return empty ? meta_fail(err, dom, "<emulator> without path") : tv_error_oom(err);
                        }
                        xmlFree(prev);
                } else if (tv_xml_is_el(n, "memory-backing", TV_DOMAIN_NS)) {
                        if (r->has_membacking)
                                return meta_fail(err, dom, "more than one <memory-backing>");
                        if (!attrs_known(n, mb_attrs) || n->children ||
                            attr_flag(n, "created-element", &r->created_membacking) < 0 ||
                            attr_flag(n, "source", &r->added_source) < 0 || attr_flag(n, "access", &r->added_access) < 0)
                                return meta_fail(err, dom, "unknown attributes or content in <memory-backing>");
                        if (!r->created_membacking && !r->added_source && !r->added_access)
                                return meta_fail(err, dom, "<memory-backing> that records nothing");
                        r->has_membacking = true;
                } else {
                        return meta_fail(err, dom, "unknown element <%s>", (const char *)n->name);
                }
        }
        return 0;
}

/* ------------------------------------------------------------------------- */
/* qemu:commandline                                                          */

static xmlNodePtr find_commandline(xmlNodePtr root)
{
        return tv_xml_child(root, "commandline", TV_QEMU_NS);
}

/* The <qemu:arg> children of cl and their values; both arrays freed by the caller. */
typedef struct Args {
        xmlNodePtr *node;
        char **value;           /* "" when the attribute is missing */
        size_t n;
} Args;

static void args_free(Args *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->value[i]);
        free(a->node);
        free(a->value);
        *a = (Args){ 0 };
}

static int args_collect(xmlNodePtr cl, Args *a)
{
        size_t cap = 0;

        *a = (Args){ 0 };
        for (xmlNodePtr n = cl ? cl->children : NULL; n; n = n->next) {
                xmlChar *v;

                if (!tv_xml_is_el(n, "arg", TV_QEMU_NS))
                        continue;
                if (a->n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        xmlNodePtr *nn = realloc(a->node, nc * sizeof(*nn));
                        char **nv;

                        if (!nn)
                                goto fail;
                        a->node = nn;
                        nv = realloc(a->value, nc * sizeof(*nv));
                        if (!nv)
                                goto fail;
                        a->value = nv;
                        cap = nc;
                }
                v = xmlGetNoNsProp(n, (const xmlChar *)"value");
                a->value[a->n] = strdup(v ? (const char *)v : "");
                xmlFree(v);
                if (!a->value[a->n])
                        goto fail;
                a->node[a->n++] = n;
        }
        return 0;
fail:
        args_free(a);
        return -ENOMEM;
}

static bool run_at(const Args *a, size_t start, const TvStrv *rec)
{
        if (start > a->n || rec->n > a->n - start)
                return false;
        for (size_t i = 0; i < rec->n; i++)
                if (strcmp(a->value[start + i], rec->v[i]) != 0)
                        return false;
        return true;
}

/* Where our recorded run is: at the recorded position, or else the last args (args
 * before ours were added or removed since; we always append at the end). */
static long run_find(const Args *a, const Record *r)
{
        if (!r->qemu_args.n)
                return -1;
        if (run_at(a, (size_t)r->position, &r->qemu_args))
                return r->position;
        if (r->qemu_args.n <= a->n && run_at(a, a->n - r->qemu_args.n, &r->qemu_args))
                return (long)(a->n - r->qemu_args.n);
        return -1;
}

static xmlNsPtr root_qemu_ns(xmlNodePtr root)
{
        for (xmlNsPtr ns = root->nsDef; ns; ns = ns->next)
                if (ns->prefix && ns->href && strcmp((const char *)ns->href, TV_QEMU_NS) == 0)
                        return ns;
        return NULL;
}

/* Declares the qemu namespace on <domain>, as libvirt writes it: prefix "qemu",
 * unless that prefix is taken there by something else. */
static xmlNsPtr declare_qemu_ns(xmlNodePtr root)
{
        char prefix[16] = "qemu";

        for (int i = 1; i < 100; i++) {
                bool taken = false;

                for (xmlNsPtr ns = root->nsDef; ns; ns = ns->next)
                        taken = taken || (ns->prefix && strcmp((const char *)ns->prefix, prefix) == 0);
                if (!taken)
                        return xmlNewNs(root, (const xmlChar *)TV_QEMU_NS, (const xmlChar *)prefix);
                snprintf(prefix, sizeof(prefix), "qemu%d", i);
        }
        return NULL;
}

static void unlink_ns_def(xmlNodePtr el, xmlNsPtr ns)
{
        for (xmlNsPtr *pp = &el->nsDef; *pp; pp = &(*pp)->next)
                if (*pp == ns) {
                        *pp = ns->next;
                        ns->next = NULL;
                        xmlFreeNs(ns);
                        return;
                }
}

/* ------------------------------------------------------------------------- */
/* Revert                                                                    */

static int revert_qemu(xmlNodePtr root, const Record *r)
{
        xmlNodePtr cl = find_commandline(root);
        Args a;
        long at;

        if (!r->has_qemu)
                return 0;
        if (cl) {
                if (args_collect(cl, &a) < 0)
                        return -ENOMEM;
                at = run_find(&a, r);
                for (size_t i = 0; at >= 0 && i < r->qemu_args.n; i++)
                        remove_node(a.node[(size_t)at + i]);
                args_free(&a);
                if (r->created_commandline && !first_el(cl))
                        remove_node(cl);
        }
        if (r->declared_ns) {
                xmlNsPtr ns = root_qemu_ns(root);

                if (ns && !ns_used(root, ns))
                        unlink_ns_def(root, ns);
        }
        return 0;
}

static int revert_dtb(xmlNodePtr root, const Record *r)
{
        xmlNodePtr dtb = tv_xml_child(tv_xml_child(root, "os", NULL), "dtb", NULL);
        char *cur;
        int ret = 0;

        if (!r->has_dtb || !dtb)
                return 0;
        /* exactly what we wrote (libvirt keeps the text as it is) */
        cur = tv_xml_content(dtb, false);
        if (!cur)
                return -ENOMEM;
        /* a <dtb> someone changed since is theirs now */
        if (strcmp(cur, r->dtb_path) == 0) {
                if (r->dtb_previous)
                        ret = set_text(dtb, r->dtb_previous);
                else
                        remove_node(dtb);
        }
        free(cur);
        return ret;
}

/* <emulator> back to what it was before ours (removed when there was none), unless it is
 * no longer ours. */
static int revert_emulator(xmlNodePtr root, const Record *r)
{
        xmlNodePtr emu = tv_xml_child(tv_xml_child(root, "devices", NULL), "emulator", NULL);
        char *cur;
        int ret = 0;

        if (!r->has_emulator || !emu)
                return 0;
        cur = tv_xml_content(emu, false);
        if (!cur)
                return -ENOMEM;
        if (strcmp(cur, r->emulator_path) == 0) {
                if (r->emulator_previous)
                        ret = set_text(emu, r->emulator_previous);
                else
                        remove_node(emu);
        }
        free(cur);
        return ret;
}

/* Puts <acpi/> back where it was in <features>, unless the user did so already. */
static int revert_acpi(xmlNodePtr root, const Record *r)
{
        static const char *const features_after[] = { "os", "idmap", NULL };
        xmlNodePtr features = tv_xml_child(root, "features", NULL), acpi, ref;
        long i = 0;

        if (!r->has_acpi || tv_xml_child(features, "acpi", NULL))
                return 0;
        if (!features) {
                /* libvirt drops a <features> left empty; it comes back after <os> */
                ref = last_of(root, features_after);
                features = xmlNewDocNode(root->doc, NULL, (const xmlChar *)"features", NULL);
                if (!features || (ref ? insert_after(ref, features) : append_indented(root, features)) < 0) {
                        xmlFreeNode(features);
                        return -ENOMEM;
                }
        }
        acpi = xmlNewDocNode(root->doc, NULL, (const xmlChar *)"acpi", NULL);
        if (!acpi)
                return -ENOMEM;
        for (ref = first_el(features); ref && i < r->acpi_position; ref = ref->next)
                if (ref->type == XML_ELEMENT_NODE)
                        i++;
        while (ref && ref->type != XML_ELEMENT_NODE)
                ref = ref->next;
        if ((ref ? insert_before(ref, acpi) : append_indented(features, acpi)) < 0) {
                xmlFreeNode(acpi);
                return -ENOMEM;
        }
        return 0;
}

static int revert_cmdline(xmlNodePtr root, const Record *r, TvError *err)
{
        xmlNodePtr cmd = tv_xml_child(tv_xml_child(root, "os", NULL), "cmdline", NULL);
        char *text;
        bool changed = false;
        int ret = 0;

        if (!r->has_cmdline || !cmd)
                return 0;
        if (!(text = cmdline_text(cmd, err)))
                return -1;
        /* ours were appended in order: take them off from the end */
        for (size_t i = r->kernel_args.n; i-- > 0;)
                changed = cmdline_remove(text, r->kernel_args.v[i]) || changed;
        if (r->created_cmdline && all_ws(text))
                remove_node(cmd);
        else if (changed)
                ret = set_text(cmd, text);
        free(text);
        return ret;
}

/* Is n's attribute name exactly value? */
static bool attr_is(xmlNodePtr n, const char *name, const char *value)
{
        xmlChar *v = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
        bool r = v && strcmp((const char *)v, value) == 0;

        xmlFree(v);
        return r;
}

/* Takes out the <source>/<access> we added (while they still say what we wrote) and the
 * <memoryBacking> we created once nothing else is in it. */
static void revert_membacking(xmlNodePtr root, const Record *r)
{
        xmlNodePtr mb = tv_xml_child(root, "memoryBacking", NULL), n;

        if (!r->has_membacking || !mb)
                return;
        if (r->added_access && (n = tv_xml_child(mb, "access", NULL)) && attr_is(n, "mode", "shared"))
                remove_node(n);
        if (r->added_source && (n = tv_xml_child(mb, "source", NULL)) && attr_is(n, "type", "memfd"))
                remove_node(n);
        if (r->created_membacking && !first_el(mb))
                remove_node(mb);
}

static void revert_record(xmlNodePtr root, const Record *r)
{
        xmlNodePtr meta;

        if (!r->node)
                return;
        meta = r->node->parent;
        remove_node(r->node);
        if (r->created_metadata && meta && !first_el(meta))
                remove_node(meta);
}

/* ------------------------------------------------------------------------- */
/* Apply                                                                     */

/* Why a token cannot go into the XML, or NULL if it can. */
static const char *token_problem(const char *s, bool spaces_ok)
{
        size_t len;

        if (!s)
                return "is missing";
        len = strnlen(s, TV_DOMAIN_EDIT_MAX_TOKEN_LEN + 1);
        if (len == 0)
                return "is empty";
        if (len > TV_DOMAIN_EDIT_MAX_TOKEN_LEN)
                return "is longer than 4096 bytes";
        if (!tv_utf8_valid(s, len))
                return "is not UTF-8";
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c == 0x7f)
                        return "contains a control character";
                if (!spaces_ok && (c == ' ' || c == '"'))
                        return "contains a space or a quote (one token per argument)";
                /* U+FFFE and U+FFFF are not XML characters */
                if (c == 0xef && i + 2 < len && (unsigned char)s[i + 1] == 0xbf &&
                    ((unsigned char)s[i + 2] == 0xbe || (unsigned char)s[i + 2] == 0xbf))
                        return "contains U+FFFE or U+FFFF";
        }
        return NULL;
}

static int check_list(char *const *v, const char *what, bool spaces_ok, TvError *err)
{
        size_t n = tv_strv_length(v);

        if (n > TV_DOMAIN_EDIT_MAX_TOKENS)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "more than %d %ss", TV_DOMAIN_EDIT_MAX_TOKENS, what);
        for (size_t i = 0; i < n; i++) {
                const char *why = token_problem(v[i], spaces_ok);

                if (why)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "%s #%zu %s", what, i + 1, why);
        }
        return 0;
}

static int check_edit(const TvDomainEdit *e, TvError *err)
{
        size_t nd = tv_strv_length(e->devices);
        const char *why;

        if (nd > TV_DOMAIN_EDIT_MAX_TOKENS)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "more than %d devices", TV_DOMAIN_EDIT_MAX_TOKENS);
        for (size_t i = 0; i < nd; i++) {
                if (!tv_device_token_valid(e->devices[i]))
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "device #%zu is not a valid device name",
                                            i + 1);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(e->devices[i], e->devices[j]) == 0)
                                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "device %s is listed twice",
                                                    e->devices[i]);
        }
        if (nd == 0 && (tv_strv_length(e->qemu_args) || e->dtb || tv_strv_length(e->kernel_args)))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                    "qemu args, a dtb or kernel args were given without any device");
        if (check_list(e->qemu_args, "qemu arg", true, err) < 0 ||
            check_list(e->kernel_args, "kernel arg", false, err) < 0)
                return -1;
        if (e->dtb && (why = token_problem(e->dtb, true)))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the dtb path %s", why);
        if (e->dtb && (e->dtb[0] != '/' || !e->dtb[1]))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the dtb path must be absolute");
        if (nd == 0 && e->emulator)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "an emulator was given without any device");
        if (nd == 0 && e->shared_memory)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "shared memory was asked for without any device");
        if (e->emulator && (why = token_problem(e->emulator, true)))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the emulator path %s", why);
        if (e->emulator && (e->emulator[0] != '/' || !e->emulator[1]))
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the emulator path must be absolute");
        return 0;
}

static bool has_kernel(xmlNodePtr root)
{
        xmlNodePtr k = tv_xml_child(tv_xml_child(root, "os", NULL), "kernel", NULL);
        char *t;
        bool r;

        if (!k)
                return false;
        t = tv_xml_content(k, true);
        r = t && *t;
        free(t);
        return r;
}

/* UEFI: <os firmware='efi'> (libvirt picks the firmware) or an explicit <loader> */
static bool has_firmware(xmlNodePtr root)
{
        xmlNodePtr os = tv_xml_child(root, "os", NULL);
        xmlChar *fw = os ? xmlGetNoNsProp(os, (const xmlChar *)"firmware") : NULL;
        bool r = (fw && strcmp((const char *)fw, "efi") == 0) || tv_xml_child(os, "loader", NULL);

        xmlFree(fw);
        return r;
}

static xmlNodePtr new_our_el(xmlDocPtr doc, xmlNsPtr ns, const char *name)
{
        return xmlNewDocNode(doc, ns, (const xmlChar *)name, NULL);
}

static int add_arg_els(xmlNodePtr parent, xmlNsPtr ns, char *const *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                xmlNodePtr a = new_our_el(parent->doc, ns, "arg");

                if (!a || !xmlNewProp(a, (const xmlChar *)"value", (const xmlChar *)v[i]) ||
                    append_indented(parent, a) < 0) {
                        xmlFreeNode(a);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int apply_qemu(xmlNodePtr root, const TvDomainEdit *e, Record *rec)
{
        size_t n = tv_strv_length(e->qemu_args);
        xmlNodePtr cl, prev = NULL, first;
        Args a;

        if (!n)
                return 0;
        rec->has_qemu = true;
        cl = find_commandline(root);
        if (!cl) {
                xmlNsPtr ns = root_qemu_ns(root);
                xmlNodePtr last = last_el(root);

                if (!ns) {
                        if (!(ns = declare_qemu_ns(root)))
                                return -ENOMEM;
                        rec->declared_ns = true;
                }
                cl = xmlNewDocNode(root->doc, ns, (const xmlChar *)"commandline", NULL);
                if (!cl || (last ? insert_after(last, cl) : (xmlAddChild(root, cl) ? 0 : -1)) < 0) {
                        xmlFreeNode(cl);
                        return -ENOMEM;
                }
                rec->created_commandline = true;
        }
        if (args_collect(cl, &a) < 0)
                return -ENOMEM;
        rec->position = (long)a.n;
        prev = a.n ? a.node[a.n - 1] : NULL;
        args_free(&a);
        first = first_el(cl);
        for (size_t i = 0; i < n; i++) {
                /* the arg takes the namespace (and prefix) of the element it goes into */
                xmlNodePtr arg = xmlNewDocNode(root->doc, cl->ns, (const xmlChar *)"arg", NULL);
                int r;

                if (!arg || !xmlNewProp(arg, (const xmlChar *)"value", (const xmlChar *)e->qemu_args[i])) {
                        xmlFreeNode(arg);
                        return -ENOMEM;
                }
                /* after the last arg, i.e. before any <qemu:env>, as libvirt orders them */
                if (prev)
                        r = insert_after(prev, arg);
                else if (first)
                        r = insert_before(first, arg);
                else
                        r = append_indented(cl, arg);
                if (r < 0) {
                        xmlFreeNode(arg);
                        return -ENOMEM;
                }
                prev = arg;
                if (tv_strv_push(&rec->qemu_args, e->qemu_args[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* With ACPI on, the firmware hands the guest an empty device tree and <dtb> is ignored:
 * <features><acpi/> goes while ours is set (libvirt then runs QEMU with -no-acpi). */
static int apply_no_acpi(xmlNodePtr root, Record *rec)
{
        xmlNodePtr features = tv_xml_child(root, "features", NULL), acpi = tv_xml_child(features, "acpi", NULL);
        long pos = 0;

        if (!acpi)
                return 0;
        for (xmlNodePtr n = first_el(features); n != acpi; n = n->next)
                pos += n->type == XML_ELEMENT_NODE;
        /* all of them (libvirt allows one; a second would keep ACPI on) */
        for (; acpi; acpi = tv_xml_child(features, "acpi", NULL))
                remove_node(acpi);
        rec->has_acpi = true;
        rec->acpi_position = pos;
        return 0;
}

static int apply_dtb(xmlNodePtr root, const TvDomainEdit *e, Record *rec)
{
        /* libvirt's order: kernel, initrd, cmdline, dtb; after the loader and nvram without a kernel */
        static const char *const after[] = { "type", "firmware", "loader", "nvram", "kernel", "initrd", "cmdline",
                                             NULL };
        xmlNodePtr os = tv_xml_child(root, "os", NULL), dtb, ref;

        if (!e->dtb)
                return 0;
        rec->has_dtb = true;
        if (!(rec->dtb_path = strdup(e->dtb)))
                return -ENOMEM;
        dtb = new_text_el(root->doc, "dtb", e->dtb);
        ref = last_of(os, after);
        /* <os> has <type> or a boot method (checked) */
        if (!dtb || !ref || insert_after(ref, dtb) < 0) {
                xmlFreeNode(dtb);
                return -ENOMEM;
        }
        return apply_no_acpi(root, rec);
}

/* <devices><emulator> becomes e->emulator; what it was is recorded (libvirt puts <emulator>
 * first in <devices>; a definition without <devices> gets none: libvirt would add its default). */
static int apply_emulator(xmlNodePtr root, const TvDomainEdit *e, Record *rec)
{
        xmlNodePtr devices = tv_xml_child(root, "devices", NULL), emu, first;
        char *cur = NULL;

        if (!e->emulator || !devices)
                return 0;
        emu = tv_xml_child(devices, "emulator", NULL);
        if (emu && !(cur = tv_xml_content(emu, false)))
                return -ENOMEM;
        if (cur && strcmp(cur, e->emulator) == 0) {
                free(cur); /* already that one: nothing to record or undo */
                return 0;
        }
        rec->has_emulator = true;
        rec->emulator_previous = cur;
        if (!(rec->emulator_path = strdup(e->emulator)))
                return -ENOMEM;
        if (emu)
                return set_text(emu, e->emulator);
        emu = new_text_el(root->doc, "emulator", e->emulator);
        first = first_el(devices);
        if (!emu || (first ? insert_before(first, emu) : append_indented(devices, emu)) < 0) {
                xmlFreeNode(emu);
                return -ENOMEM;
        }
        return 0;
}

static int apply_cmdline(xmlNodePtr root, const TvDomainEdit *e, Record *rec, TvError *err)
{
        static const char *const after[] = { "kernel", "initrd", NULL };
        size_t n = tv_strv_length(e->kernel_args), len;
        xmlNodePtr os = tv_xml_child(root, "os", NULL), cmd;
        char *text;
        bool created = false;
        int r = -1;

        /* a disk-booting guest takes them from its boot loader: reported, not written */
        if (!n || !has_kernel(root))
                return 0;
        cmd = tv_xml_child(os, "cmdline", NULL);
        if (!(text = cmdline_text(cmd, err)))
                return -1;
        len = strlen(text);
        if (memchr(text, '"', len) && cmdline_unbalanced(text)) {
                /* whatever we append would end up inside the user's quoted value */
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "<os><cmdline> has an unbalanced double quote");
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                size_t tl = strlen(e->kernel_args[i]);
                char *nt;

                if (cmdline_find(text, e->kernel_args[i]) >= 0)
                        continue;       /* the user's (or an earlier token of this list) */
                nt = realloc(text, len + tl + 2);
                if (!nt)
                        goto out;
                text = nt;
                if (len)
                        text[len++] = ' ';
                memcpy(text + len, e->kernel_args[i], tl + 1);
                len += tl;
                if (tv_strv_push(&rec->kernel_args, e->kernel_args[i]) < 0)
                        goto out;
        }
        if (!rec->kernel_args.n) {
                r = 0;
                goto out;
        }
        rec->has_cmdline = true;
        if (!cmd) {
                cmd = new_text_el(root->doc, "cmdline", text);
                if (!cmd || insert_after(last_of(os, after), cmd) < 0) {
                        xmlFreeNode(cmd);
                        goto out;
                }
                created = true;
        } else if (set_text(cmd, text) < 0) {
                goto out;
        }
        rec->created_cmdline = rec->created_cmdline || created;
        r = 0;
out:
        free(text);
        return r;
}

static int set_attr(xmlNodePtr n, const char *name, const char *value)
{
        return xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -1;
}

/* Why the definition's memory cannot be shared memfd as it stands, or 0. vhost-user
 * back ends map guest RAM from the fds QEMU sends, so every RAM block must be a shared
 * fd-backed one; a private <access>, another <source> or a private NUMA cell says no. */
static int check_membacking(xmlNodePtr root, const char *dom, TvError *err)
{
        static const char *const need = "the vhost-user GPIO device of its line groups needs guest memory QEMU can "
                                        "share with the backend (<memoryBacking><source type='memfd'/><access "
                                        "mode='shared'/></memoryBacking>)";
        static const struct {
                const char *el, *attr, *want, *fix;
        } rules[] = {
                { "source", "type", "memfd", "change the source to memfd (or remove it)" },
                { "access", "mode", "shared", "set mode='shared' (or remove <access>)" },
        };
        xmlNodePtr mb = tv_xml_child(root, "memoryBacking", NULL), n;
        xmlNodePtr numa = tv_xml_child(tv_xml_child(root, "cpu", NULL), "numa", NULL);
        char q[QUOTE_BUF];
        xmlChar *v;

        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                if (!(n = tv_xml_child(mb, rules[i].el, NULL)) || attr_is(n, rules[i].attr, rules[i].want))
                        continue;
                v = xmlGetNoNsProp(n, (const xmlChar *)rules[i].attr);
                quote_value(q, v ? (const char *)v : "");
                xmlFree(v);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                    "domain %s has <memoryBacking><%s %s='%s'/>, but %s; %s and assign again", dom,
                                    rules[i].el, rules[i].attr, q, need, rules[i].fix);
        }
        for (n = numa ? numa->children : NULL; n; n = n->next) {
                if (!tv_xml_is_el(n, "cell", NULL) || !(v = xmlGetNoNsProp(n, (const xmlChar *)"memAccess")))
                        continue;
                if (strcmp((const char *)v, "shared") != 0) {
                        xmlChar *id = xmlGetNoNsProp(n, (const xmlChar *)"id");
                        char qid[QUOTE_BUF];

                        quote_value(q, (const char *)v);
                        quote_value(qid, id ? (const char *)id : "?");
                        xmlFree(id);
                        xmlFree(v);
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "domain %s has NUMA cell %s with memAccess='%s', but %s; remove memAccess "
                                            "or set it to 'shared' and assign again", dom, qid, q, need);
                }
                xmlFree(v);
        }
        return 0;
}

/* A new <name attr='value'/> in parent after the last of after (libvirt's order), else first. */
static int add_empty_el(xmlNodePtr parent, const char *name, const char *attr, const char *value,
                        const char *const *after)
{
        xmlNodePtr n = xmlNewDocNode(parent->doc, NULL, (const xmlChar *)name, NULL), ref = last_of(parent, after);
        xmlNodePtr first = first_el(parent);
        int r;

        if (!n || set_attr(n, attr, value) < 0) {
                xmlFreeNode(n);
                return -ENOMEM;
        }
        r = ref ? insert_after(ref, n) : first ? insert_before(first, n) : append_indented(parent, n);
        if (r < 0)
                xmlFreeNode(n);
        return r < 0 ? -ENOMEM : 0;
}

/* Guest RAM as shared memfd; check_membacking() said it can be. What was there stays. */
static int apply_membacking(xmlNodePtr root, const TvDomainEdit *e, Record *rec)
{
        /* libvirt's element orders (domain_conf.c's formatter) */
        static const char *const mb_after[] = { "name", "uuid", "genid", "title", "description", "metadata",
                                                "maxMemory", "memory", "currentMemory", "blkiotune", "memtune", NULL };
        static const char *const src_after[] = { "hugepages", "nosharepages", "locked", NULL };
        static const char *const acc_after[] = { "hugepages", "nosharepages", "locked", "source", NULL };
        xmlNodePtr mb;

        if (!e->shared_memory)
                return 0;
        mb = tv_xml_child(root, "memoryBacking", NULL);
        if (!mb) {
                xmlNodePtr ref = last_of(root, mb_after);

                mb = xmlNewDocNode(root->doc, NULL, (const xmlChar *)"memoryBacking", NULL);
                if (!mb || (ref ? insert_after(ref, mb) : append_indented(root, mb)) < 0) {
                        xmlFreeNode(mb);
                        return -ENOMEM;
                }
                rec->created_membacking = true;
        }
        if (!tv_xml_child(mb, "source", NULL)) {
                if (add_empty_el(mb, "source", "type", "memfd", src_after) < 0)
                        return -ENOMEM;
                rec->added_source = true;
        }
        if (!tv_xml_child(mb, "access", NULL)) {
                if (add_empty_el(mb, "access", "mode", "shared", acc_after) < 0)
                        return -ENOMEM;
                rec->added_access = true;
        }
        rec->has_membacking = rec->created_membacking || rec->added_source || rec->added_access;
        return 0;
}

/* Writes rec as <tegravirt:domain> at the end of <metadata>, creating that if needed. */
static int record_write(xmlNodePtr root, char *const *devices, Record *rec)
{
        static const char *const meta_after[] = { "name", "uuid", "genid", "title", "description", NULL };
        xmlDocPtr doc = root->doc;
        xmlNodePtr meta = find_metadata(root), top, n;
        xmlNsPtr ns;
        char pos[32];

        if (!meta) {
                xmlNodePtr ref = last_of(root, meta_after);

                meta = xmlNewDocNode(doc, NULL, (const xmlChar *)"metadata", NULL);
                if (!meta || (ref ? insert_after(ref, meta) : (xmlAddChild(root, meta) ? 0 : -1)) < 0) {
                        xmlFreeNode(meta);
                        return -ENOMEM;
                }
                rec->created_metadata = true;
        }
        top = xmlNewDocNode(doc, NULL, (const xmlChar *)"domain", NULL);
        if (!top)
                return -ENOMEM;
        /* libvirt keeps each metadata element with its own namespace declaration */
        ns = xmlNewNs(top, (const xmlChar *)TV_DOMAIN_NS, (const xmlChar *)TV_DOMAIN_NS_PREFIX);
        if (!ns || append_indented(meta, top) < 0) {
                xmlFreeNode(top);
                return -ENOMEM;
        }
        xmlSetNs(top, ns);
        rec->node = top;
        if (set_attr(top, "version", META_VERSION) < 0 ||
            (rec->created_metadata && set_attr(top, "created-metadata", "yes") < 0))
                return -ENOMEM;
        for (size_t i = 0; devices && devices[i]; i++) {
                n = new_our_el(doc, ns, "device");
                if (!n || set_attr(n, "name", devices[i]) < 0 || append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
        }
        if (rec->has_qemu) {
                snprintf(pos, sizeof(pos), "%ld", rec->position);
                n = new_our_el(doc, ns, "qemu-args");
                if (!n || set_attr(n, "position", pos) < 0 ||
                    (rec->created_commandline && set_attr(n, "created-commandline", "yes") < 0) ||
                    (rec->declared_ns && set_attr(n, "declared-namespace", "yes") < 0) ||
                    append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
                if (add_arg_els(n, ns, rec->qemu_args.v, rec->qemu_args.n) < 0)
                        return -ENOMEM;
        }
        if (rec->has_dtb) {
                n = new_our_el(doc, ns, "dtb");
                if (!n || set_attr(n, "path", rec->dtb_path) < 0 ||
                    (rec->dtb_previous && set_attr(n, "previous", rec->dtb_previous) < 0) ||
                    append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
        }
        if (rec->has_acpi) {
                snprintf(pos, sizeof(pos), "%ld", rec->acpi_position);
                n = new_our_el(doc, ns, "acpi");
                if (!n || set_attr(n, "position", pos) < 0 || append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
        }
        if (rec->has_cmdline) {
                n = new_our_el(doc, ns, "cmdline");
                if (!n || (rec->created_cmdline && set_attr(n, "created-element", "yes") < 0) ||
                    append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
                if (add_arg_els(n, ns, rec->kernel_args.v, rec->kernel_args.n) < 0)
                        return -ENOMEM;
        }
        if (rec->has_membacking) {
                n = new_our_el(doc, ns, "memory-backing");
                if (!n || (rec->created_membacking && set_attr(n, "created-element", "yes") < 0) ||
                    (rec->added_source && set_attr(n, "source", "yes") < 0) ||
                    (rec->added_access && set_attr(n, "access", "yes") < 0) || append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
        }
        if (rec->has_emulator) {
                n = new_our_el(doc, ns, "emulator");
                if (!n || set_attr(n, "path", rec->emulator_path) < 0 ||
                    (rec->emulator_previous && set_attr(n, "previous", rec->emulator_previous) < 0) ||
                    append_indented(top, n) < 0) {
                        xmlFreeNode(n);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int dump_doc(xmlDocPtr doc, char **out)
{
        xmlBufferPtr buf = xmlBufferCreate();
        xmlSaveCtxtPtr save;
        int r = -1;

        if (!buf)
                return -ENOMEM;
        save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL);
        if (save) {
                long w = xmlSaveDoc(save, doc);

                if (xmlSaveClose(save) >= 0 && w >= 0 && xmlBufferContent(buf)) {
                        *out = strndup((const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
                        r = *out ? 0 : -1;
                }
        }
        xmlBufferFree(buf);
        return r;
}

static char *child_text(xmlNodePtr parent, const char *name, bool *failed);

static int edit_doc(xmlDocPtr doc, const char *name, const TvDomainEdit *e, TvError *err)
{
        xmlNodePtr root = xmlDocGetRootElement(doc), dtb;
        Record old, rec = { 0 };
        int r = -1;

        if (record_read(root, name, &old, err) < 0) {
                record_clear(&old);
                return -1;
        }
        if (revert_qemu(root, &old) < 0 || revert_dtb(root, &old) < 0 || revert_acpi(root, &old) < 0 ||
            revert_cmdline(root, &old, err) < 0 || revert_emulator(root, &old) < 0) {
                tv_error_oom(err);
                goto out;
        }
        revert_membacking(root, &old);
        revert_record(root, &old);
        if (!tv_strv_length(e->devices)) {
                r = 0;
                goto out;
        }
        if (e->dtb && !has_kernel(root) && !has_firmware(root)) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "domain %s boots neither a <kernel> nor UEFI firmware (<os firmware='efi'> or <loader>); "
                             "its guest could not get the device tree tegravirt makes", name);
                goto out;
        }
        if (e->dtb && (dtb = tv_xml_child(tv_xml_child(root, "os", NULL), "dtb", NULL))) {
                char q[QUOTE_BUF], *cur = tv_xml_content(dtb, false);

                if (!cur) {
                        tv_error_oom(err);
                        goto out;
                }
                quote_value(q, cur);
                free(cur);
                /* the guest gets one tree: ours, QEMU's virt tree plus the devices */
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "domain %s boots with its own device tree (<os><dtb>%s</dtb>); tegravirt would have to "
                             "replace it with QEMU's virt tree plus the assigned devices; remove <dtb> from the "
                             "definition to assign devices", name, q);
                goto out;
        }
        if (e->shared_memory && check_membacking(root, name, err) < 0)
                goto out;
        /* what we created stays ours while it exists, even if the user added to it since */
        rec.created_metadata = old.created_metadata && find_metadata(root);
        rec.created_commandline = old.created_commandline && find_commandline(root);
        rec.declared_ns = old.declared_ns && root_qemu_ns(root);
        rec.created_cmdline = old.created_cmdline && tv_xml_child(tv_xml_child(root, "os", NULL), "cmdline", NULL);
        rec.created_membacking = old.created_membacking && tv_xml_child(root, "memoryBacking", NULL);
        if (apply_qemu(root, e, &rec) < 0 || apply_membacking(root, e, &rec) < 0 || apply_dtb(root, e, &rec) < 0 || apply_cmdline(root, e, &rec, err) < 0 ||
            apply_emulator(root, e, &rec) < 0 || record_write(root, e->devices, &rec) < 0) {
                tv_error_oom(err);
                goto out;
        }
        /* the record names its domain, so a copy (virt-clone, a rename) is recognised */
        {
                bool failed = false;
                char *uuid = child_text(root, "uuid", &failed);

                if (uuid && !uuid_valid(uuid)) {
                        /* libvirt never hands one out; recorded, it would make the record unreadable */
                        char q[QUOTE_BUF];

                        tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "domain %s: <uuid> '%s' is not a UUID", name,
                                     quote_value(q, uuid));
                        free(uuid);
                        goto out;
                }
                r = failed || set_attr(rec.node, "name", name) < 0 || (uuid && set_attr(rec.node, "uuid", uuid) < 0)
                            ? -1 : 0;
                free(uuid);
                if (r < 0) {
                        tv_error_oom(err);
                        goto out;
                }
        }
        r = 0;
out:
        record_clear(&old);
        record_clear(&rec);
        return r;
}

int tv_domain_edit_apply(const char *xml, size_t len, const TvDomainEdit *edit, char **out, TvError *err)
{
        static const TvDomainEdit none = { 0 };
        xmlDocPtr doc = NULL;
        char *name = NULL;
        TvXmlErrorScope q;
        int r = -1;

        *out = NULL;
        if (!edit)
                edit = &none;
        if (check_edit(edit, err) < 0)
                return -1;
        tv_xml_errors_push(&q, NULL, tv_xml_diag_note, tv_xml_diag_ignore);
        if (tv_domain_xml_read(xml, len, &doc, &name, err) < 0)
                goto out;
        if (edit_doc(doc, name, edit, err) < 0)
                goto out;
        if (dump_doc(doc, out) < 0) {
                tv_error_oom(err);
                goto out;
        }
        r = 0;
out:
        xmlFreeDoc(doc);
        free(name);
        tv_xml_errors_pop(&q);
        return r;
}

/* ------------------------------------------------------------------------- */
/* Inspect                                                                   */

static void drift_qemu(xmlNodePtr root, const Record *r, Buf *b)
{
        xmlNodePtr cl = find_commandline(root);
        char q[QUOTE_BUF];
        size_t best = 0;
        Args a;

        if (!r->has_qemu)
                return;
        if (!cl) {
                buf_add(b, "the <qemu:commandline> with tegravirt's %zu qemu args was removed", r->qemu_args.n);
                return;
        }
        if (args_collect(cl, &a) < 0) {
                b->failed = true;
                return;
        }
        if (run_find(&a, r) >= 0) {
                args_free(&a);
                return;
        }
        /* name the first recorded arg that is missing, aligned where most of the run is */
        for (int pass = 0; pass < 2; pass++) {
                size_t start = pass == 0 ? (size_t)r->position
                                         : (a.n > r->qemu_args.n ? a.n - r->qemu_args.n : 0), k = 0;

                while (start + k < a.n && k < r->qemu_args.n && strcmp(a.value[start + k], r->qemu_args.v[k]) == 0)
                        k++;
                if (pass == 0 || k > best)
                        best = k;
        }
        if (best < r->qemu_args.n) {
                bool anywhere = false;

                for (size_t i = 0; i < a.n; i++)
                        anywhere = anywhere || strcmp(a.value[i], r->qemu_args.v[best]) == 0;
                quote_value(q, r->qemu_args.v[best]);
                buf_add(b, anywhere ? "qemu arg '%s' is no longer where tegravirt put it" : "qemu arg '%s' was removed",
                        q);
        }
        args_free(&a);
}

static void drift_dtb(xmlNodePtr root, const Record *r, Buf *b)
{
        xmlNodePtr dtb = tv_xml_child(tv_xml_child(root, "os", NULL), "dtb", NULL);
        char q1[QUOTE_BUF], q2[QUOTE_BUF];
        char *cur;

        if (!r->has_dtb)
                return;
        quote_value(q1, r->dtb_path);
        if (!dtb) {
                buf_add(b, "<os><dtb> '%s' was removed", q1);
                return;
        }
        cur = tv_xml_content(dtb, false);
        if (!cur) {
                b->failed = true;
                return;
        }
        if (strcmp(cur, r->dtb_path) != 0) {
                quote_value(q2, cur);
                buf_add(b, "<os><dtb> is '%s' instead of tegravirt's '%s'", q2, q1);
        }
        free(cur);
}

static void drift_emulator(xmlNodePtr root, const Record *r, Buf *b)
{
        xmlNodePtr emu = tv_xml_child(tv_xml_child(root, "devices", NULL), "emulator", NULL);
        char q1[QUOTE_BUF], q2[QUOTE_BUF];
        char *cur;

        if (!r->has_emulator)
                return;
        quote_value(q1, r->emulator_path);
        if (!emu) {
                buf_add(b, "<emulator> '%s' was removed", q1);
                return;
        }
        cur = tv_xml_content(emu, false);
        if (!cur) {
                b->failed = true;
                return;
        }
        if (strcmp(cur, r->emulator_path) != 0) {
                quote_value(q2, cur);
                buf_add(b, "<emulator> is '%s' instead of tegravirt's '%s'", q2, q1);
        }
        free(cur);
}

static void drift_acpi(xmlNodePtr root, const Record *r, Buf *b)
{
        if (r->has_acpi && r->has_dtb && tv_xml_child(tv_xml_child(root, "features", NULL), "acpi", NULL))
                buf_add(b, "<features><acpi/> is back: with ACPI the guest ignores tegravirt's device tree");
}

static void drift_cmdline(xmlNodePtr root, const Record *r, Buf *b)
{
        xmlNodePtr cmd = tv_xml_child(tv_xml_child(root, "os", NULL), "cmdline", NULL);
        char q[QUOTE_BUF];
        xmlChar *text;

        if (!r->has_cmdline)
                return;
        text = cmd ? xmlNodeGetContent(cmd) : NULL;
        if (text && strlen((const char *)text) > MAX_CMDLINE) {
                buf_add(b, "<os><cmdline> is longer than %d bytes and was not checked", MAX_CMDLINE);
                xmlFree(text);
                return;
        }
        for (size_t i = 0; i < r->kernel_args.n; i++) {
                if (text && cmdline_find((const char *)text, r->kernel_args.v[i]) >= 0)
                        continue;
                quote_value(q, r->kernel_args.v[i]);
                buf_add(b, "kernel argument '%s' was removed from <os><cmdline>", q);
        }
        xmlFree(text);
}

static void drift_membacking(xmlNodePtr root, const Record *r, Buf *b)
{
        xmlNodePtr mb = tv_xml_child(root, "memoryBacking", NULL);

        if (!r->has_membacking)
                return;
        if (!attr_is(tv_xml_child(mb, "source", NULL), "type", "memfd") ||
            !attr_is(tv_xml_child(mb, "access", NULL), "mode", "shared"))
                buf_add(b, "guest memory is no longer shared memfd (<memoryBacking><source type='memfd'/><access "
                        "mode='shared'/>): the vhost-user GPIO device cannot map it");
}

static char *child_text(xmlNodePtr parent, const char *name, bool *failed)
{
        xmlNodePtr n = tv_xml_child(parent, name, NULL);
        char *t;

        if (!n)
                return NULL;
        t = tv_xml_content(n, true);
        if (!t)
                *failed = true;
        return t;
}

static int inspect_doc(xmlDocPtr doc, const char *name, TvDomainInfo *info, TvError *err)
{
        xmlNodePtr root = xmlDocGetRootElement(doc);
        bool failed = false;
        Record rec;
        Buf b = { 0 };

        if (record_read(root, name, &rec, err) < 0) {
                record_clear(&rec);
                return -1;
        }
        info->uuid = child_text(root, "uuid", &failed);
        info->emulator = child_text(tv_xml_child(root, "devices", NULL), "emulator", &failed);
        info->has_kernel = has_kernel(root);
        info->has_firmware = has_firmware(root);
        info->has_tegravirt = rec.node != NULL;
        info->owner_name = rec.owner_name;
        info->owner_uuid = rec.owner_uuid;
        rec.owner_name = rec.owner_uuid = NULL;
        info->devices = rec.devices.v;
        rec.devices = (TvStrv){ 0 };
        if (!info->devices && !(info->devices = calloc(1, sizeof(char *))))
                failed = true;
        drift_qemu(root, &rec, &b);
        drift_dtb(root, &rec, &b);
        drift_acpi(root, &rec, &b);
        drift_cmdline(root, &rec, &b);
        drift_emulator(root, &rec, &b);
        drift_membacking(root, &rec, &b);
        info->drift = b.s;
        if (rec.has_emulator && info->emulator && strcmp(info->emulator, rec.emulator_path) == 0) {
                info->emulator_ours = true;
                info->emulator_original = rec.emulator_previous;
                rec.emulator_previous = NULL;
        }
        record_clear(&rec);
        if (failed || b.failed)
                return tv_error_oom(err);
        return 0;
}

int tv_domain_inspect(const char *xml, size_t len, TvDomainInfo *info, TvError *err)
{
        xmlDocPtr doc = NULL;
        TvXmlErrorScope q;
        int r = -1;

        *info = (TvDomainInfo){ 0 };
        tv_xml_errors_push(&q, NULL, tv_xml_diag_note, tv_xml_diag_ignore);
        if (tv_domain_xml_read(xml, len, &doc, &info->name, err) == 0)
                r = inspect_doc(doc, info->name, info, err);
        xmlFreeDoc(doc);
        tv_xml_errors_pop(&q);
        if (r < 0)
                tv_domain_info_clear(info);
        return r;
}

void tv_domain_info_clear(TvDomainInfo *info)
{
        if (!info)
                return;
        free(info->name);
        free(info->uuid);
        free(info->owner_name);
        free(info->owner_uuid);
        free(info->emulator);
        free(info->emulator_original);
        tv_strv_free(info->devices);
        free(info->drift);
        *info = (TvDomainInfo){ 0 };
}
