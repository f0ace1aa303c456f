# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option specs shared by the modules; doc_fragments/graph_auth.py documents them."""

from ansible.module_utils.basic import env_fallback

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import CREDENTIAL_OPTIONS
from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import CLOUD_NAMES

# Credentials take no env_fallback here: auth.sign_in_credentials reads the
# environment only when no credential option is set, so that exported AZURE_*
# variables never conflict with an explicit option.
GRAPH_AUTH_SPEC = dict(
    tenant_id=dict(type='str'),
    client_id=dict(type='str'),
    client_secret=dict(type='str', no_log=True),
    client_certificate_path=dict(type='path'),
    client_certificate_password=dict(type='str', no_log=True),
    client_certificate_thumbprint=dict(type='str'),
    access_token=dict(type='str', no_log=True),
    managed_identity=dict(type='bool'),
    managed_identity_client_id=dict(type='str'),
    token_cache=dict(type='path'),
    username=dict(type='str'),
    cloud=dict(type='str', choices=CLOUD_NAMES, default='global', fallback=(env_fallback, ['M365_CLOUD'])),
    authority_url=dict(type='str', fallback=(env_fallback, ['M365_AUTHORITY_URL'])),
    graph_url=dict(type='str', fallback=(env_fallback, ['M365_GRAPH_URL'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['M365_CA_PATH'])),
    validate_certs=dict(type='bool', default=True),
    retry_timeout=dict(type='int', default=300),
    request_timeout=dict(type='int', default=60),
)

# One credential a task: auth.AUTH_KINDS is the table.
GRAPH_AUTH_MUTUALLY_EXCLUSIVE = [list(CREDENTIAL_OPTIONS)]

# How a module names the application it works on.
APPLICATION_SELECTOR_SPEC = dict(
    unique_name=dict(type='str'),
    app_id=dict(type='str'),
    object_id=dict(type='str'),
)
APPLICATION_SELECTOR_EXCLUSIVE = [['unique_name', 'app_id', 'object_id']]
APPLICATION_SELECTOR_REQUIRED = [['unique_name', 'app_id', 'object_id']]
