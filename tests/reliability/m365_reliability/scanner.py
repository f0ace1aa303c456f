"""Finds secrets where they must never be: output, diffs, result files, command lines.

Known values (the admin's secret, handover secrets, passwords) are looked for literally; values the
tests never saw (an orphan secret, a token) are found by shape: Entra client secrets ('xxx8Q~' and 34
more characters), JWTs and PEM private keys. PowerShell -EncodedCommand blobs are decoded first, because
that is the command line the Windows host sees.
"""

import base64
import os
import re

CLIENT_SECRET = re.compile(r'(?<![A-Za-z0-9_.~-])[A-Za-z0-9]{3}8Q~[A-Za-z0-9_.~-]{34}(?![A-Za-z0-9_.~-])')
JWT = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*')
PRIVATE_KEY = re.compile(r'-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----')
ENCODED_COMMAND = re.compile(r'-(?:e|ec|enc|encodedcommand)\s+([A-Za-z0-9+/=]{16,})', re.I)
SHAPES = (('client secret', CLIENT_SECRET), ('JWT', JWT), ('private key', PRIVATE_KEY))


def decoded_commands(text):
    out = []
    for match in ENCODED_COMMAND.finditer(text):
        try:
            out.append(base64.b64decode(match.group(1)).decode('utf-16-le'))
        except (ValueError, UnicodeDecodeError):
            continue
    return out


def scan_text(text, known=(), where='text'):
    """[(where, what, bytes)] for every secret found in text."""
    leaks = []
    for chunk in [text] + decoded_commands(text):
        for value in known:
            if value and value in chunk:
                leaks.append((where, 'known value %s...' % value[:3], len(value) * chunk.count(value)))
        for what, pattern in SHAPES:
            for match in pattern.finditer(chunk):
                if not any(value and value in match.group(0) for value in known):
                    leaks.append((where, what, len(match.group(0))))
    return leaks


def scan_files(root, known=(), skip=()):
    """Every file under root except the chosen destinations (skip), e.g. ANSIBLE_LOCAL_TEMP leftovers, playbooks, vars files."""
    leaks = []
    skip = set(os.path.abspath(p) for p in skip)
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.abspath(os.path.join(directory, name))
            if path in skip:
                continue
            try:
                with open(path, encoding='utf-8', errors='replace') as handle:
                    text = handle.read()
            except OSError:
                continue
            leaks.extend(scan_text(text, known, path))
    return leaks


def leaked_bytes(leaks):
    return sum(size for _where, _what, size in leaks)
