"""`make bench`: converge time and cost from 1 to 1,000 mailboxes and 10 tenants, against the naive per-mailbox loop.

Every case is a real ansible-playbook run against the sandbox (Graph, login
service, and the emulated Windows host running Exchange Online over WinRM)
with the latency model of bench/model.py. Writes bench/results.json and
bench/time_vs_mailboxes.png, prints a table, and ends with one summary line.

Besides the naive loop, the one-shot script (bench/oneshot.ps1: connect once, Add-MailboxPermission for
every mailbox) is the baseline a capable admin would pick; the scale cases (N = 10,000, and exclusive on a
10,000-mailbox tenant) run in a second sandbox with the model at 1/4 of its values, and N = 1,000 again
at that scale so the per-mailbox cost compares like with like.

    python bench/run.py [--quick] [--latency connect=2,read=0.1] [--no-docs] [--only ours:1000,oneshot:1000]
"""

import argparse
import json
import os
import pathlib
import shutil
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
ONESHOT = os.path.join(BENCH, 'oneshot.ps1')

# The naive loop only gives FullAccess, so the role is measured doing the same Exchange work (protocol switches off):
# the ratio compares like with like, and the role still pays for its Entra ID steps on top.
ROLE_SETTINGS = {'mailbox_access_configure_protocols': False}
# big: the scale cases in their own sandbox of one tenant with big['tenant'] mailboxes, the model at big['scale']:
# ours first converge at each N of big['ours'] (the smaller one is the base of scaling_n10000), and exclusive with
# big['exclusive'] mailboxes listed (the role then reads every mailbox of the tenant once more, to find unlisted access).
# progress: ours first converge again at -v, where the Exchange tasks print their progress while they run; its wall
# time over the plain case's is what progress costs (progress_cost_n1000).
FULL = {'ours': [1, 10, 100, 200, 1000], 'ours_rerun': [1, 10, 100, 200, 1000], 'naive': [1, 10, 100, 200], 'naive_rerun': [1, 10],
        'oneshot': [1000], 'oneshot_rerun': [1000], 'progress': [1000],
        'tenants': 10, 'tenant_mailboxes': 10, 'forks': [1, 5], 'scale': 1.0,
        'big': {'tenant': 10000, 'ours': [1000, 10000], 'exclusive': 1000, 'scale': 0.25}}
# QUICK checks the harness end to end within a few minutes, which the real model cannot do at N=100 (its floor alone is
# about that): N <= 100 (the scale cases at 100 and 400), fewer reruns, no tenants, and the model at a quarter of its
# values. Its figures stay out of the docs.
QUICK = {'ours': [1, 10, 100], 'ours_rerun': [1, 100], 'naive': [1, 10], 'naive_rerun': [], 'oneshot': [100], 'oneshot_rerun': [100],
         'progress': [100],
         'tenants': 0, 'tenant_mailboxes': 0, 'forks': [], 'scale': 0.25,
         'big': {'tenant': 400, 'ours': [100, 400], 'exclusive': 100, 'scale': 0.25}}


def selected(only, kind, mailboxes):
    """--only: "kind" or "kind:N" items; nothing given selects every case."""
    if not only:
        return True
    return kind in only or '%s:%d' % (kind, mailboxes) in only


