# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: exchange_roles
short_description: The Exchange Online management roles some playbooks need
version_added: 0.3.0
description:
  - Reads the one table of what each playbook needs (the doctor's, which docs/permissions.md shows) and answers the
    Exchange Online management roles the playbooks named run their cmdlets with.
  - C(playbooks/bootstrap.yml) with C(admin_identity_exchange_role=role_group) puts exactly these into the admin identity's
    role group (M(m365.mail_oauth.exchange_role_group)), so what it grants and what the doctor checks cannot differ.
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
- name: The management roles of a least-privilege role group for every playbook
  ansible.builtin.debug:
    msg: "{{ ['provision', 'rotate_secret', 'deprovision', 'audit'] | m365.mail_oauth.exchange_roles }}"
    # ['Mail Recipients', 'Role Management', 'View-Only Configuration']
'''

RETURN = r'''
_value:
  description: Management role names, sorted.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.m365.mail_oauth.plugins.module_utils.doctor import needs_of


def exchange_roles(playbooks):
    try:
        return sorted(needs_of(playbooks, 'exchange_management_roles'))
    except ValueError as exc:
        raise AnsibleFilterError('exchange_roles: %s' % exc)


class FilterModule:
    def filters(self):
        return {'exchange_roles': exchange_roles}
