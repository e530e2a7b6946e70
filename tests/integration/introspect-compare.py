#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compare one interface of a live introspection with the documented XML in dbus/.
Usage: introspect-compare.py DOCUMENTED.xml LIVE.xml INTERFACE
Compares methods (name, args with name/type/direction), properties (name,
type, access, EmitsChangedSignal annotation) and signals; doc comments and
doc annotations are ignored."""
import sys
import xml.etree.ElementTree as ET


def describe(path, iface):
    root = ET.parse(path).getroot()
    for node in root.iter('interface'):
        if node.get('name') == iface:
            break
    else:
        sys.exit('%s: no interface %s' % (path, iface))
    out = set()
    for m in node.findall('method'):
        args = tuple((a.get('name'), a.get('type'), a.get('direction', 'in')) for a in m.findall('arg'))
        priv = any(a.get('name') == 'org.freedesktop.systemd1.Privileged' and a.get('value') == 'true'
                   for a in m.findall('annotation'))
        out.add(('method', m.get('name'), args, 'privileged' if priv else 'open'))
    for s in node.findall('signal'):
        args = tuple((a.get('name'), a.get('type')) for a in s.findall('arg'))
        out.add(('signal', s.get('name'), args))
    for p in node.findall('property'):
        ann = {a.get('name'): a.get('value') for a in p.findall('annotation')}
        out.add(('property', p.get('name'), p.get('type'), p.get('access'),
                 ann.get('org.freedesktop.DBus.Property.EmitsChangedSignal', 'true')))
    return out


doc, live = describe(sys.argv[1], sys.argv[3]), describe(sys.argv[2], sys.argv[3])
for item in sorted(doc - live, key=str):
    print('documented but not live:', item)
for item in sorted(live - doc, key=str):
    print('live but not documented:', item)
sys.exit(0 if doc == live else 1)
