"""Exchange Online RBAC for the sandbox: management role groups, their roles and members, and which cmdlets a role holds.

An app whose service principal is a member of a role group may run exactly the cmdlets of that group's management
roles (Microsoft Learn, "App-only authentication for unattended scripts in Exchange Online PowerShell": "Assign custom
role groups to the application using service principals"). Which role holds which cmdlet: ROLE_CMDLETS, each line
cited in tests/sandbox/README.md ("Role groups"); what no source shows is marked weak there.

The cmdlets (Get/New/Remove-RoleGroup, Get/Add/Remove-RoleGroupMember) take (org, params) and return (objects, warnings)
or raise CmdletError, like those in cmdlets.py, which registers them in its appended block.
"""

from . import rbac
from .model import CmdletError, not_found

# Management role -> the cmdlets of the allow-list it holds (Get-ManagementRole -Cmdlet <name> answers the role).
# Mail Recipients: Microsoft365DSC's EXOMailboxPermission / EXORecipientPermission / EXOCASMailboxSettings settings.json
# (requiredroles) and Exchange Online's "Recipients permissions" page. Role Management: Microsoft365DSC's
# EXOServicePrincipal and EXOManagementRoleAssignment settings.json, and `Get-ManagementRole -Cmdlet New-ServicePrincipal`
# answering RoleType RoleManagement (a public capture). View-Only Configuration: EXOTransportConfig (read).
ROLE_CMDLETS = {
    'Mail Recipients': (
        'Get-Mailbox', 'Get-EXOMailbox', 'Get-MailboxPermission', 'Get-EXOMailboxPermission', 'Add-MailboxPermission',
        'Remove-MailboxPermission', 'Get-RecipientPermission', 'Add-RecipientPermission', 'Remove-RecipientPermission',
        'Get-CASMailbox', 'Set-CASMailbox'),
    # Get-RecipientPermission is Mail Recipients' only (Microsoft365DSC EXORecipientPermission: read needs Mail Recipients).
    'View-Only Recipients': ('Get-Mailbox', 'Get-EXOMailbox', 'Get-MailboxPermission', 'Get-EXOMailboxPermission', 'Get-CASMailbox'),
    'Role Management': (
        'Get-ServicePrincipal', 'New-ServicePrincipal', 'Set-ServicePrincipal', 'Remove-ServicePrincipal',
        'Get-RoleGroup', 'New-RoleGroup', 'Remove-RoleGroup', 'Get-RoleGroupMember', 'Add-RoleGroupMember',
        'Remove-RoleGroupMember',
        # Issue 24's RBAC for Applications cmdlets (a helper adds them to the fake): Role Management holds them too.
        'Get-ManagementScope', 'New-ManagementScope', 'Set-ManagementScope', 'Remove-ManagementScope',
        'Get-ManagementRoleAssignment', 'New-ManagementRoleAssignment', 'Remove-ManagementRoleAssignment',
        'Test-ServicePrincipalAuthorization'),
    'View-Only Configuration': ('Get-TransportConfig',),
    'Organization Client Access': ('Get-CASMailbox', 'Set-CASMailbox'),
}
ROLE_WRITES = {'New-RoleGroup', 'Remove-RoleGroup', 'Add-RoleGroupMember', 'Remove-RoleGroupMember'}
MAX_ROLE_GROUP_NAME = 64  # New-RoleGroup's Learn page: "The maximum length of the name is 64 characters."


class RoleGroup:
    def __init__(self, name, roles, description=None):
        self.name = name
        self.roles = list(roles)
        self.description = description or ''
        self.members = []  # service principal keys (ServicePrincipal.key)

    def member_names(self, org):
        return [org.service_principals[k].identity for k in self.members if k in org.service_principals]

    def row(self, org):
        # (weak) Members lists each member by its Identity; ManagedBy is left out.
        return {'Identity': self.name, 'Name': self.name, 'DisplayName': self.name, 'Description': self.description,
                'Roles': list(self.roles), 'Members': self.member_names(org), 'RoleGroupType': 'Standard'}


def role_groups(org):
    """The org's role groups by lower-case name (kept on the org; built on first use)."""
    groups = getattr(org, 'role_groups', None)
    if groups is None:
        groups = org.role_groups = {}
    return groups


def find_role_group(org, identity):
    group = role_groups(org).get(str(identity).strip().lower())
    if group is None:
        raise not_found(identity)
    return group


def cmdlets_of(org, app_id):
    """The cmdlets an app may run through the role groups its service principal is a member of (empty: none)."""
    allowed = set()
    for group in groups_of(org, app_id):
        for role in group.roles:
            allowed.update(ROLE_CMDLETS.get(role, ()))
    return allowed


def groups_of(org, app_id):
    """The role groups an app's service principal is a member of."""
    app_id = (app_id or '').lower()
    keys = {sp.key for sp in org.service_principals.values() if sp.app_id == app_id}
    return [group for group in role_groups(org).values() if keys & set(group.members)]


