#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The include graph follows the layers (README "Architecture").

Every `#include "..."` in a layer folder names a header of its own layer or of a layer
below; clients (cli/, libvirt-hooks/) include only common/; no two modules (x.c + x.h)
include each other, directly or around a loop; sd-bus is known only to service/ and
tegravirtd/, libvirt only from core/ up; libxml2 only inside catalog/ and guest/ (their .c
files, *-internal.h headers and catalog's libxml2 wrappers xml-*.h), and no file elsewhere
includes a header that brings libxml2 in. Prints TAP; exits 1 on any violation.

  check-layers.py SOURCE_ROOT     check the tree
  check-layers.py --self-test     check the checker on small trees with known violations
"""
import os
import re
import sys
import tempfile

LAYERS = ['common', 'catalog', 'host', 'guest', 'core', 'service', 'tegravirtd']
CLIENTS = ['cli', 'libvirt-hooks', 'backend']
# headers the build generates (configure_file/custom_target outputs named in meson.build
# files) belong to the layer folder that generates them, else to common/
GENERATED_OUTPUT = re.compile(r"output\s*:\s*\[?\s*'([^']+\.h)'")
# system headers only a layer this high (or higher) may include
SYSTEM_FLOOR = {'systemd/sd-bus.h': 'service', 'libvirt/': 'core'}

# libxml2 is known only to the layers that parse XML, and there only to .c files, private
# headers (x-internal.h) and the wrappers named for it (catalog/xml-*.h); the public headers
# the layers above include stay free of its types
LIBXML_HOME = ('catalog', 'guest')


def libxml_allowed(folder, path):
    base = os.path.basename(path)
    return folder in LIBXML_HOME and (base.endswith('.c') or base.endswith('-internal.h') or
                                      (folder == 'catalog' and base.startswith('xml-')))


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)


def sources(root, folder):
    top = os.path.join(root, folder)
    for d, _, files in os.walk(top):
        for f in sorted(files):
            if f.endswith(('.c', '.h')):
                yield os.path.join(d, f)


def generated_headers(root):
    found = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(('.', 'build'))]
        if 'meson.build' in files:
            text = open(os.path.join(d, 'meson.build'), encoding='utf-8').read()
            top = os.path.relpath(d, root).split(os.sep)[0]
            for name in GENERATED_OUTPUT.findall(text):
                found[name] = top if top in LAYERS else 'common'
    return found


def check(root):
    """Returns the list of violations (strings) in the tree at root."""
    problems = []
    folders = [f for f in LAYERS + CLIENTS if os.path.isdir(os.path.join(root, f))]
    generated = generated_headers(root)
    # header name (path relative to its folder) -> folders that hold it
    owners = {}
    for folder in folders:
        for path in sources(root, folder):
            if path.endswith('.h'):
                owners.setdefault(os.path.relpath(path, os.path.join(root, folder)), []).append(folder)

    def rank(folder):
        return LAYERS.index(folder)

    def resolve(src, name):
        """The folder and path of the header src includes as name, or (None, reason)."""
        here = os.path.normpath(os.path.join(os.path.dirname(src), name))
        if os.path.isfile(here):
            rel = os.path.relpath(here, root).split(os.sep)
            return (rel[0], here) if rel[0] in folders else (None, 'outside the layer folders')
        first = name.split('/')[0]
        if first in folders and os.path.isfile(os.path.join(root, name)):
            return first, os.path.join(root, name)
        if name in generated:
            return generated[name], name
        held = owners.get(name, [])
        if len(held) == 1:
            return held[0], os.path.join(root, held[0], name)
        if len(held) > 1:
            return None, 'ambiguous: in %s' % ', '.join(held)
        return None, 'no such header in the layer folders'

    def module(path):
        # x-internal.h is x's private header, shared by the files that implement x
        rel = os.path.relpath(path, root)
        base = os.path.splitext(rel)[0]
        return base[:-len('-internal')] if base.endswith('-internal') else base

    edges = {}
    libxml = set()      # files that include <libxml/...> directly
    includes = {}       # file -> headers (paths) it includes from the layer folders
    for folder in folders:
        for src in sources(root, folder):
            text = open(src, encoding='utf-8', errors='replace').read()
            rel = os.path.relpath(src, root)
            includes[os.path.normpath(src)] = []
            for kind, name in INCLUDE.findall(text):
                if kind == '<':
                    if name.startswith('libxml/'):
                        libxml.add(os.path.normpath(src))
                        if not libxml_allowed(folder, src):
                            problems.append('%s includes <%s>: libxml2 stays in the .c files and *-internal.h '
                                            'headers of catalog/ and guest/' % (rel, name))
                    for prefix, floor in SYSTEM_FLOOR.items():
                        if name.startswith(prefix) and folder in LAYERS and rank(folder) < rank(floor):
                            problems.append('%s includes <%s>: only %s/ and above may' % (rel, name, floor))
                    continue
                target, where = resolve(src, name)
                if target is None:
                    problems.append('%s includes "%s": %s' % (rel, name, where))
                    continue
                if folder in CLIENTS:
                    if target not in (folder, 'common'):
                        problems.append('%s includes "%s" from %s/: a client may include only common/' %
                                        (rel, name, target))
                elif target in CLIENTS:
                    problems.append('%s includes "%s" from the client %s/' % (rel, name, target))
                elif rank(target) > rank(folder):
                    problems.append('%s (layer %s) includes "%s" from the layer above, %s/' %
                                    (rel, folder, name, target))
                if name not in generated and os.path.isfile(where):
                    includes[os.path.normpath(src)].append(os.path.normpath(where))
                    a, b = module(src), module(where)
                    if a != b:
                        edges.setdefault(a, set()).add(b)

    # headers that bring libxml2 in, directly or through other headers
    brings = set(libxml)
    grew = True
    while grew:
        grew = False
        for f, hs in includes.items():
            if f not in brings and any(h in brings for h in hs):
                brings.add(f)
                grew = True
    for f, hs in sorted(includes.items()):
        folder = os.path.relpath(f, root).split(os.sep)[0]
        if folder in LIBXML_HOME:
            continue
        for h in hs:
            if h in brings:
                problems.append('%s includes %s, which brings libxml2 in: keep its types behind an opaque '
                                'type or in a *-internal.h header' % (os.path.relpath(f, root), os.path.relpath(h, root)))

    # module cycles: x.c/x.h including y.h while y.c/y.h includes x.h (or around a longer loop)
    state, stack, seen_cycles = {}, [], set()

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                cyc = stack[stack.index(n):]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    problems.append('include cycle: %s' % ' -> '.join(cyc + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return problems


def write_tree(root, files):
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)


def self_test():
    clean = {
        'meson.build': "configure_file(output : 'config.h', configuration : conf)\n",
        'xml-schemas/meson.build': "custom_target('x', output : 'catalog-rng.h', command : [])\n",
        'core/meson.build': "custom_target('y', output : ['core-gen.h'], command : [])\n",
        'common/tv-error.h': '#pragma once\n',
        'catalog/catalog.h': '#include "tv-error.h"\n',
        'host/sysfs.h': '#include "tv-error.h"\n',
        'host/sysfs.c': '#include "sysfs.h"\n#include "catalog.h"\n#include "config.h"\n',
        'core/daemon.h': '#include "sysfs.h"\n#include <systemd/sd-event.h>\n#include <libvirt/libvirt.h>\n',
        'core/daemon.c': '#include "daemon.h"\n#include "core-gen.h"\n',
        'catalog/catalog.c': '#include "catalog.h"\n#include "catalog-rng.h"\n#include <libxml/parser.h>\n',
        'catalog/xml-util.h': '#include <libxml/tree.h>\n',
        'guest/dom.h': '#include "tv-error.h"\n',
        'guest/dom-internal.h': '#include "dom.h"\n#include "xml-util.h"\n#include <libxml/tree.h>\n',
        'guest/dom.c': '#include "dom-internal.h"\n#include <libxml/xmlsave.h>\n',
        'core/sync.c': '#include "dom.h"\n',
        'service/bus.c': '#include "daemon.h"\n#include <systemd/sd-bus.h>\n',
        'cli/ctl.c': '#include "tv-error.h"\n#include "ctl.h"\n',
        'cli/ctl.h': '#pragma once\n',
    }
    cases = [
        ('a clean tree passes', {}, None),
        ('a lower layer including a higher one fails', {'host/sysfs.c': '#include "daemon.h"\n'},
         'from the layer above, core/'),
        ('an explicit path up a layer fails', {'guest/x.c': '#include "core/daemon.h"\n'},
         'from the layer above, core/'),
        ('a client including a layer header fails', {'cli/ctl.c': '#include "sysfs.h"\n'},
         'a client may include only common/'),
        ('a layer including a client header fails', {'core/daemon.c': '#include "ctl.h"\n'},
         'from the client cli/'),
        ('an unknown header fails', {'core/daemon.c': '#include "nowhere.h"\n'}, 'no such header'),
        ('a header core generates is above host', {'host/sysfs.c': '#include "core-gen.h"\n'},
         'from the layer above, core/'),
        ('core including sd-bus fails', {'core/daemon.h': '#include <systemd/sd-bus.h>\n'},
         'only service/ and above'),
        ('guest calling libvirt fails', {'guest/x.c': '#include <libvirt/libvirt.h>\n'},
         'only core/ and above'),
        ('libxml2 in a public guest header fails', {'guest/dom.h': '#include <libxml/tree.h>\n'},
         'libxml2 stays in'),
        ('libxml2 in core fails', {'core/daemon.c': '#include "daemon.h"\n#include <libxml/tree.h>\n'},
         'libxml2 stays in'),
        ('core including a header that brings libxml2 in fails',
         {'guest/dom.h': '#include "dom-internal.h"\n', 'guest/dom-internal.h': '#include <libxml/tree.h>\n'},
         'brings libxml2 in'),
        ('core including a private guest header fails', {'core/sync.c': '#include "dom-internal.h"\n'},
         'brings libxml2 in'),
        ('a module cycle inside a layer fails',
         {'core/a.h': '#pragma once\n', 'core/a.c': '#include "a.h"\n#include "b.h"\n',
          'core/b.h': '#pragma once\n', 'core/b.c': '#include "b.h"\n#include "a.h"\n'},
         'include cycle'),
    ]
    failed = 0
    print('1..%d' % len(cases))
    for i, (what, change, expect) in enumerate(cases, 1):
        with tempfile.TemporaryDirectory() as tmp:
            files = dict(clean)
            files.update(change)
            write_tree(tmp, files)
            problems = check(tmp)
        ok = (not problems) if expect is None else any(expect in p for p in problems)
        failed += not ok
        print('%sok %d - %s' % ('' if ok else 'not ', i, what))
        if not ok:
            for p in problems or ['(no violation reported)']:
                print('# ' + p)
    return 1 if failed else 0


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == '--self-test':
        return self_test()
    problems = check(argv[1])
    print('1..1')
    for p in problems:
        print('# ' + p)
    print('%sok 1 - every include follows the layers, no module cycles (%d violations)' %
          ('not ' if problems else '', len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
