"""The sandbox's Exchange Online REST endpoint, answered directly over HTTPS (no PowerShell)."""

import pytest
import requests

from m365_sandbox import control
from m365_sandbox.exchange import rest

from m365_sandbox.testing import MAILBOXES, OTHER, SP, TENANT


def _principal(host):
    assert host.rest('New-ServicePrincipal', {'AppId': SP, 'ObjectId': SP}).status_code == 200


def test_success_body_shape(host):
    _principal(host)
    answer = host.rest('Add-MailboxPermission', {'Identity': MAILBOXES[0], 'User': SP, 'AccessRights': ['FullAccess']})
    assert answer.status_code == 200
    assert answer.headers['Content-Type'].startswith('application/json;odata.metadata=minimal')
    body = answer.json()
    assert body['@odata.context'].endswith('$metadata#Collection(Exchange.GenericHashTable)')
    assert body['adminapi.warnings@odata.type'] == '#Collection(String)' and body['@adminapi.warnings'] == []
    row = body['value'][0]
    assert row['AccessRights'] == ['FullAccess'] and row['AccessRights@odata.type'] == '#Collection(String)'
    assert row['IsInherited'] is False and row['Deny'] is False and row['User'] == SP
    assert host.exchange.counters.as_dict()['cmdlets'] == {'New-ServicePrincipal': 1, 'Add-MailboxPermission': 1}


def test_warnings_travel_in_the_body(host):
    _principal(host)
    answer = host.rest('Remove-MailboxPermission', {'Identity': MAILBOXES[1], 'User': SP, 'AccessRights': ['FullAccess'], 'Confirm': False})
    assert answer.status_code == 200 and answer.json()['value'] == []
    assert "because the ACE doesn't exist on the object." in answer.json()['@adminapi.warnings'][0]


def test_not_found_is_a_404_with_the_exchange_error_in_details(host):
    answer = host.rest('Get-MailboxPermission', {'Identity': 'ghost@' + TENANT})
    assert answer.status_code == 404
    error = answer.json()['error']
    assert (error['code'], error['message']) == ('NotFound', 'Error executing cmdlet')
    detail = error['details'][0]
    assert (detail['code'], detail['target']) == ('Context', '')
    code, exception, text = detail['message'].split('|')
    assert code == 'Ex6F9304' and exception == 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException'
    assert text.startswith("The operation couldn't be performed because object 'ghost@%s' couldn't be found on '" % TENANT)


def test_bad_parameter_is_a_400(host):
    _principal(host)
    answer = host.rest('Add-MailboxPermission', {'Identity': MAILBOXES[0], 'User': SP, 'AccessRights': ['Everything']})
    assert answer.status_code == 400 and answer.json()['error']['code'] == 'BadRequest'
    assert "Cannot bind parameter 'AccessRights'" in answer.json()['error']['details'][0]['message']


def test_unknown_cmdlet_and_missing_role_are_403_with_nul_bytes(host):
    answer = host.rest('Set-Mailbox', {'Identity': MAILBOXES[0]})
    assert answer.status_code == 403 and answer.content.strip(b'\x00') == b''
    answer = host.rest('Get-TransportConfig', token=host.token(roles=()))
    assert answer.status_code == 403 and answer.content.strip(b'\x00') == b''
    assert 'Set-Mailbox' not in host.exchange.counters.as_dict()['cmdlets']


def test_only_beta_answers(host):
    assert host.rest('Get-TransportConfig', version='v1.0').status_code == 405
    assert host.rest('Get-TransportConfig').status_code == 200


@pytest.mark.parametrize('change,needle', [
    ({'token': 'forged'}, 'not valid'),
    ({'audience': 'https://graph.microsoft.com'}, "audience 'https://graph.microsoft.com'"),
    ({'lifetime': -10}, 'expired'),
    ({'tenant': OTHER}, "not for Organization '%s'" % OTHER),
])
def test_token_checks(host, change, needle):
    token = change.get('token') or host.token(**dict((k, change[k]) for k in ('audience', 'lifetime') if k in change))
    answer = host.rest('Get-TransportConfig', token=token, tenant=change.get('tenant', TENANT))
    assert answer.status_code == 401 and needle in answer.json()['error']['message']


