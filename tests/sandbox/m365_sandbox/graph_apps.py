"""Graph handlers for /applications and /servicePrincipals (with their
appRoleAssignedTo and appRoleAssignments)."""

from . import catalog
from .graph_common import ASSIGN_ROLES, GRAPH_CONSENT_ROLES, READ_APPS, WRITE_APPS, find_visible, lookup, method_not_allowed
from .objects import (
    ZERO_GUID, apply_patch, check_collection_keys, directory_style_id, new_application, new_password_credential,
    new_service_principal, normalize_key_credentials, now_iso, sync_service_principal, validate_body,
)
from .odata import GraphError, bad_request, not_found, page, parse_filter, parse_select, project
from .schema import ACTIONS, APP_ROLE_ASSIGNMENT, APPLICATION, SERVICE_PRINCIPAL, InvalidValue, check_value


def split_selector(call, allowed_keys):
    """(selector, remaining segment names) for /set(key='v')/... or /set/{id}/..."""
    _name, key = call.segments[0]
    rest = call.segments[1:]
    if key is None and rest:
        key, rest = ('id', rest[0][0]), rest[1:]
    if key is not None and key[0] not in allowed_keys:
        raise bad_request("The key property '%s' is not supported for this entity set." % key[0], code='BadRequest')
    for name, sub_key in rest[1:]:
        if sub_key is not None:
            raise bad_request("Resource not found for the segment '%s'." % name, code='BadRequest')
    return key, [name for name, _k in rest]


def entity_body(call, spec, obj, fragment, select=None):
    body = {'@odata.context': call.context(fragment)}
    body.update(project(obj, spec, select))
    return body


def list_body(call, spec, items, fragment):
    select = parse_select(call.query, spec)
    predicate = parse_filter(call.query, spec)
    if predicate is not None:
        items = [obj for obj in items if predicate(obj)]
    chunk, next_link = page(items, call.query, call.page_size, call.self_url())
    if select:
        fragment = '%s(%s)' % (fragment, ','.join(select))
    body = {'@odata.context': call.context(fragment)}
    if next_link:
        body['@odata.nextLink'] = next_link
    body['value'] = [project(obj, spec, select) for obj in chunk]
    return body


def single(call, spec, obj, fragment):
    select = parse_select(call.query, spec)
    if select:
        fragment = fragment.replace('/$entity', '(%s)/$entity' % ','.join(select))
    return 200, entity_body(call, spec, obj, fragment, select), {}


def dispatch(table, call, *args):
    """Run what a {method: (role groups, handler)} table names for the request's method: the token must hold a role of
    each group, then handler(call, *args) answers. 405 for a method the table does not name."""
    try:
        groups, handler = table[call.method]
    except KeyError:
        raise method_not_allowed() from None
    call.require(*groups)
    return handler(call, *args)


def list_handler(collection, spec, fragment):
    """GET on an entity set: what the caller can see of it (replication delay applies), with $filter, $select, paging."""
    def handler(call):
        items = [obj for obj in getattr(call.tenant, collection).values() if call.visible(obj['id'])]
        return 200, list_body(call, spec, items, fragment), {}
    return handler


def get_handler(collection, spec, fragment):
    """GET on one entity, 404 while it is not visible."""
    def handler(call, selector):
        return single(call, spec, find_visible(call, collection, selector), fragment)
    return handler


def create_handler(create):
    """POST on an entity set: create(call, body)."""
    def handler(call):
        return create(call, call.body())
    return handler


def no_segment(name):
    return bad_request("Resource not found for the segment '%s'." % name, code='BadRequest')


def route(call, keys, set_methods, entity_methods, below):
    """An entity set's request: to the set, to one entity (by a key in keys), or below(call, selector, rest) for a path below one."""
    selector, rest = split_selector(call, keys)
    if selector is None:
        if rest:
            raise no_segment(rest[0])
        return dispatch(set_methods, call)
    if not rest:
        return dispatch(entity_methods, call, selector)
    return below(call, selector, rest)


# Applications ---------------------------------------------------------------

