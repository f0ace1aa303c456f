"""RBAC for Applications in the emulated Exchange Online: management scopes, app role assignments and
Test-ServicePrincipalAuthorization (model, REST, and the fake module through real pwsh)."""

import json

import pytest

from m365_sandbox import control
from m365_sandbox.exchange import CmdletError, ExchangeOrg
from m365_sandbox.exchange import rbac
from m365_sandbox.exchange.cmdlets import invoke
from m365_sandbox.testing import MAILBOXES, SP, TENANT

APP = '11111111-2222-4333-8444-555555555555'
DOMAIN = 'contoso.onmicrosoft.com'
USERS = ['user%d@%s' % (n, DOMAIN) for n in range(1, 5)]
ROLE = 'Application SMTP.SendAsApp'
ONE_TWO = "PrimarySmtpAddress -eq 'user1@%s' -or PrimarySmtpAddress -eq 'user2@%s'" % (DOMAIN, DOMAIN)


@pytest.fixture
def org():
    org = ExchangeOrg('tid', DOMAIN, USERS)
    invoke(org, 'New-ServicePrincipal', {'AppId': APP, 'ObjectId': SP, 'DisplayName': 'printer'})
    return org


def _members(org, text):
    return [m.upn for m in org.mailboxes.values() if rbac.opath_match(rbac.opath_parse(text), org, m)]


@pytest.mark.parametrize('text, expected', [
    ("PrimarySmtpAddress -eq 'USER1@contoso.onmicrosoft.com'", ['user1']),
    ("Alias -ne 'user1'", ['user2', 'user3', 'user4']),
    (ONE_TWO, ['user1', 'user2']),
    ("Alias -like 'user*' -and -not (Alias -eq 'user2' -or Alias -eq 'user3')", ['user1', 'user4']),
    ("-not(DisplayName -like '*3')", ['user1', 'user2', 'user4']),
    ("Alias -eq 'user1' -or Alias -eq 'user2' -and Alias -eq 'user3'", ['user1']),  # -and binds tighter than -or
    ('UserPrincipalName -eq "user4@contoso.onmicrosoft.com"', ['user4']),
    ("EmailAddresses -eq 'smtp:user2@contoso.onmicrosoft.com'", ['user2']),
    ("Alias -notlike 'user[12]'", ['user1', 'user2', 'user3', 'user4']),  # no character classes: [ is literal
    ("Alias -eq 'o''brien'", []),
    ("DisplayName -eq $null", []),
])
def test_filter_subset(org, text, expected):
    assert _members(org, text) == ['%s@%s' % (e, DOMAIN) for e in expected]


def test_member_of_group_takes_the_distinguished_name(org):
    group = rbac.add_group(org, 'Senders', ['user3', 'user4@contoso.onmicrosoft.com'])
    assert group['DistinguishedName'].startswith('CN=Senders,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,')
    assert _members(org, "MemberOfGroup -eq '%s'" % group['DistinguishedName']) == USERS[2:]
    # The group's name is not its DN: nothing matches (MemberOfGroup compares distinguished names).
    assert _members(org, "MemberOfGroup -eq 'Senders'") == []


@pytest.mark.parametrize('text, wording, position', [
    ("Department -eq 'x'", '"Department" is not a recognized filterable property', 1),
    ("Alias -eq", 'Invalid filter syntax', 10),
    ("Alias -eq 'x' -and", 'Invalid filter syntax', 19),
    ("(Alias -eq 'x'", 'Invalid filter syntax', 15),
    ("Alias -eq 'x')", 'Invalid filter syntax', 14),
    ("Alias -gt 'x'", 'Invalid filter syntax', 7),
    ("Alias -eq 'x", 'Invalid filter syntax', 11),
    ("Alias -eq x", 'Invalid filter syntax', 11),
    ('', 'Invalid filter syntax', 1),
])
def test_a_filter_outside_the_subset_is_refused_before_anything_is_stored(org, text, wording, position):
    with pytest.raises(CmdletError) as info:
        invoke(org, 'New-ManagementScope', {'Name': 'bad', 'RecipientRestrictionFilter': text})
    assert (info.value.status, info.value.reason) == (400, 'ParameterBindingException')
    assert info.value.message.startswith('Cannot bind parameter \'RecipientRestrictionFilter\' to the target. Exception setting '
                                         '"RecipientRestrictionFilter": "' + wording)
    assert info.value.message.endswith('"%s" at position %d."' % (text, position))
    assert org.management_scopes == {}


