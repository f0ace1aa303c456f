"""The WinRM listener: auth, faults, real pwsh behind commands, the collection's bootstrap and runner end to end."""

import base64
import json
import os
import time

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError

from m365_sandbox.winrm.shell import decode_command_line

from m365_sandbox.testing import MAILBOXES, SP, TENANT, need_pwsh


def _endpoint(host):
    return 'http://127.0.0.1:%d/wsman' % host.port


def _protocol(host, **kwargs):
    return winrm.protocol.Protocol(_endpoint(host), transport=kwargs.pop('transport', 'ntlm'), username='ansible', password='Passw0rd!', **kwargs)


def _start_bootstrap(host, operations, protocol=None, **connection):
    """Open a shell and start the bootstrap with the runner and payload on stdin, as the action plugins do."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import payload as runner_payload, runner_protocol
    settings = dict(runner_payload.module_payload('access_token'), auth='access_token', organization=TENANT, access_token=host.token())
    settings.update(connection)
    payload = dict(runner_payload.runtime_payload(sessions=1), version=runner_protocol.PROTOCOL_VERSION, connection=settings, operations=operations)
    protocol = protocol or _protocol(host)
    shell = protocol.open_shell()
    encoded = base64.b64encode(runner_protocol.BOOTSTRAP.encode('utf-16-le')).decode()
    command = protocol.run_command(shell, 'PowerShell', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Unrestricted', '-EncodedCommand', encoded],
                                   console_mode_stdin=False)
    protocol.send_command_input(shell, command, runner_protocol.build_stdin(payload), end=True)
    return protocol, shell, command


@pytest.mark.parametrize('transport', ['basic', 'ntlm'])
def test_wrong_password_is_rejected(host, transport):
    protocol = winrm.protocol.Protocol(_endpoint(host), transport=transport, username='ansible', password='nope')
    with pytest.raises(InvalidCredentialsError, match='rejected'):
        protocol.open_shell()
    assert host.counters.as_dict().get('shells', 0) == 0


def test_anonymous_request_gets_a_challenge(host):
    answer = requests.post(_endpoint(host), data=b'<x/>', timeout=5)
    assert answer.status_code == 401
    assert 'Negotiate' in answer.headers['WWW-Authenticate']


def test_powershell_runs_in_pwsh_and_cmd_does_not(host):
    need_pwsh()
    session = winrm.Session(_endpoint(host), auth=('ansible', 'Passw0rd!'), transport='ntlm')
    result = session.run_ps('Write-Output (6 * 7); exit 3')
    assert result.status_code == 3 and result.std_out.strip() == b'42'
    result = session.run_ps("Write-Error 'boom'")
    assert result.status_code == 1 and b'boom' in result.std_err
    result = session.run_cmd('whoami')
    assert result.status_code == 1 and b'is not recognized' in result.std_err
    counters = host.counters.as_dict()
    assert counters['unrecognised'] == 1 and counters['commands'] == 3 and counters.get('bootstraps', 0) == 0


def test_bootstrap_without_stdin_says_so(host):
    need_pwsh()
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.runner_protocol import BOOTSTRAP  # pylint: disable=import-outside-toplevel
    session = winrm.Session(_endpoint(host), auth=('ansible', 'Passw0rd!'), transport='basic')
    result = session.run_ps(BOOTSTRAP)
    # The bootstrap counts its stdin lines before it builds a script from them, and answers in the runner's JSON shape.
    answer = json.loads(result.std_out.strip())
    assert result.status_code == 1 and answer['failed'] and '0 of 3 lines' in answer['msg'], answer
    assert host.counters.as_dict()['bootstraps'] == 1 and host.exchange.counters.as_dict()['connections'] == 0


def test_unknown_shell_is_a_wsman_fault(host):
    protocol = _protocol(host, transport='basic')
    with pytest.raises(winrm.exceptions.WSManFaultError) as info:
        protocol.run_command('00000000-0000-0000-0000-000000000000', 'cmd')
    assert info.value.wsman_fault_code == 2150858843


def test_one_connection_and_one_round_trip_per_command(host):
    need_pwsh()
    operations = [{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
                  {'op': 'add_mailbox_permission', 'for_each': MAILBOXES, 'params': {'User': SP, 'AccessRights': ['FullAccess']}}]
    protocol, shell, command = _start_bootstrap(host, operations)
    stdout, stderr, rc = protocol.get_command_output(shell, command)
    assert rc == 0, stderr
    assert b'"failed":false' in stdout and b'"disconnected":true' in stdout
    stats = host.exchange.counters.as_dict()
    assert (stats['round_trips'], stats['connections'], stats['disconnections']) == (1, 1, 1)
    assert stats['cmdlets'] == {'New-ServicePrincipal': 1, 'Add-MailboxPermission': 5}
    assert host.counters.as_dict()['bootstraps'] == 1
    state = host.exchange.org(TENANT).snapshot()
    assert all(any(p['User'] == SP for p in m['permissions']) for m in state['mailboxes'].values())


def test_long_runs_answer_operation_timeout_and_finish(host):
    need_pwsh()
    host.exchange.faults.configure(latency={'connect': 2.5})
    protocol, shell, command = _start_bootstrap(host, [{'op': 'get_transport_config'}],
                                                protocol=_protocol(host, operation_timeout_sec=1, read_timeout_sec=5))
    with pytest.raises(WinRMOperationTimeoutError):
        protocol._raw_get_command_output(shell, command)  # pylint: disable=protected-access
    stdout, _stderr, rc = protocol.get_command_output(shell, command)
    assert rc == 0 and b'"connected":true' in stdout
    assert host.exchange.counters.as_dict()['latency_seconds'] == {'connect': 2.5}


def test_dropped_write_drops_the_winrm_connection_and_the_command(host):
    need_pwsh()
    host.exchange.org(TENANT)
    host.exchange.faults.configure(drop_after_writes=2, drop_mode='winrm')
    operations = [{'op': 'new_service_principal', 'params': {'AppId': SP, 'ObjectId': SP}},
                  {'op': 'add_mailbox_permission', 'for_each': MAILBOXES, 'params': {'User': SP, 'AccessRights': ['FullAccess']}}]
    protocol, shell, command = _start_bootstrap(host, operations, protocol=_protocol(host, read_timeout_sec=30, operation_timeout_sec=20))
    with pytest.raises(Exception):  # the connection closes without an answer
        protocol.get_command_output(shell, command)
    stats = host.exchange.counters.as_dict()
    assert stats['dropped'] == 1 and stats['cmdlets']['Add-MailboxPermission'] == 2
    holders = [upn for upn, m in host.exchange.org(TENANT).snapshot()['mailboxes'].items() if any(p['User'] == SP for p in m['permissions'])]
    assert holders == MAILBOXES[:1]
    assert host.counters.as_dict()['dropped_connections'] == 1
    assert not host.stop.shells.running


def _first_receive(protocol, script):
    """Start a PowerShell command line and Receive until it wrote something: (shell, command, stdout so far, done).

    A Receive with nothing to hand over within the operation timeout is a timeout fault, as WinRM answers; pwsh can
    take longer than that to start on a loaded machine, so those are retried (for up to 30 s)."""
    shell = protocol.open_shell()
    command = protocol.run_command(shell, 'powershell', ['-EncodedCommand', base64.b64encode(script.encode('utf-16-le')).decode()])
    deadline = time.monotonic() + 30
    while True:
        try:
            stdout, _stderr, _rc, done = protocol._raw_get_command_output(shell, command)  # pylint: disable=protected-access
            return shell, command, stdout, done
        except WinRMOperationTimeoutError:
            if time.monotonic() > deadline:
                raise


def test_signal_kills_the_process(host):
    need_pwsh()
    protocol = _protocol(host, operation_timeout_sec=1, read_timeout_sec=5)
    # The first Receive starts the program and answers with what it wrote so far, still running.
    shell, command, stdout, done = _first_receive(protocol, 'Write-Output $PID; Start-Sleep -Seconds 60')
    assert stdout.strip().isdigit() and not done
    deadline = time.monotonic() + 30
    while not host.stop.shells.running and time.monotonic() < deadline:
        time.sleep(0.1)
    running = list(host.stop.shells.running.values())
    assert running
    pid = running[0].process.pid
    protocol.cleanup_command(shell, command)
    protocol.close_shell(shell)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not running[0].done.is_set():
        time.sleep(0.1)
    assert running[0].done.is_set()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_decode_command_line_variants():
    encoded = base64.b64encode('Write-Output 1'.encode('utf-16-le')).decode()
    assert decode_command_line('powershell -encodedcommand ' + encoded, []) == ('powershell', 'Write-Output 1', encoded)
    assert decode_command_line('PowerShell', ['-NoProfile', '-enc', encoded]) == ('PowerShell', 'Write-Output 1', encoded)
    assert decode_command_line('cmd', ['/c', 'dir']) == ('cmd', None, None)


def test_output_arrives_while_the_command_runs(host):
    """Receive hands over what the program wrote so far (CommandState Running, no exit code), the rest at the end."""
    need_pwsh()
    protocol = _protocol(host, operation_timeout_sec=20, read_timeout_sec=30)
    shell, command, stdout, done = _first_receive(protocol, "Write-Output 'first'; Start-Sleep -Seconds 3; Write-Output 'second'; exit 4")
    # Handed over while the program still sleeps: not done, and 'second' not yet there.
    assert stdout.strip() == b'first' and not done
    rest, _stderr, rc = protocol.get_command_output(shell, command)
    assert rest.strip() == b'second' and rc == 4
    protocol.cleanup_command(shell, command)
    protocol.close_shell(shell)
    assert host.counters.as_dict()['round_trips'] == 1
