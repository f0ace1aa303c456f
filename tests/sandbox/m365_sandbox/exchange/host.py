"""The emulated Windows host: does what the collection's runner script would do.

ExchangeHost.run_payload(payload) takes the JSON document the runner reads
from stdin and answers with the JSON the runner would print: validate against
the allow-list, Connect-ExchangeOnline once, run the calls in order (retrying
throttled ones), stop at the first failed write, always disconnect.

Tenants come from an injected find_tenant(key) (tenant id or domain) and
tokens are checked by an injected verify_token(token) -> claims, so the
model runs without the Graph sandbox.
"""

import collections
import threading
import time

from . import cmdlets
from .allow_list import OPERATIONS, InvalidOperation, check_value, operations
from .model import CmdletError, ExchangeOrg

PROTOCOL_VERSION = 1
EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000'
MANAGE_ROLE = 'Exchange.ManageAsApp'
AUDIENCES = {
    'O365Default': 'https://outlook.office365.com',
    'O365USGovGCCHigh': 'https://outlook.office365.us',
    'O365USGovDoD': 'https://outlook-dod.office365.us',
    'O365China': 'https://partner.outlook.cn',
}
THROTTLE_MESSAGE = ('Server Busy: the request was throttled (TooManyRequests, MicroDelay). '
                    'Please retry after %d seconds.')
DROPPED_MESSAGE = 'The underlying connection was closed: An unexpected error occurred on a send.'


class DropConnection(Exception):
    """The WinRM layer should drop the HTTP connection without answering."""


class RunnerFailure(Exception):
    """A terminating error in the runner itself (before or while connecting)."""

    def __init__(self, message, record=None):
        super().__init__(message)
        self.message = message
        self.record = record or {'message': message, 'type': 'System.Management.Automation.RuntimeException',
                                 'category': 'OperationStopped', 'error_id': message}


class Faults:
    """Fault injection; every field is off by default.

    connect_error: message Connect-ExchangeOnline fails with.
    drop_after_writes: after this many successful writes in one run the next
        write is lost: ``drop_mode`` "winrm" drops the HTTP connection, "exchange"
        makes the cmdlet fail with a connection error. Fires once.
    latency: seconds per call: keys "connect", "read", "write" or a cmdlet name,
        and "round_trip" (once per runner payload: the WinRM command's network time).
    throttle_every / throttle_cmdlets / throttle_retry_after: every N-th matching
        cmdlet call fails with Exchange's throttling error.
    """

    FIELDS = ('connect_error', 'drop_after_writes', 'drop_mode', 'latency', 'throttle_every', 'throttle_cmdlets', 'throttle_retry_after',
              'module_version')

    def __init__(self):
        self.reset()

    def reset(self):
        self.connect_error = None
        self.drop_after_writes = None
        self.drop_mode = 'winrm'
        self.latency = {}
        self.throttle_every = 0
        self.throttle_cmdlets = ()
        self.throttle_retry_after = 1
        # The ExchangeOnlineManagement version "installed" on the host.
        self.module_version = '3.7.1'

    def configure(self, **values):
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise ValueError('unknown Exchange fault(s): %s' % ', '.join(sorted(unknown)))
        for key, value in values.items():
            setattr(self, key, value)

    def as_dict(self):
        return dict((k, getattr(self, k)) for k in self.FIELDS)


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.round_trips = 0
        self.connections = 0
        self.connect_failures = 0
        self.disconnections = 0
        self.cmdlets = collections.Counter()
        self.throttled = 0
        self.dropped = 0
        self.module_installs = 0
        self.sleeps = 0.0
        # Injected latency by kind (connect, read, write, round_trip): the
        # emulated server time, i.e. the floor a benchmark measures against.
        self.latency_seconds = collections.Counter()
        self.connect_params = []

    def as_dict(self):
        with self.lock:
            return {'round_trips': self.round_trips, 'connections': self.connections, 'connect_failures': self.connect_failures,
                    'disconnections': self.disconnections, 'cmdlets': dict(self.cmdlets), 'throttled': self.throttled,
                    'dropped': self.dropped, 'module_installs': self.module_installs, 'sleeps': self.sleeps,
                    'latency_seconds': dict(self.latency_seconds), 'connect_params': list(self.connect_params)}


def _version(text):
    return tuple(int(p) for p in str(text).split('.'))


def _mailboxes_of(tenant):
    mailboxes = getattr(tenant, 'mailboxes', None)
    if callable(mailboxes):
        return mailboxes()
    return mailboxes or []


