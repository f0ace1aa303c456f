# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: smtp_scope_problem
short_description: Why a mailbox list cannot become the management scope of M(m365.mail_oauth.smtp_rbac)
version_added: 0.2.0
description:
  - The rule of M(m365.mail_oauth.smtp_rbac) for its O(m365.mail_oauth.smtp_rbac#module:mailboxes) - each entry a primary
    SMTP address without quotes, spaces or C($), at least one, and a filter of at most 65,536 characters - applied by the
    role C(m365.mail_oauth.mailbox_access) before anything is created.
  - An empty string when the list can be used.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  _input:
    description: The mailboxes.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Refuse a list the management scope cannot hold
  ansible.builtin.assert:
    that: (['scanner', 'alerts@contoso.com'] | m365.mail_oauth.smtp_scope_problem) | length == 0
'''

RETURN = r'''
_value:
  description: The problem and its fix, or an empty string.
  type: str
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.smtp_rbac_plan import scope_addresses, scope_filter


def smtp_scope_problem(mailboxes):
    try:
        scope_filter(scope_addresses(list(mailboxes or [])))
    except ConfigError as exc:
        return exc.msg
    return ''


class FilterModule:
    def filters(self):
        return {'smtp_scope_problem': smtp_scope_problem}
