# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one backoff policy: which answers are worth another try, and how long to wait."""

import random
import time

# Throttling and the gateway's transient answers. Graph sends Retry-After on 429
# and often on 503; the others get jittered exponential backoff.
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])

# A refused connection or an unknown host (http.unreachable_reason): a few tries within seconds, for a service
# restarting or a DNS blip, never the minutes a throttled service gets (which once made a closed port cost 118 s).
CONNECT_TRIES = 3
CONNECT_SECONDS = 5.0
# A wait at least this long, or waits adding up to LONG_TOTAL, is announced with its reason: a run that pauses
# for throttling or replication says so instead of looking hung.
LONG_WAIT = 5.0
LONG_TOTAL = 10.0


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

    def __init__(self, deadline_seconds, base=0.5, cap=8.0, clock=time.monotonic, sleep=time.sleep, rand=random.random,
                 max_tries=None, announce=None):
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.base = base
        self.cap = cap
        self.started = clock()
        self.deadline = self.started + deadline_seconds
        self.attempt = 0
        # The number of tries (the first one included) after which next_delay gives up; None: only the deadline.
        self.max_tries = max_tries
        # announce(text) tells the person running the playbook about a long wait (a warning); None: silent.
        self.announce = announce
        self.waited = 0.0
        self._told_total = False

    @property
    def elapsed(self):
        return self.clock() - self.started

    def remaining(self):
        return self.deadline - self.clock()

    def next_delay(self, retry_after=None):
        """The wait before the next try, or None when the deadline would be passed."""
        self.attempt += 1
        if self.max_tries is not None and self.attempt >= self.max_tries:
            return None
        if retry_after is not None:
            delay = retry_after
        else:
            # "Full jitter": spreads concurrent clients (forks, tenants) apart.
            delay = self.rand() * min(self.cap, self.base * (2 ** (self.attempt - 1)))
            delay = max(delay, self.base / 4)
        if delay > self.remaining():
            return None
        return delay

    def wait(self, retry_after=None, reason=None):
        """Sleep before the next try; False when the deadline does not allow one.

        reason ("Graph GET /applications answered 429 (throttled)") is what a long wait is announced with.
        """
        delay = self.next_delay(retry_after)
        if delay is None:
            return False
        if self.announce is not None and reason:
            long_total = not self._told_total and self.waited + delay >= LONG_TOTAL
            if delay >= LONG_WAIT or long_total:
                self._told_total = self._told_total or long_total
                self.announce('waiting %.0f s before trying again: %s (%.0f s waited so far, giving up after %.0f s in all)'
                              % (delay, reason, self.waited, self.deadline - self.started))
        self.waited += delay
        self.sleep(delay)
        return True


def connect_backoff(clock=time.monotonic, sleep=time.sleep, rand=random.random):
    """The small budget for a refused connection or an unknown host: CONNECT_TRIES tries within CONNECT_SECONDS."""
    return Backoff(CONNECT_SECONDS, base=1.0, cap=2.0, clock=clock, sleep=sleep, rand=rand, max_tries=CONNECT_TRIES)
