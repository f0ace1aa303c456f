"""Runs provision.yml (the role, with the emulated Exchange host) for one case and checks what the tenant ended up as.

Every case gets its own application (unique_name rel-<case>) and handover file, so cases never need a sandbox
reset and a leftover of one case cannot make another pass. Every run is at -vvvvv with its output kept
(tests/output/logs), its command lines sampled from /proc, and everything scanned for secrets.
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time

from exchange_play import exchange_state, exchange_stats, full_access_holders
from playbook import Run, playbook_invocation, run_playbook, save_log, tagged_processes
from roles import PLAYBOOKS, write_inventory
from test_role_playbooks import token_works

from m365_reliability import scanner
from m365_reliability.procwatch import ProcWatch

PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
AUDIT = os.path.join(PLAYBOOKS, 'audit.yml')
ROTATE = os.path.join(PLAYBOOKS, 'rotate_secret.yml')
DEPROVISION = os.path.join(PLAYBOOKS, 'deprovision.yml')
SECRET_NAME = 'mail-client'
# What provision.yml asks for with the role's defaults and protocols imap + smtp.
WANTED_ROLES = {'IMAP.AccessAsApp', 'SMTP.SendAsApp'}
WANTED_CAS = {'ImapEnabled': True, 'PopEnabled': False, 'SmtpClientAuthenticationDisabled': False}
GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000'
VERBOSITY = 5  # -vvvvv: also what the winrm connection plugin sends


def slug(text):
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')[:60]


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


class Suite:
    """The sandbox plus what every case shares: the secrets to look for and the running totals."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.known = set()
        for tenant in sandbox.tenants:
            self.known.add(tenant['admin']['client_secret'])

    def learn(self, value):
        if value:
            self.known.add(value)

    def scan_run(self, run, watch, tmp_path):
        """Leaks in one run: output (with its diffs), results file, ANSIBLE_LOCAL_TEMP leftovers, sampled command lines."""
        leaks = scanner.scan_text(run.output, self.known, run.name + ' output')
        if os.path.exists(run.results_path):
            with open(run.results_path, encoding='utf-8') as handle:
                leaks += scanner.scan_text(handle.read(), self.known, run.name + ' results')
        leaks += scanner.scan_files(str(tmp_path / 'ansible-tmp'), self.known)
        if watch is not None:
            leaks += scanner.scan_text('\n'.join(watch.seen), self.known, run.name + ' command lines')
        return leaks

    def run(self, tmp_path, playbook, name, inventory, kill=None, during=None, **kwargs):
        """ansible-playbook at -vvvvv, scanned; kill(proc, started) may end it early (the interrupted run); during() runs alongside."""
        kwargs.setdefault('verbosity', VERBOSITY)
        with ProcWatch() as watch:
            helper = threading.Thread(target=during, daemon=True) if during else None
            if helper:
                helper.start()
            if kill is None:
                run = run_playbook(tmp_path, playbook, name, inventory=inventory, **kwargs)
            else:
                run = run_killed(tmp_path, playbook, name, inventory, kill, **kwargs)
            if helper:
                helper.join()
        run.leaks = self.scan_run(run, watch, tmp_path)
        run.samples = watch.samples
        return run


