"""`make bench`: converge time and cost from 1 to 1,000 mailboxes and 10 tenants, against the naive per-mailbox loop.

Every case is a real ansible-playbook run against the sandbox (Graph, login
service, and the emulated Windows host running Exchange Online over WinRM)
with the latency model of bench/model.py. Writes bench/results.json and
bench/time_vs_mailboxes.png, prints a table, and ends with one summary line.

    python bench/run.py [--quick] [--latency connect=2,read=0.1] [--no-docs]
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path[:0] = [os.path.join(REPO, 'tests', 'sandbox'), os.path.join(REPO, 'tests', 'e2e'), BENCH]

import measure  # noqa: E402  pylint: disable=wrong-import-position
import model  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position
from exchange_play import mail_app  # noqa: E402  pylint: disable=wrong-import-position
from m365_sandbox.client import SandboxHandle  # noqa: E402  pylint: disable=wrong-import-position
from roles import write_inventory  # noqa: E402  pylint: disable=wrong-import-position

PROVISION = os.path.join(REPO, 'playbooks', 'provision.yml')
NAIVE = os.path.join(BENCH, 'naive.yml')

# The naive loop only gives FullAccess, so the role is measured doing the same Exchange work (protocol switches off):
# the ratio compares like with like, and the role still pays for its Entra ID steps on top.
ROLE_SETTINGS = {'mailbox_access_configure_protocols': False}
FULL = {'ours': [1, 10, 100, 200, 1000], 'ours_rerun': [1, 10, 100, 200, 1000], 'naive': [1, 10, 100, 200], 'naive_rerun': [1, 10],
        'tenants': 10, 'tenant_mailboxes': 10, 'forks': [1, 5], 'scale': 1.0}
# QUICK checks the harness end to end within two minutes, which the real model cannot do at N=100 (its floor alone is
# about that): N <= 100, fewer reruns, no tenants, and the model at a quarter of its values. Its figures stay out of the docs.
QUICK = {'ours': [1, 10, 100], 'ours_rerun': [1, 100], 'naive': [1, 10], 'naive_rerun': [], 'tenants': 0, 'tenant_mailboxes': 0, 'forks': [],
         'scale': 0.25}


class Bench:
    def __init__(self, sandbox, latency, work):
        self.sandbox = sandbox
        self.latency = latency
        self.work = pathlib.Path(work)
        (self.work / 'handover').mkdir(mode=0o700)
        self.records = []

    def fresh(self):
        """Seeded tenants, no faults, counters at zero, then the latency model (a reset turns it off)."""
        self.sandbox.reset()
        model.apply(self.sandbox, self.latency)

    def inventory(self, name, tenants, mailboxes):
        """The role's inventory against the sandbox; each tenant's own first `mailboxes` mailboxes, passed as extra vars."""
        lists = dict(('tenant%d' % (i + 1), self.sandbox.tenant(i)['mailboxes'][:mailboxes]) for i in range(tenants))
        path = write_inventory(self.work / ('%s.json' % name), self.sandbox, self.work / 'handover', tenants=tenants, exchange=True,
                               mailbox_access_mailboxes='{{ bench_mailboxes[inventory_hostname] }}', **ROLE_SETTINGS)
        return path, {'bench_mailboxes': lists}

    def case(self, kind, phase, mailboxes, playbook, inventory, extra_vars, tenants=1, forks=1):
        name = '%s-%s-n%d-t%d-f%d' % (kind, phase, mailboxes, tenants, forks)
        print('  %-34s ' % name, end='', flush=True)
        record = {'case': name, 'kind': kind, 'phase': phase, 'mailboxes': mailboxes, 'tenants': tenants, 'forks': forks,
                  'extrapolated': False, 'latency': self.latency}
        record.update(measure.run_case(self.sandbox, self.work, name, playbook, inventory, extra_vars, forks=forks))
        print('%8.1f s  floor %8.1f s  x%.2f' % (record['wall_s'], record['floor_s'], record['overhead'] or 0), flush=True)
        self.records.append(record)
        return record

    def ours(self, mailboxes, rerun, tenants=1, forks=1):
        self.fresh()
        path, extra = self.inventory('ours-%d-%d' % (mailboxes, tenants), tenants, mailboxes)
        kind = 'ours' if tenants == 1 else 'tenants'
        self.case(kind, 'first', mailboxes, PROVISION, path, extra, tenants, forks)
        if rerun:
            self.case(kind, 'rerun', mailboxes, PROVISION, path, extra, tenants, forks)

    def naive(self, mailboxes, rerun):
        """The app and its Exchange service principal exist already (set up outside the measurement): the loop only adds FullAccess."""
        self.fresh()
        app = mail_app(self.sandbox)
        self.sandbox.control('POST', 'tenants/%s/exchange/service_principals' % self.sandbox.tenant(0)['tenant_id'],
                             {'AppId': app['app_id'], 'ObjectId': app['sp_object_id'], 'DisplayName': 'mail-reader'})
        path, extra = self.inventory('naive-%d' % mailboxes, 1, mailboxes)
        extra['naive_app_id'] = app['app_id']
        self.case('naive', 'first', mailboxes, NAIVE, path, extra)
        if rerun:
            self.case('naive', 'rerun', mailboxes, NAIVE, path, extra)


def run(plan, latency, work):
    most = max(plan['ours'] + plan['naive'] + [plan['tenant_mailboxes']])
    tenants = max(1, plan['tenants'])
    print('latency model: %s' % model.describe(latency))
    print('sandbox: %d tenant(s) x %d mailboxes' % (tenants, most), flush=True)
    with SandboxHandle(state_dir=os.path.join(work, 'sandbox'), tenants=tenants, mailboxes=most, winrm_port=0, startup_timeout=120) as sandbox:
        bench = Bench(sandbox, latency, work)
        for count in plan['ours']:
            bench.ours(count, rerun=count in plan['ours_rerun'])
        for count in plan['naive']:
            bench.naive(count, rerun=count in plan['naive_rerun'])
        for forks in plan['forks']:
            bench.ours(plan['tenant_mailboxes'], rerun=False, tenants=plan['tenants'], forks=forks)
        return bench.records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--quick', action='store_true', default=os.environ.get('QUICK', '') not in ('', '0'),
                        help='N <= 100 only, under two minutes (also QUICK=1)')
    parser.add_argument('--latency', help='override the model, e.g. connect=2,read=0.1 (also $%s)' % model.ENV)
    parser.add_argument('--no-docs', action='store_true', help='do not rewrite the figures in docs/performance.md')
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    latency = model.resolve(args.latency, plan['scale'])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='m365-bench-') as work:
        records = run(plan, latency, work)
    records += report.extrapolate(records, FULL['ours'])
    summary = report.summary(records)
    document = {'quick': args.quick, 'latency': latency, 'seconds': round(time.monotonic() - started, 1),
                'finished': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                'memory_method': report.MEMORY_METHOD, 'summary': summary, 'targets': report.targets(records), 'records': records}
    with open(report.RESULTS, 'w', encoding='utf-8') as handle:
        json.dump(document, handle, indent=2)
    chart_path = report.chart(records, report.CHART)
    print()
    print('\n'.join(report.table(records)))
    print()
    print('latency model: %s' % model.describe(latency))
    print('results: %s; chart: %s; total %.0f s' % (os.path.relpath(report.RESULTS, REPO), os.path.relpath(chart_path, REPO) if chart_path else 'none',
                                                    document['seconds']))
    if args.quick:
        print('QUICK: the model at %g of its values and no N above 100, so the N=200 and N=1000 targets are not measured' % plan['scale'])
    for line in report.target_lines(document['targets']):
        print(line)
    if not args.quick and not args.no_docs:
        report.update_docs(document)
    print(report.summary_line(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
