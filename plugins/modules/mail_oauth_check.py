#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: mail_oauth_check
short_description: Prove that a mail application can log in to its mailboxes with OAuth (IMAP, POP, SMTP XOAUTH2)
version_added: 0.1.0
description:
  - Gets an access token with the mail application's own credentials (client credentials, scope
    C(https://outlook.office365.com/.default) or the national cloud's), and reports its C(roles), C(aud) and expiry.
    The claims are decoded B(without checking the signature); they are only read to explain failures.
  - Then logs in to every mailbox with SASL XOAUTH2 over each protocol in O(protocols) - IMAP (TLS, C(SELECT INBOX)
    read-only), POP (TLS, C(STAT)) and SMTP (STARTTLS, C(EHLO) and C(AUTH)) - and logs out. Never sends mail, never
    changes a mailbox.
  - Permissions, consent, the Exchange service principal and FullAccess take minutes to an hour to reach Exchange, so
    failed logins are tried again with backoff until O(wait_timeout); answers that waiting cannot change
    (wrong audience, untrusted certificate, SMTP AUTH disabled, a supplied token that expired) are not.
  - Each mailbox and protocol is reported as ok, or failed with the server's answer and a diagnosis - no consent
    (no C(roles) claim), a missing role, wrong audience, expired token, SMTP AUTH disabled (535 5.7.139), or, when the
    token is right, a missing Exchange service principal or FullAccess.
  - The token and the XOAUTH2 string never appear in the output.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  client_id:
    description:
      - Application (client) ID of the B(mail application) whose access is checked (not the admin app).
      - Falls back to E(AZURE_CLIENT_ID).
  client_secret:
    description:
      - Client secret of the mail application, as the mail client will use it.
      - When no credential option is set at all, E(AZURE_CLIENT_SECRET) or E(AZURE_SECRET) is used, or else the content of
        the file E(M365_CLIENT_SECRET_FILE) names (how the AWX credential type of this collection passes it).
  client_certificate_path:
    description:
      - PEM file with the private key and the certificate of the mail application.
  access_token:
    description:
      - A ready access token for Exchange Online (audience C(https://outlook.office365.com)) to check instead of getting one.
        It cannot be renewed, so a token-level failure is reported at once instead of retried.
      - When no credential option is set at all, E(M365_ACCESS_TOKEN) is used.
  ca_path:
    description:
      - PEM bundle of certificate authorities to verify the login endpoint with (see O(mail_ca_path) for the mail servers).
      - Wins over E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) in the environment. Falls back to E(M365_CA_PATH).
  validate_certs:
    description:
      - Verify TLS certificates of the login endpoint and of the mail servers. Set to V(false) only against a test
        endpoint; a warning is shown.
  mailboxes:
    description:
      - Mailboxes (user principal names or primary SMTP addresses) to log in to.
      - With none, only the token is checked.
    type: list
    elements: str
    default: []
  protocols:
    description: Protocols to log in with.
    type: list
    elements: str
    choices: [imap, pop, smtp]
    default: [imap]
  expect_refused:
    description:
      - Mailboxes the app must B(not) reach - each is logged in to over every protocol in O(protocols), and the check passes
        only when the server refuses a token it accepts (cause V(access_denied), V(not_connected) or V(out_of_scope)); a
        network, TLS or token problem proves nothing and fails the check.
      - The proof that access is narrow, for example a mailbox outside the management scope of an app that sends through
        RBAC for Applications (M(m365.mail_oauth.smtp_rbac)). A login that works is tried again until O(wait_timeout),
        since a scope or permission removed less than 2 hours ago may still be cached.
    type: list
    elements: str
    default: []
  smtp_access:
    description:
      - How the app is allowed to send - V(full_access) (the token's C(SMTP.SendAsApp) role plus FullAccess on the mailbox)
        or V(rbac) (RBAC for Applications - no role in the token, the mailbox in the management scope of the app's
        C(Application SMTP.SendAsApp) assignment, M(m365.mail_oauth.smtp_rbac)).
      - With V(rbac), a token without C(SMTP.SendAsApp) (or without any role) is what it should be, and a refused SMTP login
        is diagnosed as V(out_of_scope).
      - C(Test-ServicePrincipalAuthorization) (M(m365.mail_oauth.smtp_rbac) reads it) shows the scope at once; only this
        login proves it.
    type: str
    choices: [full_access, rbac]
    default: full_access
  imap_host:
    description: IMAP server; the cloud's (C(outlook.office365.com) for V(global)) when omitted.
    type: str
  imap_port:
    description: IMAP port (implicit TLS).
    type: int
    default: 993
  pop_host:
    description: POP server; the cloud's (C(outlook.office365.com) for V(global)) when omitted.
    type: str
  pop_port:
    description: POP port (implicit TLS).
    type: int
    default: 995
  smtp_host:
    description: SMTP submission server; the cloud's (C(smtp.office365.com) for V(global)) when omitted.
    type: str
  smtp_port:
    description: SMTP submission port (STARTTLS).
    type: int
    default: 587
  mail_ca_path:
    description:
      - PEM bundle of certificate authorities to verify the mail servers with, instead of the system's.
      - Needed only behind a TLS-inspecting proxy or against a test server.
    type: path
  wait_timeout:
    description:
      - Seconds to keep trying failed logins (with backoff, and a fresh token for each round) before reporting them.
      - V(0) tries once.
    type: int
    default: 300
  login_timeout:
    description: Seconds to wait for a mail server's answer, per connection.
    type: int
    default: 30
  fail_on_error:
    description:
      - Fail the task when any login fails, or when the token alone shows a problem and there are no O(mailboxes).
      - With V(false), only report (for audits and drift reports); RV(ok) tells whether everything worked.
    type: bool
    default: true
extends_documentation_fragment:
  - m365.mail_oauth.graph_auth
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same checks in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to compare.
notes:
  - Log in with the same credentials the mail client will use; the admin credentials of the other modules prove nothing here.
  - O(graph_url), O(managed_identity) and O(managed_identity_client_id) are accepted for symmetry with the other modules;
    Graph is not called.
seealso:
  - module: m365.mail_oauth.api_permission
  - module: m365.mail_oauth.app_secret
'''

EXAMPLES = r'''
- name: Check IMAP and SMTP for two mailboxes with the mail app's secret
  m365.mail_oauth.mail_oauth_check:
    tenant_id: contoso.onmicrosoft.com
    client_id: "{{ mail_app.app_id }}"
    client_secret: "{{ mail_app_secret }}"
    mailboxes:
      - helpdesk@contoso.com
      - invoices@contoso.com
    protocols: [imap, smtp]
    wait_timeout: 1800
  register: mail_check

- name: Report only, for an audit
  m365.mail_oauth.mail_oauth_check:
    tenant_id: contoso.onmicrosoft.com
    client_id: "{{ mail_app.app_id }}"
    client_certificate_path: /etc/mail-poller/app.pem
    mailboxes: "{{ shared_mailboxes }}"
    protocols: [imap, pop, smtp]
    wait_timeout: 0
    fail_on_error: false
  register: audit_mail

- name: Show what to fix
  ansible.builtin.debug:
    msg: "{{ audit_mail.checks | rejectattr('ok') | map(attribute='diagnosis') | list }}"

- name: A send-only app through RBAC - SMTP works for a mailbox in its scope and is refused for one outside it
  m365.mail_oauth.mail_oauth_check:
    tenant_id: contoso.onmicrosoft.com
    client_id: "{{ printer_app.app_id }}"
    client_secret: "{{ printer_secret }}"
    protocols: [smtp]
    smtp_access: rbac
    mailboxes: [scanner@contoso.com]
    expect_refused: [ceo@contoso.com]
    wait_timeout: 7200
'''

RETURN = r'''
ok:
  description: Whether every login worked (and, without mailboxes, whether the token shows no problem).
  returned: always
  type: bool
token:
  description: What the token says (decoded without a signature check); never the token itself.
  returned: always
  type: dict
  contains:
    aud:
      description: Audience of the token.
      type: str
    expected_audience:
      description: The audience the mail servers accept.
      type: str
    audience_ok:
      description: Whether RV(token.aud) is the expected audience.
      type: bool
    roles:
      description: Application roles in the token (empty without admin consent).
      type: list
      elements: str
    has_roles_claim:
      description: Whether the token has a roles claim at all.
      type: bool
    missing_roles:
      description: Roles that O(protocols) need and the token lacks.
      type: list
      elements: str
    app_id:
      description: Application (client) ID the token was issued to.
      type: str
    tenant_id:
      description: Tenant ID of the token.
      type: str
    service_principal_id:
      description: Object ID of the application's service principal (the ID New-ServicePrincipal needs).
      type: str
    app_display_name:
      description: Display name of the application.
      type: str
    expires_at:
      description: Expiry of the token (UTC, ISO 8601).
      type: str
    expires_in:
      description: Seconds until the token expires, when checked (negative when expired).
      type: int
    expired:
      description: Whether the token had expired when checked.
      type: bool
    signature_checked:
      description: Always false; the mail servers check the signature.
      type: bool
    problems:
      description: Causes visible in the token alone (C(token_expired), C(wrong_audience), C(consent_missing), C(role_missing)).
      type: list
      elements: str
checks:
  description: One entry per mailbox and protocol.
  returned: always
  type: list
  elements: dict
  contains:
    mailbox:
      description: The mailbox.
      type: str
    protocol:
      description: C(imap), C(pop) or C(smtp).
      type: str
    host:
      description: Server logged in to.
      type: str
    port:
      description: Port.
      type: int
    ok:
      description: Whether the login (and SELECT or STAT) worked.
      type: bool
    stage:
      description: Last stage reached (C(connect), C(starttls), C(authenticate), C(select), C(stat)).
      type: str
    answer:
      description: The server's answer at that stage (never containing the token).
      type: str
    cause:
      description:
        - V(ok), V(token_expired), V(wrong_audience), V(consent_missing), V(role_missing), V(smtp_auth_disabled),
          V(not_connected), V(access_denied), V(out_of_scope), V(unreachable), V(tls_error) or V(protocol_error).
      type: str
    diagnosis:
      description: What the cause means and what to fix.
      type: str
    expected:
      description: V(login) for O(mailboxes), V(refused) for O(expect_refused) (whose C(ok) means the refusal was proven).
      type: str
    logged_in:
      description: For V(refused) checks, whether the login worked anyway.
      type: bool
    attempts:
      description: Logins tried.
      type: int
    seconds:
      description: Seconds from the first try to the result.
      type: float
failed_checks:
  description: Number of checks that failed.
  returned: always
  type: int
msg:
  description: Summary.
  returned: always
  type: str
'''

from ansible_collections.m365.mail_oauth.plugins.module_utils.mail_check import MailCheck, check_inputs
from ansible_collections.m365.mail_oauth.plugins.module_utils.mail_login import DEFAULT_PORTS, PROTOCOLS
from ansible_collections.m365.mail_oauth.plugins.module_utils.module import GraphModule

ARGUMENT_SPEC = dict(
    mailboxes=dict(type='list', elements='str', default=[]),
    protocols=dict(type='list', elements='str', choices=list(PROTOCOLS), default=['imap']),
    imap_host=dict(type='str'),
    imap_port=dict(type='int', default=DEFAULT_PORTS['imap']),
    pop_host=dict(type='str'),
    pop_port=dict(type='int', default=DEFAULT_PORTS['pop']),
    smtp_host=dict(type='str'),
    smtp_port=dict(type='int', default=DEFAULT_PORTS['smtp']),
    mail_ca_path=dict(type='path'),
    wait_timeout=dict(type='int', default=300),
    login_timeout=dict(type='int', default=30),
    fail_on_error=dict(type='bool', default=True),
    expect_refused=dict(type='list', elements='str', default=[]),
    smtp_access=dict(type='str', choices=['full_access', 'rbac'], default='full_access'),
)


def run(module):
    check_inputs(module.params)
    if not module.params['validate_certs']:
        module.warn('validate_certs is false: the TLS certificates of the login endpoint and the mail servers are not verified')
    result = MailCheck(module).run()
    if not result['ok'] and module.params['fail_on_error']:
        module.ansible.fail_json(**result)
    return result


def main():
    GraphModule(ARGUMENT_SPEC).run(run)


if __name__ == '__main__':
    main()
