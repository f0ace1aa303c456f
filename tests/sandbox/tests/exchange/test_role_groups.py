"""Exchange Online role groups in the sandbox: the cmdlets, and an app whose Exchange role comes from a role group
(README, "Role groups"): it runs the cmdlets of the group's roles and no other, as REST (403) and as the fake module's
session (a cmdlet outside the roles "is not recognized")."""

import json

import pytest

from m365_sandbox import control
from m365_sandbox.directory import GLOBAL_ADMIN_UPN
from m365_sandbox.exchange import role_groups

from m365_sandbox.testing import MAILBOXES, TENANT

GROUP = 'm365 mail_oauth admin'
ROLES = ['Mail Recipients', 'Role Management', 'View-Only Configuration']


def _app_without_entra_role(host):
    """An app made through Graph without an Entra Exchange role, known to Exchange by New-ServicePrincipal."""
    seeded = control.seed_application(host.tenant(), {'displayName': 'least privilege', '_service_principal': True, '_exchange_role': False})
    app_id, sp_id = seeded['application']['appId'], seeded['servicePrincipal']['id']
    assert host.rest('New-ServicePrincipal', {'AppId': app_id, 'ObjectId': sp_id, 'DisplayName': 'least privilege'}).status_code == 200
    return app_id, sp_id


def _group(host, sp_id, roles=None):
    assert host.rest('New-RoleGroup', {'Name': GROUP, 'Roles': roles or ROLES, 'Description': 'test'}).status_code == 200
    assert host.rest('Add-RoleGroupMember', {'Identity': GROUP, 'Member': sp_id}).status_code == 200


def test_role_group_cmdlets_answer_as_exchange(host):
    _app_id, sp_id = _app_without_entra_role(host)
    missing = host.rest('Get-RoleGroup', {'Identity': GROUP})
    assert missing.status_code == 404
    assert 'ManagementObjectNotFoundException' in missing.json()['error']['details'][0]['message']
    _group(host, sp_id)
    row = host.rest('Get-RoleGroup', {'Identity': GROUP.upper()}).json()['value'][0]
    assert row['Name'] == GROUP and row['Roles'] == ROLES and row['Roles@odata.type'] == '#Collection(String)'
    assert row['Members'] == [sp_id]
    members = host.rest('Get-RoleGroupMember', {'Identity': GROUP}).json()['value']
    assert [(m['ExternalDirectoryObjectId'], m['RecipientType']) for m in members] == [(sp_id, 'ServicePrincipal')]
    again = host.rest('Add-RoleGroupMember', {'Identity': GROUP, 'Member': sp_id})
    assert again.status_code == 400 and 'already a member' in again.json()['error']['details'][0]['message']
    duplicate = host.rest('New-RoleGroup', {'Name': GROUP, 'Roles': ROLES})
    assert duplicate.status_code == 400 and 'ADObjectAlreadyExistsException' in duplicate.json()['error']['details'][0]['message']
    assert host.rest('Remove-RoleGroupMember', {'Identity': GROUP, 'Member': sp_id, 'Confirm': False}).status_code == 200
    assert host.rest('Get-RoleGroupMember', {'Identity': GROUP}).json()['value'] == []
    assert host.rest('Remove-RoleGroup', {'Identity': GROUP, 'Confirm': False}).status_code == 200
    assert host.rest('Remove-RoleGroup', {'Identity': GROUP, 'Confirm': False}).status_code == 404


def test_an_unknown_role_is_refused(host):
    answer = host.rest('New-RoleGroup', {'Name': GROUP, 'Roles': ['Organization Everything']})
    assert answer.status_code == 404
    assert role_groups.role_groups(host.exchange.org(TENANT)) == {}


def test_an_app_in_a_role_group_runs_exactly_the_cmdlets_of_its_roles(host):
    app_id, sp_id = _app_without_entra_role(host)
    token = host.token(appid=app_id)
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=token).status_code == 403
    _group(host, sp_id, roles=['Mail Recipients'])
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=token).status_code == 200
    assert host.rest('Get-CASMailbox', {'Identity': MAILBOXES[0]}, token=token).status_code == 200
    # Not in Mail Recipients: refused as a cmdlet the caller's roles do not hold.
    for cmdlet in ('Get-TransportConfig', 'Get-ServicePrincipal', 'New-RoleGroup'):
        answer = host.rest(cmdlet, {}, token=token)
        assert answer.status_code == 403 and answer.content.strip(b'\x00') == b'', cmdlet
    # The group's roles, not the first snapshot, decide: removing the member takes the cmdlets away at once (weak: delay).
    assert host.rest('Remove-RoleGroupMember', {'Identity': GROUP, 'Member': sp_id, 'Confirm': False}).status_code == 200
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=token).status_code == 403


