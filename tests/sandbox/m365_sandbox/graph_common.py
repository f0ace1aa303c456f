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
        """Each group is a set of roles of which the token must hold at least one."""
        for group in groups:
            if not self.roles & group:
                raise GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')


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
