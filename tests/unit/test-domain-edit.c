// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the domain XML transform (guest/domain-edit.c).
 * Usage: test-domain-edit SOURCE_DIR
 *        test-domain-edit --dump-applied[-gpio] IN OUT   (for domain-xml-validate.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>

#include "domain-edit.h"
#include "domain-xml.h"
#include "gpio-guest.h"
#include "tv-names.h"
#include "tv-tap.h"

static const char *srcdir;
static xmlRelaxNGPtr meta_schema;


/* ------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        long n;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
                buf[n] = 0;
                if (len)
                        *len = (size_t)n;
        } else {
                free(buf);
                buf = NULL;
        }
        fclose(f);
        return buf;
}

static char *golden(const char *name)
{
        char path[4096];
        char *s;

        snprintf(path, sizeof(path), "%s/tests/unit/domain-xml/%s", srcdir, name);
        s = read_file(path, NULL);
        if (!s) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(2);
        }
        return s;
}

static void quiet(void *ctx, const char *msg, ...)
{
}

/* Canonical form (C14N 1.0 with comments) of an XML text, or NULL. */
static char *c14n(const char *xml)
{
        xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlChar *out = NULL;
        char *r = NULL;

        if (!doc)
                return NULL;
        if (xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 1, &out) >= 0 && out)
                r = strdup((const char *)out);
        xmlFree(out);
        xmlFreeDoc(doc);
        return r;
}

static bool same_c14n(const char *a, const char *b)
{
        char *ca = c14n(a), *cb = c14n(b);
        bool same = ca && cb && strcmp(ca, cb) == 0;

        if (!same && ca && cb) {
                size_t i = 0;

                while (ca[i] && ca[i] == cb[i])
                        i++;
                fprintf(stderr, "# c14n differs at %zu:\n# --- %.120s\n# +++ %.120s\n", i, ca + (i > 40 ? i - 40 : 0),
                        cb + (i > 40 ? i - 40 : 0));
        }
        free(ca);
        free(cb);
        return same;
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0, l = strlen(needle);

        for (const char *p = hay; p && (p = strstr(p, needle)); p += l)
                n++;
        return n;
}

/* Replaces the first (or last) occurrence of from with to; malloc'ed. */
static char *replace(const char *s, const char *from, const char *to, bool last)
{
        const char *at = strstr(s, from), *p;
        char *r;

        if (!at)
                return NULL;
        while (last && (p = strstr(at + 1, from)))
                at = p;
        r = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
        if (!r)
                return NULL;
        memcpy(r, s, (size_t)(at - s));
        strcpy(r + (at - s), to);
        strcat(r, at + strlen(from));
        return r;
}

/* The text of /domain/os/NAME in an XML document, or NULL. */
static char *os_child(const char *xml, const char *name)
{
        xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
        char *r = NULL;

        if (!doc)
                return NULL;
        for (xmlNodePtr os = xmlDocGetRootElement(doc)->children; os; os = os->next) {
                if (os->type != XML_ELEMENT_NODE || strcmp((const char *)os->name, "os"))
                        continue;
                for (xmlNodePtr n = os->children; n; n = n->next)
                        if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name)) {
                                xmlChar *t = xmlNodeGetContent(n);

                                r = strdup((const char *)t);
                                xmlFree(t);
                        }
        }
        xmlFreeDoc(doc);
        return r;
}

/* Our metadata element, checked against xml-schemas/domain-metadata.rng. */
static bool meta_valid(const char *xml)
{
        xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
        xmlNodePtr meta = NULL, ours = NULL;
        bool ok = false;

        if (!doc)
                return false;
        for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "metadata"))
                        meta = n;
        for (xmlNodePtr n = meta ? meta->children : NULL; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && n->ns && !strcmp((const char *)n->ns->href, TV_DOMAIN_NS))
                        ours = n;
        if (ours && meta_schema) {
                xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
                xmlNodePtr copy = xmlDocCopyNode(ours, d, 1);
                xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(meta_schema);

                xmlDocSetRootElement(d, copy);
                xmlRelaxNGSetValidErrors(v, (xmlRelaxNGValidityErrorFunc)quiet, (xmlRelaxNGValidityWarningFunc)quiet,
                                         NULL);
                ok = xmlRelaxNGValidateDoc(v, d) == 0;
                xmlRelaxNGFreeValidCtxt(v);
                xmlFreeDoc(d);
        }
        xmlFreeDoc(doc);
        return ok;
}

/* ------------------------------------------------------------------------- */

static char *dev2[] = { "uarta", "gpio", NULL };
static char *qargs2[] = { "-device", "vfio-platform,host=3100000.serial", "-device", "vfio-platform,host=2200000.gpio",
                          NULL };
static char *kargs[] = { "clk_ignore_unused", "console=ttyTHS0", "pd_ignore_unused", NULL };
static char *dev1[] = { "gpu", NULL };
static char *qargs1[] = { "-device", "vfio-platform,host=17000000.gpu,mmap-timeout-ms=1100", NULL };
static char *kargs1[] = { "nvgpu.enable=1", NULL };
static char *none[] = { NULL };

static const TvDomainEdit edit2 = { dev2, qargs2, "/var/lib/tegravirt/domains/guest.dtb", kargs, NULL, false };
static const TvDomainEdit edit1 = { dev1, qargs1, "/var/lib/tegravirt/domains/gpu.dtb", kargs1, NULL, false };
static const TvDomainEdit revert = { none, none, NULL, none, NULL, false };

static char *apply(const char *xml, const TvDomainEdit *e, TvError *err)
{
        char *out = NULL;

        tv_error_clear(err);
        if (tv_domain_edit_apply(xml, strlen(xml), e, &out, err) < 0)
                return NULL;
        return out;
}