def _check_unique(tenant, app, body):
    if 'uniqueName' in body and body['uniqueName'] is not None:
        other = tenant.app_by('uniqueName', body['uniqueName'])
        if other is not None and other['id'] != app.get('id'):
            raise GraphError(409, 'Request_MultipleObjectsWithSameKeyValue', 'Another object with the same value for property uniqueName already exists.')
    for uri in body.get('identifierUris') or []:
        for other in tenant.applications.values():
            if other['id'] != app.get('id') and uri.lower() in [u.lower() for u in other.get('identifierUris') or []]:
                raise GraphError(400, 'Request_MultipleObjectsWithSameKeyValue',
                                 'Another object with the same value for property identifierUris already exists.')
    for rra in body.get('requiredResourceAccess') or []:
        for access in rra.get('resourceAccess') or []:
            if access.get('type') not in ('Role', 'Scope'):
                raise bad_request("Invalid value specified for property 'type' of resource 'ResourceAccess'.")


def _create_application(call, body, unique_name=None):
    validate_body(APPLICATION, body)
    _check_unique(call.tenant, {}, body)
    app = new_application(body, call.tenant.domain, unique_name=unique_name or body.get('uniqueName'))
    check_collection_keys(app)
    call.tenant.add('applications', app)
    return 201, entity_body(call, APPLICATION, app, 'applications/$entity'), {}


def _update_application(call, app, body):
    validate_body(APPLICATION, body, existing=app)
    _check_unique(call.tenant, app, body)
    if 'keyCredentials' in body:
        body = dict(body, keyCredentials=normalize_key_credentials(body['keyCredentials']))
    candidate = dict(app)
    apply_patch(APPLICATION, candidate, body)
    check_collection_keys(candidate)
    app.clear()
    app.update(candidate)
    sp = call.tenant.sp_by_app_id(app['appId'])
    if sp is not None:
        sp_before = sp['displayName'] == sp['appDisplayName']
        sync_service_principal(app, sp)
        if sp_before:
            sp['displayName'] = app['displayName']
    return 204, None, {}


def _app_for_write(call, selector):
    if selector[0] == 'uniqueName':
        # The directory enforces the key, so key-addressed writes see the true state.
        app = lookup(call.tenant, 'applications', selector)
        if app is None:
            raise not_found(selector[1])
        return app
    return find_visible(call, 'applications', selector)


def _action_params(call, action):
    body = call.body()
    params = ACTIONS[('application', action)]
    for name, value in body.items():
        if name not in params:
            raise bad_request("The parameter '%s' in the request payload is not a valid parameter for the operation '%s'." % (name, action),
                              code='BadRequest')
        try:
            check_value(params[name], value, name)
        except InvalidValue as exc:
            raise bad_request(str(exc), code='BadRequest') from None
    return body


def _add_password(call, selector):
    app = _app_for_write(call, selector)
    params = _action_params(call, 'addPassword').get('passwordCredential') or {}
    cred = new_password_credential({k: params.get(k) for k in ('displayName', 'startDateTime', 'endDateTime', 'customKeyIdentifier')})
    call.tenant.secrets[cred['keyId']] = cred['secretText']
    app['passwordCredentials'] = list(app.get('passwordCredentials') or []) + [dict(cred, secretText=None)]
    body = {'@odata.context': call.context('microsoft.graph.passwordCredential')}
    body.update(cred)
    return 200, body, {}


def _remove_password(call, selector):
    app = _app_for_write(call, selector)
    key_id = (_action_params(call, 'removePassword').get('keyId') or '').lower()
    creds = app.get('passwordCredentials') or []
    kept = [c for c in creds if c['keyId'].lower() != key_id]
    if len(kept) == len(creds):
        raise bad_request("No password credential found with keyId '%s'." % key_id)
    app['passwordCredentials'] = kept
    call.tenant.secrets.pop(key_id, None)
    return 204, None, {}


def _patch_application(call, selector):
    body = call.body()
    if selector[0] == 'uniqueName' and lookup(call.tenant, 'applications', selector) is None and call.prefers('create-if-missing'):
        if body.get('uniqueName') not in (None, selector[1]):
            raise bad_request("Property 'uniqueName' cannot be changed once it has been set.")
        return _create_application(call, dict(body, uniqueName=selector[1]), unique_name=selector[1])
    return _update_application(call, _app_for_write(call, selector), body)


def _delete_application(call, selector):
    call.tenant.delete_application(_app_for_write(call, selector)['id'])
    return 204, None, {}


APPLICATION_SET_METHODS = {'GET': ((READ_APPS,), list_handler('applications', APPLICATION, 'applications')),
                           'POST': ((WRITE_APPS,), create_handler(_create_application))}