@pytest.mark.parametrize('extra', [{'RecipientRoot': 'OU=x'}, {'Exclusive': True}])
def test_scope_options_the_sandbox_does_not_emulate_are_refused_not_ignored(org, extra):
    with pytest.raises(CmdletError, match='does not emulate'):
        invoke(org, 'New-ManagementScope', dict(extra, Name='s', RecipientRestrictionFilter="Alias -eq 'x'"))
    assert org.management_scopes == {}


def test_scope_lifecycle(org):
    out, warnings = invoke(org, 'New-ManagementScope', {'Name': 'Printer senders', 'RecipientRestrictionFilter': ONE_TWO})
    assert warnings == [] and out == [{'Name': 'Printer senders', 'Identity': 'Printer senders', 'ScopeRestrictionType': 'RecipientScope',
                                       'Exclusive': False, 'RecipientRoot': None, 'RecipientFilter': ONE_TWO, 'ServerFilter': None,
                                       'DatabaseFilter': None}]
    with pytest.raises(CmdletError, match='already exists') as info:
        invoke(org, 'New-ManagementScope', {'Name': 'printer SENDERS', 'RecipientRestrictionFilter': ONE_TWO})
    assert info.value.reason == 'ADObjectAlreadyExistsException'
    assert invoke(org, 'Get-ManagementScope', {'Identity': 'printer senders'})[0][0]['RecipientFilter'] == ONE_TWO
    assert [r['Name'] for r in invoke(org, 'Get-ManagementScope', {})[0]] == ['Printer senders']
    assert invoke(org, 'Set-ManagementScope', {'Identity': 'Printer senders', 'RecipientRestrictionFilter': ONE_TWO}) == \
        ([], ["The command completed successfully but no settings of 'Printer senders' have been modified."])
    with pytest.raises(CmdletError, match='Invalid filter syntax'):
        invoke(org, 'Set-ManagementScope', {'Identity': 'Printer senders', 'RecipientRestrictionFilter': 'Alias -eq'})
    assert invoke(org, 'Set-ManagementScope', {'Identity': 'Printer senders', 'RecipientRestrictionFilter': "Alias -eq 'user3'"}) == ([], [])
    assert org.snapshot()['management_scopes'][0]['Members'] == ['user3@' + DOMAIN]
    invoke(org, 'Remove-ManagementScope', {'Identity': 'Printer senders'})
    assert invoke(org, 'Get-ManagementScope', {})[0] == []


@pytest.mark.parametrize('cmdlet, params', [
    ('Get-ManagementScope', {'Identity': 'ghost'}),
    ('Set-ManagementScope', {'Identity': 'ghost', 'RecipientRestrictionFilter': "Alias -eq 'x'"}),
    ('Remove-ManagementScope', {'Identity': 'ghost'}),
    ('Get-ManagementRoleAssignment', {'Identity': 'ghost'}),
    ('Remove-ManagementRoleAssignment', {'Identity': 'ghost'}),
    ('New-ManagementRoleAssignment', {'Role': ROLE, 'App': APP, 'CustomResourceScope': 'ghost'}),
    ('New-ManagementRoleAssignment', {'Role': ROLE, 'App': 'ghost'}),
    ('New-ManagementRoleAssignment', {'Role': 'ghost', 'App': APP}),
    ('Test-ServicePrincipalAuthorization', {'Identity': 'ghost'}),
    ('Test-ServicePrincipalAuthorization', {'Identity': APP, 'Resource': 'ghost'}),
])
def test_not_found_is_exchange_onlines_not_found(org, cmdlet, params):
    with pytest.raises(CmdletError) as info:
        invoke(org, cmdlet, params)
    assert (info.value.status, info.value.code, info.value.reason) == (404, 'Ex6F9304', 'ManagementObjectNotFoundException')
    assert info.value.message.startswith("The operation couldn't be performed because object 'ghost' couldn't be found on ")
    assert org.role_assignments == {}


