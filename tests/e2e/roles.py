"""Inventories for the role and the playbooks in playbooks/, built from the sandbox's tenants."""

import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, 'playbooks')


def tenant_vars(sandbox, index, handover_dir, **overrides):
    tenant = sandbox.tenant(index)
    host = {
        'mailbox_access_tenant_id': tenant['tenant_id'],
        'mailbox_access_graph_auth': {
            'client_id': tenant['admin']['client_id'], 'client_secret': tenant['admin']['client_secret'],
            'authority_url': sandbox.authority_url, 'graph_url': sandbox.graph_url, 'ca_path': sandbox.ca_path},
        'mailbox_access_app_unique_name': 'role-mail-app',
        'mailbox_access_app_display_name': 'Role mail app',
        'mailbox_access_protocols': ['imap', 'smtp'],
        'mailbox_access_handover_dest': os.path.join(str(handover_dir), 'tenant%d.json' % (index + 1)),
        'mailbox_access_mailboxes': tenant['mailboxes'][:3],
    }
    host.update(overrides)
    return host


WINDOWS = 'exchange-host'


def windows_host(sandbox):
    """The emulated Windows host that runs Exchange Online PowerShell (WinRM, NTLM with message encryption)."""
    winrm = sandbox.info['winrm']
    return {'ansible_host': winrm['host'], 'ansible_port': winrm['port'], 'ansible_connection': 'winrm',
            'ansible_winrm_scheme': 'http', 'ansible_winrm_transport': 'ntlm', 'ansible_user': winrm['username'],
            'ansible_password': winrm['password']}


def write_inventory(path, sandbox, handover_dir, tenants=2, exchange=False, **overrides):
    if exchange:
        overrides.setdefault('mailbox_access_exchange_host', WINDOWS)
    hosts = dict(('tenant%d' % (i + 1), tenant_vars(sandbox, i, handover_dir, **overrides)) for i in range(tenants))
    inventory = {'tenants': {'hosts': hosts}, 'all': {'vars': {'ansible_python_interpreter': sys.executable}}}
    if exchange:
        inventory['windows'] = {'hosts': {WINDOWS: windows_host(sandbox)}}
    path.write_text(json.dumps(inventory, indent=2))
    return path
