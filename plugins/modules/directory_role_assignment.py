#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: directory_role_assignment
short_description: Ensure a Microsoft Entra built-in role is assigned to an application's service principal
version_added: 0.1.0
description:
  - Assigns a built-in directory role (for example C(Exchange Administrator), the Exchange role an app needs for
    Exchange Online PowerShell with C(Exchange.ManageAsApp)) to the service principal of an application, tenant-wide,
    through Microsoft Graph's role management API (C(POST /roleManagement/directory/roleAssignments) with
    C(principalId), C(roleDefinitionId) and C(directoryScopeId=/); Microsoft Learn, "Create unifiedRoleAssignment").
  - Idempotent - the service principal's assignments are read first (C(GET /roleManagement/directory/roleAssignments)
    filtered by C(principalId)); an assignment that exists is left alone.
  - Needs C(RoleManagement.ReadWrite.Directory) (application) or, for a person, that scope and the Privileged Role
    Administrator or Global Administrator role (Microsoft Learn, "Create unifiedRoleAssignment", permissions).
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  role:
    description: The built-in role, by name or by its template id.
    type: str
    required: true
  principal_id:
    description: Object id of the service principal, instead of naming its application (O(unique_name), O(app_id), O(object_id)).
    type: str
  state:
    description: V(present) assigns the role, V(absent) removes the assignment.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - m365.mail_oauth.application_selector
  - m365.mail_oauth.graph_auth
attributes:
  check_mode:
    support: full
    description: Reports whether the role would be assigned or removed; changes nothing.
  diff_mode:
    support: full
    description: The service principal's roles among the known built-in ones, before and after.
seealso:
  - module: m365.mail_oauth.api_permission
'''

EXAMPLES = r'''
- name: The admin app may run Exchange Online PowerShell cmdlets (with Exchange.ManageAsApp)
  m365.mail_oauth.directory_role_assignment:
    unique_name: m365-mail-oauth-admin
    role: Exchange Administrator

- name: Take it away again
  m365.mail_oauth.directory_role_assignment:
    app_id: 0b6f2c11-7c5e-4d8f-9c1e-1a2b3c4d5e6f
    role: Exchange Administrator
    state: absent
'''

RETURN = r'''
assignment_id:
  description: Id of the role assignment (after the run; none when absent).
  returned: when it exists
  type: str
role_definition_id:
  description: Template id of the role.
  returned: always
  type: str
principal_id:
  description: Object id of the service principal.
  returned: when it exists
  type: str
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import APPLICATION_SELECTOR_SPEC
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import check_guid
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import applications as apps
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import odata_string
from ansible_collections.m365.mail_oauth.plugins.module_utils.module import GraphModule
from ansible_collections.m365.mail_oauth.plugins.module_utils.signin import ROLE_NAMES, ROLE_TEMPLATES

ASSIGNMENTS = 'roleManagement/directory/roleAssignments'


def role_template(role):
    """The template id of a built-in role given by name (any case) or id."""
    by_name = dict((name.lower(), template) for template, name in ROLE_TEMPLATES.items())
    template = by_name.get(role.strip().lower()) or (role.lower() if role.lower() in ROLE_TEMPLATES else None)
    if template is None:
        raise ConfigError("role '%s' is not a role this module knows: choose one of %s (or its template id)" % (role, ', '.join(ROLE_NAMES)))
    return template


def run(module):
    params = module.params
    template = role_template(params['role'])
    apps.check_selector(params)
    check_guid(params.get('principal_id'), 'principal_id')
    client = module.client
    principal_id = params.get('principal_id')
    if not principal_id:
        present = params['state'] == 'present'
        app_id = params.get('app_id')
        if not app_id:
            app = apps.find_application(client, params, select=['id', 'appId'])
            app_id = app['appId'] if app else None
        principal = apps.find_service_principal(client, app_id, select=['id', 'appId'], retry_missing=present and not module.check_mode) if app_id else None
        if principal is None:
            if not present:
                return {'changed': False, 'role_definition_id': template}
            if not module.check_mode:
                raise ConfigError('%s has no service principal in this tenant: create it first (m365.mail_oauth.azure_app_registration '
                                  'with service_principal=true)' % apps.describe_selector(params))
            module.warn('%s has no service principal yet; the role would be assigned once it exists' % apps.describe_selector(params))
            return {'changed': True, 'role_definition_id': template,
                    'diff': {'before': {'roles': []}, 'after': {'roles': [ROLE_TEMPLATES[template]]}}}
        principal_id = principal['id']
    assignments = client.list(ASSIGNMENTS, params={'$filter': 'principalId eq %s' % odata_string(principal_id)})
    # Tenant-wide assignments only: one scoped to an administrative unit does not give the role in Exchange Online.
    held = [a for a in assignments if (a.get('roleDefinitionId') or '').lower() == template and a.get('directoryScopeId') == '/']
    names_before = sorted(set(ROLE_TEMPLATES.get((a.get('roleDefinitionId') or '').lower(), a.get('roleDefinitionId'))
                              for a in assignments))
    result = {'changed': False, 'role_definition_id': template, 'principal_id': principal_id}
    name = ROLE_TEMPLATES[template]
    if params['state'] == 'present':
        names_after = sorted(set(names_before) | set([name]))
        if held:
            result['assignment_id'] = held[0]['id']
        else:
            result['changed'] = True
            if not module.check_mode:
                created = client.post(ASSIGNMENTS, {'principalId': principal_id, 'roleDefinitionId': template, 'directoryScopeId': '/'},
                                      retry_missing=True)
                result['assignment_id'] = created['id']
    else:
        names_after = [n for n in names_before if n != name]
        if held:
            result['changed'] = True
            if not module.check_mode:
                for assignment in held:
                    client.delete('%s/%s' % (ASSIGNMENTS, assignment['id']))
    result['diff'] = {'before': {'roles': names_before}, 'after': {'roles': names_after}}
    return result


def main():
    spec = dict(APPLICATION_SELECTOR_SPEC)
    spec.update(
        role=dict(type='str', required=True),
        principal_id=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module = GraphModule(argument_spec=spec, mutually_exclusive=[['unique_name', 'app_id', 'object_id', 'principal_id']],
                         required_one_of=[['unique_name', 'app_id', 'object_id', 'principal_id']])
    module.run(run)


if __name__ == '__main__':
    main()
