"""The texts tests/powershell reads instead of asking Python: identical to what runner_protocol.py sends.

The Pester suite runs standalone (no Python), so it keeps the allow-list (runner_protocol.allow_list_json())
and the bootstrap (runner_protocol.BOOTSTRAP) as fixtures; these tests fail when either drifts.
"""

import base64
import os

import pytest

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import runner_protocol
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.transport import MAX_BOOTSTRAP_CHARS

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
FIXTURES = os.path.join(REPO, 'tests', 'powershell', 'fixtures')
REGENERATE = 'M365_REGENERATE_FIXTURES=1 .venv/bin/python -m pytest tests/unit/plugins/plugin_utils/test_runner_fixtures.py'


def _check_fixture(name, expected):
    path = os.path.join(FIXTURES, name)
    if os.environ.get('M365_REGENERATE_FIXTURES') == '1':
        with open(path, 'w', encoding='ascii', newline='') as handle:
            handle.write(expected)
    with open(path, encoding='utf-8', newline='') as handle:
        found = handle.read().replace('\r\n', '\n')  # a Windows checkout may add CRs
    if found != expected:
        pytest.fail('tests/powershell/fixtures/%s differs from what runner_protocol.py sends; regenerate it with:\n    %s'
                    % (name, REGENERATE))


def test_allow_list_fixture_is_current():
    _check_fixture('allow_list.json', runner_protocol.allow_list_json())


def test_bootstrap_fixture_is_current():
    _check_fixture('bootstrap.ps1', runner_protocol.BOOTSTRAP)


def test_fixtures_are_ascii():
    runner_protocol.allow_list_json().encode('ascii')
    runner_protocol.BOOTSTRAP.encode('ascii')


def test_bootstrap_fits_the_command_line():
    assert len(runner_protocol.BOOTSTRAP) < MAX_BOOTSTRAP_CHARS
    # -EncodedCommand is base64 of UTF-16LE; cmd.exe takes 8191 characters in all.
    assert len(base64.b64encode(runner_protocol.BOOTSTRAP.encode('utf-16-le'))) < 4000


def test_markers():
    assert runner_protocol.runner_script().startswith(runner_protocol.RUNNER_MARKER + '\n')
    assert runner_protocol.BOOTSTRAP.startswith(runner_protocol.BOOTSTRAP_MARKER + '\n')


def test_stdin_is_three_base64_lines():
    stdin = runner_protocol.build_stdin({'version': runner_protocol.PROTOCOL_VERSION, 'operations': []})
    assert stdin.count(b'\n') == 3
    script, allow_list, payload = runner_protocol.parse_stdin(stdin)
    assert script == runner_protocol.runner_script()
    assert allow_list == runner_protocol.OPERATIONS
    assert payload == {'version': runner_protocol.PROTOCOL_VERSION, 'operations': []}
    with pytest.raises(ValueError, match='three base64 lines'):
        runner_protocol.parse_stdin(stdin.split(b'\n', 1)[1].split(b'\n', 1)[1])
