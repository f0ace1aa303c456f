# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """How the Exchange actions reach Exchange Online; mirrors plugin_utils/exchange/args.py EXCHANGE_CONNECTION_SPEC."""

    DOCUMENTATION = r'''
options:
  organization:
    description:
      - The tenant's initial domain, for example C(contoso.onmicrosoft.com) (C(Connect-ExchangeOnline -Organization)).
      - Falls back to E(M365_EXCHANGE_ORGANIZATION) (the AWX credential type of this collection sets it).
      - When omitted, read from Microsoft Graph C(/organization) (the domain marked initial), which needs C(Organization.Read.All)
        or an C(Application.Read*) permission for the admin app.
    type: str
  exchange_auth:
    description:
      - How the PowerShell host logs in to Exchange Online, app-only.
      - V(access_token) - the controller acquires a token for the admin app (the Graph auth options, scope
        C(https://outlook.office365.com/.default) or the national cloud's) with msal, and sends it on stdin; needs
        ExchangeOnlineManagement 3.1.0 or later on the host. Nothing else is needed on the host.
      - With O(token_cache) (a person signed in by M(m365.mail_oauth.sign_in)) the token is the person's, and a person's
        token in O(exchange_access_token) works too; either connects with C(Connect-ExchangeOnline -AccessToken
        -UserPrincipalName) (the person's name, from the token) instead of C(-Organization), as the cmdlet's help says for
        a delegated token. The person needs the Entra role Exchange Administrator or Global Administrator.
      - V(certificate_thumbprint) - a certificate in the host's certificate store (Windows), with O(exchange_app_id).
      - V(certificate_file) - a PFX file on the host, O(exchange_certificate_path) (and O(exchange_certificate_password)).
      - V(managed_identity) - the host's Azure managed identity.
      - V(existing_session) - an Exchange Online session that is already connected in the PowerShell session (interactive use).
      - The admin app needs the C(Exchange.ManageAsApp) application permission and an Exchange administrator role.
    type: str
    choices: [access_token, certificate_thumbprint, certificate_file, managed_identity, existing_session]
    default: access_token
  exchange_access_token:
    description:
      - A ready access token for Exchange Online, instead of acquiring one with the Graph auth options - an app's, or a
        person's (for example C(az account get-access-token --resource https://outlook.office365.com --query accessToken -o tsv)).
    type: str
  exchange_app_id:
    description:
      - Application (client) ID for certificate logins on the host. Defaults to O(client_id).
    type: str
  exchange_certificate_thumbprint:
    description: SHA-1 thumbprint (40 hex characters) of the certificate in the host's store.
    type: str
  exchange_certificate_path:
    description: Path of a PFX file on the PowerShell host (not on the controller).
    type: str
  exchange_certificate_password:
    description: Password of O(exchange_certificate_path). Sent on stdin, never on a command line.
    type: str
  exchange_managed_identity_account_id:
    description: Client ID of a user-assigned managed identity on the host.
    type: str
  install_module:
    description:
      - Install or update ExchangeOnlineManagement on the host (C(Install-Module)) when it is missing or older than O(min_version).
    type: bool
    default: false
  min_version:
    description:
      - Lowest ExchangeOnlineManagement version to accept. Defaults to 3.1.0 with O(exchange_auth=access_token), else 3.0.0.
    type: str
  module_scope:
    description: C(Install-Module -Scope) used by O(install_module).
    type: str
    choices: [CurrentUser, AllUsers]
    default: CurrentUser
  powershell_interpreter:
    description:
      - PowerShell executable for a host whose Ansible shell is not PowerShell, for example V(pwsh) over C(ssh) to Linux.
      - Leave unset for Windows hosts over C(winrm), C(psrp) or C(ssh) with the PowerShell shell.
    type: str
  exchange_sessions:
    description:
      - At most this many Exchange Online sessions for one task, run in parallel on the host inside the task's one
        round trip (PowerShell runspaces, each with its own C(Connect-ExchangeOnline); Windows PowerShell 5.1 works too).
      - A task opens one more session only for every 20 mailboxes it handles, so a task with fewer than 40 mailboxes
        keeps exactly one C(Connect-ExchangeOnline). One mailbox is always handled by the same session.
      - The default V(3) is what Microsoft's own C# sample for Exchange Online PowerShell runs (a RunspacePool of 3);
        no per-application limit is documented for the REST cmdlets. Above the service's concurrency limit it answers
        "You have reached the maximum number of concurrent requests per tenant", which is retried like other throttling.
      - A session that cannot connect is left out with a warning and the others do its mailboxes. V(1) turns this off.
      - With O(exchange_auth=existing_session) there is always one session.
    type: int
    choices: [1, 2, 3, 4, 5]
    default: 3
  allow_insecure_transport:
    description:
      - The action refuses a C(winrm) or C(psrp) connection that uses Basic authentication over plain http
        (C(ansible_winrm_transport=basic) with C(ansible_winrm_scheme=http), or C(ansible_psrp_auth=basic) with
        C(ansible_psrp_protocol=http)), because the Windows password and the Exchange Online token would travel unencrypted.
      - V(true) accepts that risk (an isolated lab network) and only warns. Prefer https, or NTLM, Kerberos or CredSSP,
        which encrypt the messages even over http.
      - Disabled certificate checks of the Windows host (C(ansible_winrm_server_cert_validation=ignore),
        C(ansible_psrp_cert_validation=ignore)) are allowed, with a warning.
    type: bool
    default: false
notes:
  - The action runs on the controller and then on the task's host through its connection, so C(delegate_to) a Windows host
    (C(ansible_connection=winrm) or C(psrp)) or a host with C(pwsh). A short bootstrap goes on the command line; the runner
    script, its operations and every token or password go on stdin.
  - One task is one round trip and one C(Connect-ExchangeOnline) - the reads, then only the writes the reads call for - and it
    always disconnects. In check mode only the reads are sent.
  - At C(-v) and above, over C(ansible.builtin.winrm), a task with a step of 100 mailboxes or more prints its progress while it
    runs (C(mailboxes 300/1,000 done (Add-MailboxPermission)), about every 5% of each step). Other connections return the
    host's output only at the end, so they show none.
  - The Exchange environment (C(-ExchangeEnvironmentName)) follows O(cloud).
requirements:
  - ExchangeOnlineManagement 3.x on the PowerShell host (or O(install_module=true))
'''
