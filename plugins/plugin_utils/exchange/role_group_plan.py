# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of m365.mail_oauth.exchange_role_group: its operations, and the writes due for what Exchange answered.

One round trip reads the group, its members and each member's Exchange service principal, and writes what is missing
(New-RoleGroup, Add-RoleGroupMember) under the runner's conditions. A group whose roles differ, or that holds members
not asked for, cannot be told apart by a condition on the host; the controller sees it in the rows and repairs it in a
second round trip (repair_operations): the group is made again with the asked roles and members (Exchange has no
Set-RoleGroup -Roles; a role is added to a group by a role assignment).

Delegating roles (issues 20 and 24): for each application role asked, a delegating assignment of it to the group
(New-ManagementRoleAssignment -Role <role> -SecurityGroup <group> -Delegating), so the group's members may assign that
role to an app (Learn, application-rbac: the delegating assignment of the Application roles is what lets Organization
Management assign them; Role Management alone does not). It is read with Get-ManagementRoleAssignment -RoleAssignee
<group> -Delegating $true after the principals, and only when roles are asked, so a caller without them sends what it
sent before. A delegating assignment the group holds and the task does not list is left alone: nothing tells ours from
one an administrator made. Remove-RoleGroup removes every assignment of the group (Learn, Remove-RoleGroup: "all the
management role assignments that assign management roles to the role group are also removed"), so state=absent and the
repair's recreation need no removal of their own; the recreation makes the listed ones again.

A read that failed for another reason than not-found raises (service_principal_plan.principal_rows): it is never planned on.
"""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import DELEGATED_ROLES
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.service_principal_plan import principal_rows

GROUP, MEMBERS, FIRST_PRINCIPAL = 0, 1, 2
# Get-RoleGroupMember's row for a service principal: no Microsoft page shows it (weak, tests/sandbox/README.md); a member
# counts as ours when any of these fields carries its object id.
MEMBER_ID_FIELDS = ('ExternalDirectoryObjectId', 'Name', 'Identity')


def delegating_read(members):
    """The index of the delegating assignments' read: after the principals'."""
    return FIRST_PRINCIPAL + len(members)


def _delegating_writes(name, delegating, when_read=None):
    writes = []
    for role in delegating:
        write = {'op': 'new_delegating_role_assignment', 'params': {'Role': role, 'SecurityGroup': name, 'Delegating': True}}
        if when_read is not None:
            # None of the group's delegating assignments is of this role; a group not found yet is one made just before.
            write['when'] = {'read': when_read, 'rows': 'none', 'match': {'Role': role}, 'missing': 'act'}
        writes.append(write)
    return writes


def operations(name, roles, members, description, state, delegating=()):
    """(reads, writes) of the first round trip. members: [{'object_id', 'app_id'}] resolved in Graph; delegating: the
    application roles the group must be able to assign."""
    reads = [{'op': 'get_role_group', 'params': {'Identity': name}}]
    if state == 'absent':
        return reads, [{'op': 'remove_role_group', 'params': {'Identity': name}, 'when': {'read': GROUP, 'rows': 'some', 'match': {}}}]
    reads.append({'op': 'get_role_group_member', 'params': {'Identity': name}})
    reads.extend({'op': 'get_service_principal', 'params': {'Identity': m['object_id']}} for m in members)
    new = {'Name': name, 'Roles': list(roles)}
    if description:
        new['Description'] = description
    writes = [{'op': 'new_role_group', 'params': new, 'when': {'read': GROUP, 'rows': 'none', 'match': {}, 'missing': 'act'}}]
    for index, member in enumerate(members):
        # Only a member Exchange knows (New-ServicePrincipal first), and only when no member row names it.
        when = [{'read': FIRST_PRINCIPAL + index, 'rows': 'some', 'match': {}}]
        when.extend({'read': MEMBERS, 'rows': 'none', 'match': {field: member['object_id']}, 'missing': 'act'} for field in MEMBER_ID_FIELDS)
        writes.append({'op': 'add_role_group_member', 'params': {'Identity': name, 'Member': member['object_id']}, 'when': when})
    if delegating:
        reads.append({'op': 'get_delegating_role_assignment', 'params': {'RoleAssignee': name, 'Delegating': True}})
        writes.extend(_delegating_writes(name, delegating, delegating_read(members)))
    return reads, writes


def role_name(value):
    """A role as Get-RoleGroup shows it; a distinguished name or path is cut to its last part (weak: the REST form)."""
    text = str(value or '')
    for separator in ('\\', '/'):
        text = text.rsplit(separator, 1)[-1]
    if text.upper().startswith('CN='):
        text = text[3:].split(',', 1)[0]
    return text.strip()


def member_ids(rows):
    """Lower-cased values of the member rows' id fields, per row."""
    return [set(str(row.get(f) or '').lower() for f in MEMBER_ID_FIELDS) - {''} for row in rows]


def read_state(answer, name, members, delegating=()):
    """What the first round trip read: {'group': row or None, 'members': rows, 'known': {object_id: bool},
    'delegating': the roles of the group's delegating assignments, or None when they were not read}."""
    state = {'group': (principal_rows(answer, GROUP, name, 'Get-RoleGroup') or [None])[0], 'members': [], 'known': {},
             'delegating': None}
    for index, member in enumerate(members):
        state['known'][member['object_id']] = bool(principal_rows(answer, FIRST_PRINCIPAL + index, member['object_id']))
    if state['group'] is not None:
        state['members'] = principal_rows(answer, MEMBERS, name, 'Get-RoleGroupMember')
    if delegating:
        # Read even when the group was not found: a failure other than not-found still raises.
        rows = principal_rows(answer, delegating_read(members), '%s -Delegating $true' % name, 'Get-ManagementRoleAssignment -RoleAssignee')
        state['delegating'] = sorted(set(role_name(row.get('Role')) for row in rows)) if state['group'] is not None else []
    return state


def expected(state, roles, members, present, delegating=()):
    """The first round trip's writes due for the state read, as (op, key) pairs, and the repair a second one needs.

    repair: None, or {'recreate': bool, 'remove_members': [identities]} when roles differ or other members are in.
    """
    if not present:
        return ([('remove_role_group', None)] if state['group'] is not None else []), None
    planned, group = [], state['group']
    if group is None:
        planned.append(('new_role_group', None))
    ids = member_ids(state['members'])
    for member in members:
        in_group = any(member['object_id'] in row for row in ids)
        if state['known'].get(member['object_id']) and not in_group:
            planned.append(('add_role_group_member', None))
    held = set(r.lower() for r in state.get('delegating') or [])
    planned.extend(('new_delegating_role_assignment', None) for role in delegating if role.lower() not in held)
    if group is None:
        return planned, None
    # An application role in Roles is one the group holds a delegating assignment of (weak: whether Get-RoleGroup shows
    # those is not documented); it is not one of the management roles asked.
    have = set(role_name(r).lower() for r in (group.get('Roles') or [])) - set(r.lower() for r in DELEGATED_ROLES)
    recreate = have != set(r.lower() for r in roles)
    wanted = set(m['object_id'] for m in members)
    extra = [row for row, row_ids in zip(state['members'], ids) if not row_ids & wanted]
    if not recreate and not extra:
        return planned, None
    return planned, {'recreate': recreate, 'remove_members': [row.get('Identity') or row.get('Name') for row in extra]}


def repair_operations(name, roles, members, description, repair, delegating=()):
    """The second round trip's writes: the group made again with the asked roles, members and delegating assignments
    (Remove-RoleGroup took its assignments with it), or other members removed."""
    if repair['recreate']:
        new = {'Name': name, 'Roles': list(roles)}
        if description:
            new['Description'] = description
        writes = [{'op': 'remove_role_group', 'params': {'Identity': name}}, {'op': 'new_role_group', 'params': new}]
        writes.extend({'op': 'add_role_group_member', 'params': {'Identity': name, 'Member': m['object_id']}} for m in members)
        return writes + _delegating_writes(name, delegating)
    return [{'op': 'remove_role_group_member', 'params': {'Identity': name, 'Member': identity}} for identity in repair['remove_members']]


def group_view(row, member_rows, delegating=None):
    """The diff's and the result's view of a group: name, roles, members (their ids), sorted, and the roles of its delegating
    assignments when they were read."""
    if row is None:
        return {}
    view = {'name': row.get('Name') or row.get('Identity'), 'roles': sorted(role_name(r) for r in row.get('Roles') or []),
            'members': sorted(str(m.get('ExternalDirectoryObjectId') or m.get('Identity') or m.get('Name')).lower() for m in member_rows)}
    if delegating is not None:
        view['delegating_roles'] = list(delegating)
    return view