/* kernel: direct kernel boot (else UEFI); user_dtb: the domain has its own <dtb> (no dtb edit then) */
static void test_roundtrip(const char *file, bool kernel, bool user_dtb)
{
        TvDomainEdit e2 = edit2, e1 = edit1;
        char *orig = golden(file), *a, *aa, *r, *b, *ab, *direct_b;
        TvDomainInfo info = { 0 };
        TvError err = { 0 };

        if (user_dtb)
                e2.dtb = e1.dtb = NULL;
        a = apply(orig, &e2, &err);
        CHECK(a, "%s: apply (%s)", file, err.message);
        if (!a)
                goto out0;
        CHECK(count(a, "vfio-platform,host=2200000.gpio") == 2, "%s: the gpio arg is in the commandline and metadata",
              file);
        CHECK(meta_valid(a), "%s: metadata matches domain-metadata.rng", file);
        CHECK(tv_domain_inspect(a, strlen(a), &info, &err) == 0 && info.has_tegravirt && !info.drift &&
                      info.devices && info.devices[0] && !strcmp(info.devices[0], "uarta") && info.devices[1] &&
                      !strcmp(info.devices[1], "gpio") && !info.devices[2] && info.has_kernel == kernel,
              "%s: inspect after apply: devices uarta,gpio, no drift", file);
        tv_domain_info_clear(&info);

        aa = apply(a, &e2, &err);
        CHECK(aa && !strcmp(a, aa), "%s: apply twice is idempotent (byte for byte)", file);

        r = apply(a, &revert, &err);
        CHECK(r && same_c14n(orig, r), "%s: apply then revert gives the original back (C14N)", file);
        CHECK(r && tv_domain_inspect(r, strlen(r), &info, &err) == 0 && !info.has_tegravirt && info.devices &&
                      !info.devices[0] && !info.drift,
              "%s: inspect after revert: no metadata, empty device list", file);
        tv_domain_info_clear(&info);

        b = apply(a, &e1, &err);
        direct_b = apply(orig, &e1, &err);
        CHECK(b && direct_b && !strcmp(b, direct_b), "%s: re-apply with another device set replaces the run", file);
        CHECK(b && count(b, "2200000.gpio") == 0 && count(b, "uarta") == 0, "%s: nothing of the old set is left", file);
        ab = b ? apply(b, &revert, &err) : NULL;
        CHECK(ab && same_c14n(orig, ab), "%s: revert after re-apply gives the original back", file);

        free(aa);
        free(r);
        free(b);
        free(direct_b);
        free(ab);
        free(a);
out0:
        free(orig);
}

/* The user's own "-device vfio-platform,host=3100000.serial", before and after ours. */
static void test_user_identical_args(void)
{
        char *orig = golden("virt-manager-kernel-dtb.xml"), *a, *r, *with_after, *r2, *r_before, *with_before;
        static const char *user_run = "<q:arg value=\"-device\"/><q:arg value=\"vfio-platform,host=3100000.serial\"/>";
        char closing[300];
        TvDomainInfo info = { 0 };
        TvError err = { 0 };
        TvDomainEdit e = edit2;

        e.dtb = NULL;   /* the domain has its own <dtb>, which a dtb edit refuses */
        a = apply(orig, &e, &err);
        CHECK(a && count(a, "value=\"vfio-platform,host=3100000.serial\"") == 3,
              "user's identical arg is kept next to ours (2 in the commandline, 1 in metadata)");
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(orig, r) && count(r, "vfio-platform,host=3100000.serial") == 1,
              "revert removes only our run, the user's identical one before it stays");

        /* the user adds the same args again after ours */
        snprintf(closing, sizeof(closing), "%s\n  </q:commandline>", user_run);
        with_after = a ? replace(a, "</q:commandline>", closing, true) : NULL;
        CHECK(with_after && tv_domain_inspect(with_after, strlen(with_after), &info, &err) == 0 && !info.drift,
              "args the user appended after ours are no drift");
        tv_domain_info_clear(&info);
        r2 = with_after ? apply(with_after, &revert, &err) : NULL;
        CHECK(r2 && count(r2, "vfio-platform,host=3100000.serial") == 2 && count(r2, "2200000.gpio") == 0,
              "revert keeps identical user args after ours too");
        /* ... and the last two args are the user's, intact */
        CHECK(r2 && strstr(r2, user_run), "the user's appended run is intact");

        /* the user inserts args in front of ours: the recorded position is stale */
        with_before = a ? replace(a, "<q:commandline>", "<q:commandline><q:arg value=\"-S\"/>", false) : NULL;
        CHECK(with_before && tv_domain_inspect(with_before, strlen(with_before), &info, &err) == 0 && !info.drift,
              "args inserted before ours are no drift");
        tv_domain_info_clear(&info);
        r_before = with_before ? apply(with_before, &revert, &err) : NULL;
        CHECK(r_before && count(r_before, "vfio-platform,host=3100000.serial") == 1 &&
                      count(r_before, "2200000.gpio") == 0 && strstr(r_before, "value=\"-S\""),
              "revert finds our run at the end after the position moved");
        free(a);
        free(r);
        free(with_after);
        free(r2);
        free(with_before);
        free(r_before);
        free(orig);
}

