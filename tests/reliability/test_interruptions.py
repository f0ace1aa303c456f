"""provision.yml killed at 20+ points and run again: converges, one app, no lost secret (the orphan is reported and removed)."""

import pytest

from m365_reliability.interrupts import POINTS, run_point


def _param(point):
    return pytest.param(point, id=point.name, marks=() if point.fast else (pytest.mark.soak,))


def test_enough_points():
    assert len(POINTS) >= 20


@pytest.mark.parametrize('point', [_param(p) for p in POINTS])
def test_interrupted_run_converges(rel, tmp_path, point):
    entry = run_point(rel, tmp_path, point)
    assert not entry['problems'], '\n'.join(entry['problems'])
    assert entry['converged'] and entry['duplicates'] == 0 and entry['lost_secrets'] == 0, entry
    assert entry['leaked_secret_bytes'] == 0, entry['leaks']
    if (point.failpoint or '').startswith('rename:'):
        # The point did what it says: the kill left a temporary file, which the next run removed.
        assert entry['temporaries_left_by_kill'], entry