class ExchangeHost:
    """One emulated host; holds the per-tenant ExchangeOrg objects.

    find_tenant(key) -> tenant-like (tenant_id, domain, mailboxes() or
    mailboxes list, optionally an ``extensions`` dict where the org is kept so
    a directory reset drops it) or None. verify_token(token) -> claims or raise.
    authenticate_app(tenant, app_id, method) -> None or raise, for certificate
    and managed identity logins (default: accept).
    """

    def __init__(self, find_tenant, verify_token, authenticate_app=None, sleep=time.sleep, retry_sleep_scale=0.0, lock=None):
        self.find_tenant = find_tenant
        self.verify_token = verify_token
        self.authenticate_app = authenticate_app
        self.sleep = sleep
        # The runner sleeps between throttling retries; tests scale that down.
        self.retry_sleep_scale = retry_sleep_scale
        self.directory_lock = lock or threading.RLock()
        self.lock = threading.RLock()
        self.faults = Faults()
        self.counters = Counters()
        self._orgs = {}
        self._throttle_seen = 0

    # -- tenants --------------------------------------------------------------
    def org_for(self, tenant):
        with self.directory_lock:
            entries = _mailboxes_of(tenant)
            store = getattr(tenant, 'extensions', None)
            if store is None:
                store = self._orgs.setdefault(tenant.tenant_id, {})
            org = store.get('exchange')
            if org is None:
                org = store['exchange'] = ExchangeOrg(tenant.tenant_id, tenant.domain, entries)
            else:
                org.sync(entries)
            return org

    def org(self, key):
        """The ExchangeOrg of a tenant by id or domain (for tests and the control API)."""
        tenant = self.find_tenant(key)
        return self.org_for(tenant) if tenant is not None else None

    # -- connect ----------------------------------------------------------------
    def _latency(self, kind, *keys):
        """Sleep the first configured of keys (then kind), counted under kind."""
        for key in keys + (kind,):
            delay = (self.faults.latency or {}).get(key)
            if delay:
                self.sleep(delay)
                with self.counters.lock:
                    self.counters.latency_seconds[kind] += delay
                return

    def connect(self, settings):
        """Connect-ExchangeOnline with the payload's connection settings; returns the org."""
        self._latency('connect')
        available = self.faults.module_version
        minimum = settings.get('min_version') or '3.0.0'
        if _version(available) < _version(minimum):
            if not settings.get('install_module'):
                raise RunnerFailure('ExchangeOnlineManagement %s or later is not installed on this host (found: %s); '
                                    'set install_module to install it' % (minimum, available))
            with self.counters.lock:
                self.counters.module_installs += 1
            self.faults.module_version = minimum
        auth = settings.get('auth')
        with self.counters.lock:
            self.counters.connect_params.append(sorted(k for k in settings if k not in ('access_token', 'certificate_password')))
        if auth == 'existing_session':
            raise RunnerFailure('No connected Exchange Online session exists in this PowerShell session')
        if self.faults.connect_error:
            raise RunnerFailure(self.faults.connect_error)
        organization = settings.get('organization')
        tenant = self.find_tenant(organization) if organization else None
        if auth == 'access_token':
            tenant = self._check_token(settings.get('access_token'), settings.get('environment') or 'O365Default', tenant, organization)
        elif auth in ('certificate_thumbprint', 'certificate_file', 'managed_identity'):
            if tenant is None:
                raise RunnerFailure("Organization '%s' was not found." % organization)  # (weak)
            if self.authenticate_app is not None:
                try:
                    self.authenticate_app(tenant, settings.get('app_id'), auth)
                except Exception as exc:  # pylint: disable=broad-except
                    raise RunnerFailure('UnAuthorized: %s' % exc)
        else:
            raise RunnerFailure("Unknown Exchange Online authentication method '%s'" % auth)
        return self.org_for(tenant)

    def _check_token(self, token, environment, tenant, organization):
        if not token:
            raise RunnerFailure('UnAuthorized: an access token is required')
        try:
            claims = self.verify_token(token)
        except Exception as exc:  # pylint: disable=broad-except
            raise RunnerFailure('UnAuthorized: the access token is not valid: %s' % exc)
        audience = claims.get('aud')
        expected = AUDIENCES.get(environment, AUDIENCES['O365Default'])
        if audience not in (expected, expected + '/', EXCHANGE_APP_ID):
            raise RunnerFailure("UnAuthorized: the access token's audience '%s' is not %s" % (audience, expected))
        if claims.get('exp') is not None and claims['exp'] < time.time():
            raise RunnerFailure('UnAuthorized: the access token has expired')
        token_tenant = self.find_tenant(claims.get('tid'))
        if token_tenant is None:
            raise RunnerFailure("UnAuthorized: tenant '%s' of the access token was not found" % claims.get('tid'))
        if organization and (tenant is None or tenant.tenant_id != token_tenant.tenant_id):
            raise RunnerFailure("UnAuthorized: the access token was issued for tenant '%s', not for Organization '%s'"
                                % (claims.get('tid'), organization))
        if MANAGE_ROLE not in (claims.get('roles') or []):
            raise RunnerFailure("The role assigned to application %s isn't supported in this scenario. Please check online documentation "
                                "for assigning correct Directory Roles to Azure AD Application for EXO App-Only Authentication."
                                % claims.get('appid'))
        return token_tenant

    # -- calls --------------------------------------------------------------------
    def _throttled(self, cmdlet):
        every = self.faults.throttle_every
        if not every or (self.faults.throttle_cmdlets and cmdlet not in self.faults.throttle_cmdlets):
            return False
        self._throttle_seen += 1
        return self._throttle_seen % every == 0

    def _invoke(self, org, cmdlet, params, write, run_state):
        """The cmdlet against the model, with the drop and throttling faults; call with self.lock held."""
        if write and self.faults.drop_after_writes is not None and run_state['writes'] >= self.faults.drop_after_writes:
            self.faults.drop_after_writes = None
            with self.counters.lock:
                self.counters.dropped += 1
            if self.faults.drop_mode == 'winrm':
                raise DropConnection()
            raise CmdletError(DROPPED_MESSAGE, category='ConnectionError', error_id='WebException')
        if self._throttled(cmdlet):
            with self.counters.lock:
                self.counters.throttled += 1
            raise CmdletError(THROTTLE_MESSAGE % self.faults.throttle_retry_after, category='LimitsExceeded',
                              error_id='TooManyRequests')
        return cmdlets.invoke(org, cmdlet, params)

    def call(self, org, cmdlet, params, run_state):
        """One cmdlet call with the runner's retry on throttling: the call entry of the result."""
        write = cmdlet in cmdlets.WRITES
        attempts = 0
        retry = run_state['retry']
        while True:
            attempts += 1
            with self.counters.lock:
                self.counters.cmdlets[cmdlet] += 1
            # Sleep outside the model lock: sessions of other tasks (forks,
            # tenants) wait on the service concurrently, as they do for real.
            self._latency('write' if write else 'read', cmdlet)
            try:
                with self.lock:
                    output, warnings = self._invoke(org, cmdlet, params, write, run_state)
            except CmdletError as exc:
                throttled = exc.error_id == 'TooManyRequests'
                if throttled and attempts < retry['attempts']:
                    delay = min(retry['max_delay'], retry['delay'] * 2 ** (attempts - 1))
                    with self.counters.lock:
                        self.counters.sleeps += delay
                    if self.retry_sleep_scale:
                        self.sleep(delay * self.retry_sleep_scale)
                    continue
                return {'ok': False, 'output': [], 'warnings': [], 'error': exc.record(), 'attempts': attempts}
            if write:
                run_state['writes'] += 1
            return {'ok': True, 'output': output, 'warnings': warnings, 'error': None, 'attempts': attempts}

    # -- the runner -------------------------------------------------------------
    def run_payload(self, payload):
        """Answer a runner payload the way the runner would print it."""
        with self.counters.lock:
            self.counters.round_trips += 1
        self._latency('round_trip')
        result = {
            'version': PROTOCOL_VERSION, 'failed': False, 'msg': None, 'error': None, 'connected': False, 'disconnected': False,
            'module_version': None, 'module_installed': False, 'stopped': False, 'stopped_at': None, 'skipped': 0, 'conditional_skips': 0,
            'results': [], 'warnings': [],
        }
        connected = False
        installs_before = self.counters.module_installs
        try:
            if payload.get('version') != PROTOCOL_VERSION:
                raise RunnerFailure('Unsupported payload version %s' % payload.get('version'))
            plan = _plan(payload.get('operations') or [])
            retry = {'attempts': 4, 'delay': 2, 'max_delay': 30}
            retry.update(payload.get('retry') or {})
            run_state = {'retry': retry, 'writes': 0, 'by_key': {}}
            try:
                org = self.connect(payload.get('connection') or {})
            except RunnerFailure:
                with self.counters.lock:
                    self.counters.connect_failures += 1
                raise
            finally:
                result['module_version'] = self.faults.module_version
                result['module_installed'] = self.counters.module_installs > installs_before
            connected = True
            with self.counters.lock:
                self.counters.connections += 1
            result['connected'] = True
            self._run_plan(org, plan, run_state, result)
        except RunnerFailure as exc:
            result['failed'] = True
            result['msg'] = exc.message
            result['error'] = exc.record
        finally:
            if connected:
                with self.counters.lock:
                    self.counters.disconnections += 1
                result['disconnected'] = True
        return result

    def _run_plan(self, org, plan, run_state, result):
        for step in plan:
            definition = OPERATIONS[step['op']]
            if 'for_each_from' in step:
                step['has_for_each'] = True
                step['values'] = operations.keys_from(step['for_each_from'], result['results'])
            if result['stopped']:
                result['skipped'] += max(1, len(step['values']))
                continue
            if definition['kind'] == 'find_by_user':
                self._find_by_user(org, step, definition, run_state, result)
                continue
            keys = step['values'] if step['has_for_each'] else [None]
            for position, key in enumerate(keys, 1):
                if step.get('when') and not operations.should_run(step, key, run_state['by_key']):
                    result['conditional_skips'] += 1
                    continue
                params = dict(step['params'])
                if step['has_for_each']:
                    params[definition['bulk']] = key
                call = self.call(org, definition['cmdlet'], params, run_state)
                _add_result(result, step, definition, key, call, run_state)
                if not call['ok'] and definition['write']:
                    result['stopped'] = True
                    result['stopped_at'] = {'op_index': step['index'], 'op': step['op'], 'key': key}
                    result['skipped'] += len(keys) - position
                    break

    def _find_by_user(self, org, step, definition, run_state, result):
        listing = self.call(org, 'Get-EXOMailbox', {'ResultSize': 'Unlimited'}, run_state)
        if not listing['ok']:
            _add_result(result, step, definition, None, listing, run_state)
            return
        problems = []
        for mailbox in listing['output']:
            params = dict(step['params'], Identity=mailbox['UserPrincipalName'])
            call = self.call(org, definition['cmdlet'], params, run_state)
            if not call['ok']:
                problems.append('%s: %s' % (mailbox['UserPrincipalName'], call['error']['message']))
            elif call['output']:
                _add_result(result, step, definition, mailbox['UserPrincipalName'], call, run_state)
        if problems:
            result['warnings'].extend(problems)


