"""exchange_service_principal's plan: the SMTP RBAC assignment it reads for a switch back to full_access."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import validate_operations
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.service_principal_plan import ServicePrincipalPlan
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.smtp_rbac_plan import default_name

APP = '3f9c2a71-5b1e-4c8d-9e0f-7a6b5c4d3e2f'
SP = '66666666-7777-4888-8999-000000000001'
PRINCIPAL = {'app_id': APP, 'object_id': SP, 'display_name': 'mail-reader'}
ROW = {'AppId': APP, 'ObjectId': SP, 'DisplayName': 'mail-reader'}
NOT_FOUND = {'message': "couldn't be found", 'not_found': True}


def _answer(plan, assignment=None, error=None):
    results = [{'op_index': 0, 'op': 'get_service_principal', 'ok': True, 'output': [ROW]},
               {'op_index': 1, 'op': 'get_service_principal', 'ok': True, 'output': [ROW]}]
    if len(plan.reads) > 2:
        entry = {'op_index': 2, 'op': 'get_management_role_assignment', 'ok': assignment is not None, 'output': [assignment] if assignment else []}
        if assignment is None:
            entry['error'] = error or NOT_FOUND
        results.append(entry)
    return ExchangeResult({'results': results}, plan.reads, len(plan.reads))


def test_without_the_option_nothing_more_is_read_or_returned():
    plan = ServicePrincipalPlan(PRINCIPAL)
    assert [r['op'] for r in plan.reads] == ['get_service_principal', 'get_service_principal']
    assert 'smtp_rbac_assignment' not in plan.report(_answer(plan)).values


def test_the_assignment_is_read_in_the_same_payload_and_named():
    plan = ServicePrincipalPlan(PRINCIPAL, smtp_rbac_assignment=default_name(APP))
    validate_operations(plan.reads + plan.writes)
    assert plan.reads[2] == {'op': 'get_management_role_assignment', 'params': {'Identity': default_name(APP)}}
    report = plan.report(_answer(plan, assignment={'Name': default_name(APP), 'Role': 'Application SMTP.SendAsApp'}))
    assert report.values['smtp_rbac_assignment'] == default_name(APP)
    assert report.expected == []  # reading it plans nothing: the role removes it with smtp_rbac state=absent
    assert plan.report(_answer(plan)).values['smtp_rbac_assignment'] is None


def test_a_failed_read_of_the_assignment_is_not_none():
    plan = ServicePrincipalPlan(PRINCIPAL, smtp_rbac_assignment=default_name(APP))
    with pytest.raises(ConfigError, match='Get-ManagementRoleAssignment .* failed: access denied'):
        plan.report(_answer(plan, error={'message': 'access denied', 'not_found': False}))


def test_state_absent_reads_no_assignment():
    plan = ServicePrincipalPlan(PRINCIPAL, state='absent', smtp_rbac_assignment=default_name(APP))
    assert len(plan.reads) == 2
