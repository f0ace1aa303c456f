"""The control API under /_sandbox (tests only, no auth)."""

import datetime
import re

from . import catalog
from .directory import grant_app_role
from .exchange import control as exchange_control
from .faults import FaultConfigError
from .objects import apply_patch, iso, new_application, new_password_credential, new_service_principal, validate_body
from .odata import GraphError
from .schema import APPLICATION
from .tokens import TokenError

SETTINGS_LIMITS = {'page_size': (1, 999), 'token_lifetime': (1, 86400), 'device_code_lifetime': (1, 900),
                   'device_code_interval': (1, 5)}


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _tenant(sandbox, key):
    tenant = sandbox.directory.tenant(key)
    if tenant is None:
        raise ControlError(404, 'unknown tenant %s' % key)
    return tenant


def _find_app(tenant, body):
    for key in ('id', 'appId', 'uniqueName', 'displayName'):
        if body.get(key):
            app = tenant.applications.get(body[key]) if key == 'id' else tenant.app_by(key, body[key])
            if app is None:
                raise ControlError(404, 'no application with %s %s' % (key, body[key]))
            return app
    raise ControlError(400, 'name the application by id, appId, uniqueName or displayName')


def _resource_sp(tenant, name):
    sp = tenant.sp_by_resource(name)
    if sp is None:
        raise ControlError(404, 'no resource service principal %s' % name)
    return sp


def _grant_roles(tenant, client_sp, roles_by_resource):
    for resource, values in (roles_by_resource or {}).items():
        resource_sp = _resource_sp(tenant, resource)
        for value in values:
            if value not in [r['value'] for r in resource_sp['appRoles']]:
                raise ControlError(400, 'resource %s has no app role %s' % (resource, value))
            grant_app_role(tenant, client_sp, resource_sp, value)


def seed_application(tenant, body):
    """Create an application directly (no replication delay unless `_fresh`).

    Extra keys: `_service_principal` (bool), `_secret` (bool: add a password and
    return its secretText), `_roles` ({resource: [role values]}, implies a
    service principal), `_fresh` (bool: subject to the replication delay).
    """
    extras = {k: body.pop(k) for k in list(body) if k.startswith('_')}
    try:
        validate_body(APPLICATION, body)
        app = new_application(body, tenant.domain, unique_name=body.get('uniqueName'))
    except GraphError as exc:
        raise ControlError(400, exc.message) from None
    fresh = bool(extras.get('_fresh'))
    tenant.add('applications', app, backdate=not fresh)
    result = {'application': app}
    if extras.get('_secret'):
        cred = new_password_credential({'displayName': 'sandbox seeded secret'})
        tenant.secrets[cred['keyId']] = cred['secretText']
        app['passwordCredentials'].append(dict(cred, secretText=None))
        result['secretText'] = cred['secretText']
    if extras.get('_service_principal') or extras.get('_roles'):
        sp = tenant.add('service_principals', new_service_principal(app, tenant.tenant_id), backdate=not fresh)
        _grant_roles(tenant, sp, extras.get('_roles'))
        result['servicePrincipal'] = sp
    if extras.get('_exchange_role', True):
        # An app seeded here stands for one set up by hand, Exchange role included (as the seeded admin app); one made
        # through Graph needs a directory role assignment (exchange/host.py has_admin_role). `_exchange_role: false` leaves it out.
        tenant.extensions.setdefault('exchange_role_apps', set()).add(app['appId'].lower())
    return result


