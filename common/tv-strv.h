/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NULL-terminated string vectors. */
#pragma once

/* Frees every string and the vector; NULL is fine. */
void tv_strv_free(char **v);
