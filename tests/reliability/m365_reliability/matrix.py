"""The fault matrix: each fault through a real provision.yml run (Graph on the sandbox, Exchange on the emulated host).

A case injects its fault, runs the playbook, turns the fault off, runs again to converge when the faulted run had
to fail, then once more (with --diff) to prove the rerun is changed=0; then it checks the tenant (harness.Case.check).
"""

import time

from m365_reliability import ledger
from m365_reliability.accesslog import AccessLog, faulted_types
from m365_reliability.harness import DEPROVISION, PROVISION, Case, clear_faults, exchange_counters, exchange_faults, failed_checks, reset_counters
from m365_reliability.winrm_proxy import WinrmProxy, closed_port

ALL = ['GET', 'POST', 'PATCH', 'DELETE']


class Fault:
    """One row of the matrix. graph: sandbox faults; exchange: Exchange host faults; winrm: 'refused' or 'drop-read'.

    must_fail: the faulted run cannot succeed (the fault is not transient within the run) and must say so with these words.
    """

    def __init__(self, name, graph=None, exchange=None, winrm=None, token_down=0, deprovision=False, must_fail=None, fast=False, prime=None,
                 setup=False, overrides=None):
        self.name = name
        # setup: provision once before the fault (what a fault on a rerun needs); overrides: role variables of the case.
        self.setup = setup or deprovision
        self.overrides = overrides or {}
        self.graph = graph or {}
        self.exchange = exchange or {}
        self.winrm = winrm
        self.token_down = token_down
        self.deprovision = deprovision
        self.must_fail = must_fail
        self.fast = fast
        # Requests sent before the run so that its own (few) calls of a kind land on a faulted position.
        self.prime = prime

    def __repr__(self):
        return self.name


def throttle(every, status=429, methods=None, targets=('graph',), retry_after=1):
    return {'throttle': {'every': every, 'status': status, 'retry_after': retry_after, 'methods': methods or ALL, 'targets': list(targets)}}


MATRIX = [
    Fault('throttle 429 storm, every 2nd call, Graph and token', throttle(2, targets=('graph', 'token')), fast=True),
    Fault('throttle 503 storm, every 3rd call', throttle(3, status=503)),
    Fault('throttle 429 on GET', throttle(2, methods=['GET'])),
    Fault('throttle 429 on POST', throttle(2, methods=['POST'])),
    Fault('throttle 429 on PATCH', throttle(2, methods=['PATCH'])),
    Fault('throttle 429 on DELETE (deprovision)', throttle(2, methods=['DELETE']), deprovision=True,
          prime=('DELETE', 'applications/00000000-0000-4000-8000-000000000000')),
    Fault('5xx burst: 503 x3 every 4th call', {'server_errors': {'every': 4, 'status': 503, 'burst': 3}}),
    Fault('5xx burst: 500 x2 every 5th call', {'server_errors': {'every': 5, 'status': 500, 'burst': 2}}),
    Fault('5xx burst: 502 x2 every 4th call, Graph and token', {'server_errors': {'every': 4, 'status': 502, 'burst': 2, 'targets': ['graph', 'token']}}),
    Fault('5xx burst: 504 x2 every 5th call', {'server_errors': {'every': 5, 'status': 504, 'burst': 2}}),
    Fault('replication delay 60 s after each create', {'replication_delay': 60}),
    Fault('token endpoint down for 8 s, then back', token_down=8),
    Fault('slow tenant: Graph 0.3 s, Exchange writes 0.5 s', {'latency': {'graph': 0.3, 'token': 0.3}}, exchange={'latency': {'write': 0.5}}),
    Fault('Exchange throttling every 2nd cmdlet', exchange={'throttle_every': 2, 'throttle_retry_after': 1}),
    Fault('WinRM connection dropped mid-write', exchange={'drop_after_writes': 1, 'drop_mode': 'winrm'}, must_fail=['run again'], fast=True),
    Fault('Exchange connection lost mid-write', exchange={'drop_after_writes': 2, 'drop_mode': 'exchange'},
          must_fail=['stopped at add_mailbox_permission', 'write(s) done']),
    Fault('WinRM connection dropped mid-read', winrm='drop-read', must_fail=['exchange-host']),
    Fault('WinRM connection refused', winrm='refused', must_fail=['UNREACHABLE', 'exchange-host']),
    Fault('Exchange connect failure', exchange={'connect_error': 'UnAuthorized: AADSTS700016 the sandbox refuses Connect-ExchangeOnline'},
          must_fail=['Connect-ExchangeOnline']),
    Fault('storm: 429 + 5xx + 30 s replication + Exchange throttling',
          dict(throttle(5), server_errors={'every': 7, 'status': 503, 'burst': 2}, replication_delay=30),
          exchange={'throttle_every': 3, 'throttle_retry_after': 1}),
    # Issue 21: the first listed mailbox's read answers a transient 500 under exclusive; it must not lose FullAccess
    # (counted as lost_access) and the run must say which mailbox could not be read.
    Fault('a failed read under exclusive (500 on a listed mailbox)',
          exchange={'call_errors': [{'cmdlet': 'Get-Mailbox', 'status': 500, 'times': 1, 'message': 'Transient failure in the backend.'}]},
          setup=True, overrides={'mailbox_access_exclusive_mailboxes': True},
          must_fail=['could not be read', 'exclusive removed nothing', 'Transient failure in the backend']),
]


