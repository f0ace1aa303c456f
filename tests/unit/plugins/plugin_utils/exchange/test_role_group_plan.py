"""role_group_plan: which writes a read calls for, and what a failed read means (never planned on)."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import role_group_plan as plan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import validate_operations
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult

NAME = 'admin group'
ROLES = ['Mail Recipients', 'Role Management', 'View-Only Configuration']
APP = {'app_id': '11111111-2222-4333-8444-555555555555', 'object_id': '66666666-7777-4888-8999-000000000001'}
OTHER = '66666666-7777-4888-8999-000000000002'
NOT_FOUND = {'message': "Ex6F9304|...ManagementObjectNotFoundException|The operation couldn't be performed", 'not_found': True}
SERVER_ERROR = {'message': '||Transient failure in the backend.', 'not_found': False}


def _answer(operations, entries):
    results = [dict({'ok': True, 'output': [], 'warnings': [], 'error': None, 'key': None}, **e) for e in entries]
    for entry in results:
        entry['op'] = operations[entry['op_index']]['op']
    return ExchangeResult({'version': 2, 'results': results}, operations)


def _state(group=None, members=(), known=True, group_error=None):
    reads, writes = plan.operations(NAME, ROLES, [APP], None, 'present')
    entries = [{'op_index': 0, 'output': [group]} if group else {'op_index': 0, 'ok': False, 'error': group_error or NOT_FOUND},
               {'op_index': 1, 'output': list(members)} if group else {'op_index': 1, 'ok': False, 'error': NOT_FOUND},
               {'op_index': 2, 'output': [{'ObjectId': APP['object_id']}]} if known else {'op_index': 2, 'ok': False, 'error': NOT_FOUND}]
    return plan.read_state(_answer(reads + writes, entries), NAME, [APP])


def _member(object_id):
    return {'Identity': object_id, 'Name': object_id, 'ExternalDirectoryObjectId': object_id}


def test_the_operations_pass_the_allow_list_with_their_conditions():
    for state in ('present', 'absent'):
        reads, writes = plan.operations(NAME, ROLES, [APP], 'why', state)
        validate_operations(reads + writes)
    repair = plan.repair_operations(NAME, ROLES, [APP], 'why', {'recreate': True, 'remove_members': []})
    validate_operations(repair)
    assert [w['op'] for w in repair] == ['remove_role_group', 'new_role_group', 'add_role_group_member']


def test_a_missing_group_is_created_with_its_member():
    planned, repair = plan.expected(_state(), ROLES, [APP], True)
    assert planned == [('new_role_group', None), ('add_role_group_member', None)] and repair is None


def test_a_group_as_asked_needs_nothing():
    group = {'Name': NAME, 'Roles': list(reversed(ROLES))}
    assert plan.expected(_state(group, [_member(APP['object_id'])]), ROLES, [APP], True) == ([], None)


def test_a_member_exchange_does_not_know_is_not_added():
    state = _state(known=False)
    assert plan.expected(state, ROLES, [APP], True) == ([('new_role_group', None)], None) and state['known'] == {APP['object_id']: False}


def test_other_roles_make_the_group_again_and_other_members_go():
    state = _state({'Name': NAME, 'Roles': ROLES[:2]}, [_member(APP['object_id'])])
    assert plan.expected(state, ROLES, [APP], True) == ([], {'recreate': True, 'remove_members': []})
    state = _state({'Name': NAME, 'Roles': ROLES}, [_member(APP['object_id']), _member(OTHER)])
    assert plan.expected(state, ROLES, [APP], True) == ([], {'recreate': False, 'remove_members': [OTHER]})


def test_a_failed_read_is_not_an_empty_group():
    with pytest.raises(ConfigError, match='Get-RoleGroup admin group failed: .*Transient failure'):
        _state(group_error=SERVER_ERROR)


def test_absent_removes_only_a_group_that_is_there():
    assert plan.expected({'group': {'Name': NAME}}, [], [], False) == ([('remove_role_group', None)], None)
    assert plan.expected({'group': None}, [], [], False) == ([], None)


@pytest.mark.parametrize('shown', ['Mail Recipients', 'CN=Mail Recipients,CN=Roles,CN=RBAC', 'contoso.onmicrosoft.com/Mail Recipients'])
def test_a_role_is_compared_by_its_name_whatever_form_exchange_shows(shown):
    assert plan.role_name(shown) == 'Mail Recipients'


# -- delegating roles (issues 20 and 24) ------------------------------------------------------------------------------------------

SMTP = 'Application SMTP.SendAsApp'


def _delegating_state(group=None, delegating=(), delegating_error=None):
    reads, writes = plan.operations(NAME, ROLES, [APP], None, 'present', [SMTP])
    index = plan.delegating_read([APP])
    entries = [{'op_index': 0, 'output': [group]} if group else {'op_index': 0, 'ok': False, 'error': NOT_FOUND},
               {'op_index': 1, 'output': [_member(APP['object_id'])]} if group else {'op_index': 1, 'ok': False, 'error': NOT_FOUND},
               {'op_index': 2, 'output': [{'ObjectId': APP['object_id']}]}]
    if delegating_error:
        entries.append({'op_index': index, 'ok': False, 'error': delegating_error})
    elif group:
        entries.append({'op_index': index, 'output': [{'Role': r, 'RoleAssignmentDelegationType': 'DelegatingOrgWide'} for r in delegating]})
    else:
        entries.append({'op_index': index, 'ok': False, 'error': NOT_FOUND})
    return plan.read_state(_answer(reads + writes, entries), NAME, [APP], [SMTP])


def test_without_delegating_roles_the_payload_is_what_it_was():
    reads, writes = plan.operations(NAME, ROLES, [APP], None, 'present')
    assert [r['op'] for r in reads] == ['get_role_group', 'get_role_group_member', 'get_service_principal']
    assert 'new_delegating_role_assignment' not in [w['op'] for w in writes]
    assert _state()['delegating'] is None


def test_a_delegating_role_is_read_after_the_principals_and_made_when_the_group_has_none():
    reads, writes = plan.operations(NAME, ROLES, [APP], None, 'present', [SMTP])
    validate_operations(reads + writes)
    assert reads[-1] == {'op': 'get_delegating_role_assignment', 'params': {'RoleAssignee': NAME, 'Delegating': True}}
    assert writes[-1] == {'op': 'new_delegating_role_assignment', 'params': {'Role': SMTP, 'SecurityGroup': NAME, 'Delegating': True},
                          'when': {'read': 3, 'rows': 'none', 'match': {'Role': SMTP}, 'missing': 'act'}}
    # A new group: the group, its member and the delegating assignment in one round trip.
    planned, repair = plan.expected(_delegating_state(), ROLES, [APP], True, [SMTP])
    assert planned == [('new_role_group', None), ('add_role_group_member', None), ('new_delegating_role_assignment', None)]
    assert repair is None


def test_a_group_holding_the_delegating_assignment_needs_nothing_and_shows_it():
    group = {'Name': NAME, 'Roles': ROLES}
    state = _delegating_state(group, [SMTP])
    assert state['delegating'] == [SMTP]
    assert plan.expected(state, ROLES, [APP], True, [SMTP]) == ([], None)
    assert plan.group_view(group, state['members'], state['delegating'])['delegating_roles'] == [SMTP]
    # An existing group without it: only the assignment is made.
    assert plan.expected(_delegating_state(group), ROLES, [APP], True, [SMTP]) == ([('new_delegating_role_assignment', None)], None)


@pytest.mark.parametrize('shown', [ROLES, ROLES + [SMTP]])
def test_an_application_role_in_get_role_group_roles_does_not_make_the_group_again(shown):
    # Whether Get-RoleGroup lists a role the group holds only a delegating assignment of is not documented (weak): both ways.
    state = _delegating_state({'Name': NAME, 'Roles': shown}, [SMTP])
    assert plan.expected(state, ROLES, [APP], True, [SMTP]) == ([], None)


def test_a_failed_read_of_the_delegating_assignments_is_not_an_empty_answer():
    with pytest.raises(ConfigError, match='Get-ManagementRoleAssignment -RoleAssignee admin group -Delegating .* failed: .*Transient'):
        _delegating_state({'Name': NAME, 'Roles': ROLES}, delegating_error=SERVER_ERROR)


def test_making_the_group_again_makes_its_delegating_assignments_again():
    writes = plan.repair_operations(NAME, ROLES, [APP], None, {'recreate': True, 'remove_members': []}, [SMTP])
    validate_operations(writes)
    assert [w['op'] for w in writes] == ['remove_role_group', 'new_role_group', 'add_role_group_member', 'new_delegating_role_assignment']
    assert 'when' not in writes[-1]


def test_absent_reads_no_delegating_assignment_remove_role_group_takes_them():
    reads, writes = plan.operations(NAME, ROLES, [APP], None, 'absent', [SMTP])
    assert [r['op'] for r in reads] == ['get_role_group'] and [w['op'] for w in writes] == ['remove_role_group']


def test_the_allow_list_takes_only_an_application_role_and_a_set_switch():
    for params, text in (({'Role': 'Mail Recipients', 'SecurityGroup': NAME, 'Delegating': True}, 'parameter Role must be one of'),
                         ({'Role': SMTP, 'SecurityGroup': NAME, 'Delegating': False}, 'is a switch and must be true')):
        with pytest.raises(Exception, match=text):
            validate_operations([{'op': 'new_delegating_role_assignment', 'params': params}])
