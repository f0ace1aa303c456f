"""playbooks/doctor.yml per tenant and Exchange host, and the role's pre-flight that stops a run before its first write."""

import json
import os

from exchange_play import exchange_stats
from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

DOCTOR = os.path.join(PLAYBOOKS, 'doctor.yml')
PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
AUDIT = os.path.join(PLAYBOOKS, 'audit.yml')


def run_doctor(tmp_path, inventory, name):
    reports = tmp_path / ('reports-' + name)
    return run_playbook(tmp_path, DOCTOR, name, inventory=inventory, env={'M365_DOCTOR_REPORT_DIR': str(reports)}), reports


def graph_writes(sandbox):
    routes = sandbox.stats()['graph']
    return dict((route, n) for route, n in routes.items() if route.split(' ', 1)[0] in ('POST', 'PATCH', 'PUT', 'DELETE')
                and '$batch' not in route)


def exchange_writes(sandbox):
    return dict((name, n) for name, n in exchange_stats(sandbox)['exchange']['cmdlets'].items() if not name.startswith('Get-'))


def test_doctor_is_all_ok_on_a_good_sandbox_and_writes_both_reports(tenant, tmp_path):
    inventory = write_inventory(tmp_path / 'inv.json', tenant, tmp_path, exchange=True)
    run, reports = run_doctor(tmp_path, inventory, 'doctor-playbook-good')
    assert run.rc == 0 and run.changed == 0, run
    for host in ('tenant1', 'tenant2'):
        report = json.loads((reports / ('%s.json' % host)).read_text())
        assert report['ok'] and report['summary']['problems'] == 0, report
        assert {'Exchange role', 'ExchangeOnlineManagement', 'clock', 'Exchange.ManageAsApp'} <= set(f['check'] for f in report['findings'])
        assert (reports / ('%s.txt' % host)).read_text().startswith('%s: all ok' % host)
    assert graph_writes(tenant) == {} and exchange_writes(tenant) == {}


def test_without_an_exchange_host_the_doctor_checks_the_controller_side(tenant, tmp_path):
    inventory = write_inventory(tmp_path / 'inv.json', tenant, tmp_path, tenants=1)
    run, reports = run_doctor(tmp_path, inventory, 'doctor-playbook-no-host')
    assert run.rc == 0, run
    checks = set(f['check'] for f in json.loads((reports / 'tenant1.json').read_text())['findings'])
    assert 'Exchange.ManageAsApp' in checks and 'PowerShell host' not in checks and 'Exchange role' not in checks, checks


def test_doctor_names_a_broken_tenant_with_its_fix_and_exits_non_zero(tenant, tmp_path):
    second = tenant.tenant(1)
    tenant.control('POST', 'tenants/%s/exchange/role' % second['tenant_id'], {'appId': second['admin']['client_id'], 'assigned': False})
    tenant.drift({'action': 'remove_app_role_assignment', 'appId': second['admin']['client_id'],
                  'resource': 'https://graph.microsoft.com', 'role': 'DelegatedPermissionGrant.ReadWrite.All'}, tenant_index=1)
    inventory = write_inventory(tmp_path / 'inv.json', tenant, tmp_path, exchange=True)
    run, reports = run_doctor(tmp_path, inventory, 'doctor-playbook-broken')
    assert run.rc != 0, run
    assert json.loads((reports / 'tenant1.json').read_text())['ok']
    text = (reports / 'tenant2.txt').read_text()
    assert text.startswith('tenant2: 3 problem(s)'), text
    assert 'DelegatedPermissionGrant.ReadWrite.All' in text and 'Exchange Administrator' in text and text.count('fix:') >= 3, text
    assert 'tenant2: 3 problem(s)' in run.output and 'Traceback' not in run.output, run


def provision_without(sandbox, tmp_path, resource, role, name, **overrides):
    """provision.yml for tenant 1 after the admin app lost one app role (consent revoked), counting from zero."""
    admin = sandbox.tenant(0)['admin']['client_id']
    sandbox.drift({'action': 'remove_app_role_assignment', 'appId': admin, 'resource': resource, 'role': role})
    inventory = write_inventory(tmp_path / 'inv.json', sandbox, tmp_path, tenants=1, **overrides)
    sandbox.reset_stats()
    return run_playbook(tmp_path, PROVISION, name, inventory=inventory)


