"""The doctor through real ansible-playbook against the sandbox: all ok on a good tenant, each breakage named with its fix."""

from exchange_play import inventory, run_exchange
from m365_sandbox.testing import closed_port


def doctor_task(**args):
    return {'name': 'doctor', 'm365.mail_oauth.doctor': dict({'fail_on_problems': False}, **args), 'register': 'doctor'}


def findings(run):
    return run.results()['doctor']['localhost']['findings']


def by_check(items):
    out = {}
    for item in items:
        out.setdefault(item['check'], []).append(item)
    return out


def test_the_action_finds_nothing_wrong_on_a_good_tenant(tenant, tmp_path):
    run = run_exchange(tmp_path, tenant, [doctor_task()], 'doctor-good')
    assert run.rc == 0, run
    items = findings(run)
    assert [i for i in items if i['status'] not in ('ok', 'skipped')] == [], items
    checks = by_check(items)
    for check in ('token for Microsoft Graph', 'Exchange.ManageAsApp', 'PowerShell host', 'ExchangeOnlineManagement', 'Exchange role', 'clock'):
        assert check in checks, (check, items)


def problems(items):
    return dict((i['check'], i) for i in items if i['status'] == 'problem')


def test_a_removed_exchange_role_is_named_with_its_fix(tenant, tmp_path):
    admin = tenant.tenant(0)
    tenant.control('POST', 'tenants/%s/exchange/role' % admin['tenant_id'], {'appId': admin['admin']['client_id'], 'assigned': False})
    run = run_exchange(tmp_path, tenant, [doctor_task()], 'doctor-no-role')
    found = problems(findings(run))
    assert list(found) == ['Exchange role'], found
    assert 'Exchange Administrator' in found['Exchange role']['fix'], found


def test_revoked_consent_is_named_per_playbook_with_its_fix(tenant, tmp_path):
    admin = tenant.tenant(0)['admin']['client_id']
    for resource, role in (('https://graph.microsoft.com', 'AppRoleAssignment.ReadWrite.All'),
                           ('https://outlook.office365.com', 'Exchange.ManageAsApp')):
        tenant.drift({'action': 'remove_app_role_assignment', 'appId': admin, 'resource': resource, 'role': role})
    run = run_exchange(tmp_path, tenant, [doctor_task(fail_on_problems=True)], 'doctor-revoked')
    assert run.rc != 0, run
    found = problems(findings(run))
    assert set(found) == {'graph permissions for provision.yml', 'Exchange.ManageAsApp'}, found
    assert found['graph permissions for provision.yml']['missing'] == ['AppRoleAssignment.ReadWrite.All']
    assert 'admin consent' in found['graph permissions for provision.yml']['fix']
    assert 'Exchange.ManageAsApp' in found['Exchange.ManageAsApp']['fix']
    # The failed task's message is the summary, each problem with its fix.
    assert '2 problem(s)' in run.output and 'AppRoleAssignment.ReadWrite.All' in run.output, run
    # Graph roles for the other playbooks are still there.
    assert not [i for i in findings(run) if i['check'] == 'graph permissions for audit.yml' and i['status'] != 'ok']


def test_a_module_too_old_for_access_token_is_named_with_the_version_needed(tenant, tmp_path):
    tenant.control('POST', 'exchange/faults', {'module_version': '3.0.0'})
    run = run_exchange(tmp_path, tenant, [doctor_task()], 'doctor-old-module')
    found = problems(findings(run))
    assert list(found) == ['ExchangeOnlineManagement'], found
    assert '3.1.0' in found['ExchangeOnlineManagement']['detail'] and 'Install-Module' in found['ExchangeOnlineManagement']['fix'], found


def test_an_unreachable_exchange_host_is_named_within_10_s(tenant, tmp_path):
    port = closed_port()
    run = run_exchange(tmp_path, tenant, [doctor_task()], 'doctor-host-down', inventory_path=inventory(tmp_path, tenant, port=port))
    found = problems(findings(run))
    assert list(found) == ['PowerShell host'], found
    assert str(port) in found['PowerShell host']['detail'] and 'ansible_port' in found['PowerShell host']['fix'], found
    assert run.seconds < 10, run.seconds


def test_an_unreachable_graph_endpoint_is_named_within_10_s(tenant, tmp_path):
    port = closed_port()
    run = run_exchange(tmp_path, tenant, [doctor_task(graph_url='https://127.0.0.1:%d' % port, checks=['endpoints', 'clock', 'token'])],
                       'doctor-graph-down')
    found = problems(findings(run))
    assert list(found) == ['endpoint Microsoft Graph (https://127.0.0.1:%d)' % port], found
    assert '127.0.0.1:%d refused the connection' % port in found[list(found)[0]]['detail']
    assert run.seconds < 10, run.seconds


def test_a_refused_login_endpoint_is_named_once_within_10_s(tenant, tmp_path):
    port = closed_port()
    run = run_exchange(tmp_path, tenant, [doctor_task(authority_url='https://127.0.0.1:%d' % port)], 'doctor-login-down')
    items = findings(run)
    found = problems(items)
    assert list(found) == ['endpoint login (https://127.0.0.1:%d)' % port], found
    assert '127.0.0.1:%d refused the connection' % port in found[list(found)[0]]['detail']
    assert [i['status'] for i in items if i['check'] in ('token for Microsoft Graph', 'graph permissions', 'Exchange.ManageAsApp', 'clock')] == ['skipped'] * 4
    assert run.seconds < 10, run.seconds