def test_role_assignment_to_an_app_with_a_scope(org):
    invoke(org, 'New-ManagementScope', {'Name': 'senders', 'RecipientRestrictionFilter': ONE_TWO})
    # -App takes the service principal's AppId, ObjectId or display name.
    for number, app in enumerate((APP, SP.upper(), 'printer')):
        out, _warnings = invoke(org, 'New-ManagementRoleAssignment', {'Name': 'smtp%d' % number, 'Role': ROLE.lower(), 'App': app,
                                                                        'CustomResourceScope': 'SENDERS'})
        assert out[0]['Role'] == ROLE and out[0]['RoleAssignee'] == SP and out[0]['CustomResourceScope'] == 'senders'
    row = invoke(org, 'Get-ManagementRoleAssignment', {'Identity': 'smtp0'})[0][0]
    assert row == {'Name': 'smtp0', 'Identity': 'smtp0', 'Role': ROLE, 'RoleAssigneeType': 'ServicePrincipal', 'RoleAssignee': SP,
                   'RoleAssigneeName': SP, 'AssignmentMethod': 'Direct', 'CustomResourceScope': 'senders',
                   'RecipientWriteScope': 'CustomRecipientScope', 'CustomRecipientWriteScope': None, 'Enabled': True,
                   'RoleAssignmentDelegationType': 'Regular'}
    assert len(invoke(org, 'Get-ManagementRoleAssignment', {'RoleAssignee': APP, 'Role': ROLE})[0]) == 3
    assert invoke(org, 'Get-ManagementRoleAssignment', {'Role': 'Application Mail.Read'})[0] == []
    with pytest.raises(CmdletError, match='already exists'):
        invoke(org, 'New-ManagementRoleAssignment', {'Name': 'SMTP0', 'Role': ROLE, 'App': APP})
    # A scope an assignment uses cannot go; without its assignments it can.
    with pytest.raises(CmdletError, match='referenced by the management role assignments: smtp0, smtp1, smtp2'):
        invoke(org, 'Remove-ManagementScope', {'Identity': 'senders'})
    for number in range(3):
        invoke(org, 'Remove-ManagementRoleAssignment', {'Identity': 'smtp%d' % number})
    invoke(org, 'Remove-ManagementScope', {'Identity': 'senders'})


def test_default_assignment_name_and_organization_scope(org):
    out, _warnings = invoke(org, 'New-ManagementRoleAssignment', {'Role': ROLE, 'App': APP})
    assert out[0]['Name'] == 'Application SMTP.SendAsApp-printer' and out[0]['CustomResourceScope'] is None
    assert out[0]['RecipientWriteScope'] == 'Organization'
    assert rbac.smtp_rbac_mailboxes(org, org.find_service_principal(APP)) == USERS


