# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API permissions by name: resolving role and scope names on a resource, and the requiredResourceAccess arithmetic."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import GUID_RE
from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import RESOURCE_ALIASES
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import key_path, odata_string

RESOURCE_SELECT = ['id', 'appId', 'displayName', 'appRoles', 'oauth2PermissionScopes']


def resource_app_id(client, name):
    """The appId of a resource API named by app id, alias, or display name."""
    if GUID_RE.match(name):
        return name.lower()
    alias = RESOURCE_ALIASES.get(name.strip().lower())
    if alias:
        return alias
    found = client.list('servicePrincipals', params={'$filter': 'displayName eq %s' % odata_string(name), '$select': 'appId'})
    if len(found) != 1:
        raise ConfigError("resource '%s' matches %d service principals; give the resource's app ID instead "
                          "(Office 365 Exchange Online is 00000002-0000-0ff1-ce00-000000000000)" % (name, len(found)))
    return found[0]['appId']


def find_resource(client, app_id):
    return client.get(key_path('servicePrincipals', 'appId', app_id), params={'$select': ','.join(RESOURCE_SELECT)},
                      missing_ok=True)


def create_resource(client, app_id):
    """Create the service principal of a first-party resource that was never used in the tenant."""
    client.post('servicePrincipals', {'appId': app_id}, retry_missing=True)
    return client.get(key_path('servicePrincipals', 'appId', app_id), params={'$select': ','.join(RESOURCE_SELECT)},
                      retry_missing=True)


def _resolve(names, available, kind, option, resource_name):
    by_lower = dict((item['value'].lower(), item) for item in available if item.get('value'))
    resolved, unknown = [], []
    for name in names:
        item = by_lower.get(name.strip().lower())
        (resolved if item else unknown).append(item or name)
    if unknown:
        raise ConfigError("%s: unknown %s permission%s %s on %s; valid names are: %s" % (
            option, kind, 's' if len(unknown) > 1 else '', ', '.join("'%s'" % n for n in unknown), resource_name,
            ', '.join(sorted(by_lower[k]['value'] for k in by_lower))))
    return resolved


def resolve_permissions(resource, application, delegated):
    """(app roles, delegated scopes) of the resource for the given names; unknown names fail with the valid ones."""
    roles = [r for r in resource.get('appRoles') or [] if 'Application' in (r.get('allowedMemberTypes') or [])
             and r.get('isEnabled', True)]
    scopes = [s for s in resource.get('oauth2PermissionScopes') or [] if s.get('isEnabled', True)]
    name = resource.get('displayName') or resource.get('appId')
    return (_resolve(application, roles, 'application', 'application_permissions', name),
            _resolve(delegated, scopes, 'delegated', 'delegated_permissions', name))


def access_entries(required, resource_app):
    """The set of (id, type) the app requests from one resource."""
    for entry in required:
        if entry.get('resourceAppId') == resource_app:
            return set((a['id'], a['type']) for a in entry.get('resourceAccess') or [])
    return set()


def merge_required(required, resource_app, wanted, exclusive, remove, keep_others=False):
    """The new requiredResourceAccess list.

    exclusive: the app requests exactly `wanted`, from this resource only (how
    the default Microsoft Graph User.Read goes); with keep_others, exactly `wanted`
    from this resource and the other resources' entries as they are. remove: drop `wanted`.
    """
    current = access_entries(required, resource_app)
    if remove:
        entries = current - wanted
    elif exclusive:
        entries = set(wanted)
    else:
        entries = current | wanted
    others = [] if exclusive and not keep_others else [e for e in required if e.get('resourceAppId') != resource_app]
    if entries:
        others.append({'resourceAppId': resource_app,
                       'resourceAccess': [{'id': i, 'type': t} for i, t in sorted(entries)]})
    return others


def normalized(required):
    return sorted((e['resourceAppId'], sorted((a['id'], a['type']) for a in e.get('resourceAccess') or []))
                  for e in required if e.get('resourceAccess'))


def names_by_id(resource):
    """id -> permission name for a resource's roles and scopes (for a readable diff)."""
    names = dict((r['id'], r.get('value')) for r in resource.get('appRoles') or [])
    names.update((s['id'], s.get('value')) for s in resource.get('oauth2PermissionScopes') or [])
    return names
