# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: mailbox_list
short_description: Check a mailbox list by the rules the Exchange actions apply
version_added: 0.2.0
description:
  - The mailbox list of the role C(m365.mail_oauth.mailbox_access), checked and parsed by the same code as the
    O(m365.mail_oauth.mailbox_permission#module:mailboxes) and O(m365.mail_oauth.mailbox_permission#module:mailboxes_file)
    options of M(m365.mail_oauth.mailbox_permission). Wildcards, empty or malformed identities and the same identity twice
    (case-insensitive) are problems.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  _input:
    description: Mailbox identities given as a list.
    type: list
    elements: raw
    required: true
  file_text:
    description: Text of a mailbox list file (one identity per line, C(#) comments, or a YAML/JSON list), added after O(_input).
    type: str
    default: ""
  file_name:
    description: Name of that file, for the messages.
    type: str
    default: mailboxes_file
'''

EXAMPLES = r'''
- name: Check the mailboxes
  ansible.builtin.set_fact:
    checked: "{{ ['a@contoso.com', 'user*'] | m365.mail_oauth.mailbox_list }}"
    # checked.problems: ["mailbox_access_mailboxes[1] 'user*': it contains a wildcard (* or ?)"]
'''

RETURN = r'''
_value:
  description: C(mailboxes) (the usable identities, in order) and C(problems) (one message per bad or repeated entry).
  type: dict
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import check_mailboxes, parse_mailbox_file


def mailbox_list(mailboxes, file_text='', file_name='mailboxes_file'):
    values = [to_text(v) if v is not None else '' for v in (mailboxes or [])]
    sources = ['mailbox_access_mailboxes[%d]' % i for i in range(len(values))]
    if file_text:
        try:
            from_file = parse_mailbox_file(file_name, to_text(file_text))
        except ConfigError as exc:
            raise AnsibleFilterError(exc.msg)
        values += from_file
        sources += ['%s[%d]' % (file_name, i) for i in range(len(from_file))]
    unique, problems = check_mailboxes(values, 'mailboxes')
    # check_mailboxes numbers the combined list; name each entry where it came from instead.
    named = []
    for problem in problems:
        index = int(problem.split('[', 1)[1].split(']', 1)[0])
        named.append(sources[index] + problem.split(']', 1)[1])
    return {'mailboxes': unique, 'problems': named}


class FilterModule:
    def filters(self):
        return {'mailbox_list': mailbox_list}
