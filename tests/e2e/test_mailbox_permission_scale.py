"""1,000 mailboxes: one WinRM round trip per task, three parallel Exchange sessions for the mailbox task, and a rerun that changes nothing.

Issue 16 changed what this test promises: a task with at least 40 mailboxes spreads them over up to
exchange_sessions (default 3) Exchange sessions inside its one round trip, so the mailbox task connects three
times (in parallel); the service principal task, with no mailbox list, still connects once.
"""

import time

import pytest

from m365_sandbox.client import SandboxHandle

from exchange_play import exchange_stats, full_access_holders, mail_app, run_exchange, exchange_state

COUNT = 1000


@pytest.fixture(scope='module')
def big(tmp_path_factory):
    handle = SandboxHandle(state_dir=str(tmp_path_factory.mktemp('big-sandbox')), tenants=1, mailboxes=COUNT, winrm_port=0)
    handle.start()
    yield handle
    handle.stop()


def _stats(sandbox):
    stats = exchange_stats(sandbox)
    sandbox.control('POST', 'exchange/stats/reset')
    return stats


@pytest.mark.slow
def test_thousand_mailboxes_one_connection_per_task(big, tmp_path):
    app = mail_app(big)
    mailboxes = big.tenant(0)['mailboxes']
    assert len(mailboxes) == COUNT
    (tmp_path / 'mailboxes.txt').write_text('# the support mailboxes\n' + '\n'.join(mailboxes) + '\n')
    tasks = [{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}},
             {'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes_file': str(tmp_path / 'mailboxes.txt'),
                                                                     'exclusive': True}}]
    _stats(big)
    started = time.monotonic()
    first = run_exchange(tmp_path, big, tasks, 'ex-scale-create')
    first_seconds = time.monotonic() - started
    assert first.rc == 0, first
    stats = _stats(big)
    # Two tasks, one WinRM command (round trip) each, reads and writes together; the service principal task connects
    # once, the mailbox task three times (parallel sessions), and never more than three requests were in flight.
    assert stats['exchange']['connections'] == 1 + 3 and stats['exchange']['round_trips'] == 2
    assert stats['exchange']['disconnections'] == 4
    assert stats['exchange']['peak_concurrency'] <= 3 and stats['exchange']['concurrency_throttled'] == 0
    assert first.results()['perm']['localhost']['exchange_sessions'] == 3
    assert stats['winrm']['bootstraps'] == 2 and stats['winrm']['round_trips'] <= 2 * 3
    assert stats['exchange']['cmdlets']['Add-MailboxPermission'] == COUNT
    assert first.results()['perm']['localhost']['round_trips'] == 1
    assert full_access_holders(exchange_state(big), app['sp_object_id']) == sorted(mailboxes)

    started = time.monotonic()
    rerun = run_exchange(tmp_path, big, tasks[1:], 'ex-scale-rerun')
    rerun_seconds = time.monotonic() - started
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    stats = _stats(big)
    assert stats['exchange']['connections'] == 3 and stats['exchange']['round_trips'] == 1 and stats['winrm']['bootstraps'] == 1
    assert 'Add-MailboxPermission' not in stats['exchange']['cmdlets'] and 'Remove-MailboxPermission' not in stats['exchange']['cmdlets']
    assert rerun.results()['perm']['localhost']['unchanged'] == COUNT
    print('\n1,000 mailboxes: create+sp %.1fs, rerun %.1fs, cmdlets on rerun %s' % (first_seconds, rerun_seconds, stats['exchange']['cmdlets']))
    # Without -v no progress is asked for, none is printed.
    assert 'done (Get-MailboxPermission)' not in first.stdout + rerun.stdout
    assert '#m365.mail_oauth:progress' not in first.stdout + rerun.stdout


@pytest.mark.slow
def test_progress_while_a_long_task_runs_at_v(big, tmp_path):
    """-v: the mailbox task prints its progress while it runs, in the order the runner printed it, and the task
    still answers in one round trip (the WinRM Receive calls that carry progress are not extra commands)."""
    app = mail_app(big, name='mail-progress')
    mailboxes = big.tenant(0)['mailboxes'][:300]
    tasks = [{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}},
             {'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes': mailboxes}}]
    _stats(big)
    run = run_exchange(tmp_path, big, tasks, 'ex-scale-progress', verbosity=1)
    assert run.rc == 0, run
    lines = [line for line in run.stdout.splitlines() if ' done (' in line]
    reads = [line for line in lines if line.endswith('(Get-MailboxPermission)')]
    writes = [line for line in lines if line.endswith('(Add-MailboxPermission)')]
    assert len(reads) == 20 and len(writes) == 20, lines
    assert reads[0].endswith('mailboxes 15/300 done (Get-MailboxPermission)') and writes[-1].endswith('mailboxes 300/300 done (Add-MailboxPermission)')
    assert lines == reads + writes
    assert '#m365.mail_oauth:progress' not in run.stdout
    stats = _stats(big)
    assert stats['exchange']['round_trips'] == 2 and stats['winrm']['bootstraps'] == 2
    assert full_access_holders(exchange_state(big), app['sp_object_id']) == sorted(mailboxes)


@pytest.mark.slow
def test_sessions_beyond_the_concurrency_limit_are_throttled_and_retried(big, tmp_path):
    """Five sessions against the service's limit of three: the fourth and fifth in-flight requests get 429
    "maximum number of concurrent requests per tenant", the retries absorb it, and the state still converges."""
    app = mail_app(big, name='mail-five')
    mailboxes = big.tenant(0)['mailboxes'][:200]
    tasks = [{'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}},
             {'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes': mailboxes, 'exchange_sessions': 5}}]
    _stats(big)
    run = run_exchange(tmp_path, big, tasks, 'ex-scale-five')
    assert run.rc == 0, run
    stats = _stats(big)
    assert stats['exchange']['connections'] == 1 + 5 and stats['exchange']['round_trips'] == 2
    assert stats['exchange']['peak_concurrency'] <= 3
    assert run.results()['perm']['localhost']['exchange_sessions'] == 5
    assert full_access_holders(exchange_state(big), app['sp_object_id']) == sorted(mailboxes)
