#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: exchange_service_principal
short_description: Ensure Exchange Online's service principal for an Entra ID application (New-ServicePrincipal)
version_added: 0.1.0
description:
  - Ensures the Exchange Online service principal that app-only IMAP, POP and SMTP access needs before mailbox permissions
    can be granted to the application.
  - The ids are checked in Microsoft Graph first - Exchange itself accepts any ids. O(object_id) is the service principal's
    (enterprise application's) object id; the application registration's object id is refused with both ids named,
    before Exchange is touched.
  - An existing entry with other ids is removed and created again (C(Set-ServicePrincipal) can only change the display name).
  - With O(state=absent), when Graph has no service principal for the id (the application was already deleted in Entra ID),
    the entry is removed by Exchange Online's own record of it (C(Get-ServicePrincipal -Identity) with the id, then
    C(Remove-ServicePrincipal)), with a warning; when neither knows the id, nothing changes and a warning says so.
    O(state=present) always needs the service principal in Graph.
  - This is an action plugin - it runs Exchange Online PowerShell on the task's host, so C(delegate_to) a Windows host
    (or a host with pwsh).
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  app_id:
    description: Application (client) ID of the mail application. Needed unless O(object_id) is given.
    type: str
  object_id:
    description:
      - Object ID of the application's service principal (Entra admin center, Enterprise applications), NOT the object id
        of the app registration. Looked up from Graph by O(app_id) when omitted, checked against Graph when given.
    type: str
  display_name:
    description: Display name of the Exchange entry. Defaults to the service principal's display name in Entra ID.
    type: str
  state:
    description:
      - V(present) creates or repairs the entry, V(absent) removes it (also when the application is gone from Entra ID).
    type: str
    choices: [present, absent]
    default: present
  report_smtp_rbac:
    description:
      - Also read, in the same connection, whether the app holds the role assignment M(m365.mail_oauth.smtp_rbac) makes by
        default (C(m365-mail_oauth-smtp-<app id>)) and return its name as RV(smtp_rbac_assignment).
      - The role C(m365.mail_oauth.mailbox_access) sets it with C(mailbox_access_smtp_access=full_access), so that an app
        switched back from C(rbac) loses the scope and assignment it no longer needs.
      - One more read cmdlet, no more round trips. A read that fails fails the task; it is never taken for "none".
    type: bool
    default: false
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
  - m365.mail_oauth.exchange_connection
attributes:
  check_mode:
    support: full
    description: Reads the entry in Exchange (one round trip, no writes) and reports what would change.
  diff_mode:
    support: full
    description: Shows the Exchange entries before and after.
seealso:
  - module: m365.mail_oauth.mailbox_permission
  - module: m365.mail_oauth.azure_app_registration
'''

EXAMPLES = r'''
- name: Register the mail app with Exchange Online (object id looked up in Graph)
  m365.mail_oauth.exchange_service_principal:
    app_id: "{{ mail_app.app_id }}"
  delegate_to: exchange-admin-host

- name: With an explicit object id (checked against Graph) and a name
  m365.mail_oauth.exchange_service_principal:
    app_id: "{{ mail_app.app_id }}"
    object_id: "{{ mail_app.service_principal_id }}"
    display_name: Helpdesk mail reader
  delegate_to: exchange-admin-host

- name: Remove the Exchange entry of an application already deleted in Entra ID
  m365.mail_oauth.exchange_service_principal:
    app_id: 3f9c2a71-5b1e-4c8d-9e0f-7a6b5c4d3e2f
    state: absent
  delegate_to: exchange-admin-host
'''

RETURN = r'''
app_id:
  description: Application (client) ID.
  returned: always
  type: str
object_id:
  description: Object ID of the service principal, as registered in Exchange.
  returned: always
  type: str
display_name:
  description: Display name of the Exchange entry.
  returned: always
  type: str
actions:
  description: The Exchange cmdlets the run called (or would call in check mode), by operation name.
  returned: always
  type: list
  elements: str
  sample: [remove_service_principal, new_service_principal]
recreated:
  description: Whether an entry with wrong ids was removed and created again.
  returned: always
  type: bool
smtp_rbac_assignment:
  description: The name of the app's SMTP RBAC role assignment (made by M(m365.mail_oauth.smtp_rbac)), or V(null) when it has none.
  returned: with O(report_smtp_rbac=true) and O(state=present)
  type: str
  sample: m365-mail_oauth-smtp-00000000-0000-0000-0000-000000000001
source:
  description: V(exchange) when the ids came from Exchange Online's own record because Graph no longer knows the application.
  returned: with O(state=absent) when Graph has no service principal for the id
  type: str
organization:
  description: The organization Exchange Online was connected to.
  returned: when connected
  type: str
round_trips:
  description: Round trips to the PowerShell host (one per task).
  returned: always
  type: int
exchange_sessions:
  description: Exchange Online sessions the task used on the host, 1 (0 when it did not connect); it has no mailbox list to spread.
  returned: always
  type: int
'''
