# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """How the Graph modules authenticate; mirrors module_utils/argspec.py GRAPH_AUTH_SPEC."""

    DOCUMENTATION = r'''
options:
  tenant_id:
    description:
      - Directory (tenant) ID, a GUID, or the tenant's domain such as C(contoso.onmicrosoft.com).
      - Falls back to the environment variable E(AZURE_TENANT_ID), then E(AZURE_TENANT).
      - Not needed with O(access_token) or O(managed_identity) (read from the token).
    type: str
  client_id:
    description:
      - Application (client) ID of the identity the collection runs as (the admin app, not the mail app it manages).
      - Falls back to E(AZURE_CLIENT_ID).
    type: str
  client_secret:
    description:
      - Client secret of the admin app.
      - When no credential option is set at all, E(AZURE_CLIENT_SECRET) or E(AZURE_SECRET) is used, or else the content of
        the file E(M365_CLIENT_SECRET_FILE) names (how the AWX credential type of this collection passes it).
      - Mutually exclusive with O(client_certificate_path), O(access_token) and O(managed_identity).
    type: str
  client_certificate_path:
    description:
      - PEM file with the private key and the certificate of the admin app (certificate credentials).
      - When no credential option is set at all, E(AZURE_CLIENT_CERTIFICATE_PATH) is used.
    type: path
  client_certificate_password:
    description:
      - Password of the private key in O(client_certificate_path). Falls back to E(AZURE_CLIENT_CERTIFICATE_PASSWORD), or else
        the content of the file E(M365_CLIENT_CERTIFICATE_PASSWORD_FILE) names.
    type: str
  client_certificate_thumbprint:
    description:
      - SHA-1 thumbprint (hex) of the certificate, when O(client_certificate_path) holds only the private key.
    type: str
  access_token:
    description:
      - A ready access token for Microsoft Graph, for example from
        C(az account get-access-token --resource https://graph.microsoft.com --query accessToken -o tsv).
      - An app's token (with a C(roles) claim) or a person's (with C(scp)); a person's token works as that person, and a
        refused call names the delegated permission (scope) or the Entra role the person lacks.
      - When no credential option is set at all, E(M365_ACCESS_TOKEN) is used.
    type: str
  token_cache:
    description:
      - Run as the person signed in by M(m365.mail_oauth.sign_in) - the token cache file it wrote (mode 0600). Tokens are
        taken from it, refreshed with its refresh tokens, under a lock, so every task, fork and tenant of a run reuses one sign-in.
      - Needs O(tenant_id). O(client_id) is then the public client the person signed in with (default Microsoft Azure CLI's,
        see M(m365.mail_oauth.sign_in)); E(AZURE_CLIENT_ID) is not used for it.
      - When no credential option is set at all, E(M365_TOKEN_CACHE) is used.
    type: path
  username:
    description:
      - With O(token_cache), which signed-in person to use (userPrincipalName) when the cache holds several.
    type: str
  managed_identity:
    description:
      - Use the Azure managed identity of the machine the controller runs on.
    type: bool
  managed_identity_client_id:
    description:
      - Client ID of a user-assigned managed identity; the system-assigned identity when omitted.
    type: str
  cloud:
    description:
      - The Microsoft 365 cloud. Sets the login, Graph and Exchange endpoints.
      - Falls back to E(M365_CLOUD).
    type: str
    choices: [china, global, usgovdod, usgovhigh]
    default: global
  authority_url:
    description:
      - Login host to use instead of the cloud's, without the tenant (for example C(https://login.microsoftonline.com)).
      - Falls back to E(M365_AUTHORITY_URL).
      - Must be an C(https://) URL on a login host of a known cloud (see O(cloud)). Any other host, or plain C(http://), is
        refused unless the controller's environment sets E(M365_ALLOW_CUSTOM_ENDPOINTS) - V(1) for any host, or a list of
        C(host) or C(host:port) names - which an AWX credential or the execution environment sets, never a task option or
        an extra var, so that a user who may only launch a job cannot send the admin app's credentials elsewhere.
    type: str
  graph_url:
    description:
      - Microsoft Graph host to use instead of the cloud's (for example C(https://graph.microsoft.com)).
      - Falls back to E(M365_GRAPH_URL).
      - The same rule as O(authority_url) - https on a known cloud's Graph host, others only with E(M365_ALLOW_CUSTOM_ENDPOINTS).
    type: str
  ca_path:
    description:
      - PEM bundle of certificate authorities to verify the login and Graph endpoints with.
      - Wins over E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) in the environment. Falls back to E(M365_CA_PATH).
    type: path
  validate_certs:
    description:
      - Verify TLS certificates. Set to V(false) only against a test endpoint; a warning is shown.
      - V(false) is refused unless the controller's environment sets E(M365_ALLOW_CUSTOM_ENDPOINTS) (see O(authority_url));
        trust a private CA with O(ca_path) instead.
    type: bool
    default: true
  retry_timeout:
    description:
      - Seconds to keep retrying throttled (429, 503 with C(Retry-After)), transient (5xx) and
        replication-delay answers (an object just created not yet visible) before failing.
    type: int
    default: 300
  request_timeout:
    description:
      - Seconds to wait for one HTTP answer.
    type: int
    default: 60
notes:
  - The identity the collection runs as needs the Microsoft Graph application permissions
    C(Application.ReadWrite.All) and C(AppRoleAssignment.ReadWrite.All), with admin consent; a person needs the delegated
    scopes and an Entra role that allows each change (docs/permissions.md).
  - Credential precedence - options of the task first; the environment only when the task sets no credential option.
requirements:
  - python >= 3.8
  - msal
  - requests
'''
