# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Exchange action plugin shares: options, Graph checks, the connection, errors and secrets.

A subclass declares OWN_SPEC (and the usual constraint lists) and implements
execute(params) -> result dict; it gets self.graph (ControllerGraph),
self.principal(...) and self.session() (ExchangeSession through the task's
connection, which honours delegate_to).
"""

import errno

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.m365.mail_oauth.plugins.module_utils import signin
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import resolve_cloud
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, M365Error
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import (
    EXCHANGE_REQUIRED_IF, MUTUALLY_EXCLUSIVE, action_spec)
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.graph import ControllerGraph
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import OPERATIONS
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeSession
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.transport import PowerShellTransportError, is_powershell_shell
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.transport_policy import check_transport


class ExchangeAction(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    OWN_SPEC = {}
    MUTUALLY_EXCLUSIVE = []
    REQUIRED_ONE_OF = []
    REQUIRED_IF = []

    def __init__(self, *args, **kwargs):
        super(ExchangeAction, self).__init__(*args, **kwargs)
        self._secrets = set()
        self._session = None
        self._host_name = None
        self.graph = None
        self.params = {}

    def run(self, tmp=None, task_vars=None):
        result = super(ExchangeAction, self).run(tmp, task_vars)
        self._host_name = (task_vars or {}).get('inventory_hostname')
        spec = action_spec(self.OWN_SPEC)
        # A failed validation returns no list of no_log values, yet the invocation below still echoes the arguments.
        self._secrets.update(str(self._task.args[name]) for name, option in spec.items()
                             if option.get('no_log') and self._task.args.get(name) not in (None, ''))
        try:
            validation, params = self.validate_argument_spec(
                argument_spec=spec,
                mutually_exclusive=MUTUALLY_EXCLUSIVE + self.MUTUALLY_EXCLUSIVE,
                required_one_of=self.REQUIRED_ONE_OF,
                required_if=EXCHANGE_REQUIRED_IF + self.REQUIRED_IF,
            )
            self._secrets.update(validation._no_log_values)  # pylint: disable=protected-access
            for warning in validation._warnings:  # pylint: disable=protected-access
                self._display.warning(warning.get('warning') if isinstance(warning, dict) else str(warning))
            self.params = params
            # Before any credential is read or sent: no Basic over plain http unless acknowledged.
            check_transport(self._connection, params['allow_insecure_transport'], self._display.warning)
            self.graph = ControllerGraph(params)
            result.update(self.execute(params))
        except AnsibleActionFail as exc:
            result.update(failed=True, msg=str(exc.message))
        except PowerShellTransportError as exc:
            # Ansible's own convention: the host could not be reached or the
            # connection broke; the message says whether writes may be partial.
            result.update(unreachable=exc.unreachable, failed=not exc.unreachable, msg=exc.msg)
        except M365Error as exc:
            result.update(failed=True, msg=exc.msg)
            result.update((k, v) for k, v in exc.details.items() if v is not None and k not in result)
        finally:
            if self.graph is not None:
                self._secrets.update(self.graph.secrets())
            if self._session is not None:
                self._secrets.update(self._session.secrets)
                result.setdefault('round_trips', self._session.round_trips)
                result.setdefault('exchange_sessions', self._session.sessions_used)
        # Like win_powershell: the task's own arguments, minus every secret, stand for the invocation.
        result['invocation'] = {'module_args': dict(self._task.args)}
        secrets = [s for s in self._secrets if s]
        return remove_values(result, secrets) if secrets else result

    # -- for subclasses ---------------------------------------------------------------

    def execute(self, params):
        raise NotImplementedError

    @property
    def check_mode(self):
        return bool(self._task.check_mode)

    @property
    def diff_mode(self):
        return bool(self._task.diff)

    def principal(self, app_id=None, object_id=None, missing_ok=False):
        return self.graph.service_principal(app_id=app_id, object_id=object_id, missing_ok=missing_ok)

    def exchange_record(self, app_id=None, object_id=None):
        """state=absent with the application gone from Graph: the service principal as Exchange Online records it.

        One read (Get-ServicePrincipal -Identity <app id or object id>, whatever the task's check mode); only a row
        carrying every given id counts (Exchange also resolves an Identity by display name). None when there is none.
        """
        reads, _writes = exchange_record_operations(app_id, object_id)
        answer = self.session().converge(reads, [], check_mode=True)
        if answer.failed:
            answer.raise_for_failure()
        return exchange_record_row(answer, app_id, object_id)

    def read_controller_file(self, path):
        """A file on the controller, found like other actions find their files (role files/, playbook dir)."""
        try:
            real = self._find_needle('files', path)
        except AnsibleError:
            # As an OSError the caller's message names the option (mailboxes_file), which Ansible's own does not.
            raise IOError(errno.ENOENT, 'no such file on the controller (looked in the files/ of the role and the playbook too)')
        with open(real, 'rb') as handle:
            return handle.read().decode('utf-8-sig')

    @property
    def show_progress(self):
        """How the session shows a long task's progress: at -v and above, as lines like
        "mailboxes 300/1,000 done (Add-MailboxPermission)" while the task runs; None below -v (the runner then prints none)."""
        if self._display.verbosity < 1:
            return None
        return self._show_progress

    def _show_progress(self, op, done, total):
        what = OPERATIONS[op]['cmdlet'] if op in OPERATIONS else op
        self._display.v('mailboxes {0:,}/{1:,} done ({2})'.format(done, total, what), host=self._host_name)

    def session(self):
        """The Exchange session of this task (settings resolved once, secrets registered)."""
        if self._session is None:
            self._session = ExchangeSession(self, self.connection_settings(self.params), interpreter=self.params.get('powershell_interpreter'),
                                            sessions=self.params.get('exchange_sessions'))
        return self._session

    def connection_settings(self, params):
        auth = params['exchange_auth']
        cloud = resolve_cloud(params.get('cloud') or 'global')
        settings = {'auth': auth, 'environment': cloud.exchange_environment, 'install_module': params['install_module'],
                    'module_scope': params['module_scope'], 'min_version': params.get('min_version')}
        if auth != 'existing_session':
            settings['organization'] = params.get('organization') or self.graph.initial_domain()
        if auth == 'access_token':
            token = params.get('exchange_access_token') or self.graph.exchange_token()
            self._secrets.add(token)
            settings['access_token'] = token
            # A person's token (signed in with sign_in, or supplied) connects with -UserPrincipalName, an app's with -Organization.
            settings['user_principal_name'] = delegated_user(token)
        elif auth in ('certificate_thumbprint', 'certificate_file'):
            if auth == 'certificate_thumbprint' and (params.get('powershell_interpreter') or not is_powershell_shell(self._connection)):
                # Connect-ExchangeOnline's docs: -CertificateThumbprint reads the Windows certificate store (Windows only).
                # A host reached without a PowerShell shell (delegate_to: localhost, ssh to Linux) runs pwsh off Windows.
                raise ConfigError('exchange_auth=certificate_thumbprint works only on a Windows host (it reads the Windows '
                                  'certificate store); this task runs pwsh through a %s connection: use exchange_auth=certificate_file '
                                  'with exchange_certificate_path (a .pfx on the Exchange host) instead'
                                  % (getattr(self._connection, 'transport', None) or 'non-Windows'))
            settings['app_id'] = params.get('exchange_app_id') or params.get('client_id')
            if not settings['app_id']:
                raise ConfigError('exchange_app_id (the admin app that logs in to Exchange with the certificate) is required '
                                  'with exchange_auth=%s' % auth)
            settings['certificate_thumbprint'] = params.get('exchange_certificate_thumbprint')
            settings['certificate_path'] = params.get('exchange_certificate_path')
            settings['certificate_password'] = params.get('exchange_certificate_password')
        elif auth == 'managed_identity':
            settings['managed_identity'] = True
            settings['managed_identity_account_id'] = params.get('exchange_managed_identity_account_id')
        return settings


def delegated_user(token):
    """The userPrincipalName a person's (delegated) Exchange token names, or None for an app's token."""
    try:
        claims = decode_jwt_claims(token)
    except ConfigError:
        return None  # not a JWT: Exchange judges it, as before
    if not signin.is_delegated(claims):
        return None
    upn = signin.person_name(claims)
    if not upn:
        raise ConfigError('the Exchange token is a person\'s (it has scp) but names no upn: Connect-ExchangeOnline -AccessToken needs '
                          '-UserPrincipalName for it; use a token from a work or school account')
    return upn


def record_match(app_id, object_id):
    """The ids an Exchange row must carry to be the given principal's."""
    match = {}
    if app_id:
        match['AppId'] = app_id
    if object_id:
        match['ObjectId'] = object_id
    return match


def exchange_record_operations(app_id, object_id, remove=False):
    """Read the principal by its own ids in Exchange Online; with remove, Remove-ServicePrincipal when it is there."""
    identity = app_id or object_id
    if not identity:
        raise ConfigError('name the application by app_id or object_id')
    reads = [{'op': 'get_service_principal', 'params': {'Identity': identity}}]
    writes = [{'op': 'remove_service_principal', 'params': {'Identity': identity},
               'when': {'read': 0, 'rows': 'some', 'match': record_match(app_id, object_id)}}] if remove else []
    return reads, writes


def principal_rows(answer, index, what):
    """The rows a Get-ServicePrincipal read answered ([] when Exchange has no such entry); other errors raise."""
    return answer.found_rows(index, 'Get-ServicePrincipal %s' % what)


def exchange_record_row(answer, app_id, object_id):
    """{app_id, object_id, display_name, source: exchange} of the row read by exchange_record_operations, or None."""
    for row in principal_rows(answer, 0, app_id or object_id):
        if all((row.get(k) or '').lower() == v.lower() for k, v in record_match(app_id, object_id).items()):
            return {'app_id': (row.get('AppId') or '').lower(), 'object_id': (row.get('ObjectId') or '').lower(),
                    'display_name': row.get('DisplayName'), 'source': 'exchange'}
    return None


def not_known_message(app_id, object_id):
    return ('neither Microsoft Graph nor Exchange Online knows a service principal with %s: nothing to remove (already '
            'removed, or a wrong id or tenant)' % ('app_id %s' % app_id if app_id else 'object_id %s' % object_id))


def fallback_message(app_id, object_id, principal):
    return ('Microsoft Graph has no service principal with %s (the application is gone from Entra ID): removing by Exchange '
            "Online's own record of it (object id %s)" % ('app_id %s' % app_id if app_id else 'object_id %s' % object_id,
                                                          principal['object_id']))


def write_keys(result):
    """(op, key) of every write the runner attempted, in order."""
    return [(r['op'], _fold(r.get('key'))) for r in result.results if r['op_index'] >= result.first_write]


def check_plan(result, expected):
    """Fail loudly when the host did other writes than the controller's plan for the same before-state."""
    planned = [(op, _fold(key)) for op, key in expected]
    done = write_keys(result)
    extra = [w for w in done if w not in set(planned)]
    missing = [w for w in planned if w not in set(done)]
    if extra or (missing and not result.stopped and not result.failed):
        raise M365Error('the runner on the host did not do what the plan said for the state it read (a runner/controller '
                        'version mismatch?): unplanned writes %s; planned but not done %s' % (_brief(extra), _brief(missing)))


def _brief(items):
    text = ', '.join('%s %s' % (op, key or '') for op, key in items[:5])
    return (text + ' (and %d more)' % (len(items) - 5)) if len(items) > 5 else (text or 'none')


def _fold(value):
    return value.lower() if isinstance(value, str) else value
