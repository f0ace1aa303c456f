"""The drift_report filter: the mailbox_access role's check-mode results (mailbox_access_result) as the audit's report."""

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.mail_oauth.plugins.filter.drift_report import FilterModule, drift_report

NOW = '2030-01-01T00:00:00Z'
APP_ID = '7d3c1f6e-0000-4000-8000-000000000001'
KEY_ID = '0f3c2a1b-0000-4000-8000-000000000002'
MAILBOXES = ['a@contoso.com', 'b@contoso.com']
EXO = 'Office 365 Exchange Online'
GRANTED = {EXO: ['IMAP.AccessAsApp', 'SMTP.SendAsApp']}
APP_VIEW = {'unique_name': 'mail-app', 'display_name': 'Mail app', 'sign_in_audience': 'AzureADMyOrg'}


def clean_result():
    """What the role keeps after a check-mode run on a tenant that is exactly as wanted (Exchange steps included)."""
    return {
        'app': {'changed': False, 'created': False, 'app_id': APP_ID, 'diff': {'before': dict(APP_VIEW), 'after': dict(APP_VIEW)}},
        'credential': {'changed': False, 'key_id': KEY_ID, 'end_date_time': '2030-06-01T00:00:00Z', 'secret_created': False},
        'permissions': {'changed': False, 'diff': {'before': {'requested': dict(GRANTED), 'granted': dict(GRANTED)},
                                                   'after': {'requested': dict(GRANTED), 'granted': dict(GRANTED)}}},
        'exchange_service_principal': {'changed': False, 'recreated': False, 'app_id': APP_ID},
        'mailbox_permission': {'changed': False, 'added': {}, 'removed': {}, 'missing': []},
        'mailbox_protocols': {'changed': False, 'changed_mailboxes': []},
        'login_check': {},
        'exchange_skipped': False,
    }


def report_of(result, **kwargs):
    kwargs.setdefault('now', NOW)
    return drift_report(result, **kwargs)


def drifted(change):
    result = clean_result()
    change(result)
    return report_of(result)


def test_no_drift():
    report = report_of(clean_result())
    assert report['drift'] is False and report['findings'] == []
    assert report['app'] == {'exists': True, 'changed_properties': []}
    assert report['credential'] == {'key_id': KEY_ID, 'end_date_time': '2030-06-01T00:00:00Z', 'days_left': 151}
    assert report['permissions'] == {'requested': {}, 'consented': {}}
    assert report['exchange'] == {'service_principal': 'ok', 'protocols_differ': []}
    assert report['mailboxes'] == {'without_access': [], 'extra_access': [], 'not_found': []}
    assert report['login_check'] == {}


def test_exchange_not_checked_is_a_finding_but_no_drift():
    result = clean_result()
    result.update(exchange_skipped=True, exchange_service_principal={}, mailbox_permission={}, mailbox_protocols={})
    report = report_of(result)
    assert report['drift'] is False
    assert report['findings'] == ['Exchange Online steps not checked (no mailbox_access_exchange_host)']
    assert report['exchange'] == {} and report['mailboxes'] == {}


def test_skipped_exchange_tasks_are_not_read():
    result = clean_result()
    result.update(exchange_service_principal={'skipped': True, 'changed': True},
                  mailbox_permission={'skipped': True, 'added': {'FullAccess': ['a@contoso.com']}},
                  mailbox_protocols={'skipped': True, 'changed_mailboxes': ['a@contoso.com']},
                  login_check={'skipped': True, 'checks': [{'ok': False}]})
    report = report_of(result)
    assert report['drift'] is False and report['exchange'] == {} and report['mailboxes'] == {} and report['login_check'] == {}


def test_missing_application():
    def change(result):
        result['app'] = {'changed': True, 'created': True, 'diff': {'before': {}, 'after': dict(APP_VIEW)}}
    report = drifted(change)
    assert report['drift'] is True and report['app'] == {'exists': False}
    assert report['findings'] == ['application mail-app does not exist']


def test_application_property_drift():
    def change(result):
        result['app']['changed'] = True
        result['app']['diff']['before'].update(display_name='Renamed in the portal', sign_in_audience='AzureADMultipleOrgs')
    report = drifted(change)
    assert report['drift'] is True
    assert report['app'] == {'exists': True, 'changed_properties': ['display_name', 'sign_in_audience']}
    assert report['findings'] == [
        "application mail-app: display_name is 'Renamed in the portal', should be 'Mail app'",
        "application mail-app: sign_in_audience is 'AzureADMultipleOrgs', should be 'AzureADMyOrg'"]


def test_credential_missing_or_due_for_rotation():
    old = [{'keyId': KEY_ID, 'displayName': 'mail-client', 'endDateTime': '2030-01-10T00:00:00Z'}]

    def change(result):
        result['credential'] = {'changed': True, 'key_id': None, 'end_date_time': None,
                                'diff': {'before': {'credentials': old}, 'after': {'credentials': old + [{'keyId': '(new)'}]}}}
    report = drifted(change)
    assert report['drift'] is True
    assert report['credential'] == {'key_id': None, 'end_date_time': None, 'needs_new': True, 'existing': old}
    assert report['findings'] == ['credential of that name: missing or expiring within the rotation window (a new one would be added)']


