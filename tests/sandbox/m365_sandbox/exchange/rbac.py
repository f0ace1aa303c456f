"""RBAC for Applications in Exchange Online: management scopes, role assignments to service principals, and
Test-ServicePrincipalAuthorization, against ExchangeOrg.

Sources per behaviour: the "RBAC for Applications" table in tests/sandbox/README.md; what no source shows is
marked (weak) here and there. The OPATH subset the scopes understand is documented on opath_parse().
"""

import re

from .model import CmdletError, not_found

# Application roles Exchange Online ships (Microsoft Learn, application-rbac "Supported Application Roles", and
# smtp-app-rbac-onboarding for SMTP): role name -> the permission it grants. Only a few of the Graph ones are kept.
APPLICATION_ROLES = {
    'Application SMTP.SendAsApp': 'SMTP.SendAsApp',
    'Application Mail.Read': 'Mail.Read',
    'Application Mail.Send': 'Mail.Send',
    'Application Mail.ReadWrite': 'Mail.ReadWrite',
}
SMTP_ROLE = 'Application SMTP.SendAsApp'
# (weak) the distinguished names of Exchange Online objects: the form Get-DistributionGroup shows.
DN_SUFFIX = 'OU=%s,OU=Microsoft Exchange Hosted Organizations,DC=NAMPR00A001,DC=PROD,DC=OUTLOOK,DC=COM'
NAME_LIMIT = 64
ALREADY_EXISTS = 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException'
BAD_FILTER = 'System.Management.Automation.ParameterBindingException'

# Recipient properties a scope filter may name here, and how each reads a mailbox (values compared without case).
FILTER_PROPERTIES = {
    'alias': lambda org, m: [m.alias],
    'name': lambda org, m: [m.alias],
    'displayname': lambda org, m: [m.display_name],
    'primarysmtpaddress': lambda org, m: [m.upn],
    'windowsemailaddress': lambda org, m: [m.upn],
    'userprincipalname': lambda org, m: [m.upn],
    'emailaddresses': lambda org, m: sorted(m.addresses) + ['smtp:' + a for a in sorted(m.addresses)],
    'externaldirectoryobjectid': lambda org, m: [m.external_id],
    'guid': lambda org, m: [m.guid],
    'recipienttype': lambda org, m: ['UserMailbox'],
    'recipienttypedetails': lambda org, m: ['UserMailbox'],
    # Direct membership only (MemberOfGroup is the memberOf back-link, not expanded through nested groups).
    'memberofgroup': lambda org, m: [g['dn'] for g in org.groups.values() if m.upn.lower() in g['members']],
}


# -- OPATH ----------------------------------------------------------------------------------------------

class FilterError(ValueError):
    """A filter Exchange would refuse; message is the text after 'Exception setting "...": '."""


_TOKEN = re.compile(r"""\s*(?:(?P<open>\()|(?P<close>\))|(?P<op>-[A-Za-z]+)|'(?P<single>(?:[^']|'')*)'|"(?P<double>(?:[^"]|"")*)"|"""
                    r"""(?P<null>\$null)\b|(?P<word>[A-Za-z][A-Za-z0-9]*))""")
COMPARISONS = ('-eq', '-ne', '-like', '-notlike')


def _tokens(text):
    position, out = 0, []
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise _syntax(text, position + len(text[position:]) - len(text[position:].lstrip()))
        start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        kind = match.lastgroup
        value = match.group(kind)
        if kind == 'single':
            value = value.replace("''", "'")
        elif kind == 'double':
            value, kind = value.replace('""', '"'), 'single'
        elif kind == 'op':
            value = value.lower()
        out.append((kind, value, start))
        position = match.end()
    return out


def _syntax(text, position):
    # (weak) Exchange's wording for a filter it cannot parse: the on-premises text, no Exchange Online capture.
    return FilterError('Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n"%s" at position %d.'
                       % (text, position + 1))


