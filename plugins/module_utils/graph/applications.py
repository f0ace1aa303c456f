# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applications and their service principals, found by a stable key, never by display name."""

import re

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import check_guid
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, GraphError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import key_path, odata_string

UNIQUE_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$')

# Without this tag the portal hides the service principal from "Enterprise applications".
ENTERPRISE_APP_TAG = 'WindowsAzureActiveDirectoryIntegratedApp'


def check_selector(params):
    """Validate how the application is named (unique_name / app_id / object_id) before any call."""
    unique_name = params.get('unique_name')
    if unique_name is not None and not UNIQUE_NAME_RE.match(unique_name):
        raise ConfigError("unique_name '%s' is not valid: use 1 to 120 letters, digits, '.', '_' or '-', starting with a "
                          "letter or digit (it is the application's permanent key and cannot be changed later)" % unique_name)
    check_guid(params.get('app_id'), 'app_id')
    check_guid(params.get('object_id'), 'object_id')


def application_path(params):
    """The Graph path that addresses the application the options name."""
    if params.get('object_id'):
        return 'applications/%s' % params['object_id']
    if params.get('app_id'):
        return key_path('applications', 'appId', params['app_id'])
    return key_path('applications', 'uniqueName', params['unique_name'])


def describe_selector(params):
    for key in ('unique_name', 'app_id', 'object_id'):
        if params.get(key):
            return "%s '%s'" % (key, params[key])
    return 'the application'


def find_application(client, params, select=None, retry_missing=False):
    """The application the options name, or None."""
    query = {'$select': ','.join(select)} if select else None
    return client.get(application_path(params), params=query, missing_ok=True, retry_missing=retry_missing)


def application_or_plan(module, app, collection):
    """The application found; missing, a failure - or in check mode a stand-in with no ids and an empty `collection`.

    Check mode runs every task against a tenant where an earlier task (the registration) would have created the
    application, so the later tasks report what they would do once it exists instead of failing.
    """
    if app is not None:
        return app
    params = module.params
    if not module.check_mode:
        raise ConfigError('no application with %s in this tenant: create it first with m365.mail_oauth.azure_app_registration '
                          '(or check tenant_id)' % describe_selector(params))
    module.warn('%s does not exist yet; reporting what would be done once it does' % describe_selector(params))
    return {'id': None, 'appId': None, collection: []}


def applications_named(client, display_name):
    return client.list('applications', params={
        '$filter': 'displayName eq %s' % odata_string(display_name), '$select': 'id,appId,uniqueName,displayName'})


def find_service_principal(client, app_id, select=None, retry_missing=False):
    query = {'$select': ','.join(select)} if select else None
    return client.get(key_path('servicePrincipals', 'appId', app_id), params=query, missing_ok=True,
                      retry_missing=retry_missing)


def create_service_principal(client, app_id, tags=(ENTERPRISE_APP_TAG,)):
    """Create the service principal of an application, riding out the application's replication delay.

    Right after the application is created, Graph answers 400
    NoBackingApplicationObject until the application has replicated.
    """
    try:
        principal = client.post('servicePrincipals', {'appId': app_id, 'tags': list(tags)}, retry_missing=True)
    except GraphError as exc:
        # 409 Request_MultipleObjectsWithSameKeyValue: an overlapping run created it between our read and our POST. There is
        # one service principal per appId, so it is the one we wanted: adopt it.
        if exc.status != 409:
            raise
        principal = find_service_principal(client, app_id, select=['id', 'appId'], retry_missing=True)
        if principal is None:
            raise
    # Later tasks (secrets, consent, Exchange) look it up by id: wait until it is readable.
    client.get('servicePrincipals/%s' % principal['id'], params={'$select': 'id'}, retry_missing=True)
    return principal
