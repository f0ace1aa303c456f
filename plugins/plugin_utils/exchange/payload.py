# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the runner is sent, and the one place its runtime settings are decided.

Every payload carries the connection (with its minimum ExchangeOnlineManagement version and the module rule the
runner repeats when the host's module is missing or too old), the retry settings and the session limits: the
runner keeps no defaults of its own. The actions' options (args.py) offer exactly what is accepted here.
"""

import re

from ansible_collections.m365.mail_oauth.plugins.module_utils import exchange_module
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import runner_protocol
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import InvalidOperation, validate_operations

# Every Exchange Online login method, in the order a settings dict without 'auth' is read: the setting that names
# the method then, and the settings it needs besides organization. args.py offers these names as the
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


def module_payload(auth, min_version=None):
    """The connection's module rule: the lowest ExchangeOnlineManagement the host may load for this login method
    (min_version when given) and what the runner says when the host's module is missing or too old (the doctor's
    rule and words, module_utils/exchange_module.py)."""
    default_min = MIN_VERSION_ACCESS_TOKEN if auth == 'access_token' else MIN_VERSION_DEFAULT
    return {'min_version': str(default_min if min_version is None else min_version), 'module_help': exchange_module.advice(auth, min_version)}


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
    module = module_payload(auth, settings.get('min_version'))
    min_version = module['min_version']
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
        'install_module': bool(settings.get('install_module', False)),
        'module_scope': scope,
    }
    connection.update(module)
    # user_principal_name: with a person's access_token, Connect-ExchangeOnline -UserPrincipalName instead of -Organization.
    for key in ('app_id', 'access_token', 'user_principal_name', 'certificate_thumbprint', 'certificate_path', 'certificate_password',
                'managed_identity_account_id'):
        if settings.get(key):
            connection[key] = str(settings[key])
    return connection


def retry_payload(retry=None):
    """The payload's 'retry' part: DEFAULT_RETRY with the given keys replaced."""
    return dict(DEFAULT_RETRY, **(retry or {}))


def runtime_payload(sessions=None, retry=None):
    """The payload's runtime settings ('sessions' and 'retry'), which every payload carries.

    sessions is a number (checked as exchange_sessions is) or a sessions_payload() dict."""
    return {'sessions': sessions if isinstance(sessions, dict) else sessions_payload(sessions), 'retry': retry_payload(retry)}


def build_payload(connection, operations, retry=None, sessions=None, progress=False):
    """The whole payload: connection (from connection_payload), the checked operations and the runtime settings."""
    try:
        checked = validate_operations(operations)
    except InvalidOperation as exc:
        raise ConfigError(str(exc))
    payload = {'version': runner_protocol.PROTOCOL_VERSION, 'connection': connection, 'operations': checked}
    payload.update(runtime_payload(sessions, retry))
    if progress:
        payload['progress'] = True
    return payload