def opath_parse(text):
    """Parse the OPATH subset the sandbox's scopes understand; FilterError for anything else.

        filter  := or
        or      := and ('-or' and)*
        and     := unary ('-and' unary)*
        unary   := '-not' unary | '(' or ')' | Property op value
        op      := -eq | -ne | -like | -notlike        (-like/-notlike: '*' wildcards)
        value   := 'text' | "text" | $null             ('' and "" escape a quote)

    Properties: the keys of FILTER_PROPERTIES (case does not matter); any other name is refused as Exchange refuses
    a property it does not know. The tree is nested tuples: ('or'|'and', a, b), ('not', a), ('cmp', prop, op, value).
    """
    if not isinstance(text, str) or not text.strip():
        raise _syntax(text or '', 0)
    tokens = _tokens(text)
    index = [0]

    def peek():
        return tokens[index[0]] if index[0] < len(tokens) else (None, None, len(text))

    def take():
        token = peek()
        index[0] += 1
        return token

    def binary(word, operand):
        left = operand()
        while peek()[:2] == ('op', '-' + word):
            take()
            left = (word, left, operand())
        return left

    def parse_or():
        return binary('or', parse_and)

    def parse_and():
        return binary('and', parse_unary)

    def parse_unary():
        kind, value, position = take()
        if (kind, value) == ('op', '-not'):
            return ('not', parse_unary())
        if kind == 'open':
            inner = parse_or()
            close_kind, _value, close_position = take()
            if close_kind != 'close':
                raise _syntax(text, close_position)
            return inner
        if kind != 'word':
            raise _syntax(text, position)
        if value.lower() not in FILTER_PROPERTIES:
            # (weak) the on-premises wording for an unknown property.
            raise FilterError('"%s" is not a recognized filterable property. For a list of filterable properties, see the command help.\n'
                              '"%s" at position %d.' % (value, text, position + 1))
        op_kind, op, op_position = take()
        if op_kind != 'op' or op not in COMPARISONS:
            raise _syntax(text, op_position)
        value_kind, literal, value_position = take()
        if value_kind not in ('single', 'null'):
            raise _syntax(text, value_position)
        return ('cmp', value.lower(), op, None if value_kind == 'null' else literal)

    tree = parse_or()
    if index[0] < len(tokens):
        raise _syntax(text, tokens[index[0]][2])
    return tree


def _like(pattern, value):
    return re.fullmatch('.*'.join(re.escape(part) for part in pattern.lower().split('*')), value.lower()) is not None


def opath_match(tree, org, mailbox):
    kind = tree[0]
    if kind == 'or':
        return opath_match(tree[1], org, mailbox) or opath_match(tree[2], org, mailbox)
    if kind == 'and':
        return opath_match(tree[1], org, mailbox) and opath_match(tree[2], org, mailbox)
    if kind == 'not':
        return not opath_match(tree[1], org, mailbox)
    _cmp, prop, op, literal = tree
    values = [v.lower() for v in FILTER_PROPERTIES[prop](org, mailbox) if v]
    if literal is None:
        found = not values
    elif op in ('-like', '-notlike'):
        found = any(_like(literal, v) for v in values)
    else:
        found = literal.lower() in values
    return found if op in ('-eq', '-like') else not found


# -- the model ----------------------------------------------------------------------------------------------

def _bad_filter(parameter, exc):
    # 400 (the REST notes' shape for a parameter the service refuses); the text is PowerShell's "Exception setting" form (weak).
    return CmdletError('Cannot bind parameter \'%s\' to the target. Exception setting "%s": "%s"' % (parameter, parameter, exc),
                       exception=BAD_FILTER, status=400)


def _already_exists(kind, name):
    # (weak) the text; Exchange raises ADObjectAlreadyExistsException for a second object of the same name.
    return CmdletError("The %s \"%s\" already exists. Specify a different name." % (kind, name), exception=ALREADY_EXISTS)


def find_scope(org, identity):
    scope = org.management_scopes.get(str(identity).strip().lower())
    if scope is None:
        raise not_found(identity)
    return scope


def find_assignment(org, identity):
    assignment = org.role_assignments.get(str(identity).strip().lower())
    if assignment is None:
        raise not_found(identity)
    return assignment


def scope_members(org, scope):
    """The mailboxes a scope covers (upns, lower case); a scope's filter was parsed when it was stored."""
    tree = opath_parse(scope['filter'])
    return sorted(m.upn.lower() for m in org.mailboxes.values() if opath_match(tree, org, m))


def in_scope(org, assignment, mailbox):
    if assignment['scope'] is None:
        return True
    scope = org.management_scopes.get(assignment['scope'].lower())
    return scope is not None and opath_match(opath_parse(scope['filter']), org, mailbox)


