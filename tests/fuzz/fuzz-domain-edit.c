// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the domain XML transform. Apply a fixed edit, inspect the result,
 * revert it; each output must be accepted again, and the revert must leave no
 * metadata of ours behind. Any libxml2 output on stderr is a finding too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domain-edit.h"
#include "domain-xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *devices[] = { "uarta", "gpio", NULL };
static char *qemu_args[] = { "-device", "vfio-platform,host=3100000.serial", "-device",
                             "vfio-platform,host=2200000.gpio", NULL };
static char *kernel_args[] = { "clk_ignore_unused", "console=ttyTHS0", NULL };
static char *none[] = { NULL };

static void must(bool cond, const char *what, const TvError *err)
{
        if (!cond) {
                fprintf(stderr, "fuzz-domain-edit: %s (%s)\n", what, err->message);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* odd sizes also ask for shared memfd memory (line groups): <memoryBacking> edits and refusals */
        const bool shared = size & 1;
        const TvDomainEdit edit = { devices, qemu_args, "/var/lib/tegravirt/domains/vm.dtb", kernel_args, NULL, shared };
        const TvDomainEdit qemu_only = { devices, qemu_args, NULL, none, NULL, shared };
        const TvDomainEdit revert = { none, none, NULL, none, NULL, false };
        const char *xml = (const char *)data;
        char *out = NULL, *again = NULL, *back = NULL;
        TvError err = { 0 };
        TvDomainInfo info;

        (void)tv_domain_xml_mentions_tegravirt(xml, size);
        if (tv_domain_inspect(xml, size, &info, &err) == 0)
                tv_domain_info_clear(&info);
        tv_error_clear(&err);
        if (tv_domain_edit_apply(xml, size, &edit, &out, &err) < 0) {
                tv_error_clear(&err);
                if (tv_domain_edit_apply(xml, size, &qemu_only, &out, &err) < 0)
                        return 0;
        }
        tv_error_clear(&err);
        if (strlen(out) > TV_DOMAIN_XML_MAX_BYTES) {
                /* our additions pushed it over the cap: refusing it is right */
                free(out);
                return 0;
        }
        must(tv_domain_inspect(out, strlen(out), &info, &err) == 0, "output of apply not accepted by inspect", &err);
        must(info.has_tegravirt && info.devices[0] && info.devices[1] && !info.devices[2], "metadata after apply",
             &err);
        /* everything just recorded was just added */
        if (info.drift) {
                fprintf(stderr, "fuzz-domain-edit: drift right after apply: %s\n", info.drift);
                abort();
        }
        tv_domain_info_clear(&info);
        /* applying again finds all of it */
        must(tv_domain_edit_apply(out, strlen(out), &edit, &again, &err) == 0 ||
                     tv_domain_edit_apply(out, strlen(out), &qemu_only, &again, &err) == 0,
             "apply of our own output failed", &err);
        must(tv_domain_inspect(again, strlen(again), &info, &err) == 0 && !info.drift, "drift after re-apply", &err);
        tv_domain_info_clear(&info);
        free(again);
        again = NULL;
        must(tv_domain_edit_apply(out, strlen(out), &revert, &back, &err) == 0, "revert of our own output failed",
             &err);
        must(tv_domain_inspect(back, strlen(back), &info, &err) == 0 && !info.has_tegravirt,
             "metadata left after revert", &err);
        tv_domain_info_clear(&info);
        must(tv_domain_edit_apply(back, strlen(back), &revert, &again, &err) == 0, "revert of a revert failed", &err);
        free(out);
        free(again);
        free(back);
        return 0;
}
