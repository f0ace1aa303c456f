"""bench/report.py renders every kind of case the bench runs (a full run once crashed at its table on a new kind)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', 'bench'))

import report  # noqa: E402  pylint: disable=wrong-import-position,import-error


def _record(kind, phase, mailboxes, wall, **extra):
    record = {'case': '%s-%s-n%d' % (kind, phase, mailboxes), 'kind': kind, 'phase': phase, 'mailboxes': mailboxes, 'tenants': 1, 'forks': 1,
              'extrapolated': False, 'wall_s': wall, 'floor_s': wall * 2, 'overhead': 0.5, 'exchange_tasks': 2, 'exchange_sessions': 3,
              'exchange_connections': 4, 'graph_calls': 8, 'peak_memory_mb': 120.0, 'progress_lines': 0}
    record.update(extra)
    return record


@pytest.fixture
def records():
    out = [_record('ours', phase, n, 10.0 + n * 0.1) for phase in ('first', 'rerun') for n in (1, 1000)]
    out += [_record('progress', 'first', 1000, 110.5, progress_lines=40), _record('oneshot', 'first', 1000, 300.0),
            _record('oneshot', 'rerun', 1000, 300.0), _record('naive', 'first', 200, 1000.0), _record('ours', 'first', 200, 30.0),
            _record('tenants', 'first', 10, 60.0), _record('scale', 'first', 1000, 40.0), _record('scale', 'first', 10000, 300.0),
            _record('exclusive', 'first', 1000, 200.0)]
    return out


def test_every_kind_renders(records):
    document = {'quick': False, 'latency': {'connect': 4.0}, 'seconds': 60.0, 'finished': 'now', 'records': records,
                'summary': report.summary(records), 'targets': report.targets(records)}
    text = report.render(document)
    for kind in ('ours', 'progress', 'oneshot', 'naive', 'tenants', 'scale', 'exclusive'):
        assert '| %s first' % kind in text
    assert 'vs_script_first_n1000=0.367' in text and 'progress_cost_n1000=0.005' in text and 'scaling_n10000=0.75' in text


def test_progress_target_needs_lines_and_little_cost(records):
    summary = report.summary(records)
    assert summary['progress_cost_n1000'] == 0.005
    checks = dict((c['target'].split(' ')[0], c['ok']) for c in report.targets(records))
    assert checks['progress']
    records[4]['progress_lines'] = 0
    assert not dict((c['target'].split(' ')[0], c['ok']) for c in report.targets(records))['progress']
