"""playbooks/audit.yml's recap counts drift and nothing else: changed=0 on a tenant without drift, changed>0 on one with.

AWX and dashboards read a changed host as a drifted tenant, so writing the reports must not count; the count comes from
the role's check-mode results (what provision.yml would change) and the report's verdict.
"""

import json
import os

import pytest

from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
AUDIT = os.path.join(PLAYBOOKS, 'audit.yml')
GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
USER_READ = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'
REPORT_TASKS = ('Make the report directory', 'Write the report as JSON', 'Write the report as text')


def role_app(sandbox, index):
    state = sandbox.state(sandbox.tenant(index)['tenant_id'])
    return [a for a in state['applications'] if a.get('uniqueName') == 'role-mail-app'][0]


def make_drift(sandbox, exchange):
    """Tenant 1 only: User.Read back on the app, and (with Exchange) one mailbox's FullAccess taken away."""
    app = role_app(sandbox, 0)
    sandbox.drift({'action': 'patch_application', 'id': app['id'], 'set': {
        'requiredResourceAccess': app['requiredResourceAccess'] + [
            {'resourceAppId': GRAPH_APP_ID, 'resourceAccess': [{'id': USER_READ, 'type': 'Scope'}]}]}}, tenant_index=0)
    if not exchange:
        return None
    victim = sandbox.tenant(0)['mailboxes'][1]
    sandbox.control('POST', 'tenants/%s/exchange/mailbox_permissions' % sandbox.tenant(0)['tenant_id'],
                    {'remove': True, 'Identity': victim, 'User': app['appId']})
    return victim


def changed_tasks(run, host):
    return sorted(task for task, hosts in run.results().items() if hosts.get(host, {}).get('changed'))


def reports(directory, host):
    return json.loads((directory / ('%s.json' % host)).read_text()), (directory / ('%s.txt' % host)).read_text()


@pytest.mark.parametrize('exchange', [False, True], ids=['graph-only', 'with-exchange'])
def test_audit_recap_changed_only_with_drift(tenant, tmp_path, exchange):
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, exchange=exchange)
    provision = run_playbook(tmp_path, PROVISION, 'audit-count-provision', inventory=inventory)
    assert provision.rc == 0, provision
    directory = tmp_path / 'reports'  # does not exist yet: making it must not count either
    env = {'M365_AUDIT_REPORT_DIR': str(directory)}

    clean = run_playbook(tmp_path, AUDIT, 'audit-count-clean', inventory=inventory, check=True, diff=True, env=env,
                         extra_vars={'fail_on_drift': True})
    assert clean.rc == 0, clean
    assert clean.recap['tenant1']['changed'] == 0 and clean.recap['tenant2']['changed'] == 0, clean
    for host in ('tenant1', 'tenant2'):
        report, text = reports(directory, host)
        assert report['drift'] is False and report['tenant'] == host, report
        assert text.startswith('%s: no drift\n' % host), text
    assert oct(directory.stat().st_mode & 0o777) == oct(0o700)
    assert oct((directory / 'tenant1.json').stat().st_mode & 0o777) == oct(0o600)

    victim = make_drift(tenant, exchange)
    drift = run_playbook(tmp_path, AUDIT, 'audit-count-drift', inventory=inventory, check=True, diff=True, env=env)
    assert drift.rc == 0, drift  # reported, not fatal, unless fail_on_drift
    assert drift.recap['tenant1']['changed'] > 0 and drift.recap['tenant2']['changed'] == 0, drift
    # The count is the drift: the role's check-mode tasks that would repair it and the report's verdict, not the files.
    counted = changed_tasks(drift, 'tenant1')
    assert 'Exchange Online application permissions with admin consent' in counted, counted
    if exchange:
        assert 'FullAccess on every listed mailbox' in counted, counted
    assert 'Drift of this tenant' in counted, counted
    assert not set(counted) & set(REPORT_TASKS), counted
    assert drift.recap['tenant1']['changed'] == len(counted), (counted, drift)
    assert changed_tasks(drift, 'tenant2') == [], drift

    report, text = reports(directory, 'tenant1')
    assert report['drift'] is True
    assert report['permissions']['requested'] == {'Microsoft Graph': {'missing': [], 'extra': ['User.Read']}}, report
    if exchange:
        assert report['mailboxes']['without_access'] == [victim], report
    assert text.startswith('tenant1: drift\n') and text.count('\n- ') == len(report['findings']), text
    assert 'requested permissions not wanted on Microsoft Graph: User.Read' in text, text
    assert reports(directory, 'tenant2')[0]['drift'] is False

    strict = run_playbook(tmp_path, AUDIT, 'audit-count-strict', inventory=inventory, check=True, env=env,
                          extra_vars={'fail_on_drift': True})
    assert strict.rc != 0 and strict.recap['tenant1']['failed'] == 1, strict
    assert strict.recap['tenant2']['failed'] == 0 and strict.recap['tenant2']['changed'] == 0, strict
