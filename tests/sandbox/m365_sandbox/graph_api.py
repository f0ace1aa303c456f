"""Microsoft Graph v1.0: authentication, role checks, URL parsing and routing.

Handlers for each entity set live in graph_apps.py and graph_grants.py (on
top of graph_common.py); this module turns a request into (status, body,
headers) or a GraphError.
"""

import re
import urllib.parse

from . import catalog, graph_apps, graph_grants, graph_roles
from .graph_common import Call
from .odata import GraphError, bad_request
from .tokens import InvalidToken

COLLECTION_SEGMENTS = frozenset({'applications', 'servicePrincipals', 'oauth2PermissionGrants', 'users', 'organization',
                                 'appRoleAssignedTo', 'appRoleAssignments', 'roleDefinitions', 'roleAssignments'})
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_.]*)(?:\((?P<key>.*)\))?$")
_KEY = re.compile(r"^(?:(?P<prop>[A-Za-z]+)=)?'(?P<value>(?:[^']|'')*)'$|^(?P<bare>[0-9a-fA-F-]{36})$")


def split_path(path):
    """Split a Graph path on '/' outside quoted key literals; return [(name, key)]."""
    parts, buf, quoted = [], [], False
    for char in path:
        if char == "'":
            quoted = not quoted
        if char == '/' and not quoted:
            parts.append(''.join(buf))
            buf = []
        else:
            buf.append(char)
    parts.append(''.join(buf))
    out = []
    for part in parts:
        if not part:
            continue
        match = _SEGMENT.match(part)
        if match is None:
            # A bare id segment such as /applications/{id}.
            out.append((part, None))
            continue
        name, key = match.group('name'), match.group('key')
        if name.startswith('microsoft.graph.'):
            name = name[len('microsoft.graph.'):]
        if key is None:
            out.append((name, None))
            continue
        key_match = _KEY.match(key)
        if key_match is None:
            raise bad_request("Bad request. Please fix the request before retrying: invalid key segment '%s'." % part, code='BadRequest')
        if key_match.group('bare'):
            out.append((name, ('id', key_match.group('bare'))))
        else:
            out.append((name, (key_match.group('prop') or 'id', key_match.group('value').replace("''", "'"))))
    return out


def route_name(method, segments):
    """A stable label for counters: ids replaced by placeholders, key names kept."""
    labels = []
    for index, (name, key) in enumerate(segments):
        if key is not None:
            labels.append('%s(%s)' % (name, key[0]))
        elif index > 0 and labels and labels[-1] in COLLECTION_SEGMENTS:
            labels.append('{id}')
        else:
            labels.append(name)
    return '%s /%s' % (method, '/'.join(labels))


class GraphApi:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.collections = {
            'applications': graph_apps.applications,
            'servicePrincipals': graph_apps.service_principals,
            'oauth2PermissionGrants': graph_grants.oauth2_permission_grants,
            'users': graph_grants.users,
            'organization': graph_grants.organization,
            'roleManagement': graph_roles.role_management,
        }

    def authenticate(self, headers):
        auth = headers.get('authorization', '')
        token = auth[7:].strip() if auth.lower().startswith('bearer ') else ''
        try:
            claims = self.sandbox.verify_token(token, audiences=catalog.GRAPH_AUDIENCES)
        except InvalidToken as exc:
            raise GraphError(401, 'InvalidAuthenticationToken', str(exc),
                             headers={'WWW-Authenticate': 'Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"'
                                      % (self.sandbox.base_url, catalog.GRAPH_APP_ID)}) from None
        return claims

    def handle(self, method, path, query_string, headers, raw_body):
        """Return (result, route label); result is (status, body or None, extra headers) or a GraphError."""
        query = dict(urllib.parse.parse_qsl(query_string, keep_blank_values=True))
        try:
            segments = split_path(urllib.parse.unquote(path))
        except GraphError as exc:
            return exc, 'invalid'
        route = route_name(method, segments)
        try:
            claims = self.authenticate(headers)
            if not segments or segments[0][0] not in self.collections:
                raise GraphError(400, 'BadRequest', "Resource not found for the segment '%s'." % (segments[0][0] if segments else ''))
            call = Call(method=method, segments=segments, query=query, headers=headers, raw_body=raw_body,
                        roles=frozenset(claims.get('roles') or ()), graph_base=self.sandbox.graph_url,
                        delay=self.sandbox.faults.replication_delay, page_size=self.sandbox.settings['page_size'], route=route, path=path)
            with self.sandbox.directory.lock:
                call.tenant = self.sandbox.directory.tenant(claims.get('tid'))
                if call.tenant is None:
                    raise GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid tenant.')
                if 'scp' in claims:
                    # A person's token: Graph checks the scopes and the person's directory roles as they are now.
                    call.scopes = frozenset(claims['scp'].split())
                    call.person_roles = frozenset(call.tenant.role_names_of(claims.get('oid')))
                return self.collections[segments[0][0]](call), route
        except GraphError as exc:
            return exc, route
