"""The doctor as a signed-in person: m365.mail_oauth.sign_in first (device code approved by the test as that person), then
the doctor with the same token cache judges the person's scopes (scp) and Entra roles (wids) against doctor.NEEDS."""

import json
import os

from exchange_play import WINDOWS, inventory
from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory
from test_sign_in import Watched, sign_in_play

DOCTOR = os.path.join(PLAYBOOKS, 'doctor.yml')

# The sandbox's second public client: its /.default Graph token carries User.Read only (tests/sandbox/README.md).
GRAPH_CLI_APP_ID = '14d82eec-204b-4c2f-b7e8-296a70dab67e'


def doctor_as_person(tenant, tmp_path, person, name, client_id=None, exchange=True):
    cache = tmp_path / (name + '.json')
    doctor = {'fail_on_problems': False}
    if not exchange:
        doctor['checks'] = ['endpoints', 'clock', 'token', 'graph_permissions']
    plays = sign_in_play(tenant, cache, more_tasks=[{'name': 'doctor', 'm365.mail_oauth.doctor': doctor, 'register': 'doctor',
                                                     'delegate_to': WINDOWS}])
    auth = plays[0]['module_defaults']['group/m365.mail_oauth.graph']
    if client_id:
        auth['client_id'] = client_id
        plays[0]['tasks'][0]['m365.mail_oauth.sign_in'].update(client_id=client_id, exchange=exchange)
    plays[0]['module_defaults']['group/m365.mail_oauth.exchange'] = auth
    tenant.config(device_code_interval=1)
    run = Watched(tmp_path, plays, name, inventory_path=inventory(tmp_path, tenant))
    tenant.device_login(person, user_code=run.wait_for_prompt())
    result = run.finish(seconds=180)
    assert 'Traceback' not in result.output, result
    return result.results()['doctor']['localhost']['findings']


def problems(items):
    return dict((i['check'], i) for i in items if i['status'] == 'problem')


def test_a_global_administrator_signed_in_is_all_ok(tenant, tmp_path):
    items = doctor_as_person(tenant, tmp_path, tenant.global_admin(), 'doctor-person-ok')
    assert problems(items) == {}, items
    checks = dict((i['check'], i) for i in items)
    assert checks['token for Microsoft Graph']['detail'].startswith('delegated token for %s' % tenant.global_admin()), checks
    for check in ('graph permissions for provision.yml', 'graph permissions for audit.yml', 'Exchange Online sign-in',
                  'ExchangeOnlineManagement', 'Exchange role'):
        assert checks[check]['status'] == 'ok', (check, items)
    # The Exchange role judged is the person's, not an admin app's.
    assert 'admin app' not in checks['Exchange role']['detail'], checks['Exchange role']


def test_a_person_without_the_entra_role_is_named_with_the_role_and_its_fix(tenant, tmp_path):
    exchange_admin = 'exo@' + tenant.tenant()['domain']
    tenant.add_person(exchange_admin, roles=['Exchange Administrator'])
    found = problems(doctor_as_person(tenant, tmp_path, exchange_admin, 'doctor-person-no-role'))
    assert set(found) == {'graph permissions for %s.yml' % p for p in ('provision', 'audit', 'rotate_secret', 'deprovision')}, found
    provision = found['graph permissions for provision.yml']
    assert exchange_admin in provision['detail'] and 'Application Administrator' in provision['detail'], provision
    assert 'assign %s the role' % exchange_admin in provision['fix'], provision
    assert provision['missing'] == [], provision


def test_a_person_without_an_exchange_role_is_named_with_its_fix(tenant, tmp_path):
    apps = 'apps@' + tenant.tenant()['domain']
    tenant.add_person(apps, roles=['Application Administrator'])
    found = problems(doctor_as_person(tenant, tmp_path, apps, 'doctor-person-no-exchange-role'))
    assert 'Exchange Online sign-in' in found, found
    assert apps in found['Exchange Online sign-in']['detail'] and 'Exchange Administrator' in found['Exchange Online sign-in']['fix']


def test_a_signed_in_token_lacking_the_scopes_is_named_with_its_fix(tenant, tmp_path):
    found = problems(doctor_as_person(tenant, tmp_path, tenant.global_admin(), 'doctor-person-no-scope', client_id=GRAPH_CLI_APP_ID,
                                      exchange=False))
    provision = found['graph permissions for provision.yml']
    assert provision['missing'] == ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All']
    assert 'scope(s) Application.ReadWrite.All' in provision['detail'] and 'sign in again' in provision['fix'], provision
    # The person holds the role: only the scopes are named.
    assert 'directory roles' not in provision['detail'], provision


def test_doctor_playbook_signs_the_person_in_and_names_what_they_lack(tenant, tmp_path):
    """playbooks/doctor.yml with token_cache in mailbox_access_graph_auth: the role's sign-in prompts while the play waits,
    the doctor judges that person (an Application Administrator without an Exchange role), and a rerun reuses the cache."""
    apps = 'apps@' + tenant.tenant()['domain']
    tenant.add_person(apps, roles=['Application Administrator'])
    tenant.config(device_code_interval=1)
    auth = {'token_cache': str(tmp_path / 'person.json'), 'authority_url': tenant.authority_url, 'graph_url': tenant.graph_url,
            'ca_path': tenant.ca_path}
    inventory_path = write_inventory(tmp_path / 'inv.json', tenant, tmp_path, tenants=1, exchange=True, mailbox_access_graph_auth=auth)
    reports = tmp_path / 'reports'
    env = {'M365_DOCTOR_REPORT_DIR': str(reports)}
    run = Watched(tmp_path, DOCTOR, 'doctor-playbook-person', inventory_path=inventory_path, env=env)
    tenant.device_login(apps, user_code=run.wait_for_prompt())
    result = run.finish(seconds=180)
    assert result.rc != 0 and 'Traceback' not in result.output, result
    report = json.loads((reports / 'tenant1.json').read_text())
    found = problems(report['findings'])
    # The token shows no Exchange role, and Exchange itself refuses the harmless read: both named, both with the role as fix.
    assert sorted(found) == ['Exchange Online sign-in', 'Exchange role'], found
    for item in found.values():
        assert apps in item['detail'] and 'assign %s the' % apps in item['fix'] and 'Exchange Administrator' in item['fix'], item
    assert all(i['status'] == 'ok' for i in report['findings'] if i['check'].startswith('graph permissions')), report
    again = run_playbook(tmp_path, DOCTOR, 'doctor-playbook-person-again', inventory=inventory_path, env=env)
    assert 'enter the code' not in again.output and 'tenant1: 2 problem(s)' in again.output, again
