"""Every PowerShell text the collection ships parses cleanly with tree-sitter-pwsh."""

import base64

import pytest
import tree_sitter
import tree_sitter_pwsh

from ansible_collections.m365.mail_oauth.plugins.plugin_utils import exchange_runner
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange_operations import OPERATIONS
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.powershell_transport import MAX_BOOTSTRAP_CHARS

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def syntax_problems(text):
    data = text.encode('utf-8')
    tree = PARSER.parse(data)
    problems = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == 'ERROR' or node.is_missing:
            line = data.splitlines()[node.start_point[0]] if data.splitlines() else b''
            problems.append('%s at %s: %r' % (node.type, node.start_point, line.strip()[:120]))
        stack.extend(node.children)
    return problems


def test_checker_catches_errors():
    assert syntax_problems('$a = @{ x = 1 ; & $c @a')
    assert syntax_problems('function f { param([string]$x) ')


@pytest.mark.parametrize('name,text', [
    ('bootstrap', exchange_runner.BOOTSTRAP),
    ('runner', exchange_runner.runner_script()),
    ('allow_list', exchange_runner.render_allow_list()),
])
def test_powershell_parses(name, text):
    assert syntax_problems(text) == [], name


def test_bootstrap_fits_the_command_line():
    assert len(exchange_runner.BOOTSTRAP) < 1000 < MAX_BOOTSTRAP_CHARS
    encoded = base64.b64encode(exchange_runner.BOOTSTRAP.encode('utf-16-le'))
    assert len(encoded) < 2000


def test_runner_embeds_every_operation_and_marker():
    script = exchange_runner.runner_script()
    assert script.startswith(exchange_runner.RUNNER_MARKER + '\n')
    assert exchange_runner.BOOTSTRAP.startswith(exchange_runner.BOOTSTRAP_MARKER + '\n')
    for name, definition in OPERATIONS.items():
        assert "'%s' = @{" % name in script
        assert "Cmdlet = '%s'" % definition['cmdlet'] in script
    assert '__ALLOW_LIST__' not in script and '__VERSION__' not in script


def test_runner_calls_cmdlets_only_by_splatting():
    script = exchange_runner.runner_script()
    assert '& $command @Params' in script
    for forbidden in ('Invoke-Expression', 'iex ', 'AddScript', '[ScriptBlock]::Create'):
        assert forbidden not in script
    assert 'finally' in script and 'Disconnect-ExchangeOnline' in script
    assert '-Depth 6 -Compress' in script


def test_ps_quote_escapes_single_quotes():
    assert exchange_runner.ps_quote("it's") == "'it''s'"
    assert exchange_runner.ps_quote('a\u2019b') == "'a\u2019\u2019b'"
    assert syntax_problems('$x = %s' % exchange_runner.ps_quote("a'b\u2018c")) == []