def check_assignment(org, app_id, cmdlet, params):
    """An app whose Exchange rights come from role groups assigns a role (New-ManagementRoleAssignment, to an app or as a
    delegating assignment) only when one of its groups holds a delegating assignment of that role. Learn, "Role Based
    Access Control for Applications in Exchange Online": "The Organization Management role group has the delegating role
    assignment for the new Application RBAC roles"; a delegating assignment "give[s] the role assignee the ability to assign
    this role" (Learn, built-in role pages, "Delegating assignment"). The error's wording is not documented (weak)."""
    if cmdlet != 'New-ManagementRoleAssignment':
        return
    try:
        role = rbac.application_role(params.get('Role'))
    except CmdletError:
        return  # the cmdlet answers a role it does not know itself
    mine = {group.name.lower() for group in groups_of(org, app_id)}
    if mine & rbac.delegating_groups(org, role):
        return
    assignee = params.get('App') or params.get('SecurityGroup')
    raise CmdletError("You don't have a delegating role assignment for the management role \"%s\", so you can't assign it to "
                      "\"%s\". A delegating assignment of the role to one of your role groups is needed." % (role, assignee),
                      exception='Microsoft.Exchange.Management.RbacTasks.ExRbacNoDelegatingRoleAssignmentException')


def _roles(params):
    roles = params.get('Roles') or []
    roles = [roles] if isinstance(roles, str) else list(roles)
    unknown = [r for r in roles if r not in ROLE_CMDLETS]
    if unknown:
        # (weak) the text; the exception is what an unknown identity gets everywhere else.
        raise not_found(unknown[0])
    return roles


def get_role_group(org, params):
    if not params.get('Identity'):
        return [g.row(org) for g in role_groups(org).values()], []
    return [find_role_group(org, params['Identity']).row(org)], []


def new_role_group(org, params):
    name = params['Name']
    if len(name) > MAX_ROLE_GROUP_NAME:
        raise CmdletError("The length of the property is too long. The maximum length is %d and the length of the value provided "
                          "is %d." % (MAX_ROLE_GROUP_NAME, len(name)), status=400)  # (weak) the wording
    if name.strip().lower() in role_groups(org):
        # (weak) the wording; the exception is Exchange's for any object that exists already.
        raise CmdletError("The role group '%s' already exists. Please specify a different name." % name,
                          exception='Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException')
    group = RoleGroup(name, _roles(params), params.get('Description'))
    for member in params.get('Members') or []:
        group.members.append(org.find_service_principal(member).key)
    role_groups(org)[name.strip().lower()] = group
    return [group.row(org)], []


def remove_role_group(org, params):
    group = find_role_group(org, params['Identity'])
    del role_groups(org)[group.name.lower()]
    rbac.remove_group_assignments(org, group.name)
    return [], []


def get_role_group_member(org, params):
    group = find_role_group(org, params['Identity'])
    rows = []
    for key in group.members:
        sp = org.service_principals.get(key)
        if sp is None:
            continue  # (weak) a removed service principal no longer shows as a member
        # (weak) a service principal member's row: the Exchange object's Identity/Name (its object id) and the Entra ids.
        rows.append({'Identity': sp.identity, 'Name': sp.identity, 'DisplayName': sp.display_name,
                     'ExternalDirectoryObjectId': sp.object_id, 'RecipientType': 'ServicePrincipal'})
    return rows, []


def add_role_group_member(org, params):
    group = find_role_group(org, params['Identity'])
    sp = org.find_service_principal(params['Member'])
    if sp.key in group.members:
        # (weak) the wording and that it is an error rather than a warning.
        raise CmdletError("The recipient \"%s\" is already a member of the management role group \"%s\"." % (sp.identity, group.name),
                          exception='Microsoft.Exchange.Management.RbacTasks.ExRbacMemberAlreadyExistsException')
    group.members.append(sp.key)
    return [], []


def remove_role_group_member(org, params):
    group = find_role_group(org, params['Identity'])
    sp = org.find_service_principal(params['Member'])
    if sp.key not in group.members:
        raise CmdletError("The recipient \"%s\" isn't a member of the management role group \"%s\"." % (sp.identity, group.name),  # (weak)
                          exception='Microsoft.Exchange.Management.RbacTasks.ExRbacMemberNotFoundException')
    group.members.remove(sp.key)
    return [], []


ROLE_GROUP_CMDLETS = {
    'Get-RoleGroup': get_role_group,
    'New-RoleGroup': new_role_group,
    'Remove-RoleGroup': remove_role_group,
    'Get-RoleGroupMember': get_role_group_member,
    'Add-RoleGroupMember': add_role_group_member,
    'Remove-RoleGroupMember': remove_role_group_member,
}


def replace_role_group(org, body):
    """The control route's group (made again when it exists): as an admin would change it by hand. A group made again
    has lost its role assignments with the old one (Remove-RoleGroup)."""
    if role_groups(org).pop(str(body['Name']).strip().lower(), None) is not None:
        rbac.remove_group_assignments(org, str(body['Name']).strip())
    objects, _warnings = new_role_group(org, body)
    return objects[0]


def snapshot(org):
    return [g.row(org) for g in role_groups(org).values()]
