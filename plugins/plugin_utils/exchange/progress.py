# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long Exchange task, read from the runner's stdout while it runs.

With payload.progress the runner prints "#m365.mail_oauth:progress <op> <done>/<total>"
lines as a bulk step's mailboxes are done (about every 5 %); its answer stays
the last line. ProgressReader takes stdout in whatever pieces the connection
receives and calls show(op, done, total) once per complete progress line.
"""

import re

PREFIX = b'#m365.mail_oauth:progress '
_LINE = re.compile(br'^#m365\.mail_oauth:progress ([a-z_]+) (\d+)/(\d+)$')
# Below this many keys in every bulk step a task is short enough not to need progress.
MIN_KEYS = 100


def wanted(operations):
    """Whether a task is long enough to report progress: a step over MIN_KEYS mailboxes, or a search of the tenant."""
    for operation in operations:
        if len(operation.get('for_each') or ()) >= MIN_KEYS or operation.get('op', '').startswith('find_'):
            return True
    return False


class ProgressReader(object):
    def __init__(self, show):
        self.show = show
        self._partial = b''
        # Inside a line that is not a progress line (the answer, which can be megabytes): not kept.
        self._skipping = False

    def feed(self, data):
        while data:
            head, newline, data = data.partition(b'\n')
            if self._skipping:
                self._skipping = not newline
                continue
            line = self._partial + head
            if not newline:
                self._partial = b''
                if PREFIX.startswith(line[:len(PREFIX)]):
                    self._partial = line
                else:
                    self._skipping = True
                return
            self._partial = b''
            match = _LINE.match(line.strip())
            if match:
                self.show(match.group(1).decode('ascii'), int(match.group(2)), int(match.group(3)))
