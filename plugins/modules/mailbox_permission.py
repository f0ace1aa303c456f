#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: mailbox_permission
short_description: Grant or remove an application's FullAccess (and SendAs) on many mailboxes in one Exchange session
version_added: 0.1.0
description:
  - Ensures that the service principal of an application holds C(FullAccess) (C(Add-MailboxPermission
    -AccessRights FullAccess -InheritanceType All -AutoMapping $false)) and optionally C(SendAs) (C(Add-RecipientPermission))
    on a list of mailboxes - what app-only IMAP, POP and SMTP need.
  - One task is one round trip to the PowerShell host and one C(Connect-ExchangeOnline), for any number of mailboxes - the
    host reads every mailbox's permissions and writes only where they differ, in the same session. The controller computes
    the changes and the diff from the permissions read and checks that the host did exactly those writes.
  - With O(exclusive=true) the principal also loses the listed rights on every mailbox that is not listed.
  - With O(state=absent), when Graph has no service principal for the id (the application was already deleted in Entra ID),
    the principal is found by Exchange Online's own record of it (C(Get-ServicePrincipal -Identity) with the id, one more
    read), whose object id the mailbox permissions name; a warning says so. When neither knows the id, nothing changes
    and a warning says so. O(state=present) always needs the service principal in Graph.
  - Protocol switches (IMAP, POP, SMTP AUTH per mailbox) are in M(m365.mail_oauth.mailbox_protocols) - they are settings of
    the mailbox, not of the application's access, and have no O(state=absent) or O(exclusive) meaning.
  - This is an action plugin - C(delegate_to) a Windows host (or a host with pwsh).
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  app_id:
    description: Application (client) ID of the mail application (the principal that gets access).
    type: str
  object_id:
    description:
      - Object ID of the application's service principal (enterprise application), checked against Graph; looked up
        from O(app_id) when omitted. The application registration's object id is refused.
    type: str
  mailboxes:
    description:
      - Mailbox identities (UPN, primary address, alias or GUID). Duplicates are ignored (case-insensitive).
    type: list
    elements: str
  mailboxes_file:
    description:
      - A file on the controller with the mailboxes - one per line (C(#) starts a comment), or a YAML or JSON list.
        Relative paths are looked up like other files (role C(files/), the playbook directory). For thousands of mailboxes.
    type: path
  access_rights:
    description: The rights to manage. C(SendAs) goes through C(Add-RecipientPermission).
    type: list
    elements: str
    choices: [FullAccess, SendAs]
    default: [FullAccess]
  automapping:
    description: C(-AutoMapping) when FullAccess is added (Outlook would otherwise try to open the mailbox).
    type: bool
    default: false
  exclusive:
    description:
      - Remove the principal's O(access_rights) from every mailbox that is not listed (read in the same session).
        With O(state=present) refused with an empty list; with O(state=absent) the rights go from the listed mailboxes
        and every other one, so an empty list means everywhere.
      - A listed mailbox whose read fails with anything but not-found (a timeout, a transient server error) is never a
        removal target - its canonical name is unknown, so the task then removes nothing from unlisted mailboxes either,
        fails naming that mailbox with Exchange's text, and the next run removes the rest.
    type: bool
    default: false
  state:
    description: V(present) grants, V(absent) removes the rights on the listed mailboxes.
    type: str
    choices: [present, absent]
    default: present
  missing:
    description:
      - What a mailbox that does not exist does - V(fail) fails the task after the other mailboxes were processed,
        V(warn) only warns. Either way it is reported in RV(missing).
      - A C(-User) Exchange cannot resolve (a service principal created moments ago, not yet in the directory Exchange
        resolves users from) is not a missing mailbox - told apart by the object Exchange's error names; the task fails
        saying the principal is not known to Exchange yet, to rerun in a few minutes.
    type: str
    choices: [fail, warn]
    default: fail
  principal_created_this_run:
    description:
      - Say V(true) when the principal's Exchange Online service principal was created in this same run, as
        M(m365.mail_oauth.exchange_service_principal) reports with V(new_service_principal) in its
        RV(m365.mail_oauth.exchange_service_principal#module:actions).
        A principal that did not exist a moment ago cannot hold a permission, so the mailboxes are not read first and the
        rights are added straight away - half the Exchange calls of a first provision. Each add's answer still decides
        RV(added) and RV(missing); an add that Exchange answers with "an existing permission entry was found" counts as unchanged.
      - Ignored in check mode, with O(exclusive=true) and with O(state=absent), which always read first.
      - Do not set it for a principal that existed before the run - its existing entries would be reported as added.
    aliases: [new_principal]
    type: bool
    default: false
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
  - m365.mail_oauth.exchange_connection
attributes:
  check_mode:
    support: full
    description: Reads the permissions (one round trip, no writes) and reports what would change.
  diff_mode:
    support: full
    description: The rights of the principal on each mailbox that changes, before and after.
notes:
  - A mailbox holds at most about 500 permission entries; Exchange's error for a full mailbox is reported and the run stops there.
seealso:
  - module: m365.mail_oauth.exchange_service_principal
  - module: m365.mail_oauth.mailbox_protocols
'''

EXAMPLES = r'''
- name: FullAccess for the mail app on the support mailboxes, and nowhere else
  m365.mail_oauth.mailbox_permission:
    app_id: "{{ mail_app.app_id }}"
    mailboxes:
      - support@contoso.com
      - sales@contoso.com
    exclusive: true
  delegate_to: exchange-admin-host

- name: Thousands of mailboxes from a file, missing ones only warned about
  m365.mail_oauth.mailbox_permission:
    app_id: "{{ mail_app.app_id }}"
    mailboxes_file: mailboxes.txt
    missing: warn
  delegate_to: exchange-admin-host
'''

RETURN = r'''
principal:
  description:
    - The service principal that holds the rights (app_id, object_id, display_name; C(source=exchange) when read from
      Exchange Online's record because Graph no longer knows the application).
    - V(null) with O(state=absent) when neither Graph nor Exchange Online knows the id.
  returned: always
  type: dict
added:
  description: Mailboxes that got a right, by right.
  returned: when Exchange was read
  type: dict
  sample: {"FullAccess": ["support@contoso.com"]}
removed:
  description: Mailboxes that lost a right, by right.
  returned: when Exchange was read
  type: dict
missing:
  description: Listed mailboxes that do not exist.
  returned: when Exchange was read
  type: list
  elements: str
unchanged:
  description: How many listed mailboxes were already right.
  returned: when Exchange was read
  type: int
mailbox_count:
  description: How many distinct mailboxes were listed.
  returned: always
  type: int
organization:
  description: The organization Exchange Online was connected to.
  returned: when Exchange was read
  type: str
round_trips:
  description: Round trips to the PowerShell host (one per task).
  returned: always
  type: int
exchange_sessions:
  description:
    - How many Exchange Online sessions (one C(Connect-ExchangeOnline) each) shared the permission reads and writes on the host.
    - Above 1 only with 40 or more mailboxes and O(exchange_sessions) above 1; 0 when the task did not connect.
  returned: always
  type: int
'''
