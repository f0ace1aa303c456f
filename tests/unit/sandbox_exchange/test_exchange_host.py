"""The emulated runner: connect, run in order, stop at the first failed write, faults, counters."""

import pytest

from m365_sandbox.exchange import DropConnection, ExchangeHost

TENANT = 'tenant1.onmicrosoft.com'
SP = '66666666-7777-4888-8999-000000000000'
MAILBOXES = ['user%d@%s' % (n, TENANT) for n in range(1, 6)]


@pytest.fixture
def host(sandbox):
    sleeps = []
    host = ExchangeHost(sandbox.directory.tenant, sandbox.verify_token, sleep=sleeps.append)
    host.slept = sleeps
    host.sandbox = sandbox
    return host


def payload(host, operations, **connection):
    tenant = host.sandbox.directory.tenant(TENANT)
    settings = {'auth': 'access_token', 'organization': TENANT, 'access_token': host.sandbox.issue_token(tenant), 'min_version': '3.1.0'}
    settings.update(connection)
    return {'version': 1, 'connection': settings, 'operations': operations, 'retry': {'attempts': 3, 'delay': 2, 'max_delay': 30}}


def add_all(mailboxes=None):
    return [{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
            {'op': 'add_mailbox_permission', 'for_each': mailboxes or MAILBOXES, 'params': {'User': SP, 'AccessRights': ['FullAccess']}}]


def test_one_connection_per_run_and_counters(host):
    result = host.run_payload(payload(host, add_all()))
    assert not result['failed'] and result['connected'] and result['disconnected']
    assert len(result['results']) == 6
    stats = host.counters.as_dict()
    assert (stats['round_trips'], stats['connections'], stats['disconnections']) == (1, 1, 1)
    assert stats['cmdlets'] == {'New-ServicePrincipal': 1, 'Add-MailboxPermission': 5}
    state = host.org(TENANT).snapshot()
    assert all(any(p['User'] == SP for p in m['permissions']) for m in state['mailboxes'].values())


def test_stops_at_first_failed_write_and_reports_what_was_done(host):
    operations = [{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
                  {'op': 'add_mailbox_permission', 'for_each': [MAILBOXES[0], 'ghost@' + TENANT, MAILBOXES[1]],
                   'params': {'User': SP, 'AccessRights': ['FullAccess']}},
                  {'op': 'get_transport_config'}]
    result = host.run_payload(payload(host, operations))
    assert result['stopped'] and result['stopped_at'] == {'op_index': 1, 'op': 'add_mailbox_permission', 'key': 'ghost@' + TENANT}
    assert result['skipped'] == 2
    assert [r['ok'] for r in result['results']] == [True, True, False]


def test_failed_reads_do_not_stop(host):
    result = host.run_payload(payload(host, [{'op': 'get_mailbox', 'for_each': ['ghost', MAILBOXES[0]]}, {'op': 'get_transport_config'}]))
    assert not result['stopped'] and [r['ok'] for r in result['results']] == [False, True, True]


@pytest.mark.parametrize('change,needle', [
    ({'access_token': 'forged'}, 'signature verification failed'),
    ({'audience': 'https://graph.microsoft.com'}, "audience 'https://graph.microsoft.com'"),
    ({'lifetime': -10}, 'expired'),
    ({'roles': ()}, "isn't supported in this scenario"),
    ({'organization': 'other.onmicrosoft.com'}, "not for Organization 'other.onmicrosoft.com'"),
])
def test_connect_validates_the_token(host, change, needle):
    tenant = host.sandbox.directory.tenant(TENANT)
    token_args = dict((k, change[k]) for k in ('audience', 'lifetime', 'roles') if k in change)
    connection = {'access_token': change.get('access_token') or host.sandbox.issue_token(tenant, **token_args)}
    if 'organization' in change:
        connection['organization'] = change['organization']
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}], **connection))
    assert result['failed'] and needle in result['msg']
    assert not result['connected'] and result['results'] == []
    assert host.counters.as_dict()['connections'] == 0 and host.counters.as_dict()['connect_failures'] == 1


def test_allow_list_is_enforced_on_the_host(host):
    result = host.run_payload(payload(host, [{'op': 'Invoke-Expression', 'params': {}}]))
    assert result['failed'] and 'not in the allow-list' in result['msg']
    result = host.run_payload(payload(host, [{'op': 'get_mailbox', 'params': {'Filter': '*'}}]))
    assert result['failed'] and 'not allowed' in result['msg']
    assert host.counters.as_dict()['connections'] == 0


def test_connect_failure_fault(host):
    host.faults.configure(connect_error='Connect-ExchangeOnline: The remote server returned an error: (503) Server Unavailable.')
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}]))
    assert result['failed'] and '(503)' in result['msg']


