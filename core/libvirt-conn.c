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
        bool closed;            /* libvirt told us the connection died */
        int lifecycle_id;       /* -1: not registered */
        int retry_timer;        /* -1: none */
        TvDomainEventFn event_fn;
        void *event_userdata;
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
        lv->lifecycle_id = lv->retry_timer = -1;
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

static void drop_connection(TvLibvirt *lv);

void tv_libvirt_freep(TvLibvirt **lv)
{
        tv_libvirt_free(*lv);
}

void tv_libvirt_free(TvLibvirt *lv)
{
        if (!lv)
                return;
        if (lv->retry_timer >= 0)
                virEventRemoveTimeout(lv->retry_timer);
        drop_connection(lv);
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

/* Without an event loop libvirt notices a restarted daemon only when a call fails. */
static bool connection_broken(void)
{
        virErrorPtr e = virGetLastError();

        return e && (e->domain == VIR_FROM_RPC || e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_INVALID_CONN ||
                     e->code == VIR_ERR_SYSTEM_ERROR);
}

static void on_close(virConnectPtr conn, int reason, void *opaque);

static void drop_connection(TvLibvirt *lv)
{
        if (lv->conn) {
                if (lv->lifecycle_id >= 0)
                        virConnectDomainEventDeregisterAny(lv->conn, lv->lifecycle_id);
                virConnectUnregisterCloseCallback(lv->conn, on_close);
                virConnectClose(lv->conn);
        }
        lv->conn = NULL;
        lv->closed = false;
        lv->lifecycle_id = -1;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
        TvLibvirt *lv = opaque;
        const char *name = virDomainGetName(dom);

        if (!lv->event_fn || !name)
                return 0;
        /* a rename is an UNDEFINED of the old name and a DEFINED (RENAMED) of the new one: the
         * assignments follow the definition on the DEFINED, so the old name's are kept here */
        if (event == VIR_DOMAIN_EVENT_UNDEFINED && detail == VIR_DOMAIN_EVENT_UNDEFINED_RENAMED)
                return 0;
        if (event == VIR_DOMAIN_EVENT_DEFINED)
                lv->event_fn(lv->event_userdata, name, TV_DOMAIN_DEFINED);
        else if (event == VIR_DOMAIN_EVENT_UNDEFINED)
                lv->event_fn(lv->event_userdata, name, TV_DOMAIN_UNDEFINED);
        return 0;
}

static int connect_lv(TvLibvirt *lv, TvError *err);

static void on_retry(int timer, void *opaque)
{
        TvLibvirt *lv = opaque;
        TvError err = { 0 };

        if (connect_lv(lv, &err) == 0 && lv->retry_timer >= 0) {
                virEventRemoveTimeout(lv->retry_timer);
                lv->retry_timer = -1;
        }
}

/* libvirtd went away: reconnect once a second until it is back, so events keep flowing. */
static void on_close(virConnectPtr conn, int reason, void *opaque)
{
        TvLibvirt *lv = opaque;

        lv->closed = true;
        if (lv->event_fn && lv->retry_timer < 0)
                lv->retry_timer = virEventAddTimeout(1000, on_retry, lv, NULL);
}

/* Connects on first use and again after libvirtd restarted. */
static int connect_lv(TvLibvirt *lv, TvError *err)
{
        if (lv->conn && !lv->closed && virConnectIsAlive(lv->conn) == 1)
                return 0;
        drop_connection(lv);
        lv->conn = virConnectOpen(lv->uri);
        if (!lv->conn)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "cannot connect to libvirt at %s: %s; is libvirtd (or virtqemud) running?", lv->uri,
                                    last_error());
        if (lv->event_fn) {
                /* no keepalive pings: an idle daemon must not wake up; the close callback suffices */
                virConnectSetKeepAlive(lv->conn, -1, 0);
                virConnectRegisterCloseCallback(lv->conn, on_close, lv, NULL);
                lv->lifecycle_id = virConnectDomainEventRegisterAny(lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                                    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), lv, NULL);
        }
        return 0;
}

/* The domain by name, on a connection opened again once if libvirtd dropped it: 0 with
 * *dom (NULL when the lookup failed: virGetLastError() says why), -1 when not connected. */
