"""PermissionPlan.outcome: what a failed read means (never a removal, never a missing mailbox unless Exchange said so)."""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.mailbox_permission_plan import PermissionPlan

SP = '66666666-7777-4888-8999-000000000001'
FULL_ROW = {'AccessRights': ['FullAccess'], 'IsInherited': False, 'Deny': False, 'User': SP}
SERVER_ERROR = {'message': '||Transient failure in the backend.', 'not_found': False, 'principal_not_found': False}
NOT_FOUND = {'message': "Ex6F9304|...ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't "
                        "be found on 'y'.", 'not_found': True, 'principal_not_found': False}
USER_UNKNOWN = {'message': "|...ManagementObjectNotFoundException|%s wasn't found. Please make sure you've typed it correctly." % SP,
                'not_found': False, 'principal_not_found': True}


def _answer(plan, entries):
    operations = plan.reads + plan.writes
    results = [dict({'ok': True, 'output': [], 'warnings': [], 'error': None, 'key': None}, **e) for e in entries]
    for entry in results:
        entry['op'] = operations[entry['op_index']]['op']
    return ExchangeResult({'version': 2, 'results': results}, operations)


def _exclusive_reads(plan, canonical_a):
    index = plan.index
    return [
        {'op_index': index['principal'], 'output': [{'Identity': SP}]},
        {'op_index': index['full'], 'key': 'a@contoso.com', 'output': [FULL_ROW]},
        {'op_index': index['full'], 'key': 'b@contoso.com', 'output': [FULL_ROW]},
        {'op_index': index['find_full'], 'key': 'a@contoso.com', 'output': [FULL_ROW]},
        {'op_index': index['find_full'], 'key': 'b@contoso.com', 'output': [FULL_ROW]},
        {'op_index': index['find_full'], 'key': 'stray@contoso.com', 'output': [FULL_ROW]},
        dict({'op_index': index['canonical'], 'key': 'a@contoso.com'}, **canonical_a),
        {'op_index': index['canonical'], 'key': 'b@contoso.com', 'output': [{'UserPrincipalName': 'b@contoso.com'}]},
    ]


def test_exclusive_removes_the_unlisted_when_every_listed_mailbox_was_read():
    plan = PermissionPlan(SP, ['a@contoso.com', 'b@contoso.com'], ['FullAccess'], exclusive=True)
    out = plan.outcome(_answer(plan, _exclusive_reads(plan, {'output': [{'UserPrincipalName': 'a@contoso.com'}]})))
    assert out['removed'] == {'FullAccess': ['stray@contoso.com']} and not out['errors']


def test_exclusive_with_a_failed_read_of_a_listed_mailbox_removes_nothing_and_names_it():
    plan = PermissionPlan(SP, ['a@contoso.com', 'b@contoso.com'], ['FullAccess'], exclusive=True)
    out = plan.outcome(_answer(plan, _exclusive_reads(plan, {'ok': False, 'error': SERVER_ERROR})))
    assert out['removed'] == {} and out['expected'] == [] and out['missing'] == []
    assert len(out['errors']) == 1 and 'a@contoso.com: ||Transient failure in the backend.' in out['errors'][0]


def test_exclusive_with_a_listed_mailbox_that_does_not_exist_removes_the_unlisted():
    plan = PermissionPlan(SP, ['a@contoso.com', 'b@contoso.com'], ['FullAccess'], exclusive=True)
    out = plan.outcome(_answer(plan, _exclusive_reads(plan, {'ok': False, 'error': NOT_FOUND})))
    assert out['removed'] == {'FullAccess': ['a@contoso.com', 'stray@contoso.com']} and not out['errors']


def test_exclusive_whose_mailbox_list_failed_says_so():
    plan = PermissionPlan(SP, ['a@contoso.com'], ['FullAccess'], exclusive=True)
    index = plan.index
    entries = [{'op_index': index['principal'], 'output': [{'Identity': SP}]},
               {'op_index': index['full'], 'key': 'a@contoso.com', 'output': [FULL_ROW]},
               {'op_index': index['find_full'], 'ok': False, 'error': SERVER_ERROR},
               {'op_index': index['canonical'], 'key': 'a@contoso.com', 'output': [{'UserPrincipalName': 'a@contoso.com'}]}]
    out = plan.outcome(_answer(plan, entries))
    assert out['removed'] == {} and any('Transient failure' in e and 'exclusive' in e for e in out['errors']), out['errors']


def test_a_principal_exchange_cannot_resolve_is_not_a_missing_mailbox():
    plan = PermissionPlan(SP, ['a@contoso.com', 'b@contoso.com'], ['FullAccess'], new_principal=True)
    first = len(plan.reads)
    entries = [{'op_index': plan.index['principal'], 'output': [{'Identity': SP}]},
               {'op_index': first, 'key': 'a@contoso.com', 'ok': False, 'error': USER_UNKNOWN}]
    out = plan.outcome(_answer(plan, entries))
    assert out['missing'] == [] and out['errors'] == []
    assert 'does not know the service principal %s' % SP in out['principal_unknown'] and 'rerun' in out['principal_unknown']
