"""The runner's own tests, in Pester (tests/powershell), run from pytest.

One pwsh runs the whole suite (about 30-40 s on 2 cores; Host.Tests.ps1 starts its child PowerShells
together) and writes JUnit XML into a temporary folder; a failure lists every failed test with its message.
Without pwsh the test skips with the install hint, except under CI=true where that is a failure.
M365_RUNNER_PATH points the suite at another copy of plugins/plugin_utils/exchange/runner.ps1.
"""

import os
import subprocess
import xml.etree.ElementTree as ET

from m365_sandbox.testing import need_pwsh

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SUITE = os.path.join(REPO, 'tests', 'powershell')

PESTER = r"""
$ErrorActionPreference = 'Stop'
Import-Module Pester -MinimumVersion 5.5.0
$c = New-PesterConfiguration
$c.Run.Path = @('%(suite)s')
$c.Run.Exit = $false
$c.Run.PassThru = $true
$c.TestResult.Enabled = $true
$c.TestResult.OutputFormat = 'JUnitXml'
$c.TestResult.OutputPath = '%(xml)s'
$c.Output.Verbosity = 'None'
$r = Invoke-Pester -Configuration $c
'PESTER {0} passed, {1} failed, {2} skipped, {3} not run, {4} containers failed' -f $r.PassedCount, $r.FailedCount,
    $r.SkippedCount, $r.NotRunCount, $r.FailedContainersCount
"""


def _failures(xml_path):
    tree = ET.parse(xml_path)
    failed = []
    for case in tree.iter('testcase'):
        for problem in list(case.findall('failure')) + list(case.findall('error')):
            text = (problem.get('message') or problem.text or '').strip().splitlines()
            failed.append('%s: %s' % (case.get('name'), ' | '.join(text[:3])[:400]))
    return failed


def test_pester_suite(tmp_path):
    pwsh = need_pwsh()
    xml_path = str(tmp_path / 'pester.xml')
    script = PESTER % {'suite': SUITE.replace("'", "''"), 'xml': xml_path.replace("'", "''")}
    proc = subprocess.run([pwsh, '-NoProfile', '-NonInteractive', '-Command', script], cwd=REPO, capture_output=True,
                          text=True, encoding='utf-8', errors='replace', timeout=600, stdin=subprocess.DEVNULL, check=False)
    summary = [line for line in proc.stdout.splitlines() if line.startswith('PESTER ')]
    assert proc.returncode == 0 and summary and os.path.exists(xml_path), (
        'Pester did not run (rc=%s)\nstdout: %s\nstderr: %s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    failed = _failures(xml_path)
    assert ' 0 failed' in summary[0] and ' 0 containers failed' in summary[0] and not failed, (
        '%s\n%s' % (summary[0], '\n'.join(failed)))
    assert ' 0 passed' not in summary[0]
