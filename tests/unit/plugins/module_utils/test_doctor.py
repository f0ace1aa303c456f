"""The doctor's judgement with hand-made token claims, host facts and Date headers (no service involved)."""

import datetime
import os
import re

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils import doctor, signin

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FULL = ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All']


def app(*roles):
    return {'appid': 'admin-app', 'tid': 't', 'roles': list(roles)}


def person(scopes, *wids):
    return {'scp': ' '.join(scopes), 'wids': list(wids), 'upn': 'ada@contoso.com', 'oid': 'o', 'tid': 't'}


def statuses(items):
    return dict((i['check'], i['status']) for i in items)


# -- the table ------------------------------------------------------------------------------------------------------

def test_docs_permissions_table_is_the_code_table():
    """docs/permissions.md's 'Exactly what each playbook needs' lists NEEDS, row for row."""
    with open(os.path.join(REPO, 'docs', 'permissions.md')) as handle:
        text = handle.read()
    text = text.split('## Exactly what each playbook needs', 1)[1].split('\n#', 1)[0]
    rows = re.findall(r'^\| `(\w+)\.yml` \| (.+?) \| (.+?) \|$', text, re.M)
    documented = dict((name, (tuple(re.findall(r'`([\w.]+)`', graph)), 'ManageAsApp' in exchange)) for name, graph, exchange in rows)
    assert documented == dict((name, (need['graph'], need['exchange'])) for name, need in doctor.NEEDS.items())


def test_an_app_with_every_permission_is_ok_for_every_playbook():
    items = doctor.judge_graph_permissions(app(*FULL))
    assert set(statuses(items).values()) == {'ok'} and len(items) == 4


def test_readwrite_covers_read_for_the_audit():
    assert doctor.missing_graph(app('Application.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All'), 'audit') == []
    assert doctor.missing_graph(app('Application.Read.All'), 'provision') == FULL


def test_a_missing_permission_is_named_per_playbook_with_the_fix():
    items = doctor.judge_graph_permissions(app('Application.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All'), client_id='c1')
    found = dict((i['check'], i) for i in items)
    bad = found['graph permissions for provision.yml']
    assert bad['status'] == 'problem' and bad['missing'] == ['AppRoleAssignment.ReadWrite.All']
    assert 'c1' in bad['detail'] and 'admin consent' in bad['fix']
    assert found['graph permissions for rotate_secret.yml']['status'] == 'ok'


def test_without_grant_reads_delegated_permission_grant_is_not_needed():
    claims = app('Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All')
    assert doctor.judge_graph_permissions(claims, ['provision'], read_grants=False)[0]['status'] == 'ok'
    assert doctor.judge_graph_permissions(claims, ['provision'])[0]['status'] == 'problem'


def test_manage_as_app():
    assert doctor.judge_exchange_token(app('Exchange.ManageAsApp'))[0]['status'] == 'ok'
    missing = doctor.judge_exchange_token(app(), client_id='c1')[0]
    assert missing['status'] == 'problem' and 'Exchange.ManageAsApp' in missing['fix'] and 'c1' in missing['detail']
    assert doctor.judge_exchange_token(app(), ['rotate_secret'])[0]['status'] == 'skipped'


# -- a person's delegated token: scopes AND directory roles ------------------------------------------------------------

def test_a_person_with_the_scopes_and_a_role_is_ok():
    claims = person(FULL, doctor.CLOUD_APPLICATION_ADMINISTRATOR)
    assert doctor.token_grants(claims)['kind'] == 'delegated'
    assert statuses(doctor.judge_graph_permissions(claims, ['provision'])) == {'graph permissions for provision.yml': 'ok'}


def test_a_person_with_the_scope_but_without_the_role_is_told_which_role():
    item = doctor.judge_graph_permissions(person(FULL), ['provision'])[0]
    assert item['status'] == 'problem' and 'ada@contoso.com holds none of the directory roles' in item['detail']
    assert 'Cloud Application Administrator' in item['fix'] and item['missing'] == []