def test_module_version_and_install(host):
    host.faults.configure(module_version='3.0.0')
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}]))
    assert result['failed'] and 'set install_module' in result['msg']
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}], install_module=True))
    assert not result['failed'] and result['module_installed'] and result['module_version'] == '3.1.0'


def test_throttling_is_retried_with_backoff(host):
    host.faults.configure(throttle_every=2, throttle_cmdlets=['Get-MailboxPermission'])
    result = host.run_payload(payload(host, [{'op': 'get_mailbox_permission', 'for_each': MAILBOXES[:3]}]))
    assert all(r['ok'] for r in result['results'])
    assert [r['attempts'] for r in result['results']] == [1, 2, 2]
    assert host.counters.as_dict()['throttled'] == 2 and host.counters.as_dict()['sleeps'] == 4


def test_throttling_gives_up_after_the_attempts(host):
    host.faults.configure(throttle_every=1)
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}]))
    assert result['results'][0]['attempts'] == 3 and 'TooManyRequests' in result['results'][0]['error']['message']


def test_latency_per_kind_and_cmdlet(host):
    host.faults.configure(latency={'connect': 0.5, 'read': 0.1, 'Add-MailboxPermission': 0.2})
    host.run_payload(payload(host, add_all(MAILBOXES[:2]) + [{'op': 'get_transport_config'}]))
    assert host.slept == [0.5, 0.2, 0.2, 0.1]


def test_injected_latency_is_summed_by_kind(host):
    # The benchmark's floor: what the host slept, per kind, with a per-command round trip.
    host.faults.configure(latency={'round_trip': 0.03, 'connect': 0.5, 'read': 0.1, 'Add-MailboxPermission': 0.2})
    host.run_payload(payload(host, add_all(MAILBOXES[:2]) + [{'op': 'get_transport_config'}]))
    assert host.slept == [0.03, 0.5, 0.2, 0.2, 0.1]
    assert host.counters.as_dict()['latency_seconds'] == {'round_trip': 0.03, 'connect': 0.5, 'write': 0.4, 'read': 0.1}


def test_drop_in_exchange_mode_stops_the_run_then_rerun_converges(host):
    host.faults.configure(drop_after_writes=3, drop_mode='exchange')
    result = host.run_payload(payload(host, add_all()))
    assert result['stopped'] and result['stopped_at']['key'] == MAILBOXES[2] and result['skipped'] == 2
    assert 'underlying connection was closed' in result['results'][-1]['error']['message']
    result = host.run_payload(payload(host, add_all()[1:]))
    assert not result['stopped']
    warnings = [r['warnings'] for r in result['results']]
    assert warnings[:2] == [['An existing permission entry was found for user: %s.' % SP]] * 2 and warnings[2:] == [[], [], []]


def test_drop_in_winrm_mode_raises_for_the_listener(host):
    host.faults.configure(drop_after_writes=1)
    with pytest.raises(DropConnection):
        host.run_payload(payload(host, add_all()))
    assert host.counters.as_dict()['disconnections'] == 1
    assert host.faults.drop_after_writes is None


def test_state_lives_in_the_tenant_extensions(host, sandbox):
    host.run_payload(payload(host, add_all()))
    tenant = sandbox.directory.tenant(TENANT)
    assert tenant.extensions['exchange'] is host.org(TENANT)
    tenant.extensions.clear()  # what a directory reset does
    assert host.org(TENANT).snapshot()['service_principals'] == []


def test_find_mailbox_permission_reads_every_mailbox_in_one_run(host):
    host.run_payload(payload(host, add_all(MAILBOXES[1:3])))
    result = host.run_payload(payload(host, [{'op': 'find_mailbox_permission', 'params': {'User': SP}}]))
    # One result per mailbox where the principal shows up, keyed by the mailbox's UPN.
    assert [(r['key'], [row['Identity'] for row in r['output']]) for r in result['results']] == [(MAILBOXES[1], ['user2']), (MAILBOXES[2], ['user3'])]
    assert host.counters.as_dict()['cmdlets']['Get-EXOMailboxPermission'] == 5


def test_certificate_and_managed_identity_logins(host):
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}], auth='certificate_thumbprint', access_token=None,
                                      app_id=SP, certificate_thumbprint='A' * 40))
    assert not result['failed']
    result = host.run_payload(payload(host, [{'op': 'get_transport_config'}], auth='managed_identity', organization='nowhere.example'))
    assert result['failed'] and 'nowhere.example' in result['msg']


def test_connect_params_never_record_secrets(host):
    host.run_payload(payload(host, [{'op': 'get_transport_config'}]))
    assert host.counters.as_dict()['connect_params'] == [['auth', 'min_version', 'organization']]