static void test_dtb_and_cmdline(void)
{
        char *vm = golden("virt-manager-kernel-dtb.xml"), *vi = golden("virt-install-kernel.xml");
        char *min = golden("minimal-kernel.xml");
        char *a, *r, *t, *c;
        TvError err = { 0 };

        /* a domain with its own tree is refused, saying why; it used to get ours silently */
        a = apply(vm, &edit2, &err);
        CHECK(!a && err.name && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT) &&
                      strstr(err.message, "boots with its own device tree (<os><dtb>/var/lib/libvirt/boot/user-guest.dtb"
                                          "</dtb>)") &&
                      strstr(err.message, "remove <dtb>"),
              "a domain with its own <dtb> is refused a dtb edit: %s", err.message);
        free(a);
        {
                /* a record of the old format (our dtb over the user's) still reverts to the user's */
                char *old = replace(vm, "<dtb>/var/lib/libvirt/boot/user-guest.dtb</dtb>",
                                    "<dtb>/var/lib/tegravirt/domains/guest.dtb</dtb>", false);
                char *rec = old ? replace(old, "</name>",
                                          "</name><metadata><tegravirt:domain xmlns:tegravirt=\"https://tegravirt.org/ns/domain/1\" "
                                          "version=\"1\"><tegravirt:device name=\"uarta\"/><tegravirt:dtb path=\"/var/"
                                          "lib/tegravirt/domains/guest.dtb\" previous=\"/var/lib/libvirt/boot/user-"
                                          "guest.dtb\"/></tegravirt:domain></metadata>", false)
                                  : NULL;

                r = rec ? apply(rec, &revert, &err) : NULL;
                t = r ? os_child(r, "dtb") : NULL;
                CHECK(t && !strcmp(t, "/var/lib/libvirt/boot/user-guest.dtb"), "revert restores the user's dtb (%s)",
                      err.message);
                free(t);
                c = r ? os_child(r, "cmdline") : NULL;
                CHECK(c && !strcmp(c, "console=ttyAMA0  earlycon root=/dev/vda1 rootwait"),
                      "the user's cmdline is untouched");
                free(c);
                free(r);
                free(old);
                free(rec);
        }

        /* the user changes the dtb after apply: it is theirs, revert leaves it */
        a = apply(vi, &edit2, &err);
        t = a ? replace(a, "<dtb>/var/lib/tegravirt/domains/guest.dtb</dtb>", "<dtb>/home/me/new.dtb</dtb>", false)
              : NULL;
        r = t ? apply(t, &revert, &err) : NULL;
        c = r ? os_child(r, "dtb") : NULL;
        CHECK(c && !strcmp(c, "/home/me/new.dtb"), "a dtb changed by the user is not reverted");
        free(a);
        free(t);
        free(r);
        free(c);

        /* virt-install's cmdline already has clk_ignore_unused */
        a = apply(vi, &edit2, &err);
        c = a ? os_child(a, "cmdline") : NULL;
        CHECK(c && !strcmp(c, "console=ttyAMA0 root=/dev/vda2 rw clk_ignore_unused console=ttyTHS0 pd_ignore_unused"),
              "missing tokens appended, the user's clk_ignore_unused not duplicated");
        CHECK(a && !strstr(a, "value=\"clk_ignore_unused\""), "clk_ignore_unused is not recorded as ours");
        free(c);
        r = a ? apply(a, &revert, &err) : NULL;
        c = r ? os_child(r, "cmdline") : NULL;
        CHECK(c && !strcmp(c, "console=ttyAMA0 root=/dev/vda2 rw clk_ignore_unused"),
              "revert keeps the user's clk_ignore_unused");
        free(c);
        free(a);
        free(r);

        /* no <cmdline>, no <dtb>, no metadata, no qemu namespace: all created and removed again */
        a = apply(min, &edit2, &err);
        c = a ? os_child(a, "cmdline") : NULL;
        CHECK(c && !strcmp(c, "clk_ignore_unused console=ttyTHS0 pd_ignore_unused"), "cmdline created");
        CHECK(a && strstr(a, "xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\"") &&
                      strstr(a, "<qemu:commandline>") && strstr(a, "created-metadata=\"yes\""),
              "qemu namespace declared on <domain> as libvirt writes it");
        CHECK(a && strstr(a, "    <kernel>/var/lib/tegravirt/boot/Image</kernel>\n"
                             "    <cmdline>clk_ignore_unused console=ttyTHS0 pd_ignore_unused</cmdline>\n"
                             "    <dtb>/var/lib/tegravirt/domains/guest.dtb</dtb>\n"
                             "    <boot dev=\"hd\"/>"),
              "new <os> children in libvirt's order and indentation");
        CHECK(a && strstr(a, "  </devices>\n  <qemu:commandline>\n    <qemu:arg value=\"-device\"/>\n"),
              "new commandline indented like its neighbours");
        free(c);
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(min, r) && !strstr(r, "xmlns:qemu") && !strstr(r, "<metadata"),
              "revert removes what it created (metadata, namespace, commandline, cmdline, dtb)");
        free(r);

        /* the user adds their own arg to the commandline we created */
        t = a ? replace(a, "</qemu:commandline>", "  <qemu:arg value=\"-S\"/>\n  </qemu:commandline>", true) : NULL;
        c = t ? apply(t, &edit2, &err) : NULL;
        CHECK(c && strstr(c, "created-commandline=\"yes\" declared-namespace=\"yes\"") &&
                      strstr(c, "created-metadata=\"yes\""),
              "re-apply keeps the created flags of elements that still exist");
        r = c ? apply(c, &revert, &err) : NULL;
        CHECK(r && strstr(r, "<qemu:commandline>\n    <qemu:arg value=\"-S\"/>\n  </qemu:commandline>") &&
                      strstr(r, "xmlns:qemu=") && !strstr(r, "<metadata") && !strstr(r, "2200000.gpio"),
              "revert keeps a created commandline the user added to");
        free(t);
        free(c);
        free(r);
        free(a);
        free(vm);
        free(vi);
        free(min);
}

static void test_drift(void)
{
        char *vi = golden("virt-install-kernel.xml"), *a, *d;
        TvDomainInfo info;
        TvError err = { 0 };

        a = apply(vi, &edit2, &err);
        if (!a) {
                CHECK(0, "apply for drift tests (%s)", err.message);
                free(vi);
                return;
        }
        CHECK(tv_domain_inspect(a, strlen(a), &info, &err) == 0 && !strcmp(info.name, "orin-guest") &&
                      info.uuid && !strcmp(info.uuid, "6f5a9d1e-3c2b-4e8a-9f61-2d7c0b4a8e13") && info.emulator &&
                      !strcmp(info.emulator, "/usr/bin/qemu-system-aarch64") && info.has_kernel && !info.drift,
              "inspect: name, uuid, emulator, kernel");
        tv_domain_info_clear(&info);

        d = replace(a, "\n    <qemu:arg value=\"vfio-platform,host=2200000.gpio\"/>", "", false);
        CHECK(d && tv_domain_inspect(d, strlen(d), &info, &err) == 0 && info.drift &&
                      strstr(info.drift, "qemu arg 'vfio-platform,host=2200000.gpio' was removed"),
              "drift after deleting one of our args: %s", d ? info.drift : "?");
        tv_domain_info_clear(&info);
        free(d);

        d = replace(a, "\n    <dtb>/var/lib/tegravirt/domains/guest.dtb</dtb>", "", false);
        CHECK(d && tv_domain_inspect(d, strlen(d), &info, &err) == 0 && info.drift &&
                      strstr(info.drift, "<os><dtb> '/var/lib/tegravirt/domains/guest.dtb' was removed"),
              "drift after deleting the dtb: %s", d ? info.drift : "?");
        tv_domain_info_clear(&info);
        free(d);

        d = replace(a, " pd_ignore_unused</cmdline>", "</cmdline>", false);
        CHECK(d && tv_domain_inspect(d, strlen(d), &info, &err) == 0 && info.drift &&
                      strstr(info.drift, "kernel argument 'pd_ignore_unused' was removed"),
              "drift after deleting a kernel argument: %s", d ? info.drift : "?");
        tv_domain_info_clear(&info);
        /* a repair (apply again) puts it back */
        {
                char *fixed = d ? apply(d, &edit2, &err) : NULL;

                CHECK(fixed && !strcmp(fixed, a), "apply again repairs the missing kernel argument");
                free(fixed);
        }
        free(d);

        d = replace(a, "<qemu:arg value=\"-device\"/>\n    <qemu:arg value=\"vfio-platform,host=3100000.serial\"/>",
                    "<qemu:arg value=\"-device\"/>", false);
        {
                char *fixed = d ? apply(d, &edit2, &err) : NULL;

                /* the broken run is not ours any more: it stays, and a new run is added */
                CHECK(fixed && count(fixed, "value=\"vfio-platform,host=2200000.gpio\"") == 3,
                      "apply does not remove a run it can no longer identify");
                free(fixed);
        }
        free(d);
        free(a);
        free(vi);
}