def test_audience_follows_the_environment(host):
    # A commercial-cloud token is refused by the GCC High endpoint (the fake module says which host a request stands for).
    answer = host.rest('Get-TransportConfig', headers={rest.AUDIENCE_HEADER: 'https://outlook.office365.us'})
    assert answer.status_code == 401 and 'https://outlook.office365.us' in answer.json()['error']['message']


def test_throttling_answers_429_with_retry_after(host):
    host.exchange.faults.configure(throttle_every=2, throttle_retry_after=7)
    assert host.rest('Get-TransportConfig').status_code == 200
    answer = host.rest('Get-TransportConfig')
    assert answer.status_code == 429 and answer.headers['Retry-After'] == '7'
    assert answer.json()['error']['code'] == 'TooManyRequests'
    stats = host.exchange.counters.as_dict()
    assert (stats['throttled'], stats['sleeps'], stats['cmdlets']['Get-TransportConfig']) == (1, 7, 2)


def test_paging_by_next_link(host, monkeypatch):
    monkeypatch.setattr(rest, 'PAGE_SIZE', 2)
    answer = host.rest('Get-EXOMailbox', {'ResultSize': 'Unlimited'})
    rows, pages = list(answer.json()['value']), 1
    while '@odata.nextLink' in answer.json():
        answer = host.rest('Get-EXOMailbox', {'ResultSize': 'Unlimited'}, url=answer.json()['@odata.nextLink'])
        rows += answer.json()['value']
        pages += 1
    assert pages == 3 and [r['UserPrincipalName'] for r in rows] == MAILBOXES


def test_connect_stand_in_checks_the_role(host):
    url = '%s/adminapi/beta/%s/_sandbox/Connect' % (host.sandbox.base_url, TENANT)
    verify = host.sandbox.state_dir + '/ca.pem'
    denied = requests.post(url, json={'Parameters': ['AccessToken']}, headers={'Authorization': 'Bearer ' + host.token(roles=())}, verify=verify)
    assert denied.status_code == 401 and "isn't supported in this scenario" in denied.json()['error']['message']
    allowed = requests.post(url, json={'Parameters': ['AccessToken', 'Organization']}, headers={'Authorization': 'Bearer ' + host.token()},
                            verify=verify)
    assert allowed.status_code == 200 and allowed.json()['TenantId'] == host.tenant().tenant_id
    stats = host.exchange.counters.as_dict()
    assert (stats['connections'], stats['connect_failures']) == (1, 1)
    assert stats['connect_params'] == [['AccessToken'], ['AccessToken', 'Organization']]