APPLICATION_METHODS = {'GET': ((READ_APPS,), get_handler('applications', APPLICATION, 'applications/$entity')),
                       'PATCH': ((WRITE_APPS,), _patch_application), 'DELETE': ((WRITE_APPS,), _delete_application)}
# Actions on an application; another method on them is an unknown segment (400), not a 405.
APPLICATION_ACTION_METHODS = {'addPassword': {'POST': ((WRITE_APPS,), _add_password)},
                              'removePassword': {'POST': ((WRITE_APPS,), _remove_password)}}


def _application_action(call, selector, rest):
    if len(rest) == 1 and call.method in APPLICATION_ACTION_METHODS.get(rest[0], {}):
        return dispatch(APPLICATION_ACTION_METHODS[rest[0]], call, selector)
    raise no_segment(rest[0])


def applications(call):
    return route(call, ('id', 'appId', 'uniqueName'), APPLICATION_SET_METHODS, APPLICATION_METHODS, _application_action)


# Service principals ----------------------------------------------------------

def _no_backing_application(app_id):
    message = "The appId '%s' of the service principal does not reference a valid application object." % app_id
    return bad_request(message, details=[{'code': 'NoBackingApplicationObject', 'message': message, 'target': 'appId'}])


def _create_service_principal(call, body):
    validate_body(SERVICE_PRINCIPAL, body)
    app_id = body.get('appId')
    if not app_id:
        raise bad_request("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.")
    if call.tenant.sp_by_app_id(app_id) is not None:
        raise GraphError(409, 'Request_MultipleObjectsWithSameKeyValue',
                         'The service principal cannot be created, updated, or restored because the service principal name %s is already in use.' % app_id)
    app = call.tenant.app_by('appId', app_id)
    if app is not None:
        if not call.visible(app['id']):
            raise _no_backing_application(app_id)
        sp = new_service_principal(app, call.tenant.tenant_id, body)
    elif app_id.lower() in catalog.FIRST_PARTY:
        source = dict(catalog.FIRST_PARTY[app_id.lower()], appId=app_id.lower(), appOwnerOrganizationId=catalog.MICROSOFT_TENANT_ID)
        sp = new_service_principal(source, call.tenant.tenant_id, body, first_party=True)
    else:
        raise _no_backing_application(app_id)
    call.tenant.add('service_principals', sp)
    return 201, entity_body(call, SERVICE_PRINCIPAL, sp, 'servicePrincipals/$entity'), {}


def _sp_for_write(call, selector):
    if selector[0] == 'appId':
        sp = lookup(call.tenant, 'service_principals', selector)
        if sp is None:
            raise not_found(selector[1])
        return sp
    return find_visible(call, 'service_principals', selector)


def _assignment_body(call, sp, assignment):
    return entity_body(call, APP_ROLE_ASSIGNMENT, assignment, "servicePrincipals('%s')/appRoleAssignedTo/$entity" % sp['id'])


def _assign(call, resource_sp):
    if resource_sp['appId'] == catalog.GRAPH_APP_ID:
        call.require_person_role(GRAPH_CONSENT_ROLES)
    body = call.body()
    validate_body(APP_ROLE_ASSIGNMENT, body)
    for name in ('principalId', 'resourceId', 'appRoleId'):
        if not body.get(name):
            raise bad_request("Invalid value specified for property '%s' of resource 'AppRoleAssignment'." % name)
    if body['resourceId'].lower() != resource_sp['id']:
        raise bad_request("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.")
    principal_id = body['principalId'].lower()
    principal = call.tenant.service_principals.get(principal_id)
    principal_type = 'ServicePrincipal'
    if principal is None:
        principal = call.tenant.users.get(principal_id)
        principal_type = 'User'
    if principal is None or not call.visible(principal_id):
        raise bad_request("Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'.")
    role_id = body['appRoleId'].lower()
    roles = {r['id'].lower(): r for r in resource_sp.get('appRoles') or []}
    if role_id != ZERO_GUID and (role_id not in roles or not roles[role_id].get('isEnabled')):
        raise bad_request("Permission being assigned was not found on application '%s'." % resource_sp['appId'])
    for existing in call.tenant.app_role_assignments.values():
        if (existing['principalId'], existing['resourceId'], existing['appRoleId'].lower()) == (principal_id, resource_sp['id'], role_id):
            raise bad_request('Permission being assigned already exists on the object')
    assignment = call.tenant.add('app_role_assignments', {
        'id': directory_style_id(principal_id),
        'deletedDateTime': None,
        'appRoleId': role_id,
        'createdDateTime': now_iso(),
        'principalDisplayName': principal.get('displayName'),
        'principalId': principal_id,
        'principalType': principal_type,
        'resourceDisplayName': resource_sp.get('displayName'),
        'resourceId': resource_sp['id'],
    })
    return 201, _assignment_body(call, resource_sp, assignment), {}