def test_service_principal_authorization_rows(org):
    invoke(org, 'New-ManagementScope', {'Name': 'senders', 'RecipientRestrictionFilter': ONE_TWO})
    invoke(org, 'New-ManagementRoleAssignment', {'Name': 'smtp', 'Role': ROLE, 'App': APP, 'CustomResourceScope': 'senders'})
    invoke(org, 'New-ManagementRoleAssignment', {'Name': 'read', 'Role': 'Application Mail.Read', 'App': APP})
    rows, _warnings = invoke(org, 'Test-ServicePrincipalAuthorization', {'Identity': 'printer', 'Resource': 'user2'})
    assert rows == [
        {'RoleName': 'Application Mail.Read', 'GrantedPermissions': 'Mail.Read', 'AllowedResourceScope': 'Organization',
         'ScopeType': 'Organization', 'InScope': True},
        {'RoleName': ROLE, 'GrantedPermissions': 'SMTP.SendAsApp', 'AllowedResourceScope': 'senders', 'ScopeType': 'CustomRecipientScope',
         'InScope': True}]
    rows, _warnings = invoke(org, 'Test-ServicePrincipalAuthorization', {'Identity': APP, 'Resource': 'user3@' + DOMAIN})
    assert [r['InScope'] for r in rows] == [True, False]
    rows, _warnings = invoke(org, 'Test-ServicePrincipalAuthorization', {'Identity': APP})
    assert [r['InScope'] for r in rows] == ['Not Run', 'Not Run']
    # A scope's members follow the mailboxes: the filter is evaluated at each check, never copied.
    invoke(org, 'Set-ManagementScope', {'Identity': 'senders', 'RecipientRestrictionFilter': "Alias -eq 'user3'"})
    rows, _warnings = invoke(org, 'Test-ServicePrincipalAuthorization', {'Identity': APP, 'Resource': 'user3'})
    assert rows[1]['InScope'] is True
    assert org.snapshot()['smtp_rbac'] == {SP: ['user3@' + DOMAIN]}


def test_rest_answers_a_bad_filter_with_400_and_a_missing_scope_with_404(host):
    host.rest('New-ServicePrincipal', {'AppId': APP, 'ObjectId': SP})
    response = host.rest('New-ManagementScope', {'Name': 's', 'RecipientRestrictionFilter': "Nope -eq 'x'"})
    assert response.status_code == 400
    assert response.json()['error']['details'][0]['message'].startswith(
        '|System.Management.Automation.ParameterBindingException|Cannot bind parameter \'RecipientRestrictionFilter\'')
    response = host.rest('New-ManagementRoleAssignment', {'Role': ROLE, 'App': APP, 'CustomResourceScope': 's'})
    assert response.status_code == 404
    assert response.json()['error']['details'][0]['message'].startswith('Ex6F9304|Microsoft.Exchange.Configuration.Tasks.'
                                                                         'ManagementObjectNotFoundException|')
    assert host.exchange.counters.as_dict()['cmdlets']['New-ManagementScope'] == 1


CONNECT = ("Import-Module ExchangeOnlineManagement -ErrorAction Stop\n"
           "Connect-ExchangeOnline -AccessToken $env:M365_TEST_TOKEN -Organization '%s' -ShowBanner:$false\n")


