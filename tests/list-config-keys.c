// SPDX-License-Identifier: GPL-2.0-or-later
/* Prints the keys tegravirtd.conf's parser accepts, one a line, from the parser's own
 * table (core/daemon-config.c): tests/contracts.sh compares them with tegravirtd.conf(5). */
#include <stdio.h>

#include "daemon-config.h"

int main(void)
{
        const char *k;

        for (size_t i = 0; (k = tv_config_key_name(i)); i++)
                printf("%s\n", k);
        return 0;
}
