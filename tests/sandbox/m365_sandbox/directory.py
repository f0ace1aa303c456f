"""The in-memory tenants: directory objects shared by Graph, the token service
and (later) the Exchange model. One lock guards all of it: callers take
`Directory.lock` around every read-modify-write.
"""

import copy
import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field

from . import catalog
from .objects import directory_style_id, new_application, new_password_credential, new_service_principal, now_iso

ADMIN_GRAPH_ROLES = (
    'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All', 'User.Read.All',
)
ADMIN_EXCHANGE_ROLES = ('Exchange.ManageAsApp',)
# Every tenant starts with one person: this Global Administrator (userPrincipalName, % the tenant's domain).
GLOBAL_ADMIN_UPN = 'admin@%s'


@dataclass
class TenantSeed:
    """What a tenant is rebuilt from on reset (so credentials in sandbox.json stay valid)."""

    index: int
    tenant_id: str
    domain: str
    admin_client_id: str
    admin_secret: str
    admin_secret_key_id: str
    admin_cert_b64: str
    admin_cert_key_id: str
    mailbox_count: int
    certificate_path: str = ''
    certificate_thumbprint: str = ''


@dataclass
class Tenant:
    tenant_id: str
    domain: str
    organization: dict
    applications: dict = field(default_factory=dict)
    service_principals: dict = field(default_factory=dict)
    app_role_assignments: dict = field(default_factory=dict)
    oauth2_permission_grants: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    # Directory role assignments (unifiedRoleAssignment) by id: who holds which Entra built-in role.
    role_assignments: dict = field(default_factory=dict)
    # Object id -> epoch seconds of creation; drives the replication delay.
    created_at: dict = field(default_factory=dict)
    # passwordCredential keyId -> secret text (Graph never returns it again).
    secrets: dict = field(default_factory=dict)
    # Free room for other models (the Exchange emulation) keyed by their name.
    extensions: dict = field(default_factory=dict)

    def add(self, collection, obj, backdate=False):
        getattr(self, collection)[obj['id']] = obj
        self.created_at[obj['id']] = 0.0 if backdate else time.time()
        return obj

    def visible(self, obj_id, delay):
        return not delay or time.time() - self.created_at.get(obj_id, 0.0) >= delay

    def app_by(self, key, value):
        value_l = value.lower()
        for app in self.applications.values():
            have = app.get(key)
            if isinstance(have, str) and have.lower() == value_l:
                return app
        return None

    def sp_by_app_id(self, app_id):
        app_id = app_id.lower()
        for sp in self.service_principals.values():
            if sp['appId'].lower() == app_id:
                return sp
        return None

    def sp_by_resource(self, resource):
        """The service principal a token scope names (by servicePrincipalName or appId)."""
        wanted = resource.lower().rstrip('/')
        for sp in self.service_principals.values():
            names = [sp['appId']] + list(sp.get('servicePrincipalNames') or [])
            if any(name.lower().rstrip('/') == wanted for name in names):
                return sp
        return None

    def user_by(self, key):
        key_l = key.lower()
        for user in self.users.values():
            if user['id'] == key_l or (user.get('userPrincipalName') or '').lower() == key_l:
                return user
        return None

    def role_ids_of(self, principal_id):
        """Template ids of the directory roles a principal holds tenant-wide (the token's `wids`)."""
        principal_id = (principal_id or '').lower()
        return sorted(set(a['roleDefinitionId'] for a in self.role_assignments.values()
                          if a['principalId'] == principal_id and a.get('directoryScopeId') == '/'))

    def role_names_of(self, principal_id):
        return [catalog.ROLE_NAMES.get(template, template) for template in self.role_ids_of(principal_id)]

    def assign_directory_role(self, principal_id, role_definition_id, backdate=False):
        assignment = {
            'id': directory_style_id(principal_id),
            'principalId': principal_id.lower(),
            'roleDefinitionId': role_definition_id,
            'directoryScopeId': '/',
            'appScopeId': None,
            'condition': None,
        }
        return self.add('role_assignments', assignment, backdate=backdate)

    def add_person(self, upn, display_name=None, roles=(), backdate=True, person_id=None):
        """A user who signs in (no mailbox, so the Exchange model does not list it) holding the named directory roles."""
        unknown = [r for r in roles if r not in catalog.DIRECTORY_ROLES]
        if unknown:
            raise ValueError('unknown directory role(s) %s; known: %s' % (', '.join(unknown), ', '.join(catalog.DIRECTORY_ROLES)))
        if self.user_by(upn) is not None:
            raise ValueError('a user %s exists already' % upn)
        local = upn.split('@', 1)[0]
        person = _person(upn, display_name or local)
        person['id'] = person_id or person['id']
        self.add('users', person, backdate=backdate)
        for role in roles:
            self.assign_directory_role(person['id'], catalog.DIRECTORY_ROLES[role][0], backdate=backdate)
        return person

    def people(self):
        """The users who sign in (no mailbox), with their role names."""
        return [dict(userPrincipalName=u['userPrincipalName'], id=u['id'], roles=self.role_names_of(u['id']))
                for u in self.users.values() if not u.get('mail')]

    def assignments_of(self, principal_id):
        return [a for a in self.app_role_assignments.values() if a['principalId'] == principal_id]

    def roles_granted(self, client_sp_id, resource_sp):
        """App role values assigned to a client on a resource (the token `roles` claim)."""
        by_id = {r['id']: r for r in resource_sp.get('appRoles') or []}
        values = []
        for assignment in self.assignments_of(client_sp_id):
            role = by_id.get(assignment['appRoleId'])
            if assignment['resourceId'] == resource_sp['id'] and role and role.get('isEnabled') and role['value'] not in values:
                values.append(role['value'])
        return values

    def delete_service_principal(self, sp_id):
        self.service_principals.pop(sp_id, None)
        for aid in [a['id'] for a in self.app_role_assignments.values() if sp_id in (a['principalId'], a['resourceId'])]:
            del self.app_role_assignments[aid]
        for gid in [g['id'] for g in self.oauth2_permission_grants.values() if sp_id in (g['clientId'], g['resourceId'])]:
            del self.oauth2_permission_grants[gid]

    def delete_application(self, app_id_obj):
        app = self.applications.pop(app_id_obj)
        for cred in app.get('passwordCredentials') or []:
            self.secrets.pop(cred['keyId'], None)
        sp = self.sp_by_app_id(app['appId'])
        if sp is not None:
            self.delete_service_principal(sp['id'])
        return app

    def mailboxes(self):
        """Users with a mailbox, for the Exchange model."""
        return [copy.deepcopy(u) for u in self.users.values() if u.get('mail')]

    def snapshot(self):
        def hashed(app):
            app = copy.deepcopy(app)
            for cred in app.get('passwordCredentials') or []:
                secret = self.secrets.get(cred['keyId'], '')
                cred['secretText'] = None
                cred['secretSha256'] = hashlib.sha256(secret.encode('utf-8')).hexdigest()
            return app

        return {
            'tenant_id': self.tenant_id,
            'domain': self.domain,
            'organization': copy.deepcopy(self.organization),
            'applications': [hashed(a) for a in self.applications.values()],
            'servicePrincipals': copy.deepcopy(list(self.service_principals.values())),
            'appRoleAssignments': copy.deepcopy(list(self.app_role_assignments.values())),
            'oauth2PermissionGrants': copy.deepcopy(list(self.oauth2_permission_grants.values())),
            'users': copy.deepcopy(list(self.users.values())),
            'roleAssignments': copy.deepcopy(list(self.role_assignments.values())),
            'extensions': sorted(self.extensions),
        }