def drift(tenant, body):
    """Change state behind the collection's back; see tests/sandbox/README.md."""
    action = body.get('action')
    if action == 'delete_application':
        tenant.delete_application(_find_app(tenant, body)['id'])
        return {}
    if action == 'patch_application':
        app = _find_app(tenant, body)
        changes = body.get('set') or {}
        unknown = [k for k in changes if k not in APPLICATION.properties]
        if unknown:
            raise ControlError(400, 'unknown application properties: %s' % ', '.join(unknown))
        apply_patch(APPLICATION, app, changes)
        return {'application': app}
    if action == 'delete_service_principal':
        sp = tenant.sp_by_app_id(body.get('appId') or '')
        if sp is None:
            raise ControlError(404, 'no service principal for appId %s' % body.get('appId'))
        tenant.delete_service_principal(sp['id'])
        return {}
    if action in ('add_app_role_assignment', 'remove_app_role_assignment'):
        app_id = body.get('appId') or ''
        client_sp = tenant.sp_by_app_id(app_id)
        if client_sp is None:
            raise ControlError(404, 'no service principal for appId %s' % app_id)
        resource_sp = _resource_sp(tenant, body.get('resource') or '')
        role = next((r for r in resource_sp['appRoles'] if r['value'] == body.get('role')), None)
        if role is None:
            raise ControlError(400, 'no app role %s' % body.get('role'))
        if action == 'add_app_role_assignment':
            return {'appRoleAssignment': grant_app_role(tenant, client_sp, resource_sp, role['value'])}
        for assignment in list(tenant.app_role_assignments.values()):
            if (assignment['principalId'], assignment['resourceId'], assignment['appRoleId']) == (client_sp['id'], resource_sp['id'], role['id']):
                del tenant.app_role_assignments[assignment['id']]
        return {}
    if action in ('add_directory_role', 'remove_directory_role'):
        person = _person(tenant, body.get('userPrincipalName'))
        template = (catalog.DIRECTORY_ROLES.get(body.get('role') or '') or (None,))[0]
        if template is None:
            raise ControlError(400, 'unknown directory role %r; known: %s' % (body.get('role'), ', '.join(catalog.DIRECTORY_ROLES)))
        if action == 'add_directory_role':
            return {'roleAssignment': tenant.assign_directory_role(person['id'], template)}
        for assignment in list(tenant.role_assignments.values()):
            if (assignment['principalId'], assignment['roleDefinitionId']) == (person['id'], template):
                del tenant.role_assignments[assignment['id']]
        return {}
    if action == 'block_device_code':
        # A Conditional Access policy blocking the device code flow (Authentication flows condition).
        tenant.extensions['block_device_code'] = bool(body.get('blocked', True))
        return {'block_device_code': tenant.extensions['block_device_code']}
    if action == 'add_password':
        app = _find_app(tenant, body)
        cred = new_password_credential({k: body.get(k) for k in ('displayName', 'startDateTime', 'endDateTime')})
        tenant.secrets[cred['keyId']] = cred['secretText']
        app['passwordCredentials'].append(dict(cred, secretText=None))
        return {'passwordCredential': cred}
    if action == 'expire_passwords':
        app = _find_app(tenant, body)
        past = iso(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1))
        for cred in app['passwordCredentials']:
            if body.get('keyId') in (None, cred['keyId']):
                cred['endDateTime'] = past
                if cred['startDateTime'] > past:
                    cred['startDateTime'] = past
        return {'application': app}
    raise ControlError(400, 'unknown drift action %r' % action)


def _person(tenant, upn):
    person = tenant.user_by(upn or '')
    if person is None:
        raise ControlError(404, 'no person %s' % upn)
    return person


def add_person(tenant, body):
    try:
        person = tenant.add_person(body.get('userPrincipalName') or '', body.get('displayName'), roles=tuple(body.get('roles') or ()),
                                   backdate=True)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return {'user': person, 'roles': tenant.role_names_of(person['id'])}


def device_login(sandbox, tenant, body):
    """The person at microsoft.com/devicelogin: enters a user code (default: the only one waiting), signs in, approves or declines."""
    person = _person(tenant, body.get('person'))
    code = body.get('user_code')
    if not code:
        waiting = sandbox.tokens.pending_user_codes(tenant.tenant_id)
        if len(waiting) != 1:
            raise ControlError(409, '%d device sign-ins are waiting in tenant %s: name the user_code' % (len(waiting), tenant.domain))
        code = waiting[0]
    try:
        state = sandbox.tokens.answer_user_code(tenant, code, person, approve=body.get('approve', True) is not False)
    except ValueError as exc:
        raise ControlError(409, str(exc)) from None
    return {'user_code': code, 'state': state, 'person': person['userPrincipalName']}


