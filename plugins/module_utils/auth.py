# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who the collection runs as, and the tokens it gets for that identity.

Credentials come from the task's options first; only when the task names no
credential at all are the environment variables read, so that an AWX
credential (which exports all of them) never collides with an explicit option.
"""

import base64
import json
import os
import re

from ansible_collections.m365.mail_oauth.plugins.module_utils import signin
from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import CLOUDS, check_endpoints, resolve_cloud
from ansible_collections.m365.mail_oauth.plugins.module_utils.credential_handoff import secret_from_env_file
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import AuthError, ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import (
    SSL_ERRORS, failed_url, unreachable_message, unreachable_reason)
from ansible_collections.m365.mail_oauth.plugins.module_utils.retry import Backoff, connect_backoff

try:
    import msal
    HAS_MSAL = True
    MSAL_IMPORT_ERROR = None
except ImportError as exc:
    msal = None
    HAS_MSAL = False
    MSAL_IMPORT_ERROR = exc

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

GUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
DOMAIN_RE = re.compile(r'^(?=.{3,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$')

# Option -> environment variables, first found wins. The AZURE_* names are the
# ones azure.azcollection, azure-identity and AWX's Azure credential export.
ENV_FALLBACKS = {
    'tenant_id': ('AZURE_TENANT_ID', 'AZURE_TENANT'),
    'client_id': ('AZURE_CLIENT_ID',),
    'client_secret': ('AZURE_CLIENT_SECRET', 'AZURE_SECRET'),
    'client_certificate_path': ('AZURE_CLIENT_CERTIFICATE_PATH',),
    'client_certificate_password': ('AZURE_CLIENT_CERTIFICATE_PASSWORD',),
    'access_token': ('M365_ACCESS_TOKEN',),
    'token_cache': ('M365_TOKEN_CACHE',),
}
# Every way to authenticate, in the order they are tried: kind -> the option that selects it. A person signed in by
# m365.mail_oauth.sign_in is kind 'person' (token_cache); a token supplied from outside is 'access_token', whether an
# app's (roles) or a person's (scp).
AUTH_KINDS = (
    ('access_token', 'access_token'),
    ('managed_identity', 'managed_identity'),
    ('person', 'token_cache'),
    ('secret', 'client_secret'),
    ('certificate', 'client_certificate_path'),
)
CREDENTIAL_OPTIONS = tuple(option for _kind, option in AUTH_KINDS)

# What a failed token request most often means, by AADSTS code.
AADSTS_HINTS = {
    'AADSTS700016': 'the client_id is not an application in this tenant; check client_id and tenant_id',
    'AADSTS7000215': 'the client secret is wrong; copy the secret value (not its id) into client_secret',
    'AADSTS7000222': 'the client secret has expired; add a new one (m365.mail_oauth.app_secret) and use it',
    'AADSTS700027': 'the certificate is not registered on the application, or the assertion is malformed',
    'AADSTS90002': 'the tenant was not found; check tenant_id and cloud',
    'AADSTS500011': 'the resource is not in the tenant; check cloud',
    'AADSTS50049': 'the authority is unknown; check authority_url and cloud',
}


def decode_jwt_claims(token):
    """The claims of a JWT, without checking its signature (only to read tid/aud/roles)."""
    try:
        payload = token.split('.')[1]
        payload += '=' * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload.encode('ascii')).decode('utf-8'))
    except (IndexError, ValueError, UnicodeError):
        raise ConfigError('access_token is not a JWT; pass the raw access token (eyJ...), without "Bearer "')


def _env(names, environ):
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return None


class SignInCredentials:
    """How the collection signs in (the admin app, a person, a managed identity or a supplied token): the resolved
    identity and where to reach its cloud. The mail app's own client secrets and certificates, which the collection
    manages, are graph/mail_app_credentials.py's."""

    def __init__(self, kind, tenant_id, client_id=None, client_secret=None, certificate_path=None,
                 certificate_password=None, certificate_thumbprint=None, access_token=None,
                 managed_identity_client_id=None, cloud=None, source='options', token_cache=None, username=None, claims=None):
        self.kind = kind
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.certificate_path = certificate_path
        self.certificate_password = certificate_password
        self.certificate_thumbprint = certificate_thumbprint
        self.access_token = access_token
        self.managed_identity_client_id = managed_identity_client_id
        self.cloud = cloud
        self.source = source
        # A person signed in with sign_in: the cache with their tokens, and which account in it.
        self.token_cache = token_cache
        self.username = username
        # The claims of a supplied access_token (read, not verified), to explain a refusal.
        self.claims = claims or {}

    @property
    def delegated(self):
        """True when the calls run as a person (signed in here, or a person's token supplied from outside)."""
        return self.kind == 'person' or signin.is_delegated(self.claims)

    def secrets(self):
        """Values that must never reach output (added to the module's no_log values)."""
        return [v for v in (self.client_secret, self.certificate_password, self.access_token) if v]


