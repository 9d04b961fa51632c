#!/usr/bin/env python3
"""Compare two OpenAPI documents (a refactor's before and after): every operation, its
parameters, request body types, response statuses and tags, and every schema name must
survive. Make them with `semalink-api openapi > before.json` on each revision.
usage: openapi-diff.py before.json after.json   (exit 1 on any loss)"""
import json, sys
def load(p):
    d = json.load(open(p))
    ops = {}
    for path, item in d.get('paths', {}).items():
        for m, op in item.items():
            if m not in ('get','put','post','delete','patch','head','options'): continue
            params = sorted((x.get('name'), x.get('in')) for x in op.get('parameters', []) + item.get('parameters', []) if 'name' in x)
            body = sorted((op.get('requestBody') or {}).get('content', {}).keys())
            resp = sorted(op.get('responses', {}).keys())
            ops[(m, path)] = (params, body, resp, op.get('tags'))
    return d, ops
a, oa = load(sys.argv[1]); b, ob = load(sys.argv[2])
bad = 0
for k, v in oa.items():
    if k not in ob: print('LOST operation', k); bad += 1; continue
    w = ob[k]
    for i, name in enumerate(['params', 'body', 'responses', 'tags']):
        if v[i] != w[i]:
            lost = set(map(str, v[i] or [])) - set(map(str, w[i] or []))
            print(('LOST ' if lost else 'changed ') + name, k, v[i], '->', w[i]); bad += bool(lost)
for k in ob:
    if k not in oa: print('new operation', k)
sa = set(a.get('components', {}).get('schemas', {})); sb = set(b.get('components', {}).get('schemas', {}))
for s in sorted(sa - sb): print('LOST schema', s); bad += 1
print(f'operations {len(oa)} -> {len(ob)}, schemas {len(sa)} -> {len(sb)}, losses {bad}')
sys.exit(1 if bad else 0)