static void test_refused(void)
{
        char *uefi = golden("uefi-no-kernel.xml"), *vi = golden("virt-install-kernel.xml");
        char *big, *out = NULL, *a, *r;
        TvError err = { 0 };
        TvDomainEdit e;
        TvDomainInfo info;
        size_t blen = TV_DOMAIN_XML_MAX_BYTES + 1;
        static const struct {
                const char *what, *xml;
        } bad[] = {
                { "XXE", "<?xml version=\"1.0\"?><!DOCTYPE domain [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                         "<domain><name>&x;</name></domain>" },
                { "billion laughs", "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
                                    "<domain><name>v&b;</name></domain>" },
                { "DOCTYPE without subset",
                  "<!DOCTYPE domain SYSTEM \"http://example.invalid/d.dtd\"><domain><name>v</name></domain>" },
                { "garbage", "\x01\x02 not xml at all" },
                { "truncated", "<domain><name>vm1</name>" },
                { "empty", "" },
                { "wrong root", "<network><name>vm1</name></network>" },
                { "namespaced root", "<domain xmlns=\"urn:x\"><name>vm1</name></domain>" },
                { "no name", "<domain type='kvm'><uuid>x</uuid></domain>" },
                { "two names", "<domain><name>vm1</name><name>vm2</name></domain>" },
                { "bad name", "<domain><name>../etc</name></domain>" },
                { "non-UTF-8", "<domain><name>vm1</name><title>caf\xe9</title></domain>" },
                { "NUL inside", "<domain><name>vm1</name>\0</domain>" },
                { "two tegravirt elements",
                  "<domain><name>vm1</name><metadata>"
                  "<t:domain xmlns:t='https://tegravirt.org/ns/domain/1' version='1'/>"
                  "<t:domain xmlns:t='https://tegravirt.org/ns/domain/1' version='1'/></metadata></domain>" },
                { "metadata version 2",
                  "<domain><name>vm1</name><metadata><t:domain xmlns:t='https://tegravirt.org/ns/domain/1' "
                  "version='2'/></metadata></domain>" },
                { "metadata with a bad device name",
                  "<domain><name>vm1</name><metadata><t:domain xmlns:t='https://tegravirt.org/ns/domain/1' "
                  "version='1'><t:device name='../x'/></t:domain></metadata></domain>" },
                { "metadata with an unknown element",
                  "<domain><name>vm1</name><metadata><t:domain xmlns:t='https://tegravirt.org/ns/domain/1' "
                  "version='1'><t:frob/></t:domain></metadata></domain>" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                size_t len = strlen(bad[i].xml) + (!strcmp(bad[i].what, "NUL inside") ? 8 : 0);
                int ra, ri;

                tv_error_clear(&err);
                ra = tv_domain_edit_apply(bad[i].xml, len, &edit2, &out, &err);
                CHECK(ra < 0 && !out && err.name && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT),
                      "refused by apply: %s (%s)", bad[i].what, err.message);
                tv_error_clear(&err);
                ri = tv_domain_inspect(bad[i].xml, len, &info, &err);
                CHECK(ri < 0 && !info.name && err.name && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT),
                      "refused by inspect: %s", bad[i].what);
        }

        /* the parser's complaint, with its line, reaches the caller (catalog/xml-util's diag) */
        tv_error_clear(&err);
        CHECK(tv_domain_inspect("<domain>\n<name>vm1</name>\n</dom>", 32, &info, &err) < 0 &&
                      !strncmp(err.message, "domain XML is not well-formed: line 3: ", 39) && !strchr(err.message, '\n'),
              "not well-formed: the line and libxml2's message (%s)", err.message);
        /* a <uuid> the record could not be read back with (found by fuzz-domain-edit) */
        {
                const char *bad_uuid = "<domain><name>vm1</name><uuid>1d8e3a52-7c0f-4b19-h6e4-5f2b9c7d0e31</uuid>"
                                       "<os><type>hvm</type><kernel>/k</kernel></os>"
                                       "</domain>";
                const char *good_uuid = "<domain><name>vm1</name><uuid>1d8e3a52-7c0f-4b19-a6e4-5f2b9c7d0e31</uuid>"
                                        "<os><type>hvm</type><kernel>/k</kernel></os>"
                                        "</domain>";

                tv_error_clear(&err);
                CHECK(tv_domain_edit_apply(bad_uuid, strlen(bad_uuid), &edit2, &out, &err) < 0 && !out && err.name &&
                              !strcmp(err.name, TV_ERR_INVALID_ARGUMENT) && strstr(err.message, "h6e4"),
                      "refused by apply: a <uuid> that is not a UUID (%s)", err.message);
                tv_error_clear(&err);
                CHECK(tv_domain_edit_apply(good_uuid, strlen(good_uuid), &edit2, &out, &err) == 0 && out &&
                              strstr(out, "uuid=\"1d8e3a52"),
                      "  ... a valid one is recorded");
                free(out);
                out = NULL;
        }

        /* 4 MiB + 1: a valid document padded with a comment */
        big = malloc(blen + 1);
        if (big) {
                const char *head = "<domain><name>vm1</name><!--", *tail = "--></domain>";

                memset(big, 'x', blen);
                memcpy(big, head, strlen(head));
                memcpy(big + blen - strlen(tail), tail, strlen(tail));
                big[blen] = 0;
                tv_error_clear(&err);
                CHECK(tv_domain_edit_apply(big, blen, &revert, &out, &err) < 0 && strstr(err.message, "4 MiB"),
                      "4 MiB + 1 byte refused (%s)", err.message);
                memcpy(big + blen - 1 - strlen(tail), tail, strlen(tail));
                big[blen - 1] = 0;
                tv_error_clear(&err);
                CHECK(tv_domain_edit_apply(big, blen - 1, &revert, &out, &err) == 0, "exactly 4 MiB accepted");
                free(out);
                out = NULL;
                free(big);
        }

        /* a huge <os><cmdline> would make token matching slow: refused where we touch it */
        big = malloc(80000);
        if (big) {
                int n = snprintf(big, 80000, "<domain><name>long</name><os><kernel>/k</kernel><cmdline>");

                memset(big + n, 'a', 70000);
                strcpy(big + n + 70000, "</cmdline></os></domain>");
                tv_error_clear(&err);
                CHECK(tv_domain_edit_apply(big, strlen(big), &edit2, &out, &err) < 0 &&
                              strstr(err.message, "<os><cmdline> is longer than"),
                      "a 70000-byte <os><cmdline> is refused (%s)", err.message);
                free(big);
        }

        {
                static const char quote[] =
                        "<domain><name>q</name><os><kernel>/k</kernel><cmdline>a=\"x y</cmdline></os></domain>";

                tv_error_clear(&err);
                CHECK(tv_domain_edit_apply(quote, strlen(quote), &edit2, &out, &err) < 0 &&
                              strstr(err.message, "unbalanced"),
                      "a cmdline with an unbalanced quote is refused (%s)", err.message);
        }

        {
                /* no kernel and no firmware: nothing could hand the guest a tree */
                char *nofw = replace(uefi, "<os firmware='efi'>", "<os>", false), *t = NULL;

                t = nofw ? replace(nofw, "<loader readonly='yes' type='pflash'>/usr/share/AAVMF/AAVMF_CODE.fd</loader>",
                                   "", false)
                         : NULL;
                tv_error_clear(&err);
                CHECK(t && tv_domain_edit_apply(t, strlen(t), &edit2, &out, &err) < 0 &&
                              !strcmp(err.name, TV_ERR_INVALID_ARGUMENT) &&
                              strstr(err.message, "boots neither a <kernel> nor UEFI firmware"),
                      "a domain without kernel and firmware is refused a dtb: %s", err.message);
                free(nofw);
                free(t);
        }
        e = edit2;
        e.dtb = NULL;
        e.kernel_args = NULL;
        a = apply(uefi, &e, &err);
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(a && r && same_c14n(uefi, r), "UEFI domain with qemu args only: apply and revert");
        free(a);
        free(r);

        /* bad edits */
        {
                char *ctl[] = { "-device", "vfio-platform,host=x\x01", NULL };
                char *nl[] = { "a\nb", NULL };
                char *sp[] = { "a b", NULL };
                char *quote[] = { "a=\"b", NULL };
                char *utf[] = { "\xc3\x28", NULL };
                char *nonchar[] = { "x\xef\xbf\xbe", NULL };
                char *empty[] = { "", NULL };
                char *baddev[] = { "../uarta", NULL };
                char *dupdev[] = { "uarta", "uarta", NULL };
                struct {
                        const char *what;
                        TvDomainEdit e;
                } be[] = {
                        { "control char in a qemu arg", { dev2, ctl, NULL, NULL, NULL, false } },
                        { "newline in a kernel arg", { dev2, NULL, NULL, nl, NULL, false } },
                        { "space in a kernel arg", { dev2, NULL, NULL, sp, NULL, false } },
                        { "quote in a kernel arg", { dev2, NULL, NULL, quote, NULL, false } },
                        { "invalid UTF-8 in a qemu arg", { dev2, utf, NULL, NULL, NULL, false } },
                        { "U+FFFE in a qemu arg", { dev2, nonchar, NULL, NULL, NULL, false } },
                        { "empty qemu arg", { dev2, empty, NULL, NULL, NULL, false } },
                        { "relative dtb", { dev2, NULL, "guest.dtb", NULL, NULL, false } },
                        { "dtb with a newline", { dev2, NULL, "/x\n.dtb", NULL, NULL, false } },
                        { "bad device name", { baddev, NULL, NULL, NULL, NULL, false } },
                        { "device listed twice", { dupdev, NULL, NULL, NULL, NULL, false } },
                        { "qemu args without devices", { NULL, qargs2, NULL, NULL, NULL, false } },
                };

                for (size_t i = 0; i < sizeof(be) / sizeof(be[0]); i++) {
                        tv_error_clear(&err);
                        out = NULL;
                        CHECK(tv_domain_edit_apply(vi, strlen(vi), &be[i].e, &out, &err) < 0 && !out &&
                                      !strcmp(err.name, TV_ERR_INVALID_ARGUMENT),
                              "bad edit refused: %s (%s)", be[i].what, err.message);
                }
        }
        free(uefi);
        free(vi);
}

