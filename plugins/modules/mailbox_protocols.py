#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: mailbox_protocols
short_description: Switch IMAP, POP and SMTP AUTH per mailbox (Set-CASMailbox) and check the tenant's SMTP AUTH setting
version_added: 0.1.0
description:
  - Ensures C(ImapEnabled), C(PopEnabled) and C(SmtpClientAuthenticationDisabled) of each listed mailbox, in one round trip
    and one Exchange session, changing only mailboxes that differ. Options left unset are left alone.
  - Reads C(Get-TransportConfig) and warns when SMTP AUTH is disabled for the organization and a mailbox inherits that,
    since SMTP with OAuth then fails with C(535 5.7.139).
  - A separate module from M(m365.mail_oauth.mailbox_permission) on purpose - these are settings of the mailbox, independent
    of which application has access, and V(absent) or C(exclusive) would mean nothing for them.
  - This is an action plugin - C(delegate_to) a Windows host (or a host with pwsh).
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  mailboxes:
    description: Mailbox identities (UPN, primary address, alias or GUID).
    type: list
    elements: str
  mailboxes_file:
    description: A file on the controller with the mailboxes, one per line or a YAML/JSON list.
    type: path
  imap:
    description: Enable (V(true)) or disable (V(false)) IMAP for the mailboxes.
    type: bool
  pop:
    description: Enable or disable POP for the mailboxes.
    type: bool
  smtp_client_auth:
    description:
      - SMTP AUTH (client submission) for the mailboxes - V(enabled) overrides a tenant that disables it, V(disabled) turns
        it off for the mailbox, V(inherit) follows the organization (C(Get-TransportConfig)).
    type: str
    choices: [enabled, disabled, inherit]
  missing:
    description: V(fail) or V(warn) for listed mailboxes that do not exist.
    type: str
    choices: [fail, warn]
    default: fail
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
  - m365.mail_oauth.exchange_connection
attributes:
  check_mode:
    support: full
    description: Reads the settings (no writes) and reports what would change.
  diff_mode:
    support: full
    description: The protocol settings of each mailbox that changes, before and after.
seealso:
  - module: m365.mail_oauth.mailbox_permission
'''

EXAMPLES = r'''
- name: IMAP and SMTP AUTH on, POP off, for the support mailboxes
  m365.mail_oauth.mailbox_protocols:
    mailboxes: [support@contoso.com]
    imap: true
    pop: false
    smtp_client_auth: enabled
  delegate_to: exchange-admin-host
'''

RETURN = r'''
changed_mailboxes:
  description: Mailboxes whose settings changed (or would change in check mode).
  returned: always
  type: list
  elements: str
missing:
  description: Listed mailboxes that do not exist.
  returned: always
  type: list
  elements: str
tenant_smtp_client_auth_disabled:
  description: The organization's C(SmtpClientAuthenticationDisabled).
  returned: always
  type: bool
organization:
  description: The organization Exchange Online was connected to.
  returned: always
  type: str
round_trips:
  description: Round trips to the PowerShell host (one per task).
  returned: always
  type: int
exchange_sessions:
  description: >-
    Parallel Exchange Online sessions that read and set the protocol switches (C(Get-CASMailbox), C(Set-CASMailbox)): 1 below
    40 mailboxes, at most O(exchange_sessions); 0 without a connection.
  returned: always
  type: int
'''
