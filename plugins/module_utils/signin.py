# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A person signed in with the device code flow, and the tokens later tasks reuse.

One sign-in serves a whole playbook run: the tokens (refresh tokens included) live in an msal token cache file,
mode 0600, and every reader and writer holds an exclusive lock on ``<cache>.lock`` (fcntl) while it looks for a
token, so a second fork or tenant waiting for the first one's prompt finds its sign-in instead of prompting again.

The default public client and the scopes it asks for, with their sources (docs/permissions.md says the same):
- DEFAULT_PUBLIC_CLIENT_ID is Microsoft Azure CLI's application id, listed by Microsoft Learn among the first-party
  applications ("Verify first-party Microsoft applications in sign-in reports"); it is in every tenant, needs no app
  registration, and is the client of ``az login`` / ``az account get-access-token``, so one sign-in gives tokens for
  Microsoft Graph and Exchange Online alike. ``client_id`` picks another (an app of your own with public client flows).
- The scopes are ``<resource>/.default`` for each resource (Microsoft Learn, "Scopes and permissions in the Microsoft
  identity platform": /.default asks for the permissions the client holds on that resource), plus what msal always
  adds: openid, profile, offline_access (the refresh token).
"""

import contextlib
import os
import re

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import AuthError, ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows controllers are not supported by Ansible
    fcntl = None

try:
    import msal
except ImportError:  # pragma: no cover - the caller reports it
    msal = None

GUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
DEFAULT_PUBLIC_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
DEFAULT_TOKEN_CACHE = '~/.ansible/m365_mail_oauth/token_cache.json'

# Microsoft Entra built-in roles a person may need, by template id (Microsoft Learn, "Microsoft Entra built-in roles"):
# the token's wids claim names them by these ids. The one table of them (the doctor judges wids by it too).
GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10'
APPLICATION_ADMINISTRATOR = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3'
CLOUD_APPLICATION_ADMINISTRATOR = '158c047a-c907-4556-b7ef-446551a6b5f7'
PRIVILEGED_ROLE_ADMINISTRATOR = 'e8611ab8-c189-46e8-94e1-60213ab1f814'
EXCHANGE_ADMINISTRATOR = '29232cdf-9323-42fd-ade2-1d097af3e4de'
GLOBAL_READER = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451'
ROLE_TEMPLATES = {
    GLOBAL_ADMINISTRATOR: 'Global Administrator',
    APPLICATION_ADMINISTRATOR: 'Application Administrator',
    CLOUD_APPLICATION_ADMINISTRATOR: 'Cloud Application Administrator',
    PRIVILEGED_ROLE_ADMINISTRATOR: 'Privileged Role Administrator',
    EXCHANGE_ADMINISTRATOR: 'Exchange Administrator',
    GLOBAL_READER: 'Global Reader',
}
ROLE_NAMES = sorted(ROLE_TEMPLATES.values())

# The Graph permission a denied call needed (graph_client.needed_permission) -> the directory roles of which a person
# must hold one (the "least privileged role" of each Graph API page, and Global Administrator).
APP_ADMINS = ('Application Administrator', 'Cloud Application Administrator', 'Global Administrator')
ROLES_FOR_PERMISSION = {
    'Application.ReadWrite.All': APP_ADMINS,
    'AppRoleAssignment.ReadWrite.All': ('Privileged Role Administrator', 'Global Administrator'),
    'DelegatedPermissionGrant.ReadWrite.All': APP_ADMINS + ('Privileged Role Administrator',),
    'RoleManagement.ReadWrite.Directory': ('Privileged Role Administrator', 'Global Administrator'),
}
# The delegated scope that covers every directory permission of the person.
AS_USER_ALL = 'Directory.AccessAsUser.All'

WAY_OUT = ('supply a token instead (access_token from `az account get-access-token --resource https://graph.microsoft.com`, '
           'exchange_access_token from `az account get-access-token --resource https://outlook.office365.com`), or run as an '
           'app credential (client_secret or client_certificate_path)')
# What a failed sign-in means, by the token endpoint's error or AADSTS code.
SIGNIN_HINTS = {
    'authorization_declined': 'the person declined the sign-in at the verification page; nothing was changed. Run again and approve it',
    'expired_token': 'the code was not entered in time; nothing was changed. Run again and enter the code within the minutes it names',
    'AADSTS53003': 'Conditional Access in this tenant blocks the device code flow (an Authentication flows policy): ' + WAY_OUT,
    'AADSTS530033': 'Conditional Access requires a managed device, which a device code sign-in cannot show: ' + WAY_OUT,
    'AADSTS50199': 'the sign-in needs an interactive confirmation the device code flow cannot give: ' + WAY_OUT,
    'AADSTS700016': 'client_id is not an application this tenant knows; leave client_id unset for the default public client',
    'AADSTS7000218': 'client_id is a confidential application; allow public client flows on it, or leave client_id unset',
}


def role_names(template_ids):
    """Readable names of the wids claim's template ids (unknown ids as they are)."""
    return sorted(ROLE_TEMPLATES.get(t, t) for t in template_ids or [])


def is_delegated(claims):
    """A person's token carries scp (and no roles)."""
    return 'scp' in (claims or {})


def person_name(claims):
    """The person a delegated token names (upn; unique_name in older v1 tokens, preferred_username in v2), or None."""
    claims = claims or {}
    return claims.get('upn') or claims.get('unique_name') or claims.get('preferred_username')


def who(claims):
    """Whom to name in a message: the person's name, else their object id."""
    return person_name(claims) or (claims or {}).get('oid')


def scopes(claims):
    """The delegated permissions (scp, space separated) of a token."""
    scp = (claims or {}).get('scp')
    return scp.split() if isinstance(scp, str) else []


def holds_scope(held, scope):
    """Whether the scopes held allow what scope allows (Directory.AccessAsUser.All stands for the person's whole access)."""
    return scope in held or AS_USER_ALL in held


def explain_denied(claims, permission):
    """Why Graph refused a person's call that needs permission, in the words of the app checks: the scope the token
    lacks, or the directory role the person lacks."""
    person = who(claims)
    held = scopes(claims)
    name = permission.split(' ', 1)[0]
    if not holds_scope(held, name):
        return ('the token of %s lacks the Graph delegated permission (scope) %s (it has %s; docs/permissions.md lists what each '
                'playbook needs): sign in through a client that asks for it, or use an app credential' % (person, name, ', '.join(held) or 'none'))
    roles = ROLES_FOR_PERMISSION.get(name)
    if roles:
        held = ', '.join(role_names(claims.get('wids'))) or 'none'
        return ('%s lacks an Entra role that allows this: one of %s (holds %s; docs/permissions.md lists what each playbook '
                'needs); assign one in the Entra admin center, Roles and administrators' % (person, ', '.join(roles), held))
    return 'the token of %s has the scope %s, yet Graph refused the call' % (person, name)


class TokenCacheFile(object):
    """An msal token cache in a 0600 file, read and written only under an exclusive lock on <path>.lock."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))

    @contextlib.contextmanager
    def locked(self):
        if fcntl is None or msal is None:
            raise ConfigError('a sign-in token cache needs a POSIX controller and the python library msal')
        directory = os.path.dirname(self.path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            lock_fd = os.open(self.path + '.lock', os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError('token_cache %s cannot be used: %s; choose a writable path' % (self.path, exc.strerror or exc))
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            cache = msal.SerializableTokenCache()
            if os.path.exists(self.path):
                self._check_private()
                with open(self.path, 'r') as handle:
                    text = handle.read()
                if text.strip():
                    try:
                        cache.deserialize(text)
                    except ValueError:
                        raise ConfigError('token_cache %s is not an msal token cache; delete it and sign in again' % self.path)
            yield cache
            if cache.has_state_changed:
                self._write(cache.serialize())
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)

    def _check_private(self):
        mode = os.stat(self.path).st_mode & 0o777
        if mode & 0o077:
            raise ConfigError('token_cache %s is readable by others (mode %o): it holds refresh tokens; chmod 600 it or delete it'
                              % (self.path, mode))

    def _write(self, text):
        tmp = '%s.%d.tmp' % (self.path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
        os.replace(tmp, self.path)


class PersonSession(object):
    """Tokens of one signed-in person for one tenant, from the cache; a device code sign-in when prompt is given."""

    def __init__(self, cache_path, authority, client_id, http_client, username=None, instance_discovery=None):
        self.cache = TokenCacheFile(cache_path)
        self.authority = authority
        self.client_id = client_id or DEFAULT_PUBLIC_CLIENT_ID
        self.http_client = http_client
        self.username = username
        self.instance_discovery = instance_discovery
        self.signed_in = False

    def _app(self, cache):
        try:
            return msal.PublicClientApplication(self.client_id, authority=self.authority, token_cache=cache,
                                                http_client=self.http_client, instance_discovery=self.instance_discovery)
        except ValueError as exc:
            raise AuthError('the login endpoint %s cannot be used: %s' % (self.authority, exc), code='authority')

    def _account(self, app):
        """The cached person of this tenant: by tenant id (the account's realm) or the domain of their name. Another
        tenant's person is never taken; with a domain tenant_id and a person of another domain, only a lone account is."""
        accounts = app.get_accounts(username=self.username) if self.username else app.get_accounts()
        tenant = self.authority.rstrip('/').rsplit('/', 1)[-1].lower()
        mine = [a for a in accounts if tenant in ((a.get('realm') or '').lower(), (a.get('username') or '').split('@')[-1].lower())]
        if not mine and not GUID_RE.match(tenant) and len(accounts) == 1:
            mine = accounts
        return mine[0] if mine else None

    def token(self, resource, prompt=None, timeout=None):
        """An access token for resource (https://graph.microsoft.com); signs in first when the cache has none and a
        prompt(message) is given, else fails saying how to sign in."""
        scopes = [resource.rstrip('/') + '/.default']
        with self.cache.locked() as cache:
            app = self._app(cache)
            account = self._account(app)
            result = app.acquire_token_silent_with_error(scopes, account=account) if account else None
            if result and 'access_token' in result:
                return result
            if prompt is None and result:
                # Signed in, but this token cannot be had (a resource the client may not ask for, a revoked refresh token).
                raise AuthError(self._describe(result), code=_code(result))
            if prompt is None:
                raise AuthError('no signed-in person%s in token_cache %s for %s: run m365.mail_oauth.sign_in first (with the same '
                                'token_cache and tenant_id)' % (' ' + self.username if self.username else '', self.cache.path,
                                                                self.authority), code='not_signed_in')
            flow = app.initiate_device_flow(scopes=scopes)
            if 'user_code' not in flow:
                raise AuthError(self._describe(flow), code=_code(flow))
            if timeout:
                flow['expires_at'] = min(flow['expires_at'], flow['expires_at'] - flow['expires_in'] + timeout)
            prompt(flow['message'])
            result = app.acquire_token_by_device_flow(flow)
            if 'access_token' not in result:
                raise AuthError(self._describe(result), code=_code(result))
            self.signed_in = True
            return result

    def _describe(self, result):
        description = (result.get('error_description') or result.get('error') or 'unknown error').splitlines()[0]
        code = _code(result)
        hint = SIGNIN_HINTS.get(code) or SIGNIN_HINTS.get(result.get('error'))
        return 'device code sign-in to %s failed: %s%s' % (self.authority, description, '; ' + hint if hint else '')


def _code(result):
    description = result.get('error_description') or ''
    return description.split(':', 1)[0] if description.startswith('AADSTS') else result.get('error')


def claims_summary(claims):
    """What may be shown about a person's token: who, which tenant, which roles and scopes (no token)."""
    return {
        'username': person_name(claims),
        'object_id': claims.get('oid'),
        'tenant_id': claims.get('tid'),
        'client_id': claims.get('appid') or claims.get('azp'),
        'roles': role_names(claims.get('wids')),
        'scopes': sorted(scopes(claims)),
    }
