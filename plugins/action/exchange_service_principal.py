# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for m365.mail_oauth.exchange_service_principal; the documentation is in plugins/modules/exchange_service_principal.py."""

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import (
    ExchangeAction, check_plan, exchange_record_operations, exchange_record_row, fallback_message, not_known_message, principal_rows)
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import PRINCIPAL_SPEC

SPEC = dict(
    PRINCIPAL_SPEC,
    display_name=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
)
BY_APP_ID, BY_OBJECT_ID = 0, 1


def _operations(app_id, object_id, display_name, state):
    # Never an empty -Identity: Get-ServicePrincipal would list every principal.
    if not app_id or not object_id:
        raise ConfigError('internal error: both ids are needed before Exchange is asked')
    reads = [{'op': 'get_service_principal', 'params': {'Identity': app_id}},
             {'op': 'get_service_principal', 'params': {'Identity': object_id}}]
    right = {'AppId': app_id, 'ObjectId': object_id}
    if state == 'absent':
        return reads, [{'op': 'remove_service_principal', 'params': {'Identity': app_id},
                        'when': {'read': BY_APP_ID, 'rows': 'some', 'match': {}}}]
    writes = [
        # Set-ServicePrincipal cannot change ids: an entry with the wrong ones is removed and created again.
        {'op': 'remove_service_principal', 'params': {'Identity': app_id}, 'when': {'read': BY_APP_ID, 'rows': 'none', 'match': right}},
        {'op': 'remove_service_principal', 'params': {'Identity': object_id}, 'when': {'read': BY_OBJECT_ID, 'rows': 'none', 'match': right}},
        {'op': 'new_service_principal', 'params': dict(right, DisplayName=display_name),
         'when': {'read': BY_APP_ID, 'rows': 'none', 'match': right, 'missing': 'act'}},
        {'op': 'set_service_principal', 'params': {'Identity': app_id, 'DisplayName': display_name},
         'when': [{'read': BY_APP_ID, 'rows': 'some', 'match': right},
                  {'read': BY_APP_ID, 'rows': 'none', 'match': dict(right, DisplayName=display_name)}]},
    ]
    return reads, writes


def _row(answer, index, what):
    return (principal_rows(answer, index, what) or [None])[0]


def _expected(by_app, by_object, app_id, object_id, display_name, state):
    """The writes due for the rows read (the controller's own reading, compared with the runner's)."""
    def same(row):
        return row is not None and (row.get('AppId') or '').lower() == app_id and (row.get('ObjectId') or '').lower() == object_id
    if state == 'absent':
        return [('remove_service_principal', None)] if by_app is not None else []
    expected = []
    if by_app is not None and not same(by_app):
        expected.append(('remove_service_principal', None))
    if by_object is not None and not same(by_object):
        expected.append(('remove_service_principal', None))
    if not same(by_app):
        expected.append(('new_service_principal', None))
    elif (by_app.get('DisplayName') or '').lower() != display_name.lower():
        expected.append(('set_service_principal', None))
    return expected


class ActionModule(ExchangeAction):
    OWN_SPEC = SPEC
    REQUIRED_ONE_OF = [['app_id', 'object_id']]

    def execute(self, params):
        # Graph first: a wrong object id must fail before Exchange is touched. Removing needs no such check, so an
        # application already deleted in Entra ID is removed by Exchange Online's own record of it.
        principal = self.principal(params.get('app_id'), params.get('object_id'), missing_ok=params['state'] == 'absent')
        if principal is None:
            return self._remove_by_exchange_record(params.get('app_id'), params.get('object_id'))
        app_id, object_id = principal['app_id'], principal['object_id']
        display_name = params.get('display_name') or principal['display_name'] or app_id
        reads, writes = _operations(app_id, object_id, display_name, params['state'])
        answer = self.session().converge(reads, writes, check_mode=self.check_mode)
        if answer.failed:
            answer.raise_for_failure()
        by_app, by_object = _row(answer, BY_APP_ID, app_id), _row(answer, BY_OBJECT_ID, object_id)
        expected = _expected(by_app, by_object, app_id, object_id, display_name, params['state'])
        if not self.check_mode:
            check_plan(answer, expected)
            answer.raise_for_failure()
        before = [row for row in (by_app, by_object) if row is not None]
        before = [dict(t) for t in dict((r.get('ObjectId'), tuple(sorted(r.items()))) for r in before).values()]
        after = [] if params['state'] == 'absent' else [{'AppId': app_id, 'ObjectId': object_id, 'DisplayName': display_name}]
        result = {
            'changed': bool(expected), 'app_id': app_id, 'object_id': object_id, 'display_name': display_name,
            'actions': [op for op, _key in expected], 'recreated': any(op == 'remove_service_principal' for op, _k in expected)
            and params['state'] == 'present', 'organization': self.session().connection.get('organization'),
        }
        if self.diff_mode:
            result['diff'] = {'before': {'service_principals': before}, 'after': {'service_principals': after}}
        if answer.warnings:
            result['warnings'] = answer.warnings
        return result

    def _remove_by_exchange_record(self, app_id, object_id):
        """state=absent, Graph without the principal: read it in Exchange by its id and remove it, in one round trip."""
        app_id, object_id = (app_id or '').lower() or None, (object_id or '').lower() or None
        reads, writes = exchange_record_operations(app_id, object_id, remove=True)
        answer = self.session().converge(reads, writes, check_mode=self.check_mode)
        if answer.failed:
            answer.raise_for_failure()
        record = exchange_record_row(answer, app_id, object_id)
        expected = [('remove_service_principal', None)] if record else []
        if not self.check_mode:
            check_plan(answer, expected)
            answer.raise_for_failure()
        warnings = list(answer.warnings) + [fallback_message(app_id, object_id, record) if record else not_known_message(app_id, object_id)]
        result = {
            'changed': bool(expected), 'app_id': record['app_id'] if record else app_id,
            'object_id': record['object_id'] if record else object_id, 'display_name': record['display_name'] if record else None,
            'actions': [op for op, _key in expected], 'recreated': False, 'source': 'exchange',
            'organization': self.session().connection.get('organization'), 'warnings': warnings,
        }
        if self.diff_mode:
            before = [{'AppId': record['app_id'], 'ObjectId': record['object_id'], 'DisplayName': record['display_name']}] if record else []
            result['diff'] = {'before': {'service_principals': before}, 'after': {'service_principals': []}}
        return result
