"""`make demo`: the main job against the sandbox tenant, from nothing to a working app and back to changed=0."""

import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'tests', 'sandbox'))

from m365_sandbox.client import SandboxHandle  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)


def banner(text):
    print('\n' + '=' * 78 + '\n== ' + text + '\n' + '=' * 78, flush=True)


def playbook(inventory, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_DEPRECATION_WARNINGS='False')
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, os.path.join(REPO, 'playbooks', 'provision.yml')] + list(extra)
    print('$ ansible-playbook -i %s playbooks/provision.yml %s' % (os.path.relpath(inventory, REPO), ' '.join(extra)), flush=True)
    return subprocess.run(cmd, env=env, check=True)


def main():
    work = os.path.join(REPO, '.build', 'demo')
    os.makedirs(work, exist_ok=True)
    handover = os.path.join(REPO, '.build', 'handover')
    os.makedirs(handover, mode=0o700, exist_ok=True)
    banner('Starting the sandbox tenant (HTTPS Graph and token service on loopback)')
    with SandboxHandle(state_dir=tempfile.mkdtemp(prefix='sandbox-', dir=work), tenants=2, mailboxes=5) as sandbox:
        inventory = os.path.join(work, 'inventory.yml')
        hosts = {}
        for index, tenant in enumerate(sandbox.tenants):
            name = 'tenant%d' % (index + 1)
            hosts[name] = {
                'mailbox_access_tenant_id': tenant['tenant_id'],
                'mailbox_access_graph_auth': {
                    'client_id': tenant['admin']['client_id'], 'client_secret': tenant['admin']['client_secret'],
                    'authority_url': sandbox.authority_url, 'graph_url': sandbox.graph_url, 'ca_path': sandbox.ca_path},
                'mailbox_access_app_unique_name': 'demo-mail-reader',
                'mailbox_access_app_display_name': 'Demo mail reader',
                'mailbox_access_protocols': ['imap', 'pop', 'smtp'],
                'mailbox_access_handover_dest': os.path.join(handover, '%s-mail-app.json' % name),
                'mailbox_access_mailboxes': tenant['mailboxes'],
            }
            print('%s: %s (%s), %d mailboxes' % (name, tenant['tenant_id'], tenant['domain'], len(tenant['mailboxes'])))
        with open(inventory, 'w') as handle:
            json.dump({'tenants': {'hosts': hosts}}, handle, indent=2)
        banner('First run: register the app, add a secret, grant IMAP/POP/SMTP app permissions, for 2 tenants')
        playbook(inventory)
        for name in sorted(hosts):
            path = os.path.join(handover, '%s-mail-app.json' % name)
            with open(path) as handle:
                data = json.load(handle)
            data['client_secret'] = data['client_secret'][:3] + '*' * 8
            print('%s (mode %o): %s' % (os.path.relpath(path, REPO), os.stat(path).st_mode & 0o777, json.dumps(data)))
        banner('Second run: nothing to change (changed=0)')
        playbook(inventory)
        banner('Audit in check mode with diff: still nothing to change')
        playbook(inventory, '--check', '--diff')
    banner('Sandbox stopped. Secrets are in .build/handover/ (mode 0600).')


if __name__ == '__main__':
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit('demo stopped: ansible-playbook exited with %s (its output is above)' % exc.returncode)