def run_killed(tmp_path, playbook, name, inventory, kill, **kwargs):
    """Start ansible-playbook in its own process group; kill(proc) decides when to signal it (the whole group, as a CI cancel does)."""
    args, env, results_path, log_path = playbook_invocation(tmp_path, playbook, name, inventory=inventory, **kwargs)
    started = time.monotonic()
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True) as proc:
        proc.run_tag = env['M365_RUN_TAG']
        reader = {}
        threads = [threading.Thread(target=lambda key, stream: reader.__setitem__(key, stream.read()), args=(key, stream), daemon=True)
                   for key, stream in (('stdout', proc.stdout), ('stderr', proc.stderr))]
        for thread in threads:
            thread.start()
        signalled = kill(proc)
        proc.wait(600)
        for thread in threads:
            thread.join(30)
    done = subprocess.CompletedProcess(args, proc.returncode, reader.get('stdout', ''), reader.get('stderr', ''))
    run = Run(name, args, done, time.monotonic() - started, results_path)
    run.signalled = signalled
    # Nothing of the killed run may keep running (a worker left behind kept calling Graph for minutes).
    deadline = time.monotonic() + 10
    while tagged_processes(env['M365_RUN_TAG']) and time.monotonic() < deadline:
        time.sleep(0.1)
    run.leftover_processes = tagged_processes(env['M365_RUN_TAG'])
    save_log(run, log_path)
    return run


def signal_group(proc, signum):
    """Signal the run's process group and every process of the run outside it: ansible's workers call setsid(), so a
    group kill alone leaves the worker running the module (as a cancelled job on a plain controller does)."""
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        return False
    for pid in tagged_processes(getattr(proc, 'run_tag', None)) if getattr(proc, 'run_tag', None) else []:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    return True


def kill_when(condition, signum=signal.SIGKILL, poll=0.02, timeout=300):
    """A kill(proc) that signals the run's process group as soon as condition() holds; nothing if the run ends first."""
    def kill(proc):
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if condition():
                return signal_group(proc, signum)
            time.sleep(poll)
        return False
    return kill