/* UEFI domains as virt-install/virt-manager write them: no <kernel>, ACPI on */
static void test_uefi(void)
{
        char *vi = golden("virt-install-uefi.xml"), *a, *r, *t, *d;
        TvDomainInfo info = { 0 };
        TvError err = { 0 };

        a = apply(vi, &edit2, &err);
        CHECK(a, "virt-install UEFI domain: apply with a dtb (%s)", err.message);
        if (!a)
                goto out;
        CHECK(strstr(a, "    <type arch='aarch64' machine='virt-7.2'>hvm</type>\n"
                        "    <dtb>/var/lib/tegravirt/domains/guest.dtb</dtb>\n"
                        "    <boot dev='hd'/>") ||
                      strstr(a, "    <type arch=\"aarch64\" machine=\"virt-7.2\">hvm</type>\n"
                                "    <dtb>/var/lib/tegravirt/domains/guest.dtb</dtb>\n"
                                "    <boot dev=\"hd\"/>"),
              "<dtb> goes before <boot>, where libvirt keeps it");
        CHECK(!strstr(a, "<acpi/>") && strstr(a, "<features>\n    <gic version=\"2\"/>\n  </features>"),
              "<acpi/> is removed: with ACPI the firmware gives the guest an empty tree");
        CHECK(strstr(a, "<tegravirt:acpi position=\"0\"/>"), "the removal is recorded with its position");
        CHECK(!strstr(a, "<cmdline>") && !strstr(a, "<tegravirt:cmdline"),
              "no <cmdline> for a disk-booting domain (it needs <kernel>)");
        CHECK(meta_valid(a), "the record matches domain-metadata.rng");
        CHECK(tv_domain_inspect(a, strlen(a), &info, &err) == 0 && !info.has_kernel && info.has_firmware &&
                      !info.drift,
              "inspect: UEFI, no kernel, no drift");
        tv_domain_info_clear(&info);
        r = apply(a, &revert, &err);
        CHECK(r && same_c14n(vi, r), "revert gives the original back (C14N: whitespace too)");
        free(r);

        /* libvirt drops a <features> left empty; revert must bring <features><acpi/> back */
        t = replace(a, "  <features>\n    <gic version=\"2\"/>\n  </features>\n", "", false);
        r = t ? apply(t, &revert, &err) : NULL;
        CHECK(r && strstr(r, "<features>\n    <acpi/>\n  </features>") && !strstr(r, "tegravirt"),
              "revert re-creates <features><acpi/> when the user dropped <features>");
        free(t);
        free(r);

        /* the user switched ACPI back on: drift, and revert does not add a second one */
        d = replace(a, "<features>\n", "<features>\n    <acpi/>\n", false);
        CHECK(d && tv_domain_inspect(d, strlen(d), &info, &err) == 0 && info.drift &&
                      strstr(info.drift, "<acpi/> is back"),
              "ACPI switched on again is drift: %s", d && info.drift ? info.drift : "?");
        tv_domain_info_clear(&info);
        r = d ? apply(d, &revert, &err) : NULL;
        CHECK(r && count(r, "<acpi/>") == 1, "revert keeps the user's <acpi/> and adds none");
        free(r);
        r = d ? apply(d, &edit2, &err) : NULL;
        CHECK(r && !strstr(r, "<acpi/>") && count(r, "<tegravirt:acpi ") == 1, "repair removes it again");
        free(r);
        free(d);

        /* ACPI after other features: put back at its place */
        d = replace(vi, "    <acpi/>\n    <gic version='2'/>\n", "    <gic version='2'/>\n    <acpi/>\n    <pmu state='on'/>\n",
                    false);
        t = d ? apply(d, &edit2, &err) : NULL;
        CHECK(t && strstr(t, "<tegravirt:acpi position=\"1\"/>"), "position of an <acpi/> after <gic>");
        r = t ? apply(t, &revert, &err) : NULL;
        CHECK(r && same_c14n(d, r), "... and revert puts it back between <gic> and <pmu>");
        free(d);
        free(t);
        free(r);

        /* a corrupt position is refused as not understood */
        d = replace(a, "<tegravirt:acpi position=\"0\"/>", "<tegravirt:acpi position=\"-1\"/>", false);
        r = NULL;
        tv_error_clear(&err);
        CHECK(d && tv_domain_edit_apply(d, strlen(d), &revert, &r, &err) < 0 && strstr(err.message, "not understood"),
              "a bad <acpi position> is refused: %s", err.message);
        free(d);
        free(a);
out:
        free(vi);
}

