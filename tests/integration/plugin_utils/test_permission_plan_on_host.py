"""Conditional writes: validation by the allow-list, and the real runner (in pwsh, against the sandbox) reading, deciding and writing in one run."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import InvalidOperation, validate_operations
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.mailbox_permission_plan import PermissionPlan

from m365_sandbox.testing import MAILBOXES, SP

FA = {'AccessRights': 'FullAccess', 'IsInherited': False, 'Deny': False}


def _grant(mailboxes):
    return [{'op': 'get_mailbox_permission', 'for_each': mailboxes, 'params': {'User': SP}},
            {'op': 'add_mailbox_permission', 'for_each': mailboxes, 'params': {'User': SP, 'AccessRights': ['FullAccess']},
             'when': {'read': 0, 'rows': 'none', 'match': FA}}]


@pytest.mark.parametrize('operations,words', [
    ([{'op': 'get_transport_config', 'when': {'read': 0, 'rows': 'none'}}], 'only writes'),
    ([{'op': 'add_mailbox_permission', 'for_each': ['a'], 'params': {'User': SP, 'AccessRights': ['FullAccess']},
       'when': {'read': 0, 'rows': 'none'}}], 'earlier operation'),
    ([{'op': 'get_transport_config'},
      {'op': 'add_mailbox_permission', 'for_each': ['a'], 'params': {'User': SP, 'AccessRights': ['FullAccess']},
       'when': {'read': 0, 'rows': 'maybe'}}], 'rows'),
    ([{'op': 'get_transport_config'},
      {'op': 'add_mailbox_permission', 'for_each': ['a'], 'params': {'User': SP, 'AccessRights': ['FullAccess']},
       'when': {'read': 0, 'rows': 'none', 'match': {'Nope': 'x'}}}], 'not returned'),
    ([{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
      {'op': 'remove_service_principal', 'params': {'Identity': SP}, 'when': {'read': 0, 'rows': 'some'}}], 'is a write'),
    ([{'op': 'get_transport_config'},
      {'op': 'remove_mailbox_permission', 'for_each': ['a'], 'params': {'User': SP, 'AccessRights': ['FullAccess']},
       'for_each_from': {'read': 0}}], 'not both'),
])
def test_bad_conditions_are_refused(operations, words):
    with pytest.raises(InvalidOperation, match=words):
        validate_operations(operations)


def _principal(host):
    assert not host.run_runner([{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}}])['failed']


def test_grant_skips_mailboxes_that_already_have_access(host):
    _principal(host)
    first = host.run_runner(_grant(MAILBOXES[:2]))
    assert [r['key'] for r in first['results'] if r['op_index'] == 1] == MAILBOXES[:2]
    second = host.run_runner(_grant(MAILBOXES))
    assert [r['key'] for r in second['results'] if r['op_index'] == 1] == MAILBOXES[2:]
    assert second['conditional_skips'] == 2
    assert host.exchange.counters.as_dict()['connections'] == 3


def test_missing_mailbox_is_skipped_not_a_stop(host):
    _principal(host)
    result = host.run_runner(_grant(['ghost@nowhere.example'] + MAILBOXES[:1]))
    assert not result['stopped']
    assert result['results'][0]['error']['not_found'] is True
    assert [r['key'] for r in result['results'] if r['op_index'] == 1] == MAILBOXES[:1]


def test_plan_runs_exclusive_in_one_session_and_agrees_with_the_controller(host):
    _principal(host)
    host.run_runner(_grant(MAILBOXES))
    plan = PermissionPlan(SP, MAILBOXES[:1], ['FullAccess'], exclusive=True)
    raw = host.run_runner(plan.reads + plan.writes)
    assert not raw['failed'], raw['msg']
    done = [(r['op'], r['key']) for r in raw['results'] if r['op_index'] >= len(plan.reads)]
    assert done == [('remove_mailbox_permission', m) for m in MAILBOXES[1:]]

    class Answer(object):
        results = raw['results']
    # The controller reads the same rows and comes to the same writes.
    assert sorted(plan.outcome(Answer)['expected']) == sorted(done)
    assert host.exchange.counters.as_dict()['connections'] == 3


class _Answer(object):
    def __init__(self, raw):
        self.results = raw['results']


def test_new_principal_plan_adds_without_reads_and_reports_each_answer(host):
    """A principal created in this run: one read (the principal), the adds straight out; a missing mailbox is missing,
    not a stop, and the mailboxes after it are still done."""
    _principal(host)
    mailboxes = MAILBOXES[:2] + ['ghost@nowhere.example'] + MAILBOXES[2:4]
    plan = PermissionPlan(SP, mailboxes, ['FullAccess'], new_principal=True)
    assert [op['op'] for op in plan.reads] == ['get_service_principal']
    raw = host.run_runner(plan.reads + plan.writes)
    assert not raw['failed'] and not raw['stopped'], raw
    assert [r['key'] for r in raw['results'] if r['op'] == 'add_mailbox_permission'] == mailboxes
    outcome = plan.outcome(_Answer(raw))
    assert outcome['missing'] == ['ghost@nowhere.example'] and not outcome['errors']
    assert outcome['added'] == {'FullAccess': MAILBOXES[:4]}
    assert outcome['before'][MAILBOXES[0]] == [] and outcome['after'][MAILBOXES[0]] == ['FullAccess']
    cmdlets = host.exchange.counters.as_dict()['cmdlets']
    assert cmdlets.get('Get-MailboxPermission', 0) == 0 and cmdlets.get('Get-ServicePrincipal') == 1, cmdlets
    # What the same mailboxes read afterwards: the grants are there, a normal plan has nothing left to do.
    again = PermissionPlan(SP, MAILBOXES[:4], ['FullAccess'])
    assert not again.outcome(_Answer(host.run_runner(again.reads + again.writes)))['added']


def test_new_principal_plan_counts_an_entry_another_run_made_as_unchanged(host):
    _principal(host)
    host.run_runner(_grant(MAILBOXES[:1]))
    plan = PermissionPlan(SP, MAILBOXES[:2], ['FullAccess', 'SendAs'], new_principal=True)
    outcome = plan.outcome(_Answer(host.run_runner(plan.reads + plan.writes)))
    assert outcome['added'] == {'FullAccess': MAILBOXES[1:2], 'SendAs': MAILBOXES[:2]}
    assert outcome['before'][MAILBOXES[0]] == ['FullAccess']


def test_new_principal_is_ignored_where_reads_decide(host):
    for plan in (PermissionPlan(SP, MAILBOXES[:1], ['FullAccess'], exclusive=True, new_principal=True),
                 PermissionPlan(SP, MAILBOXES[:1], ['FullAccess'], state='absent', new_principal=True)):
        assert not plan.write_only
        assert 'get_mailbox_permission' in [op['op'] for op in plan.reads]
