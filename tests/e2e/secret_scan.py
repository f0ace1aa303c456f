"""Search every output and file a run left for secrets: raw, and in the forms ansible-core writes them (JSON, repr)."""

import json
import os
import re

# Any access token (a JWT: base64url header and claims, both JSON objects, so both start with eyJ).
JWT_RE = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}')


def forms(secret):
    """The secret as text, JSON-escaped (module arguments in an AnsiballZ file) and repr-escaped."""
    return set([secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]])


def files_under(*folders):
    for folder in folders:
        for root, _dirs, files in os.walk(str(folder)):
            for name in files:
                yield os.path.join(root, name)


def find(secrets, texts=(), paths=(), tokens=True):
    """['<where>: <what>'] for every secret found in texts ((label, text) pairs) or files, and (tokens=True) every
    access token, whoever issued it (the Graph and Exchange tokens the modules get are in no list the test has)."""
    found = []
    wanted = [(secret, form) for secret in secrets if secret for form in forms(secret)]

    def scan(label, text):
        for secret, form in wanted:
            if form in text:
                found.append('%s: the secret starting %s' % (label, secret[:3]))
                return
        if tokens and JWT_RE.search(text):
            found.append('%s: an access token' % label)

    for label, text in texts:
        scan(label, text or '')
    for path in paths:
        with open(path, 'rb') as handle:
            scan(path, handle.read().decode('utf-8', 'replace'))
    return found
