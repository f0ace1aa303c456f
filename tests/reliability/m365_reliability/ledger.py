"""Every case's figures, one JSON line each, for the soak summary and docs/reliability.md."""

import json
import os
import time

from playbook import REPO

OUTPUT = os.path.join(REPO, 'tests', 'output', 'reliability')
LEDGER = os.path.join(OUTPUT, 'ledger.jsonl')


def start():
    """A new suite run: figures of earlier runs must not count (make soak starts the ledger once for all its shards)."""
    os.makedirs(OUTPUT, exist_ok=True)
    if os.environ.get('M365_LEDGER_APPEND'):
        return
    with open(LEDGER, 'w', encoding='utf-8'):
        pass


def record(kind, name, **figures):
    entry = dict(kind=kind, name=name, at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), **figures)
    os.makedirs(OUTPUT, exist_ok=True)
    with open(LEDGER, 'a', encoding='utf-8') as handle:
        handle.write(json.dumps(entry, sort_keys=True) + '\n')
    return entry


def entries(path=LEDGER):
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]
