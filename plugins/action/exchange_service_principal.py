# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.exchange_service_principal; the documentation is in plugins/modules/exchange_service_principal.py."""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import PRINCIPAL_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.service_principal_plan import RecordRemovalPlan, ServicePrincipalPlan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.smtp_rbac_plan import default_name

SPEC = dict(
    PRINCIPAL_SPEC,
    display_name=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    report_smtp_rbac=dict(type='bool', default=False),
)


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['app_id', 'object_id']]

    def execute(self, params):
        # Graph first: a wrong object id must fail before Exchange is touched. Removing needs no such check, so an
        # application already deleted in Entra ID is removed by Exchange Online's own record of it.
        principal = self.principal(params.get('app_id'), params.get('object_id'), missing_ok=params['state'] == 'absent')
        if principal is None:
            return self.converge(RecordRemovalPlan(params.get('app_id'), params.get('object_id')))
        smtp_rbac = default_name(principal['app_id']) if params['report_smtp_rbac'] else None
        return self.converge(ServicePrincipalPlan(principal, params.get('display_name'), params['state'], smtp_rbac))
