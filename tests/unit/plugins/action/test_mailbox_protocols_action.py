"""mailbox_protocols' action plugin against a stubbed Exchange session: plan, check mode, diff, errors."""

from exchange_action_stubs import ORGANIZATION, SERVER_ERROR

A, B, GHOST = 'a@contoso.com', 'b@contoso.com', 'ghost@contoso.com'


def _cas(imap, smtp_disabled=False):
    return [{'Identity': 'x', 'ImapEnabled': imap, 'PopEnabled': False, 'SmtpClientAuthenticationDisabled': smtp_disabled}]


def test_only_the_mailboxes_that_differ_are_set(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A, B], 'imap': True}, diff=True)
    session.rows = {('get_cas_mailbox', A): _cas(False), ('get_cas_mailbox', B): _cas(True), ('get_transport_config', None): [{}]}
    session.done = [('set_cas_mailbox', A)]
    result = action.run(task_vars={})
    assert not result.get('failed') and result['changed'] and result['changed_mailboxes'] == [A], result
    write = session.sent[0]['writes'][0]
    assert write['params'] == {'ImapEnabled': True} and write['when'] == {'read': 1, 'rows': 'none', 'match': {'ImapEnabled': True}}
    assert result['diff']['before'] == {A: {'ImapEnabled': False, 'PopEnabled': False, 'SmtpClientAuthenticationDisabled': False}}
    assert result['diff']['after'][A]['ImapEnabled'] is True and result['organization'] == ORGANIZATION


def test_check_mode_reads_only(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A], 'smtp_client_auth': 'enabled'}, check_mode=True)
    session.rows = {('get_cas_mailbox', A): _cas(True, smtp_disabled=True)}
    result = action.run(task_vars={})
    assert session.sent[0]['check_mode'] and result['changed'] and result['changed_mailboxes'] == [A], result


def test_mailboxes_inheriting_a_tenant_without_smtp_auth_are_named(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A]})
    session.rows = {('get_cas_mailbox', A): _cas(True, smtp_disabled=None), ('get_transport_config', None): [{'SmtpClientAuthenticationDisabled': True}]}
    result = action.run(task_vars={})
    assert result['tenant_smtp_client_auth_disabled'] and not result['changed']
    assert 'SMTP AUTH is disabled for the whole organization' in result['warnings'][0] and A in result['warnings'][0]


def test_a_missing_mailbox_fails_unless_missing_is_warn(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A, GHOST], 'pop': False})
    session.rows = {('get_cas_mailbox', A): _cas(True)}
    result = action.run(task_vars={})
    assert result['failed'] and result['msg'] == ('mailbox(es) not found: %s (the other mailboxes were processed; set missing=warn to '
                                                  'accept this)' % GHOST), result
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A, GHOST], 'pop': False, 'missing': 'warn'})
    session.rows = {('get_cas_mailbox', A): _cas(True)}
    result = action.run(task_vars={})
    assert not result.get('failed') and result['missing'] == [GHOST] and result['warnings'] == ['1 mailbox(es) not found, skipped: %s' % GHOST]


def test_a_failed_read_is_an_error_not_a_missing_mailbox(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A], 'imap': True, 'missing': 'warn'})
    session.rows = {('get_cas_mailbox', A): {'error': SERVER_ERROR}}
    result = action.run(task_vars={})
    assert result['failed'] and result['msg'] == 'Exchange Online failed for: %s: ||Transient failure in the backend.' % A, result
    assert result['missing'] == [] and not result['changed']


def test_a_stopped_run_names_the_write_its_mailbox_and_the_reason(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [A, B], 'imap': True})
    session.rows = {('get_cas_mailbox', A): _cas(False), ('get_cas_mailbox', B): _cas(False)}
    session.done = [('set_cas_mailbox', A, SERVER_ERROR)]
    session.stopped = True
    result = action.run(task_vars={})
    assert result['failed'] and result['msg'].startswith('Exchange Online stopped at set_cas_mailbox %s: ||Transient failure' % A), result


def test_an_empty_list_is_refused_before_any_round_trip(exchange_action):
    action, session = exchange_action('mailbox_protocols', {'mailboxes': [], 'imap': True})
    result = action.run(task_vars={})
    assert result['failed'] and 'mailboxes is empty' in result['msg'] and session.sent == []
