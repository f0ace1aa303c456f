#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: azure_app_registration
short_description: Ensure an Entra ID application registration and its service principal, by a stable key
version_added: 0.1.0
description:
  - Creates or updates an Entra ID (Azure AD) application registration identified by O(unique_name), a permanent key
    set at creation (C(PATCH /applications(uniqueName=...)) with C(Prefer create-if-missing)), so a rerun never
    creates a second application, even when other applications have the same display name.
  - An existing application registered by hand can be adopted with O(app_id) (and given O(unique_name) if it has none).
  - Ensures the application's service principal (the enterprise application), which Exchange Online and admin consent need.
  - O(state=absent) deletes the application; Entra ID deletes its service principal with it.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  unique_name:
    description:
      - The application's permanent key (Graph C(uniqueName)). 1 to 120 letters, digits, C(.), C(_) or C(-).
      - Cannot be changed once set. Required to create an application.
    type: str
  app_id:
    description:
      - Application (client) ID of an existing application, to manage one that was created without O(unique_name).
      - With O(unique_name) as well, an application that has no key yet gets O(unique_name) as its key.
    type: str
  display_name:
    description:
      - Display name. Required to create; not unique, never used to find the application.
    type: str
  sign_in_audience:
    description:
      - Who may sign in. New applications are single tenant (V(AzureADMyOrg)); an existing application is left
        as it is when this is omitted.
    type: str
    choices: [AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount, PersonalMicrosoftAccount]
  notes:
    description:
      - Free text notes shown in the portal (for example who owns the app and what reads the mailboxes).
    type: str
  tags:
    description:
      - Tags of the application; the list replaces the existing tags. Left alone when omitted.
    type: list
    elements: str
  service_principal:
    description:
      - Ensure the service principal (enterprise application) exists. V(false) leaves it as it is.
    type: bool
    default: true
  state:
    description:
      - V(present) creates or updates, V(absent) deletes the application and its service principal.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows the managed properties before and after.
seealso:
  - module: m365.mail_oauth.app_secret
  - module: m365.mail_oauth.api_permission
'''

EXAMPLES = r'''
- name: Register the mail reader app, single tenant
  m365.mail_oauth.azure_app_registration:
    tenant_id: 6f1c2a4e-0000-4000-8000-000000000001
    client_id: "{{ admin_client_id }}"
    client_secret: "{{ admin_client_secret }}"
    unique_name: helpdesk-mail-reader
    display_name: Helpdesk mail reader
    notes: Reads the helpdesk mailboxes over IMAP; owner mail-team@contoso.com
  register: app

- name: Same, with credentials set once for the whole play
  module_defaults:
    group/m365.mail_oauth.graph:
      tenant_id: "{{ tenant_id }}"
      client_id: "{{ admin_client_id }}"
      client_certificate_path: /etc/ansible/m365-admin.pem
  m365.mail_oauth.azure_app_registration:
    unique_name: helpdesk-mail-reader
    display_name: Helpdesk mail reader

- name: Adopt an application created by hand in the portal and give it a stable key
  m365.mail_oauth.azure_app_registration:
    app_id: 0b6f2c11-7c5e-4d8f-9c1e-1a2b3c4d5e6f
    unique_name: legacy-imap-app

- name: Remove the application and its service principal
  m365.mail_oauth.azure_app_registration:
    unique_name: helpdesk-mail-reader
    state: absent
'''

RETURN = r'''
app_id:
  description: Application (client) ID, to hand to the mail client.
  returned: when the application exists
  type: str
  sample: 0b6f2c11-7c5e-4d8f-9c1e-1a2b3c4d5e6f
object_id:
  description: Object ID of the application registration (not the one Exchange needs).
  returned: when the application exists
  type: str
service_principal_id:
  description: Object ID of the service principal (enterprise application); the one C(New-ServicePrincipal -ObjectId) needs.
  returned: when the service principal exists
  type: str
tenant_id:
  description: Directory (tenant) ID (a GUID, also when O(tenant_id) was given as a domain).
  returned: always
  type: str
unique_name:
  description: The application's key.
  returned: when the application exists
  type: str
display_name:
  description: Display name.
  returned: when the application exists
  type: str
created:
  description: Whether this run created the application.
  returned: always
  type: bool
same_display_name_count:
  description:
    - How many other applications have the same display name when this one is created (left alone; a warning names them,
      so duplicates made by other tools can be found).
  returned: when the application is created
  type: int
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import applications as apps
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.lease import PREFIX as LEASE_PREFIX
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import key_path
from ansible_collections.m365.mail_oauth.plugins.module_utils.module import GraphModule
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import check_display_name

# Managed properties: option name -> Graph property.
PROPERTIES = (('display_name', 'displayName'), ('sign_in_audience', 'signInAudience'), ('notes', 'notes'), ('tags', 'tags'))
SELECT = ['id', 'appId', 'uniqueName', 'displayName', 'signInAudience', 'notes', 'tags']


def view(app, principal):
    """The part of the state the diff shows."""
    if app is None:
        return {}
    shown = dict((option, app.get(prop)) for option, prop in PROPERTIES)
    shown.update(unique_name=app.get('uniqueName'), app_id=app.get('appId'), service_principal=principal is not None)
    return shown


