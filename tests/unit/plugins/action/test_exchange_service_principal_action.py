"""exchange_service_principal's action plugin against a stubbed Exchange session: plan, check mode, diff, errors."""

from exchange_action_stubs import APP_ID, OBJECT_ID, ORGANIZATION, SERVER_ERROR

RIGHT_ROW = {'Identity': OBJECT_ID, 'AppId': APP_ID, 'ObjectId': OBJECT_ID, 'DisplayName': 'Mail app'}


def test_a_principal_exchange_lacks_is_created_with_graphs_ids(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID})
    session.done = [('new_service_principal', None)]
    result = action.run(task_vars={})
    assert not result.get('failed'), result
    assert result['changed'] and result['actions'] == ['new_service_principal'] and not result['recreated']
    assert (result['app_id'], result['object_id'], result['display_name'], result['organization']) == (APP_ID, OBJECT_ID, 'Mail app', ORGANIZATION)
    sent = session.sent[0]
    assert [r['params']['Identity'] for r in sent['reads']] == [APP_ID, OBJECT_ID]
    new = [w for w in sent['writes'] if w['op'] == 'new_service_principal'][0]
    assert new['params'] == {'AppId': APP_ID, 'ObjectId': OBJECT_ID, 'DisplayName': 'Mail app'}
    assert 'diff' not in result and result['round_trips'] == 1


def test_the_right_entry_is_left_alone(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID})
    session.rows = {('get_service_principal', None): [RIGHT_ROW]}
    result = action.run(task_vars={})
    assert not result.get('failed') and not result['changed'] and result['actions'] == [], result


def test_check_mode_sends_no_write_and_tells_the_truth_in_the_diff(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID, 'display_name': 'Renamed'}, check_mode=True, diff=True)
    session.rows = {('get_service_principal', None): [RIGHT_ROW]}
    result = action.run(task_vars={})
    assert session.sent[0]['check_mode'] and result['changed'] and result['actions'] == ['set_service_principal'], result
    assert result['diff'] == {'before': {'service_principals': [RIGHT_ROW]},
                              'after': {'service_principals': [{'AppId': APP_ID, 'ObjectId': OBJECT_ID, 'DisplayName': 'Renamed'}]}}


def test_an_entry_with_the_wrong_object_id_is_recreated(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID})
    wrong = dict(RIGHT_ROW, ObjectId='99999999-7777-4888-8999-000000000001')
    session.rows = {('get_service_principal', APP_ID): [wrong]}
    session.done = [('remove_service_principal', None), ('new_service_principal', None)]
    result = action.run(task_vars={})
    assert result['changed'] and result['recreated'] and result['actions'] == ['remove_service_principal', 'new_service_principal'], result


def test_a_runner_that_did_other_writes_than_the_plan_fails_the_task(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID})
    session.rows = {('get_service_principal', None): [RIGHT_ROW]}
    session.done = [('remove_service_principal', None)]
    result = action.run(task_vars={})
    assert result['failed'] and 'did not do what the plan said' in result['msg'] and 'remove_service_principal' in result['msg'], result


def test_a_stopped_run_fails_with_the_runners_error_and_what_it_did(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID})
    session.done = [('new_service_principal', None, SERVER_ERROR)]
    session.stopped = True
    result = action.run(task_vars={})
    assert result['failed'] and 'stopped at new_service_principal' in result['msg'] and 'Transient failure' in result['msg'], result
    assert result['skipped'] == 1 and result['done'] == []


def test_absent_with_the_application_gone_from_graph_removes_exchanges_own_record(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID, 'state': 'absent'}, diff=True, principals={})
    session.rows = {('get_service_principal', None): [RIGHT_ROW]}
    session.done = [('remove_service_principal', None)]
    result = action.run(task_vars={})
    assert result['changed'] and result['source'] == 'exchange' and result['object_id'] == OBJECT_ID, result
    assert "removing by Exchange Online's own record" in result['warnings'][0]
    assert session.sent[0]['writes'][0]['when']['match'] == {'AppId': APP_ID}
    assert result['diff']['after'] == {'service_principals': []} and len(result['diff']['before']['service_principals']) == 1


def test_absent_where_neither_graph_nor_exchange_knows_it_changes_nothing(exchange_action):
    action, _session = exchange_action('exchange_service_principal', {'object_id': OBJECT_ID, 'state': 'absent'}, principals={})
    result = action.run(task_vars={})
    assert not result.get('failed') and not result['changed'] and result['actions'] == [], result
    assert 'neither Microsoft Graph nor Exchange Online knows a service principal with object_id' in result['warnings'][0]


def test_bad_input_names_the_option_and_reaches_no_host(exchange_action):
    action, session = exchange_action('exchange_service_principal', {'app_id': APP_ID, 'state': 'gone'})
    result = action.run(task_vars={})
    assert result['failed'] and 'state' in result['msg'] and session.sent == [], result
    assert 'not-a-secret-value' not in str(result)