def _revive_token_endpoint(sandbox, after):
    def revive():
        time.sleep(after)
        sandbox.set_faults({'token_endpoint_down': False})
    return revive


def _check_gone(case):
    state = case.sandbox.state(case.tenant_id)
    apps = case.application(state)
    exchange = case.sandbox.control('GET', 'tenants/%s/exchange' % case.tenant_id)
    leftovers = [sp for sp in exchange['service_principals'] if sp['DisplayName'] == case.display_name]
    checks = {'no app': not apps, 'no Exchange service principal': not leftovers}
    return {'apps': len(apps), 'duplicates': max(len(apps) - 1, 0), 'lost_secrets': 0, 'checks': checks, 'converged': all(checks.values())}


def run_fault(suite, tmp_path, fault):
    """Run one row; returns the ledger entry (the caller asserts on it)."""
    sandbox = suite.sandbox
    case = Case(suite, tmp_path, fault.name, **fault.overrides)
    playbook, extra = (DEPROVISION, {'mailbox_access_deprovision_confirm': True}) if fault.deprovision else (PROVISION, None)
    problems = []
    if fault.setup:
        setup = case.run('setup')
        if setup.rc != 0:
            problems.append('setup failed: %r' % setup)
    clear_faults(sandbox)
    reset_counters(sandbox)
    log = AccessLog(sandbox)
    inventory = case.inventory
    proxy = None
    if fault.winrm == 'refused':
        inventory = case.write_inventory('refused', winrm={'port': closed_port()})
    elif fault.winrm == 'drop-read':
        winrm = sandbox.info['winrm']
        proxy = WinrmProxy(winrm['host'], winrm['port'], drop_responses_over=2000).__enter__()
        inventory = case.write_inventory('proxy', winrm={'port': proxy.port})
    if fault.graph:
        sandbox.set_faults(fault.graph)
    if fault.exchange:
        exchange_faults(sandbox, **fault.exchange)
    if fault.token_down:
        sandbox.set_faults({'token_endpoint_down': True})
    if fault.prime:
        method, path = fault.prime
        sandbox.session().request(method, '%s/v1.0/%s' % (sandbox.graph_url, path), timeout=30,
                                  headers={'Authorization': 'Bearer ' + sandbox.mint_token()})
    try:
        first = case.run('fault', playbook, inventory=inventory, extra_vars=extra,
                         during=_revive_token_endpoint(sandbox, fault.token_down) if fault.token_down else None)
    finally:
        if proxy:
            proxy.__exit__()
    stats, exchange = sandbox.stats(), exchange_counters(sandbox)
    counts = log.counts()
    clear_faults(sandbox)
    # Right after the faulted run, before any rerun repairs it: listed mailboxes that lost (or never got) FullAccess
    # although the setup had given it (only meaningful when a setup ran and the run is no deprovision).
    lost_access = case.lost_access() if fault.setup and not fault.deprovision else 0
    if fault.must_fail:
        missing = [w for w in fault.must_fail if w not in first.output]
        if first.rc == 0 or missing:
            problems.append('the faulted run should fail saying %s: rc=%s, missing %s' % (fault.must_fail, first.rc, missing))
    elif first.rc != 0:
        problems.append('the faulted run failed: %r' % first)
    if first.rc != 0:
        converge = case.run('converge', playbook, extra_vars=extra)
        if converge.rc != 0:
            problems.append('the rerun after the fault failed: %r' % converge)
    final = case.run('rerun', playbook, extra_vars=extra, diff=True)
    if final.rc != 0 or final.changed:
        problems.append('the last rerun is not ok with changed=0: %r' % final)
    result = _check_gone(case) if fault.deprovision else case.check()
    problems.extend('not converged: %s' % name for name in failed_checks(result))
    leaks = [leak for run in case.runs for leak in run.leaks]
    return ledger.record(
        'fault', fault.name, fast=fault.fast, converged=result['converged'] and final.rc == 0 and not final.changed,
        duplicates=result['duplicates'], lost_secrets=result['lost_secrets'], lost_access=lost_access, leaked_secret_bytes=sum(s for _w, _k, s in leaks),
        leaks=[list(leak) for leak in leaks][:20], problems=problems, faulted_seconds=round(first.seconds, 1), faulted_rc=first.rc,
        runs=len(case.runs), seconds=round(sum(r.seconds for r in case.runs), 1),
        injected={'throttled': stats.get('throttled', 0), 'server_errors': stats.get('injected_errors', 0) - stats.get('throttled', 0),
                  'token_unavailable': stats.get('token', {}).get('unavailable', 0), 'exchange_throttled': exchange['exchange']['throttled'],
                  'exchange_dropped': exchange['exchange']['dropped'], 'exchange_server_errors': exchange['exchange'].get('call_errors', 0),
                  'exchange_connect_failures': exchange['exchange']['connect_failures'],
                  'winrm_dropped': proxy.dropped if proxy else 0,
                  'not_yet_replicated': sum(seen.get('404', 0) for seen in counts.values()) if fault.graph.get('replication_delay') else 0,
                  'graph_latency_seconds': round(sum(stats.get('latency_seconds', {}).values()), 1)},
        faulted_call_types=faulted_types(counts), call_types=sorted(counts))
