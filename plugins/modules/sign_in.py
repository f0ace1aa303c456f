#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: sign_in
short_description: Sign in as a person with the device code flow, once for a whole playbook run
version_added: 0.1.0
description:
  - Shows Microsoft's prompt (C(To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter
    the code ... to authenticate.)) while the task waits, and keeps the person's tokens - refresh tokens included - in
    O(token_cache), a file of mode 0600 guarded by a lock. The Graph modules and the Exchange actions then run as that
    person with O(m365.mail_oauth.azure_app_registration#module:token_cache) (and O(tenant_id)).
  - A second run, another fork or another task finds the tokens there (and refreshes them) instead of prompting again; a fork
    that waits for the lock while the first one prompts does not prompt again.
  - The default public client is Microsoft Azure CLI (C(04b07795-8ddb-461a-bbee-02f9e1bf7b46)), one of Microsoft's
    first-party applications (Microsoft Learn, "Verify first-party Microsoft applications in sign-in reports"), present in
    every tenant. It asks for C(https://graph.microsoft.com/.default) and then, silently, C(https://outlook.office365.com/.default)
    (the national cloud's resources with O(cloud)) - the C(/.default) scope of Microsoft Learn's "Scopes and permissions in
    the Microsoft identity platform" - plus C(openid profile offline_access), which msal adds.
  - If the tenant's Conditional Access blocks the device code flow, the task fails naming the way out - a token from
    C(az account get-access-token) in O(m365.mail_oauth.azure_app_registration#module:access_token), or an app credential.
  - This is an action plugin; it runs on the controller only. Nothing secret is returned or shown.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  tenant_id:
    description: The tenant to sign in to (its id, or a domain such as C(contoso.onmicrosoft.com)).
    type: str
    required: true
  client_id:
    description:
      - A public client to sign in with instead of Microsoft Azure CLI's - an app registration of your own with
        C(Allow public client flows) on and the delegated permissions docs/permissions.md lists.
    type: str
  token_cache:
    description: The msal token cache file (mode 0600; its directory is created 0700). Give the same path to the later tasks.
    type: path
    default: ~/.ansible/m365_mail_oauth/token_cache.json
  username:
    description: Use this person's tokens when the cache holds several (userPrincipalName).
    type: str
  require_roles:
    description:
      - Fail before anything is changed unless the person holds at least one of these Entra roles (read from the token).
    type: list
    elements: str
    choices: [Application Administrator, Cloud Application Administrator, Exchange Administrator, Global Administrator,
              Global Reader, Privileged Role Administrator]
    default: []
  exchange:
    description: Also get the Exchange Online token now, for the Exchange actions.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the person (60 to 900; a device code lives 900 seconds).
    type: int
    default: 900
  cloud:
    description: The Microsoft 365 cloud.
    type: str
    choices: [china, global, usgovdod, usgovhigh]
    default: global
  authority_url:
    description: Login host instead of the cloud's (the same rules as the Graph modules' O(m365.mail_oauth.azure_app_registration#module:authority_url)).
    type: str
  graph_url:
    description: Graph host instead of the cloud's (the same rules as the Graph modules').
    type: str
  ca_path:
    description: PEM bundle to verify the login endpoint with.
    type: path
  validate_certs:
    description: Verify TLS certificates (V(false) only against a test endpoint).
    type: bool
    default: true
notes:
  - What a person needs, role by role, is in docs/permissions.md.
requirements:
  - msal
  - a POSIX controller (the cache lock is fcntl's)
'''

EXAMPLES = r'''
- name: Sign in once; every later task runs as this person
  m365.mail_oauth.sign_in:
    tenant_id: contoso.onmicrosoft.com
    require_roles: [Global Administrator, Application Administrator]

- name: Create the application as that person
  m365.mail_oauth.azure_app_registration:
    tenant_id: contoso.onmicrosoft.com
    token_cache: ~/.ansible/m365_mail_oauth/token_cache.json
    unique_name: helpdesk-mail-reader
    display_name: Helpdesk mail reader
'''

RETURN = r'''
username:
  description: The person signed in (userPrincipalName).
  returned: success
  type: str
object_id:
  description: The person's object id.
  returned: success
  type: str
tenant_id:
  description: The tenant id of the token.
  returned: success
  type: str
client_id:
  description: The public client signed in with.
  returned: success
  type: str
roles:
  description: The person's Entra built-in roles named in the token (C(wids)).
  returned: success
  type: list
  elements: str
scopes:
  description: The delegated permissions of the Microsoft Graph token.
  returned: success
  type: list
  elements: str
signed_in:
  description: True when this task prompted and the person signed in; false when the cache had the tokens already.
  returned: success
  type: bool
token_cache:
  description: The absolute path of the token cache file.
  returned: success
  type: str
'''
