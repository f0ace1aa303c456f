"""The soak's figures: results.json, docs/reliability.md, and the summary line (printed last).

    python tests/reliability/report.py --start    # empty the ledger before the shards run
    python tests/reliability/report.py            # render from the ledger and print the summary line
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), 'e2e')]

# pylint: disable=wrong-import-position
from m365_reliability import ledger  # noqa: E402
from m365_reliability.render import SUMMARY_LINE, render, summary  # noqa: E402

DOC = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'docs', 'reliability.md')
RESULTS = os.path.join(ledger.OUTPUT, 'results.json')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--start', action='store_true')
    parser.add_argument('--seconds', type=float, default=None, help='wall time of the soak, for the document')
    args = parser.parse_args()
    if args.start:
        os.environ.pop('M365_LEDGER_APPEND', None)
        ledger.start()
        return 0
    entries = ledger.entries()
    figures = summary(entries)
    with open(RESULTS, 'w', encoding='utf-8') as handle:
        json.dump({'summary': figures, 'seconds': args.seconds, 'entries': entries}, handle, indent=1, sort_keys=True)
    with open(DOC, 'w', encoding='utf-8') as handle:
        handle.write(render(entries, figures, args.seconds))
    print(SUMMARY_LINE % figures)
    ok = figures['races'] == figures['races_ok'] and figures['trust_cases'] == figures['trust_held'] and \
        figures['faults'] == figures['converged'] and figures['bad_inputs'] == figures['clear_errors'] and \
        all(e['converged'] for e in entries if e['kind'] == 'repair') and not (
        figures['duplicates'] or figures['lost_secrets'] or figures['leaked_secret_bytes']
        or figures['lost_access'])
    return 0 if ok and figures['faults'] else 1


if __name__ == '__main__':
    sys.exit(main())
