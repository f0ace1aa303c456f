"""The WinRM listener at the protocol level: auth, faults, unknown commands, long runs."""

import base64

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError

from m365_sandbox.winrm.shell import decode_command_line


def _endpoint(host):
    return 'http://127.0.0.1:%d/wsman' % host.port


@pytest.mark.parametrize('transport', ['basic', 'ntlm'])
def test_wrong_password_is_rejected(winrm_host, transport):
    protocol = winrm.protocol.Protocol(_endpoint(winrm_host), transport=transport, username='ansible', password='nope')
    with pytest.raises(InvalidCredentialsError, match='rejected'):
        protocol.open_shell()
    assert winrm_host.counters.as_dict().get('shells', 0) == 0


def test_anonymous_request_gets_a_challenge(winrm_host):
    answer = requests.post(_endpoint(winrm_host), data=b'<x/>', timeout=5)
    assert answer.status_code == 401
    assert 'Negotiate' in answer.headers['WWW-Authenticate']


def test_other_commands_fail_like_powershell(winrm_host):
    session = winrm.Session(_endpoint(winrm_host), auth=('ansible', 'Passw0rd!'), transport='ntlm')
    result = session.run_ps('Get-ChildItem C:\\')
    assert result.status_code == 1 and b'only runs the m365.mail_oauth bootstrap' in result.std_err
    result = session.run_cmd('whoami')
    assert result.status_code == 1 and b'is not recognized' in result.std_err
    assert winrm_host.counters.as_dict()['unrecognised'] == 2


def test_bootstrap_without_stdin_fails(winrm_host):
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange_runner import BOOTSTRAP  # pylint: disable=import-outside-toplevel
    session = winrm.Session(_endpoint(winrm_host), auth=('ansible', 'Passw0rd!'), transport='basic')
    result = session.run_ps(BOOTSTRAP)
    assert result.status_code == 1 and b'null array' in result.std_err


def test_unknown_shell_is_a_wsman_fault(winrm_host):
    protocol = winrm.protocol.Protocol(_endpoint(winrm_host), transport='basic', username='ansible', password='Passw0rd!')
    with pytest.raises(winrm.exceptions.WSManFaultError) as info:
        protocol.run_command('00000000-0000-0000-0000-000000000000', 'cmd')
    assert info.value.wsman_fault_code == 2150858843


def test_long_runs_answer_operation_timeout_and_finish(winrm_host):
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils import exchange_runner  # pylint: disable=import-outside-toplevel
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange_session import (  # pylint: disable=import-outside-toplevel
        build_payload, connection_payload)
    sandbox = winrm_host.sandbox
    token = sandbox.issue_token(sandbox.directory.tenant('tenant1.onmicrosoft.com'))
    winrm_host.exchange.faults.configure(latency={'connect': 2.5})
    protocol = winrm.protocol.Protocol(_endpoint(winrm_host), transport='ntlm', username='ansible', password='Passw0rd!',
                                       operation_timeout_sec=1, read_timeout_sec=5)
    shell = protocol.open_shell()
    encoded = base64.b64encode(exchange_runner.BOOTSTRAP.encode('utf-16-le')).decode()
    command = protocol.run_command(shell, 'PowerShell', ['-NoProfile', '-EncodedCommand', encoded], console_mode_stdin=False)
    payload = build_payload(connection_payload({'organization': 'tenant1.onmicrosoft.com', 'access_token': token}), [{'op': 'get_transport_config'}])
    protocol.send_command_input(shell, command, exchange_runner.build_stdin(payload), end=True)
    with pytest.raises(WinRMOperationTimeoutError):
        protocol._raw_get_command_output(shell, command)  # pylint: disable=protected-access
    stdout, _stderr, rc = protocol.get_command_output(shell, command)
    assert rc == 0 and b'"connected":true' in stdout


def test_decode_command_line_variants():
    encoded = base64.b64encode('Write-Output 1'.encode('utf-16-le')).decode()
    assert decode_command_line('powershell -encodedcommand ' + encoded, []) == ('powershell', 'Write-Output 1')
    assert decode_command_line('PowerShell', ['-NoProfile', '-enc', encoded]) == ('PowerShell', 'Write-Output 1')
    assert decode_command_line('cmd', ['/c', 'dir']) == ('cmd', None)