def wanted_changes(params, app):
    """Graph properties to PATCH: only the options that are set and differ."""
    changes = {}
    for option, prop in PROPERTIES:
        value = params[option]
        if value is None:
            continue
        current = app.get(prop) if app else None
        if option == 'tags':
            # A secret lease (m365.mail_oauth.app_secret) is not ours to compare or drop.
            leases = [t for t in current or [] if t.startswith(LEASE_PREFIX)]
            if sorted(value) != sorted(t for t in current or [] if t not in leases):
                changes[prop] = list(value) + leases
        elif value != current:
            changes[prop] = value
    return changes


def find(client, params):
    if params['app_id']:
        app = apps.find_application(client, {'app_id': params['app_id']}, select=SELECT)
        if app and params['unique_name'] and app.get('uniqueName') not in (None, params['unique_name']):
            raise ConfigError("app_id %s already has the unique_name '%s', not '%s': a unique_name cannot be changed; "
                              "use the existing one or omit app_id" % (params['app_id'], app['uniqueName'], params['unique_name']))
        if app is None and not params['unique_name']:
            raise ConfigError('no application with app_id %s in this tenant; to create a new one give unique_name and '
                              'display_name instead' % params['app_id'])
        if app is not None:
            return app
    return apps.find_application(client, {'unique_name': params['unique_name']}, select=SELECT)


def ensure_present(module, client, params, result):
    app = find(client, params)
    principal = apps.find_service_principal(client, app['appId'], select=['id', 'appId']) if app else None
    before = view(app, principal)
    changes = wanted_changes(params, app)
    if app is None:
        if not params['display_name']:
            raise ConfigError("display_name is required to create the application '%s'" % params['unique_name'])
        # Only worth a call when creating: other tools' duplicates are what an admin wants to hear about then.
        result['same_display_name_count'] = len(apps.applications_named(client, params['display_name']))
        if result['same_display_name_count']:
            module.warn('%d other application(s) are named %s; they were left alone (this one is keyed by unique_name %s)'
                        % (result['same_display_name_count'], params['display_name'], params['unique_name']))
        changes.setdefault('signInAudience', 'AzureADMyOrg')
        result['changed'] = result['created'] = True
        if not module.check_mode:
            # Upsert by key: a concurrent or repeated run updates the same object instead of adding one.
            status, body = client.patch(key_path('applications', 'uniqueName', params['unique_name']), changes,
                                        headers={'Prefer': 'create-if-missing'})
            app = body if status == 201 else None
            app = apps.find_application(client, {'unique_name': params['unique_name']}, select=SELECT, retry_missing=True) \
                if app is None else app
            # Later tasks address it by id: wait until the directory serves it.
            client.get('applications/%s' % app['id'], params={'$select': 'id'}, retry_missing=True)
        else:
            app = dict((prop, changes.get(prop)) for _opt, prop in PROPERTIES)
            app['uniqueName'] = params['unique_name']
    else:
        if params['unique_name'] and not app.get('uniqueName'):
            changes['uniqueName'] = params['unique_name']
        if changes:
            result['changed'] = True
            if not module.check_mode:
                client.patch('applications/%s' % app['id'], changes, retry_missing=True)
            app = dict(app, **changes)

    if params['service_principal'] and principal is None:
        result['changed'] = True
        if not module.check_mode:
            principal = apps.create_service_principal(client, app['appId'])
        else:
            principal = {}
    result['diff'] = {'before': before, 'after': view(app, principal)}
    result.update(app_id=app.get('appId'), object_id=app.get('id'), unique_name=app.get('uniqueName'),
                  display_name=app.get('displayName'), service_principal_id=(principal or {}).get('id'))


def ensure_absent(module, client, params, result):
    app = find(client, params) if params['unique_name'] or params['app_id'] else None
    if app is None:
        result['diff'] = {'before': {}, 'after': {}}
        return
    principal = apps.find_service_principal(client, app['appId'], select=['id', 'appId'])
    result['diff'] = {'before': view(app, principal), 'after': {}}
    result['changed'] = True
    result.update(app_id=app['appId'], object_id=app['id'], unique_name=app.get('uniqueName'))
    if not module.check_mode:
        # Deleting the application deletes its service principal and that principal's grants.
        client.delete('applications/%s' % app['id'])


def run(module):
    params = module.params
    apps.check_selector(params)
    check_display_name(params['display_name'], 'display_name')
    client = module.client
    result = {'changed': False, 'created': False}
    if params['state'] == 'present':
        ensure_present(module, client, params, result)
    else:
        ensure_absent(module, client, params, result)
    result['tenant_id'] = module.tenant_guid()
    return result


def main():
    module = GraphModule(
        argument_spec=dict(
            unique_name=dict(type='str'),
            app_id=dict(type='str'),
            display_name=dict(type='str'),
            sign_in_audience=dict(type='str', choices=['AzureADMyOrg', 'AzureADMultipleOrgs',
                                                       'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount']),
            notes=dict(type='str'),
            tags=dict(type='list', elements='str'),
            service_principal=dict(type='bool', default=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        required_one_of=[['unique_name', 'app_id']],
    )
    module.run(run)


if __name__ == '__main__':
    main()
