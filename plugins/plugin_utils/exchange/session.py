# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exchange Online through the runner: the API the action plugins use.

    session = ExchangeSession(self, connection_settings)
    found = session.read([{'op': 'get_mailbox_permission', 'params': {'User': sp}, 'for_each': mailboxes}])
    if not self._task.check_mode:
        done = session.write([...])

Every call is one round trip and, up to 2 x KEYS_PER_SESSION mailboxes, one
Connect-ExchangeOnline on the host (above that up to ``sessions`` of them, in
parallel runspaces of the same round trip);
converge(reads, writes, check_mode) reads and writes in that one round trip
with writes conditional on what the reads found.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, ExchangeError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import progress, runner_protocol, transport
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import is_not_found, is_write
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.payload import (
    SECRET_SETTINGS, build_payload, connection_payload, sessions_payload)


class ExchangeResult(object):
    """The runner's answer, with the operations it answered."""

    def __init__(self, raw, operations, first_write=None):
        self.raw = raw
        self.operations = operations
        # Index of the first write operation (len(operations) when only reads were sent).
        self.first_write = len(operations) if first_write is None else first_write

    @property
    def failed(self):
        return bool(self.raw.get('failed'))

    @property
    def msg(self):
        return self.raw.get('msg')

    @property
    def stopped(self):
        return bool(self.raw.get('stopped'))

    @property
    def warnings(self):
        return list(self.raw.get('warnings') or [])

    @property
    def results(self):
        return list(self.raw.get('results') or [])

    def calls(self, op_index):
        """Results of one operation: one entry per value of its for_each list."""
        return [r for r in self.results if r.get('op_index') == op_index]

    def by_key(self, op_index):
        return dict((r.get('key'), r) for r in self.calls(op_index))

    def found_rows(self, op_index, what):
        """Rows of a single read; [] when Exchange says the object does not exist. Any other failure raises ConfigError
        naming ``what``: a failed read is not an empty answer."""
        calls = self.calls(op_index)
        if not calls:
            return []
        call = calls[0]
        if not call.get('ok'):
            if is_not_found(call.get('error')):
                return []
            raise ConfigError('%s failed: %s' % (what, (call.get('error') or {}).get('message')))
        return call.get('output') or []

    def errors(self):
        return [r for r in self.results if not r.get('ok')]

    def done(self):
        """Write calls that succeeded, in order: what changed even when the run stopped."""
        return [r for r in self.results if r.get('ok') and is_write(self.operations[r['op_index']])]

    def raise_for_failure(self):
        if self.failed:
            msg = self.msg or 'the runner failed'
            if "isn't supported in this scenario" in msg:
                # Exchange's own words for a token without the role do not name it.
                msg += (' (the admin app lacks the application permission Exchange.ManageAsApp on Office 365 Exchange Online, with '
                        'admin consent, or an Exchange administrator role; see docs/permissions.md)')
            raise ExchangeError('Exchange Online: %s' % msg, error=self.raw.get('error'))
        if self.stopped:
            raise ExchangeError(self.stop_message(), done=self.done(), skipped=self.raw.get('skipped', 0))
        return self

    def stop_message(self):
        """Where a stopped run stopped, why, and what it did and skipped: how every Exchange action says it."""
        where = self.raw.get('stopped_at') or {}
        failed = [r for r in self.errors() if r.get('op_index') == where.get('op_index') and r.get('key') == where.get('key')]
        reason = (failed[0].get('error') or {}).get('message') if failed else 'unknown error'
        return ('Exchange Online stopped at %s %s: %s (%d write(s) done, %d skipped)'
                % (where.get('op'), where.get('key') or '', reason, len(self.done()), self.raw.get('skipped', 0)))


class ExchangeSession(object):
    """Runs allow-listed Exchange Online operations through the task's connection.

    ``action`` is the ActionBase of the running task; ``connection`` the
    settings for Connect-ExchangeOnline (see connection_payload).
    ``interpreter`` forces a PowerShell executable (``pwsh``) for hosts whose
    shell plugin is not powershell, e.g. ssh to Linux with pwsh installed.
    """

    def __init__(self, action, connection, retry=None, interpreter=None, execute=None, sessions=None):
        self.action = action
        self.connection = connection_payload(connection)
        self.retry = retry
        # Up to this many Exchange sessions in parallel on the host for a task with many mailboxes (sessions_payload).
        self.sessions = sessions_payload(sessions)
        self.interpreter = interpreter
        self._execute = execute or transport.run_json
        self.round_trips = 0
        # The most Exchange sessions one round trip of this task used (each is one Connect-ExchangeOnline).
        self.sessions_used = 0

    @property
    def secrets(self):
        """Values an action plugin must keep out of its output and logs."""
        return [self.connection[k] for k in SECRET_SETTINGS if self.connection.get(k)]

    def _progress(self, operations):
        """ProgressReader.feed for a long task whose progress someone will see and the connection can stream, else None.

        The action says whether anyone looks (show_progress: -v and above); the runner then prints progress lines."""
        show = getattr(self.action, 'show_progress', None)
        if show is None or not progress.wanted(operations):
            return None
        if not transport.can_stream(getattr(self.action, '_connection', None)):
            return None
        return progress.ProgressReader(show).feed

    def run(self, operations):
        """One round trip: connect, run every operation in order, disconnect."""
        on_output = self._progress(operations)
        payload = build_payload(self.connection, operations, self.retry, self.sessions, progress=on_output is not None)
        in_data = runner_protocol.build_stdin(payload)
        self.round_trips += 1
        extra = {'on_output': on_output} if on_output else {}
        raw = self._execute(self.action, runner_protocol.BOOTSTRAP, in_data, interpreter=self.interpreter, **extra)
        if raw.get('connected'):
            self.sessions_used = max(self.sessions_used, int(raw.get('sessions') or 1))
        if raw.get('version') != runner_protocol.PROTOCOL_VERSION:
            raise ExchangeError('The host answered with runner protocol version %r, expected %d'
                                % (raw.get('version'), runner_protocol.PROTOCOL_VERSION))
        return ExchangeResult(raw, payload['operations'])

    def read(self, operations):
        """Run read-only operations (safe in check mode); refuses any write."""
        writes = [o.get('op') for o in operations if isinstance(o, dict) and o.get('op') and _is_known_write(o)]
        if writes:
            raise ConfigError('read() got write operations: %s' % ', '.join(writes))
        return self.run(operations)

    def write(self, operations):
        """Run operations that change Exchange; the runner stops at the first failed write."""
        return self.run(operations)

    def converge(self, reads, writes, check_mode=False):
        """One round trip: the reads, then the writes whose conditions the reads satisfy.

        The writes carry their conditions (see operations.py); in check
        mode only the reads go, so nothing can change. Either way the answer
        holds the before-state (the reads' rows) for the caller's own plan.
        """
        operations = list(reads) if check_mode else list(reads) + list(writes)
        result = self.run(operations)
        result.first_write = len(reads)
        return result


def _is_known_write(operation):
    try:
        return is_write(operation)
    except KeyError:
        return False
