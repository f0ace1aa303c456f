# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.mailbox_permission; the documentation is in plugins/modules/mailbox_permission.py."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError, M365Error
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import (
    ExchangeAction, check_plan, fallback_message, not_known_message)
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import PRINCIPAL_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import resolve_mailboxes
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.mailbox_permission_plan import PermissionPlan

SPEC = dict(
    PRINCIPAL_SPEC,
    mailboxes=dict(type='list', elements='str'),
    mailboxes_file=dict(type='path'),
    access_rights=dict(type='list', elements='str', choices=['FullAccess', 'SendAs'], default=['FullAccess']),
    automapping=dict(type='bool', default=False),
    exclusive=dict(type='bool', default=False),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    missing=dict(type='str', choices=['fail', 'warn'], default='fail'),
    new_principal=dict(type='bool', default=False),
)


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['app_id', 'object_id'], ['mailboxes', 'mailboxes_file']]
    MUTUALLY_EXCLUSIVE = [['mailboxes', 'mailboxes_file']]

    def execute(self, params):
        mailboxes = resolve_mailboxes(params['mailboxes'], params['mailboxes_file'], self.read_controller_file)
        rights = [r for r in ('FullAccess', 'SendAs') if r in params['access_rights']]
        if not rights:
            raise ConfigError('access_rights must name FullAccess and/or SendAs')
        absent = params['state'] == 'absent'
        if params['exclusive'] and not mailboxes and not absent:
            raise ConfigError('exclusive=true with an empty mailbox list would remove the principal\'s %s from every mailbox; '
                              'list the mailboxes to keep, or use state=absent with exclusive=true to remove it everywhere'
                              % ' and '.join(rights))
        # Removing needs no Graph check of the ids: an application already deleted in Entra ID is found by Exchange
        # Online's own record of its service principal, whose object id the mailbox permissions name.
        principal = self.principal(params.get('app_id'), params.get('object_id'), missing_ok=absent)
        warnings = []
        if principal is None:
            principal = self.exchange_record(params.get('app_id'), params.get('object_id'))
            if principal is None:
                return {'changed': False, 'principal': None, 'mailbox_count': len(mailboxes), 'removed': {}, 'added': {},
                        'missing': [], 'warnings': [not_known_message(params.get('app_id'), params.get('object_id'))]}
            warnings.append(fallback_message(params.get('app_id'), params.get('object_id'), principal))
        result = {'changed': False, 'principal': principal, 'mailbox_count': len(mailboxes)}
        if not mailboxes and not params['exclusive']:
            if warnings:
                result['warnings'] = warnings
            return result
        # Check mode reads whatever new_principal says: its report must come from what Exchange holds.
        plan = PermissionPlan(principal['object_id'], mailboxes, rights, params['state'], params['exclusive'], params['automapping'],
                              new_principal=params['new_principal'] and not self.check_mode)
        answer = self.session().converge(plan.reads, plan.writes, check_mode=self.check_mode)
        if answer.failed:
            answer.raise_for_failure()
        outcome = plan.outcome(answer)
        warnings.extend(answer.warnings)
        if not outcome['principal_in_exchange'] and not outcome['errors'] and absent:
            # Nothing in Exchange Online can hold a permission of a principal it does not know.
            warnings.append('Exchange Online has no service principal with object id %s (app %s): no mailbox permission of it to remove'
                            % (principal['object_id'], principal['app_id']))
        elif not outcome['principal_in_exchange'] and not outcome['errors']:
            msg = ('Exchange Online has no service principal with object id %s (app %s): create it first with '
                   'm365.mail_oauth.exchange_service_principal' % (principal['object_id'], principal['app_id']))
            if not self.check_mode:
                raise ConfigError(msg)
            warnings.append(msg + '; in check mode every listed mailbox is reported as changing')
            outcome['added'] = dict((r, list(mailboxes)) for r in rights if params['state'] == 'present')
        if not self.check_mode:
            check_plan(answer, outcome['expected'])
        result.update(
            changed=bool(outcome['added'] or outcome['removed']),
            added=outcome['added'], removed=outcome['removed'], missing=outcome['missing'],
            unchanged=len(mailboxes) - len(outcome['missing']) - len([m for m in outcome['before'] if m in set(mailboxes)]),
            organization=self.session().connection.get('organization'),
        )
        if self.diff_mode:
            result['diff'] = {'before': outcome['before'], 'after': outcome['after']}
        if outcome['missing'] and params['missing'] == 'warn':
            warnings.append('%d mailbox(es) not found, skipped: %s' % (len(outcome['missing']), ', '.join(outcome['missing'][:20])))
        if warnings:
            result['warnings'] = warnings
        problems = []
        if outcome['principal_unknown']:
            # The run stopped at the first write that needed the principal: say that, not which mailbox it was writing.
            problems.append('%s (%d write(s) done, %d skipped)' % (outcome['principal_unknown'], len(answer.done()), answer.raw.get('skipped', 0)))
        elif answer.stopped:
            try:
                answer.raise_for_failure()
            except M365Error as exc:
                problems.append(exc.msg)
        if outcome['errors']:
            problems.append('Exchange Online failed for: %s' % '; '.join(outcome['errors'][:10]))
        if outcome['missing'] and params['missing'] == 'fail':
            problems.append('mailbox(es) not found: %s (the other mailboxes were processed; set missing=warn to accept this)'
                            % ', '.join(outcome['missing'][:20]))
        if problems:
            result.update(failed=True, msg='; '.join(problems))
        return result
