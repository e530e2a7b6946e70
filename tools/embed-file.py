#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Embed a text file as a C string constant: embed-file.py SYMBOL INPUT OUTPUT."""
import sys

sym, src, dst = sys.argv[1:4]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* generated from %s, do not edit */\n#pragma once\n' % src.split('/')[-1])
    out.write('static const char %s[] =\n' % sym)
    for line in data.decode('utf-8').splitlines(True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        out.write('        "%s"\n' % esc)
    out.write('        ;\n')
