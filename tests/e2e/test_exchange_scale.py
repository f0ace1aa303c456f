"""1,000 mailboxes: one Connect-ExchangeOnline and one WinRM round trip per task, and a rerun that changes nothing."""

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
    # Two tasks: each one Connect-ExchangeOnline and one WinRM command (round trip), reads and writes together.
    assert stats['exchange']['connections'] == 2 and stats['exchange']['round_trips'] == 2
    assert stats['winrm']['bootstraps'] == 2 and stats['winrm']['round_trips'] <= 2 * 3
    assert stats['exchange']['cmdlets']['Add-MailboxPermission'] == COUNT
    assert first.results()['perm']['localhost']['round_trips'] == 1
    assert full_access_holders(exchange_state(big), app['sp_object_id']) == sorted(mailboxes)

    started = time.monotonic()
    rerun = run_exchange(tmp_path, big, tasks[1:], 'ex-scale-rerun')
    rerun_seconds = time.monotonic() - started
    assert rerun.rc == 0 and rerun.changed == 0, rerun
    stats = _stats(big)
    assert stats['exchange']['connections'] == 1 and stats['exchange']['round_trips'] == 1 and stats['winrm']['bootstraps'] == 1
    assert 'Add-MailboxPermission' not in stats['exchange']['cmdlets'] and 'Remove-MailboxPermission' not in stats['exchange']['cmdlets']
    assert rerun.results()['perm']['localhost']['unchanged'] == COUNT
    print('\n1,000 mailboxes: create+sp %.1fs, rerun %.1fs, cmdlets on rerun %s' % (first_seconds, rerun_seconds, stats['exchange']['cmdlets']))
