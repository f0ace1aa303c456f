# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every Exchange action takes; doc_fragments/exchange_connection.py documents them."""

from ansible.module_utils.basic import env_fallback

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import GRAPH_AUTH_MUTUALLY_EXCLUSIVE, GRAPH_AUTH_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.payload import AUTH_METHODS, DEFAULT_SESSIONS, MAX_SESSIONS, MODULE_SCOPES

EXCHANGE_CONNECTION_SPEC = dict(
    # An AWX credential exports it; an empty value counts as unset (read from Graph then).
    organization=dict(type='str', fallback=(env_fallback, ['M365_EXCHANGE_ORGANIZATION'])),
    exchange_auth=dict(type='str', choices=list(AUTH_METHODS), default='access_token'),
    exchange_access_token=dict(type='str', no_log=True),
    exchange_app_id=dict(type='str'),
    exchange_certificate_thumbprint=dict(type='str'),
    # A path on the Windows host, so not type=path (that would expand it on the controller).
    exchange_certificate_path=dict(type='str'),
    exchange_certificate_password=dict(type='str', no_log=True),
    exchange_managed_identity_account_id=dict(type='str'),
    install_module=dict(type='bool', default=False),
    min_version=dict(type='str'),
    module_scope=dict(type='str', choices=list(MODULE_SCOPES), default='CurrentUser'),
    powershell_interpreter=dict(type='str'),
    # Parallel Exchange sessions on the host for many mailboxes (payload.sessions_payload).
    exchange_sessions=dict(type='int', choices=list(range(1, MAX_SESSIONS + 1)), default=DEFAULT_SESSIONS),
    # Basic over plain http sends the Windows password and the Exchange token in clear (transport_policy.py).
    allow_insecure_transport=dict(type='bool', default=False),
)

EXCHANGE_REQUIRED_IF = [
    ['exchange_auth', 'certificate_thumbprint', ['exchange_certificate_thumbprint']],
    ['exchange_auth', 'certificate_file', ['exchange_certificate_path']],
]

# How the Exchange actions name the service principal (the mail app's enterprise application).
PRINCIPAL_SPEC = dict(
    app_id=dict(type='str'),
    object_id=dict(type='str'),
)


def action_spec(own_spec):
    """Graph auth + Exchange connection + the action's own options."""
    spec = dict(GRAPH_AUTH_SPEC)
    spec.update(EXCHANGE_CONNECTION_SPEC)
    spec.update(own_spec)
    return spec


MUTUALLY_EXCLUSIVE = list(GRAPH_AUTH_MUTUALLY_EXCLUSIVE)
