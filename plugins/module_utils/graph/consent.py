# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admin consent for an application's service principal: the app role assignments and tenant-wide delegated grants
api_permission plans, writes (or only reports in check mode), and names for its diff."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import permissions as perms


class Namer:
    """Names for permission ids of any resource, fetched once per resource, for the diff and the results."""

    def __init__(self, client, known):
        self.client = client
        self.resources = dict((r['appId'], r) for r in known if r)
        self.by_object_id = dict((r['id'], r) for r in known if r)

    def resource(self, app_id=None, object_id=None):
        if app_id and app_id not in self.resources:
            self.resources[app_id] = perms.find_resource(self.client, app_id) or {'appId': app_id, 'displayName': app_id}
        if object_id and object_id not in self.by_object_id:
            found = self.client.get('servicePrincipals/%s' % object_id, params={'$select': ','.join(perms.RESOURCE_SELECT)},
                                    missing_ok=True)
            self.by_object_id[object_id] = found or {'id': object_id, 'displayName': object_id}
        return self.resources[app_id] if app_id else self.by_object_id[object_id]

    def requested(self, required):
        view = {}
        for entry in required:
            resource = self.resource(app_id=entry['resourceAppId'])
            names = perms.names_by_id(resource)
            view[resource.get('displayName') or entry['resourceAppId']] = sorted(
                names.get(a['id'], a['id']) for a in entry.get('resourceAccess') or [])
        return view

    def granted(self, assignments):
        view = {}
        for assignment in assignments:
            resource = self.resource(object_id=assignment['resourceId'])
            name = perms.names_by_id(resource).get(assignment['appRoleId'], assignment['appRoleId'])
            view.setdefault(resource.get('displayName') or assignment['resourceId'], []).append(name)
        return dict((k, sorted(v)) for k, v in view.items())


def plan_role_assignments(assignments, resource, wanted_roles, exclusive, remove, keep_others=False):
    """(role ids to assign, assignments to delete); keep_others: exclusive on this resource only."""
    held = set(a['appRoleId'] for a in assignments if a['resourceId'] == resource['id'])
    wanted_ids = set(r['id'] for r in wanted_roles)
    if remove:
        return [], [a for a in assignments if a['resourceId'] == resource['id'] and a['appRoleId'] in wanted_ids]
    to_add = sorted(wanted_ids - held)
    to_delete = [a for a in assignments if exclusive and not (a['resourceId'] == resource['id'] and a['appRoleId'] in wanted_ids)
                 and not (keep_others and a['resourceId'] != resource['id'])]
    return to_add, to_delete


def plan_grants(grants, resource, wanted_scopes, exclusive, remove, keep_others=False):
    """Writes to tenant-wide delegated grants: [(grant or None to create, scope string or None to delete)];
    keep_others: exclusive on this resource only."""
    wanted = set(s['value'] for s in wanted_scopes)
    writes = []
    mine = None
    for grant in (g for g in grants if g.get('consentType') == 'AllPrincipals'):
        if grant['resourceId'] != resource['id']:
            if exclusive and not keep_others:
                writes.append((grant, None))
            continue
        mine = grant
        current = set((grant.get('scope') or '').split())
        new = current - wanted if remove else wanted if exclusive else current | wanted
        if new != current:
            writes.append((grant, ' '.join(sorted(new)) or None))
    if mine is None and wanted and not remove:
        writes.append((None, ' '.join(sorted(wanted))))
    return writes


def consent(module, client, app, resource, roles, scopes, result, namer, principal, assignments, grants):
    params = module.params
    remove = params['state'] == 'absent'
    if principal is None:
        if module.check_mode:
            result['changed'] = bool(roles) and not remove
            would = {resource['displayName']: sorted(r['value'] for r in roles)} if roles and not remove else {}
            return {}, would
        raise ConfigError('the application %s has no service principal, so consent cannot be granted: run '
                          'm365.mail_oauth.azure_app_registration with service_principal=true first' % app['appId'])
    result['service_principal_id'] = principal['id']
    keep_others = params.get('exclusive_scope') == 'this_resource'
    to_add, to_delete = plan_role_assignments(assignments, resource, roles, params['exclusive'], remove, keep_others)
    grant_writes = plan_grants(grants, resource, scopes, params['exclusive'], remove, keep_others)
    before = namer.granted(assignments)
    deleted_ids = set(a['id'] for a in to_delete)
    after_assignments = [a for a in assignments if a['id'] not in deleted_ids] + [
        {'resourceId': resource['id'], 'appRoleId': role_id} for role_id in to_add]
    if to_add or to_delete or grant_writes:
        result['changed'] = True
    if not module.check_mode:
        for role_id in to_add:
            # A principal created moments ago may not have replicated to the resource's partition yet.
            client.post('servicePrincipals/%s/appRoleAssignedTo' % resource['id'],
                        {'principalId': principal['id'], 'resourceId': resource['id'], 'appRoleId': role_id}, retry_missing=True)
        for assignment in to_delete:
            client.delete('servicePrincipals/%s/appRoleAssignedTo/%s' % (assignment['resourceId'], assignment['id']))
        for grant, scope in grant_writes:
            if grant is None:
                client.post('oauth2PermissionGrants', {'clientId': principal['id'], 'consentType': 'AllPrincipals',
                                                       'resourceId': resource['id'], 'scope': scope}, retry_missing=True)
            elif scope is None:
                client.delete('oauth2PermissionGrants/%s' % grant['id'])
            else:
                client.patch('oauth2PermissionGrants/%s' % grant['id'], {'scope': scope})
    return before, namer.granted(after_assignments)
