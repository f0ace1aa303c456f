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

import re

from ansible_collections.m365.mail_oauth.plugins.module_utils import exchange_module
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, ExchangeError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils import exchange_progress, exchange_runner, powershell_transport
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange_operations import (
    InvalidOperation,
    is_not_found,
    is_write,
    validate_operations,
)

# Every Exchange Online login method, in the order a settings dict without 'auth' is read: the setting that names
# the method then, and the settings it needs besides organization. exchange_args offers these names as the
# actions' exchange_auth choices; the runner's Connect-RunnerExchange knows the same names.
AUTH_METHODS = {
    'access_token': ('access_token', ('access_token',)),
    'certificate_thumbprint': ('certificate_thumbprint', ('app_id', 'certificate_thumbprint')),
    'certificate_file': ('certificate_path', ('app_id', 'certificate_path')),
    'managed_identity': ('managed_identity', ()),
    'existing_session': (None, ()),
}
ENVIRONMENTS = ('O365Default', 'O365USGovGCCHigh', 'O365USGovDoD', 'O365China', 'O365GermanyCloud')
MODULE_SCOPES = ('CurrentUser', 'AllUsers')
# -AccessToken arrived in ExchangeOnlineManagement 3.1.0 (exchange_module holds the module's rules for the doctor too).
MIN_VERSION_ACCESS_TOKEN = exchange_module.MIN_MODULE_ACCESS_TOKEN
MIN_VERSION_DEFAULT = exchange_module.MIN_MODULE
_VERSION_RE = re.compile(r'^\d+(\.\d+){1,3}$')
_THUMBPRINT_RE = re.compile(r'^[0-9a-fA-F]{40}$')
SECRET_SETTINGS = ('access_token', 'certificate_password')
DEFAULT_RETRY = {'attempts': 4, 'delay': 2, 'max_delay': 30}
# Parallel Exchange sessions for one task (the runner's Get-RunnerSessionCount): at most MAX_SESSIONS, and a
# session only for every KEYS_PER_SESSION mailboxes, so a small task keeps one Connect-ExchangeOnline. 3 is what
# Microsoft's C# sample for Exchange Online PowerShell runs (a RunspacePool of 3); no per-app limit is documented
# for REST cmdlets (docs/performance.md, "Parallel sessions").
DEFAULT_SESSIONS = 3
MAX_SESSIONS = 5
KEYS_PER_SESSION = 20


def sessions_payload(sessions=None, keys_per_session=KEYS_PER_SESSION):
    """The payload's 'sessions' part; refuses what the runner would refuse."""
    sessions = DEFAULT_SESSIONS if sessions is None else sessions
    if isinstance(sessions, bool) or not isinstance(sessions, int) or not 1 <= sessions <= MAX_SESSIONS:
        raise ConfigError('exchange_sessions must be a whole number from 1 to %d (got %r)' % (MAX_SESSIONS, sessions))
    if isinstance(keys_per_session, bool) or not isinstance(keys_per_session, int) or keys_per_session < 1:
        raise ConfigError('keys_per_session must be a whole number of at least 1 (got %r)' % (keys_per_session,))
    return {'max': sessions, 'keys_per_session': keys_per_session}


def _version_tuple(text):
    return tuple(int(part) for part in text.split('.'))


