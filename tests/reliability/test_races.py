"""Two playbooks for the same application at the same time, the interleaving forced: no run that says ok leaves the
app without a working secret in a handover file; a run that loses the race converges or fails with a clear message."""

import pytest

from m365_reliability.races import RACES, run_race


def _param(race):
    return pytest.param(race, id=race.name, marks=() if race.fast else (pytest.mark.soak,))


def test_enough_races():
    assert len(RACES) >= 6


@pytest.mark.parametrize('race', [_param(r) for r in RACES])
def test_overlapping_runs(rel, tmp_path, race):
    entry = run_race(rel, tmp_path, race)
    assert not entry['problems'], '\n'.join(entry['problems'])
    assert entry['leaked_secret_bytes'] == 0, entry


def test_recovery_keeps_the_secret_in_its_grace_period(rel, tmp_path):
    """A rotation (grace 7 days) creates S1; a second rotation for another handover file is killed right after Graph
    answered addPassword; its rerun removes only that run's orphan - never S1, created seconds before."""
    import json
    import os
    import signal

    from m365_reliability.harness import ROTATE, Case, kill_when
    from m365_reliability.interrupts import failpoint_env

    case = Case(rel, tmp_path, 'race recovery keeps the grace secret')
    assert case.run('setup').rc == 0
    first = case.run('rotate-a', playbook=ROTATE)
    assert first.rc == 0, first
    s1 = json.loads(case.handover.read_text())['key_id']
    other = tmp_path / 'controller-b.json'
    inventory = case.write_inventory('b', mailbox_access_handover_dest=str(other))
    flag = str(tmp_path / 'failpoint-reached')
    env = failpoint_env(M365_FAILPOINT='/addPassword:%s' % flag)
    killed = case.run('rotate-b-killed', playbook=ROTATE, inventory=inventory, env=env,
                      kill=kill_when(lambda: os.path.exists(flag), signal.SIGKILL))
    assert killed.signalled and not killed.leftover_processes, killed
    rerun = case.run('rotate-b-rerun', playbook=ROTATE, inventory=inventory, verbosity=1)
    assert rerun.rc == 0, rerun
    app = case.application(case.sandbox.state(case.tenant_id))[0]
    keys = [c['keyId'] for c in app['passwordCredentials'] if c.get('displayName') == 'mail-client']
    assert s1 in keys, 'the secret in its grace period was revoked: %s' % keys
    assert json.loads(other.read_text())['key_id'] in keys
    # setup's secret and S1 stay for their grace period; the orphan is gone: exactly three.
    assert len(keys) == 3, keys