static void test_misc(void)
{
        char *vi = golden("virt-install-kernel.xml"), *a, *r, *name = NULL;
        char *odd[] = { "-object", "secret,id=s0,data=a&b<c>\"d'e", "-append-x", "caf\xc3\xa9", NULL };
        char *dev[] = { "uarta", NULL };
        TvDomainEdit e = { dev, odd, NULL, NULL, NULL, false };
        TvDomainInfo info;
        TvError err = { 0 };
        static const char local_ns[] =
                "<domain type='kvm'><name>local</name><os><type>hvm</type><kernel>/k</kernel></os>"
                "<!-- keep me --><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                "<qemu:env name='A' value='1'/></qemu:commandline></domain>";
        static const char taken[] =
                "<domain xmlns:qemu='urn:not-qemu' type='kvm'><name>taken</name><os><type>hvm</type></os>"
                "<qemu:x/></domain>";

        a = apply(vi, &e, &err);
        CHECK(a && tv_domain_inspect(a, strlen(a), &info, &err) == 0 && !info.drift,
              "values with XML specials and UTF-8 round-trip through the record");
        tv_domain_info_clear(&info);
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(vi, r), "... and revert");
        free(a);
        free(r);

        a = apply(local_ns, &edit2, &err);
        CHECK(a && !strstr(a, "<domain xmlns:qemu") && strstr(a, "<!-- keep me -->") &&
                      strstr(a, "<qemu:commandline xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\">"
                                "<qemu:arg value=\"-device\"/><qemu:arg value=\"vfio-platform,host=3100000.serial\"/>"
                                "<qemu:arg value=\"-device\"/><qemu:arg value=\"vfio-platform,host=2200000.gpio\"/>"
                                "<qemu:env name=\"A\" value=\"1\"/>"),
              "namespace declared on the commandline is reused, args go before <qemu:env>, comments stay");
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(local_ns, r), "... and revert");
        free(a);
        free(r);

        e = (TvDomainEdit){ dev, qargs2, NULL, NULL, NULL, false };
        a = apply(taken, &e, &err);
        CHECK(a && strstr(a, "xmlns:qemu1=\"http://libvirt.org/schemas/domain/qemu/1.0\"") &&
                      strstr(a, "<qemu1:commandline>"),
              "a prefix 'qemu' bound to something else is not reused");
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(taken, r), "... and revert");
        free(a);
        free(r);

        CHECK(tv_domain_xml_mentions_tegravirt("<x xmlns:t='https://tegravirt.org/ns/domain/1'/>", 46) &&
                      !tv_domain_xml_mentions_tegravirt(vi, strlen(vi)),
              "fast namespace check");
        CHECK(tv_domain_xml_name(vi, strlen(vi), &name, &err) == 0 && name && !strcmp(name, "orin-guest"),
              "tv_domain_xml_name still works");
        free(name);
        free(vi);
}

/* ------------------------------------------------------------------------- */

static char *gpio_dev[], *gpio_args[];

/* gpio: the edit of two line groups (one vhost-user GPIO device, shared memfd memory) */
static int dump_applied(const char *in, const char *out_path, bool gpio)
{
        TvDomainEdit e = gpio ? (TvDomainEdit){ gpio_dev, gpio_args, edit2.dtb, none, NULL, true } : edit2;
        TvDomainInfo info;
        TvError err = { 0 };
        char *xml = read_file(in, NULL), *out = NULL;
        FILE *f;

        if (!xml || tv_domain_inspect(xml, strlen(xml), &info, &err) < 0) {
                fprintf(stderr, "%s: %s\n", in, xml ? err.message : "cannot read");
                free(xml);
                return 1;
        }
        /* a domain with its own <dtb> is refused a dtb edit */
        if (strstr(xml, "<dtb>"))
                e.dtb = NULL;
        tv_domain_info_clear(&info);
        if (tv_domain_edit_apply(xml, strlen(xml), &e, &out, &err) < 0) {
                fprintf(stderr, "%s: %s\n", in, err.message);
                free(xml);
                return 1;
        }
        free(xml);
        f = fopen(out_path, "w");
        if (!f || fputs(out, f) < 0 || fclose(f) != 0) {
                perror(out_path);
                free(out);
                return 1;
        }
        free(out);
        return 0;
}

/* Emulator=: <emulator> is pointed at the bridge QEMU, the original recorded and put back
 * byte for byte; a domain without <emulator> gets one and loses it again; one the user
 * changed since is theirs (drift, and left alone). */