def connection_payload(settings):
    """Validate the connection settings and return the 'connection' part of the payload."""
    settings = dict((k, v) for k, v in (settings or {}).items() if v is not None)
    auth = settings.get('auth')
    if auth is None:
        auth = next((method for method, (marker, _needs) in AUTH_METHODS.items() if marker and settings.get(marker)), None)
    if auth not in AUTH_METHODS:
        raise ConfigError('Exchange Online authentication must be one of %s (got %r)' % (', '.join(AUTH_METHODS), auth))
    if auth != 'existing_session' and not settings.get('organization'):
        raise ConfigError('organization (the tenant\'s initial domain, e.g. contoso.onmicrosoft.com) is required for app-only Exchange Online')
    missing = [key for key in AUTH_METHODS[auth][1] if not settings.get(key)]
    if missing:
        raise ConfigError('Exchange Online authentication %s needs %s' % (auth, ', '.join(missing)))
    if auth == 'certificate_thumbprint' and not _THUMBPRINT_RE.match(settings['certificate_thumbprint']):
        raise ConfigError('certificate_thumbprint must be 40 hexadecimal characters')
    environment = settings.get('environment', 'O365Default')
    if environment not in ENVIRONMENTS:
        raise ConfigError('environment must be one of %s (got %r)' % (', '.join(ENVIRONMENTS), environment))
    default_min = MIN_VERSION_ACCESS_TOKEN if auth == 'access_token' else MIN_VERSION_DEFAULT
    min_version = str(settings.get('min_version', default_min))
    if not _VERSION_RE.match(min_version):
        raise ConfigError('min_version must look like 3.1.0 (got %r)' % min_version)
    if auth == 'access_token' and _version_tuple(min_version) < _version_tuple(MIN_VERSION_ACCESS_TOKEN):
        raise ConfigError('Connect-ExchangeOnline -AccessToken needs ExchangeOnlineManagement %s or later' % MIN_VERSION_ACCESS_TOKEN)
    scope = settings.get('module_scope', 'CurrentUser')
    if scope not in MODULE_SCOPES:
        raise ConfigError('module_scope must be one of %s' % ', '.join(MODULE_SCOPES))
    connection = {
        'auth': auth,
        'organization': settings.get('organization'),
        'environment': environment,
        'min_version': min_version,
        'install_module': bool(settings.get('install_module', False)),
        'module_scope': scope,
        # What the runner says when the host's module is missing or too old: the doctor's rule and words.
        'module_help': exchange_module.advice(auth, settings.get('min_version')),
    }
    # user_principal_name: with a person's access_token, Connect-ExchangeOnline -UserPrincipalName instead of -Organization.
    for key in ('app_id', 'access_token', 'user_principal_name', 'certificate_thumbprint', 'certificate_path', 'certificate_password',
                'managed_identity_account_id'):
        if settings.get(key):
            connection[key] = str(settings[key])
    return connection


def build_payload(connection, operations, retry=None, sessions=None, progress=False):
    try:
        checked = validate_operations(operations)
    except InvalidOperation as exc:
        raise ConfigError(str(exc))
    payload = {
        'version': exchange_runner.PROTOCOL_VERSION,
        'connection': connection,
        'operations': checked,
        'retry': dict(DEFAULT_RETRY, **(retry or {})),
        'sessions': sessions or sessions_payload(),
    }
    if progress:
        payload['progress'] = True
    return payload


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
            where = self.raw.get('stopped_at') or {}
            failed = [r for r in self.errors() if r.get('op_index') == where.get('op_index') and r.get('key') == where.get('key')]
            reason = (failed[0].get('error') or {}).get('message') if failed else 'unknown error'
            raise ExchangeError('Exchange Online stopped at %s %s: %s (%d write(s) done, %d skipped)'
                                % (where.get('op'), where.get('key') or '', reason, len(self.done()), self.raw.get('skipped', 0)),
                                done=self.done(), skipped=self.raw.get('skipped', 0))
        return self


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
        self._execute = execute or powershell_transport.run_json
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
        if show is None or not exchange_progress.wanted(operations):
            return None
        if not powershell_transport.can_stream(getattr(self.action, '_connection', None)):
            return None
        return exchange_progress.ProgressReader(show).feed

    def run(self, operations):
        """One round trip: connect, run every operation in order, disconnect."""
        on_output = self._progress(operations)
        payload = build_payload(self.connection, operations, self.retry, self.sessions, progress=on_output is not None)
        in_data = exchange_runner.build_stdin(payload)
        self.round_trips += 1
        extra = {'on_output': on_output} if on_output else {}
        raw = self._execute(self.action, exchange_runner.BOOTSTRAP, in_data, interpreter=self.interpreter, **extra)
        if raw.get('connected'):
            self.sessions_used = max(self.sessions_used, int(raw.get('sessions') or 1))
        if raw.get('version') != exchange_runner.PROTOCOL_VERSION:
            raise ExchangeError('The host answered with runner protocol version %r, expected %d'
                                % (raw.get('version'), exchange_runner.PROTOCOL_VERSION))
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

        The writes carry their conditions (see exchange_operations); in check
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
