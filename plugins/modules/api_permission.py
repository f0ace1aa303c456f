#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: api_permission
short_description: Ensure API permissions of an Entra ID application by name, with admin consent
version_added: 0.1.0
description:
  - Ensures application permissions (app roles) and delegated permissions (scopes) that an application requests from a
    resource API, by name, resolved at run time from the resource's service principal (default resource Office 365
    Exchange Online, for C(IMAP.AccessAsApp), C(POP.AccessAsApp), C(SMTP.SendAsApp)).
  - With O(admin_consent=true), grants admin consent - application permissions as app role assignments on the
    resource, delegated ones as a tenant-wide C(oauth2PermissionGrant).
  - With O(exclusive=true), the application requests and holds exactly what is listed, so the delegated Microsoft Graph
    C(User.Read) that a new registration carries by default is removed, and so is any stale consent.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  resource:
    description:
      - The resource API - its app ID, or V(exchange) / V(Office 365 Exchange Online), V(graph) / V(Microsoft Graph),
        or another service principal's display name.
    type: str
    default: Office 365 Exchange Online
  application_permissions:
    description: Names of application permissions (app roles), for example V(IMAP.AccessAsApp). Matched without regard to case.
    type: list
    elements: str
    default: []
  delegated_permissions:
    description: Names of delegated permissions (scopes), for example V(User.Read).
    type: list
    elements: str
    default: []
  admin_consent:
    description: Grant (and, with O(exclusive), revoke) admin consent for the permissions.
    type: bool
    default: true
  exclusive:
    description:
      - Make the listed permissions the only ones the application requests and holds, on every resource. Removes
        Microsoft Graph C(User.Read) and consent that is no longer listed.
    type: bool
    default: false
  exclusive_scope:
    description:
      - What O(exclusive) makes exact. V(all_resources) - the listed permissions are all the application holds, from any
        resource. V(this_resource) - exactly the listed ones from O(resource); the other resources' permissions and
        consent are left alone (one task per resource, each exclusive, as C(playbooks/bootstrap.yml) does for Microsoft
        Graph and Office 365 Exchange Online).
    type: str
    choices: [all_resources, this_resource]
    default: all_resources
  create_resource_principal:
    description:
      - Create the resource's service principal when the tenant has none yet (a tenant that never used Exchange Online).
    type: bool
    default: true
  state:
    description: V(present) adds the permissions, V(absent) removes them and their consent.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - m365.mail_oauth.application_selector
  - m365.mail_oauth.graph_auth
attributes:
  check_mode:
    support: full
    description: Reports what would be requested, consented or revoked; changes nothing.
  diff_mode:
    support: full
    description: Shows requested and consented permissions by name, before and after.
seealso:
  - module: m365.mail_oauth.azure_app_registration
'''

EXAMPLES = r'''
- name: IMAP and SMTP app-only access, consented, and nothing else (User.Read goes)
  m365.mail_oauth.api_permission:
    unique_name: helpdesk-mail-reader
    application_permissions:
      - IMAP.AccessAsApp
      - SMTP.SendAsApp
    admin_consent: true
    exclusive: true

- name: Add POP without touching anything else
  m365.mail_oauth.api_permission:
    unique_name: helpdesk-mail-reader
    application_permissions: [POP.AccessAsApp]

- name: Remove POP and its consent
  m365.mail_oauth.api_permission:
    unique_name: helpdesk-mail-reader
    application_permissions: [POP.AccessAsApp]
    state: absent
'''

RETURN = r'''
requested:
  description: The permissions the application requests after the run, by resource display name.
  returned: always
  type: dict
  sample: {"Office 365 Exchange Online": ["IMAP.AccessAsApp", "SMTP.SendAsApp"]}
granted:
  description: Application permissions consented after the run, by resource display name.
  returned: when O(admin_consent=true)
  type: dict
resource_app_id:
  description: App ID of the resource.
  returned: always
  type: str
resource_service_principal_id:
  description: Object ID of the resource's service principal in the tenant.
  returned: when it exists
  type: str
service_principal_id:
  description: Object ID of the application's service principal (the one consent is granted to).
  returned: when it exists
  type: str
app_id:
  description: Application (client) ID.
  returned: always
  type: str
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import (
    APPLICATION_SELECTOR_EXCLUSIVE, APPLICATION_SELECTOR_REQUIRED, APPLICATION_SELECTOR_SPEC)
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import applications as apps
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.consent import Namer, consent
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import permissions as perms
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import key_path, odata_string
from ansible_collections.m365.mail_oauth.plugins.module_utils.module import GraphModule


