"""One benchmark case: a real ansible-playbook run against the sandbox, and what it cost.

Wall time is the run's; the floor is the latency the sandbox injected (it
sums what it slept); counters come from the sandbox's control API; memory is
sampled from /proc while the run lasts.
"""

import os
import re
import threading

from playbook import run_playbook

MB = 1024.0 * 1024.0
PROGRESS = re.compile(r'mailboxes [0-9,]+/[0-9,]+ done \(')
SAMPLE_SECONDS = 0.1


def _children():
    """{ppid: [pid, ...]} of every process visible in /proc."""
    tree = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, encoding='ascii', errors='replace') as handle:
                # The command name may hold spaces and parentheses: ppid is the second field after its closing one.
                ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(name))
    return tree


def _pss(pid):
    """Proportional set size in bytes: pages shared by forked workers are counted once across the tree, not per process."""
    try:
        with open('/proc/%d/smaps_rollup' % pid, encoding='ascii') as handle:
            for line in handle:
                if line.startswith('Pss:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class TreeMemory:
    """Peak summed PSS of this process's descendants, except the ones under `exclude` (the sandbox)."""

    def __init__(self, exclude=()):
        self.exclude = set(exclude)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name='bench-memory')

    def _loop(self):
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.sample())

    def sample(self):
        tree = _children()
        total, todo = 0, list(tree.get(os.getpid(), []))
        while todo:
            pid = todo.pop()
            if pid in self.exclude:
                continue
            total += _pss(pid)
            todo.extend(tree.get(pid, []))
        return total

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def exchange_task_runs(run):
    """How many Exchange action executions the run had (a loop item counts once): each reports its round trips."""
    return _exchange_items(run)[0]


def exchange_sessions(run):
    """Exchange sessions (Connect-ExchangeOnline calls) the Exchange tasks say they used, summed."""
    return _exchange_items(run)[1]


def _exchange_items(run):
    count = sessions = 0
    for hosts in run.results().values():
        for result in hosts.values():
            items = result.get('results') if isinstance(result.get('results'), list) else [result]
            for item in items:
                if isinstance(item, dict) and 'round_trips' in item:
                    count += 1
                    sessions += int(item.get('exchange_sessions', 1) or 0)
    return count, sessions


def counters(sandbox):
    graph = sandbox.stats()
    exchange = sandbox.control('GET', 'exchange/stats')
    return graph, exchange


def reset_counters(sandbox):
    sandbox.reset_stats()
    sandbox.control('POST', 'exchange/stats/reset')


def run_case(sandbox, work, name, playbook, inventory, extra_vars, forks=1, timeout=7200, verbosity=0):
    """Run one playbook and return its record (everything but the case's own labels)."""
    reset_counters(sandbox)
    with TreeMemory(exclude=[sandbox.process.pid]) as memory:
        run = run_playbook(work, playbook, name, extra_vars=extra_vars, inventory=inventory, extra_args=['--forks', str(forks)], timeout=timeout,
                           verbosity=verbosity)
    graph, exchange = counters(sandbox)
    if run.rc != 0:
        raise RuntimeError('%s failed (rc=%s); see tests/output/logs:\n%s' % (name, run.rc, run.stdout[-4000:]))
    graph_floor = dict(graph.get('latency_seconds') or {})
    exchange_floor = dict(exchange['exchange'].get('latency_seconds') or {})
    floor = sum(graph_floor.values()) + sum(exchange_floor.values())
    return {
        'wall_s': round(run.seconds, 2),
        'floor_s': round(floor, 2),
        'floor_by_kind_s': dict((k, round(v, 2)) for k, v in sorted(dict(graph_floor, **exchange_floor).items())),
        'overhead': round(run.seconds / floor, 3) if floor else None,
        'changed': run.changed,
        'exchange_tasks': exchange_task_runs(run),
        'exchange_sessions': exchange_sessions(run),
        'concurrency_throttled': exchange['exchange'].get('concurrency_throttled', 0),
        'exchange_connections': exchange['exchange']['connections'],
        'winrm_round_trips': exchange['winrm'].get('round_trips', 0),
        'cmdlets': sum(exchange['exchange']['cmdlets'].values()),
        'cmdlets_by_name': exchange['exchange']['cmdlets'],
        'graph_calls': graph['graph_total'],
        'graph_calls_by_route': graph['graph'],
        'graph_batched_requests': graph.get('graph_batched', 0),
        'token_requests': graph['token_total'],
        'peak_memory_mb': round(memory.peak / MB, 1),
        # The Exchange tasks' progress lines (-v): "mailboxes 300/1,000 done (Add-MailboxPermission)".
        'progress_lines': len([line for line in run.stdout.splitlines() if PROGRESS.search(line)]),
    }


def run_script(sandbox, script, timeout=7200):
    """One PowerShell script on the emulated Windows host over WinRM (pywinrm's run_ps), measured like run_case."""
    import time  # pylint: disable=import-outside-toplevel
    import winrm  # pylint: disable=import-outside-toplevel
    info = sandbox.info['winrm']
    session = winrm.Session('http://%s:%d/wsman' % (info['host'], info['port']), auth=(info['username'], info['password']),
                            transport='ntlm', operation_timeout_sec=timeout - 10, read_timeout_sec=timeout)
    reset_counters(sandbox)
    with TreeMemory(exclude=[sandbox.process.pid]) as memory:
        started = time.monotonic()
        answer = session.run_ps(script)
        seconds = time.monotonic() - started
    graph, exchange = counters(sandbox)
    out = answer.std_out.decode('utf-8', 'replace')
    if answer.status_code != 0 or 'failed=0' not in out:
        raise RuntimeError('the one-shot script failed (rc=%s): %s %s' % (answer.status_code, out[-2000:], answer.std_err.decode('utf-8', 'replace')[-2000:]))
    exchange_floor = dict(exchange['exchange'].get('latency_seconds') or {})
    floor = sum(exchange_floor.values())
    return {
        'wall_s': round(seconds, 2), 'floor_s': round(floor, 2), 'floor_by_kind_s': dict((k, round(v, 2)) for k, v in sorted(exchange_floor.items())),
        'overhead': round(seconds / floor, 3) if floor else None, 'changed': None, 'exchange_tasks': 1, 'exchange_sessions': 1,
        'concurrency_throttled': exchange['exchange'].get('concurrency_throttled', 0),
        'exchange_connections': exchange['exchange']['connections'], 'winrm_round_trips': exchange['winrm'].get('round_trips', 0),
        'cmdlets': sum(exchange['exchange']['cmdlets'].values()), 'cmdlets_by_name': exchange['exchange']['cmdlets'],
        'graph_calls': graph['graph_total'], 'graph_calls_by_route': graph['graph'], 'graph_batched_requests': graph.get('graph_batched', 0),
        'token_requests': graph['token_total'], 'peak_memory_mb': round(memory.peak / MB, 1),
    }