static void test_emulator(void)
{
        static const char *const bridge = "/usr/libexec/tegravirt/qemu-system-aarch64";
        TvDomainEdit e = edit2;
        char *orig = golden("virt-install-kernel.xml"), *a = NULL, *r = NULL, *noemu = NULL, *b = NULL, *rb = NULL,
             *user = NULL, *ru = NULL, *p, *q;
        TvDomainInfo info = { 0 };
        TvError err = { 0 };

        e.emulator = bridge;
        a = orig ? apply(orig, &e, &err) : NULL;
        CHECK(a && strstr(a, "<emulator>/usr/libexec/tegravirt/qemu-system-aarch64</emulator>") &&
                      strstr(a, "<tegravirt:emulator path=\"/usr/libexec/tegravirt/qemu-system-aarch64\" "
                                "previous=\"/usr/bin/qemu-system-aarch64\"/>"),
              "emulator: set, the previous one recorded (%s)", err.message);
        CHECK(a && meta_valid(a), "emulator: the record matches domain-metadata.rng");
        CHECK(a && tv_domain_inspect(a, strlen(a), &info, &err) == 0 && !info.drift && info.emulator_ours &&
                      info.emulator_original && !strcmp(info.emulator_original, "/usr/bin/qemu-system-aarch64"),
              "emulator: inspect says it is ours, in place of /usr/bin/qemu-system-aarch64");
        tv_domain_info_clear(&info);
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(orig, r) && strstr(r, "<emulator>/usr/bin/qemu-system-aarch64</emulator>"),
              "emulator: revert gives the original back (C14N), its <emulator> text exactly");
        /* no <emulator> at all (libvirt's default): added first in <devices>, removed again */
        noemu = orig ? strdup(orig) : NULL;
        if (noemu && (p = strstr(noemu, "<emulator>")) && (q = strstr(p, "</emulator>"))) {
                q += strlen("</emulator>");
                while (p > noemu && (p[-1] == ' ' || p[-1] == '\n'))
                        p--;
                memmove(p, q, strlen(q) + 1);
        }
        b = noemu ? apply(noemu, &e, &err) : NULL;
        CHECK(b && strstr(b, "<devices>\n    <emulator>/usr/libexec/tegravirt/qemu-system-aarch64</emulator>") &&
                      strstr(b, "<tegravirt:emulator path=\"/usr/libexec/tegravirt/qemu-system-aarch64\"/>"),
              "emulator: a definition without <emulator> gets one, first in <devices>, recorded without previous");
        rb = b ? apply(b, &revert, &err) : NULL;
        CHECK(rb && noemu && same_c14n(noemu, rb) && !strstr(rb, "<emulator>"),
              "emulator: ... and loses it again at the revert");
        /* the user points it elsewhere meanwhile: drift, and the revert leaves it */
        if (a && (p = strstr(a, "<emulator>/usr/libexec/tegravirt/qemu-system-aarch64</emulator>"))) {
                user = strdup(a);
                p = strstr(user, "<emulator>/usr/libexec/tegravirt/qemu-system-aarch64</emulator>");
                memcpy(p + strlen("<emulator>/usr/"), "LIBEXEC", 7);
        }
        CHECK(user && tv_domain_inspect(user, strlen(user), &info, &err) == 0 && info.drift &&
                      strstr(info.drift, "<emulator> is '/usr/LIBEXEC/tegravirt/qemu-system-aarch64' instead of "
                                         "tegravirt's '/usr/libexec/tegravirt/qemu-system-aarch64'") && !info.emulator_ours,
              "emulator: one the user changed is drift (%s)", info.drift ? info.drift : "none");
        tv_domain_info_clear(&info);
        ru = user ? apply(user, &revert, &err) : NULL;
        CHECK(ru && strstr(ru, "<emulator>/usr/LIBEXEC/tegravirt/qemu-system-aarch64</emulator>"),
              "emulator: ... and the revert leaves it");
        e.devices = none;
        e.qemu_args = e.kernel_args = none;
        e.dtb = NULL;
        CHECK(!apply(orig, &e, &err) && err.name && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT),
              "emulator: refused without devices");
        e = edit2;
        e.emulator = "qemu-system-aarch64";
        CHECK(!apply(orig, &e, &err) && strstr(err.message, "emulator path must be absolute"),
              "emulator: a relative path is refused");
        free(orig);
        free(a);
        free(r);
        free(noemu);
        free(b);
        free(rb);
        free(user);
        free(ru);
}

/* GPIO line groups: guest RAM as shared memfd for the vhost-user backend, with an exact undo. */
static char *gpio_dev[] = { "header-pin7", "header-pin11", NULL };
static char *gpio_args[] = { "-chardev", "socket,id=tvgpio0,path=/run/tegravirt/domains/orin-guest/gpio.sock,reconnect=1",
                             "-device", "vhost-user-gpio-device,chardev=tvgpio0,id=tvgpio,bus=virtio-mmio-bus.0",
                             "-global", "virtio-mmio.force-legacy=false", NULL };

