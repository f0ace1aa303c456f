# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Exchange actions ask Microsoft Graph, from the controller, before Exchange is touched.

Exchange does not check the ids New-ServicePrincipal is given, so Graph is
the only place that can tell a service principal's object id from its
application's: every id is checked here first.
"""

from ansible.utils.display import Display

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import check_guid
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.applications import find_service_principal
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import LazyGraph

SP_SELECT = ('id', 'appId', 'displayName')


class ControllerGraph(LazyGraph):
    """Graph client and token provider built from the task's Graph auth options, on first use."""

    def __init__(self, params, warn=None):
        # An action plugin's self._display is this same Display (a singleton).
        super(ControllerGraph, self).__init__(params, warn or Display().warning)

    def secrets(self):
        """What the action removes from its result: the secrets of the credentials, once they were read."""
        return self._credentials.secrets() if self._credentials is not None else []

    def exchange_token(self):
        """An app-only token for Exchange Online (scope cloud.exchange + /.default) for the admin app."""
        client = self.client
        if self.credentials.kind == 'access_token':
            raise ConfigError('access_token is a token for Microsoft Graph and cannot connect to Exchange Online: '
                              'set exchange_access_token too, or use client_secret / client_certificate_path')
        return client.tokens.token(client.cloud.exchange)

    def initial_domain(self):
        """The tenant's initial domain (contoso.onmicrosoft.com), what Connect-ExchangeOnline -Organization wants."""
        organizations = self.client.list('organization', params={'$select': 'id,verifiedDomains'})
        for organization in organizations:
            for domain in organization.get('verifiedDomains') or []:
                if domain.get('isInitial'):
                    return domain['name']
        raise ConfigError('Graph /organization names no initial domain: set organization (e.g. contoso.onmicrosoft.com)')

    def service_principal(self, app_id=None, object_id=None, missing_ok=False):
        """{app_id, object_id, display_name} of the application's service principal, every given id checked.

        missing_ok: None instead of an error when Graph has no service principal by the given id (state=absent, where
        the application may be gone from Entra ID while Exchange Online still records it).
        """
        check_guid(app_id, 'app_id')
        check_guid(object_id, 'object_id')
        if not app_id and not object_id:
            raise ConfigError('name the application by app_id or object_id')
        client = self.client
        query = {'$select': ','.join(SP_SELECT)}
        if object_id:
            principal = client.get('servicePrincipals/%s' % object_id, params=query, missing_ok=True)
            if principal is None:
                if missing_ok:
                    return None
                raise ConfigError(self._not_a_principal(object_id, app_id))
            if app_id and principal['appId'].lower() != app_id.lower():
                raise ConfigError('object_id %s is the service principal of app_id %s, not of app_id %s: the two ids belong to '
                                  'different applications' % (object_id, principal['appId'], app_id))
        else:
            principal = find_service_principal(client, app_id, select=SP_SELECT)
            if principal is None:
                if missing_ok:
                    return None
                raise ConfigError('application %s has no service principal (enterprise application) in this tenant: create it '
                                  'with m365.mail_oauth.azure_app_registration, or check app_id and tenant_id' % app_id)
        return {'app_id': principal['appId'].lower(), 'object_id': principal['id'].lower(), 'display_name': principal.get('displayName')}

    def _not_a_principal(self, object_id, app_id):
        application = self.client.get('applications/%s' % object_id, params={'$select': 'id,appId,displayName'}, missing_ok=True)
        if application is None:
            return 'object_id %s is not a service principal in this tenant (nor an application); check the id and tenant_id' % object_id
        principal = find_service_principal(self.client, application['appId'], select=SP_SELECT)
        right = ("the enterprise application's object id is %s" % principal['id']) if principal else \
            'the application has no service principal yet (create it with m365.mail_oauth.azure_app_registration)'
        return ('object_id %s is the object id of the application registration (app_id %s), not of its service principal: %s. '
                'Exchange needs the service principal (Enterprise applications) object id%s'
                % (object_id, application['appId'], right, '' if not app_id or app_id.lower() == application['appId'].lower()
                   else '; app_id %s also names a different application' % app_id))
