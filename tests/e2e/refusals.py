"""The two failure paths of issue 21 through real playbooks, shared by tests/e2e and the soak (tests/reliability):

- every name the Exchange operation table refuses, given to the role: refused before anything is written;
- a rotation whose removePassword and lease release answer 500 after addPassword: the first failure reported with what
  it left, and the next provision removing the secret nobody holds at once.
"""

import json
import os
import time

from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import OPERATIONS, InvalidOperation, check_value

PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
ROTATE = os.path.join(PLAYBOOKS, 'rotate_secret.yml')

# Where each role variable ends up in Exchange: the app's display name is New-ServicePrincipal's DisplayName, a mailbox
# an Identity. The secret's name never reaches Exchange but is a display name under the same rule.
FIELDS = {'mailbox_access_app_display_name': 'DisplayName', 'mailbox_access_secret_name': 'DisplayName',
          'mailbox_access_mailboxes': 'Identity'}
CANDIDATES = ['Mail reader ', ' Mail reader', 'Mail reader\u00a0', '\u3000Mail reader', 'Mail\treader', 'Mail\x7freader',
              'Mail\nreader', 'x' * 257, ' ', 'user1@contoso.com ', ' user1@contoso.com']


def exchange_refuses(param, value):
    """The Exchange operation table's verdict on value as that parameter of the call it goes to: its message, or None."""
    op = 'new_service_principal' if param == 'DisplayName' else 'get_mailbox'
    try:
        return check_value(op, param, OPERATIONS[op]['params'][param], value) and None
    except InvalidOperation as exc:
        return str(exc)


def refused_names():
    """[(role variable, value)] for every candidate the table refuses, for each field it would reach."""
    cases = []
    for field, param in FIELDS.items():
        for value in CANDIDATES:
            if exchange_refuses(param, value):
                cases.append((field, [value] if field == 'mailbox_access_mailboxes' else value))
    return cases


def writes(sandbox):
    """Graph writes (every request that is not a GET) and Exchange writes (New-/Set-/Add-/Remove- cmdlets) so far."""
    graph = sum(n for route, n in sandbox.stats()['graph'].items() if not route.startswith('GET '))
    cmdlets = sandbox.control('GET', 'exchange/stats')['exchange']['cmdlets']
    return graph + sum(n for cmdlet, n in cmdlets.items() if cmdlet.split('-', 1)[0] in ('New', 'Set', 'Add', 'Remove'))


def run_refused_names(sandbox, tmp_path, name='refused-names'):
    """provision.yml with one inventory host per refused name (all with the Exchange host): (run, cases, writes, problems)."""
    cases = refused_names()
    path = write_inventory(tmp_path / ('%s.json' % name), sandbox, tmp_path, tenants=1, exchange=True)
    inventory = json.loads(path.read_text())
    base = inventory['tenants']['hosts'].pop('tenant1')
    for index, (field, value) in enumerate(cases):
        inventory['tenants']['hosts']['case%d' % index] = dict(
            base, mailbox_access_app_unique_name='refused-%d' % index,
            mailbox_access_handover_dest=str(tmp_path / ('refused-%d.json' % index)), **{field: value})
    path.write_text(json.dumps(inventory, indent=2))
    sandbox.reset_stats()
    sandbox.control('POST', 'exchange/stats/reset')
    run = run_playbook(tmp_path, PROVISION, name, inventory=path)
    problems = []
    for index, (field, value) in enumerate(cases):
        host = 'case%d' % index
        if run.recap.get(host, {}).get('failed') != 1:
            problems.append('%s=%r was not refused: %s' % (field, value, run.recap.get(host)))
        if os.path.exists(tmp_path / ('refused-%d.json' % index)):
            problems.append('%s=%r: a handover file was written' % (field, value))
    refusals = [r for task in run.results().values() for host, r in task.items() if r.get('failed')]
    for result in refusals:
        message = str(result.get('msg', ''))
        if not any(field in message for field in FIELDS) or 'without leading or trailing spaces' not in message:
            problems.append('a refusal does not name the field and the fix: %s' % message[:300])
    if 'Traceback' in run.output:
        problems.append('traceback')
    return run, cases, writes(sandbox), problems


def fail_clean_up_after_add(sandbox):
    """From the first removePassword on, removePassword and every PATCH of an application (the lease) answer 500."""
    sandbox.set_faults({'server_errors': {'every': 1, 'status': 500, 'methods': ['POST', 'PATCH'],
                                          'paths': ['/removePassword$', '^applications/[0-9a-f-]+$'],
                                          'from': '^POST applications/[0-9a-f-]+/removePassword$'}})


def secrets_of(sandbox, unique_name, name='mail-client'):
    state = sandbox.state(sandbox.tenant(0)['tenant_id'])
    apps = [a for a in state['applications'] if a.get('uniqueName') == unique_name]
    return apps[0], [c for c in apps[0]['passwordCredentials'] if c.get('displayName') == name]


def with_retry_timeout(path, seconds=5):
    """The inventory's Graph calls retried for seconds, not the default 300: the faulted calls fail for good."""
    inventory = json.loads(path.read_text())
    for host in inventory['tenants']['hosts'].values():
        host['mailbox_access_graph_auth']['retry_timeout'] = seconds
    path.write_text(json.dumps(inventory, indent=2))
    return path


class FailedCleanUp:
    """A rotation (grace 0) whose clean-up fails after addPassword, then the next provision; what each left."""

    def __init__(self, sandbox, tmp_path, unique_name='cleanup-app', run=None, inventory=None):
        self.sandbox = sandbox
        self.tmp_path = tmp_path
        self.unique_name = unique_name
        self.handover = tmp_path / ('%s.json' % unique_name)
        self.run = run or (lambda label, playbook, **kwargs: run_playbook(tmp_path, playbook, '%s-%s' % (unique_name, label), **kwargs))
        self.inventory = inventory or self._inventory()

    def _inventory(self):
        return with_retry_timeout(write_inventory(
            self.tmp_path / ('%s-inventory.json' % self.unique_name), self.sandbox, self.tmp_path, tenants=1,
            mailbox_access_app_unique_name=self.unique_name, mailbox_access_handover_dest=str(self.handover)))

    def held(self):
        return json.loads(self.handover.read_text())

    def unheld(self):
        """The secrets of the name whose value is not in the handover file: nobody can use them."""
        held = self.held()['key_id']
        return [c['keyId'] for c in secrets_of(self.sandbox, self.unique_name)[1] if c['keyId'] != held]

    def setup(self):
        return self.run('setup', PROVISION, inventory=self.inventory)

    def failed_rotation(self):
        fail_clean_up_after_add(self.sandbox)
        try:
            return self.run('rotate-faulted', ROTATE, inventory=self.inventory, extra_vars={'mailbox_access_secret_grace_days': 0})
        finally:
            self.sandbox.set_faults({'server_errors': None})

    def repair(self):
        """The next provision (grace 7 days by default); (run, seconds until no secret is left that nobody holds)."""
        started = time.monotonic()
        run = self.run('repair', PROVISION, inventory=self.inventory)
        return run, time.monotonic() - started