static void test_membacking(void)
{
        TvDomainEdit e = { gpio_dev, gpio_args, "/var/lib/tegravirt/domains/orin-guest.dtb", none, NULL, true };
        char *orig = golden("virt-install-kernel.xml"), *a, *r, *in, *x;
        TvDomainInfo info = { 0 };
        TvError err = { 0 };
        TvStrv got = { 0 };

        a = apply(orig, &e, &err);
        CHECK(a && strstr(a, "  <currentMemory unit=\"KiB\">4194304</currentMemory>\n  <memoryBacking>\n"
                             "    <source type=\"memfd\"/>\n    <access mode=\"shared\"/>\n  </memoryBacking>\n"
                             "  <vcpu"),
              "membacking: <memoryBacking> with memfd source and shared access, after <currentMemory> (%s)",
              err.message);
        CHECK(a && strstr(a, "<tegravirt:memory-backing created-element=\"yes\" source=\"yes\" access=\"yes\"/>"),
              "membacking: recorded as created with both children");
        CHECK(a && count(a, "vhost-user-gpio-device") == 2 && count(a, "<qemu:arg value=\"-device\"/>") == 1 &&
                      strstr(a, "<qemu:arg value=\"virtio-mmio.force-legacy=false\"/>"),
              "membacking: one GPIO device for both groups, the -global in the commandline");
        CHECK(a && meta_valid(a), "membacking: the record matches domain-metadata.rng");
        e.emulator = "/usr/libexec/tegravirt/qemu-system-aarch64";
        x = apply(orig, &e, &err);
        CHECK(x && strstr(x, "<tegravirt:emulator ") && meta_valid(x),
              "membacking: with Emulator= too, the record matches domain-metadata.rng");
        free(x);
        e.emulator = NULL;
        CHECK(a && tv_domain_inspect(a, strlen(a), &info, &err) == 0 && !info.drift, "membacking: no drift after apply");
        tv_domain_info_clear(&info);
        x = a ? apply(a, &e, &err) : NULL;
        CHECK(x && !strcmp(a, x), "membacking: apply twice is idempotent (byte for byte)");
        free(x);
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && same_c14n(orig, r), "membacking: revert gives the original back (C14N)");
        free(r);

        /* the user's <memoryBacking> stays, ours goes in libvirt's order around it */
        in = replace(orig, "  <vcpu", "  <memoryBacking>\n    <hugepages/>\n    <discard/>\n  </memoryBacking>\n  <vcpu",
                     false);
        free(a);
        a = in ? apply(in, &e, &err) : NULL;
        CHECK(a && strstr(a, "<memoryBacking>\n    <hugepages/>\n    <source type=\"memfd\"/>\n"
                             "    <access mode=\"shared\"/>\n    <discard/>\n  </memoryBacking>") &&
                      strstr(a, "<tegravirt:memory-backing source=\"yes\" access=\"yes\"/>"),
              "membacking: an existing one keeps <hugepages>/<discard>, gets source and access between (%s)",
              err.message);
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && in && same_c14n(in, r), "membacking: ... and the revert leaves exactly the user's (C14N)");
        /* the user changes our access meanwhile: drift, and the revert leaves theirs */
        x = a ? replace(a, "<access mode=\"shared\"/>", "<access mode=\"private\"/>", false) : NULL;
        CHECK(x && tv_domain_inspect(x, strlen(x), &info, &err) == 0 && info.drift &&
                      strstr(info.drift, "guest memory is no longer shared memfd"),
              "membacking: a private access after apply is drift (%s)", info.drift ? info.drift : "none");
        tv_domain_info_clear(&info);
        free(r);
        r = x ? apply(x, &revert, &err) : NULL;
        CHECK(r && strstr(r, "<access mode=\"private\"/>") && !strstr(r, "memfd"),
              "membacking: ... and the revert keeps the user's <access>, takes our <source>");
        free(r);
        free(x);
        free(in);

        /* already shared memfd: nothing to add, nothing recorded */
        in = replace(orig, "  <vcpu", "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n"
                     "  </memoryBacking>\n  <vcpu", false);
        free(a);
        a = in ? apply(in, &e, &err) : NULL;
        CHECK(a && !strstr(a, "memory-backing") && count(a, "memfd") == 1, "membacking: already shared memfd: kept, "
              "no record");
        r = a ? apply(a, &revert, &err) : NULL;
        CHECK(r && in && same_c14n(in, r), "membacking: ... revert gives it back as it was (C14N)");
        free(r);
        free(in);

        /* conflicts: refused, naming what and why; nothing is returned */
        {
                static const struct {
                        const char *what, *from, *to, *msg;
                } bad[] = {
                        { "file source", "  <vcpu", "  <memoryBacking>\n    <source type='file'/>\n  </memoryBacking>\n  <vcpu",
                          "<memoryBacking><source type='file'/>" },
                        { "anonymous source", "  <vcpu",
                          "  <memoryBacking>\n    <source type='anonymous'/>\n  </memoryBacking>\n  <vcpu",
                          "<memoryBacking><source type='anonymous'/>" },
                        { "private access", "  <vcpu",
                          "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='private'/>\n"
                          "  </memoryBacking>\n  <vcpu",
                          "<memoryBacking><access mode='private'/>" },
                        { "private NUMA cell", "<cpu mode='host-passthrough' check='none'/>",
                          "<cpu mode='host-passthrough' check='none'>\n    <numa>\n      <cell id='0' cpus='0-3' "
                          "memory='4194304' unit='KiB' memAccess='private'/>\n    </numa>\n  </cpu>",
                          "NUMA cell 0 with memAccess='private'" },
                };

                for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        in = replace(orig, bad[i].from, bad[i].to, false);
                        x = in ? apply(in, &e, &err) : NULL;
                        CHECK(in && !x && err.name && !strcmp(err.name, TV_ERR_INVALID_ARGUMENT) &&
                                      strstr(err.message, bad[i].msg) &&
                                      strstr(err.message, "vhost-user GPIO device of its line groups needs"),
                              "membacking: %s refused naming it (%s)", bad[i].what, err.message);
                        free(x);
                        free(in);
                }
        }
        /* without shared_memory nothing of it happens */
        e.shared_memory = false;
        x = apply(orig, &e, &err);
        CHECK(x && !strstr(x, "memoryBacking") && !strstr(x, "memory-backing"), "membacking: only when asked for");
        free(x);
        e = (TvDomainEdit){ none, none, NULL, none, NULL, true };
        CHECK(!apply(orig, &e, &err) && strstr(err.message, "shared memory was asked for without"),
              "membacking: refused without devices");

        /* the QEMU arguments of the GPIO device, as domain-sync writes them */
        CHECK(tv_guest_gpio_qemu_args("/run/tv,x/domains/vm1/gpio.sock", &got) == 0 && got.n == 6 &&
                      !strcmp(got.v[0], "-chardev") &&
                      !strcmp(got.v[1], "socket,id=tvgpio0,path=/run/tv,,x/domains/vm1/gpio.sock,reconnect=1") &&
                      !strcmp(got.v[2], "-device") &&
                      !strcmp(got.v[3], "vhost-user-gpio-device,chardev=tvgpio0,id=tvgpio,bus=virtio-mmio-bus.0") &&
                      !strcmp(got.v[4], "-global") && !strcmp(got.v[5], "virtio-mmio.force-legacy=false"),
              "gpio args: chardev (path commas escaped), device on virtio-mmio-bus.0, modern virtio-mmio");
        tv_strv_clear(&got);
        free(a);
        free(orig);
}

int main(int argc, char **argv)
{
        char rng[4096];
        xmlRelaxNGParserCtxtPtr pc;

        if (argc == 4 && !strcmp(argv[1], "--dump-applied"))
                return dump_applied(argv[2], argv[3], false);
        if (argc == 4 && !strcmp(argv[1], "--dump-applied-gpio"))
                return dump_applied(argv[2], argv[3], true);
        if (argc != 2) {
                fprintf(stderr, "usage: %s SOURCE_DIR | --dump-applied IN OUT\n", argv[0]);
                return 2;
        }
        srcdir = argv[1];
        xmlSetGenericErrorFunc(NULL, quiet);
        snprintf(rng, sizeof(rng), "%s/xml-schemas/domain-metadata.rng", srcdir);
        pc = xmlRelaxNGNewParserCtxt(rng);
        meta_schema = pc ? xmlRelaxNGParse(pc) : NULL;
        xmlRelaxNGFreeParserCtxt(pc);
        CHECK(meta_schema, "domain-metadata.rng compiles");

        test_roundtrip("virt-install-kernel.xml", true, false);
        test_roundtrip("virt-manager-kernel-dtb.xml", true, true);
        test_roundtrip("minimal-kernel.xml", true, false);
        test_roundtrip("uefi-no-kernel.xml", false, false);
        test_roundtrip("virt-install-uefi.xml", false, false);
        test_uefi();
        test_user_identical_args();
        test_dtb_and_cmdline();
        test_drift();
        test_refused();
        test_misc();
        test_emulator();
        test_membacking();

        xmlRelaxNGFree(meta_schema);
        xmlCleanupParser();
        return tap_finish();
}
