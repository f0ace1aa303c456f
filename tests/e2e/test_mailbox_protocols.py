"""mailbox_protocols: Set-CASMailbox only where settings differ, and the tenant-wide SMTP AUTH warning."""

from exchange_play import exchange_state, exchange_stats, run_exchange


def test_protocol_switches_and_tenant_warning(tenant, tmp_path):
    domain = tenant.tenant(0)['domain']
    mailboxes = ['user1@' + domain, 'user2@' + domain]
    task = {'name': 'protocols', 'm365.mail_oauth.mailbox_protocols': {'mailboxes': mailboxes, 'imap': True, 'pop': False}}
    run = run_exchange(tmp_path, tenant, [dict(task)], 'ex-proto', diff=True)
    assert run.rc == 0 and run.changed == 1, run
    result = run.results()['protocols']['localhost']
    assert result['changed_mailboxes'] == mailboxes
    assert result['diff']['before'][mailboxes[0]]['PopEnabled'] is True and result['diff']['after'][mailboxes[0]]['PopEnabled'] is False
    # The sandbox tenant disables SMTP AUTH organization-wide, as new tenants do; the mailboxes inherit it.
    assert result['tenant_smtp_client_auth_disabled'] is True
    assert any('SmtpClientAuthenticationDisabled' in w and 'smtp_client_auth=enabled' in w for w in result['warnings'])
    assert exchange_state(tenant)['mailboxes'][mailboxes[1]]['cas']['PopEnabled'] is False

    options = {'mailboxes': mailboxes, 'imap': True, 'pop': False, 'smtp_client_auth': 'enabled'}
    enable = {'name': 'protocols', 'm365.mail_oauth.mailbox_protocols': options}
    run = run_exchange(tmp_path, tenant, [enable], 'ex-proto-smtp')
    assert run.rc == 0 and run.changed == 1 and not run.results()['protocols']['localhost'].get('warnings'), run
    again = run_exchange(tmp_path, tenant, [enable], 'ex-proto-again')
    assert again.rc == 0 and again.changed == 0, again
    assert exchange_stats(tenant)['exchange']['cmdlets']['Set-CASMailbox'] == 4
