"""plan.py: one wording for what every Exchange action reports, and the check that the runner followed the plan."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import M365Error
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.plan import Report, check_plan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult

NOT_FOUND = {'message': 'not there', 'not_found': True}
BROKEN = {'message': 'backend down', 'not_found': False}
OPERATIONS = [{'op': 'get_cas_mailbox', 'for_each': ['a', 'b']}, {'op': 'set_cas_mailbox', 'for_each': ['a', 'b']}]


def _answer(writes=(), stopped=False, warnings=()):
    results = [{'op_index': 1, 'op': 'set_cas_mailbox', 'key': key, 'ok': error is None, 'error': error} for key, error in writes]
    raw = {'version': 2, 'results': results, 'warnings': list(warnings), 'stopped': stopped, 'skipped': 1 if stopped else 0}
    if stopped:
        raw['stopped_at'] = {'op_index': 1, 'op': 'set_cas_mailbox', 'key': 'a'}
    answer = ExchangeResult(raw, OPERATIONS)
    answer.first_write = 1
    return answer


def test_a_failed_call_is_missing_only_when_exchange_said_not_found():
    report = Report()
    report.failed_call('a', NOT_FOUND)
    report.failed_call('b', BROKEN)
    report.failed_call('c', None)
    assert report.missing == ['a'] and report.errors == ['b: backend down', 'c: no answer']


def test_missing_mailboxes_fail_or_warn_and_errors_always_fail():
    report = Report(fail_missing=True)
    report.missing, report.errors = ['ghost'], ['b: backend down']
    result = report.result(_answer(), diff=False)
    assert result['failed'] and result['msg'] == ('Exchange Online failed for: b: backend down; mailbox(es) not found: ghost (the '
                                                  'other mailboxes were processed; set missing=warn to accept this)')
    report.fail_missing = False
    result = report.result(_answer(warnings=['from Exchange']), diff=False)
    assert result['warnings'] == ['from Exchange', '1 mailbox(es) not found, skipped: ghost'] and result['msg'].startswith('Exchange Online')


def test_a_stopped_run_is_said_once_and_a_first_problem_replaces_it():
    answer = _answer(writes=[('a', BROKEN)], stopped=True)
    assert Report().problems(answer) == ['Exchange Online stopped at set_cas_mailbox a: backend down (0 write(s) done, 1 skipped)']
    report = Report()
    report.first_problem = 'the principal is not known yet'
    assert report.problems(answer) == ['the principal is not known yet']


def test_the_diff_only_when_asked_and_only_when_the_plan_has_one():
    report = Report()
    assert 'diff' not in report.result(_answer(), diff=True)
    report.before, report.after = {'a': 1}, {'a': 2}
    assert 'diff' not in report.result(_answer(), diff=False)
    assert report.result(_answer(), diff=True)['diff'] == {'before': {'a': 1}, 'after': {'a': 2}}


def test_check_plan_refuses_writes_the_plan_did_not_expect():
    check_plan(_answer(writes=[('A', None)]), [('set_cas_mailbox', 'a')])
    with pytest.raises(M365Error, match='unplanned writes set_cas_mailbox b'):
        check_plan(_answer(writes=[('a', None), ('b', None)]), [('set_cas_mailbox', 'a')])
    with pytest.raises(M365Error, match='planned but not done set_cas_mailbox b'):
        check_plan(_answer(writes=[('a', None)]), [('set_cas_mailbox', 'a'), ('set_cas_mailbox', 'b')])
    # A stopped run did not get to every planned write: that is the stop, not a mismatch.
    check_plan(_answer(writes=[('a', BROKEN)], stopped=True), [('set_cas_mailbox', 'a'), ('set_cas_mailbox', 'b')])
