"""The login service: OIDC discovery, JWKS, the client-credentials token
endpoint with secrets and certificate assertions, a person's sign-in (the
device authorization grant, refresh tokens, delegated tokens), and token
verification for the services that consume the tokens.
"""

import base64
import datetime
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography import x509

from . import catalog, pki
from .objects import parse_iso

CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
# Where the person enters the code, as Microsoft's device authorization response names it.
VERIFICATION_URI = 'https://microsoft.com/devicelogin'
OIDC_SCOPES = ('openid', 'profile', 'offline_access', 'email')
# User codes: upper-case letters and digits without look-alikes (the length and alphabet are weak: observed, not documented).
USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'


@dataclass
class DeviceFlow:
    """One device authorization request, from /devicecode until a token is redeemed or it expires."""

    device_code: str
    user_code: str
    tenant_id: str
    client_id: str
    scope: str
    expires_at: float
    interval: int
    last_poll: float = 0.0
    # pending -> approved | declined | blocked (Conditional Access); redeemed flows are removed.
    state: str = 'pending'
    person_id: str = None


class TokenError(Exception):
    """An AADSTS answer of the token endpoint."""

    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


class InvalidToken(Exception):
    """A bearer token a resource must refuse; the message is Graph's wording."""


def _aadsts(status, error, code, text):
    return TokenError(status, error, code, 'AADSTS%d: %s' % (code, text))