def scope_row(scope):
    # Property names of the ManagementScope object (Exchange's ManagementScope class: RecipientFilter, RecipientRoot,
    # ScopeRestrictionType, Exclusive, ServerFilter, DatabaseFilter); the filter is shown as stored (weak: Exchange may
    # normalise its spacing or parentheses).
    return {'Name': scope['name'], 'Identity': scope['name'], 'ScopeRestrictionType': 'RecipientScope', 'Exclusive': False,
            'RecipientRoot': None, 'RecipientFilter': scope['filter'], 'ServerFilter': None, 'DatabaseFilter': None}


def assignment_row(org, assignment):
    if assignment.get('group'):
        # A role group's assignment (issues 20 and 24: only delegating ones are made here). RoleAssigneeType RoleGroup and
        # RoleAssignmentDelegationType are Get-ManagementRoleAssignment's (-RoleAssigneeType lists RoleGroup); the value
        # DelegatingOrgWide for an unscoped delegating assignment is from public captures of Organization Management's (weak).
        return {'Name': assignment['name'], 'Identity': assignment['name'], 'Role': assignment['role'],
                'RoleAssigneeType': 'RoleGroup', 'RoleAssignee': assignment['group'], 'RoleAssigneeName': assignment['group'],
                'AssignmentMethod': 'Direct', 'CustomResourceScope': None, 'RecipientWriteScope': 'Organization',
                'CustomRecipientWriteScope': None, 'Enabled': True,
                'RoleAssignmentDelegationType': 'DelegatingOrgWide' if assignment.get('delegating') else 'Regular'}
    sp = org.service_principals.get(assignment['sp'])
    assignee = sp.identity if sp else assignment['sp_identity']
    return {'Name': assignment['name'], 'Identity': assignment['name'], 'Role': assignment['role'],
            'RoleAssigneeType': 'ServicePrincipal', 'RoleAssignee': assignee, 'RoleAssigneeName': assignee,
            'AssignmentMethod': 'Direct', 'CustomResourceScope': assignment['scope'],
            'RecipientWriteScope': 'CustomRecipientScope' if assignment['scope'] else 'Organization',
            'CustomRecipientWriteScope': None, 'Enabled': True, 'RoleAssignmentDelegationType': 'Regular'}


# -- cmdlets ------------------------------------------------------------------------------------------------

def get_management_scope(org, params):
    if params.get('Identity'):
        return [scope_row(find_scope(org, params['Identity']))], []
    return [scope_row(s) for s in sorted(org.management_scopes.values(), key=lambda s: s['name'].lower())], []


def _checked_filter(params):
    for unsupported in ('RecipientRoot', 'Exclusive'):
        if params.get(unsupported):
            # Not emulated: refused rather than ignored, so no test passes on a scope that means something else.
            raise CmdletError('The sandbox does not emulate -%s on management scopes.' % unsupported, exception='System.ArgumentException')
    text = params.get('RecipientRestrictionFilter')
    try:
        opath_parse(text)
    except FilterError as exc:
        raise _bad_filter('RecipientRestrictionFilter', exc)
    return text


def new_management_scope(org, params):
    name = params['Name']
    text = _checked_filter(params)
    if name.lower() in org.management_scopes:
        raise _already_exists('management scope', name)
    scope = {'name': name, 'filter': text}
    org.management_scopes[name.lower()] = scope
    return [scope_row(scope)], []


def set_management_scope(org, params):
    scope = find_scope(org, params['Identity'])
    changes = {}
    if 'RecipientRestrictionFilter' in params:
        text = _checked_filter(params)
        if text != scope['filter']:
            changes['filter'] = text
    if params.get('Name') and params['Name'] != scope['name']:
        if params['Name'].lower() in org.management_scopes:
            raise _already_exists('management scope', params['Name'])
        changes['name'] = params['Name']
    if not changes:
        return [], ["The command completed successfully but no settings of '%s' have been modified." % scope['name']]  # (weak)
    old = scope['name']
    scope.update(changes)
    if 'name' in changes:
        del org.management_scopes[old.lower()]
        org.management_scopes[scope['name'].lower()] = scope
        for assignment in org.role_assignments.values():
            if assignment['scope'] and assignment['scope'].lower() == old.lower():
                assignment['scope'] = scope['name']
    return [], []


