"""playbooks/bootstrap.yml through ansible-playbook, from a tenant where only a Global Administrator person matters: the
test approves the device code as that person (as someone at the browser would), the playbook creates the admin identity,
then provision.yml and doctor.yml run as that new identity (its certificate), and state=absent removes it."""

import json
import os
import stat
import sys

import yaml

from exchange_play import WINDOWS
from playbook import run_playbook, save_log
from roles import PLAYBOOKS, windows_host
from test_sign_in import Watched

BOOTSTRAP = os.path.join(PLAYBOOKS, 'bootstrap.yml')
PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
DOCTOR = os.path.join(PLAYBOOKS, 'doctor.yml')
UNIQUE = 'bootstrap-admin'
EXCHANGE_ADMINISTRATOR = '29232cdf-9323-42fd-ade2-1d097af3e4de'
GRAPH = '00000003-0000-0000-c000-000000000000'
USER_READ_ALL = 'df021288-bdef-4463-88db-98f22de89214'
MANAGE = ['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All']


def bootstrap_vars(tenant, tmp_path, **more):
    home = tmp_path / 'identity'
    home.mkdir(mode=0o700, exist_ok=True)
    values = {'admin_identity_tenant_id': tenant.tenant()['tenant_id'], 'admin_identity_unique_name': UNIQUE,
              'admin_identity_dir': str(home), 'admin_identity_token_cache': str(tmp_path / 'cache' / 'tokens.json'),
              'admin_identity_sign_in_timeout': 60,
              'admin_identity_endpoints': {'authority_url': tenant.authority_url, 'graph_url': tenant.graph_url,
                                           'ca_path': tenant.ca_path}}
    values.update(more)
    return values


def bootstrap(tenant, tmp_path, name, person=None, approve=True, check=False, diff=False, inventory_path=None, **more):
    """One bootstrap.yml run; the person (the Global Administrator unless named) approves the code if one is shown."""
    run = Watched(tmp_path, BOOTSTRAP, name, inventory_path=inventory_path, extra_vars=bootstrap_vars(tenant, tmp_path, **more),
                  check=check, diff=diff)
    code = run.prompt_code(90)
    if code is not None:
        tenant.device_login(person or tenant.global_admin(), user_code=code, approve=approve)
    result = run.finish(300)
    save_log(result, run.log_path)
    return result, code


def admin_app(tenant):
    apps = [a for a in tenant.state(tenant.tenant()['tenant_id'])['applications'] if a.get('uniqueName') == UNIQUE]
    assert len(apps) <= 1
    return apps[0] if apps else None


def role_assignments(tenant, principal_id):
    return [a for a in tenant.state(tenant.tenant()['tenant_id'])['roleAssignments'] if a['principalId'] == principal_id]


def service_principal(tenant, app_id):
    return [s for s in tenant.state(tenant.tenant()['tenant_id'])['servicePrincipals'] if s['appId'] == app_id][0]


def identity_inventory(tenant, tmp_path, vars_file, **more):
    """An inventory whose tenant host takes the identity's vars from the file bootstrap wrote, as a person would."""
    identity = yaml.safe_load(open(vars_file))
    host = dict(identity, mailbox_access_app_unique_name='boot-mail-app', mailbox_access_app_display_name='Boot mail app',
                mailbox_access_protocols=['imap', 'smtp'], mailbox_access_handover_dest=str(tmp_path / 'handover.json'),
                mailbox_access_mailboxes=tenant.tenant()['mailboxes'][:2], mailbox_access_exchange_host=WINDOWS)
    host.update(more)
    inventory = {'tenants': {'hosts': {'tenant1': host}}, 'windows': {'hosts': {WINDOWS: windows_host(tenant)}},
                 'all': {'vars': {'ansible_python_interpreter': sys.executable}}}
    path = tmp_path / 'identity-inventory.json'
    path.write_text(json.dumps(inventory, indent=2))
    return path


