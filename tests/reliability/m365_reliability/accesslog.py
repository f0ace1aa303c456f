"""What the sandbox answered during one run, per Graph call type, from its access log."""

import collections
import os
import re

LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d{3})')
GUID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
KEY = re.compile(r"\((\w+)=[^)]*\)")


def call_type(method, path):
    """'POST /applications/{id}/addPassword', 'token', or None for the control API."""
    path = path.split('?', 1)[0]
    if path.startswith('/_sandbox'):
        return None
    if path.endswith('/oauth2/v2.0/token'):
        return 'POST token'
    path = KEY.sub(r'(\1)', GUID.sub('{id}', path.replace('/v1.0', '', 1)))
    return '%s %s' % (method, path)


class AccessLog:
    """Remembers where the log ended; counts() reads what was added since."""

    def __init__(self, sandbox):
        self.path = os.path.join(sandbox.state_dir, 'access.log')
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def counts(self):
        """{call type: {status: n}} since this object was made."""
        out = collections.defaultdict(collections.Counter)
        with open(self.path, encoding='utf-8', errors='replace') as handle:
            handle.seek(self.offset)
            for line in handle:
                match = LINE.search(line)
                kind = match and call_type(match.group('method'), match.group('path'))
                if kind:
                    out[kind][match.group('status')] += 1
        return dict((k, dict(v)) for k, v in out.items())


def faulted_types(counts, statuses=('429', '500', '502', '503', '504')):
    return sorted(kind for kind, seen in counts.items() if any(s in seen for s in statuses))
