"""Graph handlers for /oauth2PermissionGrants, /users and /organization."""

from .graph_common import READ_GRANTS, READ_ORG, READ_USERS, WRITE_GRANTS, find_visible, method_not_allowed
from .graph_apps import entity_body, list_body, single, split_selector
from .objects import apply_patch, directory_style_id, validate_body
from .odata import GraphError, bad_request
from .schema import OAUTH2_PERMISSION_GRANT, ORGANIZATION, USER


def _create_grant(call):
    body = call.body()
    validate_body(OAUTH2_PERMISSION_GRANT, body)
    tenant = call.tenant
    for name in ('clientId', 'resourceId'):
        sp_id = (body.get(name) or '').lower()
        if sp_id not in tenant.service_principals or not call.visible(sp_id):
            raise bad_request("Invalid value specified for property '%s' of resource 'OAuth2PermissionGrant'." % name)
    consent = body.get('consentType')
    if consent not in ('AllPrincipals', 'Principal'):
        raise bad_request("Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")
    principal = (body.get('principalId') or '').lower() or None
    if (consent == 'Principal') != (principal is not None) or (principal and principal not in tenant.users):
        raise bad_request("Invalid value specified for property 'principalId' of resource 'OAuth2PermissionGrant'.")
    key = (body['clientId'].lower(), body['resourceId'].lower(), consent, principal)
    for grant in tenant.oauth2_permission_grants.values():
        if (grant['clientId'], grant['resourceId'], grant['consentType'], grant['principalId']) == key:
            raise GraphError(409, 'Request_MultipleObjectsWithSameKeyValue', 'Permission entry already exists.')
    grant = tenant.add('oauth2_permission_grants', {
        'id': directory_style_id(key[0]),
        'clientId': key[0],
        'consentType': consent,
        'principalId': principal,
        'resourceId': key[1],
        'scope': body.get('scope') or '',
    })
    return 201, entity_body(call, OAUTH2_PERMISSION_GRANT, grant, 'oauth2PermissionGrants/$entity'), {}


def oauth2_permission_grants(call):
    selector, rest = split_selector(call, ('id',))
    method = call.method
    if rest:
        raise bad_request("Resource not found for the segment '%s'." % rest[0], code='BadRequest')
    if selector is None:
        if method == 'GET':
            call.require(READ_GRANTS)
            items = [g for g in call.tenant.oauth2_permission_grants.values() if call.visible(g['id'])]
            return 200, list_body(call, OAUTH2_PERMISSION_GRANT, items, 'oauth2PermissionGrants'), {}
        if method == 'POST':
            call.require(WRITE_GRANTS)
            return _create_grant(call)
        raise method_not_allowed()
    if method == 'GET':
        call.require(READ_GRANTS)
        return single(call, OAUTH2_PERMISSION_GRANT, find_visible(call, 'oauth2_permission_grants', selector), 'oauth2PermissionGrants/$entity')
    if method == 'PATCH':
        call.require(WRITE_GRANTS)
        grant = find_visible(call, 'oauth2_permission_grants', selector)
        body = call.body()
        validate_body(OAUTH2_PERMISSION_GRANT, body, existing=grant)
        apply_patch(OAUTH2_PERMISSION_GRANT, grant, body)
        return 204, None, {}
    if method == 'DELETE':
        call.require(WRITE_GRANTS)
        grant = find_visible(call, 'oauth2_permission_grants', selector)
        del call.tenant.oauth2_permission_grants[grant['id']]
        return 204, None, {}
    raise method_not_allowed()


def users(call):
    selector, rest = split_selector(call, ('id', 'userPrincipalName'))
    if rest:
        raise bad_request("Resource not found for the segment '%s'." % rest[0], code='BadRequest')
    if call.method != 'GET':
        raise method_not_allowed()
    call.require(READ_USERS)
    if selector is None:
        items = [u for u in call.tenant.users.values() if call.visible(u['id'])]
        return 200, list_body(call, USER, items, 'users'), {}
    return single(call, USER, find_visible(call, 'users', selector), 'users/$entity')


def organization(call):
    selector, rest = split_selector(call, ('id',))
    if rest:
        raise bad_request("Resource not found for the segment '%s'." % rest[0], code='BadRequest')
    if call.method != 'GET':
        raise method_not_allowed()
    call.require(READ_ORG)
    org = call.tenant.organization
    if selector is None:
        return 200, list_body(call, ORGANIZATION, [org], 'organization'), {}
    if selector[1].lower() != org['id']:
        raise GraphError(404, 'Request_ResourceNotFound',
                         "Resource '%s' does not exist or one of its queried reference-property objects are not present." % selector[1])
    return single(call, ORGANIZATION, org, 'organization/$entity')
