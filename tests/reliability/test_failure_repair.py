"""Issue 21's failure paths in the soak, recorded for the summary line:

- removePassword and the lease's release answer 500 after addPassword (a rotation with grace 0): the secret nobody holds
  is counted after the failed run and after the next provision, which must remove it at once (repair_seconds: how long
  from the failure until no such secret is left); the tenant then passes every check (lost_secrets 0);
- every name the Exchange operation table refuses, given to the role: each a bad input that must be refused with zero
  Graph and Exchange writes before the refusal.
"""

import pytest

from refusals import FailedCleanUp, run_refused_names, with_retry_timeout

from m365_reliability import ledger
from m365_reliability.harness import Case, failed_checks


@pytest.mark.soak
def test_failed_clean_up_after_add_password_is_repaired_by_the_next_run(rel, tmp_path):
    case = Case(rel, tmp_path, 'failed clean-up after addPassword')
    cleanup = FailedCleanUp(rel.sandbox, tmp_path, unique_name=case.unique_name, inventory=with_retry_timeout(case.write_inventory('cleanup')),
                            run=lambda label, playbook, **kwargs: case.run(label, playbook=playbook, **kwargs))
    problems = []
    if cleanup.setup().rc != 0:
        problems.append('the first provision failed')
    failed = cleanup.failed_rotation()
    new = cleanup.held()['key_id']
    named = 'the new secret %s exists and is in %s; the old ones could not be removed' % (new, cleanup.handover) in failed.output
    if failed.rc == 0 or not named:
        problems.append('the faulted rotation did not fail naming the first failure and the new secret: rc=%s' % failed.rc)
    stray_after_failure = len(cleanup.unheld())
    repaired, seconds = cleanup.repair()
    stray_after_repair = len(cleanup.unheld())
    if repaired.rc != 0 or stray_after_repair:
        problems.append('the next provision failed or left %d secret(s) nobody holds: %r' % (stray_after_repair, repaired))
    final = case.run('rerun', diff=True)
    if final.rc != 0 or final.changed:
        problems.append('the last rerun is not ok with changed=0: %r' % final)
    result = case.check()
    problems.extend('not converged: %s' % name for name in failed_checks(result))
    leaks = [leak for run in case.runs for leak in run.leaks]
    entry = ledger.record(
        'repair', 'removePassword and lease release failing after addPassword', first_failure_named=named,
        stray_after_failure=stray_after_failure, stray_after_repair=stray_after_repair,
        repair_seconds=round(seconds, 1), lost_secrets=result['lost_secrets'], converged=result['converged'] and not problems,
        problems=problems, leaked_secret_bytes=sum(s for _w, _k, s in leaks), leaks=[list(leak) for leak in leaks][:20])
    assert not problems, '\n'.join(problems)
    assert stray_after_failure == 1 and stray_after_repair == 0 and entry['lost_secrets'] == 0, entry
    assert entry['leaked_secret_bytes'] == 0, entry['leaks']


@pytest.mark.soak
def test_every_refused_name_is_refused_before_any_write(rel, tmp_path):
    run, cases, writes, problems = run_refused_names(rel.sandbox, tmp_path, 'rel-refused-names')
    for index, (field, value) in enumerate(cases):
        own = [p for p in problems if p.startswith('%s=%r' % (field, value))]
        if run.recap.get('case%d' % index, {}).get('failed') != 1 and not own:
            own.append('not refused')
        if writes:
            own.append('%d writes before the refusals' % writes)
        ledger.record('bad_input', 'role: %s %r (Exchange would refuse it)' % (field, value), clear=not own, problems=own,
                      writes_before_refusal=writes)
    assert not problems and writes == 0, (problems, writes)
