"""The transport with stand-in connections: command building, parsing, error mapping."""

import base64
import json

import pytest
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.shell.powershell import ShellModule as PowerShellShell
from ansible.plugins.shell.sh import ShellModule as ShShell

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import runner_protocol, transport
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeError, ExchangeSession
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.transport import PowerShellTransportError

CONNECTION = {'organization': 'tenant1.onmicrosoft.com', 'access_token': 'SECRET-TOKEN-VALUE'}


class FakeConnection:
    def __init__(self, shell, transport='winrm'):
        self._shell = shell
        self.transport = transport

    def get_option(self, name):
        if name == 'remote_addr':
            return 'win1.example.com'
        raise KeyError(name)


class FakeAction:
    def __init__(self, shell=None, answer=None, error=None):
        self._connection = FakeConnection(shell or PowerShellShell())
        self.answer = answer or {'rc': 0, 'stdout': '', 'stderr': ''}
        self.error = error
        self.calls = []

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
        self.calls.append({'cmd': cmd, 'sudoable': sudoable, 'in_data': in_data})
        if self.error:
            raise self.error
        return self.answer


def _decoded_script(cmd):
    return base64.b64decode(cmd.split(' ')[-1]).decode('utf-16-le')


def test_powershell_shell_builds_the_encoded_command():
    action = FakeAction()
    cmd = transport.encode_command(action._connection, runner_protocol.BOOTSTRAP)
    assert cmd.startswith('PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand ')
    script = _decoded_script(cmd)
    assert script.startswith(runner_protocol.BOOTSTRAP_MARKER)
    assert 'Set-StrictMode' not in script and 'LASTEXITCODE' not in script
    # The winrm plugin passes such a command through as is (no second encoding).
    prefix = action._connection._shell._encode_script('', as_list=False, strict_mode=False, preserve_rc=False)
    assert cmd.startswith(prefix)


def test_posix_shell_gets_pwsh():
    action = FakeAction(shell=ShShell())
    cmd = transport.encode_command(action._connection, runner_protocol.BOOTSTRAP)
    assert cmd.startswith('pwsh -NoProfile -NonInteractive -EncodedCommand ')
    assert _decoded_script(cmd).startswith(runner_protocol.BOOTSTRAP_MARKER)
    cmd = transport.encode_command(action._connection, 'x', interpreter='/opt/microsoft/powershell/7/pwsh')
    assert cmd.startswith('/opt/microsoft/powershell/7/pwsh -NoProfile')


def test_long_bootstrap_is_refused():
    with pytest.raises(PowerShellTransportError, match='more than'):
        transport.encode_command(FakeAction()._connection, 'x' * 4000)


def test_json_is_found_among_noise():
    stdout = 'WARNING: something\r\n{not json\r\n{"version": 2, "results": []}\r\n\r\n'
    assert transport.parse_json_output(stdout) == {'version': 2, 'results': []}


def test_no_json_is_a_clear_error_with_clixml_decoded():
    stderr = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
              '<S S="Error">The term &apos;Connect-ExchangeOnline&apos; is not recognized_x000D__x000A_</S>'
              '<S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>')
    with pytest.raises(PowerShellTransportError) as info:
        transport.parse_json_output('', stderr, 1)
    assert "The term 'Connect-ExchangeOnline' is not recognized" in info.value.msg
    assert 'rc=1' in info.value.msg and '<Objs' not in info.value.msg
    assert not info.value.unreachable


def test_pwsh_missing_on_linux_is_reported():
    action = FakeAction(shell=ShShell(), answer={'rc': 127, 'stdout': '', 'stderr': 'sh: 1: pwsh: not found'})
    session = ExchangeSession(action, CONNECTION)
    with pytest.raises(PowerShellTransportError, match='pwsh: not found') as raised:
        session.read([{'op': 'get_transport_config'}])
    assert 'PowerShell (pwsh) is not installed on the Exchange host' in str(raised.value.msg)
    assert 'powershell_interpreter' in raised.value.msg


