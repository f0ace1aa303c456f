"""Microsoft first-party resource applications with their real ids.

Ids come from shared/reference/microsoft-365.md and Microsoft's published
permission reference. A tenant gets service principals for these at seed time;
`POST /servicePrincipals {"appId": ...}` can re-create them from here when a
test removed one (a tenant that never used Exchange).
"""

EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000'
GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
MICROSOFT_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a'

EXCHANGE_ROLES = {
    'IMAP.AccessAsApp': ('5e5addcd-3e8d-4e90-baf5-964efab2b20a', 'Read and write all mailboxes via IMAP'),
    'POP.AccessAsApp': ('cb842b43-da6e-4506-86fe-bb12199c656d', 'Read and write all mailboxes via POP'),
    'SMTP.SendAsApp': ('7146a1f0-8703-45b3-9eae-527a64c00995', 'Send emails from mailboxes using SMTP AUTH'),
    'full_access_as_app': ('dc890d15-9560-4a4c-9b7f-a736ec74ec40', 'Use Exchange Web Services with full access to all mailboxes'),
    'Exchange.ManageAsApp': ('dc50a0fb-09a3-484d-be87-e023b12c6440', 'Manage Exchange As Application'),
}

GRAPH_ROLES = {
    'Application.Read.All': ('9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', 'Read all applications'),
    'Application.ReadWrite.All': ('1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9', 'Read and write all applications'),
    'Application.ReadWrite.OwnedBy': ('18a4783c-866b-4cc7-a460-3d5e5662c884', 'Manage apps that this app creates or owns'),
    'AppRoleAssignment.ReadWrite.All': ('06b708a9-e830-4db3-a914-8e69da51d44f', 'Manage app permission grants and app role assignments'),
    'DelegatedPermissionGrant.ReadWrite.All': ('8e8e4742-1d95-4f68-9d56-6ee75648c72a', 'Manage all delegated permission grants'),
    'Directory.Read.All': ('7ab1d382-f21e-4acd-a863-ba3e13f7da61', 'Read directory data'),
    'Directory.ReadWrite.All': ('19dbc75e-c2e2-444c-a770-ec69d8559fc7', 'Read and write directory data'),
    'Organization.Read.All': ('498476ce-e0fe-48b0-b801-37ba7e2685c6', 'Read organization information'),
    'Organization.ReadWrite.All': ('292d869f-3427-49a8-9dab-8c70152b74e9', 'Read and write organization information'),
    'User.Read.All': ('df021288-bdef-4463-88db-98f22de89214', "Read all users' full profiles"),
    'User.ReadWrite.All': ('741f803b-c850-494e-b5df-cde7c675a1ca', "Read and write all users' full profiles"),
    'Mail.Send': ('b633e1c5-b582-4048-a93e-9f11b44c7e96', 'Send mail as any user'),
    'RoleManagement.Read.Directory': ('483bed4a-2ad3-4361-a73b-c83ccdbdc53c', 'Read all directory RBAC settings'),
    'RoleManagement.ReadWrite.Directory': ('9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8', 'Read and write all directory RBAC settings'),
}

GRAPH_SCOPES = {
    'User.Read': ('e1fe6dd8-ba31-4d61-89e7-88639da4683d', 'Sign in and read user profile'),
    'openid': ('37f7f235-527c-4136-accd-4a02d197296e', 'Sign users in'),
    'profile': ('14dad69e-099b-42c9-810b-d002981feec1', "View users' basic profile"),
    'email': ('64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0', "View users' email address"),
    'offline_access': ('7427e0e9-2fba-42fe-b0c0-848c9e6a8182', 'Maintain access to data you have given it access to'),
    'Application.ReadWrite.All': ('bdfbf15f-ee85-4955-8675-146e8e5296b5', 'Read and write all applications'),
    'AppRoleAssignment.ReadWrite.All': ('84bccea3-f856-4a8a-967b-dbe0a3d53a64', 'Manage all app role assignments'),
    'DelegatedPermissionGrant.ReadWrite.All': ('41ce6ca6-6826-4807-84f1-1c82854f7ee5', 'Manage all delegated permission grants'),
    'Directory.AccessAsUser.All': ('0e263e50-5827-48a4-b97c-d940288653c7', 'Access directory as the signed in user'),
    'Organization.Read.All': ('4908d5b9-3fb2-4b1e-9336-1888b7937185', 'Read organization information'),
    'RoleManagement.ReadWrite.Directory': ('d01b97e9-cbc0-49fe-810a-750afd5527a3', 'Read and write directory RBAC settings'),
    'User.Read.All': ('a154be20-db9c-4678-8ab7-66f6cc099a59', "Read all users' full profiles"),
}