def test_concurrency_limit_per_tenant_answers_429_beyond_it(host):
    """Requests in flight beyond concurrency_limit get 429 with the per-tenant wording; other tenants are not affected."""
    import threading
    host.exchange.faults.configure(concurrency_limit=2, latency={'read': 0.5})
    answers = []

    def call(tenant=TENANT):
        answers.append((tenant, host.rest('Get-TransportConfig', tenant=tenant, token=host.token(tenant))))

    threads = [threading.Thread(target=call) for _index in range(3)] + [threading.Thread(target=call, args=(OTHER,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mine = sorted(a.status_code for t, a in answers if t == TENANT)
    assert mine == [200, 200, 429]
    refused = next(a for t, a in answers if a.status_code == 429)
    assert 'maximum number of concurrent requests per tenant' in refused.json()['error']['message']
    assert refused.headers['Retry-After'] == '1'
    assert [a.status_code for t, a in answers if t == OTHER] == [200]
    stats = host.exchange.counters.as_dict()
    assert stats['concurrency_throttled'] == 1 and stats['peak_concurrency'] == 2
    # Finished requests leave: the next one is admitted.
    assert host.rest('Get-TransportConfig').status_code == 200


def test_concurrency_limit_defaults_to_three_and_can_be_lifted(host):
    assert host.exchange.faults.as_dict()['concurrency_limit'] == 3
    host.exchange.faults.configure(concurrency_limit=None)
    assert host.exchange.enter('t') and host.exchange.enter('t') and host.exchange.enter('t') and host.exchange.enter('t')
    with pytest.raises(ValueError):
        host.exchange.faults.configure(concurrency_limit=0)


def test_call_errors_answer_a_server_error_on_the_matching_call_only(host):
    _principal(host)
    host.exchange.faults.configure(call_errors=[{'cmdlet': 'Get-Mailbox', 'identity': MAILBOXES[0].upper(), 'times': 1}])
    answer = host.rest('Get-Mailbox', {'Identity': MAILBOXES[0]})
    assert answer.status_code == 500
    message = answer.json()['error']['details'][0]['message']
    assert message.startswith('||') and 'ManagementObjectNotFoundException' not in message
    assert host.rest('Get-Mailbox', {'Identity': MAILBOXES[1]}).status_code == 200
    # times: 1, so the next call of the same read answers.
    assert host.rest('Get-Mailbox', {'Identity': MAILBOXES[0]}).status_code == 200


@pytest.mark.parametrize('form,text', [
    ('on_premises', "%s wasn't found. Please make sure you've typed it correctly."),
    ('object', "The operation couldn't be performed because object '%s' couldn't be found on "),
])
def test_an_unresolved_user_is_a_not_found_naming_the_user(host, form, text):
    _principal(host)
    host.exchange.faults.configure(unresolved_users=[SP], unresolved_user_form=form)
    # Get-ServicePrincipal still finds it: only its use as -User fails (a principal created moments ago).
    assert host.rest('Get-ServicePrincipal', {'Identity': SP}).status_code == 200
    answer = host.rest('Add-MailboxPermission', {'Identity': MAILBOXES[0], 'User': SP, 'AccessRights': ['FullAccess']})
    assert answer.status_code == 404
    _code, exception, message = answer.json()['error']['details'][0]['message'].split('|')
    assert exception.endswith('ManagementObjectNotFoundException')
    assert message.startswith(text % SP) and MAILBOXES[0] not in message


def test_unresolved_user_form_is_checked(host):
    with pytest.raises(ValueError, match='unresolved_user_form'):
        host.exchange.faults.configure(unresolved_user_form='other')


def test_an_app_whose_exchange_role_was_taken_away_connects_but_every_cmdlet_is_403(host):
    """The control route tenants/{tid}/exchange/role (README: connect succeeds without a role is weak)."""
    tenant = host.tenant()
    admin = host.sandbox.seed_for(tenant.tenant_id).admin_client_id
    status, _body = control.handle(host.sandbox, 'POST', 'tenants/%s/exchange/role' % tenant.tenant_id, {'appId': admin, 'assigned': False})
    assert status == 200
    answer = host.rest('Get-Mailbox', {'ResultSize': 1})
    assert answer.status_code == 403 and answer.content.strip(b'\x00') == b''
    url = '%s/adminapi/beta/%s/_sandbox/Connect' % (host.sandbox.base_url, TENANT)
    connect = requests.post(url, json={'Parameters': ['AccessToken']}, headers={'Authorization': 'Bearer ' + host.token()},
                            verify=host.sandbox.state_dir + '/ca.pem')
    assert connect.status_code == 200
    control.handle(host.sandbox, 'POST', 'tenants/%s/exchange/role' % tenant.tenant_id, {'appId': admin, 'assigned': True})
    assert host.rest('Get-Mailbox', {'ResultSize': 1}).status_code == 200


def test_an_app_made_through_graph_runs_cmdlets_only_while_it_holds_an_entra_exchange_role(host):
    """README "An app's Exchange role": Exchange.ManageAsApp alone is not enough; Exchange Administrator on its service
    principal (a directory role assignment) is; the seeded admin app and control-seeded apps stand for apps set up by hand."""
    tenant = host.tenant()
    seeded = control.seed_application(tenant, {'displayName': 'made through Graph', '_service_principal': True, '_exchange_role': False})
    app_id, sp_id = seeded['application']['appId'], seeded['servicePrincipal']['id']
    token = host.token(appid=app_id)
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=token).status_code == 403
    with host.sandbox.directory.lock:
        assignment = tenant.assign_directory_role(sp_id, '29232cdf-9323-42fd-ade2-1d097af3e4de')
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=token).status_code == 200
    with host.sandbox.directory.lock:
        del tenant.role_assignments[assignment['id']]
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=token).status_code == 403
    hand_made = control.seed_application(tenant, {'displayName': 'set up by hand', '_service_principal': True})
    assert host.rest('Get-Mailbox', {'ResultSize': 1}, token=host.token(appid=hand_made['application']['appId'])).status_code == 200
