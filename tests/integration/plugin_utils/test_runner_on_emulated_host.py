"""The collection's real runner in pwsh against the sandbox: order, stops, faults and counters as the service sees them."""

from m365_sandbox.testing import MAILBOXES, SP, TENANT, fill_to_ace_limit

ADD = 'An existing permission entry was found for user: %s.' % SP


def add_all(mailboxes=None):
    return [{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
            {'op': 'add_mailbox_permission', 'for_each': mailboxes or MAILBOXES, 'params': {'User': SP, 'AccessRights': ['FullAccess']}}]


def test_stops_at_first_failed_write_and_reports_what_was_done(host):
    fill_to_ace_limit(host.exchange.org(TENANT).find_mailbox(MAILBOXES[1]))
    operations = add_all(MAILBOXES[:3]) + [{'op': 'get_transport_config'}]
    result = host.run_runner(operations)
    assert result['stopped'] and result['stopped_at'] == {'op_index': 1, 'op': 'add_mailbox_permission', 'key': MAILBOXES[1]}
    assert result['skipped'] == 2
    assert [r['ok'] for r in result['results']] == [True, True, False]
    assert not result['results'][2]['error']['not_found']
    assert result['disconnected'] and host.exchange.counters.as_dict()['disconnections'] == 1


def test_a_mailbox_gone_does_not_stop_the_writes(host):
    operations = add_all([MAILBOXES[0], 'ghost@' + TENANT, MAILBOXES[1]]) + [{'op': 'get_transport_config'}]
    result = host.run_runner(operations)
    assert not result['stopped'] and result['skipped'] == 0
    assert [r['ok'] for r in result['results']] == [True, True, False, True, True]
    assert result['results'][2]['error']['not_found'] is True


def test_failed_reads_do_not_stop(host):
    result = host.run_runner([{'op': 'get_mailbox', 'for_each': ['ghost', MAILBOXES[0]]}, {'op': 'get_transport_config'}])
    assert not result['stopped'] and [r['ok'] for r in result['results']] == [False, True, True]
    assert result['results'][2]['output'] == [{'SmtpClientAuthenticationDisabled': True}]


def test_allow_list_is_enforced_on_the_host(host):
    result = host.run_runner([{'op': 'Invoke-Expression', 'params': {}}])
    assert result['failed'] and 'not in the allow-list' in result['msg']
    assert host.exchange.counters.as_dict()['connections'] == 0


def test_connect_failure_fault(host):
    host.exchange.faults.configure(connect_error='The remote server returned an error: (503) Server Unavailable.')
    result = host.run_runner([{'op': 'get_transport_config'}])
    assert result['failed'] and '(503)' in result['msg'] and not result['connected']
    stats = host.exchange.counters.as_dict()
    assert (stats['connections'], stats['connect_failures']) == (0, 1)


def test_module_version_and_install(host):
    host.exchange.faults.configure(module_version='3.0.0')
    result = host.run_runner([{'op': 'get_transport_config'}])
    assert result['failed'] and 'set install_module' in result['msg'] and '(found: 3.0.0)' in result['msg']
    result = host.run_runner([{'op': 'get_transport_config'}], install_module=True)
    assert not result['failed'] and result['module_installed'] and result['module_version'] == '3.1.0'
    assert host.exchange.counters.as_dict()['module_installs'] == 1
    # Installed for the current user, it stays until the sandbox is reset.
    assert not host.run_runner([{'op': 'get_transport_config'}])['module_installed']
    host.sandbox.reset()
    host.exchange.faults.configure(module_version=None)
    assert '(found: none)' in host.run_runner([{'op': 'get_transport_config'}])['msg']


def test_throttling_is_retried_by_the_module(host):
    host.exchange.faults.configure(throttle_every=2, throttle_cmdlets=['Get-MailboxPermission'])
    result = host.run_runner([{'op': 'get_mailbox_permission', 'for_each': MAILBOXES[:3]}])
    assert all(r['ok'] for r in result['results']) and [r['attempts'] for r in result['results']] == [1, 1, 1]
    stats = host.exchange.counters.as_dict()
    assert stats['throttled'] == 2 and stats['cmdlets'] == {'Get-MailboxPermission': 5} and stats['sleeps'] == 2


def test_injected_latency_is_summed_by_kind(host):
    host.exchange.faults.configure(latency={'connect': 0.5, 'read': 0.1, 'Add-MailboxPermission': 0.2})
    host.run_runner(add_all(MAILBOXES[:2]) + [{'op': 'get_transport_config'}])
    assert host.exchange.counters.as_dict()['latency_seconds'] == {'connect': 0.5, 'write': 0.4, 'read': 0.1}


def test_drop_in_exchange_mode_stops_the_run_then_rerun_converges(host):
    host.exchange.faults.configure(drop_after_writes=3, drop_mode='exchange')
    result = host.run_runner(add_all())
    assert result['stopped'] and result['stopped_at']['key'] == MAILBOXES[2] and result['skipped'] == 2
    assert not result['results'][-1]['error']['not_found']
    result = host.run_runner(add_all()[1:])
    assert not result['stopped']
    warnings = [r['warnings'] for r in result['results']]
    assert warnings[:2] == [[ADD]] * 2 and warnings[2:] == [[], [], []]


def test_find_mailbox_permission_reads_every_mailbox_in_one_run(host):
    host.run_runner(add_all(MAILBOXES[1:3]))
    result = host.run_runner([{'op': 'find_mailbox_permission', 'params': {'User': SP}}])
    # One result per mailbox where the principal shows up, keyed by the mailbox's UPN.
    assert [(r['key'], [row['Identity'] for row in r['output']]) for r in result['results']] == [(MAILBOXES[1], ['user2']), (MAILBOXES[2], ['user3'])]
    assert host.exchange.counters.as_dict()['cmdlets']['Get-EXOMailboxPermission'] == 5


def test_certificate_thumbprint_and_managed_identity_logins(host):
    seed = host.sandbox.seeds[0]
    result = host.run_runner([{'op': 'get_transport_config'}], auth='certificate_thumbprint', access_token=None,
                             app_id=seed.admin_client_id, certificate_thumbprint=seed.certificate_thumbprint)
    assert not result['failed'], result['msg']
    result = host.run_runner([{'op': 'get_transport_config'}], auth='managed_identity', access_token=None, organization='nowhere.example')
    assert result['failed'] and 'nowhere.example' in result['msg']
    # The controller always sends environment (connection_payload: O365Default), as the action plugins' payloads do.
    assert host.exchange.counters.as_dict()['connect_params'][0] == ['AppId', 'CertificateThumbprint', 'CommandName', 'ExchangeEnvironmentName',
                                                                     'Organization', 'ShowBanner']