static int lookup(TvLibvirt *lv, const char *domain, virDomainPtr *dom, TvError *err)
{
        if (connect_lv(lv, err) < 0)
                return -1;
        *dom = virDomainLookupByName(lv->conn, domain);
        if (!*dom && connection_broken()) {
                drop_connection(lv);
                if (connect_lv(lv, err) < 0)
                        return -1;
                *dom = virDomainLookupByName(lv->conn, domain);
        }
        return 0;
}

int tv_libvirt_get_xml(TvLibvirt *lv, const char *domain, char **xml, bool *running, TvError *err)
{
        virDomainPtr dom;
        char *x;

        *xml = NULL;
        if (lookup(lv, domain, &dom, err) < 0)
                return -1;
        if (!dom) {
                virErrorPtr e = virGetLastError();

                if (e && e->code == VIR_ERR_NO_DOMAIN)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "libvirt at %s has no domain %s ('virsh list --all' shows the domains)",
                                            lv->uri, domain);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot look up domain %s at %s: %s", domain, lv->uri,
                                    last_error());
        }
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

int tv_libvirt_ping(TvLibvirt *lv, TvError *err)
{
        if (!tv_libvirt_enabled(lv))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the libvirt integration is off (LibvirtUri= is empty)");
        /* a connection libvirtd dropped is noticed by virConnectIsAlive and opened again */
        if (connect_lv(lv, err) < 0)
                return -1;
        if (virConnectGetLibVersion(lv->conn, &(unsigned long){ 0 }) < 0) {
                drop_connection(lv);
                if (connect_lv(lv, err) < 0)
                        return -1;
        }
        return 0;
}

int tv_libvirt_domain_exists(TvLibvirt *lv, const char *domain, TvError *err)
{
        virDomainPtr dom;
        virErrorPtr e;

        if (!tv_libvirt_enabled(lv))
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "the libvirt integration is off (LibvirtUri= is empty)");
        if (lookup(lv, domain, &dom, err) < 0)
                return -1;
        if (dom) {
                virDomainFree(dom);
                return 1;
        }
        e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN)
                return 0;
        return tv_error_set(err, TV_ERR_HOST_NOT_READY, "cannot look up domain %s at %s: %s", domain, lv->uri,
                            last_error());
}

int tv_libvirt_define(TvLibvirt *lv, const char *xml, TvError *err)
{
        virDomainPtr dom;

        if (connect_lv(lv, err) < 0)
                return -1;
        dom = virDomainDefineXMLFlags(lv->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!dom && connection_broken()) {
                drop_connection(lv);
                if (connect_lv(lv, err) < 0)
                        return -1;
                dom = virDomainDefineXMLFlags(lv->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        }
        if (!dom)
                return tv_error_set(err, TV_ERR_FAILED, "libvirt refused the updated definition: %s", last_error());
        virDomainFree(dom);
        return 0;
}

int tv_libvirt_qemu_argv(TvLibvirt *lv, const char *xml, char **argv, TvError *err)
{
        *argv = NULL;
        if (connect_lv(lv, err) < 0)
                return -1;
        *argv = virConnectDomainXMLToNative(lv->conn, "qemu-argv", xml, 0);
        if (!*argv && connection_broken()) {
                drop_connection(lv);
                if (connect_lv(lv, err) < 0)
                        return -1;
                *argv = virConnectDomainXMLToNative(lv->conn, "qemu-argv", xml, 0);
        }
        /* libvirt refuses what it could not start: the domain's configuration */
        if (!*argv)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "libvirt cannot build a QEMU command line for it: %s",
                                    last_error());
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

void tv_libvirt_watch_domains(TvLibvirt *lv, TvDomainEventFn fn, void *userdata)
{
        TvError err = { 0 };

        if (!tv_libvirt_enabled(lv))
                return;
        lv->event_fn = fn;
        lv->event_userdata = userdata;
        drop_connection(lv);
        if (connect_lv(lv, &err) < 0 && lv->retry_timer < 0)
                lv->retry_timer = virEventAddTimeout(1000, on_retry, lv, NULL);
}