def _stable_id(tenant_id, label):
    return str(uuid.uuid5(uuid.UUID(tenant_id), label))


def _organization(seed):
    return {
        'id': seed.tenant_id,
        'deletedDateTime': None,
        'assignedPlans': [],
        'businessPhones': [],
        'city': None,
        'country': None,
        'countryLetterCode': 'US',
        'createdDateTime': '2020-01-01T00:00:00Z',
        'defaultUsageLocation': None,
        'displayName': 'Sandbox Tenant %d' % seed.index,
        'marketingNotificationEmails': [],
        'onPremisesLastSyncDateTime': None,
        'onPremisesSyncEnabled': None,
        'postalCode': None,
        'preferredLanguage': 'en',
        'securityComplianceNotificationMails': [],
        'securityComplianceNotificationPhones': [],
        'state': None,
        'street': None,
        'technicalNotificationMails': ['admin@%s' % seed.domain],
        'tenantType': 'AAD',
        'verifiedDomains': [{
            'capabilities': 'Email, OfficeCommunicationsOnline',
            'isDefault': True,
            'isInitial': True,
            'name': seed.domain,
            'type': 'Managed',
        }],
    }


def _user(seed, number):
    upn = 'user%d@%s' % (number, seed.domain)
    return {
        'id': _stable_id(seed.tenant_id, 'user-%d' % number),
        'deletedDateTime': None,
        'accountEnabled': True,
        'businessPhones': [],
        'createdDateTime': '2020-01-01T00:00:00Z',
        'displayName': 'User %d' % number,
        'givenName': 'User',
        'jobTitle': None,
        'mail': upn,
        'mailNickname': 'user%d' % number,
        'mobilePhone': None,
        'officeLocation': None,
        'preferredLanguage': 'en-US',
        'proxyAddresses': ['SMTP:' + upn],
        'surname': str(number),
        'usageLocation': 'US',
        'userPrincipalName': upn,
        'userType': 'Member',
    }


def _person(upn, display_name):
    return {
        'id': str(uuid.uuid4()),
        'deletedDateTime': None,
        'accountEnabled': True,
        'businessPhones': [],
        'createdDateTime': now_iso(),
        'displayName': display_name,
        'givenName': None,
        'jobTitle': None,
        'mail': None,
        'mailNickname': upn.split('@', 1)[0],
        'mobilePhone': None,
        'officeLocation': None,
        'preferredLanguage': 'en-US',
        'proxyAddresses': [],
        'surname': None,
        'usageLocation': None,
        'userPrincipalName': upn,
        'userType': 'Member',
    }