class Bench:
    def __init__(self, sandbox, latency, work, scale=1.0):
        self.sandbox = sandbox
        self.latency = latency
        self.scale = scale
        self.work = pathlib.Path(work)
        (self.work / 'handover').mkdir(mode=0o700, exist_ok=True)
        self.records = []

    def fresh(self):
        """Seeded tenants, no faults, counters at zero, then the latency model (a reset turns it off)."""
        self.sandbox.reset()
        model.apply(self.sandbox, self.latency)

    def inventory(self, name, tenants, mailboxes, **settings):
        """The role's inventory against the sandbox; each tenant's own first `mailboxes` mailboxes, passed as extra vars."""
        lists = dict(('tenant%d' % (i + 1), self.sandbox.tenant(i)['mailboxes'][:mailboxes]) for i in range(tenants))
        path = write_inventory(self.work / ('%s.json' % name), self.sandbox, self.work / 'handover', tenants=tenants, exchange=True,
                               mailbox_access_mailboxes='{{ bench_mailboxes[inventory_hostname] }}', **dict(ROLE_SETTINGS, **settings))
        return path, {'bench_mailboxes': lists}

    def case(self, kind, phase, mailboxes, playbook, inventory, extra_vars, tenants=1, forks=1, verbosity=0):
        name = '%s-%s-n%d-t%d-f%d' % (kind, phase, mailboxes, tenants, forks)
        print('  %-34s ' % name, end='', flush=True)
        record = {'case': name, 'kind': kind, 'phase': phase, 'mailboxes': mailboxes, 'tenants': tenants, 'forks': forks,
                  'extrapolated': False, 'latency': self.latency, 'scale': self.scale}
        if playbook == ONESHOT:
            record.update(measure.run_script(self.sandbox, inventory))
        else:
            record.update(measure.run_case(self.sandbox, self.work, name, playbook, inventory, extra_vars, forks=forks, verbosity=verbosity))
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

    def progress(self, mailboxes):
        """ours first converge at -v: the same work, with the progress lines printed while the Exchange tasks run."""
        self.fresh()
        path, extra = self.inventory('progress-%d' % mailboxes, 1, mailboxes)
        self.case('progress', 'first', mailboxes, PROVISION, path, extra, verbosity=1)

    def big(self, mailboxes, exclusive=False):
        """One tenant with many mailboxes, first converge: ours ('scale'), or with exclusive ('exclusive')."""
        self.fresh()
        settings = {'mailbox_access_exclusive_mailboxes': True} if exclusive else {}
        path, extra = self.inventory('%s-%d' % ('exclusive' if exclusive else 'scale', mailboxes), 1, mailboxes, **settings)
        self.case('exclusive' if exclusive else 'scale', 'first', mailboxes, PROVISION, path, extra)

    def oneshot(self, mailboxes, rerun):
        """bench/oneshot.ps1 on the Windows host: the app's Exchange service principal exists (as for naive); the admin
        app logs in with its certificate file, the mailbox list is a file on the host's C: drive."""
        self.fresh()
        app = mail_app(self.sandbox)
        tenant = self.sandbox.tenant(0)
        self.sandbox.control('POST', 'tenants/%s/exchange/service_principals' % tenant['tenant_id'],
                             {'AppId': app['app_id'], 'ObjectId': app['sp_object_id'], 'DisplayName': 'mail-reader'})
        certificate = next(c for c in self.sandbox.info['windows_host']['certificates'] if c['tenant_id'] == tenant['tenant_id'])
        folder = os.path.join(self.sandbox.state_dir, 'windows-host', 'C', 'bench')
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, 'mailboxes.txt'), 'w', encoding='utf-8') as handle:
            handle.write('\n'.join(tenant['mailboxes'][:mailboxes]) + '\n')
        settings = {'AppId': tenant['admin']['client_id'], 'Organization': tenant['domain'], 'CertificatePath': certificate['path'],
                    'CertificatePassword': certificate['password'], 'User': app['sp_object_id'], 'MailboxFile': 'C:\\bench\\mailboxes.txt'}
        with open(ONESHOT, encoding='ascii') as handle:
            script = ''.join("$%s = '%s'\n" % (k, str(v).replace("'", "''")) for k, v in settings.items()) + handle.read()
        self.case('oneshot', 'first', mailboxes, ONESHOT, script, None)
        if rerun:
            self.case('oneshot', 'rerun', mailboxes, ONESHOT, script, None)

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