class Case:
    """One application in tenant 1 with its own handover file and inventory (the emulated Windows host included)."""

    def __init__(self, suite, tmp_path, name, mailboxes=3, **overrides):
        self.suite = suite
        self.sandbox = suite.sandbox
        self.tmp_path = tmp_path
        self.name = name
        self.unique_name = 'rel-' + slug(name)
        self.display_name = 'Reliability ' + slug(name)
        self.handover = tmp_path / ('%s.json' % self.unique_name)
        self.mailboxes = self.sandbox.tenant(0)['mailboxes'][:mailboxes]
        self.overrides = dict(mailbox_access_app_unique_name=self.unique_name, mailbox_access_app_display_name=self.display_name,
                              mailbox_access_handover_dest=str(self.handover), mailbox_access_mailboxes=self.mailboxes)
        self.overrides.update(overrides)
        self.inventory = self.write_inventory('inventory')
        self.runs = []

    @property
    def tenant_id(self):
        return self.sandbox.tenant(0)['tenant_id']

    def write_inventory(self, label, winrm=None, **overrides):
        """The case's inventory; winrm={'port': ...} points the Windows host elsewhere (a proxy, a closed port)."""
        path = self.tmp_path / ('%s-%s.json' % (self.unique_name, label))
        write_inventory(path, self.sandbox, self.tmp_path, tenants=1, exchange=True, **dict(self.overrides, **overrides))
        if winrm:
            inventory = json.loads(path.read_text())
            inventory['windows']['hosts']['exchange-host'].update(('ansible_' + k, v) for k, v in winrm.items())
            path.write_text(json.dumps(inventory, indent=2))
        return path

    def run(self, label, playbook=PROVISION, inventory=None, **kwargs):
        run = self.suite.run(self.tmp_path, playbook, '%s-%s' % (self.unique_name, label), inventory or self.inventory, **kwargs)
        self.runs.append(run)
        if self.handover.exists():
            self.suite.learn(self.handover_secret())
        return run

    def handover_secret(self):
        try:
            return json.loads(self.handover.read_text()).get('client_secret')
        except (OSError, ValueError):
            return None

    # -- what the tenant ended up as --------------------------------------------
    def application(self, state):
        return [a for a in state['applications'] if a.get('uniqueName') == self.unique_name or a.get('displayName') == self.display_name]

    def check(self):
        """The desired state, from the sandbox's and the Exchange host's point of view: {check: bool} plus figures."""
        state = self.sandbox.state(self.tenant_id)
        apps = self.application(state)
        figures = {'apps': len(apps), 'duplicates': max(len(apps) - 1, 0)}
        checks = {'one app': len(apps) == 1}
        secret = self.handover_secret()
        held = sha256(secret) if secret else None
        if not apps:
            figures['lost_secrets'] = 0
            return dict(figures, checks=checks, converged=False)
        app = apps[0]
        principals = [sp for sp in state['servicePrincipals'] if sp['appId'] == app['appId']]
        checks['one service principal'] = len(principals) == 1
        credentials = [c for c in app['passwordCredentials'] if c.get('displayName') == SECRET_NAME]
        # A secret on the app whose value is not in the handover file: nobody can use it, it only widens the attack surface.
        figures['lost_secrets'] = len([c for c in credentials if c.get('secretSha256') != held]) + (0 if secret else 1)
        figures['secrets'] = len(credentials)
        checks['one secret, the handover one'] = len(credentials) == 1 and credentials[0].get('secretSha256') == held
        checks['handover secret gets a token'] = bool(secret) and token_works(self.sandbox, 0, app['appId'], secret)
        requested = set((r['resourceAppId'], a['id']) for r in app.get('requiredResourceAccess') or [] for a in r['resourceAccess'])
        checks['no Graph permission requested'] = not [r for r in requested if r[0] == GRAPH_APP_ID]
        if principals:
            principal = principals[0]
            exchange_sp = [sp for sp in state['servicePrincipals'] if sp['appId'] == EXCHANGE_APP_ID][0]
            role_names = dict((r['id'], r['value']) for r in exchange_sp['appRoles'])
            granted = set(role_names.get(a['appRoleId']) for a in state['appRoleAssignments']
                          if a['principalId'] == principal['id'] and a['resourceId'] == exchange_sp['id'])
            checks['consent is IMAP + SMTP'] = granted == WANTED_ROLES
            exchange = exchange_state(self.sandbox)
            registered = [sp for sp in exchange['service_principals'] if sp['AppId'] == app['appId']]
            checks['one Exchange service principal with the right ids'] = [sp['ObjectId'] for sp in registered] == [principal['id']]
            checks['FullAccess on the listed mailboxes'] = full_access_holders(exchange, principal['id']) == sorted(self.mailboxes)
            checks['protocol switches'] = all(dict((k, exchange['mailboxes'][m]['cas'].get(k)) for k in WANTED_CAS) == WANTED_CAS
                                              for m in self.mailboxes)
        return dict(figures, checks=checks, converged=all(checks.values()))

    def lost_access(self):
        """Listed mailboxes where the case's app holds no FullAccess now (0 while it has no service principal)."""
        state = self.sandbox.state(self.tenant_id)
        apps = self.application(state)
        principals = [sp['id'] for sp in state['servicePrincipals'] if apps and sp['appId'] == apps[0]['appId']]
        if not principals:
            return 0
        holders = set(full_access_holders(exchange_state(self.sandbox), principals[0]))
        return len([m for m in self.mailboxes if m not in holders])


def failed_checks(result):
    return sorted(name for name, ok in result['checks'].items() if not ok)


def exchange_faults(sandbox, **faults):
    return sandbox.control('POST', 'exchange/faults', faults)


def clear_faults(sandbox):
    """Faults off, counters kept (the case reads them after)."""
    sandbox.set_faults({'throttle': None, 'server_errors': None, 'replication_delay': 0, 'token_endpoint_down': False,
                        'latency': {'graph': 0, 'token': 0}})
    sandbox.control('POST', 'exchange/faults', {'connect_error': None, 'drop_after_writes': None, 'throttle_every': 0, 'latency': {},
                                                'call_errors': []})


def reset_counters(sandbox):
    sandbox.reset_stats()
    sandbox.control('POST', 'exchange/stats/reset')


def exchange_counters(sandbox):
    return exchange_stats(sandbox)
