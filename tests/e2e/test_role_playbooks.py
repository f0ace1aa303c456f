"""The role through the shipped playbooks: two tenants in one run, rerun, audit after drift, deprovision."""

import json
import os

from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
AUDIT = os.path.join(PLAYBOOKS, 'audit.yml')
DEPROVISION = os.path.join(PLAYBOOKS, 'deprovision.yml')


def apps_named(sandbox, index, name='role-mail-app'):
    state = sandbox.state(sandbox.tenant(index)['tenant_id'])
    return [a for a in state['applications'] if a.get('uniqueName') == name]


def test_two_tenants_rerun_audit_and_drift(tenant, tmp_path):
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path)
    reports = tmp_path / 'reports'
    env = {'M365_AUDIT_REPORT_DIR': str(reports)}
    first = run_playbook(tmp_path, PROVISION, 'role-create', inventory=inventory, extra_args=['-f', '5'])
    assert first.rc == 0, first
    assert first.recap['tenant1']['changed'] > 0 and first.recap['tenant2']['changed'] > 0
    for index in (0, 1):
        assert len(apps_named(tenant, index)) == 1
        handover = json.loads((tmp_path / ('tenant%d.json' % (index + 1))).read_text())
        assert handover['tenant_id'] == tenant.tenant(index)['tenant_id'] and handover['client_secret']
    second = run_playbook(tmp_path, PROVISION, 'role-rerun', inventory=inventory)
    assert second.rc == 0 and second.changed == 0, second

    clean = run_playbook(tmp_path, AUDIT, 'audit-clean', inventory=inventory, check=True, diff=True, env=env,
                         extra_vars={'fail_on_drift': True})
    assert clean.rc == 0, clean
    report = json.loads((reports / 'tenant1.json').read_text())
    assert report['drift'] is False, report

    # Drift in tenant 2: User.Read comes back, IMAP consent goes.
    app = apps_named(tenant, 1)[0]
    tenant.drift({'action': 'patch_application', 'id': app['id'], 'set': {
        'requiredResourceAccess': app['requiredResourceAccess'] + [{
            'resourceAppId': '00000003-0000-0000-c000-000000000000',
            'resourceAccess': [{'id': 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', 'type': 'Scope'}]}]}}, tenant_index=1)
    tenant.drift({'action': 'remove_app_role_assignment', 'appId': app['appId'], 'resource': 'https://outlook.office365.com',
                  'role': 'IMAP.AccessAsApp'}, tenant_index=1)
    audit = run_playbook(tmp_path, AUDIT, 'audit-drift', inventory=inventory, check=True, diff=True, env=env)
    assert audit.rc == 0, audit  # drift is reported, not fatal, unless asked
    report = json.loads((reports / 'tenant2.json').read_text())
    assert report['drift'] is True
    assert report['permissions']['requested'] == {'Microsoft Graph': {'missing': [], 'extra': ['User.Read']}}, report
    assert report['permissions']['consented'] == {
        'Office 365 Exchange Online': {'missing': ['IMAP.AccessAsApp'], 'extra': []}}, report
    assert json.loads((reports / 'tenant1.json').read_text())['drift'] is False
    strict = run_playbook(tmp_path, AUDIT, 'audit-strict', inventory=inventory, check=True, env=env,
                          extra_vars={'fail_on_drift': True})
    assert strict.rc != 0 and strict.recap['tenant2']['failed'] == 1 and strict.recap['tenant1']['failed'] == 0, strict
    # The audit changed nothing: the drift is still there until provision repairs it.
    repair = run_playbook(tmp_path, PROVISION, 'role-repair', inventory=inventory)
    assert repair.rc == 0 and repair.recap['tenant2']['changed'] == 1 and repair.recap['tenant1']['changed'] == 0, repair


def test_bad_role_input_fails_before_any_call(tenant, tmp_path):
    cases = {
        'dup': {'mailbox_access_mailboxes': ['a@x.com', 'A@x.com']},
        'exclusive-empty': {'mailbox_access_exclusive_mailboxes': True, 'mailbox_access_mailboxes': []},
        'no-dest': {'mailbox_access_handover_dest': ''},
        'bad-protocol': {'mailbox_access_protocols': ['imap', 'ftp']},
        'bad-type': {'mailbox_access_secret_lifetime_days': 'soon'},
    }
    words = {'dup': 'a@x.com', 'exclusive-empty': 'mailbox_access_exclusive_mailboxes', 'no-dest': 'mailbox_access_handover_dest',
             'bad-protocol': 'mailbox_access_protocols', 'bad-type': 'mailbox_access_secret_lifetime_days'}
    tenant.reset_stats()
    for name, override in cases.items():
        inventory = write_inventory(tmp_path / ('%s.json' % name), tenant, tmp_path, tenants=1, **override)
        run = run_playbook(tmp_path, PROVISION, 'role-bad-' + name, inventory=inventory)
        assert run.rc != 0 and words[name] in run.output and 'Traceback' not in run.output, run
    assert tenant.stats()['graph_total'] == 0 and tenant.stats()['token_total'] == 0


def token_works(sandbox, index, client_id, secret):
    answer = sandbox.session().post('%s/oauth2/v2.0/token' % sandbox.authority(index), data={
        'grant_type': 'client_credentials', 'client_id': client_id, 'client_secret': secret,
        'scope': 'https://outlook.office365.com/.default'}, timeout=30).json()
    return 'access_token' in answer


ROTATE = os.path.join(PLAYBOOKS, 'rotate_secret.yml')


def test_rotation_overlap_and_deprovision(tenant, tmp_path):
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, tenants=1)
    assert run_playbook(tmp_path, PROVISION, 'rot-create', inventory=inventory).rc == 0
    handover = tmp_path / 'tenant1.json'
    old = json.loads(handover.read_text())

    rotate = run_playbook(tmp_path, ROTATE, 'rot-rotate', inventory=inventory)
    assert rotate.rc == 0 and rotate.changed == 1, rotate
    new = json.loads(handover.read_text())
    assert new['client_secret'] != old['client_secret']
    # Overlap: both work until the grace period ends.
    assert token_works(tenant, 0, old['client_id'], old['client_secret'])
    assert token_works(tenant, 0, new['client_id'], new['client_secret'])
    again = run_playbook(tmp_path, PROVISION, 'rot-provision', inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again
    assert token_works(tenant, 0, old['client_id'], old['client_secret'])

    now = run_playbook(tmp_path, ROTATE, 'rot-now', inventory=inventory, extra_vars={'mailbox_access_secret_grace_days': 0})
    assert now.rc == 0, now
    newest = json.loads(handover.read_text())
    assert not token_works(tenant, 0, old['client_id'], old['client_secret'])
    assert not token_works(tenant, 0, new['client_id'], new['client_secret'])
    assert token_works(tenant, 0, newest['client_id'], newest['client_secret'])
    assert len(apps_named(tenant, 0)[0]['passwordCredentials']) == 1

    principal = [sp for sp in tenant.state(tenant.tenant(0)['tenant_id'])['servicePrincipals']
                 if sp['appId'] == newest['client_id']][0]
    refused = run_playbook(tmp_path, DEPROVISION, 'deprov-refused', inventory=inventory)
    assert refused.rc != 0 and 'mailbox_access_deprovision_confirm' in refused.output, refused
    assert len(apps_named(tenant, 0)) == 1
    gone = run_playbook(tmp_path, DEPROVISION, 'deprov', inventory=inventory,
                        extra_vars={'mailbox_access_deprovision_confirm': True})
    assert gone.rc == 0, gone
    state = tenant.state(tenant.tenant(0)['tenant_id'])
    assert not apps_named(tenant, 0)
    assert not [sp for sp in state['servicePrincipals'] if sp['appId'] == newest['client_id']]
    assert not [a for a in state['appRoleAssignments'] if a['principalId'] == principal['id']]


def exchange_state(sandbox, index):
    return sandbox.control('GET', 'tenants/%s/exchange' % sandbox.tenant(index)['tenant_id'])


def full_access(state, principal_id):
    return sorted(upn for upn, mailbox in state['mailboxes'].items()
                  if any(p['User'] == principal_id and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions']))


def test_end_to_end_with_exchange(tenant, tmp_path):
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, exchange=True)
    first = run_playbook(tmp_path, PROVISION, 'e2e-create', inventory=inventory)
    assert first.rc == 0, first
    for index in (0, 1):
        app = apps_named(tenant, index)[0]
        principal = [sp for sp in tenant.state(tenant.tenant(index)['tenant_id'])['servicePrincipals'] if sp['appId'] == app['appId']][0]
        state = exchange_state(tenant, index)
        assert [sp['AppId'] for sp in state['service_principals']] == [app['appId']], state['service_principals']
        assert state['service_principals'][0]['ObjectId'] == principal['id']
        assert full_access(state, principal['id']) == sorted(tenant.tenant(index)['mailboxes'][:3])
    again = run_playbook(tmp_path, PROVISION, 'e2e-rerun', inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again

    # Drift: a mailbox loses access in tenant 1; the audit reports exactly that mailbox.
    victim = tenant.tenant(0)['mailboxes'][1]
    app = apps_named(tenant, 0)[0]
    tenant.control('POST', 'tenants/%s/exchange/mailbox_permissions' % tenant.tenant(0)['tenant_id'],
                   {'remove': True, 'Identity': victim, 'User': app['appId']})
    reports = tmp_path / 'reports'
    audit = run_playbook(tmp_path, AUDIT, 'e2e-audit', inventory=inventory, check=True, diff=True,
                         env={'M365_AUDIT_REPORT_DIR': str(reports)})
    assert audit.rc == 0, audit
    report = json.loads((reports / 'tenant1.json').read_text())
    assert report['mailboxes']['without_access'] == [victim], report
    assert json.loads((reports / 'tenant2.json').read_text())['drift'] is False

    gone = run_playbook(tmp_path, DEPROVISION, 'e2e-deprovision', inventory=inventory,
                        extra_vars={'mailbox_access_deprovision_confirm': True})
    assert gone.rc == 0, gone
    for index in (0, 1):
        state = exchange_state(tenant, index)
        assert state['service_principals'] == []
        assert all(not mailbox['permissions'] or all(p['User'] in ('NT AUTHORITY\\SELF',) for p in mailbox['permissions'])
                   for mailbox in state['mailboxes'].values()), state['mailboxes']
        assert apps_named(tenant, index) == []


def one_tenant_with_exchange(sandbox, tmp_path, **overrides):
    """Provision tenant 1 with its Exchange steps; answer the inventory, the app, its service principal's object id."""
    inventory = write_inventory(tmp_path / 'inventory.json', sandbox, tmp_path, tenants=1, exchange=True, **overrides)
    made = run_playbook(tmp_path, PROVISION, 'leftovers-create', inventory=inventory)
    assert made.rc == 0, made
    app = apps_named(sandbox, 0)[0]
    principal = exchange_state(sandbox, 0)['service_principals'][0]
    assert principal['AppId'] == app['appId'] and full_access(exchange_state(sandbox, 0), principal['ObjectId'])
    return inventory, app, principal['ObjectId']


def test_graph_failing_on_the_application_lookup_stops_deprovision_before_anything_is_removed(tenant, tmp_path):
    inventory, app, object_id = one_tenant_with_exchange(tenant, tmp_path)
    mailboxes = sorted(tenant.tenant(0)['mailboxes'][:3])
    # Only the lookup of the application by its key fails (every time); every other Graph call answers.
    hosts = json.loads(inventory.read_text())
    hosts['tenants']['hosts']['tenant1']['mailbox_access_graph_auth']['retry_timeout'] = 3
    inventory.write_text(json.dumps(hosts))
    tenant.set_faults({'server_errors': {'every': 1, 'status': 503, 'methods': ['GET'], 'paths': [r'^applications\(uniqueName=']}})
    failed = run_playbook(tmp_path, DEPROVISION, 'leftovers-graph-down', inventory=inventory,
                          extra_vars={'mailbox_access_deprovision_confirm': True})
    assert failed.rc != 0 and failed.recap['tenant1']['failed'] == 1, failed
    assert tenant.stats()['server_errors'] > 0
    assert 'Find the application' in failed.stdout, failed
    tenant.set_faults({'server_errors': None})
    assert [a['appId'] for a in apps_named(tenant, 0)] == [app['appId']]
    state = exchange_state(tenant, 0)
    assert [sp['ObjectId'] for sp in state['service_principals']] == [object_id]
    assert full_access(state, object_id) == mailboxes
    assert (tmp_path / 'tenant1.json').exists()


def test_deprovision_by_app_id_cleans_exchange_after_the_app_is_gone(tenant, tmp_path):
    inventory, app, object_id = one_tenant_with_exchange(tenant, tmp_path)
    mailboxes = sorted(tenant.tenant(0)['mailboxes'][:3])
    tenant.drift({'action': 'delete_application', 'appId': app['appId']})
    assert apps_named(tenant, 0) == []
    by_app_id = {'mailbox_access_deprovision_confirm': True, 'mailbox_access_app_id': app['appId'].upper()}

    # Check mode: reports the removals and changes nothing.
    preview = run_playbook(tmp_path, DEPROVISION, 'leftovers-check', inventory=inventory, extra_vars=by_app_id, check=True)
    assert preview.rc == 0 and preview.changed >= 2, preview
    results = preview.results()
    permission = results['Remove FullAccess and SendAs from the listed mailboxes (with exclusive, from every mailbox)']['tenant1']
    assert permission['changed'] and sorted(permission['removed']['FullAccess']) == mailboxes, permission
    assert permission['principal']['object_id'] == object_id and permission['principal']['source'] == 'exchange'
    principal = results['Remove the Exchange service principal']['tenant1']
    assert principal['changed'] and principal['actions'] == ['remove_service_principal'] and principal['object_id'] == object_id
    assert 'Exchange Online\'s own record' in preview.output
    state = exchange_state(tenant, 0)
    assert [sp['ObjectId'] for sp in state['service_principals']] == [object_id]
    assert full_access(state, object_id) == mailboxes

    gone = run_playbook(tmp_path, DEPROVISION, 'leftovers-by-app-id', inventory=inventory, extra_vars=by_app_id)
    assert gone.rc == 0 and gone.changed >= 2, gone
    state = exchange_state(tenant, 0)
    assert state['service_principals'] == [] and full_access(state, object_id) == []
    assert not (tmp_path / 'tenant1.json').exists()

    again = run_playbook(tmp_path, DEPROVISION, 'leftovers-by-app-id-again', inventory=inventory, extra_vars=by_app_id)
    assert again.rc == 0 and again.changed == 0, again
    assert 'neither Microsoft Graph nor Exchange Online knows' in again.output, again

    # Without the app id the run removes nothing in Exchange and says what to set.
    plain = run_playbook(tmp_path, DEPROVISION, 'leftovers-no-app-id', inventory=inventory,
                         extra_vars={'mailbox_access_deprovision_confirm': True})
    assert plain.rc == 0 and plain.changed == 0 and 'mailbox_access_app_id' in plain.stdout, plain
