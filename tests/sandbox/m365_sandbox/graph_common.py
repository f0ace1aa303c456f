"""Pieces every Graph handler module shares: the request object, role sets
and directory lookups that honour the replication delay."""

import json
from dataclasses import dataclass

from .odata import GraphError, bad_request, not_found

READ_APPS = frozenset({'Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'})
WRITE_APPS = frozenset({'Application.ReadWrite.All'})
ASSIGN_ROLES = frozenset({'AppRoleAssignment.ReadWrite.All'})
READ_GRANTS = frozenset({'DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'})
WRITE_GRANTS = frozenset({'DelegatedPermissionGrant.ReadWrite.All'})
READ_ORG = frozenset({'Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'}) | READ_APPS
READ_USERS = frozenset({'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'})
READ_ROLES = frozenset({'RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'})
WRITE_ROLES = frozenset({'RoleManagement.ReadWrite.Directory'})

# A delegated call needs the scope AND a directory role of the signed-in person that allows the operation (Microsoft
# Graph's permission pages: "the signed-in user must be assigned a supported Microsoft Entra role"). Groups not listed
# here are reads any member may do. Role lists: the least privileged roles those pages name, and Global Administrator.
APP_ADMINS = frozenset({'Application Administrator', 'Cloud Application Administrator', 'Global Administrator'})
DELEGATED_ROLES = {
    WRITE_APPS: APP_ADMINS,
    ASSIGN_ROLES: APP_ADMINS | {'Privileged Role Administrator'},
    WRITE_GRANTS: APP_ADMINS | {'Privileged Role Administrator'},
    WRITE_ROLES: frozenset({'Privileged Role Administrator', 'Global Administrator'}),
}
# Admin consent to Microsoft Graph's own application permissions needs more than an application administrator.
GRAPH_CONSENT_ROLES = frozenset({'Privileged Role Administrator', 'Global Administrator'})
# The delegated scope that stands for everything the person may do in the directory.
AS_USER_ALL = 'Directory.AccessAsUser.All'


@dataclass
class Call:
    """One Graph request after authentication."""

    method: str
    segments: list
    query: dict
    headers: dict
    raw_body: bytes
    tenant: object = None
    roles: frozenset = frozenset()
    # A person's token: its delegated scopes (None for an app token) and the person's directory role names.
    scopes: frozenset = None
    person_roles: frozenset = frozenset()
    graph_base: str = ''
    delay: float = 0
    page_size: int = 100
    route: str = ''
    path: str = ''

    def body(self):
        if not self.raw_body:
            return {}
        try:
            value = json.loads(self.raw_body)
        except ValueError:
            raise bad_request('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
                              code='BadRequest') from None
        if not isinstance(value, dict):
            raise bad_request('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
                              code='BadRequest')
        return value

    def prefers(self, token):
        prefer = self.headers.get('prefer', '')
        return token in [p.strip().lower() for p in prefer.split(',')]

    def context(self, fragment):
        return '%s/v1.0/$metadata#%s' % (self.graph_base, fragment)

    def self_url(self):
        return '%s/v1.0/%s' % (self.graph_base, self.path.strip('/'))

    def visible(self, obj_id):
        return self.tenant.visible(obj_id, self.delay)

    def require(self, *groups):
        """Each group is a set of permissions of which the token must hold at least one (app roles, or delegated scopes
        plus a directory role of the person that allows the operation)."""
        for group in groups:
            if self.scopes is None:
                allowed = bool(self.roles & group)
            else:
                allowed = bool(self.scopes & group) or AS_USER_ALL in self.scopes
                if allowed and group in DELEGATED_ROLES:
                    allowed = bool(self.person_roles & DELEGATED_ROLES[group])
            if not allowed:
                raise denied()

    def require_person_role(self, roles):
        """A delegated call must also come from a person holding one of roles (app tokens pass)."""
        if self.scopes is not None and not self.person_roles & roles:
            raise denied()


def denied():
    return GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')


def method_not_allowed():
    return GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.')


def find_visible(call, collection, selector):
    """Look an object up for a read (replication delay applies); 404 when absent."""
    obj = lookup(call.tenant, collection, selector)
    if obj is None or not call.visible(obj['id']):
        raise not_found(selector[1])
    return obj


def lookup(tenant, collection, selector):
    """The true state, regardless of replication delay."""
    prop, value = selector
    store = getattr(tenant, collection)
    if prop == 'id':
        obj = store.get(value.lower()) or store.get(value)
        if obj is None and collection == 'users':
            obj = tenant.user_by(value)
        return obj
    value_l = value.lower()
    for obj in store.values():
        have = obj.get(prop)
        if isinstance(have, str) and have.lower() == value_l:
            return obj
    return None
