#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: doctor
short_description: Check every prerequisite of the playbooks before a first run, and name each fix
version_added: 0.1.0
description:
  - Checks, for one tenant, what the playbooks need before they change anything, and reports each check as C(ok),
    C(problem) or C(warning), every problem with its fix.
  - V(endpoints) - the login and Microsoft Graph endpoints answer (a refused connection or an unknown host fails in
    seconds and names the host).
  - V(clock) - the controller's clock against the login service's (the C(Date) header of its answer).
  - V(token) - a token for the admin identity (the Graph auth options).
  - V(graph_permissions) - the Microsoft Graph permissions in the token against what each playbook of O(playbooks)
    needs (the table of C(docs/permissions.md)). An application token carries them in C(roles); a person's delegated
    token in C(scp), and then the person's directory roles (C(wids)) are judged too.
  - V(manage_as_app) - C(Exchange.ManageAsApp) in the admin app's Exchange Online token.
  - V(exchange_host) - the PowerShell host of the task's connection (C(delegate_to) the Exchange host) - reachable,
    edition, version, language mode, ExchangeOnlineManagement and its version (C(-AccessToken) needs 3.1.0;
    3.10.0 needs PowerShell 7.6, so Windows PowerShell 5.1 hosts stay on 3.9).
  - V(exchange_role) - the Exchange role in effect, by harmless reads through the collection's runner
    (C(Get-ServicePrincipal), C(Get-Mailbox -ResultSize 1)).
  - Changes nothing anywhere. This is an action plugin - the host checks go through the task's connection.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  checks:
    description: The checks to run. Leave out V(exchange_host) and V(exchange_role) when there is no Exchange host.
    type: list
    elements: str
    choices: [endpoints, clock, token, graph_permissions, manage_as_app, exchange_host, exchange_role]
    default: [endpoints, clock, token, graph_permissions, manage_as_app, exchange_host, exchange_role]
  playbooks:
    description: The playbooks whose needs are judged (the Graph permissions, and whether Exchange steps follow).
    type: list
    elements: str
    choices: [provision, rotate_secret, deprovision, audit]
    default: [provision, rotate_secret, deprovision, audit]
  read_grants:
    description:
      - Whether the playbooks read tenant-wide delegated consent (the role's C(mailbox_access_remove_user_read)); without
        it C(DelegatedPermissionGrant.ReadWrite.All) is not needed.
    type: bool
    default: true
  reads_in_check_mode:
    description:
      - In check mode, judge V(provision) by what its reads need (the V(audit) set), as a check-mode run of the role
        (the audit playbook) changes nothing. The role's pre-flight sets it.
    type: bool
    default: false
  fail_on_problems:
    description: Fail the task when a check finds a problem (the report is returned either way).
    type: bool
    default: true
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
  - m365.mail_oauth.exchange_connection
attributes:
  check_mode:
    support: full
    description: Only reads, in either mode.
  diff_mode:
    support: none
    description: It changes nothing, so there is nothing to show as a diff.
seealso:
  - module: m365.mail_oauth.exchange_service_principal
'''

EXAMPLES = r'''
- name: Everything, the host checks through the Exchange host
  m365.mail_oauth.doctor:
    tenant_id: contoso.onmicrosoft.com
    client_id: 0b6f2c11-7c5e-4d8f-9c1e-1a2b3c4d5e6f
    client_certificate_path: /etc/ansible/m365/contoso-admin.pem
  delegate_to: exchange-admin-01
  register: doctor

- name: Only what provision needs from the admin app, on the controller
  m365.mail_oauth.doctor:
    checks: [token, graph_permissions, manage_as_app]
    playbooks: [provision]
'''

RETURN = r'''
ok:
  description: Whether no check found a problem.
  returned: always
  type: bool
findings:
  description: One entry per check - C(check), C(status) (ok, problem, warning, skipped), C(detail) and C(fix).
  returned: always
  type: list
  elements: dict
  sample: [{check: Exchange.ManageAsApp, status: problem, detail: the admin app has no Exchange.ManageAsApp, fix: add the application permission ...}]
summary:
  description: Counts - C(ok), C(checks), C(problems), C(warnings).
  returned: always
  type: dict
text:
  description: The report as lines of text, each problem followed by its fix.
  returned: always
  type: list
  elements: str
'''
