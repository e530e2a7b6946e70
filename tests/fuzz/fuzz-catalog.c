// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: one catalog document per input.
 * Seeds: tests/fuzz/corpus/catalog/ (the shipped catalog and small variants).
 * libxml2 errors are routed into the TvError by the parser, never to stderr. */
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TvCatalog *c = NULL;
        TvError err = { 0 };

        if (tv_catalog_parse_buffer((const char *)data, size, "fuzz", &c, &err) == 0) {
                /* walk what was accepted, so that bad pointers show up here */
                for (size_t i = 0; i < c->n_devices; i++) {
                        const TvCatalogDevice *d = &c->devices[i];

                        if (tv_catalog_find(c, d->name) != d || tv_catalog_find(c, d->platform_id) != d)
                                __builtin_trap();
                        for (char **p = d->kernel_args; *p; p++)
                                if (!**p)
                                        __builtin_trap();
                        for (char **p = d->hazards; *p; p++)
                                if (!**p)
                                        __builtin_trap();
                }
                tv_catalog_free(c);
        } else if (!err.name || !err.message[0]) {
                __builtin_trap();       /* every refusal says why */
        }
        return 0;
}