def _application(tenant, client_id):
    """The tenant's application a token request names by client_id (AADSTS900144 without one, 700016 unknown)."""
    if not client_id:
        raise _aadsts(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.")
    app = tenant.app_by('appId', client_id)
    if app is None:
        raise _aadsts(400, 'unauthorized_client', 700016,
                      "Application with identifier '%s' was not found in the directory '%s'. This can happen if the "
                      "application has not been installed by the administrator of the tenant or consented to by any user "
                      "in the tenant. You may have sent your authentication request to the wrong tenant." % (client_id, tenant.domain))
    return app


def _unknown_resource(tenant, resource):
    return _aadsts(400, 'invalid_resource', 500011,
                   'The resource principal named %s was not found in the tenant named %s. This can happen if the '
                   'application has not been installed by the administrator of the tenant or consented to by any user '
                   'in the tenant. You might have sent your authentication request to the wrong tenant.' % (resource, tenant.domain))


def error_body(exc, correlation_id):
    trace_id = str(uuid.uuid4())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%SZ')
    return {
        'error': exc.error,
        'error_description': '%s Trace ID: %s Correlation ID: %s Timestamp: %s' % (exc.description, trace_id, correlation_id, stamp),
        'error_codes': [exc.code],
        'timestamp': stamp,
        'trace_id': trace_id,
        'correlation_id': correlation_id,
        'error_uri': 'https://login.microsoftonline.com/error?code=%d' % exc.code,
    }


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class TokenService:
    def __init__(self, directory, signing_key, signing_cert, base_url, settings):
        self.directory = directory
        self.settings = settings
        self.signing_key = signing_key
        self.signing_cert = signing_cert
        self.kid = pki.b64url(bytes.fromhex(pki.sha1_thumbprint(pki.cert_der(signing_cert))))
        self.base_url = base_url
        # A person's sign-in state: device flows by device code, refresh tokens -> (tenant id, client id, person id).
        self.sessions_lock = threading.Lock()
        self.device_flows = {}
        self.refresh_tokens = {}

    def reset_sessions(self):
        with self.sessions_lock:
            self.device_flows.clear()
            self.refresh_tokens.clear()

    # Discovery -------------------------------------------------------------

    def _tenant_or_error(self, key):
        tenant = self.directory.tenant(key)
        if tenant is None:
            raise _aadsts(400, 'invalid_request', 90002,
                          "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud." % key)
        return tenant

    def openid_configuration(self, tenant_key):
        with self.directory.lock:
            tid = self._tenant_or_error(tenant_key).tenant_id
        root = '%s/%s' % (self.base_url, tid)
        return {
            'token_endpoint': root + '/oauth2/v2.0/token',
            'token_endpoint_auth_methods_supported': ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
            'jwks_uri': root + '/discovery/v2.0/keys',
            'response_modes_supported': ['query', 'fragment', 'form_post'],
            'subject_types_supported': ['pairwise'],
            'id_token_signing_alg_values_supported': ['RS256'],
            'response_types_supported': ['code', 'id_token', 'code id_token', 'id_token token'],
            'scopes_supported': ['openid', 'profile', 'email', 'offline_access'],
            'issuer': root + '/v2.0',
            'request_uri_parameter_supported': False,
            'userinfo_endpoint': self.base_url + '/oidc/userinfo',
            'authorization_endpoint': root + '/oauth2/v2.0/authorize',
            'device_authorization_endpoint': root + '/oauth2/v2.0/devicecode',
            'http_logout_supported': True,
            'frontchannel_logout_supported': True,
            'end_session_endpoint': root + '/oauth2/v2.0/logout',
            'claims_supported': ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'ver', 'oid', 'roles'],
            'tenant_region_scope': 'NA',
            'cloud_instance_name': 'microsoftonline.com',
        }

    def jwks(self):
        return {'keys': [pki.rsa_jwk(self.signing_key.public_key(), self.kid, self.signing_cert)]}

    # Token endpoint --------------------------------------------------------

    def issue(self, tenant_key, form):
        """Handle one token request (form: dict of str); return (response dict, outcome)."""
        grant = form.get('grant_type')
        if grant == DEVICE_CODE_GRANT:
            return self._redeem_device_code(tenant_key, form)
        if grant == 'refresh_token':
            return self._redeem_refresh_token(tenant_key, form)
        with self.directory.lock:
            tenant = self._tenant_or_error(tenant_key)
            if grant != 'client_credentials':
                raise _aadsts(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.')
            client_id = form.get('client_id', '')
            app = _application(tenant, client_id)
            if form.get('client_assertion'):
                self._check_assertion(tenant, app, form)
                acr = '2'
            elif form.get('client_secret'):
                self._check_secret(tenant, app, form['client_secret'])
                acr = '1'
            else:
                raise _aadsts(401, 'invalid_client', 7000218,
                              "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
            client_sp = tenant.sp_by_app_id(app['appId'])
            if client_sp is None:
                raise _aadsts(400, 'invalid_client', 7000229,
                              'The client application %s is missing service principal in the tenant %s.' % (app['appId'], tenant.tenant_id))
            if not client_sp.get('accountEnabled', True):
                raise _aadsts(400, 'unauthorized_client', 7000112, "Application '%s'(%s) is disabled." % (app['appId'], app.get('displayName')))
            resource, resource_sp = self._resource(tenant, form.get('scope', ''))
            roles = tenant.roles_granted(client_sp['id'], resource_sp)
            claims = self._claims(tenant, app, client_sp, resource, roles, acr)
        lifetime = claims['exp'] - claims['iat']
        return {'token_type': 'Bearer', 'expires_in': lifetime, 'ext_expires_in': lifetime, 'access_token': self.sign(claims)}

    def sign(self, claims):
        return jwt.encode(claims, self.signing_key, algorithm='RS256', headers={'typ': 'JWT', 'kid': self.kid, 'x5t': self.kid})

    def mint(self, tenant, app, resource, roles=None, lifetime=None, iat_offset=0):
        """A token as the endpoint would issue it, for tests (control API); caller holds the lock."""
        client_sp = tenant.sp_by_app_id(app['appId'])
        resource_sp = tenant.sp_by_resource(resource)
        if client_sp is None or resource_sp is None:
            raise ValueError('client or resource service principal missing')
        if roles is None:
            roles = tenant.roles_granted(client_sp['id'], resource_sp)
        claims = self._claims(tenant, app, client_sp, resource.rstrip('/'), roles, '1', lifetime)
        for name in ('iat', 'nbf', 'exp'):
            claims[name] += iat_offset
        return self.sign(claims)

    def _resource(self, tenant, scope):
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith('/.default'):
            raise _aadsts(400, 'invalid_scope', 1002012,
                          "The provided value for scope %s is not valid. Client credential flows must have a scope value with "
                          "/.default suffixed to the resource identifier (application ID URI)." % scope)
        resource = scopes[0][:-len('/.default')]
        resource_sp = tenant.sp_by_resource(resource)
        if resource_sp is None:
            raise _unknown_resource(tenant, resource)
        return resource.rstrip('/'), resource_sp

    def _v1_claims(self, tenant, resource, lifetime=None, **more):
        """What every v1.0 access token of the tenant carries, an app's or a person's, with more."""
        now = int(time.time())
        claims = {
            'aud': resource,
            'iss': 'https://sts.windows.net/%s/' % tenant.tenant_id,
            'iat': now,
            'nbf': now,
            'exp': now + int(self.settings['token_lifetime'] if lifetime is None else lifetime),
            'tid': tenant.tenant_id,
            'uti': pki.b64url(uuid.uuid4().bytes),
            'ver': '1.0',
        }
        claims.update(more)
        return claims

    def _claims(self, tenant, app, client_sp, resource, roles, acr, lifetime=None):
        claims = self._v1_claims(tenant, resource, lifetime, app_displayname=app.get('displayName'), appid=app['appId'], appidacr=acr,
                                 azp=app['appId'], idp='https://sts.windows.net/%s/' % tenant.tenant_id, idtyp='app',
                                 oid=client_sp['id'], sub=client_sp['id'])
        if roles:
            claims['roles'] = roles
        return claims

    @staticmethod
    def _check_secret(tenant, app, secret):
        now = _now()
        matched = []
        for cred in app.get('passwordCredentials') or []:
            stored = tenant.secrets.get(cred['keyId'])
            if stored is not None and hmac.compare_digest(stored.encode('utf-8'), secret.encode('utf-8')):
                matched.append(cred)
        valid = [c for c in matched if parse_iso(c['startDateTime']) <= now < parse_iso(c['endDateTime'])]
        if valid:
            return
        if matched:
            raise _aadsts(401, 'invalid_client', 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal "
                          "to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate "
                          "credentials for added security: https://aka.ms/certCreds." % app['appId'])
        raise _aadsts(401, 'invalid_client', 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the "
                      "client secret value, not the client secret ID, for a secret added to app '%s'." % app['appId'])

    def _check_assertion(self, tenant, app, form):
        if form.get('client_assertion_type') != CLIENT_ASSERTION_TYPE:
            raise _aadsts(400, 'invalid_request', 50027, "Invalid JWT token. The client_assertion_type must be '%s'." % CLIENT_ASSERTION_TYPE)
        assertion = form['client_assertion']
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            raise _aadsts(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.') from None
        if header.get('alg') not in ('RS256', 'PS256'):
            raise _aadsts(401, 'invalid_client', 5002738, "Invalid JWT token. '%s' is not a supported signature algorithm." % header.get('alg'))
        cert, thumbprint = self._find_certificate(app, header)
        if cert is None:
            raise _aadsts(401, 'invalid_client', 700027, "Client assertion contains an invalid signature. [Reason - The key was not found., "
                          "Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph "
                          "to see configured keys for app Id '%s'.]" % (thumbprint, app['appId']))
        root = '%s/%s' % (self.base_url, tenant.tenant_id)
        audiences = [root + '/oauth2/v2.0/token', root + '/oauth2/token', root + '/v2.0',
                     '%s/%s/oauth2/v2.0/token' % (self.base_url, tenant.domain)]
        try:
            claims = jwt.decode(assertion, cert.public_key(), algorithms=['RS256', 'PS256'], audience=audiences,
                                options={'require': ['exp', 'aud', 'iss', 'sub']}, leeway=300)
        except jwt.ExpiredSignatureError:
            raise _aadsts(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.') from None
        except jwt.InvalidAudienceError:
            raise _aadsts(401, 'invalid_client', 700212, 'No matching federated identity record found for presented assertion audience.') from None
        except jwt.InvalidTokenError:
            raise _aadsts(401, 'invalid_client', 700027, 'Client assertion failed signature validation.') from None
        if claims.get('iss') != app['appId'] or claims.get('sub') != app['appId']:
            raise _aadsts(401, 'invalid_client', 700021, 'Client assertion application identifier doesn\'t match \'client_id\' parameter.')

    @staticmethod
    def _find_certificate(app, header):
        """The app certificate named by the assertion's x5t (SHA-1) or x5t#S256 header."""
        wanted = header.get('x5t#S256') or header.get('x5t') or ''
        padded = wanted + '=' * (-len(wanted) % 4)
        try:
            thumbprint = base64.urlsafe_b64decode(padded.encode('ascii')).hex().upper()
        except ValueError:
            thumbprint = ''
        now = _now()
        for cred in app.get('keyCredentials') or []:
            if (cred.get('usage') or 'Verify') != 'Verify' or not cred.get('key'):
                continue
            der = base64.b64decode(cred['key'])
            if thumbprint in (pki.sha1_thumbprint(der), pki.sha256_thumbprint(der)):
                if not parse_iso(cred['startDateTime']) <= now < parse_iso(cred['endDateTime']):
                    raise _aadsts(401, 'invalid_client', 700027, 'The certificate with identifier used to sign the client assertion is expired on application.')
                return x509.load_der_x509_certificate(der), thumbprint
        return None, thumbprint

    # A person's sign-in ---------------------------------------------------------

    def _public_client(self, tenant, client_id):
        """(display name, {resource app id: scopes of a /.default request}) of a client a person may sign in with."""
        known = catalog.PUBLIC_CLIENTS.get((client_id or '').lower())
        if known is not None:
            return known['displayName'], known['default_scopes']
        app = _application(tenant, client_id)
        if not app.get('isFallbackPublicClient'):
            raise _aadsts(401, 'invalid_client', 7000218,
                          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        scopes = {}
        for entry in app.get('requiredResourceAccess') or []:
            resource_sp = tenant.sp_by_app_id(entry['resourceAppId'])
            by_id = {s['id']: s['value'] for s in (resource_sp or {}).get('oauth2PermissionScopes') or []}
            scopes[entry['resourceAppId']] = [by_id[a['id']] for a in entry.get('resourceAccess') or []
                                              if a.get('type') == 'Scope' and a['id'] in by_id]
        return app.get('displayName'), scopes

    def _requested(self, tenant, scope):
        """(resource URI, resource service principal, requested scope names or None for /.default, OIDC scopes asked)."""
        resource_scopes = [item for item in scope.split() if item not in OIDC_SCOPES]
        oidc = [item for item in scope.split() if item in OIDC_SCOPES]
        if not resource_scopes:
            resource_scopes = ['https://graph.microsoft.com/User.Read']
        resources, names = set(), []
        for item in resource_scopes:
            if '://' in item:
                resource, _sep, name = item.rpartition('/')
            else:
                # A bare scope name is Microsoft Graph's (as Microsoft's v2 endpoint reads it).
                resource, name = 'https://graph.microsoft.com', item
            resources.add(resource.rstrip('/'))
            names.append(name)
        if len(resources) > 1:
            raise _aadsts(400, 'invalid_scope', 28000, 'Provided value for the input parameter scope is not valid because it '
                          'contains more than one resource. Scope %s is not valid.' % scope)
        resource = resources.pop()
        resource_sp = tenant.sp_by_resource(resource)
        if resource_sp is None:
            raise _unknown_resource(tenant, resource)
        return resource, resource_sp, (None if '.default' in names else names), oidc

    def device_authorization(self, tenant_key, form):
        """POST /{tenant}/oauth2/v2.0/devicecode: a device code and the user code the person enters."""
        with self.directory.lock:
            tenant = self._tenant_or_error(tenant_key)
            self._public_client(tenant, form.get('client_id', ''))
            if not form.get('scope'):
                raise _aadsts(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.")
            self._requested(tenant, form['scope'])
        lifetime = int(self.settings.get('device_code_lifetime', 900))
        interval = int(self.settings.get('device_code_interval', 5))
        user_code = ''.join(secrets.choice(USER_CODE_ALPHABET) for _position in range(9))
        flow = DeviceFlow(device_code=secrets.token_urlsafe(96), user_code=user_code,
                          tenant_id=tenant.tenant_id, client_id=form['client_id'].lower(), scope=form['scope'],
                          expires_at=time.time() + lifetime, interval=interval)
        with self.sessions_lock:
            self.device_flows[flow.device_code] = flow
        return {
            'user_code': flow.user_code,
            'device_code': flow.device_code,
            'verification_uri': VERIFICATION_URI,
            'expires_in': lifetime,
            'interval': interval,
            'message': 'To sign in, use a web browser to open the page %s and enter the code %s to authenticate.'
                       % (VERIFICATION_URI, flow.user_code),
        }

    def answer_user_code(self, tenant, user_code, person, approve=True):
        """The person at the verification page: signs in and approves (or declines) the code. Caller holds the directory lock.

        Returns the flow's new state; raises ValueError for a code that is unknown or no longer pending."""
        with self.sessions_lock:
            flow = next((f for f in self.device_flows.values() if f.user_code == user_code.strip().upper()), None)
            if flow is None or flow.tenant_id != tenant.tenant_id:
                raise ValueError('no device sign-in with user code %s in tenant %s' % (user_code, tenant.domain))
            if flow.state != 'pending' or time.time() >= flow.expires_at:
                raise ValueError('user code %s is no longer waiting (%s)' % (user_code, 'expired' if flow.state == 'pending' else flow.state))
            if not approve:
                flow.state = 'declined'
            elif tenant.extensions.get('block_device_code'):
                flow.state = 'blocked'
            else:
                flow.state = 'approved'
            flow.person_id = person['id']
            return flow.state

    def pending_user_codes(self, tenant_id):
        with self.sessions_lock:
            return [f.user_code for f in self.device_flows.values() if f.tenant_id == tenant_id and f.state == 'pending'
                    and time.time() < f.expires_at]

    def _redeem_device_code(self, tenant_key, form):
        with self.directory.lock:
            tenant = self._tenant_or_error(tenant_key)
        now = time.time()
        with self.sessions_lock:
            flow = self.device_flows.get(form.get('device_code') or '')
            if flow is None or flow.tenant_id != tenant.tenant_id or flow.client_id != (form.get('client_id') or '').lower():
                raise _aadsts(400, 'bad_verification_code', 70000, "The provided value for the input parameter 'device_code' is not valid.")
            if now >= flow.expires_at:
                del self.device_flows[flow.device_code]
                raise _aadsts(400, 'expired_token', 70019, 'Verification code expired.')
            if flow.state == 'declined':
                del self.device_flows[flow.device_code]
                raise _aadsts(400, 'authorization_declined', 70000, 'The user declined the authorization request.')
            if flow.state == 'blocked':
                del self.device_flows[flow.device_code]
                raise _aadsts(400, 'invalid_grant', 53003, 'Access has been blocked by Conditional Access policies. The access policy '
                              'does not allow token issuance.')
            if flow.state == 'pending':
                # RFC 8628 3.5: a client polling faster than `interval` is told to slow down.
                too_fast = now - flow.last_poll < flow.interval
                flow.last_poll = now
                if too_fast:
                    raise _aadsts(400, 'slow_down', 70016, 'The client is polling too quickly; wait at least interval seconds.')
                raise _aadsts(400, 'authorization_pending', 70016, 'The provided request has not yet been authorized by the user. '
                              'The user must input their code.')
            del self.device_flows[flow.device_code]
        with self.directory.lock:
            return self._person_tokens(tenant, flow.client_id, flow.person_id, flow.scope, form)

    def _redeem_refresh_token(self, tenant_key, form):
        with self.directory.lock:
            tenant = self._tenant_or_error(tenant_key)
            with self.sessions_lock:
                session = self.refresh_tokens.get(form.get('refresh_token') or '')
            if session is None or session[0] != tenant.tenant_id:
                raise _aadsts(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.')
            if session[1] != (form.get('client_id') or '').lower():
                raise _aadsts(400, 'invalid_grant', 70000, "The refresh token was issued to a different client_id.")
            return self._person_tokens(tenant, session[1], session[2], form.get('scope') or '', form)

    def _person_tokens(self, tenant, client_id, person_id, scope, form):
        """The token response for a signed-in person (caller holds the directory lock)."""
        person = tenant.users.get(person_id)
        if person is None or not person.get('accountEnabled', True):
            raise _aadsts(400, 'invalid_grant', 50057, 'The user account is disabled or deleted.')
        client_name, default_scopes = self._public_client(tenant, client_id)
        resource, resource_sp, names, oidc = self._requested(tenant, scope)
        if names is None:
            names = list(default_scopes.get(resource_sp['appId']) or [])
        names = [n for n in names if n not in OIDC_SCOPES]
        claims = self._delegated_claims(tenant, client_id, client_name, person, resource, names)
        lifetime = claims['exp'] - claims['iat']
        answer = {'token_type': 'Bearer', 'scope': ' '.join(['%s/%s' % (resource, n) for n in names] + oidc),
                  'expires_in': lifetime, 'ext_expires_in': lifetime, 'access_token': self.sign(claims)}
        if 'offline_access' in scope.split() or form.get('grant_type') == 'refresh_token':
            refresh_token = '0.A' + secrets.token_urlsafe(120)
            with self.sessions_lock:
                self.refresh_tokens[refresh_token] = (tenant.tenant_id, client_id, person['id'])
            answer['refresh_token'] = refresh_token
        if 'openid' in scope.split() or form.get('grant_type') == 'refresh_token':
            answer['id_token'] = self.sign(self._id_claims(tenant, client_id, person))
        if form.get('client_info') == '1':
            answer['client_info'] = pki.b64url(json.dumps({'uid': person['id'], 'utid': tenant.tenant_id}).encode('utf-8'))
        return answer

    def _id_claims(self, tenant, client_id, person):
        now = int(time.time())
        return {'aud': client_id, 'iss': '%s/%s/v2.0' % (self.base_url, tenant.tenant_id), 'iat': now, 'nbf': now, 'exp': now + 3600,
                'name': person.get('displayName'), 'oid': person['id'], 'preferred_username': person['userPrincipalName'],
                'sub': pki.b64url(uuid.uuid5(uuid.UUID(person['id']), client_id).bytes), 'tid': tenant.tenant_id, 'ver': '2.0'}

    def _delegated_claims(self, tenant, client_id, client_name, person, resource, scopes, lifetime=None):
        return self._v1_claims(tenant, resource, lifetime, acr='1', amr=['pwd', 'mfa'], app_displayname=client_name, appid=client_id,
                               appidacr='0', azp=client_id, idtyp='user', name=person.get('displayName'), oid=person['id'],
                               scp=' '.join(scopes), sub=pki.b64url(uuid.uuid5(uuid.UUID(person['id']), resource).bytes),
                               unique_name=person['userPrincipalName'], upn=person['userPrincipalName'],
                               wids=tenant.role_ids_of(person['id']))

    def mint_delegated(self, tenant, person, resource, scopes, client_id=catalog.AZURE_CLI_APP_ID, lifetime=None):
        """A person's token as the endpoint would issue it, for tests (control API); caller holds the lock."""
        client_name, _defaults = self._public_client(tenant, client_id)
        return self.sign(self._delegated_claims(tenant, client_id, client_name, person, resource.rstrip('/'), list(scopes), lifetime))

    # Verification for resources --------------------------------------------

    def verify_token(self, token, audiences=None):
        """Claims of a sandbox-issued token; raises InvalidToken (bad signature, expiry, audience)."""
        if not token:
            raise InvalidToken('Access token is empty.')
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken('IDX14100: JWT is not well formed, there are no dots (.).') from None
        if header.get('kid') != self.kid:
            raise InvalidToken('Access token validation failure. Invalid signing key.')
        try:
            return jwt.decode(token, self.signing_key.public_key(), algorithms=['RS256'],
                              audience=list(audiences) if audiences else None,
                              options={'verify_aud': bool(audiences), 'require': ['exp', 'iat', 'tid']})
        except jwt.ExpiredSignatureError:
            raise InvalidToken('Lifetime validation failed, the token is expired.') from None
        except jwt.InvalidAudienceError:
            raise InvalidToken('Access token validation failure. Invalid audience.') from None
        except jwt.InvalidTokenError:
            raise InvalidToken('Access token validation failure.') from None
