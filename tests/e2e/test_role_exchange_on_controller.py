"""The role with no Windows host: its Exchange Online tasks run in pwsh on the controller (connection local).

ExchangeOnlineManagement 3.x runs on PowerShell 7 on Linux. Here the controller's pwsh finds the sandbox's fake of
the module (tests/sandbox/powershell) first on PSModulePath; that fake calls the sandbox's Exchange REST endpoint the
way the real module calls Exchange Online's. Everything else is as in production: ansible-playbook, the role, the
action plugins building `pwsh -EncodedCommand`, the runner on stdin.
"""

import json
import os
import sys

import pytest

from exchange_play import exchange_state, exchange_stats, full_access_holders
from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

from m365_sandbox.testing import need_pwsh
from m365_sandbox.winrm.host_env import POWERSHELL_DIR, SYSTEM_BUNDLES

APP = 'role-mail-app'


@pytest.fixture
def pwsh():
    return need_pwsh()


def controller_env(sandbox, tmp_path):
    """What an admin's controller has: pwsh with ExchangeOnlineManagement on its module path, and trust in the service's CA."""
    bundle = tmp_path / 'ca-bundle.pem'
    system = next((path for path in SYSTEM_BUNDLES if os.path.isfile(path)), None)
    with open(sandbox.ca_path, 'rb') as handle:
        bundle.write_bytes((open(system, 'rb').read() if system else b'') + b'\n' + handle.read())
    return {'PSModulePath': POWERSHELL_DIR, 'SSL_CERT_FILE': str(bundle), 'NO_COLOR': '1',
            'M365_SANDBOX_EXCHANGE_URL': sandbox.base_url, 'M365_SANDBOX_RETRY_SCALE': '0.01'}


def controller_inventory(tmp_path, sandbox, pwsh, **overrides):
    path = write_inventory(tmp_path / 'inventory.json', sandbox, tmp_path, tenants=1, mailbox_access_exchange_host='localhost',
                           mailbox_access_exchange_auth=dict({'powershell_interpreter': pwsh}, **overrides),
                           mailbox_access_protocols=['imap', 'smtp'])
    inventory = json.loads(path.read_text())
    inventory['all']['hosts'] = {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}
    path.write_text(json.dumps(inventory, indent=2))
    return path


def test_provision_with_exchange_in_pwsh_on_the_controller(tenant, tmp_path, pwsh):
    env = controller_env(tenant, tmp_path)
    inventory = controller_inventory(tmp_path, tenant, pwsh)
    tenant.control('POST', 'exchange/stats/reset')
    first = run_playbook(tmp_path, os.path.join(PLAYBOOKS, 'provision.yml'), 'controller-pwsh', inventory=inventory, env=env)
    assert first.rc == 0, first
    app = [a for a in tenant.state(tenant.tenant(0)['tenant_id'])['applications'] if a.get('uniqueName') == APP][0]
    state = exchange_state(tenant)
    principals = [sp for sp in state['service_principals'] if sp['AppId'] == app['appId']]
    assert len(principals) == 1, state['service_principals']
    assert full_access_holders(state, principals[0]['ObjectId']) == sorted(tenant.tenant(0)['mailboxes'][:3])
    stats = exchange_stats(tenant)
    # Three Exchange tasks (service principal, FullAccess, protocols): one Connect-ExchangeOnline each, and none of
    # them went to the Windows host.
    assert stats['exchange']['connections'] == 3 and stats['exchange']['disconnections'] == 3, stats
    assert stats['winrm'].get('commands', 0) == 0, stats

    again = run_playbook(tmp_path, os.path.join(PLAYBOOKS, 'provision.yml'), 'controller-pwsh-again', inventory=inventory, env=env)
    assert again.rc == 0 and again.changed == 0, again


def test_certificate_thumbprint_is_refused_off_windows(tenant, tmp_path, pwsh):
    env = controller_env(tenant, tmp_path)
    seed = tenant.tenant(0)['admin']
    inventory = controller_inventory(tmp_path, tenant, pwsh, exchange_auth='certificate_thumbprint',
                                     exchange_app_id=seed['client_id'], exchange_certificate_thumbprint=seed['certificate_thumbprint'])
    tenant.control('POST', 'exchange/stats/reset')
    run = run_playbook(tmp_path, os.path.join(PLAYBOOKS, 'provision.yml'), 'controller-thumbprint', inventory=inventory, env=env)
    assert run.rc != 0, run
    assert 'certificate_thumbprint works only on a Windows host' in run.stdout and 'certificate_file' in run.stdout, run
    assert exchange_stats(tenant)['exchange']['connections'] == 0