def mint_token(sandbox, tenant, body):
    if body.get('person'):
        try:
            token = sandbox.tokens.mint_delegated(tenant, _person(tenant, body['person']), body.get('resource') or 'https://graph.microsoft.com',
                                                  body.get('scopes') or [], client_id=body.get('client_id') or catalog.AZURE_CLI_APP_ID,
                                                  lifetime=body.get('lifetime'))
        except TokenError as exc:
            raise ControlError(400, exc.description) from None
        return {'access_token': token}
    app = _find_app(tenant, body) if any(body.get(k) for k in ('id', 'appId', 'uniqueName', 'displayName')) \
        else tenant.app_by('appId', sandbox.seed_for(tenant.tenant_id).admin_client_id)
    try:
        token = sandbox.tokens.mint(tenant, app, body.get('resource') or 'https://graph.microsoft.com', roles=body.get('roles'),
                                    lifetime=body.get('lifetime'), iat_offset=int(body.get('iat_offset') or 0))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return {'access_token': token}


def update_settings(sandbox, body):
    for key, value in body.items():
        if key not in SETTINGS_LIMITS:
            raise ControlError(400, 'unknown setting %s' % key)
        low, high = SETTINGS_LIMITS[key]
        if not isinstance(value, int) or not low <= value <= high:
            raise ControlError(400, '%s must be an integer in [%d, %d]' % (key, low, high))
    sandbox.settings.update(body)
    return dict(sandbox.settings)


_TENANT_ROUTE = re.compile(r'^tenants/([^/]+)(?:/(state|applications|drift|token|people|devicelogin))?$')


def handle(sandbox, method, path, body):
    """Return (status, JSON body) for /_sandbox/<path>."""
    path = path.strip('/')
    try:
        with sandbox.directory.lock:
            return _route(sandbox, method, path, body)
    except ControlError as exc:
        return exc.status, {'error': str(exc)}
    except FaultConfigError as exc:
        return 400, {'error': str(exc)}


def _route(sandbox, method, path, body):
    exchange = exchange_control.route(sandbox, method, path, body)
    if exchange is not None:
        return exchange
    if (method, path) == ('GET', 'state'):
        return 200, dict(sandbox.directory.snapshot(), faults=sandbox.faults.snapshot(), settings=dict(sandbox.settings))
    if (method, path) == ('POST', 'reset'):
        sandbox.reset()
        return 200, {'reset': True}
    if path == 'faults':
        if method == 'POST':
            return 200, sandbox.faults.update(body)
        return 200, sandbox.faults.snapshot()
    if path == 'config':
        if method == 'POST':
            return 200, update_settings(sandbox, body)
        return 200, dict(sandbox.settings)
    if (method, path) == ('GET', 'stats'):
        return 200, sandbox.faults.stats_snapshot()
    if (method, path) == ('POST', 'stats/reset'):
        sandbox.faults.reset_stats()
        return 200, sandbox.faults.stats_snapshot()
    if (method, path) == ('GET', 'info'):
        return 200, sandbox.info
    match = _TENANT_ROUTE.match(path)
    if match:
        tenant = _tenant(sandbox, match.group(1))
        sub = match.group(2)
        if method == 'GET' and sub in (None, 'state'):
            return 200, tenant.snapshot()
        if method == 'POST' and sub == 'applications':
            return 201, seed_application(tenant, dict(body))
        if method == 'POST' and sub == 'drift':
            return 200, drift(tenant, body)
        if method == 'POST' and sub == 'token':
            return 200, mint_token(sandbox, tenant, body)
        if method == 'POST' and sub == 'people':
            return 201, add_person(tenant, body)
        if method == 'GET' and sub == 'people':
            return 200, {'value': tenant.people()}
        if method == 'POST' and sub == 'devicelogin':
            return 200, device_login(sandbox, tenant, body)
        if method == 'GET' and sub == 'devicelogin':
            return 200, {'pending': sandbox.tokens.pending_user_codes(tenant.tenant_id)}
    raise ControlError(404, 'no control route %s %s' % (method, path))