def test_the_fake_module_runs_the_rbac_cmdlets(host):
    """The cmdlets as a pwsh session calls them: New-/Get-/Set-/Remove-ManagementScope, New-/Get-/Remove-ManagementRoleAssignment,
    Test-ServicePrincipalAuthorization; errors as the v3 module raises them (NotSpecified, the Exchange type as the reason)."""
    script = CONNECT % TENANT + '''
$out = [ordered]@{}
$null = New-ServicePrincipal -AppId '%(app)s' -ObjectId '%(sp)s' -DisplayName 'printer'
$scope = New-ManagementScope -Name 'printer senders' -RecipientRestrictionFilter "PrimarySmtpAddress -eq '%(one)s'" -ErrorAction Stop
$out.scope = $scope.RecipientFilter
try { New-ManagementScope -Name 'bad' -RecipientRestrictionFilter "Department -eq 'x'" -ErrorAction Stop }
catch { $out.bad = [ordered]@{ category = [string]$_.CategoryInfo.Category; reason = [string]$_.CategoryInfo.Reason; message = $_.Exception.Message } }
$a = New-ManagementRoleAssignment -Name 'printer smtp' -Role 'Application SMTP.SendAsApp' -App '%(app)s' -CustomResourceScope 'printer senders' -ErrorAction Stop
$out.assignment = [ordered]@{ name = $a.Name; assignee = $a.RoleAssignee; scope = $a.CustomResourceScope }
$out.found = @(Get-ManagementRoleAssignment -RoleAssignee '%(app)s' -Role 'Application SMTP.SendAsApp' | ForEach-Object { $_.Name })
$out.inside = @(Test-ServicePrincipalAuthorization -Identity '%(app)s' -Resource '%(one)s' -ErrorAction Stop)[0].InScope
$out.outside = @(Test-ServicePrincipalAuthorization '%(app)s' -Resource '%(two)s')[0].InScope
$out.notrun = @(Test-ServicePrincipalAuthorization '%(app)s')[0].InScope
Set-ManagementScope 'printer senders' -RecipientRestrictionFilter "PrimarySmtpAddress -eq '%(two)s'" -ErrorAction Stop
$out.moved = @(Test-ServicePrincipalAuthorization '%(app)s' -Resource '%(two)s')[0].InScope
Set-ManagementScope 'printer senders' -RecipientRestrictionFilter "PrimarySmtpAddress -eq '%(two)s'" -WarningVariable w -WarningAction SilentlyContinue
$out.unchanged = @($w | ForEach-Object { [string]$_ })
try { Remove-ManagementScope 'printer senders' -Confirm:$false -ErrorAction Stop } catch { $out.inuse = [string]$_.CategoryInfo.Reason }
try { Remove-ManagementRoleAssignment 'printer smtp' -ErrorAction Stop } catch { $out.prompt = [string]$_.Exception.Message }
Remove-ManagementRoleAssignment 'printer smtp' -Confirm:$false -ErrorAction Stop
Remove-ManagementScope 'printer senders' -Confirm:$false -ErrorAction Stop
try { Get-ManagementScope 'printer senders' -ErrorAction Stop } catch { $out.gone = [string]$_.CategoryInfo.Reason + ' ' + [string]$_.CategoryInfo.Category }
$out.left = @(Get-ManagementRoleAssignment).Count
$out | ConvertTo-Json -Depth 5 -Compress
''' % {'app': APP, 'sp': SP, 'one': MAILBOXES[0], 'two': MAILBOXES[1]}
    stdout, stderr, rc = host.pwsh(script, M365_TEST_TOKEN=host.token())
    assert rc == 0, stderr
    out = json.loads(stdout.strip().splitlines()[-1])
    assert out['scope'] == "PrimarySmtpAddress -eq '%s'" % MAILBOXES[0]
    assert (out['bad']['category'], out['bad']['reason']) == ('NotSpecified', 'ParameterBindingException')
    assert '"Department" is not a recognized filterable property' in out['bad']['message']
    assert out['assignment'] == {'name': 'printer smtp', 'assignee': SP, 'scope': 'printer senders'}
    assert out['found'] == ['printer smtp']
    assert (out['inside'], out['outside'], out['notrun'], out['moved']) == (True, False, 'Not Run', True)
    assert out['unchanged'] == ["The command completed successfully but no settings of 'printer senders' have been modified."]
    assert out['inuse'] == 'InvalidOperationException'
    assert 'NonInteractive' in out['prompt']
    assert out['gone'] == 'ManagementObjectNotFoundException NotSpecified'
    assert out['left'] == 0


def test_control_route_seeds_a_group_that_a_scope_names_by_its_dn(host):
    tenant = host.tenant()
    status, group = control.handle(host.sandbox, 'POST', 'tenants/%s/exchange/groups' % tenant.tenant_id,
                                   {'Name': 'Senders', 'Members': MAILBOXES[1:3]})
    assert status == 201 and group['Members'] == MAILBOXES[1:3]
    host.rest('New-ServicePrincipal', {'AppId': APP, 'ObjectId': SP})
    assert host.rest('New-ManagementScope', {'Name': 'group', 'RecipientRestrictionFilter': "MemberOfGroup -eq '%s'"
                                             % group['DistinguishedName']}).status_code == 200
    assert host.rest('New-ManagementRoleAssignment', {'Role': ROLE, 'App': APP, 'CustomResourceScope': 'group'}).status_code == 200
    _status, state = control.handle(host.sandbox, 'GET', 'tenants/%s/exchange' % tenant.tenant_id, {})
    assert state['smtp_rbac'] == {SP: MAILBOXES[1:3]}
    assert state['management_scopes'][0]['Members'] == MAILBOXES[1:3]
