"""Samples every process command line (/proc/*/cmdline) while a playbook runs: a secret passed as an argument shows up in ps."""

import os
import threading


def command_lines():
    lines = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as handle:
                raw = handle.read()
        except OSError:
            continue  # the process ended between listdir and open
        if raw:
            lines[pid] = raw.replace(b'\0', b' ').decode('utf-8', errors='replace')
    return lines


class ProcWatch:
    """Collects the distinct command lines seen until stopped; use as a context manager around a run."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.seen = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name='procwatch')

    def _loop(self):
        while not self._stop.is_set():
            self.seen.update(command_lines().values())
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