def check_tenant_id(value, option='tenant_id'):
    if value and not (GUID_RE.match(value) or DOMAIN_RE.match(value)):
        raise ConfigError(
            "%s '%s' is neither a GUID nor a domain name: use the Directory (tenant) ID shown on the "
            "Entra admin center overview page, or the tenant's domain such as contoso.onmicrosoft.com" % (option, value))


def check_guid(value, option):
    if value and not GUID_RE.match(value):
        raise ConfigError("%s '%s' is not a GUID (expected the form 00000000-0000-0000-0000-000000000000)" % (option, value))


def sign_in_credentials(params, environ=None):
    """Resolve the identity from task options, then (only if none was given) the environment."""
    environ = os.environ if environ is None else environ
    explicit = [name for name in CREDENTIAL_OPTIONS if params.get(name)]
    values = dict((name, params.get(name)) for name in ENV_FALLBACKS)
    values['managed_identity'] = params.get('managed_identity')
    source = 'options'
    if not explicit:
        source = 'environment'
        for name, env_names in ENV_FALLBACKS.items():
            # A secret may come as a file named by a variable too (credential_handoff.ENV_SECRET_FILES, AWX).
            values[name] = values[name] or _env(env_names, environ) or secret_from_env_file(name, environ)
    else:
        # Identity fields still fall back, credentials do not.
        for name in ('tenant_id', 'client_id'):
            values[name] = values[name] or _env(ENV_FALLBACKS[name], environ)

    # Before anything else: where the credentials would go, decided by the environment, not by the task.
    check_endpoints(params, environ)
    cloud = resolve_cloud(params.get('cloud') or 'global', params.get('authority_url'), params.get('graph_url'))
    check_tenant_id(values['tenant_id'])
    check_guid(values['client_id'], 'client_id')

    if values['access_token']:
        claims = decode_jwt_claims(values['access_token'])
        return SignInCredentials('access_token', values['tenant_id'] or claims.get('tid'),
                                 client_id=values['client_id'] or claims.get('appid') or claims.get('azp'),
                                 access_token=values['access_token'], cloud=cloud, source=source, claims=claims)
    if values['token_cache']:
        if not values['tenant_id']:
            raise ConfigError('tenant_id is required with token_cache: the tenant the person signed in to')
        # The person's public client: only the task's own client_id, never AZURE_CLIENT_ID (the admin app's).
        return SignInCredentials('person', values['tenant_id'], client_id=params.get('client_id') or signin.DEFAULT_PUBLIC_CLIENT_ID,
                                 cloud=cloud, source=source, token_cache=values['token_cache'], username=params.get('username'))
    if values['managed_identity']:
        return SignInCredentials('managed_identity', values['tenant_id'], client_id=values['client_id'],
                                 managed_identity_client_id=params.get('managed_identity_client_id'), cloud=cloud, source=source)
    kind = 'secret' if values['client_secret'] else 'certificate' if values['client_certificate_path'] else None
    if kind is None:
        raise ConfigError(
            'no credentials: set one of client_secret, client_certificate_path, access_token, managed_identity or token_cache '
            '(a person signed in with m365.mail_oauth.sign_in), or the environment variables AZURE_CLIENT_SECRET or '
            'AZURE_CLIENT_CERTIFICATE_PATH with AZURE_CLIENT_ID and AZURE_TENANT_ID')
    missing = [name for name in ('tenant_id', 'client_id') if not values[name]]
    if missing:
        raise ConfigError('%s required with a client %s: set the option or AZURE_%s' % (
            ' and '.join(missing), kind, missing[0].upper()))
    return SignInCredentials(kind, values['tenant_id'], client_id=values['client_id'], client_secret=values['client_secret'],
                             certificate_path=values['client_certificate_path'],
                             certificate_password=values['client_certificate_password'],
                             certificate_thumbprint=params.get('client_certificate_thumbprint'), cloud=cloud, source=source)


