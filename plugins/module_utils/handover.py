# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a mail client needs to sign in app-only: the handover document, and writing it safely."""

import json

from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import write_private_file
from ansible_collections.m365.mail_oauth.plugins.module_utils.vault import read_vault_password_file, vault_encrypt

IMAP_PORT, POP_PORT, SMTP_PORT = 993, 995, 587


def connection_settings(cloud, tenant_id, client_id):
    """Client id, tenant, token endpoint, scope and the mail endpoints of the tenant's cloud."""
    return {
        'tenant_id': tenant_id,
        'client_id': client_id,
        'token_endpoint': '%s/%s/oauth2/v2.0/token' % (cloud.login, tenant_id),
        'scope': '%s/.default' % cloud.exchange,
        'imap': {'host': cloud.imap_host, 'port': IMAP_PORT, 'security': 'tls', 'sasl': 'XOAUTH2'},
        'pop': {'host': cloud.pop_host, 'port': POP_PORT, 'security': 'tls', 'sasl': 'XOAUTH2'},
        'smtp': {'host': cloud.smtp_host, 'port': SMTP_PORT, 'security': 'starttls', 'sasl': 'XOAUTH2'},
    }


def write_handover(params, document, secret=None):
    """Write dest as params ask (json document or the bare value; vault-encrypted when a vault password is given)."""
    if params.get('dest_format') == 'value' and secret is not None:
        text = secret + '\n'
    else:
        text = json.dumps(document, indent=2, sort_keys=True) + '\n'
    password = params.get('vault_password') or (
        read_vault_password_file(params['vault_password_file'], params.get('vault_id')) if params.get('vault_password_file') else None)
    write_private_file(params['dest'], vault_encrypt(text, password, params.get('vault_id')) if password else text)


def handover_document(module, app, **credential):
    """The handover document of the application a module works on, with the credential (secret or certificate) added."""
    document = connection_settings(module.credentials.cloud, module.tenant_guid(), app['appId'])
    document.update(credential)
    return document
