"""Overlapping runs: two playbooks for the same application started together, the race forced by a barrier.

The barrier (tests/reliability/failpoint/sitecustomize.py, M365_BARRIER) holds each run's first matching Graph request
until both runs have reached it (or 15 s passed, when the code under test keeps the second run out, as a lease does),
so the interleaving is the same on every run. Afterwards: a handover file holds a secret that is on the application and
gets a real token; every run ended ok or failed with a clear message (no traceback, no raw OS error).
"""

import json
import os
import re
import threading

from m365_reliability import ledger, scanner
from m365_reliability.harness import PROVISION, ROTATE, SECRET_NAME, Case, sha256
from m365_reliability.interrupts import failpoint_env
from test_role_playbooks import token_works

BARRIER_TIMEOUT = 15
UNCLEAR = re.compile(r'Traceback|\[Errno \d+\]|MODULE FAILURE')


class Race:
    """setup: a first provision before the race; runs: (playbook, handover label, overrides) of the two runs."""

    def __init__(self, name, barrier, runs, setup=True, all_ok=False, fast=False):
        self.name = name
        self.barrier = barrier
        self.runs = runs
        self.setup = setup
        self.all_ok = all_ok
        self.fast = fast

    def __repr__(self):
        return self.name


ADD = 'POST /addPassword$'
LEASE = r'PATCH /applications/[0-9a-f-]+$'
ROTATE_DUE = dict(mailbox_access_secret_lifetime_days=400, mailbox_access_secret_rotate_before_days=200)
RACES = [
    Race('rotate twice, grace 7 days, own handover files, both at addPassword', ADD,
         [(ROTATE, 'a', {}), (ROTATE, 'b', {})], fast=True, all_ok=True),
    Race('rotate twice, grace 0, one handover file, both at addPassword', ADD,
         [(ROTATE, 'shared', dict(mailbox_access_secret_grace_days=0)),
          (ROTATE, 'shared', dict(mailbox_access_secret_grace_days=0))], fast=True, all_ok=True),
    Race('rotate twice, grace 0, own handover files, both at addPassword', ADD,
         [(ROTATE, 'a', dict(mailbox_access_secret_grace_days=0)), (ROTATE, 'b', dict(mailbox_access_secret_grace_days=0))],
         all_ok=True),
    Race('rotate twice, both write the lease at once', LEASE,
         [(ROTATE, 'shared', dict(mailbox_access_secret_grace_days=0)),
          (ROTATE, 'shared', dict(mailbox_access_secret_grace_days=0))], all_ok=True),
    Race('first provision twice, both create the service principal', 'POST /servicePrincipals$',
         [(PROVISION, 'shared', {}), (PROVISION, 'shared', {})], setup=False, all_ok=True),
    Race('provision rotating a due secret and rotate, one handover file, both at addPassword', ADD,
         [(PROVISION, 'shared', dict(ROTATE_DUE, mailbox_access_secret_grace_days=0)),
          (ROTATE, 'shared', dict(mailbox_access_secret_grace_days=0))], all_ok=True),
    Race('first provision twice, own handover files (the second one is told how to get a file)', 'POST /addPassword$',
         [(PROVISION, 'a', {}), (PROVISION, 'b', {})], setup=False),
]


def _handover(case, label):
    return case.handover if label == 'shared' else case.tmp_path / ('%s-%s.json' % (case.unique_name, label))


def _secret(path):
    try:
        return json.loads(path.read_text()).get('client_secret')
    except (OSError, ValueError):
        return None


def run_race(suite, tmp_path, race):
    case = Case(suite, tmp_path, 'race ' + race.name)
    problems = []
    if race.setup:
        setup = case.run('setup')
        if setup.rc != 0:
            problems.append('the first provision failed: %r' % setup)
    barrier_dir = tmp_path / 'barrier'
    barrier_dir.mkdir()
    env = failpoint_env(M365_BARRIER='%s|%s|2|%d' % (race.barrier, barrier_dir, BARRIER_TIMEOUT))
    results = [None, None]
    files = []

    def start(index, playbook, label, overrides):
        inventory = case.write_inventory('run%d' % index, mailbox_access_handover_dest=str(_handover(case, label)), **overrides)
        # Its own ansible temp dir: the other run's module payload (with the admin secret) in a shared one would be
        # scanned as a leftover while that run is still going.
        run_env = dict(env, ANSIBLE_LOCAL_TEMP=str(tmp_path / ('ansible-tmp-race%d' % index)))
        results[index] = case.run('race%d' % index, playbook=playbook, inventory=inventory, env=run_env, verbosity=1)

    threads = []
    for index, (playbook, label, overrides) in enumerate(race.runs):
        files.append(_handover(case, label))
        threads.append(threading.Thread(target=start, args=(index, playbook, label, overrides)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    leftovers = [leak for index in range(2) for leak in scanner.scan_files(str(tmp_path / ('ansible-tmp-race%d' % index)), suite.known)]
    arrived = len([n for n in os.listdir(barrier_dir) if n.startswith('arrived-')])
    for run in results:
        if run.rc != 0 and (race.all_ok or UNCLEAR.search(run.output) or 'fatal' not in run.output):
            problems.append('a run failed%s: %r' % ('' if race.all_ok else ' without a clear message', run))
    state = case.sandbox.state(case.tenant_id)
    apps = case.application(state)
    held = dict((str(path), _secret(path)) for path in set(files))
    working = []
    on_app = []
    if len(apps) != 1:
        problems.append('%d applications' % len(apps))
    else:
        credentials = [c for c in apps[0]['passwordCredentials'] if c.get('displayName') == SECRET_NAME]
        on_app = [c.get('secretSha256') for c in credentials]
        for path, secret in held.items():
            if secret and sha256(secret) in on_app and token_works(case.sandbox, 0, apps[0]['appId'], secret):
                working.append(path)
        for run, path in zip(results, files):
            # A run that says ok must leave its own file with a live secret unless a later run legitimately superseded it.
            if run.rc == 0 and not held.get(str(path)):
                problems.append('%s reported ok but wrote no handover file %s' % (run.name, path))
    if not working:
        problems.append('no handover file holds a secret that is on the application and gets a token: %s' % sorted(held))
    return ledger.record(
        'race', race.name, fast=race.fast, barrier=race.barrier, arrived=arrived, rcs=[r.rc for r in results],
        working_handover_files=len(working), secrets_on_app=len(on_app), ok=not problems, problems=problems,
        leaked_secret_bytes=sum(s for run in case.runs for _w, _k, s in run.leaks) + sum(s for _w, _k, s in leftovers),
        leaks=[list(leak) for run in case.runs for leak in run.leaks + leftovers][:20],
        seconds=round(sum(r.seconds for r in case.runs), 1))
