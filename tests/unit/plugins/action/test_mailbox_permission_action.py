"""mailbox_permission's action plugin against a stubbed Exchange session: plan, check mode, diff, errors."""

from exchange_action_stubs import APP_ID, OBJECT_ID, ORGANIZATION, SERVER_ERROR

A, B, GHOST = 'a@contoso.com', 'b@contoso.com', 'ghost@contoso.com'
FULL_ROW = {'AccessRights': ['FullAccess'], 'IsInherited': False, 'Deny': False, 'User': OBJECT_ID}
IN_EXCHANGE = {('get_service_principal', OBJECT_ID): [{'Identity': OBJECT_ID, 'AppId': APP_ID, 'ObjectId': OBJECT_ID}]}


def _rows(reads):
    rows = dict(IN_EXCHANGE)
    rows.update(reads)
    return rows


def test_full_access_is_added_where_it_is_missing(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A, B]}, diff=True)
    session.rows = _rows({('get_mailbox_permission', B): [FULL_ROW], ('get_mailbox_permission', A): []})
    session.done = [('add_mailbox_permission', A)]
    result = action.run(task_vars={})
    assert not result.get('failed'), result
    assert result['changed'] and result['added'] == {'FullAccess': [A]} and result['removed'] == {} and result['unchanged'] == 1
    assert result['principal'] == {'app_id': APP_ID, 'object_id': OBJECT_ID, 'display_name': 'Mail app'}
    assert result['mailbox_count'] == 2 and result['organization'] == ORGANIZATION
    assert result['diff'] == {'before': {A: []}, 'after': {A: ['FullAccess']}}
    add = session.sent[0]['writes'][0]
    assert add['op'] == 'add_mailbox_permission' and add['for_each'] == [A, B] and add['params']['User'] == OBJECT_ID
    assert add['params']['AutoMapping'] is False


def test_check_mode_reads_only_and_reports_what_would_change(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A], 'access_rights': ['SendAs']},
                                      check_mode=True)
    session.rows = _rows({('get_mailbox_permission', A): [], ('get_recipient_permission', A): []})
    result = action.run(task_vars={})
    assert session.sent[0]['check_mode'] and result['changed'] and result['added'] == {'SendAs': [A]}, result


def test_a_principal_exchange_does_not_know_fails_and_check_mode_warns(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A]})
    result = action.run(task_vars={})
    assert result['failed'] and 'create it first with m365.mail_oauth.exchange_service_principal' in result['msg'], result
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A]}, check_mode=True)
    result = action.run(task_vars={})
    assert not result.get('failed') and result['added'] == {'FullAccess': [A]}, result
    assert 'in check mode every listed mailbox is reported as changing' in result['warnings'][0]


def test_missing_mailboxes_fail_or_warn_in_the_same_words_as_every_exchange_action(exchange_action):
    args = {'app_id': APP_ID, 'mailboxes': [A, GHOST]}
    action, session = exchange_action('mailbox_permission', args)
    session.rows = _rows({('get_mailbox_permission', A): [FULL_ROW]})
    result = action.run(task_vars={})
    assert result['failed'] and result['missing'] == [GHOST], result
    assert result['msg'] == 'mailbox(es) not found: %s (the other mailboxes were processed; set missing=warn to accept this)' % GHOST
    action, session = exchange_action('mailbox_permission', dict(args, missing='warn'))
    session.rows = _rows({('get_mailbox_permission', A): [FULL_ROW]})
    result = action.run(task_vars={})
    assert not result.get('failed') and result['warnings'] == ['1 mailbox(es) not found, skipped: %s' % GHOST] and not result['changed']


def test_a_failed_read_is_neither_missing_nor_a_change(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A], 'state': 'absent'})
    session.rows = _rows({('get_mailbox_permission', A): {'error': SERVER_ERROR}})
    result = action.run(task_vars={})
    assert result['failed'] and result['msg'] == 'Exchange Online failed for: %s: ||Transient failure in the backend.' % A, result
    assert result['missing'] == [] and result['removed'] == {} and not result['changed']


def test_a_principal_created_this_run_is_added_without_reading_the_mailboxes(exchange_action):
    for option in ('principal_created_this_run', 'new_principal'):
        action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A, B], option: True})
        session.rows = dict(IN_EXCHANGE)
        session.done = [('add_mailbox_permission', A), ('add_mailbox_permission', B)]
        result = action.run(task_vars={})
        assert not result.get('failed') and result['added'] == {'FullAccess': [A, B]}, (option, result)
        assert [r['op'] for r in session.sent[0]['reads']] == ['get_service_principal'], option


def test_a_stopped_run_is_reported_with_what_was_done(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A, B]})
    session.rows = _rows({('get_mailbox_permission', A): [], ('get_mailbox_permission', B): []})
    session.done = [('add_mailbox_permission', A), ('add_mailbox_permission', B, SERVER_ERROR)]
    session.stopped = True
    result = action.run(task_vars={})
    assert result['failed'] and result['msg'].startswith('Exchange Online stopped at add_mailbox_permission %s: ||Transient' % B), result
    assert '(1 write(s) done, 1 skipped)' in result['msg']


def test_exclusive_with_no_mailbox_is_refused_before_graph_or_exchange(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [], 'exclusive': True})
    result = action.run(task_vars={})
    assert result['failed'] and 'exclusive=true with an empty mailbox list' in result['msg'] and session.sent == [], result


def test_absent_with_the_application_gone_from_graph_uses_exchanges_record(exchange_action):
    action, session = exchange_action('mailbox_permission', {'app_id': APP_ID, 'mailboxes': [A], 'state': 'absent'}, principals={})
    session.rows = {('get_service_principal', APP_ID): [{'AppId': APP_ID, 'ObjectId': OBJECT_ID, 'DisplayName': 'Gone app'}],
                    ('get_service_principal', OBJECT_ID): [{'Identity': OBJECT_ID}], ('get_mailbox_permission', A): [FULL_ROW]}
    session.done = [('remove_mailbox_permission', A)]
    result = action.run(task_vars={})
    assert not result.get('failed') and result['removed'] == {'FullAccess': [A]}, result
    assert result['principal']['source'] == 'exchange' and "Exchange Online's own record" in result['warnings'][0]
    assert len(session.sent) == 2 and session.sent[0]['writes'] == []
