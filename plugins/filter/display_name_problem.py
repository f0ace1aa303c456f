# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: display_name_problem
short_description: Why a string cannot be an Entra ID display name
version_added: 0.1.0
description:
  - The rule of M(m365.mail_oauth.azure_app_registration), M(m365.mail_oauth.app_secret) and
    M(m365.mail_oauth.exchange_service_principal) for O(display_name), for checks before the first write - empty names,
    leading or trailing spaces, control, invisible and bidirectional-override characters (such as U+202E) and names over
    the service limit (256) are refused. It includes the rule the Exchange Online steps apply to every name they send, so a
    name that passes here is not refused by a later step.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  _input:
    description: The display name.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Refuse a bad name
  ansible.builtin.assert:
    that: name | m365.mail_oauth.display_name_problem == ''
'''

RETURN = r'''
_value:
  description: The reason, or an empty string when the name is fine.
  type: str
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.names import display_name_problem as _problem


def display_name_problem(value):
    return _problem(value) or ''


class FilterModule:
    def filters(self):
        return {'display_name_problem': display_name_problem}
