"""tests/unit/plugins mirrors plugins/: the test of plugins/X/Y.py is tests/unit/plugins/X/test_Y.py, so a test is found
where its module is, and a module's tests move with it."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'plugins')
# Tests with no module of their own name, and why.
NOT_A_MODULE = {
    # The texts tests/powershell reads instead of asking Python, checked against what the runner protocol sends.
    os.path.join('plugin_utils', 'test_runner_fixtures.py'),
}


def test_every_unit_test_sits_where_its_module_is():
    misplaced = []
    for folder, _dirs, files in os.walk(os.path.join(HERE, 'plugins')):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), os.path.join(HERE, 'plugins'))
            if not (name.startswith('test_') and name.endswith('.py')) or relative in NOT_A_MODULE:
                continue
            module = os.path.join(PLUGINS, os.path.dirname(relative), name[len('test_'):])
            if not os.path.isfile(module):
                misplaced.append('tests/unit/plugins/%s (no plugins/%s)' % (relative, os.path.relpath(module, PLUGINS)))
    assert misplaced == [], misplaced
