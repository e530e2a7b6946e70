// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the domain XML the libvirt hook hands to PrepareDomain. */
#include <stdint.h>
#include <stdlib.h>
#include "domain-xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TvError err = { 0 };
        char *name = NULL;

        if (tv_domain_xml_name((const char *)data, size, &name, &err) == 0)
                free(name);
        return 0;
}
