"""Secret hygiene of the playbooks at -vvvvv: nothing secret in output, diffs, result files or command lines; dest 0600, atomic.

Every run of this suite is scanned the same way (harness.Suite.scan_run); this test adds rotation, the audit's
--check --diff and the handover file's own properties, and proves the scanner finds what it looks for.
"""

import json
import os
import stat

from m365_reliability import ledger, scanner
from m365_reliability.harness import AUDIT, ROTATE, Case
from m365_reliability.procwatch import command_lines


def test_scanner_finds_each_kind_of_secret():
    secret = 'Abc8Q~' + 'x' * 34
    jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2ln'
    key = '-----BEGIN PRIVATE KEY-----'
    for text in (secret, jwt, key, 'pass=known-value-123'):
        assert scanner.scan_text('before %s after' % text, known={'known-value-123'}), text
    # The emulated host's command line is PowerShell -EncodedCommand: decoded before scanning.
    encoded = __import__('base64').b64encode(('$s = "%s"' % secret).encode('utf-16-le')).decode()
    assert scanner.scan_text('powershell.exe -EncodedCommand %s' % encoded)
    assert not scanner.scan_text('hint Abc, keyId 6f1c2a4e-0000-4000-8000-000000000001')
    assert any(str(os.getpid()) == pid for pid in command_lines())


def test_provision_rotate_audit_keep_secrets_where_they_belong(rel, tmp_path):
    case = Case(rel, tmp_path, 'hygiene')
    first = case.run('create', diff=True)
    assert first.rc == 0, first
    mode = stat.S_IMODE(os.stat(case.handover).st_mode)
    inode = os.stat(case.handover).st_ino
    old = case.handover_secret()
    rotate = case.run('rotate', playbook=ROTATE, diff=True, extra_vars={'mailbox_access_secret_grace_days': 0})
    assert rotate.rc == 0 and rotate.changed, rotate
    new = case.handover_secret()
    audit = case.run('audit', playbook=AUDIT, check=True, diff=True, env={'M365_AUDIT_REPORT_DIR': str(tmp_path / 'reports')})
    assert audit.rc == 0, audit
    assert new != old and len(new) == 40
    assert mode == 0o600 and stat.S_IMODE(os.stat(case.handover).st_mode) == 0o600
    # Replaced by rename (a new inode), never rewritten in place; no temporary copy or marker left next to it.
    assert os.stat(case.handover).st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.') or p.name.endswith('.pending')) == []
    assert json.loads(case.handover.read_text())['client_id']
    reports = [p.read_text() for p in (tmp_path / 'reports').iterdir()]
    leaks = [leak for run in case.runs for leak in run.leaks]
    leaks += [leak for text in reports for leak in scanner.scan_text(text, rel.known, 'audit report')]
    ledger.record('hygiene', 'provision, rotate, audit at -vvvvv', leaked_secret_bytes=scanner.leaked_bytes(leaks),
                  leaks=[list(leak) for leak in leaks][:20], command_line_samples=sum(r.samples for r in case.runs))
    assert not leaks, leaks
    assert all(r.samples > 10 for r in case.runs), [r.samples for r in case.runs]
    assert old in rel.known and new in rel.known
