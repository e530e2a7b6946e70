// SPDX-License-Identifier: GPL-2.0-or-later
#include "libvirt-conn.h"
#include "tv-names.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

struct TvLibvirt {
        char *uri;
        virConnectPtr conn;
};

static void quiet(void *userdata, virErrorPtr error)
{
        /* errors are reported through TvError, not libvirt's default stderr printer */
}

TvLibvirt *tv_libvirt_new(const char *uri)
{
        TvLibvirt *lv = calloc(1, sizeof(*lv));

        if (!lv)
                return NULL;
        if (uri && *uri) {
                lv->uri = strdup(uri);
                if (!lv->uri) {
                        free(lv);
                        return NULL;
                }
        }
        virSetErrorFunc(NULL, quiet);
        return lv;
}

void tv_libvirt_free(TvLibvirt *lv)
{
        if (!lv)
                return;
        if (lv->conn)
                virConnectClose(lv->conn);
        free(lv->uri);
        free(lv);
}

bool tv_libvirt_enabled(const TvLibvirt *lv)
{
        return lv && lv->uri;
}

const char *tv_libvirt_uri(const TvLibvirt *lv)
{
        return lv && lv->uri ? lv->uri : "";
}

static const char *last_error(void)
{
        const char *m = virGetLastErrorMessage();

        return m ? m : "unknown libvirt error";
}

/* Connects on first use and again after libvirtd restarted. */
static int connect_lv(TvLibvirt *lv, TvError *err)
{
        if (lv->conn && virConnectIsAlive(lv->conn) == 1)
                return 0;
        if (lv->conn) {
                virConnectClose(lv->conn);
                lv->conn = NULL;
        }
        lv->conn = virConnectOpen(lv->uri);
        if (!lv->conn)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "cannot connect to libvirt at %s: %s; is libvirtd (or virtqemud) running?", lv->uri,
                                    last_error());
        return 0;
}

int tv_libvirt_get_xml(TvLibvirt *lv, const char *domain, char **xml, bool *running, TvError *err)
{
        virDomainPtr dom;
        char *x;

        *xml = NULL;
        if (connect_lv(lv, err) < 0)
                return -1;
        dom = virDomainLookupByName(lv->conn, domain);
        if (!dom)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                    "libvirt at %s has no domain %s ('virsh list --all' shows the domains)", lv->uri,
                                    domain);
        x = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
        if (running)
                *running = virDomainIsActive(dom) == 1;
        virDomainFree(dom);
        if (!x)
                return tv_error_set(err, TV_ERR_FAILED, "cannot read the definition of %s: %s", domain, last_error());
        /* libvirt allocates with malloc-compatible memory; hand it over as ours */
        *xml = x;
        return 0;
}

int tv_libvirt_define(TvLibvirt *lv, const char *xml, TvError *err)
{
        virDomainPtr dom;

        if (connect_lv(lv, err) < 0)
                return -1;
        dom = virDomainDefineXMLFlags(lv->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!dom)
                return tv_error_set(err, TV_ERR_FAILED, "libvirt refused the updated definition: %s", last_error());
        virDomainFree(dom);
        return 0;
}

int tv_libvirt_default_emulator(TvLibvirt *lv, const char *virttype, char **path, TvError *err)
{
        char *caps, *start, *end;

        *path = NULL;
        if (connect_lv(lv, err) < 0)
                return -1;
        caps = virConnectGetDomainCapabilities(lv->conn, NULL, "aarch64", "virt", virttype, 0);
        if (!caps)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "libvirt knows no aarch64 virt emulator: %s",
                                    last_error());
        start = strstr(caps, "<path>");
        end = start ? strstr(start, "</path>") : NULL;
        if (start && end) {
                start += strlen("<path>");
                *path = strndup(start, (size_t)(end - start));
        }
        free(caps);
        if (!*path)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "libvirt reported no emulator path for aarch64");
        return 0;
}