def provision_and_doctor_as_identity(tenant, tmp_path, prefix):
    """provision.yml twice (the rerun changes nothing) and doctor.yml (all ok) as the identity bootstrap made: its report."""
    inventory = identity_inventory(tenant, tmp_path, str(tmp_path / 'identity' / (UNIQUE + '.vars.yml')))
    provision = run_playbook(tmp_path, PROVISION, prefix + 'provision-as-identity', inventory=inventory)
    assert provision.rc == 0, provision
    rerun = run_playbook(tmp_path, PROVISION, prefix + 'provision-as-identity-again', inventory=inventory)
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    doctor = run_playbook(tmp_path, DOCTOR, prefix + 'doctor-as-identity', inventory=inventory,
                          env={'M365_DOCTOR_REPORT_DIR': str(tmp_path / 'doctor')})
    assert doctor.rc == 0, doctor
    report = json.loads((tmp_path / 'doctor' / 'tenant1.json').read_text())
    assert report['ok'] and not [f for f in report['findings'] if f['status'] == 'problem'], report
    return report


def test_bootstrap_then_provision_and_doctor_as_the_new_identity_reruns_change_nothing_and_absent_removes_it(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    first, code = bootstrap(tenant, tmp_path, 'bootstrap')
    assert code and first.rc == 0, first
    assert 'To sign in, use a web browser to open the page' in first.output
    app = admin_app(tenant)
    assert app is not None and len(app['keyCredentials']) == 1 and not app['passwordCredentials']
    principal = service_principal(tenant, app['appId'])
    held = [(a['roleDefinitionId'], a['directoryScopeId']) for a in role_assignments(tenant, principal['id'])]
    assert held == [(EXCHANGE_ADMINISTRATOR, '/')]
    # Graph permissions of the manage profile, exactly, and Exchange.ManageAsApp; all consented.
    answer = first.results()
    graph = [t for t in answer if t.startswith('Microsoft Graph application permissions')][0]
    assert answer[graph]['localhost']['granted']['Microsoft Graph'] == MANAGE
    # The key: 0600 on the controller; only the certificate reached Entra ID.
    home = tmp_path / 'identity'
    pem = home / (UNIQUE + '.pem')
    assert stat.S_IMODE(os.stat(str(pem)).st_mode) == 0o600 and b'PRIVATE KEY' in pem.read_bytes()
    identity = yaml.safe_load((home / (UNIQUE + '.vars.yml')).read_text())
    assert identity['mailbox_access_graph_auth']['client_id'] == app['appId']
    assert identity['mailbox_access_graph_auth']['client_certificate_path'] == str(pem)
    assert identity['mailbox_access_tenant_id'] == tenant.tenant()['tenant_id']
    awx = yaml.safe_load((home / (UNIQUE + '.awx.yml')).read_text())
    assert awx['client_id'] == app['appId'] and str(pem) in awx['client_certificate'] and 'PRIVATE' not in json.dumps(awx)
    assert 'PRIVATE KEY' not in first.output

    again, code = bootstrap(tenant, tmp_path, 'bootstrap-again')
    assert code is None and again.rc == 0 and again.changed == 0, again

    # The other playbooks as the new identity, from the vars file alone.
    provision_and_doctor_as_identity(tenant, tmp_path, '')

    gone, code = bootstrap(tenant, tmp_path, 'bootstrap-absent', admin_identity_state='absent')
    assert code is None and gone.rc == 0 and gone.changed > 0, gone
    assert admin_app(tenant) is None and not role_assignments(tenant, principal['id'])
    assert not pem.exists() and not (home / (UNIQUE + '.vars.yml')).exists()
    gone_again, _code = bootstrap(tenant, tmp_path, 'bootstrap-absent-again', admin_identity_state='absent')
    assert gone_again.rc == 0 and gone_again.changed == 0, gone_again


def test_check_mode_creates_nothing_and_tells_what_it_would_do(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    run, code = bootstrap(tenant, tmp_path, 'bootstrap-check', check=True, diff=True)
    assert code and run.rc == 0, run
    assert run.changed > 0
    assert admin_app(tenant) is None
    assert not (tmp_path / 'identity' / (UNIQUE + '.pem')).exists()
    assert '"thumbprint": "(new)"' in run.output or 'thumbprint: (new)' in run.output, run.output


def test_an_existing_admin_app_with_other_permissions_is_converged_with_a_diff(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    first, _code = bootstrap(tenant, tmp_path, 'bootstrap-first')
    assert first.rc == 0, first
    app = admin_app(tenant)
    # Someone added User.Read.All (an application permission) by hand.
    required = [dict(e, resourceAccess=e['resourceAccess'] + [{'id': USER_READ_ALL, 'type': 'Role'}]) if e['resourceAppId'] == GRAPH
                else e for e in app['requiredResourceAccess']]
    tenant.drift({'action': 'patch_application', 'id': app['id'], 'set': {'requiredResourceAccess': required}})
    run, _code = bootstrap(tenant, tmp_path, 'bootstrap-converge', diff=True)
    assert run.rc == 0 and run.changed >= 1, run
    assert '-            "User.Read.All"' in run.output, run.output  # the diff shows it going
    requested = [e for e in admin_app(tenant)['requiredResourceAccess'] if e['resourceAppId'] == GRAPH][0]['resourceAccess']
    assert USER_READ_ALL not in [r['id'] for r in requested]
    again, _code = bootstrap(tenant, tmp_path, 'bootstrap-converged-again')
    assert again.rc == 0 and again.changed == 0, again


def test_a_person_without_the_roles_is_stopped_before_anything_is_created(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    helpdesk = 'apps@' + tenant.tenant()['domain']
    tenant.add_person(helpdesk, roles=['Application Administrator'])
    run, code = bootstrap(tenant, tmp_path, 'bootstrap-no-role', person=helpdesk)
    assert code and run.rc != 0
    assert 'Privileged Role Administrator' in run.output and 'Global Administrator' in run.output, run.output
    assert 'Traceback' not in run.output
    assert admin_app(tenant) is None and not (tmp_path / 'identity' / (UNIQUE + '.pem')).exists()


def test_a_declined_code_fails_clearly_and_writes_nothing(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    run, code = bootstrap(tenant, tmp_path, 'bootstrap-declined', approve=False)
    assert code and run.rc != 0
    assert 'declined' in run.output and 'nothing was changed' in run.output, run.output
    assert admin_app(tenant) is None
    assert not os.listdir(str(tmp_path / 'identity'))


def test_an_unwritable_key_path_fails_before_the_sign_in(tenant, tmp_path):
    run, code = bootstrap(tenant, tmp_path, 'bootstrap-bad-path',
                          admin_identity_certificate_path=str(tmp_path / 'no-such-dir' / 'admin.pem'))
    assert code is None and run.rc != 0
    assert 'no-such-dir' in run.output and 'does not exist' in run.output, run.output
    assert admin_app(tenant) is None and tenant.pending_user_codes() == []


def test_a_client_secret_when_asked_lands_in_a_0600_file_and_the_vars_only_name_it(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    run, code = bootstrap(tenant, tmp_path, 'bootstrap-secret', admin_identity_credential_type='secret', admin_identity_profile='audit')
    assert code and run.rc == 0, run
    app = admin_app(tenant)
    assert len(app['passwordCredentials']) == 1 and not app['keyCredentials']
    home = tmp_path / 'identity'
    secret = (home / (UNIQUE + '.secret')).read_text().strip()
    assert stat.S_IMODE(os.stat(str(home / (UNIQUE + '.secret'))).st_mode) == 0o600 and secret
    assert secret not in run.output and secret not in (home / (UNIQUE + '.vars.yml')).read_text()
    identity = yaml.safe_load((home / (UNIQUE + '.vars.yml')).read_text())
    assert identity['mailbox_access_doctor_playbooks'] == ['audit']
    # The vars file names the file; Ansible reads the secret from it when the doctor runs as the identity.
    host = dict(identity)
    inventory = tmp_path / 'secret-inventory.json'
    inventory.write_text(json.dumps({'tenants': {'hosts': {'tenant1': host}},
                                     'all': {'vars': {'ansible_python_interpreter': sys.executable}}}))
    doctor = run_playbook(tmp_path, DOCTOR, 'doctor-secret-identity', inventory=inventory,
                          env={'M365_DOCTOR_REPORT_DIR': str(tmp_path / 'doctor')})
    report = json.loads((tmp_path / 'doctor' / 'tenant1.json').read_text())
    assert doctor.rc == 0 and report['ok'], doctor
    assert any('holds Application.Read.All, DelegatedPermissionGrant.ReadWrite.All' in f['detail'] for f in report['findings'])


def test_a_certificate_near_its_expiry_is_rotated_with_overlap(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    first, _code = bootstrap(tenant, tmp_path, 'bootstrap-short', admin_identity_certificate_valid_days=31)
    assert first.rc == 0, first
    pem = tmp_path / 'identity' / (UNIQUE + '.pem')
    old = pem.read_bytes()
    # 31 days left is within a 45-day window: a new key and certificate, uploaded beside the old one.
    rotated, _code = bootstrap(tenant, tmp_path, 'bootstrap-rotate', admin_identity_certificate_valid_days=365,
                               admin_identity_rotate_before_days=45)
    assert rotated.rc == 0 and rotated.changed == 2, rotated
    assert pem.read_bytes() != old
    kept = [p for p in (tmp_path / 'identity').iterdir() if p.name.startswith(UNIQUE + '.pem.')]
    assert len(kept) == 1 and kept[0].read_bytes() == old and stat.S_IMODE(os.stat(str(kept[0])).st_mode) == 0o600
    assert len(admin_app(tenant)['keyCredentials']) == 2  # the old certificate stays valid until it expires
    again, _code = bootstrap(tenant, tmp_path, 'bootstrap-rotated-again', admin_identity_certificate_valid_days=365,
                             admin_identity_rotate_before_days=45)
    assert again.rc == 0 and again.changed == 0, again


# -- least privilege: the Exchange role as a role group of its own (admin_identity_exchange_role=role_group) ----------

ROLE_GROUP_ROLES = ['Mail Recipients', 'Role Management', 'View-Only Configuration']


def exchange_inventory(tenant, tmp_path):
    """localhost plus the emulated Windows host the role group's Exchange tasks run on."""
    path = tmp_path / 'bootstrap-inventory.json'
    path.write_text(json.dumps({'all': {'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}},
                                'windows': {'hosts': {WINDOWS: windows_host(tenant)}}}, indent=2))
    return path


def bootstrap_role_group(tenant, tmp_path, name, **more):
    """bootstrap() with the least-privilege Exchange role, its Exchange tasks on the emulated Windows host."""
    more = dict({'admin_identity_exchange_role': 'role_group', 'admin_identity_exchange_host': WINDOWS,
                 'admin_identity_exchange_options': {'allow_insecure_transport': True}}, **more)
    return bootstrap(tenant, tmp_path, name, inventory_path=exchange_inventory(tenant, tmp_path), **more)


def exchange_state(tenant):
    return tenant.control('GET', 'tenants/%s/exchange' % tenant.tenant()['tenant_id'])


def test_least_privilege_role_group_bootstrap_then_provision_and_doctor_reruns_change_nothing_and_absent_removes_it(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    first, code = bootstrap_role_group(tenant, tmp_path, 'rg-bootstrap', diff=True)
    assert code and first.rc == 0, first
    app = admin_app(tenant)
    principal = service_principal(tenant, app['appId'])
    # No Entra role: the Exchange role is the group, holding only the playbooks' management roles, the app its one member.
    assert role_assignments(tenant, principal['id']) == []
    state = exchange_state(tenant)
    groups = state['role_groups']
    assert [(g['Name'], g['Roles'], g['Members']) for g in groups] == [(UNIQUE, ROLE_GROUP_ROLES, [principal['id']])]
    assert [s['AppId'] for s in state['service_principals'] if s['AppId'] == app['appId']] == [app['appId']]
    assert '"role_group": {}' in first.output or 'role_group: {}' in first.output, first.output  # the diff: before, none

    again, code = bootstrap_role_group(tenant, tmp_path, 'rg-bootstrap-again')
    assert again.rc == 0 and again.changed == 0, again

    report = provision_and_doctor_as_identity(tenant, tmp_path, 'rg-')
    assert any(f['check'] == 'Exchange role' and f['status'] == 'ok' for f in report['findings']), report

    gone, code = bootstrap_role_group(tenant, tmp_path, 'rg-bootstrap-absent', admin_identity_state='absent')
    assert code is None and gone.rc == 0 and gone.changed > 0, gone
    state = exchange_state(tenant)
    assert state['role_groups'] == [] and app['appId'] not in [s['AppId'] for s in state['service_principals']]
    assert admin_app(tenant) is None
    gone_again, _code = bootstrap_role_group(tenant, tmp_path, 'rg-bootstrap-absent-again', admin_identity_state='absent')
    assert gone_again.rc == 0 and gone_again.changed == 0, gone_again


def test_the_role_group_repairs_a_group_with_other_roles_and_the_doctor_names_a_missing_role(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    first, _code = bootstrap_role_group(tenant, tmp_path, 'rg-first')
    assert first.rc == 0, first
    app = admin_app(tenant)
    principal = service_principal(tenant, app['appId'])
    # Someone took View-Only Configuration out of the group by hand (the group made again with two roles).
    tenant.control('POST', 'tenants/%s/exchange/role_groups' % tenant.tenant()['tenant_id'],
                   {'Name': UNIQUE, 'Roles': ['Mail Recipients', 'Role Management'], 'Members': [principal['id']]})
    home = tmp_path / 'identity'
    inventory = identity_inventory(tenant, tmp_path, str(home / (UNIQUE + '.vars.yml')))
    doctor = run_playbook(tmp_path, DOCTOR, 'rg-doctor-missing-role', inventory=inventory,
                          env={'M365_DOCTOR_REPORT_DIR': str(tmp_path / 'doctor')})
    report = json.loads((tmp_path / 'doctor' / 'tenant1.json').read_text())
    role = [f for f in report['findings'] if f['check'] == 'Exchange role'][0]
    assert doctor.rc != 0 and role['status'] == 'problem', report
    assert 'Get-TransportConfig' in role['detail'] and 'View-Only Configuration' in role['fix'], role
    repaired, _code = bootstrap_role_group(tenant, tmp_path, 'rg-repair', diff=True)
    assert repaired.rc == 0 and repaired.changed == 1, repaired
    groups = exchange_state(tenant)['role_groups']
    assert [(g['Roles'], g['Members']) for g in groups] == [(ROLE_GROUP_ROLES, [principal['id']])]
    again, _code = bootstrap_role_group(tenant, tmp_path, 'rg-repaired-again')
    assert again.rc == 0 and again.changed == 0, again


SMTP_ROLE = 'Application SMTP.SendAsApp'


def test_the_role_group_app_assigns_smtp_rbac_only_through_the_groups_delegating_assignment(tenant, tmp_path):
    """Issue 26: the least-privilege admin app runs mailbox_access_smtp_access=rbac (New-ManagementRoleAssignment -App) once
    the bootstrap gave its role group a delegating assignment of Application SMTP.SendAsApp, and is refused without it."""
    tenant.config(device_code_interval=1)
    first, _code = bootstrap_role_group(tenant, tmp_path, 'rg-no-delegating', admin_identity_exchange_application_roles=[])
    assert first.rc == 0, first
    assert [a for a in exchange_state(tenant)['role_assignments'] if a['RoleAssigneeType'] == 'RoleGroup'] == []
    inventory = identity_inventory(tenant, tmp_path, str(tmp_path / 'identity' / (UNIQUE + '.vars.yml')),
                                   mailbox_access_protocols=['smtp'], mailbox_access_smtp_access='rbac')
    refused = run_playbook(tmp_path, PROVISION, 'rg-rbac-refused', inventory=inventory)
    assert refused.rc != 0, refused
    assert "delegating role assignment for the management role \"%s\"" % SMTP_ROLE in refused.output, refused.output
    assert 'delegating_roles' in refused.output and 'Traceback' not in refused.output, refused.output
    assert [a for a in exchange_state(tenant)['role_assignments'] if a['Role'] == SMTP_ROLE] == []

    # The bootstrap as shipped (profile manage): the person gives the group the delegating assignment; check mode first.
    check, _code = bootstrap_role_group(tenant, tmp_path, 'rg-delegating-check', check=True, diff=True)
    assert check.rc == 0 and check.changed == 1, check
    assert '"delegating_roles": [],' in check.output and '"%s"' % SMTP_ROLE in check.output, check  # the diff: none, then it
    assert [a for a in exchange_state(tenant)['role_assignments'] if a['RoleAssigneeType'] == 'RoleGroup'] == []
    made, _code = bootstrap_role_group(tenant, tmp_path, 'rg-delegating')
    assert made.rc == 0 and made.changed == 1, made
    delegating = [(a['Role'], a['RoleAssignee'], a['RoleAssignmentDelegationType'])
                  for a in exchange_state(tenant)['role_assignments'] if a['RoleAssigneeType'] == 'RoleGroup']
    assert delegating == [(SMTP_ROLE, UNIQUE, 'DelegatingOrgWide')]
    again, _code = bootstrap_role_group(tenant, tmp_path, 'rg-delegating-again')
    assert again.rc == 0 and again.changed == 0, again

    provision = run_playbook(tmp_path, PROVISION, 'rg-rbac', inventory=inventory)
    assert provision.rc == 0, provision
    state = exchange_state(tenant)
    app = [a for a in state['role_assignments'] if a['RoleAssigneeType'] == 'ServicePrincipal']
    assert [a['Role'] for a in app] == [SMTP_ROLE], state['role_assignments']
    assert sorted(state['smtp_rbac'][app[0]['RoleAssignee']]) == sorted(m.lower() for m in tenant.tenant()['mailboxes'][:2])

    # absent: Remove-RoleGroup takes the group's delegating assignment with it.
    gone, _code = bootstrap_role_group(tenant, tmp_path, 'rg-delegating-absent', admin_identity_state='absent')
    assert gone.rc == 0, gone
    assert [a for a in exchange_state(tenant)['role_assignments'] if a['RoleAssigneeType'] == 'RoleGroup'] == []


def test_role_group_check_mode_on_an_existing_identity_changes_nothing(tenant, tmp_path):
    tenant.config(device_code_interval=1)
    # An identity made with the Entra role first: switching to the role group in check mode reports it, writes nothing.
    first, _code = bootstrap(tenant, tmp_path, 'rg-entra-first')
    assert first.rc == 0, first
    check, _code = bootstrap_role_group(tenant, tmp_path, 'rg-switch-check', check=True, diff=True)
    assert check.rc == 0 and check.changed >= 2, check
    state = exchange_state(tenant)
    assert state['role_groups'] == []
    principal = service_principal(tenant, admin_app(tenant)['appId'])
    assert [a['roleDefinitionId'] for a in role_assignments(tenant, principal['id'])] == [EXCHANGE_ADMINISTRATOR]
    switched, _code = bootstrap_role_group(tenant, tmp_path, 'rg-switch')
    assert switched.rc == 0, switched
    assert role_assignments(tenant, principal['id']) == [] and len(exchange_state(tenant)['role_groups']) == 1
