# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.mailbox_permission; the documentation is in plugins/modules/mailbox_permission.py."""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import PRINCIPAL_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.mailbox_permission_plan import PermissionPlan, rights_to_manage
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.service_principal_plan import fallback_message, not_known_message
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import resolve_mailboxes

SPEC = dict(
    PRINCIPAL_SPEC,
    mailboxes=dict(type='list', elements='str'),
    mailboxes_file=dict(type='path'),
    access_rights=dict(type='list', elements='str', choices=['FullAccess', 'SendAs'], default=['FullAccess']),
    automapping=dict(type='bool', default=False),
    exclusive=dict(type='bool', default=False),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    missing=dict(type='str', choices=['fail', 'warn'], default='fail'),
    principal_created_this_run=dict(type='bool', default=False, aliases=['new_principal']),
)


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['app_id', 'object_id'], ['mailboxes', 'mailboxes_file']]
    MUTUALLY_EXCLUSIVE = [['mailboxes', 'mailboxes_file']]

    def execute(self, params):
        mailboxes = resolve_mailboxes(params['mailboxes'], params['mailboxes_file'], self.read_controller_file)
        rights = rights_to_manage(params['access_rights'], mailboxes, params['state'], params['exclusive'])
        app_id, object_id = params.get('app_id'), params.get('object_id')
        # Removing needs no Graph check of the ids: an application already deleted in Entra ID is found by Exchange
        # Online's own record of its service principal, whose object id the mailbox permissions name.
        principal = self.principal(app_id, object_id, missing_ok=params['state'] == 'absent')
        warnings = []
        if principal is None:
            principal = self.exchange_record(app_id, object_id)
            if principal is None:
                return {'changed': False, 'principal': None, 'mailbox_count': len(mailboxes), 'removed': {}, 'added': {},
                        'missing': [], 'warnings': [not_known_message(app_id, object_id)]}
            warnings.append(fallback_message(app_id, object_id, principal))
        result = {'changed': False, 'principal': principal, 'mailbox_count': len(mailboxes)}
        if not mailboxes and not params['exclusive']:
            return dict(result, warnings=warnings) if warnings else result
        # Check mode reads whatever principal_created_this_run says: its report must come from what Exchange holds.
        plan = PermissionPlan(principal['object_id'], mailboxes, rights, params['state'], params['exclusive'], params['automapping'],
                              created_this_run=params['principal_created_this_run'] and not self.check_mode,
                              fail_missing=params['missing'] == 'fail', principal=principal, warnings=warnings)
        result.update(self.converge(plan))
        return result
