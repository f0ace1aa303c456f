#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: exchange_role_group
short_description: Ensure an Exchange Online role group with only the named management roles, service principals as members
version_added: 0.3.0
description:
  - Ensures an Exchange Online management role group (C(New-RoleGroup)) holding exactly O(roles), with the Exchange service
    principals of the applications in O(members) as members (C(Add-RoleGroupMember)) - the least-privilege alternative to
    the Entra role Exchange Administrator for an admin application (Microsoft Learn, "App-only authentication for unattended
    scripts in Exchange Online PowerShell", "Assign custom role groups to the application using service principals").
  - Each member must already be known to Exchange Online (M(m365.mail_oauth.exchange_service_principal) first); its
    application is checked in Microsoft Graph before Exchange is touched.
  - One round trip reads the group and creates what is missing. A group whose roles differ, or that has members not in
    O(members), is made again with the asked roles and members (or the other members are removed) in a second round trip;
    Exchange has no cmdlet that sets a role group's roles.
  - O(roles) accepts only the management roles the collection's playbooks need and their read-only variants, so a typo
    cannot put a broader role into the group.
  - O(delegating_roles) gives the group a delegating assignment of each listed application role
    (C(New-ManagementRoleAssignment -Role <role> -SecurityGroup <group> -Delegating)), so its members may assign that role to
    an application (C(New-ManagementRoleAssignment -App)), as M(m365.mail_oauth.smtp_rbac) does. Microsoft Learn, "Role
    Based Access Control for Applications in Exchange Online" - the Organization Management role group has the delegating
    role assignment for the Application RBAC roles; Role Management alone does not let a member assign them.
  - The caller needs the Role Management role in Exchange Online (the Organization Management role group, which Global
    Administrators and Exchange Administrators are in); playbooks/bootstrap.yml runs it as the signed-in person
    (its Exchange token from M(m365.mail_oauth.sign_in)'s token cache, C(Connect-ExchangeOnline -AccessToken -UserPrincipalName)).
  - This is an action plugin - it runs Exchange Online PowerShell on the task's host, so C(delegate_to) a Windows host
    (or a host with pwsh).
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  name:
    description: Name of the role group (at most 64 characters); the group's permanent key.
    type: str
    required: true
  roles:
    description:
      - The management roles the group holds, and no other. Required with O(state=present).
      - The playbooks need V(Mail Recipients) (mailbox permissions, SendAs, CAS settings), V(Role Management)
        (C(*-ServicePrincipal), RBAC for Applications) and V(View-Only Configuration) (C(Get-TransportConfig));
        docs/permissions.md shows which cmdlet needs which.
    type: list
    elements: str
    choices: [Mail Recipients, Organization Client Access, Role Management, View-Only Configuration, View-Only Recipients]
  members:
    description:
      - Application (client) IDs whose service principals are members of the group. Members not listed are removed.
    type: list
    elements: str
    default: []
  description:
    description: Description of a new group (not compared on an existing one).
    type: str
  delegating_roles:
    description:
      - Application roles the group holds a delegating assignment of, so that its members may assign them to applications.
        Read with C(Get-ManagementRoleAssignment -RoleAssignee <group> -Delegating $true); a missing one is made with
        C(New-ManagementRoleAssignment -Role <role> -SecurityGroup <group> -Delegating).
      - A delegating assignment the group holds and this list does not name is left alone (nothing tells one this module
        made from one an administrator made); remove it with C(Remove-ManagementRoleAssignment), or remove the group.
      - Only the person running it needs a delegating assignment of these roles itself (Organization Management, that is
        a Global Administrator or an Exchange Administrator, holds one of every role).
      - Ignored with O(state=absent) - C(Remove-RoleGroup) removes every assignment of the group, delegating ones too.
    type: list
    elements: str
    choices: [Application SMTP.SendAsApp]
    default: []
    version_added: 0.4.0
  state:
    description: V(present) creates or repairs the group, V(absent) removes it (its memberships and role assignments go with it).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
  - m365.mail_oauth.exchange_connection
attributes:
  check_mode:
    support: full
    description: Reads the group in Exchange (one round trip, no writes) and reports what would change.
  diff_mode:
    support: full
    description: Shows the group's roles, members (service principal object ids) and, with O(delegating_roles), the roles of
      its delegating assignments before and after.
seealso:
  - module: m365.mail_oauth.exchange_service_principal
  - module: m365.mail_oauth.sign_in
'''

EXAMPLES = r'''
- name: Sign in as a person (device code); the Exchange token lands in the token cache too
  m365.mail_oauth.sign_in:
    tenant_id: contoso.onmicrosoft.com
  register: person

- name: The admin app's Exchange role, least privilege (as bootstrap.yml makes it, as that person)
  m365.mail_oauth.exchange_role_group:
    tenant_id: contoso.onmicrosoft.com
    token_cache: "{{ person.token_cache }}"
    username: "{{ person.username }}"
    name: m365-mail-oauth-admin
    roles: [Mail Recipients, Role Management, View-Only Configuration]
    members: ["{{ admin_app.app_id }}"]
    # Lets the admin app run m365.mail_oauth.smtp_rbac (New-ManagementRoleAssignment -App ... -Role 'Application SMTP.SendAsApp').
    delegating_roles: [Application SMTP.SendAsApp]
  delegate_to: exchange-admin-host

- name: Remove the group (its memberships go with it)
  m365.mail_oauth.exchange_role_group:
    name: m365-mail-oauth-admin
    state: absent
  delegate_to: exchange-admin-host
'''

RETURN = r'''
name:
  description: Name of the role group.
  returned: always
  type: str
roles:
  description: The group's management roles (with O(state=absent), those it had).
  returned: always
  type: list
  elements: str
  sample: [Mail Recipients, Role Management, View-Only Configuration]
members:
  description: The members asked for, with the object id of each one's service principal.
  returned: always
  type: list
  elements: dict
  contains:
    app_id:
      description: Application (client) ID.
      type: str
    object_id:
      description: Object ID of its service principal.
      type: str
actions:
  description: The Exchange cmdlets the run called (or would call in check mode), by operation name.
  returned: always
  type: list
  elements: str
  sample: [new_role_group, add_role_group_member, new_delegating_role_assignment]
delegating_roles:
  description:
    - The application roles the group holds a delegating assignment of (after the run, or in check mode what it would hold),
      those not listed in O(delegating_roles) included. Empty when O(delegating_roles) is empty (then they are not read).
  returned: always
  type: list
  elements: str
  sample: [Application SMTP.SendAsApp]
recreated:
  description: Whether a group with other roles was removed and made again.
  returned: always
  type: bool
organization:
  description: The organization Exchange Online was connected to.
  returned: when connected
  type: str
round_trips:
  description: Round trips to the PowerShell host (one, two when a group with other roles or members is repaired).
  returned: always
  type: int
exchange_sessions:
  description: Exchange Online sessions the task used on the host.
  returned: always
  type: int
'''
