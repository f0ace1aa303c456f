"""Running real ansible-playbook against the sandbox, and reading what it did."""

import json
import os
import re
import subprocess
import sys
import time

import yaml

ALLOW_ENDPOINTS_ENV = 'M365_ALLOW_CUSTOM_ENDPOINTS'

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG_DIR = os.path.join(REPO, 'tests', 'output', 'logs')
BIN = os.path.dirname(sys.executable)
RECAP = re.compile(r'^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


class Run:
    """What one ansible-playbook run printed and how it ended."""

    def __init__(self, name, args, proc, seconds, results_path):
        self.name = name
        self.results_path = results_path
        self.args = args
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds
        self.recap = dict((m.group(1), dict(ok=int(m.group(2)), changed=int(m.group(3)), unreachable=int(m.group(4)),
                                            failed=int(m.group(5)))) for m in RECAP.finditer(self.stdout))

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def changed(self):
        return sum(host['changed'] for host in self.recap.values())

    @property
    def failed(self):
        return sum(host['failed'] for host in self.recap.values())

    def results(self):
        """{task name: {host: result}} as the callbacks saw them (so no_log censoring applies)."""
        out = {}
        if os.path.exists(self.results_path):
            with open(self.results_path) as handle:
                for line in handle:
                    record = json.loads(line)
                    result = dict(record['result'])
                    result['failed'] = record['status'] == 'failed'
                    out.setdefault(record['task'], {})[record['host']] = result
        return out

    def __repr__(self):
        return '<Run %s rc=%s changed=%s>\n%s\n%s' % (self.name, self.rc, self.changed, self.stdout[-6000:], self.stderr[-3000:])


def sandbox_auth(sandbox, tenant_index=0):
    tenant = sandbox.tenant(tenant_index)
    return {
        'tenant_id': tenant['tenant_id'],
        'client_id': tenant['admin']['client_id'],
        'client_secret': tenant['admin']['client_secret'],
        'authority_url': sandbox.authority_url,
        'graph_url': sandbox.graph_url,
        'ca_path': sandbox.ca_path,
    }


def play(tasks, auth=True, hosts='localhost', extra=None):
    """A one-play playbook whose Graph modules get the sandbox credentials through module_defaults."""
    body = {'name': 'test play', 'hosts': hosts, 'gather_facts': False, 'tasks': tasks}
    if auth:
        body['module_defaults'] = {'group/m365.mail_oauth.graph': dict(
            (k, '{{ m365_auth.%s }}' % k) for k in ('tenant_id', 'client_id', 'client_secret', 'authority_url',
                                                    'graph_url', 'ca_path'))}
    body.update(extra or {})
    return [body]


def playbook_invocation(tmp_path, plays, name='play', extra_vars=None, check=False, diff=False, verbosity=0,
                        env=None, inventory=None, extra_args=()):
    """(args, env, results path, log path) of one ansible-playbook run; run_playbook runs it, tests that kill it start it."""
    os.makedirs(LOG_DIR, exist_ok=True)
    if isinstance(plays, str):
        path = plays  # an existing playbook, e.g. playbooks/provision.yml
    else:
        path = tmp_path / ('%s.yml' % name)
        path.write_text(yaml.safe_dump(plays, sort_keys=False))
    vars_path = tmp_path / ('%s-vars.json' % name)
    vars_path.write_text(json.dumps(extra_vars or {}))
    if inventory is None:
        inventory = tmp_path / 'inventory.ini'
        inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    args = [os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory), str(path), '-e', '@%s' % vars_path]
    if check:
        args.append('--check')
    if diff:
        args.append('--diff')
    if verbosity:
        args.append('-' + 'v' * verbosity)
    args.extend(extra_args)
    run_env = dict(os.environ)
    run_env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.build', 'collections'),
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_DEPRECATION_WARNINGS': 'False',
        # The sandbox is not a Microsoft cloud: allowed the way an AWX credential or EE would (tests of the refusal unset it).
        ALLOW_ENDPOINTS_ENV: '1',
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    stamp = '%s-%d' % (name, int(time.time() * 1000))
    results_path = os.path.join(LOG_DIR, stamp + '.results.jsonl')
    run_env.update({
        # Inherited by every process of the run, also by ansible's workers, which leave the process group (setsid):
        # how a test finds and ends what a killed run left behind.
        'M365_RUN_TAG': '%s-%d' % (stamp, os.getpid()),
        'ANSIBLE_CALLBACK_PLUGINS': os.path.join(REPO, 'tests', 'e2e', 'callback_plugins'),
        'ANSIBLE_CALLBACKS_ENABLED': 'results_file',
        'RESULTS_FILE': results_path,
    })
    run_env.update(env or {})
    return args, run_env, results_path, os.path.join(LOG_DIR, stamp + '.log')


def tagged_processes(tag):
    """Pids of the processes still running with M365_RUN_TAG=tag in their environment."""
    needle = ('M365_RUN_TAG=%s' % tag).encode()
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % pid, 'rb') as handle:
                if needle in handle.read().split(b'\0'):
                    with open('/proc/%s/stat' % pid, 'rb') as stat:
                        if stat.read().rsplit(b')', 1)[1].split()[0] != b'Z':
                            found.append(int(pid))
        except OSError:
            continue
    return found


def save_log(run, log_path):
    with open(log_path, 'w') as log:
        log.write('$ %s\n%s\n--- stderr ---\n%s' % (' '.join(run.args), run.stdout, run.stderr))


def run_playbook(tmp_path, plays, name='play', extra_vars=None, check=False, diff=False, verbosity=0,
                 env=None, timeout=600, inventory=None, extra_args=()):
    """Run ansible-playbook for real; every run's output is kept under tests/output/logs for the secret scan."""
    args, run_env, results_path, log_path = playbook_invocation(tmp_path, plays, name, extra_vars, check, diff, verbosity, env,
                                                                inventory, extra_args)
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=run_env, timeout=timeout, check=False)
    run = Run(name, args, proc, time.monotonic() - started, results_path)
    save_log(run, log_path)
    return run
