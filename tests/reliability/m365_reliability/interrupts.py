"""Interrupted runs: provision.yml killed (its whole process group, SIGKILL or SIGTERM) at a chosen point, then run again.

A point is a condition on what the sandbox has seen so far (the N-th Graph request, the N-th Exchange round trip or
cmdlet), a fraction of the measured length of an uninterrupted run, or a failpoint: right after Graph answered
addPassword, or with the handover file's (or the lease marker's) temporary file written and not renamed. After the kill: a rerun converges, a
second rerun is changed=0, and the tenant has one app and one secret, the one in the handover file.
"""

import os
import random
import signal
import time

from m365_reliability import ledger
from m365_reliability.harness import Case, exchange_counters, failed_checks, kill_when, reset_counters

FAILPOINT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'failpoint')


def failpoint_env(**variables):
    """The environment that loads failpoint/sitecustomize.py in every Python of a run, with its M365_* settings."""
    return dict(variables, PYTHONPATH=os.pathsep.join(filter(None, [FAILPOINT_DIR, os.environ.get('PYTHONPATH')])))


class Point:
    def __init__(self, name, counter=None, at=None, fraction=None, failpoint=None, signum=signal.SIGKILL, fast=False):
        self.name = name
        self.counter = counter
        self.at = at
        self.fraction = fraction
        self.failpoint = failpoint
        self.signum = signum
        self.fast = fast

    def __repr__(self):
        return self.name


def _graph_requests(sandbox):
    return sandbox.stats()['graph_total']


def _exchange_round_trips(sandbox):
    return exchange_counters(sandbox)['exchange']['round_trips']


def _cmdlet(name):
    def count(sandbox):
        return exchange_counters(sandbox)['exchange']['cmdlets'].get(name, 0)
    return count


def _points():
    points = []
    # Every Graph request of a first provision run (about 19), alternating the signal a CI cancel or an OOM kill would send.
    for number in range(1, 17):
        signum = signal.SIGTERM if number % 3 == 0 else signal.SIGKILL
        points.append(Point('after Graph request %d (%s)' % (number, signal.Signals(signum).name), _graph_requests, number, signum=signum,
                            fast=number == 7))
    for number in (1, 2, 3):
        points.append(Point('during Exchange round trip %d' % number, _exchange_round_trips, number))
    points.append(Point('after the first Add-MailboxPermission', _cmdlet('Add-MailboxPermission'), 1))
    points.append(Point('after New-ServicePrincipal in Exchange (SIGTERM)', _cmdlet('New-ServicePrincipal'), 1, signum=signal.SIGTERM))
    # Seeded fractions of an uninterrupted run's length, measured on this machine: a fixed delay fired after an idle
    # machine had already finished the run (and the case reported "converged" for a run it never interrupted).
    shuffle = random.Random(20240609)
    for fraction in sorted(round(shuffle.uniform(0.15, 0.85), 2) for _draw in range(2)):
        points.append(Point('at random, %d%% into a run' % round(fraction * 100), fraction=fraction))
    points.append(Point('after Graph answered addPassword, before the handover file is written', failpoint='/addPassword', fast=True))
    # Killed with a temporary file written and not yet renamed: the next run removes it (and the orphan secret in it).
    points.append(Point('while the handover file is written, before its rename', failpoint='rename:/{handover}', fast=True))
    points.append(Point('while the lease marker is written, before its rename', failpoint='rename:/{handover}.pending'))
    return points


POINTS = _points()


_UNINTERRUPTED = {}


def uninterrupted_seconds(suite, tmp_path):
    """How long a first provision takes here, from start to exit: measured once per suite, on a case of its own."""
    if 'seconds' not in _UNINTERRUPTED:
        folder = tmp_path.parent / ('%s-uninterrupted' % tmp_path.name)
        folder.mkdir()
        run = Case(suite, folder, 'uninterrupted length').run('uninterrupted')
        assert run.rc == 0, run
        _UNINTERRUPTED['seconds'] = run.seconds
    return _UNINTERRUPTED['seconds']


def _killer(suite, tmp_path, point, flag):
    sandbox = suite.sandbox
    if point.failpoint:
        return kill_when(lambda: os.path.exists(flag), point.signum)
    if point.fraction is not None:
        delay = point.fraction * uninterrupted_seconds(suite, tmp_path)
        started = time.monotonic()
        return kill_when(lambda: time.monotonic() - started >= delay, point.signum)
    return kill_when(lambda: point.counter(sandbox) >= point.at, point.signum)


def _temporaries(folder, case):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith('.' + case.handover.name + '.'))


def run_point(suite, tmp_path, point):
    sandbox = suite.sandbox
    case = Case(suite, tmp_path, 'kill ' + point.name)
    reset_counters(sandbox)
    flag = str(tmp_path / 'failpoint-reached')
    failpoint = point.failpoint and point.failpoint.format(handover=case.handover.name)
    env = failpoint_env(M365_FAILPOINT='%s:%s' % (failpoint, flag)) if failpoint else None
    kill = _killer(suite, tmp_path, point, flag)
    reset_counters(sandbox)
    killed = case.run('killed', kill=kill, env=env)
    problems = []
    if not killed.signalled:
        problems.append('the run ended before the point was reached: %r' % killed)
    if killed.leftover_processes:
        problems.append('processes of the killed run still running: %s' % killed.leftover_processes)
    # A SIGKILL between a temporary file's creation and its rename leaves it (nothing can prevent that); the next
    # run must remove it, so what counts is what is left after the converging run.
    left_by_kill = _temporaries(tmp_path, case)
    converge = case.run('converge')
    leftovers = _temporaries(tmp_path, case)
    if converge.rc != 0:
        problems.append('the rerun after the kill failed: %r' % converge)
    orphans = [r.get('orphans_removed') or [] for r in converge.results().get('Ensure the client secret (written to the handover file '
                                                                              'the moment it is created)', {}).values()]
    final = case.run('rerun', diff=True)
    if final.rc != 0 or final.changed:
        problems.append('the last rerun is not ok with changed=0: %r' % final)
    result = case.check()
    problems.extend('not converged: %s' % name for name in failed_checks(result))
    if leftovers:
        problems.append('temporary files left next to the handover file after the next run: %s (the killed run left %s)'
                        % (leftovers, left_by_kill))
    leaks = [leak for run in case.runs for leak in run.leaks]
    return ledger.record(
        'interrupt', point.name, fast=point.fast, signal=signal.Signals(point.signum).name, interrupted=bool(killed.signalled),
        killed_after_seconds=round(killed.seconds, 1), converged=result['converged'] and final.rc == 0 and not final.changed,
        duplicates=result['duplicates'], lost_secrets=result['lost_secrets'], orphans_removed=sum(len(o) for o in orphans),
        leaked_secret_bytes=sum(s for _w, _k, s in leaks), leaks=[list(leak) for leak in leaks][:20], problems=problems,
        leftover_processes=len(killed.leftover_processes), temporaries_left_by_kill=left_by_kill, runs=len(case.runs),
        seconds=round(sum(r.seconds for r in case.runs), 1))
