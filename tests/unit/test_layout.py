"""tests/unit/plugins mirrors plugins/: the test of plugins/X/Y.py is tests/unit/plugins/X/test_Y.py, so a test is found
where its module is, and a module's tests move with it."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'plugins')
# Tests with no module of their own name, and why.
NOT_A_MODULE = {
    # The texts tests/powershell reads instead of asking Python, checked against what the runner protocol sends.
    os.path.join('plugin_utils', 'exchange', 'test_runner_fixtures.py'),
}


def _module_of(relative):
    """The plugins/ file a test belongs to: test_Y.py tests Y.py; test_Y_<aspect>.py tests Y.py too where no Y_<aspect>.py
    exists (pytest's default import mode needs unique basenames across tests/, and tests/e2e is named after the modules:
    the action plugin's unit test of mailbox_protocols is test_mailbox_protocols_action.py)."""
    folder, name = os.path.split(relative)
    stem = name[len('test_'):-len('.py')]
    parts = stem.split('_')
    for end in range(len(parts), 0, -1):
        module = os.path.join(PLUGINS, folder, '_'.join(parts[:end]) + '.py')
        if os.path.isfile(module):
            return module
    return None


def test_every_unit_test_sits_where_its_module_is():
    misplaced = []
    for folder, _dirs, files in os.walk(os.path.join(HERE, 'plugins')):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), os.path.join(HERE, 'plugins'))
            if not (name.startswith('test_') and name.endswith('.py')) or relative in NOT_A_MODULE:
                continue
            if _module_of(relative) is None:
                misplaced.append('tests/unit/plugins/%s (no plugins/%s)' % (relative, os.path.join(os.path.dirname(relative), name[len('test_'):])))
    assert misplaced == [], misplaced