def test_credential_expiring_within_expiry_days_without_a_planned_change():
    result = clean_result()
    result['credential']['end_date_time'] = '2030-01-21T00:00:00Z'
    assert report_of(result, expiry_days=10)['drift'] is False
    report = report_of(result, expiry_days=30)
    assert report['drift'] is True and report['credential']['days_left'] == 20
    assert report['findings'] == ['credential %s expires in 20 days (2030-01-21T00:00:00Z)' % KEY_ID]


def test_skipped_credential_task_is_not_read():
    def change(result):
        result['credential'] = {'skipped': True, 'changed': False}
    report = drifted(change)
    assert report['drift'] is False and report['credential'] == {}


@pytest.mark.parametrize('kind,key', [('requested', 'requested'), ('consented', 'granted')])
def test_permission_drift(kind, key):
    def change(result):
        result['permissions']['changed'] = True
        result['permissions']['diff']['before'][key] = {EXO: ['IMAP.AccessAsApp'], 'Microsoft Graph': ['User.Read']}
    report = drifted(change)
    assert report['drift'] is True
    assert report['permissions'][kind] == {'Microsoft Graph': {'missing': [], 'extra': ['User.Read']},
                                           EXO: {'missing': ['SMTP.SendAsApp'], 'extra': []}}
    other = 'consented' if kind == 'requested' else 'requested'
    assert report['permissions'][other] == {}
    assert report['findings'] == ['%s permissions not wanted on Microsoft Graph: User.Read' % kind,
                                  '%s permissions missing on %s: SMTP.SendAsApp' % (kind, EXO)]


@pytest.mark.parametrize('principal,state,text', [
    ({'changed': True, 'recreated': False}, 'missing', 'missing'),
    ({'changed': True, 'recreated': True}, 'wrong ids', 'wrong ids'),
])
def test_exchange_service_principal_drift(principal, state, text):
    def change(result):
        result['exchange_service_principal'] = dict(principal, app_id=APP_ID)
    report = drifted(change)
    assert report['drift'] is True and report['exchange']['service_principal'] == state
    assert report['findings'] == ['Exchange service principal for %s: %s (New-ServicePrincipal needed)' % (APP_ID, text)]


def test_protocol_switch_drift():
    def change(result):
        result['mailbox_protocols'] = {'changed': True, 'changed_mailboxes': ['b@contoso.com', 'a@contoso.com']}
    report = drifted(change)
    assert report['drift'] is True and report['exchange']['protocols_differ'] == MAILBOXES
    assert report['findings'] == ['protocol switches differ on 2 mailbox(es): a@contoso.com, b@contoso.com']


def test_tenant_smtp_auth_disabled_is_reported_not_drift():
    def change(result):
        result['mailbox_protocols']['tenant_smtp_client_auth_disabled'] = True
    report = drifted(change)
    assert report['drift'] is False and report['exchange']['tenant_smtp_client_auth_disabled'] is True


@pytest.mark.parametrize('field,key,finding', [
    ('added', 'without_access', 'mailboxes without FullAccess'),
    ('removed', 'extra_access', 'mailboxes with FullAccess not listed'),
    ('missing', 'not_found', 'listed mailboxes that do not exist'),
])
def test_mailbox_drift(field, key, finding):
    def change(result):
        result['mailbox_permission']['changed'] = field != 'missing'
        result['mailbox_permission'][field] = list(reversed(MAILBOXES)) if field == 'missing' else {'FullAccess': list(reversed(MAILBOXES))}
    report = drifted(change)
    assert report['drift'] is True and report['mailboxes'][key] == MAILBOXES
    assert [v for k, v in report['mailboxes'].items() if k != key] == [[], []]
    assert report['findings'] == ['%s: a@contoso.com, b@contoso.com' % finding]


def test_failed_login():
    checks = [{'mailbox': 'a@contoso.com', 'protocol': 'imap', 'ok': True, 'latency': 0.2},
              {'mailbox': 'b@contoso.com', 'protocol': 'smtp', 'ok': False, 'cause': 'AUTHENTICATE failed',
               'diagnosis': 'no FullAccess on the mailbox', 'latency': 0.3}]

    def change(result):
        result['login_check'] = {'changed': False, 'ok': False, 'checks': checks}
    report = drifted(change)
    assert report['drift'] is True
    assert report['login_check'] == {'ok': False, 'failed': [
        {'mailbox': 'b@contoso.com', 'protocol': 'smtp', 'cause': 'AUTHENTICATE failed', 'diagnosis': 'no FullAccess on the mailbox'}]}
    assert report['findings'] == ['login smtp b@contoso.com failed: AUTHENTICATE failed - no FullAccess on the mailbox']


def test_working_logins():
    def change(result):
        result['login_check'] = {'changed': False, 'ok': True, 'checks': [{'mailbox': 'a@contoso.com', 'protocol': 'imap', 'ok': True}]}
    report = drifted(change)
    assert report['drift'] is False and report['login_check'] == {'ok': True, 'failed': []}


