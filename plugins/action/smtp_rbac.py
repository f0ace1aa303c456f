# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.smtp_rbac; the documentation is in plugins/modules/smtp_rbac.py."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.plan import check_plan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.service_principal_plan import fallback_message, not_known_message
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import PRINCIPAL_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.mailbox_identities import resolve_mailboxes
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.smtp_rbac_plan import (
    SMTP_ROLE, SmtpRbacPlan, check_name, default_name, scope_addresses)

SPEC = dict(
    PRINCIPAL_SPEC,
    mailboxes=dict(type='list', elements='str'),
    mailboxes_file=dict(type='path'),
    scope_name=dict(type='str'),
    assignment_name=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    test_authorization=dict(type='bool', default=True),
)


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['app_id', 'object_id']]
    MUTUALLY_EXCLUSIVE = [['mailboxes', 'mailboxes_file']]

    def execute(self, params):
        absent = params['state'] == 'absent'
        mailboxes = []
        if params.get('mailboxes') is not None or params.get('mailboxes_file'):
            mailboxes = resolve_mailboxes(params['mailboxes'], params['mailboxes_file'], self.read_controller_file)
        elif not absent:
            raise ConfigError('mailboxes (or mailboxes_file) is required with state=present: list the mailboxes the app may send as')
        # Every input is checked before the first read: a filter Exchange would refuse never reaches it.
        addresses = scope_addresses(mailboxes) if not absent else []
        for option in ('scope_name', 'assignment_name'):
            if params.get(option) is not None:
                check_name(params[option], option)
        principal = self.principal(params.get('app_id'), params.get('object_id'), missing_ok=absent)
        warnings = []
        if principal is None:
            principal = self.exchange_record(params.get('app_id'), params.get('object_id'))
            if principal is None and not params.get('app_id'):
                return {'changed': False, 'principal': None, 'actions': [],
                        'warnings': [not_known_message(params.get('app_id'), params.get('object_id'))]}
            if principal is None:
                # Gone from Entra ID and Exchange: the scope and the assignment are still found by the names the app id gives.
                principal = {'app_id': params['app_id'].lower(), 'object_id': params['app_id'].lower(), 'source': 'app_id'}
                warnings.append('neither Microsoft Graph nor Exchange Online knows a service principal with app_id %s: the '
                                'scope and role assignment named after the app id are removed if they exist' % params['app_id'])
            else:
                warnings.append(fallback_message(params.get('app_id'), params.get('object_id'), principal))
        scope_name = params.get('scope_name') or default_name(principal['app_id'])
        assignment_name = params.get('assignment_name') or default_name(principal['app_id'])
        # A scope the user named may serve others: state=absent removes only the one this module names itself.
        plan = SmtpRbacPlan(principal['object_id'], scope_name, assignment_name, addresses, params['state'],
                            remove_scope=not params.get('scope_name'), test_authorization=params['test_authorization'])
        answer = self.session().converge(plan.reads, plan.writes, check_mode=self.check_mode)
        if answer.failed:
            answer.raise_for_failure()
        outcome = plan.outcome(answer)
        warnings.extend(answer.warnings)
        if not outcome['principal_in_exchange'] and not absent:
            msg = ('Exchange Online has no service principal with object id %s (app %s): create it first with '
                   'm365.mail_oauth.exchange_service_principal' % (principal['object_id'], principal['app_id']))
            if not self.check_mode:
                raise ConfigError(msg + '; the management scope may have been created, the role assignment was not')
            warnings.append(msg + '; in check mode the role assignment is reported as missing')
            if ('new_management_role_assignment', None) not in outcome['expected']:
                outcome['expected'].append(('new_management_role_assignment', None))
        if not self.check_mode:
            check_plan(answer, outcome['expected'])
        actions = [op for op, _key in outcome['expected']]
        result = {
            'changed': bool(actions), 'actions': actions, 'principal': principal,
            'scope_name': scope_name, 'assignment_name': assignment_name, 'role': 'Application SMTP.SendAsApp',
            'scope': outcome['after']['scope'],
            'out_of_scope': outcome['out_of_scope'],
            # What the diff shows, also without --diff: the audit's drift report reads it.
            'before': outcome['before'], 'after': outcome['after'],
            'organization': self.session().connection.get('organization'),
        }
        if self.diff_mode:
            result['diff'] = {'before': outcome['before'], 'after': outcome['after']}
        if outcome['out_of_scope']:
            warnings.append('Test-ServicePrincipalAuthorization: the role does not reach %d listed mailbox(es): %s (list each by '
                            'its primary SMTP address; a login to it will be refused)'
                            % (len(outcome['out_of_scope']), ', '.join(outcome['out_of_scope'][:20])))
        if outcome['authorization_errors']:
            warnings.append('Test-ServicePrincipalAuthorization failed for: %s' % '; '.join(outcome['authorization_errors'][:10]))
        if actions and not absent and not self.check_mode:
            warnings.append('Exchange Online applies RBAC changes to logins after its permission cache expires (30 minutes to '
                            '2 hours, Learn: application-rbac); Test-ServicePrincipalAuthorization shows them at once')
        if warnings:
            result['warnings'] = warnings
        if answer.stopped:
            # A failed run was raised above; a stopped one is said in the runner's shared wording, with what it did.
            done = [r['op'] for r in answer.done()]
            result.update(failed=True, msg='%s (done before it: %s; the next run repairs the rest)%s'
                          % (answer.stop_message(), ', '.join(done) or 'nothing', _assignment_hint(answer)))
        return result


# Exchange's wording for a caller without a delegating assignment is not documented, so the hint hangs on where the run
# stopped, not on the text: assigning an application role is what a role group without one cannot do.
DELEGATING_HINT = ('; to assign %s the caller needs a delegating assignment of it: an admin app whose Exchange role is a role '
                   'group gets one through m365.mail_oauth.exchange_role_group delegating_roles (playbooks/bootstrap.yml '
                   'with admin_identity_exchange_role=role_group makes it, as a Global Administrator or Exchange '
                   'Administrator); see docs/permissions.md')


def _assignment_hint(answer):
    where = answer.raw.get('stopped_at') or {}
    return DELEGATING_HINT % ("'%s'" % SMTP_ROLE) if where.get('op') == 'new_management_role_assignment' else ''
