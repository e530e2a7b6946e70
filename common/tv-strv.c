// SPDX-License-Identifier: GPL-2.0-or-later
#include "tv-strv.h"
#include <stdlib.h>

void tv_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}
