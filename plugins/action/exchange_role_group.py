# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.exchange_role_group; the documentation is in plugins/modules/exchange_role_group.py.

The plan (operations, the writes due, the repair) is plugin_utils/role_group_plan.py.
"""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.names import text_problem
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import role_group_plan as plan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import ExchangeAction
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.plan import check_plan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import DELEGATED_ROLES, MANAGEMENT_ROLES

SPEC = dict(
    name=dict(type='str', required=True),
    roles=dict(type='list', elements='str', choices=list(MANAGEMENT_ROLES)),
    members=dict(type='list', elements='str', default=[]),
    description=dict(type='str'),
    delegating_roles=dict(type='list', elements='str', choices=list(DELEGATED_ROLES), default=[]),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
)
# New-RoleGroup's Learn page: "The maximum length of the name is 64 characters."
MAX_NAME = 64


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_IF = [['state', 'present', ['roles']]]

    def execute(self, params):
        name, present = params['name'].strip(), params['state'] == 'present'
        problem = text_problem(name, MAX_NAME)
        if problem:
            raise ConfigError('name %r cannot be a role group name: %s' % (params['name'], problem))
        roles = sorted(set(params.get('roles') or []))
        if present and not roles:
            raise ConfigError('roles is empty: name the management roles the group holds (%s)' % ', '.join(MANAGEMENT_ROLES))
        # Graph first: every member must be a service principal of this tenant before Exchange is touched.
        members = [self._member(app_id) for app_id in dict.fromkeys(m.strip().lower() for m in params['members'])] if present else []
        description = params.get('description')
        # state=absent: Remove-RoleGroup takes the group's assignments, delegating ones too; nothing to read for them.
        delegating = sorted(set(params.get('delegating_roles') or [])) if present else []
        reads, writes = plan.operations(name, roles, members, description, params['state'], delegating)
        answer = self.session().converge(reads, writes, check_mode=self.check_mode)
        if answer.failed:
            answer.raise_for_failure()
        state = plan.read_state(answer, name, members, delegating)
        before = plan.group_view(state['group'], state['members'], state['delegating'])
        planned, repair = plan.expected(state, roles, members, present, delegating)
        if not self.check_mode:
            check_plan(answer, planned)
            answer.raise_for_failure()
        actions = [op for op, _key in planned]
        repair_writes = plan.repair_operations(name, roles, members, description, repair, delegating) if repair else []
        if repair_writes and not self.check_mode:
            self.session().converge([], repair_writes).raise_for_failure()
        actions += [w['op'] for w in repair_writes]
        unknown = [m for m in members if not state['known'].get(m['object_id'])]
        after = {'name': name, 'roles': roles, 'members': sorted(m['object_id'] for m in members if m not in unknown)} if present else {}
        if present and state['delegating'] is not None:
            # The listed roles, and any other delegating assignment the group holds: left alone (not known to be ours).
            after['delegating_roles'] = sorted(set(delegating) | set(state['delegating'] if not (repair and repair['recreate']) else []))
        result = {
            'changed': bool(actions), 'name': name, 'roles': roles if present else before.get('roles', []),
            'members': [{'app_id': m['app_id'], 'object_id': m['object_id']} for m in members], 'actions': actions,
            'delegating_roles': after.get('delegating_roles', before.get('delegating_roles', [])),
            'recreated': bool(repair and repair['recreate']), 'organization': self.session().connection.get('organization'),
            'warnings': list(answer.warnings),
        }
        if self.diff_mode:
            result['diff'] = {'before': {'role_group': before}, 'after': {'role_group': after}}
        if unknown:
            text = ('Exchange Online has no service principal for %s: create it first with m365.mail_oauth.exchange_service_principal '
                    '(New-ServicePrincipal)' % ', '.join('app_id %s (object id %s)' % (m['app_id'], m['object_id']) for m in unknown))
            if self.check_mode:
                # A service principal task before this one did not create it in check mode either.
                result['warnings'].append(text + '; in check mode it is not added')
            else:
                # The group and the other members are in place; the next run adds these once Exchange knows them.
                result.update(failed=True, msg=text + ', then run again; the group and the other members are in place')
        if not result['warnings']:
            del result['warnings']
        return result

    def _member(self, app_id):
        try:
            return self.principal(app_id=app_id)
        except ConfigError as exc:
            # The option the person wrote, not the internal name of the check.
            raise ConfigError('members: %s' % exc.msg)