@pytest.mark.parametrize('removed', ['group', 'service_principal'])
def test_the_role_goes_with_the_group_or_the_exchange_service_principal(host, removed):
    app_id, sp_id = _app_without_entra_role(host)
    token = host.token(appid=app_id)
    _group(host, sp_id)
    assert host.rest('Get-TransportConfig', {}, token=token).status_code == 200
    if removed == 'group':
        assert host.rest('Remove-RoleGroup', {'Identity': GROUP, 'Confirm': False}).status_code == 200
    else:
        assert host.rest('Remove-ServicePrincipal', {'Identity': sp_id, 'Confirm': False}).status_code == 200
    assert host.rest('Get-TransportConfig', {}, token=token).status_code == 403


def test_the_fake_module_session_holds_only_the_roles_cmdlets(host):
    app_id, sp_id = _app_without_entra_role(host)
    _group(host, sp_id, roles=['Mail Recipients'])
    script = '''Import-Module ExchangeOnlineManagement -ErrorAction Stop
Connect-ExchangeOnline -AccessToken $env:M365_TEST_TOKEN -Organization '%s' -ShowBanner:$false
$out = [ordered]@{}
$out.mailbox = @(Get-Mailbox -ResultSize 1 -ErrorAction Stop).Count
try { Get-TransportConfig -ErrorAction Stop } catch { $out.missing = [ordered]@{ type = $_.Exception.GetType().FullName
    category = [string]$_.CategoryInfo.Category; message = $_.Exception.Message } }
try { Get-EXOMailbox -ResultSize 1 -ErrorAction Stop } catch { $out.exo = 'failed' }
$out | ConvertTo-Json -Compress
''' % TENANT
    stdout, stderr, rc = host.pwsh(script, M365_TEST_TOKEN=host.token(appid=app_id))
    assert rc == 0, stderr
    out = json.loads(stdout.strip().splitlines()[-1])
    assert out['mailbox'] == 1
    assert out['missing']['type'] == 'System.Management.Automation.CommandNotFoundException'
    assert out['missing']['category'] == 'ObjectNotFound'
    assert out['missing']['message'].startswith("The term 'Get-TransportConfig' is not recognized")
    # Get-EXO* ship with the module: Mail Recipients holds Get-EXOMailbox, so it works.
    assert 'exo' not in out


def test_the_collection_runner_creates_the_group_as_a_person(host):
    """The allow-listed operations through the real runner, signed in as a person (delegated token, -UserPrincipalName)."""
    app_id, sp_id = _app_without_entra_role(host)
    tenant = host.tenant()
    person = GLOBAL_ADMIN_UPN % tenant.domain
    token = control.mint_token(host.sandbox, tenant, {'person': person, 'resource': 'https://outlook.office365.com',
                                                      'scopes': ['Exchange.Manage']})['access_token']
    answer = host.run_runner([
        {'op': 'get_role_group', 'params': {'Identity': GROUP}},
        {'op': 'new_role_group', 'params': {'Name': GROUP, 'Roles': ROLES}},
        {'op': 'add_role_group_member', 'params': {'Identity': GROUP, 'Member': sp_id}},
        {'op': 'get_role_group_member', 'params': {'Identity': GROUP}},
        {'op': 'remove_role_group', 'params': {'Identity': 'no such group'}},
    ], access_token=token, user_principal_name=person)
    calls = dict((r['op_index'], r) for r in answer['results'])
    assert calls[0]['ok'] is False and calls[0]['error']['not_found'] is True
    assert calls[1]['ok'] and calls[2]['ok'], answer
    assert calls[3]['output'][0]['ExternalDirectoryObjectId'] == sp_id
    assert calls[4]['ok'] is False and calls[4]['error']['not_found'] is True
    assert host.rest('Get-TransportConfig', {}, token=host.token(appid=app_id)).status_code == 200


def test_the_doctors_role_reads_name_a_group_missing_a_role_the_playbooks_need(host):
    """doctor_host.role_reads through the real runner as an app whose group lacks View-Only Configuration: the doctor's
    judgement is a problem naming Get-TransportConfig (with Mail Recipients and Role Management alone it would pass)."""
    from ansible_collections.m365.mail_oauth.plugins.module_utils import doctor  # pylint: disable=import-outside-toplevel
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils import doctor_host  # pylint: disable=import-outside-toplevel
    app_id, sp_id = _app_without_entra_role(host)
    _group(host, sp_id, roles=['Mail Recipients', 'Role Management'])
    answer = host.run_runner(doctor_host.role_reads(app_id), access_token=host.token(appid=app_id))
    errors = [r.get('error') or {} for r in answer.get('results') or [] if not r.get('ok')]
    finding = doctor.judge_exchange_role(answer.get('msg') if answer.get('failed') else None, errors, manage_as_app=True)
    assert finding['status'] == doctor.PROBLEM, finding
    assert 'Get-TransportConfig' in finding['detail'] and 'View-Only Configuration' in finding['fix']
    role_groups.replace_role_group(host.exchange.org(TENANT), {'Name': GROUP, 'Roles': ROLES, 'Members': [sp_id]})
    answer = host.run_runner(doctor_host.role_reads(app_id), access_token=host.token(appid=app_id))
    assert not answer.get('failed') and all(r.get('ok') or (r.get('error') or {}).get('not_found') for r in answer['results']), answer


