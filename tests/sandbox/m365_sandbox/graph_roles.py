"""Graph handlers for /roleManagement/directory: the built-in role definitions and the directory role assignments
(who holds Global Administrator, Exchange Administrator, ...), as Microsoft Graph v1.0's rbacApplication pages give them."""

from . import catalog
from .graph_apps import dispatch, entity_body, list_body, no_segment, single
from .graph_common import READ_ROLES, WRITE_ROLES
from .objects import validate_body
from .odata import bad_request, not_found
from .schema import ROLE_ASSIGNMENT, ROLE_DEFINITION

DEFINITIONS_CONTEXT = 'roleManagement/directory/roleDefinitions'
ASSIGNMENTS_CONTEXT = 'roleManagement/directory/roleAssignments'


def definitions():
    """The built-in roles the sandbox knows; a built-in role's id is its template id."""
    return [{'id': template, 'description': text, 'displayName': name, 'isBuiltIn': True, 'isEnabled': True, 'resourceScopes': ['/'],
             'rolePermissions': [], 'templateId': template, 'version': '1'}
            for name, (template, text) in catalog.DIRECTORY_ROLES.items()]


def _definition(key):
    found = [d for d in definitions() if d['id'] == key.lower()]
    if not found:
        raise not_found(key)
    return found[0]


def _list_definitions(call):
    return 200, list_body(call, ROLE_DEFINITION, definitions(), DEFINITIONS_CONTEXT), {}


def _get_definition(call, key):
    return single(call, ROLE_DEFINITION, _definition(key), DEFINITIONS_CONTEXT + '/$entity')


def _list_assignments(call):
    items = [a for a in call.tenant.role_assignments.values() if call.visible(a['id'])]
    return 200, list_body(call, ROLE_ASSIGNMENT, items, ASSIGNMENTS_CONTEXT), {}


def _get_assignment(call, key):
    assignment = call.tenant.role_assignments.get(key)
    if assignment is None or not call.visible(assignment['id']):
        raise not_found(key)
    return single(call, ROLE_ASSIGNMENT, assignment, ASSIGNMENTS_CONTEXT + '/$entity')


def _create_assignment(call):
    body = call.body()
    validate_body(ROLE_ASSIGNMENT, body)
    for name in ('principalId', 'roleDefinitionId'):
        if not body.get(name):
            raise bad_request("Invalid value specified for property '%s' of resource 'UnifiedRoleAssignment'." % name)
    if body.get('directoryScopeId') != '/':
        # Only tenant-wide assignments exist here (administrative units and app scopes are not emulated).
        raise bad_request("Invalid value specified for property 'directoryScopeId' of resource 'UnifiedRoleAssignment'.")
    definition_id = body['roleDefinitionId'].lower()
    if definition_id not in catalog.ROLE_NAMES:
        raise bad_request("Invalid value specified for property 'roleDefinitionId' of resource 'UnifiedRoleAssignment'.")
    principal_id = body['principalId'].lower()
    principal = call.tenant.users.get(principal_id) or call.tenant.service_principals.get(principal_id)
    if principal is None or not call.visible(principal_id):
        raise bad_request("Invalid value specified for property 'principalId' of resource 'UnifiedRoleAssignment'.")
    for existing in call.tenant.role_assignments.values():
        if (existing['principalId'], existing['roleDefinitionId'], existing['directoryScopeId']) == (principal_id, definition_id, '/'):
            raise bad_request('A conflicting object with one or more of the specified property values is present in the directory.')
    assignment = call.tenant.assign_directory_role(principal_id, definition_id)
    return 201, entity_body(call, ROLE_ASSIGNMENT, assignment, ASSIGNMENTS_CONTEXT + '/$entity'), {}


def _delete_assignment(call, key):
    if call.tenant.role_assignments.pop(key, None) is None:
        raise not_found(key)
    return 204, None, {}


SETS = {
    'roleDefinitions': ({'GET': ((READ_ROLES,), _list_definitions)}, {'GET': ((READ_ROLES,), _get_definition)}),
    'roleAssignments': ({'GET': ((READ_ROLES,), _list_assignments), 'POST': ((WRITE_ROLES,), _create_assignment)},
                        {'GET': ((READ_ROLES,), _get_assignment), 'DELETE': ((WRITE_ROLES,), _delete_assignment)}),
}


def role_management(call):
    """/roleManagement/directory/{roleDefinitions|roleAssignments}[/{id} or ('id')]."""
    segments = call.segments
    if len(segments) < 3 or segments[1][0] != 'directory' or segments[2][0] not in SETS:
        raise no_segment(segments[min(len(segments) - 1, 2)][0] if len(segments) > 1 else 'roleManagement')
    set_methods, entity_methods = SETS[segments[2][0]]
    key = segments[2][1][1] if segments[2][1] else (segments[3][0] if len(segments) > 3 else None)
    if len(segments) > (3 if segments[2][1] else 4):
        raise no_segment(segments[-1][0])
    if key is None:
        return dispatch(set_methods, call)
    return dispatch(entity_methods, call, key)