def load_certificate_credential(path, password=None, thumbprint=None):
    """msal's certificate credential from a PEM file holding the private key and the certificate."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise ConfigError('client_certificate_path %s cannot be read: %s' % (path, exc.strerror or exc))
    if b'PRIVATE KEY-----' not in data:
        raise ConfigError('client_certificate_path %s has no PEM private key: give a PEM file with the private key '
                          'and the certificate (convert a PFX with: openssl pkcs12 -in app.pfx -nodes -out app.pem)' % path)
    if not HAS_CRYPTOGRAPHY:
        raise ConfigError('the python library cryptography is needed for certificate credentials')
    password_bytes = password.encode('utf-8') if password else None
    try:
        key = serialization.load_pem_private_key(data, password=password_bytes)
    except (TypeError, ValueError):
        raise ConfigError('the private key in client_certificate_path %s cannot be loaded: wrong or missing '
                          'client_certificate_password?' % path)
    if not thumbprint:
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise ConfigError('client_certificate_path %s has no certificate: append the PEM certificate to the file, '
                              'or set client_certificate_thumbprint' % path)
        thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # nosec - SHA-1 is what Entra ID names keys by
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {'private_key': key_pem.decode('ascii'), 'thumbprint': thumbprint}


def _ssl_reason(exc):
    text = str(exc)
    marker = 'certificate verify failed: '
    return text[text.index(marker):].split(' (_ssl', 1)[0] if marker in text else text


def _describe_msal_error(result, credentials):
    description = result.get('error_description') or result.get('error') or 'unknown error'
    first_line = description.splitlines()[0]
    code = first_line.split(':', 1)[0].strip() if first_line.startswith('AADSTS') else result.get('error')
    hint = AADSTS_HINTS.get(code)
    msg = 'token request for client %s in tenant %s failed: %s' % (credentials.client_id, credentials.tenant_id, first_line)
    return msg + ('; ' + hint if hint else ''), code


class TokenProvider:
    """Access tokens for one identity, one resource at a time (msal caches them in-process)."""

    def __init__(self, credentials, session, retry_timeout=300, backoff_factory=None, announce=None, connect_backoff_factory=None):
        self.credentials = credentials
        self.session = session
        self.retry_timeout = retry_timeout
        self.backoff_factory = backoff_factory or (lambda: Backoff(min(retry_timeout, 120), announce=announce))
        self.connect_backoff_factory = connect_backoff_factory or connect_backoff
        self._client = None

    def _msal_client(self):
        if self._client is not None:
            return self._client
        if not HAS_MSAL:
            raise ConfigError('the python library msal is required (pip install msal): %s' % MSAL_IMPORT_ERROR)
        creds = self.credentials
        if creds.kind == 'managed_identity':
            identity = (msal.UserAssignedManagedIdentity(client_id=creds.managed_identity_client_id)
                        if creds.managed_identity_client_id else msal.SystemAssignedManagedIdentity())
            self._client = msal.ManagedIdentityClient(identity, http_client=self.session)
            return self._client
        if creds.kind == 'secret':
            credential = creds.client_secret
        else:
            credential = load_certificate_credential(creds.certificate_path, creds.certificate_password,
                                                     creds.certificate_thumbprint)
        known_cloud = creds.cloud.login in [c.login for c in CLOUDS.values()]
        self._client = msal.ConfidentialClientApplication(
            creds.client_id, client_credential=credential,
            authority='%s/%s' % (creds.cloud.login, creds.tenant_id),
            http_client=self.session,
            # A private authority (a sandbox, a proxy) is not in Microsoft's discovery list.
            instance_discovery=None if known_cloud else False,
        )
        return self._client

    def person(self):
        """The signed-in person's session (kind 'person'): tokens from the sign_in action's cache."""
        if self._client is None:
            creds = self.credentials
            known_cloud = creds.cloud.login in [c.login for c in CLOUDS.values()]
            self._client = signin.PersonSession(creds.token_cache, '%s/%s' % (creds.cloud.login, creds.tenant_id), creds.client_id,
                                                self.session, username=creds.username,
                                                instance_discovery=None if known_cloud else False)
        return self._client

    def token(self, resource):
        """A bearer token for resource (e.g. https://graph.microsoft.com)."""
        if self.credentials.kind == 'access_token':
            return self.credentials.access_token
        if self.credentials.kind == 'person':
            return self.person().token(resource)['access_token']
        backoff = self.backoff_factory()
        connect = None
        while True:
            try:
                client = self._msal_client()
                if self.credentials.kind == 'managed_identity':
                    result = client.acquire_token_for_client(resource=resource)
                else:
                    result = client.acquire_token_for_client(scopes=[resource.rstrip('/') + '/.default'])
            except ValueError as exc:
                # msal raises ValueError for an authority it cannot discover (wrong host, tenant or TLS).
                result = {'error': 'authority', 'error_description': str(exc), 'retryable': False}
            except SSL_ERRORS as exc:
                # A certificate problem does not heal by itself: say how to fix it instead of retrying.
                raise AuthError('TLS verification of the login endpoint %s failed (%s): set ca_path to the CA that signed it '
                                '(validate_certs=false only for tests)' % (self.credentials.cloud.login, _ssl_reason(exc)),
                                code='tls')
            except Exception as exc:  # pylint: disable=broad-except
                unreachable = unreachable_reason(exc)
                if unreachable:
                    # A refused connection or an unknown host: seconds of tries, then the host and the fix.
                    connect = connect or self.connect_backoff_factory()
                    if connect.wait():
                        continue
                    raise AuthError(unreachable_message('token request to the login endpoint', failed_url(exc, self.credentials.cloud.login),
                                                        unreachable, connect.attempt, connect.elapsed), code=unreachable)
                # Other network failures (a reset, a timeout) arrive as requests' exceptions; they are worth another try.
                result = {'error': 'connection', 'error_description': 'token endpoint unreachable: %s' % exc,
                          'retryable': True}
            if 'access_token' in result:
                return result['access_token']
            msg, code = _describe_msal_error(result, self.credentials)
            retryable = result.get('retryable') or result.get('error') in ('temporarily_unavailable', 'server_error')
            if retryable and backoff.wait(reason='the login endpoint %s: %s' % (self.credentials.cloud.login, msg)):
                continue
            raise AuthError(msg, code=code)