def test_a_person_lacking_a_scope_is_told_to_sign_in_again_for_it():
    item = doctor.judge_graph_permissions(person(['Application.ReadWrite.All'], doctor.GLOBAL_ADMINISTRATOR), ['provision'])[0]
    assert item['status'] == 'problem' and item['missing'] == ['AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All']
    assert 'sign in again asking for' in item['fix']


def test_a_global_reader_may_audit_but_not_provision():
    claims = person(FULL, doctor.GLOBAL_READER)
    found = statuses(doctor.judge_graph_permissions(claims, ['audit', 'provision']))
    assert found == {'graph permissions for audit.yml': 'ok', 'graph permissions for provision.yml': 'problem'}


def test_a_person_for_exchange_needs_the_scope_and_an_exchange_role():
    assert doctor.judge_exchange_token(person(['Exchange.Manage'], doctor.EXCHANGE_ADMINISTRATOR), ['provision'])[0]['status'] == 'ok'
    item = doctor.judge_exchange_token(person(['Exchange.Manage'], doctor.CLOUD_APPLICATION_ADMINISTRATOR), ['provision'])[0]
    assert item['status'] == 'problem' and 'Exchange Administrator' in item['fix']
    item = doctor.judge_exchange_token(person([], doctor.GLOBAL_ADMINISTRATOR), ['provision'])[0]
    assert item['status'] == 'problem' and 'Exchange.Manage' in item['fix']


# -- the Exchange role ----------------------------------------------------------------------------------------------

def test_the_exchange_role_from_the_reads():
    assert doctor.judge_exchange_role()['status'] == 'ok'
    # A not-found answer means the cmdlet ran: the role is there.
    assert doctor.judge_exchange_role(call_errors=[{'message': "Couldn't find object", 'not_found': True}])['status'] == 'ok'
    refused = doctor.judge_exchange_role(call_errors=[{'message': 'the service refused the request (403 Forbidden).'}] * 2)
    assert refused['status'] == 'problem' and 'Exchange Administrator' in refused['fix'] and refused['detail'].count('403') == 1
    absent = doctor.judge_exchange_role("The term 'Get-Mailbox' is not recognized as a name of a cmdlet")
    assert absent['status'] == 'problem' and 'role group' in absent['fix']


def test_a_host_that_cannot_reach_exchange_is_an_endpoint_problem_not_a_role():
    item = doctor.judge_exchange_role('No such host is known. (outlook.office365.com:443)')
    assert item['status'] == 'problem' and item['check'].startswith('endpoint Exchange Online') and 'proxy' in item['fix']


def test_connect_refused_for_the_role_is_the_role_when_manage_as_app_is_there():
    message = "The role assigned to application c1 isn't supported in this scenario."
    assert doctor.judge_exchange_role(message, manage_as_app=True)['status'] == 'problem'
    # Without Exchange.ManageAsApp that message is the missing permission, already reported.
    assert doctor.judge_exchange_role(message, manage_as_app=False)['status'] == 'skipped'


# -- the PowerShell host --------------------------------------------------------------------------------------------

def host(ps='7.6.9', edition='Core', mode='FullLanguage', modules=('3.7.1',)):
    return {'ps_version': ps, 'edition': edition, 'language_mode': mode, 'modules': list(modules)}


def module_finding(items):
    return [i for i in items if i['check'] == 'ExchangeOnlineManagement']


def test_a_good_host():
    assert set(statuses(doctor.judge_host(host())).values()) == {'ok'}


def test_access_token_needs_3_1():
    item = module_finding(doctor.judge_host(host(modules=['3.0.0'])))[0]
    assert item['status'] == 'problem' and '3.1.0' in item['detail'] and '-MinimumVersion 3.1.0' in item['fix']
    assert module_finding(doctor.judge_host(host(modules=['3.0.0']), exchange_auth='certificate_file'))[0]['status'] == 'ok'


