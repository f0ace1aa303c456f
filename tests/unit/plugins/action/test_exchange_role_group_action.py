"""exchange_role_group's action plugin against a stubbed Exchange session: delegating_roles (issues 20 and 24) planned, in check
mode and the diff, idempotent, a failed read, absent, the argument spec."""

from exchange_action_stubs import APP_ID, NOT_FOUND, OBJECT_ID, SERVER_ERROR

GROUP = 'admin group'
ROLES = ['Mail Recipients', 'Role Management', 'View-Only Configuration']
SMTP = 'Application SMTP.SendAsApp'
ARGS = {'name': GROUP, 'roles': ROLES, 'members': [APP_ID], 'delegating_roles': [SMTP]}
MEMBER = {'Identity': OBJECT_ID, 'Name': OBJECT_ID, 'ExternalDirectoryObjectId': OBJECT_ID}
DELEGATING = {'Name': SMTP + '-' + GROUP + '-Delegating', 'Role': SMTP, 'RoleAssignee': GROUP, 'RoleAssigneeType': 'RoleGroup',
              'RoleAssignmentDelegationType': 'DelegatingOrgWide'}


def _group(session, delegating=()):
    session.rows = {('get_role_group', GROUP): [{'Name': GROUP, 'Roles': ROLES}], ('get_role_group_member', GROUP): [MEMBER],
                    ('get_service_principal', OBJECT_ID): [{'ObjectId': OBJECT_ID}],
                    ('get_delegating_role_assignment', None): list(delegating)}


def test_a_new_group_gets_its_member_and_the_delegating_assignment_in_one_round_trip(exchange_action):
    action, session = exchange_action('exchange_role_group', ARGS, diff=True)
    session.rows = {('get_service_principal', OBJECT_ID): [{'ObjectId': OBJECT_ID}]}
    session.done = [('new_role_group', None), ('add_role_group_member', None), ('new_delegating_role_assignment', None)]
    result = action.run(task_vars={})
    assert not result.get('failed'), result
    assert result['actions'] == ['new_role_group', 'add_role_group_member', 'new_delegating_role_assignment'] and result['changed']
    assert result['delegating_roles'] == [SMTP] and session.round_trips == 1
    sent = session.sent[0]
    assert sent['reads'][-1] == {'op': 'get_delegating_role_assignment', 'params': {'RoleAssignee': GROUP, 'Delegating': True}}
    assert sent['writes'][-1]['params'] == {'Role': SMTP, 'SecurityGroup': GROUP, 'Delegating': True}
    assert result['diff']['before'] == {'role_group': {}}
    assert result['diff']['after']['role_group']['delegating_roles'] == [SMTP]


def test_check_mode_on_a_group_without_it_sends_no_write_and_tells_the_truth(exchange_action):
    action, session = exchange_action('exchange_role_group', ARGS, check_mode=True, diff=True)
    _group(session)
    result = action.run(task_vars={})
    assert session.sent[0]['check_mode'] and result['changed'] and result['actions'] == ['new_delegating_role_assignment'], result
    assert result['diff']['before']['role_group']['delegating_roles'] == []
    assert result['diff']['after']['role_group']['delegating_roles'] == [SMTP]


def test_a_group_holding_it_is_left_alone_and_another_delegating_assignment_stays(exchange_action):
    action, session = exchange_action('exchange_role_group', ARGS, diff=True)
    other = dict(DELEGATING, Role='Application Mail.Read', Name='by hand')
    _group(session, [DELEGATING, other])
    result = action.run(task_vars={})
    assert not result.get('failed') and not result['changed'] and result['actions'] == [], result
    assert result['delegating_roles'] == ['Application Mail.Read', SMTP]
    assert result['diff']['before'] == result['diff']['after']


def test_a_failed_read_of_the_delegating_assignments_fails_and_is_never_planned_on(exchange_action):
    action, session = exchange_action('exchange_role_group', ARGS)
    _group(session)
    session.rows[('get_delegating_role_assignment', None)] = {'error': SERVER_ERROR}
    result = action.run(task_vars={})
    assert result['failed'] and 'Get-ManagementRoleAssignment -RoleAssignee admin group' in result['msg'], result
    assert 'Transient failure' in result['msg'] and 'Traceback' not in result['msg']


def test_without_delegating_roles_nothing_about_them_is_read_or_shown(exchange_action):
    action, session = exchange_action('exchange_role_group', dict(ARGS, delegating_roles=[]), diff=True)
    _group(session)
    result = action.run(task_vars={})
    assert not result['changed'] and result['delegating_roles'] == [], result
    assert 'get_delegating_role_assignment' not in [r['op'] for r in session.sent[0]['reads']]
    assert 'delegating_roles' not in result['diff']['before']['role_group']


def test_absent_removes_the_group_and_reads_no_assignment(exchange_action):
    action, session = exchange_action('exchange_role_group', {'name': GROUP, 'state': 'absent', 'delegating_roles': [SMTP]})
    session.rows = {('get_role_group', GROUP): [{'Name': GROUP, 'Roles': ROLES}]}
    session.done = [('remove_role_group', None)]
    result = action.run(task_vars={})
    assert result['changed'] and result['actions'] == ['remove_role_group'], result
    assert [r['op'] for r in session.sent[0]['reads']] == ['get_role_group']


def test_a_role_that_is_no_application_role_is_refused_naming_the_option(exchange_action):
    action, session = exchange_action('exchange_role_group', dict(ARGS, delegating_roles=['Organization Management']))
    result = action.run(task_vars={})
    assert result['failed'] and 'delegating_roles' in result['msg'] and SMTP in result['msg'], result
    assert session.sent == []


def test_a_group_not_found_reads_the_assignments_as_none(exchange_action):
    action, session = exchange_action('exchange_role_group', ARGS, check_mode=True)
    session.rows = {('get_service_principal', OBJECT_ID): [{'ObjectId': OBJECT_ID}],
                    ('get_delegating_role_assignment', None): {'error': NOT_FOUND}}
    result = action.run(task_vars={})
    assert result['actions'] == ['new_role_group', 'add_role_group_member', 'new_delegating_role_assignment'], result
