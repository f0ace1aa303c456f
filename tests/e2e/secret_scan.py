"""Search every output and file a run left for secrets: raw, and in the forms ansible-core writes them (JSON, repr)."""

import json
import os


def forms(secret):
    """The secret as text, JSON-escaped (module arguments in an AnsiballZ file) and repr-escaped."""
    return set([secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]])


def files_under(*folders):
    for folder in folders:
        for root, _dirs, files in os.walk(str(folder)):
            for name in files:
                yield os.path.join(root, name)


def find(secrets, texts=(), paths=()):
    """['<where>: <which secret>'] for every secret found in texts ((label, text) pairs) or files."""
    found = []
    wanted = [(secret, form) for secret in secrets if secret for form in forms(secret)]

    def scan(label, text):
        for secret, form in wanted:
            if form in text:
                found.append('%s: %s...' % (label, secret[:6]))
                return

    for label, text in texts:
        scan(label, text or '')
    for path in paths:
        with open(path, 'rb') as handle:
            scan(path, handle.read().decode('utf-8', 'replace'))
    return found
