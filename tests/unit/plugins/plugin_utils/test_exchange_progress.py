"""Progress lines: read from stdout in any pieces, and the winrm hook that passes the pieces on."""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import transport
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.progress import ProgressReader, wanted

STDOUT = (b'#m365.mail_oauth:progress get_mailbox_permission 50/1000\r\n'
          b'#m365.mail_oauth:progress add_mailbox_permission 1000/1000\n'
          b'#m365.mail_oauth:progress nonsense\n'
          b'{"version":2,"results":[' + b'{"key":"m"},' * 5000 + b'{}]}\n')


def _read(pieces):
    seen = []
    reader = ProgressReader(lambda *line: seen.append(line))
    for piece in pieces:
        reader.feed(piece)
    return seen, reader


def test_lines_are_read_whatever_the_pieces():
    expected = [('get_mailbox_permission', 50, 1000), ('add_mailbox_permission', 1000, 1000)]
    for size in (1, 7, 64, len(STDOUT)):
        seen, reader = _read([STDOUT[i:i + size] for i in range(0, len(STDOUT), size)])
        assert seen == expected, size
        # The answer line is not kept while it streams past.
        assert len(reader._partial) < 64  # pylint: disable=protected-access


def test_long_tasks_only():
    assert not wanted([{'op': 'get_mailbox_permission', 'for_each': ['m'] * 99}])
    assert wanted([{'op': 'get_service_principal'}, {'op': 'get_mailbox_permission', 'for_each': ['m'] * 100}])
    assert wanted([{'op': 'find_mailbox_permission', 'params': {'User': 'x'}}])


class _Winrm(object):
    def __init__(self):
        self.pieces = [b'#m365.mail_oauth:progress get_mailbox 1/2\n', b'{"ok":1}\n']

    def _winrm_get_raw_command_output(self, protocol, shell_id, command_id):
        return self.pieces.pop(0), b'', 0, not self.pieces


class _Action(object):
    def __init__(self, connection):
        self._connection = connection

    def _low_level_execute_command(self, command, sudoable=False, in_data=None):
        out = b''
        done = False
        while not done:
            piece, _err, _rc, done = self._connection._winrm_get_raw_command_output(None, 's', 'c')
            out += piece
        return {'rc': 0, 'stdout': out.decode(), 'stderr': ''}


def test_winrm_pieces_reach_on_output_and_the_hook_goes_away():
    connection = _Winrm()
    connection._shell = None
    seen = []
    rc, stdout, _stderr = transport.execute(_Action(connection), 'x', b'', interpreter='pwsh', on_output=seen.append)
    assert rc == 0 and stdout.endswith('{"ok":1}\n')
    assert seen == [b'#m365.mail_oauth:progress get_mailbox 1/2\n', b'{"ok":1}\n']
    assert '_winrm_get_raw_command_output' not in vars(connection)


def test_a_failing_on_output_does_not_break_the_command():
    def broken(_piece):
        raise RuntimeError('display broke')
    rc, _stdout, _stderr = transport.execute(_Action(_Winrm()), 'x', b'', interpreter='pwsh', on_output=broken)
    assert rc == 0


def test_other_connections_are_left_alone():
    class Ssh(object):
        _shell = None
    assert not transport.can_stream(Ssh())
    assert transport.can_stream(_Winrm())
