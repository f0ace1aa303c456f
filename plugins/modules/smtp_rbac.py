#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: smtp_rbac
short_description: Let an app send as exactly the listed mailboxes over SMTP through Exchange Online's RBAC for Applications
version_added: 0.2.0
description:
  - Ensures a management scope that covers exactly the listed mailboxes (C(New-ManagementScope)/C(Set-ManagementScope)
    with a C(RecipientRestrictionFilter)) and the role C(Application SMTP.SendAsApp) assigned to the app's Exchange service
    principal with that scope (C(New-ManagementRoleAssignment -App <object id> -CustomResourceScope <scope>)), in one
    round trip and one Exchange session.
  - This is the narrower way to let a send-only app use SMTP with OAuth (Microsoft's C(smtp-app-rbac-onboarding) page) -
    no FullAccess on the mailboxes (so the app cannot read them) and no Entra ID application permission C(SMTP.SendAsApp)
    (granting it brings the per-mailbox permission check back). IMAP and POP are not covered; they still need FullAccess
    (M(m365.mail_oauth.mailbox_permission)). C(docs/permissions.md) compares the two ways.
  - B(The scope's filter.) One C((PrimarySmtpAddress -eq '<address>')) statement per mailbox, joined with C(-or), lower
    case and sorted, so the same list always gives the same filter and a changed list changes it in place
    (C(Set-ManagementScope)). Every entry must therefore be a primary SMTP address; an alias, a UPN that differs from the
    address or a GUID is refused before anything is read, as is an address with a quote, space or C($) (Exchange would
    refuse the filter or read it differently). Learn documents no length limit for the filter; this module sends at
    most 65,536 characters (about 1,400 addresses) and says so before the first write. A filter Exchange refuses fails
    C(New-ManagementScope)/C(Set-ManagementScope), and the run stops there - before the role assignment is touched.
  - B(Not chosen) - a scope over C(MemberOfGroup) of a mail-enabled group, which Exchange also supports; the group's
    membership would then be managed outside this collection and a listed mailbox could silently fall out of the scope.
  - B(Names and adoption.) Both objects are named C(m365-mail_oauth-smtp-<app id>) unless O(scope_name) or
    O(assignment_name) say otherwise - stable across runs (a rerun finds and adopts them, correcting the filter) and unique
    per app (two apps never share a scope or an assignment); within C(New-ManagementRoleAssignment)'s 64 characters.
    An assignment of that name with another role or scope is replaced (an assignment's scope cannot be changed in place).
  - B(Checking.) C(Test-ServicePrincipalAuthorization) is read for every listed mailbox; when nothing needs to change,
    a listed mailbox the role does not reach (for example a secondary address) is returned in RV(out_of_scope) with a
    warning. It bypasses the permission cache real logins go through (30 minutes to 2 hours after a change, Learn
    C(application-rbac)), so it is a fast check, never the proof - M(m365.mail_oauth.mail_oauth_check) proves a login.
  - With O(state=absent) the assignment is removed, then the scope (only the scope this module names itself; a scope
    given in O(scope_name) is left to its owner).
  - This is an action plugin - C(delegate_to) a Windows host (or a host with pwsh).
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  app_id:
    description: Application (client) id of the mail app.
    type: str
  object_id:
    description: Object id of the mail app's service principal (enterprise application) in Entra ID.
    type: str
  mailboxes:
    description:
      - Primary SMTP addresses of the mailboxes the app may send as (C(MAIL FROM) and the XOAUTH2 user). Required with
        O(state=present) (or O(mailboxes_file)).
    type: list
    elements: str
  mailboxes_file:
    description: A file on the controller with the addresses, one per line or a YAML/JSON list.
    type: path
  scope_name:
    description:
      - Name of the management scope; C(m365-mail_oauth-smtp-<app id>) when unset. An existing scope of that name is adopted
        and its filter set to the listed mailboxes.
    type: str
  assignment_name:
    description: Name of the role assignment (at most 64 characters); C(m365-mail_oauth-smtp-<app id>) when unset.
    type: str
  state:
    description: V(present) ensures the scope and the assignment; V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  test_authorization:
    description: Read C(Test-ServicePrincipalAuthorization) for every listed mailbox (one call each) to report RV(out_of_scope).
    type: bool
    default: true
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
  - m365.mail_oauth.exchange_connection
attributes:
  check_mode:
    support: full
    description: Reads the scope, the assignment and the authorization (no writes) and reports what would change.
  diff_mode:
    support: full
    description: The scope (name, mailboxes its filter names) and the assignment (name, role, scope), before and after.
seealso:
  - module: m365.mail_oauth.exchange_service_principal
  - module: m365.mail_oauth.mailbox_permission
  - module: m365.mail_oauth.mail_oauth_check
  - name: RBAC for Applications in Exchange Online
    description: Management scopes and role assignments for apps; the permission cache.
    link: https://learn.microsoft.com/exchange/permissions-exo/application-rbac
'''

EXAMPLES = r'''
- name: A printer may send as two mailboxes over SMTP, and read none
  m365.mail_oauth.smtp_rbac:
    app_id: "{{ printer_app.app_id }}"
    mailboxes:
      - scanner@contoso.com
      - alerts@contoso.com
  delegate_to: exchange-admin-host

- name: Remove the printer's scope and role assignment
  m365.mail_oauth.smtp_rbac:
    app_id: "{{ printer_app.app_id }}"
    state: absent
  delegate_to: exchange-admin-host
'''

RETURN = r'''
actions:
  description: The writes done (or due in check mode), in order - C(new_management_scope), C(set_management_scope),
    C(remove_management_role_assignment), C(new_management_role_assignment), C(remove_management_scope).
  returned: always
  type: list
  elements: str
principal:
  description: The service principal (C(app_id), C(object_id), C(display_name)).
  returned: always
  type: dict
scope_name:
  description: Name of the management scope.
  returned: when the principal is known
  type: str
  sample: m365-mail_oauth-smtp-3f9c2a71-5b1e-4c8d-9e0f-7a6b5c4d3e2f
assignment_name:
  description: Name of the role assignment.
  returned: when the principal is known
  type: str
role:
  description: The role assigned.
  returned: when the principal is known
  type: str
  sample: Application SMTP.SendAsApp
scope:
  description: The scope after the task - C(name) and C(mailboxes) (the addresses its filter names); null after removal.
  returned: when the principal is known
  type: dict
out_of_scope:
  description:
    - Listed mailboxes C(Test-ServicePrincipalAuthorization) says the role does not reach; only reported when nothing
      needed to change (a new or changed scope is read before the change).
  returned: when the principal is known
  type: list
  elements: str
before:
  description: The scope (C(name), C(mailboxes), C(filter)) and the assignment (C(name), C(role), C(scope)) as read; null when missing.
  returned: when the principal is known
  type: dict
after:
  description: The scope and the assignment after the task (or after a run without check mode).
  returned: when the principal is known
  type: dict
organization:
  description: The organization Exchange Online was connected to.
  returned: when the principal is known
  type: str
round_trips:
  description: Round trips to the PowerShell host (one per task).
  returned: always
  type: int
'''