# -- delegating assignments (issues 20 and 24): who may assign an application role ---------------------------------------------

SMTP = 'Application SMTP.SendAsApp'


def _smtp_assignment(host, target_app, token):
    """New-ManagementRoleAssignment -App <target> -Role 'Application SMTP.SendAsApp' over a scope of one mailbox."""
    host.rest('New-ManagementScope', {'Name': 'one mailbox', 'RecipientRestrictionFilter': "PrimarySmtpAddress -eq '%s'" % MAILBOXES[0]})
    return host.rest('New-ManagementRoleAssignment', {'Name': 'smtp ' + target_app, 'App': target_app, 'Role': SMTP,
                                                      'CustomResourceScope': 'one mailbox'}, token=token)


def _target(host):
    seeded = control.seed_application(host.tenant(), {'displayName': 'mail app', '_service_principal': True, '_exchange_role': False})
    app_id, sp_id = seeded['application']['appId'], seeded['servicePrincipal']['id']
    assert host.rest('New-ServicePrincipal', {'AppId': app_id, 'ObjectId': sp_id, 'DisplayName': 'mail app'}).status_code == 200
    return app_id


def test_a_delegating_assignment_to_a_role_group_is_made_read_and_goes_with_the_group(host):
    _app_id, sp_id = _app_without_entra_role(host)
    _group(host, sp_id)
    made = host.rest('New-ManagementRoleAssignment', {'Role': SMTP, 'SecurityGroup': GROUP, 'Delegating': True})
    assert made.status_code == 200, made.text
    row = made.json()['value'][0]
    assert (row['Role'], row['RoleAssignee'], row['RoleAssigneeType'], row['RoleAssignmentDelegationType']) == (
        SMTP, GROUP, 'RoleGroup', 'DelegatingOrgWide')
    assert row['Name'] == '%s-%s-Delegating' % (SMTP, GROUP)
    read = host.rest('Get-ManagementRoleAssignment', {'RoleAssignee': GROUP, 'Delegating': True}).json()['value']
    assert [r['Role'] for r in read] == [SMTP]
    assert host.rest('Get-ManagementRoleAssignment', {'RoleAssignee': GROUP, 'Delegating': False}).json()['value'] == []
    again = host.rest('New-ManagementRoleAssignment', {'Role': SMTP, 'SecurityGroup': GROUP, 'Delegating': True})
    assert again.status_code == 400 and 'already exists' in again.text
    # Only delegating assignments to role groups are emulated; a regular one is refused, not stored as something else.
    assert host.rest('New-ManagementRoleAssignment', {'Role': SMTP, 'SecurityGroup': GROUP}).status_code == 400
    # Learn, Remove-RoleGroup: the group's role assignments are removed with it.
    assert host.rest('Remove-RoleGroup', {'Identity': GROUP, 'Confirm': False}).status_code == 200
    assert [a for a in host.exchange.org(TENANT).role_assignments.values() if a.get('group')] == []
    missing = host.rest('Get-ManagementRoleAssignment', {'RoleAssignee': GROUP, 'Delegating': True})
    assert missing.status_code == 404 and 'ManagementObjectNotFoundException' in missing.text


def test_a_role_group_app_assigns_an_application_role_only_with_a_delegating_assignment_of_it(host):
    app_id, sp_id = _app_without_entra_role(host)
    token = host.token(appid=app_id)
    _group(host, sp_id)
    target = _target(host)
    refused = _smtp_assignment(host, target, token)
    assert refused.status_code == 400, refused.text
    message = refused.json()['error']['details'][0]['message']
    assert 'delegating role assignment' in message and SMTP in message, message
    assert [a for a in host.exchange.org(TENANT).role_assignments.values() if not a.get('group')] == []
    # Nor may it give itself the delegating assignment: that too is assigning the role.
    itself = host.rest('New-ManagementRoleAssignment', {'Role': SMTP, 'SecurityGroup': GROUP, 'Delegating': True}, token=token)
    assert itself.status_code == 400 and 'delegating role assignment' in itself.text
    # The person (Organization Management) makes the group's delegating assignment; then the app may assign the role.
    assert host.rest('New-ManagementRoleAssignment', {'Role': SMTP, 'SecurityGroup': GROUP, 'Delegating': True}).status_code == 200
    allowed = _smtp_assignment(host, target, token)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()['value'][0]['RoleAssigneeType'] == 'ServicePrincipal'


def test_organization_management_and_an_entra_exchange_role_assign_without_a_group(host):
    # The default token: the seeded admin app, which holds an Entra Exchange role (Organization Management's rights).
    target = _target(host)
    assert _smtp_assignment(host, target, None).status_code == 200