def run(plan, latency, work, only=None, cli_latency=None):
    most = max(plan['ours'] + plan['naive'] + plan['oneshot'] + [plan['tenant_mailboxes']])
    tenants = max(1, plan['tenants'])
    records = []
    print('latency model: %s' % model.describe(latency))
    print('sandbox: %d tenant(s) x %d mailboxes' % (tenants, most), flush=True)
    with SandboxHandle(state_dir=os.path.join(work, 'sandbox'), tenants=tenants, mailboxes=most, winrm_port=0, startup_timeout=120) as sandbox:
        bench = Bench(sandbox, latency, work, scale=plan['scale'])
        for count in plan['ours']:
            if selected(only, 'ours', count):
                bench.ours(count, rerun=count in plan['ours_rerun'])
        for count in plan['progress']:
            if selected(only, 'progress', count):
                bench.progress(count)
        for count in plan['oneshot']:
            if selected(only, 'oneshot', count):
                bench.oneshot(count, rerun=count in plan['oneshot_rerun'])
        for count in plan['naive']:
            if selected(only, 'naive', count):
                bench.naive(count, rerun=count in plan['naive_rerun'])
        for forks in plan['forks']:
            if selected(only, 'tenants', plan['tenant_mailboxes']):
                bench.ours(plan['tenant_mailboxes'], rerun=False, tenants=plan['tenants'], forks=forks)
        records += bench.records
    big = plan['big']
    cases = [('scale', n) for n in big['ours'] if selected(only, 'scale', n)]
    if selected(only, 'exclusive', big['exclusive']):
        cases.append(('exclusive', big['exclusive']))
    if cases:
        # Its own sandbox: one tenant of big['tenant'] mailboxes (ten of them would only cost start-up time).
        big_latency = model.resolve(cli_latency, big['scale'])
        print('scale cases: latency model at %g of its values (%s); sandbox: 1 tenant x %d mailboxes'
              % (big['scale'], model.describe(big_latency), big['tenant']), flush=True)
        shutil.rmtree(os.path.join(work, 'handover'), ignore_errors=True)
        with SandboxHandle(state_dir=os.path.join(work, 'sandbox-big'), tenants=1, mailboxes=big['tenant'], winrm_port=0,
                           startup_timeout=600) as sandbox:
            bench = Bench(sandbox, big_latency, work, scale=big['scale'])
            for kind, count in cases:
                bench.big(count, exclusive=kind == 'exclusive')
            records += bench.records
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--quick', action='store_true', default=os.environ.get('QUICK', '') not in ('', '0'),
                        help='N <= 100 only, under two minutes (also QUICK=1)')
    parser.add_argument('--latency', help='override the model, e.g. connect=2,read=0.1 (also $%s)' % model.ENV)
    parser.add_argument('--no-docs', action='store_true', help='do not rewrite the figures in docs/performance.md')
    parser.add_argument('--only', help='run only these cases: kinds (ours, progress, oneshot, naive, tenants, scale, exclusive), '
                        'optionally with N (ours:1000,oneshot:1000); implies --no-docs')
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    only = set(filter(None, (args.only or '').split(',')))
    latency = model.resolve(args.latency, plan['scale'])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='m365-bench-') as work:
        records = run(plan, latency, work, only, args.latency)
    records += report.extrapolate(records, FULL['ours'])
    summary = report.summary(records, script_n=plan['oneshot'][-1] if plan['oneshot'] else None, big=plan['big'])
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
        print('QUICK: the same ratios at its own N: %s' % report.small_line(summary))
    print('scale cases (scaling_n10000, peak_mb_n10000, exclusive): the latency model at %g of its values' % plan['big']['scale'])
    if only:
        print('--only %s: a partial run; targets of cases not run are missed, docs not rewritten' % ','.join(sorted(only)))
    for line in report.target_lines(document['targets']):
        print(line)
    if not args.quick and not args.no_docs and not only:
        report.update_docs(document)
    print(report.summary_line(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