def read_state(module, client, resource_app):
    """Everything the plan needs, in as few Graph round trips as possible (batched reads).

    Returns (app, resource, principal, assignments, grants); principal and the
    lists are None when consent is not managed or the principal is missing.
    """
    params = module.params
    remove = params['state'] == 'absent'
    reads = [(apps.application_path(params), {'$select': 'id,appId,requiredResourceAccess'}),
             (key_path('servicePrincipals', 'appId', resource_app), {'$select': ','.join(perms.RESOURCE_SELECT)})]
    if params['admin_consent'] and params['app_id']:
        reads.append((key_path('servicePrincipals', 'appId', params['app_id']), {'$select': 'id,appId'}))
    found = client.batch_get(reads)
    app, resource = found[0], found[1]
    principal = found[2] if len(found) > 2 else None
    if params['admin_consent'] and app and len(found) == 2:
        principal = apps.find_service_principal(client, app['appId'], select=['id', 'appId'])
    assignments = grants = None
    if principal:
        lists = [('servicePrincipals/%s/appRoleAssignments' % principal['id'], None)]
        if params['delegated_permissions'] or params['exclusive'] or remove:
            lists.append(('oauth2PermissionGrants', {'$filter': 'clientId eq %s' % odata_string(principal['id'])}))
        pages = client.batch_get(lists)
        assignments = pages[0]['value']
        grants = pages[1]['value'] if len(pages) > 1 else []
    return app, resource, principal, assignments, grants


def run(module):
    params = module.params
    apps.check_selector(params)
    if params['state'] == 'absent' and not (params['application_permissions'] or params['delegated_permissions']):
        raise ConfigError('state=absent needs application_permissions or delegated_permissions: the permissions to remove')
    client = module.client
    resource_app = perms.resource_app_id(client, params['resource'])
    app, resource, principal, assignments, grants = read_state(module, client, resource_app)
    app = apps.application_or_plan(module, app, 'requiredResourceAccess')
    result = {'changed': False, 'app_id': app['appId'], 'resource_app_id': resource_app}
    if resource is None and params['create_resource_principal'] and not module.check_mode:
        resource = perms.create_resource(client, resource_app)
        result['changed'] = True
    if resource is None:
        if not params['create_resource_principal']:
            raise ConfigError('the resource %s has no service principal in this tenant: set create_resource_principal=true '
                              'or create it with POST /servicePrincipals' % params['resource'])
        module.warn('the resource %s has no service principal yet; it would be created, and the permission names are '
                    'checked when it exists' % params['resource'])
        result['changed'] = True
        return result
    result['resource_service_principal_id'] = resource['id']
    roles, scopes = perms.resolve_permissions(resource, params['application_permissions'], params['delegated_permissions'])
    wanted = set((r['id'], 'Role') for r in roles) | set((s['id'], 'Scope') for s in scopes)

    required = app.get('requiredResourceAccess') or []
    new_required = perms.merge_required(required, resource_app, wanted, params['exclusive'], params['state'] == 'absent',
                                        keep_others=params['exclusive_scope'] == 'this_resource')
    namer = Namer(client, [resource])
    diff_before = {'requested': namer.requested(required)}
    diff_after = {'requested': namer.requested(new_required)}
    if perms.normalized(new_required) != perms.normalized(required):
        result['changed'] = True
        if not module.check_mode:
            client.patch('applications/%s' % app['id'], {'requiredResourceAccess': new_required}, retry_missing=True)
    if params['admin_consent']:
        diff_before['granted'], diff_after['granted'] = consent(module, client, app, resource, roles, scopes, result, namer,
                                                                principal, assignments, grants)
        result['granted'] = diff_after['granted']
    result['requested'] = diff_after['requested']
    result['diff'] = {'before': diff_before, 'after': diff_after}
    return result


def main():
    spec = dict(APPLICATION_SELECTOR_SPEC)
    spec.update(
        resource=dict(type='str', default='Office 365 Exchange Online'),
        application_permissions=dict(type='list', elements='str', default=[]),
        delegated_permissions=dict(type='list', elements='str', default=[]),
        admin_consent=dict(type='bool', default=True),
        exclusive=dict(type='bool', default=False),
        exclusive_scope=dict(type='str', choices=['all_resources', 'this_resource'], default='all_resources'),
        create_resource_principal=dict(type='bool', default=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module = GraphModule(argument_spec=spec, mutually_exclusive=APPLICATION_SELECTOR_EXCLUSIVE,
                         required_one_of=APPLICATION_SELECTOR_REQUIRED)
    module.run(run)


if __name__ == '__main__':
    main()