def _plan(operations):
    """The runner's Get-RunnerPlan: re-validate names, parameter names and types."""
    plan = []
    for index, operation in enumerate(operations):
        name = operation.get('op')
        definition = OPERATIONS.get(name)
        if definition is None:
            raise RunnerFailure("operation %d: '%s' is not in the allow-list" % (index, name))
        params = {}
        for key, value in (operation.get('params') or {}).items():
            spec = definition['params'].get(key)
            if spec is None:
                raise RunnerFailure('operation %d: parameter %s is not allowed for %s' % (index, key, name))
            params[key] = _assert(name, key, spec, value)
        has_for_each = 'for_each' in operation
        values = []
        if has_for_each:
            if not definition['bulk']:
                raise RunnerFailure('operation %d: %s does not take a for_each list' % (index, name))
            values = [_assert(name, definition['bulk'], definition['params'][definition['bulk']], v) for v in operation['for_each'] or []]
        step = {'index': index, 'op': name, 'params': params, 'has_for_each': has_for_each, 'values': values}
        # Conditions were checked in full by Python; the runner trusts their
        # shape but never their values as code (they are compared, not run).
        for key in ('when', 'for_each_from'):
            if operation.get(key) is not None:
                step[key] = operation[key]
        plan.append(step)
    return plan


def _assert(name, key, spec, value):
    # The runner checks types only; Python already refused the rest, and
    # Exchange itself answers anything subtler.
    if spec['type'] == 'nullable_bool' and value is None:
        return None
    try:
        return check_value(name, key, spec, value)
    except InvalidOperation:
        raise RunnerFailure('%s: parameter %s does not match type %s' % (name, key, spec['type']))


def _add_result(result, step, definition, key, call, run_state):
    rows = [dict((p, row.get(p)) for p in definition['select']) for row in call['output']]
    entry = {'op_index': step['index'], 'op': step['op'], 'key': key, 'ok': call['ok'], 'output': rows,
             'warnings': call['warnings'], 'error': call['error'], 'attempts': call['attempts']}
    result['results'].append(entry)
    run_state['by_key'][(step['index'], operations.key_of(key))] = entry