def remove_management_scope(org, params):
    scope = find_scope(org, params['Identity'])
    users = sorted(a['name'] for a in org.role_assignments.values() if a['scope'] and a['scope'].lower() == scope['name'].lower())
    if users:
        # (weak) Exchange refuses to remove a scope an assignment still uses; the wording is not known.
        raise CmdletError('The management scope "%s" can\'t be removed because it\'s referenced by the management role assignments: %s.'
                          % (scope['name'], ', '.join(users)), exception='System.InvalidOperationException')
    del org.management_scopes[scope['name'].lower()]
    return [], []


def get_management_role_assignment(org, params):
    if params.get('Identity'):
        rows = [find_assignment(org, params['Identity'])]
    else:
        rows = sorted(org.role_assignments.values(), key=lambda a: a['name'].lower())
    if params.get('Role'):
        role = application_role(params['Role'])
        rows = [a for a in rows if a['role'] == role]
    if params.get('RoleAssignee'):
        assigned = _assignee(org, params['RoleAssignee'])
        rows = [a for a in rows if assigned(a)]
    if params.get('RoleAssigneeType'):
        kind = params['RoleAssigneeType'].lower()
        rows = [a for a in rows if kind == ('rolegroup' if a.get('group') else 'serviceprincipal')]
    if params.get('Delegating') is not None:
        # Learn, Get-ManagementRoleAssignment -Delegating: $true returns only delegating assignments, $false only regular ones.
        rows = [a for a in rows if bool(a.get('delegating')) == bool(params['Delegating'])]
    return [assignment_row(org, a) for a in rows], []


def _assignee(org, assignee):
    """A test of an assignment: is -RoleAssignee its assignee (a role group by name, else a service principal)? An
    assignee that is neither raises not-found, rows or none (weak: the wording for a -RoleAssignee Exchange cannot resolve)."""
    group = getattr(org, 'role_groups', {}).get(str(assignee).strip().lower())
    if group is not None:
        return lambda assignment: (assignment.get('group') or '').lower() == group.name.lower()
    sp = org.find_service_principal(assignee)
    return lambda assignment: assignment.get('sp') == sp.key


def application_role(name):
    for role in APPLICATION_ROLES:
        if role.lower() == str(name).strip().lower():
            return role
    raise not_found(name)


def new_management_role_assignment(org, params):
    role = application_role(params['Role'])
    if params.get('SecurityGroup') and not params.get('App'):
        return new_group_assignment(org, role, params)
    if not params.get('App'):
        # App and role group assignments are emulated (weak: Exchange also takes -User, -Policy).
        raise CmdletError('The sandbox emulates role assignments to apps and role groups only: give -App or -SecurityGroup.',
                          exception='System.ArgumentException')
    sp = org.find_service_principal(params['App'])
    scope = find_scope(org, params['CustomResourceScope'])['name'] if params.get('CustomResourceScope') else None
    # Exchange's default name is the role's and the assignee's joined by a dash, cut to 64 characters (weak).
    name = params.get('Name') or ('%s-%s' % (role, sp.display_name))[:NAME_LIMIT]
    if len(name) > NAME_LIMIT:
        raise CmdletError("The length of the property is too long. The maximum length is %d and the length of the value provided is %d."
                          % (NAME_LIMIT, len(name)), exception='Microsoft.Exchange.Data.DataValidationException')  # (weak)
    if name.lower() in org.role_assignments:
        raise _already_exists('management role assignment', name)
    assignment = {'name': name, 'role': role, 'sp': sp.key, 'sp_identity': sp.identity, 'scope': scope}
    org.role_assignments[name.lower()] = assignment
    return [assignment_row(org, assignment)], []


def new_group_assignment(org, role, params):
    """New-ManagementRoleAssignment -SecurityGroup <role group> -Delegating: a delegating assignment of an application role."""
    if not params.get('Delegating'):
        # Only delegating assignments of application roles to role groups are emulated (a regular one would grant the group
        # the role's permissions, which no test needs): refused rather than stored as something it is not.
        raise CmdletError('The sandbox emulates only delegating assignments (-Delegating) to role groups.',
                          exception='System.ArgumentException')
    groups = getattr(org, 'role_groups', {})
    group = groups.get(str(params['SecurityGroup']).strip().lower())
    if group is None:
        raise not_found(params['SecurityGroup'])
    # Exchange's default name: role, assignee and "-Delegating" for a delegating one, as Organization Management's are
    # named (weak: public captures), cut to 64 characters.
    name = params.get('Name') or ('%s-%s-Delegating' % (role, group.name))[:NAME_LIMIT]
    if name.lower() in org.role_assignments:
        raise _already_exists('management role assignment', name)
    assignment = {'name': name, 'role': role, 'sp': None, 'sp_identity': None, 'scope': None, 'group': group.name,
                  'delegating': True}
    org.role_assignments[name.lower()] = assignment
    return [assignment_row(org, assignment)], []


