"""The transport through pywinrm (Basic, and NTLM with message encryption) against the emulated host."""

import pytest
import winrm
from ansible.plugins.shell.powershell import ShellModule as PowerShellShell

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeSession

TENANT = 'tenant1.onmicrosoft.com'
SP = '66666666-7777-4888-8999-000000000000'


class PywinrmAction:
    """What an action plugin's connection does, done with pywinrm directly."""

    def __init__(self, port, transport):
        self._connection = type('Conn', (), {'_shell': PowerShellShell(), 'transport': 'winrm'})()
        self.protocol = winrm.protocol.Protocol('http://127.0.0.1:%d/wsman' % port, transport=transport, username='ansible',
                                                password='Passw0rd!', message_encryption='auto')
        self.shell_id = self.protocol.open_shell(codepage=65001)

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):  # pylint: disable=unused-argument
        parts = cmd.split(' ')
        command_id = self.protocol.run_command(self.shell_id, parts[0], parts[1:], console_mode_stdin=False)
        self.protocol.send_command_input(self.shell_id, command_id, in_data, end=True)
        stdout, stderr, rc = self.protocol.get_command_output(self.shell_id, command_id)
        self.protocol.cleanup_command(self.shell_id, command_id)
        return {'rc': rc, 'stdout': stdout.decode(), 'stderr': stderr.decode()}

    def close(self):
        self.protocol.close_shell(self.shell_id)


@pytest.mark.parametrize('transport', ['basic', 'ntlm'])
def test_read_and_write_round_trips(winrm_host, transport):
    token = winrm_host.sandbox.issue_token(winrm_host.sandbox.directory.tenant(TENANT))
    action = PywinrmAction(winrm_host.port, transport)
    session = ExchangeSession(action, {'organization': TENANT, 'access_token': token})
    mailboxes = ['user%d@%s' % (n, TENANT) for n in range(1, 6)]
    written = session.write([
        {'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
        {'op': 'add_mailbox_permission', 'for_each': mailboxes, 'params': {'User': SP, 'AccessRights': ['FullAccess'], 'AutoMapping': False}},
    ]).raise_for_failure()
    assert len(written.done()) == 6
    again = session.write([{'op': 'add_mailbox_permission', 'for_each': mailboxes[:1], 'params': {'User': SP, 'AccessRights': ['FullAccess']}}])
    assert again.results[0]['warnings'] == ['An existing permission entry was found for user: %s.' % SP]
    found = session.read([{'op': 'find_mailbox_permission', 'params': {'User': SP}}])
    assert sorted(row['Identity'] for r in found.results for row in r['output']) == ['user1', 'user2', 'user3', 'user4', 'user5']
    action.close()
    assert session.round_trips == 3
    counters = winrm_host.counters.as_dict()
    assert counters['bootstraps'] == 3
    if transport == 'ntlm':
        assert counters['encrypted_requests'] >= 8
    else:
        assert counters.get('encrypted_requests', 0) == 0


def test_thousand_mailboxes_take_one_round_trip_per_phase(sandbox):
    from m365_sandbox.exchange.standalone import FakeSandbox, FakeTenant  # pylint: disable=import-outside-toplevel
    from m365_sandbox.winrm import start_winrm  # pylint: disable=import-outside-toplevel
    big = FakeSandbox([FakeTenant('22222222-aaaa-4aaa-8aaa-000000000002', 'big.onmicrosoft.com', mailbox_count=1000)])
    stop = start_winrm(big, users={'ansible': 'Passw0rd!'})
    try:
        token = big.issue_token(big.directory.tenant('big.onmicrosoft.com'))
        action = PywinrmAction(stop.port, 'ntlm')
        session = ExchangeSession(action, {'organization': 'big.onmicrosoft.com', 'access_token': token})
        mailboxes = ['user%d@big.onmicrosoft.com' % n for n in range(1, 1001)]
        before = session.read([{'op': 'get_mailbox_permission', 'for_each': mailboxes, 'params': {'User': 'user1@big.onmicrosoft.com'}}])
        assert len(before.results) == 1000
        written = session.write([{'op': 'add_mailbox_permission', 'for_each': mailboxes,
                                  'params': {'User': 'user1@big.onmicrosoft.com', 'AccessRights': ['FullAccess'], 'AutoMapping': False}}])
        assert len(written.raise_for_failure().done()) == 1000
        action.close()
        stats = stop.exchange.counters.as_dict()
        # One round trip per phase; with 1,000 mailboxes each spreads over the default 3 Exchange sessions (issue 16),
        # each with its own Connect-ExchangeOnline.
        assert stats['round_trips'] == 2 and before.raw['sessions'] == written.raw['sessions'] == 3
        assert stats['connections'] == stats['disconnections'] == 6
        assert stats['cmdlets'] == {'Get-MailboxPermission': 1000, 'Add-MailboxPermission': 1000}
    finally:
        stop()