@pytest.mark.parametrize('error,unreachable,needle', [
    (AnsibleConnectionFailure('ntlm: the specified credentials were rejected by the server'), True, 'Authentication to win1.example.com over winrm failed'),
    (AnsibleConnectionFailure('ntlm: HTTPConnectionPool: Max retries exceeded (Connection refused)'), True, 'Cannot reach win1.example.com over winrm'),
    (AnsibleError('winrm send_input failed'), False, 'Running PowerShell on win1.example.com over winrm failed'),
])
def test_transport_errors_are_mapped(error, unreachable, needle):
    session = ExchangeSession(FakeAction(error=error), CONNECTION)
    with pytest.raises(PowerShellTransportError) as info:
        session.read([{'op': 'get_transport_config'}])
    assert info.value.unreachable is unreachable
    assert needle in info.value.msg


def _answer(**fields):
    raw = {'version': runner_protocol.PROTOCOL_VERSION, 'failed': False, 'msg': None, 'connected': True, 'stopped': False, 'skipped': 0,
           'results': [], 'warnings': []}
    raw.update(fields)
    return {'rc': 0, 'stdout': json.dumps(raw) + '\r\n', 'stderr': ''}


def test_session_sends_secrets_on_stdin_only():
    action = FakeAction(answer=_answer())
    session = ExchangeSession(action, CONNECTION)
    session.read([{'op': 'get_mailbox_permission', 'for_each': ['a@x'], 'params': {'User': 'sp'}}])
    call = action.calls[0]
    assert call['sudoable'] is False
    assert 'SECRET-TOKEN-VALUE' not in call['cmd'] and 'SECRET-TOKEN-VALUE' not in _decoded_script(call['cmd'])
    script, allow_list, payload = runner_protocol.parse_stdin(call['in_data'])
    assert script == runner_protocol.runner_script()
    assert allow_list == runner_protocol.OPERATIONS
    assert payload['connection']['access_token'] == 'SECRET-TOKEN-VALUE'
    assert payload['operations'] == [{'op': 'get_mailbox_permission', 'params': {'User': 'sp'}, 'for_each': ['a@x']}]
    assert session.secrets == ['SECRET-TOKEN-VALUE'] and session.round_trips == 1


def test_read_refuses_writes_and_bad_input_never_leaves():
    action = FakeAction(answer=_answer())
    session = ExchangeSession(action, CONNECTION)
    with pytest.raises(ConfigError, match='write operations: remove_service_principal'):
        session.read([{'op': 'remove_service_principal', 'params': {'Identity': 'x'}}])
    with pytest.raises(ConfigError, match='not in the allow-list'):
        session.write([{'op': 'Set-Mailbox'}])
    assert action.calls == []


def test_result_helpers_and_stop_report():
    ops = [{'op': 'add_mailbox_permission', 'for_each': ['a', 'b', 'c'], 'params': {'User': 'sp', 'AccessRights': ['FullAccess']}}]
    results = [
        {'op_index': 0, 'op': 'add_mailbox_permission', 'key': 'a', 'ok': True, 'output': [], 'warnings': [], 'error': None},
        {'op_index': 0, 'op': 'add_mailbox_permission', 'key': 'b', 'ok': False, 'output': [], 'warnings': [],
         'error': {'message': 'connection closed'}},
    ]
    action = FakeAction(answer=_answer(results=results, stopped=True, skipped=1,
                                       stopped_at={'op_index': 0, 'op': 'add_mailbox_permission', 'key': 'b'}))
    result = ExchangeSession(action, CONNECTION).write(ops)
    assert [r['key'] for r in result.done()] == ['a']
    assert set(result.by_key(0)) == {'a', 'b'}
    with pytest.raises(ExchangeError) as info:
        result.raise_for_failure()
    assert 'stopped at add_mailbox_permission b: connection closed (1 write(s) done, 1 skipped)' in info.value.msg


def test_runner_failure_and_version_mismatch():
    session = ExchangeSession(FakeAction(answer=_answer(failed=True, msg='UnAuthorized')), CONNECTION)
    with pytest.raises(ExchangeError, match='Exchange Online: UnAuthorized'):
        session.read([{'op': 'get_transport_config'}]).raise_for_failure()
    session = ExchangeSession(FakeAction(answer=_answer(version=7)), CONNECTION)  # neither 1 nor 2
    with pytest.raises(ExchangeError, match='protocol version 7'):
        session.read([{'op': 'get_transport_config'}])
