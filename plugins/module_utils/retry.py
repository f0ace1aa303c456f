# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one backoff policy: which answers are worth another try, and how long to wait."""

import random
import time

# Throttling and the gateway's transient answers. Graph sends Retry-After on 429
# and often on 503; the others get jittered exponential backoff.
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])


def parse_retry_after(value):
    """Seconds from a Retry-After header (delta-seconds form; Graph does not send dates)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(seconds, 0.0)


class Backoff:
    """Delays for successive tries until a deadline.

    The clock and sleep are injectable so unit tests run instantly.
    """

    def __init__(self, deadline_seconds, base=0.5, cap=8.0, clock=time.monotonic, sleep=time.sleep, rand=random.random):
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.base = base
        self.cap = cap
        self.started = clock()
        self.deadline = self.started + deadline_seconds
        self.attempt = 0

    def remaining(self):
        return self.deadline - self.clock()

    def next_delay(self, retry_after=None):
        """The wait before the next try, or None when the deadline would be passed."""
        self.attempt += 1
        if retry_after is not None:
            delay = retry_after
        else:
            # "Full jitter": spreads concurrent clients (forks, tenants) apart.
            delay = self.rand() * min(self.cap, self.base * (2 ** (self.attempt - 1)))
            delay = max(delay, self.base / 4)
        if delay > self.remaining():
            return None
        return delay

    def wait(self, retry_after=None):
        """Sleep before the next try; False when the deadline does not allow one."""
        delay = self.next_delay(retry_after)
        if delay is None:
            return False
        self.sleep(delay)
        return True
