// SPDX-License-Identifier: GPL-2.0-or-later
#include "xml-errors.h"

#include <libxml/parser.h>

void tv_xml_errors_push(TvXmlErrorScope *scope, void *ctx, xmlStructuredErrorFunc structured,
                        xmlGenericErrorFunc generic)
{
        xmlInitParser();
        scope->serror = xmlStructuredError;
        scope->sctx = xmlStructuredErrorContext;
        scope->gerror = xmlGenericError;
        scope->gctx = xmlGenericErrorContext;
        xmlSetStructuredErrorFunc(ctx, structured);
        xmlSetGenericErrorFunc(ctx, generic);
}

void tv_xml_errors_pop(const TvXmlErrorScope *scope)
{
        xmlSetStructuredErrorFunc(scope->sctx, scope->serror);
        xmlSetGenericErrorFunc(scope->gctx, scope->gerror);
}