def _app_roles(table):
    return [
        {
            'allowedMemberTypes': ['Application'],
            'description': text,
            'displayName': text,
            'id': role_id,
            'isEnabled': True,
            'origin': 'Application',
            'value': value,
        }
        for value, (role_id, text) in table.items()
    ]


def _scopes(table):
    return [
        {
            'adminConsentDescription': text,
            'adminConsentDisplayName': text,
            'id': scope_id,
            'isEnabled': True,
            'origin': None,
            'type': 'User',
            'userConsentDescription': text,
            'userConsentDisplayName': text,
            'value': value,
        }
        for value, (scope_id, text) in table.items()
    ]


FIRST_PARTY = {
    EXCHANGE_APP_ID: {
        'displayName': 'Office 365 Exchange Online',
        'servicePrincipalNames': [
            'https://outlook.office365.com/', 'https://outlook.office365.com', 'https://outlook.office.com',
            'https://ps.outlook.com', EXCHANGE_APP_ID, '00000002-0000-0ff1-ce00-000000000000/outlook.office365.com',
        ],
        'appRoles': _app_roles(EXCHANGE_ROLES),
        'oauth2PermissionScopes': [],
    },
    GRAPH_APP_ID: {
        'displayName': 'Microsoft Graph',
        'servicePrincipalNames': [
            'https://graph.microsoft.com/', 'https://graph.microsoft.com', 'https://canary.graph.microsoft.com',
            'https://ags.windows.net', GRAPH_APP_ID, '00000003-0000-0000-c000-000000000000/ags.windows.net',
        ],
        'appRoles': _app_roles(GRAPH_ROLES),
        'oauth2PermissionScopes': _scopes(GRAPH_SCOPES),
    },
}

GRAPH_AUDIENCES = frozenset({'https://graph.microsoft.com', 'https://graph.microsoft.com/', GRAPH_APP_ID})


# Microsoft Entra built-in roles the collection's people may hold: display name -> (template id, description). Template ids
# from Microsoft Learn "Microsoft Entra built-in roles" (tests/sandbox/README.md); a built-in role definition's id is its
# template id.
DIRECTORY_ROLES = {
    'Global Administrator': ('62e90394-69f5-4237-9190-012177145e10',
                             'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.'),
    'Application Administrator': ('9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
                                  'Can create and manage all aspects of app registrations and enterprise apps.'),
    'Cloud Application Administrator': ('158c047a-c907-4556-b7ef-446551a6b5f7',
                                        'Can create and manage all aspects of app registrations and enterprise apps except App Proxy.'),
    'Privileged Role Administrator': ('e8611ab8-c189-46e8-94e1-60213ab1f814',
                                      'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.'),
    'Exchange Administrator': ('29232cdf-9323-42fd-ade2-1d097af3e4de', 'Can manage all aspects of the Exchange product.'),
}
ROLE_NAMES = {template: name for name, (template, _text) in DIRECTORY_ROLES.items()}

# Microsoft's public clients a person signs in with (no secret; not in the tenant's applications): app id -> display name
# and the delegated scopes a `/.default` request gets per resource app id. The app ids are Microsoft Learn's first-party
# list; which scopes their `/.default` tokens carry is not documented (weak, README).
AZURE_CLI_APP_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
GRAPH_CLI_APP_ID = '14d82eec-204b-4c2f-b7e8-296a70dab67e'
PUBLIC_CLIENTS = {
    AZURE_CLI_APP_ID: {
        'displayName': 'Microsoft Azure CLI',
        'default_scopes': {
            GRAPH_APP_ID: ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All',
                           'Directory.AccessAsUser.All', 'User.Read.All'],
            EXCHANGE_APP_ID: ['Exchange.Manage'],
        },
    },
    GRAPH_CLI_APP_ID: {
        'displayName': 'Microsoft Graph Command Line Tools',
        'default_scopes': {GRAPH_APP_ID: ['openid', 'profile', 'User.Read', 'offline_access']},
    },
}