def grant_app_role(tenant, client_sp, resource_sp, role_value, backdate=False):
    role = next(r for r in resource_sp['appRoles'] if r['value'] == role_value)
    return tenant.add('app_role_assignments', {
        'id': directory_style_id(client_sp['id']),
        'deletedDateTime': None,
        'appRoleId': role['id'],
        'createdDateTime': now_iso(),
        'principalDisplayName': client_sp['displayName'],
        'principalId': client_sp['id'],
        'principalType': 'ServicePrincipal',
        'resourceDisplayName': resource_sp['displayName'],
        'resourceId': resource_sp['id'],
    }, backdate=backdate)


def build_tenant(seed):
    tenant = Tenant(tenant_id=seed.tenant_id, domain=seed.domain, organization=_organization(seed))
    resources = {}
    for app_id, entry in catalog.FIRST_PARTY.items():
        source = dict(entry, appId=app_id, appOwnerOrganizationId=catalog.MICROSOFT_TENANT_ID)
        sp = new_service_principal(source, seed.tenant_id, first_party=True)
        sp['id'] = _stable_id(seed.tenant_id, 'sp-' + app_id)
        resources[app_id] = tenant.add('service_principals', sp, backdate=True)

    graph_roles = {r['value']: r['id'] for r in resources[catalog.GRAPH_APP_ID]['appRoles']}
    exo_roles = {r['value']: r['id'] for r in resources[catalog.EXCHANGE_APP_ID]['appRoles']}
    admin = new_application({
        'displayName': 'm365 sandbox admin',
        'keyCredentials': [{'key': seed.admin_cert_b64, 'keyId': seed.admin_cert_key_id, 'displayName': 'CN=m365 sandbox admin'}],
        'requiredResourceAccess': [
            {'resourceAppId': catalog.GRAPH_APP_ID,
             'resourceAccess': [{'id': graph_roles[v], 'type': 'Role'} for v in ADMIN_GRAPH_ROLES]},
            {'resourceAppId': catalog.EXCHANGE_APP_ID,
             'resourceAccess': [{'id': exo_roles[v], 'type': 'Role'} for v in ADMIN_EXCHANGE_ROLES]},
        ],
    }, seed.domain)
    admin['id'] = _stable_id(seed.tenant_id, 'admin-app')
    admin['appId'] = seed.admin_client_id
    cred = new_password_credential({'displayName': 'sandbox admin secret'}, secret_text=seed.admin_secret, key_id=seed.admin_secret_key_id)
    tenant.secrets[cred['keyId']] = cred['secretText']
    admin['passwordCredentials'] = [dict(cred, secretText=None)]
    tenant.add('applications', admin, backdate=True)
    admin_sp = new_service_principal(admin, seed.tenant_id)
    admin_sp['id'] = _stable_id(seed.tenant_id, 'admin-sp')
    tenant.add('service_principals', admin_sp, backdate=True)
    for value in ADMIN_GRAPH_ROLES:
        grant_app_role(tenant, admin_sp, resources[catalog.GRAPH_APP_ID], value, backdate=True)
    for value in ADMIN_EXCHANGE_ROLES:
        grant_app_role(tenant, admin_sp, resources[catalog.EXCHANGE_APP_ID], value, backdate=True)
    # The seeded admin app was set up with an Exchange role in Exchange Online (as the portal procedure of
    # docs/permissions.md leaves it); apps created later need a directory role assignment (exchange/host.py has_admin_role).
    tenant.extensions['exchange_role_apps'] = {seed.admin_client_id.lower()}

    for number in range(1, seed.mailbox_count + 1):
        tenant.add('users', _user(seed, number), backdate=True)
    # The person who starts from nothing: a Global Administrator (no mailbox), with a stable id across resets.
    tenant.add_person(GLOBAL_ADMIN_UPN % seed.domain, 'Sandbox Global Administrator', roles=('Global Administrator',),
                      person_id=_stable_id(seed.tenant_id, 'global-admin'))
    return tenant


class Directory:
    def __init__(self, seeds):
        self.lock = threading.RLock()
        self.seeds = list(seeds)
        self.tenants = {}
        # Callables hook(tenant) run after every (re)build, e.g. to seed the Exchange model.
        self.reset_hooks = []
        self.reset()

    def reset(self):
        with self.lock:
            self.tenants = {seed.tenant_id: build_tenant(seed) for seed in self.seeds}
            for tenant in self.tenants.values():
                for hook in self.reset_hooks:
                    hook(tenant)

    def tenant(self, key):
        """A tenant by id or domain (case-insensitive), or None."""
        if not key:
            return None
        key_l = key.lower()
        for tenant in self.tenants.values():
            if key_l in (tenant.tenant_id, tenant.domain.lower()):
                return tenant
        return None

    def mailboxes(self, tenant_id):
        with self.lock:
            return self.tenant(tenant_id).mailboxes()

    def snapshot(self):
        with self.lock:
            return {'tenants': [t.snapshot() for t in self.tenants.values()]}
