# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: graph_permissions
short_description: The Microsoft Graph application permissions some playbooks need
version_added: 0.1.0
description:
  - Reads the one table of what each playbook needs (the doctor's, which docs/permissions.md shows) and answers the
    Microsoft Graph application permissions of the playbooks named, without one that another in the answer covers
    (C(Application.Read.All) beside C(Application.ReadWrite.All)).
  - C(playbooks/bootstrap.yml) grants these to the admin identity it creates, so what it grants and what the doctor
    checks cannot differ.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  _input:
    description: Playbook names - C(provision), C(rotate_secret), C(deprovision), C(audit).
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: What the admin identity needs to run every playbook
  ansible.builtin.debug:
    msg: "{{ ['provision', 'rotate_secret', 'deprovision', 'audit'] | m365.mail_oauth.graph_permissions }}"
    # ['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All']
'''

RETURN = r'''
_value:
  description: Permission names, sorted.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.mail_oauth.plugins.module_utils.doctor import COVERS, needs_of


def graph_permissions(playbooks):
    try:
        wanted = needs_of(playbooks, 'graph')
    except ValueError as exc:
        raise AnsibleFilterError('graph_permissions: %s' % exc)
    return sorted(p for p in wanted if not set(COVERS.get(p, ())) & wanted)


class FilterModule:
    def filters(self):
        return {'graph_permissions': graph_permissions}
