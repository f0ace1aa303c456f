"""Plays for the Exchange actions: a localhost play whose tasks delegate_to the emulated Windows host, as the role will."""

import sys

from playbook import run_playbook, sandbox_auth

AUTH_KEYS = ('tenant_id', 'client_id', 'client_secret', 'authority_url', 'graph_url', 'ca_path')
WINDOWS = 'exchange-host'


def inventory(tmp_path, sandbox, transport='ntlm', port=None, password=None):
    winrm = sandbox.info['winrm']
    path = tmp_path / 'inventory.ini'
    path.write_text(
        'localhost ansible_connection=local ansible_python_interpreter=%s\n'
        '%s ansible_host=%s ansible_port=%d ansible_connection=winrm ansible_winrm_scheme=http ansible_winrm_transport=%s '
        'ansible_user=%s ansible_password=%s\n'
        % (sys.executable, WINDOWS, winrm['host'], port or winrm['port'], transport, winrm['username'], password or winrm['password']))
    return path


def exchange_play(tasks):
    """Every task delegated to the Windows host, auth for both groups set once through module_defaults."""
    defaults = dict((k, '{{ m365_auth.%s }}' % k) for k in AUTH_KEYS)
    for task in tasks:
        task.setdefault('delegate_to', WINDOWS)
    return [{'name': 'exchange', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks,
             'module_defaults': {'group/m365.mail_oauth.graph': defaults, 'group/m365.mail_oauth.exchange': defaults}}]


def run_exchange(tmp_path, sandbox, tasks, name, inventory_path=None, **kwargs):
    inventory_path = inventory_path or inventory(tmp_path, sandbox)
    return run_playbook(tmp_path, exchange_play(tasks), name, extra_vars={'m365_auth': sandbox_auth(sandbox)},
                        inventory=inventory_path, **kwargs)


def mail_app(sandbox, name='mail-reader'):
    """An application with its service principal in tenant 0 (what the Entra modules would have made)."""
    seeded = sandbox.seed_application({'displayName': name, 'uniqueName': name, '_service_principal': True})
    return {'app_id': seeded['application']['appId'], 'app_object_id': seeded['application']['id'],
            'sp_object_id': seeded['servicePrincipal']['id']}


def exchange_state(sandbox, tenant_index=0):
    return sandbox.control('GET', 'tenants/%s/exchange' % sandbox.tenant(tenant_index)['tenant_id'])


def exchange_stats(sandbox):
    return sandbox.control('GET', 'exchange/stats')


def full_access_holders(state, sp_object_id):
    return sorted(upn for upn, mailbox in state['mailboxes'].items()
                  if any(p['User'] == sp_object_id and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions']))