def test_the_role_stops_before_any_write_when_a_graph_permission_is_missing(tenant, tmp_path):
    run = provision_without(tenant, tmp_path, 'https://graph.microsoft.com', 'AppRoleAssignment.ReadWrite.All', 'preflight-stops',
                            exchange=True)
    assert run.rc != 0, run
    assert 'AppRoleAssignment.ReadWrite.All' in run.output and 'admin consent' in run.output, run
    assert graph_writes(tenant) == {}, graph_writes(tenant)
    assert exchange_stats(tenant)['exchange']['round_trips'] == 0
    state = tenant.state(tenant.tenant(0)['tenant_id'])
    assert not [a for a in state['applications'] if a.get('uniqueName') == 'role-mail-app']


def test_the_role_stops_before_any_write_without_exchange_manage_as_app(tenant, tmp_path):
    run = provision_without(tenant, tmp_path, 'https://outlook.office365.com', 'Exchange.ManageAsApp', 'preflight-manage', exchange=True)
    assert run.rc != 0 and 'Exchange.ManageAsApp' in run.output, run
    assert graph_writes(tenant) == {}, graph_writes(tenant)


def test_the_preflight_can_be_turned_off(tenant, tmp_path):
    run = provision_without(tenant, tmp_path, 'https://graph.microsoft.com', 'AppRoleAssignment.ReadWrite.All', 'preflight-off',
                            mailbox_access_preflight=False)
    # Without the pre-flight the run writes (the application) before the denied consent call stops it.
    assert run.rc != 0 and graph_writes(tenant), run


def test_an_audit_only_identity_passes_the_preflight_of_the_audit(tenant, tmp_path):
    """In check mode (the audit) the role only reads: the pre-flight judges the audit's read-only set."""
    inventory = write_inventory(tmp_path / 'inv.json', tenant, tmp_path, tenants=1)
    assert run_playbook(tmp_path, PROVISION, 'audit-setup', inventory=inventory).rc == 0
    admin = tenant.tenant(0)['admin']['client_id']
    for role in ('AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All'):
        tenant.drift({'action': 'remove_app_role_assignment', 'appId': admin, 'resource': 'https://graph.microsoft.com', 'role': role})
    tenant.drift({'action': 'add_app_role_assignment', 'appId': admin, 'resource': 'https://graph.microsoft.com',
                  'role': 'Application.Read.All'})
    run = run_playbook(tmp_path, AUDIT, 'audit-readonly', inventory=inventory, check=True,
                       env={'M365_AUDIT_REPORT_DIR': str(tmp_path / 'audit')})
    assert run.rc == 0, run


def test_a_module_too_old_the_doctor_and_the_role_say_the_same_version_and_command(tenant, tmp_path):
    """The host's ExchangeOnlineManagement is 3.0.0 (no -AccessToken): doctor.yml and the role's Exchange step both name
    3.1.0, why, and the one install command that fits the host's PowerShell (module_utils/exchange_module.py)."""
    tenant.control('POST', 'exchange/faults', {'module_version': '3.0.0'})
    inventory = write_inventory(tmp_path / 'inv.json', tenant, tmp_path, tenants=1, exchange=True)
    doctor_run, reports = run_doctor(tmp_path, inventory, 'doctor-old-module')
    assert doctor_run.rc != 0, doctor_run
    module = [f for f in json.loads((reports / 'tenant1.json').read_text())['findings'] if f['check'] == 'ExchangeOnlineManagement'][0]
    assert module['status'] == 'problem' and '-AccessToken (exchange_auth=access_token) needs 3.1.0 or later' in module['detail'], module
    command = module['fix']
    assert command.startswith('Install-Module ExchangeOnlineManagement'), command
    run = run_playbook(tmp_path, PROVISION, 'role-old-module', inventory=inventory)
    assert run.rc != 0, run
    assert ('ExchangeOnlineManagement 3.1.0 or later is not installed on this host (found: 3.0.0); -AccessToken '
            '(exchange_auth=access_token) needs 3.1.0 or later.') in run.output, run
    assert command + ', or set install_module to install it' in run.output, (command, run)
