"""The texts tests/powershell reads instead of asking Python: identical to what exchange_runner.py sends.

The Pester suite runs standalone (no Python), so it keeps the allow-list (exchange_runner.allow_list_json())
and the bootstrap (exchange_runner.BOOTSTRAP) as fixtures; these tests fail when either drifts.
"""

import base64
import os

import pytest

from ansible_collections.m365.mail_oauth.plugins.plugin_utils import exchange_runner
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.powershell_transport import MAX_BOOTSTRAP_CHARS

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
        pytest.fail('tests/powershell/fixtures/%s differs from what exchange_runner.py sends; regenerate it with:\n    %s'
                    % (name, REGENERATE))


def test_allow_list_fixture_is_current():
    _check_fixture('allow_list.json', exchange_runner.allow_list_json())


def test_bootstrap_fixture_is_current():
    _check_fixture('bootstrap.ps1', exchange_runner.BOOTSTRAP)


def test_fixtures_are_ascii():
    exchange_runner.allow_list_json().encode('ascii')
    exchange_runner.BOOTSTRAP.encode('ascii')


def test_bootstrap_fits_the_command_line():
    assert len(exchange_runner.BOOTSTRAP) < MAX_BOOTSTRAP_CHARS
    # -EncodedCommand is base64 of UTF-16LE; cmd.exe takes 8191 characters in all.
    assert len(base64.b64encode(exchange_runner.BOOTSTRAP.encode('utf-16-le'))) < 4000


def test_markers():
    assert exchange_runner.runner_script().startswith(exchange_runner.RUNNER_MARKER + '\n')
    assert exchange_runner.BOOTSTRAP.startswith(exchange_runner.BOOTSTRAP_MARKER + '\n')


def test_stdin_is_three_base64_lines():
    stdin = exchange_runner.build_stdin({'version': exchange_runner.PROTOCOL_VERSION, 'operations': []})
    assert stdin.count(b'\n') == 3
    script, allow_list, payload = exchange_runner.parse_stdin(stdin)
    assert script == exchange_runner.runner_script()
    assert allow_list == exchange_runner.OPERATIONS
    assert payload == {'version': exchange_runner.PROTOCOL_VERSION, 'operations': []}
    with pytest.raises(ValueError, match='three base64 lines'):
        exchange_runner.parse_stdin(stdin.split(b'\n', 1)[1].split(b'\n', 1)[1])