def test_drift_in_every_kind_is_listed_once_each_in_order():
    result = clean_result()
    result['app']['diff']['before']['display_name'] = 'Old'
    result['credential']['end_date_time'] = '2030-01-02T00:00:00Z'
    result['permissions']['diff']['before']['granted'] = {EXO: ['IMAP.AccessAsApp']}
    result['exchange_service_principal']['changed'] = True
    result['mailbox_protocols']['changed_mailboxes'] = ['a@contoso.com']
    result['mailbox_permission']['added'] = {'FullAccess': ['b@contoso.com']}
    result['login_check'] = {'ok': False, 'checks': [{'mailbox': 'b@contoso.com', 'protocol': 'imap', 'ok': False}]}
    findings = report_of(result)['findings']
    assert [f.split(' ')[0] for f in findings] == ['application', 'credential', 'consented', 'Exchange', 'protocol', 'mailboxes', 'login']


def test_input_is_not_changed():
    result = clean_result()
    result['mailbox_permission']['added'] = {'FullAccess': list(reversed(MAILBOXES))}
    before = copy.deepcopy(result)
    report_of(result)
    assert result == before


def test_now_defaults_to_the_current_time():
    result = clean_result()
    result['credential']['end_date_time'] = '2000-01-01T00:00:00Z'
    report = drift_report(result)
    assert report['drift'] is True and report['credential']['days_left'] < 0


def test_not_a_dict_fails_clearly():
    with pytest.raises(AnsibleFilterError, match='expects the mailbox_access_result dict, got list'):
        drift_report([])


def test_registered_as_drift_report():
    assert FilterModule().filters() == {'drift_report': drift_report}


SCOPE = 'm365-mail_oauth-smtp-' + APP_ID
RBAC_AFTER = {'scope': {'name': SCOPE, 'mailboxes': MAILBOXES},
              'assignment': {'name': SCOPE, 'role': 'Application SMTP.SendAsApp', 'scope': SCOPE}}


def rbac_result(before, actions=(), out_of_scope=()):
    result = clean_result()
    result.update(smtp_access='rbac', full_access=False,
                  smtp_rbac={'changed': bool(actions), 'actions': list(actions), 'principal': {'app_id': APP_ID},
                             'before': before, 'after': copy.deepcopy(RBAC_AFTER), 'out_of_scope': list(out_of_scope)})
    return result


def test_rbac_in_sync_is_no_drift():
    report = report_of(rbac_result(copy.deepcopy(RBAC_AFTER)))
    assert report['drift'] is False and report['smtp_rbac']['assignment'] == 'ok'


def test_rbac_scope_and_assignment_drift_is_reported():
    before = {'scope': {'name': SCOPE, 'mailboxes': ['a@contoso.com', 'x@contoso.com']},
              'assignment': {'name': SCOPE, 'role': 'Application SMTP.SendAsApp', 'scope': 'Everyone'}}
    report = report_of(rbac_result(before, ['set_management_scope', 'remove_management_role_assignment',
                                            'new_management_role_assignment']))
    assert report['drift'] is True
    text = ' | '.join(report['findings'])
    assert 'does not cover listed mailboxes: b@contoso.com' in text
    assert 'covers mailboxes not listed: x@contoso.com' in text
    assert 'with scope Everyone, should be Application SMTP.SendAsApp with scope ' + SCOPE in text
    missing = report_of(rbac_result({'scope': None, 'assignment': None}, ['new_management_scope', 'new_management_role_assignment']))
    assert any('does not exist (New-ManagementScope' in f for f in missing['findings'])
    assert missing['smtp_rbac']['assignment'] == 'missing'


def test_a_listed_mailbox_outside_the_scope_is_drift():
    report = report_of(rbac_result(copy.deepcopy(RBAC_AFTER), out_of_scope=['b@contoso.com']))
    assert report['drift'] is True
    assert report['findings'] == ['listed mailboxes outside the SMTP management scope (Test-ServicePrincipalAuthorization): b@contoso.com']


def test_full_access_the_rbac_app_no_longer_needs_is_named_as_such():
    result = rbac_result(copy.deepcopy(RBAC_AFTER))
    result['mailbox_permission']['removed'] = {'FullAccess': ['a@contoso.com']}
    assert report_of(result)['findings'] == [
        'mailboxes with FullAccess the app does not need (SMTP through RBAC): a@contoso.com']


def test_an_assignment_an_earlier_rbac_run_left_is_drift_under_full_access():
    result = clean_result()
    result['smtp_rbac_leftover'] = {'changed': True, 'actions': ['remove_management_role_assignment', 'remove_management_scope'],
                                    'assignment_name': SCOPE}
    report = report_of(result)
    assert report['drift'] is True and report['smtp_rbac'] == {'leftover': SCOPE}
    assert report['findings'] == ['SMTP RBAC role assignment %s (and its scope) left by an earlier rbac run: the app may still '
                                  'send as the mailboxes it names' % SCOPE]
    result['smtp_rbac_leftover'] = {'skipped': True}
    assert report_of(result)['drift'] is False