def _list_assignments_of(call, sp):
    items = [a for a in call.tenant.app_role_assignments.values() if a['principalId'] == sp['id'] and call.visible(a['id'])]
    return 200, list_body(call, APP_ROLE_ASSIGNMENT, items, "servicePrincipals('%s')/appRoleAssignments" % sp['id']), {}


def _list_assignments_to(call, sp):
    items = [a for a in call.tenant.app_role_assignments.values() if a['resourceId'] == sp['id'] and call.visible(a['id'])]
    return 200, list_body(call, APP_ROLE_ASSIGNMENT, items, "servicePrincipals('%s')/appRoleAssignedTo" % sp['id']), {}


def _get_assignment(call, sp, assignment):
    return 200, _assignment_body(call, sp, assignment), {}


def _delete_assignment(call, _sp, assignment):
    del call.tenant.app_role_assignments[assignment['id']]
    return 204, None, {}


READ_ASSIGNMENTS = (READ_APPS | ASSIGN_ROLES,)
WRITE_ASSIGNMENTS = (ASSIGN_ROLES, READ_APPS)
ASSIGNMENTS_OF_METHODS = {'GET': (READ_ASSIGNMENTS, _list_assignments_of)}
ASSIGNMENTS_TO_METHODS = {'GET': (READ_ASSIGNMENTS, _list_assignments_to), 'POST': (WRITE_ASSIGNMENTS, _assign)}
ASSIGNMENT_METHODS = {'GET': (READ_ASSIGNMENTS, _get_assignment), 'DELETE': (WRITE_ASSIGNMENTS, _delete_assignment)}


def _assignments(call, sp, rest):
    if rest[0] == 'appRoleAssignments':
        if len(rest) != 1:
            raise method_not_allowed()
        return dispatch(ASSIGNMENTS_OF_METHODS, call, sp)
    if len(rest) == 1:
        return dispatch(ASSIGNMENTS_TO_METHODS, call, sp)
    assignment = call.tenant.app_role_assignments.get(rest[1])
    if assignment is None or assignment['resourceId'] != sp['id'] or (call.method == 'GET' and not call.visible(assignment['id'])):
        raise not_found(rest[1])
    return dispatch(ASSIGNMENT_METHODS, call, sp, assignment)


def _patch_service_principal(call, selector):
    body = call.body()
    if selector[0] == 'appId' and call.tenant.sp_by_app_id(selector[1]) is None and call.prefers('create-if-missing'):
        return _create_service_principal(call, dict(body, appId=selector[1]))
    sp = _sp_for_write(call, selector)
    validate_body(SERVICE_PRINCIPAL, body, existing=sp)
    apply_patch(SERVICE_PRINCIPAL, sp, body)
    return 204, None, {}


def _delete_service_principal(call, selector):
    call.tenant.delete_service_principal(_sp_for_write(call, selector)['id'])
    return 204, None, {}


SERVICE_PRINCIPAL_SET_METHODS = {
    'GET': ((READ_APPS,), list_handler('service_principals', SERVICE_PRINCIPAL, 'servicePrincipals')),
    'POST': ((WRITE_APPS,), create_handler(_create_service_principal))}
SERVICE_PRINCIPAL_METHODS = {
    'GET': ((READ_APPS,), get_handler('service_principals', SERVICE_PRINCIPAL, 'servicePrincipals/$entity')),
    'PATCH': ((WRITE_APPS,), _patch_service_principal), 'DELETE': ((WRITE_APPS,), _delete_service_principal)}


def _service_principal_assignments(call, selector, rest):
    if rest[0] in ('appRoleAssignedTo', 'appRoleAssignments') and len(rest) <= 2:
        return _assignments(call, find_visible(call, 'service_principals', selector), rest)
    raise no_segment(rest[0])


def service_principals(call):
    return route(call, ('id', 'appId'), SERVICE_PRINCIPAL_SET_METHODS, SERVICE_PRINCIPAL_METHODS, _service_principal_assignments)
