/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Routes libxml2's thread-local error handlers to ours for the span of one parse. */
#pragma once
#include <libxml/xmlerror.h>

typedef struct TvXmlErrorScope {
        xmlStructuredErrorFunc serror;
        void *sctx;
        xmlGenericErrorFunc gerror;
        void *gctx;
} TvXmlErrorScope;

/* Saves the current handlers and installs (ctx, structured, generic). */
void tv_xml_errors_push(TvXmlErrorScope *scope, void *ctx, xmlStructuredErrorFunc structured,
                        xmlGenericErrorFunc generic);
void tv_xml_errors_pop(const TvXmlErrorScope *scope);