def delegating_groups(org, role):
    """Names (lower case) of the role groups holding a delegating assignment of the role."""
    return {a['group'].lower() for a in org.role_assignments.values() if a.get('group') and a.get('delegating') and a['role'] == role}


def remove_group_assignments(org, group_name):
    """Remove-RoleGroup: "all the management role assignments that assign management roles to the role group are also
    removed" (Learn, Remove-RoleGroup)."""
    for key in [k for k, a in org.role_assignments.items() if (a.get('group') or '').lower() == group_name.lower()]:
        del org.role_assignments[key]


def remove_management_role_assignment(org, params):
    assignment = find_assignment(org, params['Identity'])
    del org.role_assignments[assignment['name'].lower()]
    return [], []


def check_service_principal_authorization(org, params):
    """One row per role assignment of the service principal; InScope against -Resource, "Not Run" without it.
    It reads the assignments as they are now: the real cmdlet bypasses the cache logins go through (Learn)."""
    sp = org.find_service_principal(params['Identity'])
    mailbox = org.find_mailbox(params['Resource']) if params.get('Resource') else None
    rows = []
    for assignment in sorted(org.role_assignments.values(), key=lambda a: a['name'].lower()):
        if assignment['sp'] != sp.key:
            continue
        rows.append({'RoleName': assignment['role'], 'GrantedPermissions': APPLICATION_ROLES[assignment['role']],
                     'AllowedResourceScope': assignment['scope'] or 'Organization',
                     'ScopeType': 'CustomRecipientScope' if assignment['scope'] else 'Organization',
                     'InScope': in_scope(org, assignment, mailbox) if mailbox is not None else 'Not Run'})
    return rows, []


def smtp_rbac_mailboxes(org, sp):
    """The mailboxes (upns, lower case) an `Application SMTP.SendAsApp` assignment of sp covers right now."""
    covered = set()
    for assignment in org.role_assignments.values():
        if assignment['sp'] == sp.key and assignment['role'] == SMTP_ROLE:
            covered.update(m.upn.lower() for m in org.mailboxes.values() if in_scope(org, assignment, m))
    return sorted(covered)


def add_group(org, name, members):
    """A mail-enabled security group (sandbox seeding through the control API; no group cmdlet is emulated)."""
    group = {'name': name, 'dn': 'CN=%s,%s' % (name, DN_SUFFIX % org.domain),
             'members': set(org.find_mailbox(m).upn.lower() for m in members)}
    org.groups[name.lower()] = group
    return {'Name': name, 'DistinguishedName': group['dn'], 'Members': sorted(group['members'])}


def snapshot(org):
    return {
        'management_scopes': [dict(scope_row(s), Members=scope_members(org, s)) for s in org.management_scopes.values()],
        'role_assignments': [assignment_row(org, a) for a in org.role_assignments.values()],
        'groups': [{'Name': g['name'], 'DistinguishedName': g['dn'], 'Members': sorted(g['members'])} for g in org.groups.values()],
        'smtp_rbac': dict((sp.identity, smtp_rbac_mailboxes(org, sp)) for sp in org.service_principals.values()),
    }


CMDLETS = {
    'Get-ManagementScope': get_management_scope,
    'New-ManagementScope': new_management_scope,
    'Set-ManagementScope': set_management_scope,
    'Remove-ManagementScope': remove_management_scope,
    'Get-ManagementRoleAssignment': get_management_role_assignment,
    'New-ManagementRoleAssignment': new_management_role_assignment,
    'Remove-ManagementRoleAssignment': remove_management_role_assignment,
    'Test-ServicePrincipalAuthorization': check_service_principal_authorization,
}
WRITES = {'New-ManagementScope', 'Set-ManagementScope', 'Remove-ManagementScope', 'New-ManagementRoleAssignment',
          'Remove-ManagementRoleAssignment'}
