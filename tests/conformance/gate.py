#!/usr/bin/env python3
"""The conformance gate, from connlog-compare's --json results.

usage: gate.py RESULTS.json MANIFEST.tsv

Over every case whose manifest category is not "tunnel" (tunnel cases need
decapsulation; they are reported, not gated):
  - each gated field agrees on >= 99 % of the matched records, pooled over cases;
  - missing + extra + direction-flipped records <= 1 % of the baseline records
    (extras in subset baselines, which list only some connections, are allowed).
A flipped record is counted because its orig/resp are wrong, which is worse
than a field mismatch. Exit status 1 when the gate fails, naming field and case.
"""
import json
import sys

GATED_FIELDS = ('proto', 'conn_state', 'history', 'duration', 'orig_bytes', 'resp_bytes',
                'missed_bytes', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes')
FIELD_MIN = 0.99
RECORD_BUDGET = 0.01


def load_categories(path):
    cats = {}
    with open(path, encoding='utf-8') as f:
        hdr = f.readline().rstrip('\n').split('\t')
        ci, ki = hdr.index('case'), hdr.index('category')
        for line in f:
            v = line.rstrip('\n').split('\t')
            if len(v) > max(ci, ki):
                cats[v[ci]] = v[ki]
    return cats


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding='utf-8') as f:
        res = json.load(f)['cases']
    cats = load_categories(sys.argv[2])
    gated = {c: r for c, r in res.items() if cats.get(c) != 'tunnel'}
    tunnel = {c: r for c, r in res.items() if cats.get(c) == 'tunnel'}

    failures = []
    print('conformance gate over {} non-tunnel cases (>= {:.0f} % per field, '
          'missing+extra+flipped <= {:.0f} % of records):'.format(
              len(gated), FIELD_MIN * 100, RECORD_BUDGET * 100))
    for field in GATED_FIELDS:
        agree = n = 0
        below = []
        per_case = []
        for case, r in sorted(gated.items()):
            frac = r['agreement'].get(field)
            if field not in r['compared_fields'] or frac is None:
                continue
            a = round(frac * r['matched'])
            agree += a
            n += r['matched']
            if r['matched']:
                per_case.append(a / r['matched'])
            if a < r['matched']:
                below.append('{} {}/{}'.format(case, a, r['matched']))
        if n == 0:
            print('  {:14s}    n/a  (no matched record has this field)'.format(field))
            continue
        ok = agree >= FIELD_MIN * n
        # The gate pools records, so a big case weighs most; the mean over cases
        # (not gated) shows what the small ones say.
        print('  {:14s} {:6.2f} % ({}/{}) {:4s} mean over {} cases {:6.2f} %'.format(
            field, 100.0 * agree / n, agree, n, 'ok' if ok else 'FAIL', len(per_case),
            100.0 * sum(per_case) / len(per_case)))
        if not ok:
            failures.append('field {} agrees on {:.2f} % < {:.0f} %; cases: {}'.format(
                field, 100.0 * agree / n, FIELD_MIN * 100, ', '.join(below)))

    base = sum(r['baseline_records'] for r in gated.values())
    bad_cases = []
    bad = 0
    for case, r in sorted(gated.items()):
        extra = 0 if r['extra_allowed'] else r['extra']
        k = r['missing'] + extra + r['flipped']
        if k:
            bad_cases.append('{} (missing {}, extra {}, flipped {}{})'.format(
                case, r['missing'], extra, r['flipped'],
                '' if r['candidate'] else ', no conn.log'))
        bad += k
    ok = base > 0 and bad <= RECORD_BUDGET * base
    print('  {:14s} {} of {} baseline records ({:.2f} %) {}'.format(
        'records off', bad, base, 100.0 * bad / base if base else 0.0, 'ok' if ok else 'FAIL'))
    if not ok:
        failures.append('{} of {} records missing/extra/flipped (> {:.0f} %): {}'.format(
            bad, base, RECORD_BUDGET * 100, '; '.join(bad_cases)))
    elif bad_cases:
        print('    within budget: ' + '; '.join(bad_cases))

    if tunnel:
        tb = sum(r['baseline_records'] for r in tunnel.values())
        tm = sum(r['matched'] for r in tunnel.values())
        print('tunnel cases (reported, not gated): {} cases, {}/{} records matched, '
              'fully agreeing: {}'.format(len(tunnel), tm, tb,
                                          ', '.join(c for c, r in sorted(tunnel.items()) if r['ok'])
                                          or 'none'))
    if failures:
        print('conformance: GATE FAILED')
        for f in failures:
            print('  - ' + f)
        return 1
    print('conformance: gate passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