def test_the_tasks_min_version_counts():
    item = module_finding(doctor.judge_host(host(modules=['3.7.1']), min_version='3.8.0'))[0]
    assert item['status'] == 'problem' and '3.8.0 or later (min_version)' in item['detail']


def test_windows_powershell_5_1_stays_on_3_9():
    item = module_finding(doctor.judge_host(host('5.1.22621.4391', 'Desktop', modules=['3.10.0'])))[0]
    assert item['status'] == 'problem' and 'needs PowerShell 7.6.0' in item['detail'] and '-RequiredVersion 3.9.2' in item['fix']
    both = module_finding(doctor.judge_host(host('5.1.22621.4391', 'Desktop', modules=['3.10.0', '3.9.2'])))
    assert [i['status'] for i in both] == ['ok', 'warning'] and both[0]['installed'] == '3.9.2'


def test_pwsh_7_6_runs_3_10_and_7_4_does_not():
    assert module_finding(doctor.judge_host(host('7.6.0', modules=['3.10.0'])))[0]['status'] == 'ok'
    assert module_finding(doctor.judge_host(host('7.4.6', modules=['3.10.0'])))[0]['status'] == 'problem'


def test_no_module_and_constrained_language():
    item = module_finding(doctor.judge_host(host(modules=[])))[0]
    assert item['status'] == 'problem' and 'install_module' in item['fix']
    assert module_finding(doctor.judge_host(host(modules=[]), install_module=True))[0]['status'] == 'warning'
    found = statuses(doctor.judge_host(host(mode='ConstrainedLanguage')))
    assert found['language mode'] == 'problem'


# -- the clock ------------------------------------------------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 7, 9, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize('header,status', [
    ('Mon, 07 Dec 2026 09:00:10 GMT', 'ok'),
    ('Mon, 07 Dec 2026 08:58:00 GMT', 'warning'),
    ('Mon, 07 Dec 2026 09:10:00 GMT', 'problem'),
    (None, 'warning'),
    ('yesterday', 'warning'),
])
def test_clock_skew(header, status):
    item = doctor.judge_clock(header, now=NOW)
    assert item['status'] == status
    if status == 'problem':
        assert 'behind' in item['detail'] and 'NTP' in item['fix']


def test_the_report_and_its_summary():
    items = [doctor.finding('a', 'ok', 'fine'), doctor.finding('b', 'problem', 'broken', 'mend it'), doctor.finding('c', 'skipped', 'n/a')]
    assert doctor.summary(items) == {'ok': False, 'problems': 1, 'warnings': 0, 'checks': 2}
    text = doctor.render_text('contoso', items)
    assert text[0] == 'contoso: 1 problem(s)' and '    fix: mend it' in text and text[-1].startswith('2 check(s), 1 problem(s)')


def test_directory_access_as_user_stands_for_the_persons_whole_access():
    """As Graph (and signin.explain_denied) take it: Directory.AccessAsUser.All allows what the person's role allows."""
    claims = person(['Directory.AccessAsUser.All'], doctor.GLOBAL_ADMINISTRATOR)
    assert statuses(doctor.judge_graph_permissions(claims, ['provision'])) == {'graph permissions for provision.yml': 'ok'}
    # Never for an application: an app's roles are taken literally.
    assert doctor.missing_graph(app('Directory.AccessAsUser.All'), 'rotate_secret') == ['Application.ReadWrite.All']


def test_one_table_of_entra_roles_and_one_way_to_name_the_person():
    assert doctor.ROLE_NAMES is signin.ROLE_TEMPLATES
    claims = {'scp': 'User.Read', 'preferred_username': 'ann@contoso.example', 'oid': 'o1'}
    assert doctor.token_grants(claims)['who'] == signin.who(claims) == 'ann@contoso.example'
    assert signin.claims_summary(claims)['username'] == 'ann@contoso.example'
