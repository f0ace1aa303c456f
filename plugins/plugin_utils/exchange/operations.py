# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The allow-list of Exchange Online operations the runner may execute.

One table is the single source of truth: Python validates every operation
against it before anything is sent, and the same table travels to the host
as JSON (runner_protocol.allow_list_json) where the runner validates again.
Which writes are due is decided on the host, by the runner alone
(runner.ps1, Test-RunnerCondition / Get-RunnerKeysFrom); the
controller only builds the conditions below and checks the runner's answer
against its own plan (the *_plan.py modules, plan.check_plan).

Stdlib only (and module_utils/names.py, the rule for names): the unit tests and the sandbox load it
without Ansible.
"""

import re

from ansible_collections.m365.mail_oauth.plugins.module_utils.names import MAX_NAME, text_problem

GUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
MAX_STRING = MAX_NAME
# A bulk call loops inside the runner; the cap keeps one payload well under
# what a WinRM shell accepts in a single command (stdin is chunked anyway).
MAX_BULK = 20000

MAILBOX_RIGHTS = ('ChangeOwner', 'ChangePermission', 'DeleteItem', 'ExternalAccount', 'FullAccess', 'ReadPermission')
RECIPIENT_RIGHTS = ('SendAs',)
INHERITANCE_TYPES = ('All', 'Children', 'Descendents', 'None', 'SelfAndChildren')

PERMISSION_SELECT = ('Identity', 'User', 'AccessRights', 'IsInherited', 'Deny', 'InheritanceType')
RECIPIENT_PERMISSION_SELECT = ('Identity', 'Trustee', 'AccessControlType', 'AccessRights', 'IsInherited', 'InheritanceType')
MAILBOX_SELECT = ('Identity', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'UserPrincipalName',
                  'ExternalDirectoryObjectId', 'RecipientTypeDetails', 'Guid')
SERVICE_PRINCIPAL_SELECT = ('Identity', 'DisplayName', 'AppId', 'ObjectId')
CAS_SELECT = ('Identity', 'PrimarySmtpAddress', 'ImapEnabled', 'PopEnabled', 'SmtpClientAuthenticationDisabled')


def _p(kind, required=False, choices=None):
    spec = {'type': kind, 'required': required}
    if choices:
        spec['choices'] = list(choices)
    return spec


def _op(cmdlet, params, write=False, select=(), bulk=None, confirm=False, kind='cmdlet'):
    return {
        'cmdlet': cmdlet,
        'params': params,
        'write': write,
        'select': list(select),
        # The one parameter that may carry a list of values; the runner calls
        # the cmdlet once per value so one round trip covers many mailboxes.
        'bulk': bulk,
        # Remove-*/Add-RecipientPermission prompt unless told not to.
        'confirm': confirm,
        'kind': kind,
    }


OPERATIONS = {
    'get_service_principal': _op('Get-ServicePrincipal', {'Identity': _p('identity')},
                                 select=SERVICE_PRINCIPAL_SELECT, bulk='Identity'),
    'new_service_principal': _op('New-ServicePrincipal', {
        'AppId': _p('guid', True), 'ObjectId': _p('guid', True), 'DisplayName': _p('string')},
        write=True, select=SERVICE_PRINCIPAL_SELECT),
    'set_service_principal': _op('Set-ServicePrincipal', {
        'Identity': _p('identity', True), 'DisplayName': _p('string', True)}, write=True),
    'remove_service_principal': _op('Remove-ServicePrincipal', {'Identity': _p('identity', True)},
                                    write=True, confirm=True),
    'get_mailbox': _op('Get-Mailbox', {'Identity': _p('identity'), 'ResultSize': _p('result_size')},
                       select=MAILBOX_SELECT, bulk='Identity'),
    'get_exo_mailbox': _op('Get-EXOMailbox', {'Identity': _p('identity'), 'ResultSize': _p('result_size')},
                           select=MAILBOX_SELECT, bulk='Identity'),
    'get_mailbox_permission': _op('Get-MailboxPermission', {'Identity': _p('identity', True), 'User': _p('identity')},
                                  select=PERMISSION_SELECT, bulk='Identity'),
    'get_exo_mailbox_permission': _op('Get-EXOMailboxPermission', {'Identity': _p('identity', True), 'User': _p('identity')},
                                      select=PERMISSION_SELECT, bulk='Identity'),
    'add_mailbox_permission': _op('Add-MailboxPermission', {
        'Identity': _p('identity', True), 'User': _p('identity', True),
        'AccessRights': _p('enum_list', True, MAILBOX_RIGHTS),
        'InheritanceType': _p('enum', choices=INHERITANCE_TYPES), 'AutoMapping': _p('bool')},
        write=True, select=PERMISSION_SELECT, bulk='Identity'),
    'remove_mailbox_permission': _op('Remove-MailboxPermission', {
        'Identity': _p('identity', True), 'User': _p('identity', True),
        'AccessRights': _p('enum_list', True, MAILBOX_RIGHTS),
        'InheritanceType': _p('enum', choices=INHERITANCE_TYPES)},
        write=True, bulk='Identity', confirm=True),
    'get_recipient_permission': _op('Get-RecipientPermission', {
        'Identity': _p('identity', True), 'Trustee': _p('identity'), 'AccessRights': _p('enum_list', choices=RECIPIENT_RIGHTS)},
        select=RECIPIENT_PERMISSION_SELECT, bulk='Identity'),
    'add_recipient_permission': _op('Add-RecipientPermission', {
        'Identity': _p('identity', True), 'Trustee': _p('identity', True),
        'AccessRights': _p('enum_list', True, RECIPIENT_RIGHTS)},
        write=True, select=RECIPIENT_PERMISSION_SELECT, bulk='Identity', confirm=True),
    'remove_recipient_permission': _op('Remove-RecipientPermission', {
        'Identity': _p('identity', True), 'Trustee': _p('identity', True),
        'AccessRights': _p('enum_list', True, RECIPIENT_RIGHTS)},
        write=True, bulk='Identity', confirm=True),
    'get_cas_mailbox': _op('Get-CASMailbox', {'Identity': _p('identity', True)}, select=CAS_SELECT, bulk='Identity'),
    'set_cas_mailbox': _op('Set-CASMailbox', {
        'Identity': _p('identity', True), 'ImapEnabled': _p('bool'), 'PopEnabled': _p('bool'),
        'SmtpClientAuthenticationDisabled': _p('nullable_bool')},
        write=True, bulk='Identity'),
    'get_transport_config': _op('Get-TransportConfig', {}, select=('SmtpClientAuthenticationDisabled',)),
    # Exchange has no "where does this user have access" query: the runner
    # lists every mailbox and asks each one, inside the same session, and
    # answers one result per mailbox where the trustee shows up (key: its UPN).
    'find_mailbox_permission': _op('Get-EXOMailboxPermission', {'User': _p('identity', True)},
                                   select=PERMISSION_SELECT, kind='find_by_user'),
    'find_recipient_permission': _op('Get-RecipientPermission', {'Trustee': _p('identity', True)},
                                     select=RECIPIENT_PERMISSION_SELECT, kind='find_by_user'),
}

# -- Role groups (issue 20: the admin identity's least-privilege Exchange role) ------------------------
# The management roles a role group of ours may hold: those the playbooks' cmdlets need (docs/permissions.md
# names which cmdlet needs which) and their read-only variants. A role outside this list is refused before
# Exchange is asked, so no task can put Organization Management's roles into a group by a typo.
MANAGEMENT_ROLES = ('Mail Recipients', 'Organization Client Access', 'Role Management', 'View-Only Configuration',
                    'View-Only Recipients')
ROLE_GROUP_SELECT = ('Identity', 'Name', 'Description', 'Roles', 'Members')
ROLE_GROUP_MEMBER_SELECT = ('Identity', 'Name', 'DisplayName', 'ExternalDirectoryObjectId', 'RecipientType')

OPERATIONS.update({
    'get_role_group': _op('Get-RoleGroup', {'Identity': _p('identity', True)}, select=ROLE_GROUP_SELECT),
    'new_role_group': _op('New-RoleGroup', {
        'Name': _p('string', True), 'Roles': _p('enum_list', True, MANAGEMENT_ROLES), 'Description': _p('string')},
        write=True, select=ROLE_GROUP_SELECT),
    'remove_role_group': _op('Remove-RoleGroup', {'Identity': _p('identity', True)}, write=True, confirm=True),
    'get_role_group_member': _op('Get-RoleGroupMember', {'Identity': _p('identity', True)}, select=ROLE_GROUP_MEMBER_SELECT),
    'add_role_group_member': _op('Add-RoleGroupMember', {'Identity': _p('identity', True), 'Member': _p('identity', True)},
                                 write=True),
    'remove_role_group_member': _op('Remove-RoleGroupMember', {'Identity': _p('identity', True), 'Member': _p('identity', True)},
                                    write=True, confirm=True),
})

# -- RBAC for Applications (SMTP without FullAccess; plugin_utils/exchange/smtp_rbac_plan.py) ----------------------
# Appended as one block. Learn: New-ManagementScope, New-ManagementRoleAssignment (-App, -CustomResourceScope),
# Test-ServicePrincipalAuthorization; the role is the one RBAC role for SMTP (smtp-app-rbac-onboarding).
SMTP_RBAC_ROLES = ('Application SMTP.SendAsApp',)
# A RecipientRestrictionFilter names every listed address, so it may be far longer than a name; Learn documents no
# limit, this one keeps a payload sane (about 1,400 addresses) and the module says so before anything is written.
MAX_FILTER = 65536
SCOPE_SELECT = ('Identity', 'Name', 'RecipientFilter', 'ScopeRestrictionType', 'Exclusive')
ROLE_ASSIGNMENT_SELECT = ('Identity', 'Name', 'Role', 'RoleAssignee', 'RoleAssigneeName', 'RoleAssigneeType',
                          'CustomResourceScope', 'Enabled')
AUTHORIZATION_SELECT = ('RoleName', 'GrantedPermissions', 'AllowedResourceScope', 'ScopeType', 'InScope')

OPERATIONS.update({
    'get_management_scope': _op('Get-ManagementScope', {'Identity': _p('identity', True)}, select=SCOPE_SELECT),
    'new_management_scope': _op('New-ManagementScope', {
        'Name': _p('string', True), 'RecipientRestrictionFilter': dict(_p('string', True), max=MAX_FILTER)},
        write=True, select=SCOPE_SELECT),
    'set_management_scope': _op('Set-ManagementScope', {
        'Identity': _p('identity', True), 'RecipientRestrictionFilter': dict(_p('string', True), max=MAX_FILTER)},
        write=True),
    'remove_management_scope': _op('Remove-ManagementScope', {'Identity': _p('identity', True)}, write=True, confirm=True),
    'get_management_role_assignment': _op('Get-ManagementRoleAssignment', {'Identity': _p('identity', True)},
                                          select=ROLE_ASSIGNMENT_SELECT),
    'new_management_role_assignment': _op('New-ManagementRoleAssignment', {
        'Name': _p('string', True), 'App': _p('guid', True), 'Role': _p('enum', True, SMTP_RBAC_ROLES),
        'CustomResourceScope': _p('identity', True)},
        write=True, select=ROLE_ASSIGNMENT_SELECT),
    'remove_management_role_assignment': _op('Remove-ManagementRoleAssignment', {'Identity': _p('identity', True)},
                                             write=True, confirm=True),
    # Bypasses the 30 min - 2 h cache real logins go through: a fast check of the scope, never the proof of a login.
    'test_service_principal_authorization': _op('Test-ServicePrincipalAuthorization', {
        'Identity': _p('identity', True), 'Resource': _p('identity')}, select=AUTHORIZATION_SELECT, bulk='Resource'),
})

# -- Delegating role assignments of a role group (issues 20 and 24: a least-privilege admin hands out the application roles) ---
# Learn, application-rbac: "The Organization Management role group has the delegating role assignment for the new
# Application RBAC roles"; a caller needs a delegating assignment of a role to assign it. New-ManagementRoleAssignment's
# SecurityGroup parameter set takes -Delegating (a switch: the group "can delegate the role to other users or groups");
# Get-ManagementRoleAssignment -RoleAssignee <group> -Delegating $true returns only that group's delegating assignments
# (-Delegating <Boolean>: "To return only delegating role assignments, specify a value of $true").
DELEGATED_ROLES = SMTP_RBAC_ROLES
DELEGATING_ASSIGNMENT_SELECT = ('Identity', 'Name', 'Role', 'RoleAssignee', 'RoleAssigneeName', 'RoleAssigneeType',
                                'RoleAssignmentDelegationType', 'Enabled')

OPERATIONS.update({
    'get_delegating_role_assignment': _op('Get-ManagementRoleAssignment', {
        'RoleAssignee': _p('identity', True), 'Delegating': _p('bool', True)}, select=DELEGATING_ASSIGNMENT_SELECT),
    'new_delegating_role_assignment': _op('New-ManagementRoleAssignment', {
        'Role': _p('enum', True, DELEGATED_ROLES), 'SecurityGroup': _p('identity', True), 'Delegating': _p('switch', True)},
        write=True, select=DELEGATING_ASSIGNMENT_SELECT),
})

CMDLETS = sorted(set(op['cmdlet'] for op in OPERATIONS.values()) | {'Get-EXOMailbox'})


class InvalidOperation(ValueError):
    """An operation or parameter that the allow-list refuses."""


def _check_string(op, name, value, limit=MAX_STRING):
    # The one rule for names (module_utils/names.py): the role and the Graph modules apply it before their first write.
    if not isinstance(value, str):
        raise InvalidOperation('%s: parameter %s must be a string, got %s' % (op, name, type(value).__name__))
    problem = text_problem(value, limit)
    if problem:
        raise InvalidOperation('%s: parameter %s %r cannot be used: %s' % (op, name, value, problem))
    return value


def check_value(op, name, spec, value):
    """Return the value if it fits the parameter spec, else raise InvalidOperation."""
    kind = spec['type']
    if kind in ('identity', 'string'):
        return _check_string(op, name, value, spec.get('max', MAX_STRING))
    if kind == 'guid':
        _check_string(op, name, value)
        if not GUID_RE.match(value):
            raise InvalidOperation('%s: parameter %s must be a GUID, got %r' % (op, name, value))
        return value.lower()
    if kind == 'result_size':
        if value == 'Unlimited' or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise InvalidOperation("%s: parameter %s must be a positive integer or 'Unlimited', got %r" % (op, name, value))
    if kind == 'bool':
        if not isinstance(value, bool):
            raise InvalidOperation('%s: parameter %s must be a boolean, got %r' % (op, name, value))
        return value
    if kind == 'switch':
        # A switch the operation always sets (-Delegating): false would ask for something else, not for less.
        if value is not True:
            raise InvalidOperation('%s: parameter %s is a switch and must be true, got %r' % (op, name, value))
        return value
    if kind == 'nullable_bool':
        if value is not None and not isinstance(value, bool):
            raise InvalidOperation('%s: parameter %s must be a boolean or null, got %r' % (op, name, value))
        return value
    if kind == 'enum':
        if value not in spec['choices']:
            raise InvalidOperation('%s: parameter %s must be one of %s, got %r' % (op, name, ', '.join(spec['choices']), value))
        return value
    if kind == 'enum_list':
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, (list, tuple)) or not values:
            raise InvalidOperation('%s: parameter %s must be a non-empty list of %s' % (op, name, ', '.join(spec['choices'])))
        bad = [v for v in values if v not in spec['choices']]
        if bad:
            raise InvalidOperation('%s: parameter %s: unknown value(s) %s; allowed: %s'
                                   % (op, name, ', '.join(repr(b) for b in bad), ', '.join(spec['choices'])))
        return list(values)
    raise InvalidOperation('%s: parameter %s has an unknown type %s' % (op, name, kind))


def validate_operation(operation, earlier=()):
    """Validate one operation dict and return its normalised copy.

    An operation is ``{"op": NAME, "params": {...}}`` and, for bulk
    operations, ``"for_each": [values of the bulk parameter]`` instead of that
    parameter in ``params``. A parameter set to None is refused unless its
    type is nullable: leaving an option unset means leaving the key out, so an
    empty identity can never widen a Get into "list everything".
    """
    if not isinstance(operation, dict):
        raise InvalidOperation('an operation must be a mapping, got %s' % type(operation).__name__)
    unknown_keys = set(operation) - {'op', 'params', 'for_each', 'when', 'for_each_from'}
    if unknown_keys:
        raise InvalidOperation('unknown operation keys: %s' % ', '.join(sorted(unknown_keys)))
    name = operation.get('op')
    definition = OPERATIONS.get(name) if isinstance(name, str) else None
    if definition is None:
        raise InvalidOperation('operation %r is not in the allow-list' % (name,))
    params = operation.get('params') or {}
    if not isinstance(params, dict):
        raise InvalidOperation('%s: params must be a mapping' % name)
    clean = {}
    for key, value in params.items():
        spec = definition['params'].get(key)
        if spec is None:
            raise InvalidOperation('%s: parameter %r is not allowed (allowed: %s)' % (name, key, ', '.join(sorted(definition['params'])) or 'none'))
        if value is None and spec['type'] != 'nullable_bool':
            raise InvalidOperation('%s: parameter %s is None; leave it out instead' % (name, key))
        clean[key] = check_value(name, key, spec, value)
    result = {'op': name, 'params': clean}
    if 'when' in operation:
        result['when'] = _check_when(name, definition, operation['when'], earlier)
    if 'for_each_from' in operation:
        if 'for_each' in operation:
            raise InvalidOperation('%s: give either for_each or for_each_from, not both' % name)
        result['for_each_from'] = _check_for_each_from(name, definition, clean, operation['for_each_from'], earlier)
    if 'for_each' in operation:
        bulk = definition['bulk']
        if not bulk:
            raise InvalidOperation('%s: does not take a for_each list' % name)
        if bulk in clean:
            raise InvalidOperation('%s: give %s either in params or in for_each, not both' % (name, bulk))
        values = operation['for_each']
        if not isinstance(values, (list, tuple)):
            raise InvalidOperation('%s: for_each must be a list' % name)
        if len(values) > MAX_BULK:
            raise InvalidOperation('%s: for_each has %d values, more than %d' % (name, len(values), MAX_BULK))
        result['for_each'] = [check_value(name, bulk, definition['params'][bulk], v) for v in values]
    present = set(clean) | ({definition['bulk']} if 'for_each' in result or 'for_each_from' in result else set())
    missing = [k for k, spec in definition['params'].items() if spec['required'] and k not in present]
    if missing:
        raise InvalidOperation('%s: missing required parameter(s) %s' % (name, ', '.join(sorted(missing))))
    return result


def validate_operations(operations):
    """Validate a list of operations; the whole list is refused at the first bad one."""
    if not isinstance(operations, (list, tuple)):
        raise InvalidOperation('operations must be a list')
    checked = []
    for index, operation in enumerate(operations):
        try:
            checked.append(validate_operation(operation, checked))
        except InvalidOperation as exc:
            raise InvalidOperation('operation %d: %s' % (index, exc))
    return checked


def is_write(operation):
    return OPERATIONS[operation['op']]['write']


# -- conditional writes -------------------------------------------------------
#
# A write may depend on what reads earlier in the same payload found, so one
# round trip (one Connect-ExchangeOnline) reads, decides and writes. The rules
# are data that only the runner on the host evaluates; the action plugin computes its own
# plan from the returned rows and checks the runner did exactly that.
#
#   "when": [{"read": I, "rows": "none"|"some", "match": {FIELD: VALUE}, "missing": "skip"|"act"}]
#       for each key (the for_each value, or null for a single call) the
#       write runs only when every condition holds. A condition looks at the
#       result of read I for the same key: "some" holds when at least one of
#       its rows matches, "none" when no row does. A read that failed for the
#       key makes the write skip that key, except that with "missing": "act"
#       a not-found error counts as "no rows" (create what is missing).
#       "key" (optional) looks at that fixed key of read I instead.
#   "for_each_from": {"read": I, "match": {...}, "except": {"read": J, "field": F}}
#       the write's keys are the keys of read I's results with a matching
#       row, minus the values of field F in read J's rows (case-insensitive).
#
# A row matches when every FIELD equals VALUE; a list field (or a
# comma-separated string, as some module versions print rights) matches
# when it contains VALUE. Strings compare case-insensitively.

CONDITION_KEYS = ('read', 'rows', 'match', 'missing', 'key')
ROWS_CHOICES = ('none', 'some')
MISSING_CHOICES = ('skip', 'act')


def _check_read_ref(name, ref, earlier, what):
    if not isinstance(ref, int) or isinstance(ref, bool) or not 0 <= ref < len(earlier):
        raise InvalidOperation('%s: %s must be the index of an earlier operation, got %r' % (name, what, ref))
    if is_write(earlier[ref]):
        raise InvalidOperation('%s: %s %d is a write, not a read' % (name, what, ref))
    return OPERATIONS[earlier[ref]['op']]


def _check_match(name, read_definition, match):
    if not isinstance(match, dict):
        raise InvalidOperation('%s: match must be a mapping' % name)
    for field, value in match.items():
        if field not in read_definition['select']:
            raise InvalidOperation('%s: match field %r is not returned by %s' % (name, field, read_definition['cmdlet']))
        if value is not None and not isinstance(value, (str, bool)):
            raise InvalidOperation('%s: match value of %s must be a string, a boolean or null' % (name, field))
    return dict(match)


def _check_when(name, definition, conditions, earlier):
    if not definition['write']:
        raise InvalidOperation('%s: only writes take a when condition' % name)
    conditions = [conditions] if isinstance(conditions, dict) else conditions
    if not isinstance(conditions, list) or not conditions:
        raise InvalidOperation('%s: when must be a condition or a non-empty list of conditions' % name)
    checked = []
    for condition in conditions:
        if not isinstance(condition, dict) or set(condition) - set(CONDITION_KEYS):
            raise InvalidOperation('%s: a condition takes only %s' % (name, ', '.join(CONDITION_KEYS)))
        read_definition = _check_read_ref(name, condition.get('read'), earlier, 'when.read')
        rows = condition.get('rows')
        if rows not in ROWS_CHOICES:
            raise InvalidOperation('%s: when.rows must be one of %s' % (name, ', '.join(ROWS_CHOICES)))
        missing = condition.get('missing', 'skip')
        if missing not in MISSING_CHOICES:
            raise InvalidOperation('%s: when.missing must be one of %s' % (name, ', '.join(MISSING_CHOICES)))
        entry = {'read': condition['read'], 'rows': rows, 'match': _check_match(name, read_definition, condition.get('match') or {}),
                 'missing': missing}
        if 'key' in condition:
            # Look at one fixed key of the read (null: a read without for_each),
            # e.g. "the principal exists" guarding every mailbox of a bulk write.
            if condition['key'] is not None:
                _check_string(name, 'when.key', condition['key'])
            entry['key'] = condition['key']
        checked.append(entry)
    return checked


def _check_for_each_from(name, definition, clean, source, earlier):
    bulk = definition['bulk']
    if not bulk or not definition['write']:
        raise InvalidOperation('%s: only bulk writes take for_each_from' % name)
    if bulk in clean:
        raise InvalidOperation('%s: give %s either in params or through for_each_from, not both' % (name, bulk))
    if not isinstance(source, dict) or set(source) - {'read', 'match', 'except'}:
        raise InvalidOperation('%s: for_each_from takes read, match and except' % name)
    read_definition = _check_read_ref(name, source.get('read'), earlier, 'for_each_from.read')
    checked = {'read': source['read'], 'match': _check_match(name, read_definition, source.get('match') or {})}
    if source.get('except') is not None:
        exclude = source['except']
        if not isinstance(exclude, dict) or set(exclude) != {'read', 'field'}:
            raise InvalidOperation('%s: for_each_from.except takes read and field' % name)
        except_definition = _check_read_ref(name, exclude['read'], earlier, 'for_each_from.except.read')
        if exclude['field'] not in except_definition['select']:
            raise InvalidOperation('%s: field %r is not returned by %s' % (name, exclude['field'], except_definition['cmdlet']))
        checked['except'] = {'read': exclude['read'], 'field': exclude['field']}
    return checked


def is_not_found(error):
    """Whether a per-call error says the object does not exist (as opposed to any other failure).

    The runner decides it, in one place (Test-RunnerNotFound: Exchange's
    ManagementObjectNotFoundException in the record's reason, type or the
    message's middle field), and sends the verdict with each error.
    """
    return bool((error or {}).get('not_found'))
