"""SMTP through RBAC for Applications: names, the scope's filter, the payload the allow-list accepts, and the plan from rows."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import (
    MAX_FILTER, InvalidOperation, validate_operations)
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.smtp_rbac_plan import (
    SMTP_ROLE, SmtpRbacPlan, check_name, default_name, filter_addresses, scope_addresses, scope_filter)

APP = '3F9C2A71-5B1E-4C8D-9E0F-7A6B5C4D3E2F'
SP = '66666666-7777-4888-8999-000000000001'
NAME = default_name(APP)
ADDRESSES = ['alerts@contoso.com', 'scanner@contoso.com']
FILTER = "(PrimarySmtpAddress -eq 'alerts@contoso.com') -or (PrimarySmtpAddress -eq 'scanner@contoso.com')"


def test_default_name_is_stable_unique_and_fits_an_assignment_name():
    assert NAME == 'm365-mail_oauth-smtp-3f9c2a71-5b1e-4c8d-9e0f-7a6b5c4d3e2f'
    assert default_name(APP.lower()) == NAME
    assert default_name('00000000-0000-4000-8000-000000000000') != NAME
    assert len(NAME) <= 64
    assert check_name(NAME, 'scope_name') == NAME


@pytest.mark.parametrize('name,words', [
    ('x' * 65, '65 characters'), (" padded", 'spaces'), ("it's", 'quote'), ('a$b', 'quote'), ('', 'empty')])
def test_bad_names_are_refused_naming_the_option(name, words):
    with pytest.raises(ConfigError, match='assignment_name .*' + words):
        check_name(name, 'assignment_name')


def test_filter_is_the_same_for_any_order_or_case_of_the_list():
    assert scope_filter(scope_addresses(['Scanner@Contoso.com', 'alerts@contoso.com', 'SCANNER@contoso.com'])) == FILTER
    assert scope_filter(scope_addresses(['scanner@contoso.com'])) == "(PrimarySmtpAddress -eq 'scanner@contoso.com')"


def test_filter_round_trips_to_the_addresses():
    assert filter_addresses(FILTER) == ADDRESSES
    assert filter_addresses("((primarysmtpaddress -eq 'A@x.org'))") == ['a@x.org']
    assert filter_addresses(None) == []


@pytest.mark.parametrize('entry', ['scanner', "o'brien@contoso.com", 'a b@contoso.com', '$x@contoso.com', 'a@b',
                                   '3f9c2a71-5b1e-4c8d-9e0f-7a6b5c4d3e2f', "x@contoso.com') -or (Name -like '*"])
def test_entries_that_are_not_plain_addresses_are_refused_before_any_filter(entry):
    with pytest.raises(ConfigError, match='primary SMTP address') as info:
        scope_addresses(['ok@contoso.com', entry])
    assert repr(entry) in info.value.msg


def test_an_empty_list_or_a_filter_too_long_is_refused():
    with pytest.raises(ConfigError, match='at least one mailbox'):
        scope_filter([])
    many = ['user%05d@contoso.com' % i for i in range(MAX_FILTER // 40)]
    with pytest.raises(ConfigError, match='several apps'):
        scope_filter(many)


def test_the_payload_passes_the_allow_list_both_ways():
    present = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    checked = validate_operations(present.reads + present.writes)
    assert [o['op'] for o in checked] == [
        'get_service_principal', 'get_management_scope', 'get_management_role_assignment', 'test_service_principal_authorization',
        'new_management_scope', 'set_management_scope', 'remove_management_role_assignment', 'new_management_role_assignment']
    assert checked[-1]['params'] == {'Name': NAME, 'App': SP, 'Role': SMTP_ROLE, 'CustomResourceScope': NAME}
    absent = SmtpRbacPlan(SP, NAME, NAME, [], state='absent')
    assert [o['op'] for o in validate_operations(absent.reads + absent.writes)][-2:] == [
        'remove_management_role_assignment', 'remove_management_scope']
    assert [o['op'] for o in SmtpRbacPlan(SP, NAME, NAME, [], state='absent', remove_scope=False).writes] == [
        'remove_management_role_assignment']


def test_the_allow_list_refuses_another_role():
    with pytest.raises(InvalidOperation, match='Role'):
        validate_operations([{'op': 'new_management_role_assignment', 'params': {
            'Name': NAME, 'App': SP, 'Role': 'Application Mail.Read', 'CustomResourceScope': NAME}}])


def _answer(plan, principal=True, scope=None, assignment=None, authorization=None, failed_read=None):
    results = []

    def read(index, rows, error=None, key=None):
        entry = {'op_index': index, 'op': plan.reads[index]['op'], 'key': key, 'ok': error is None, 'output': rows}
        if error:
            entry['error'] = error
        results.append(entry)
    not_found = {'message': "couldn't be found", 'not_found': True}
    read(0, [{'Identity': SP, 'ObjectId': SP}] if principal else [], None if principal else not_found)
    read(1, [scope] if scope else [], failed_read if failed_read else (None if scope else not_found))
    read(2, [assignment] if assignment else [], None if assignment else not_found)
    for address in plan.addresses:
        rows = (authorization or {}).get(address, [])
        read(3, rows, key=address)
    return ExchangeResult({'results': results}, plan.reads, len(plan.reads))


def _assignment(scope=NAME, role=SMTP_ROLE):
    return {'Name': NAME, 'Role': role, 'CustomResourceScope': scope, 'RoleAssigneeType': 'ServicePrincipal'}


def _in_scope(value=True):
    return dict((a, [{'RoleName': SMTP_ROLE, 'InScope': value}]) for a in ADDRESSES)


def test_nothing_exists_creates_scope_then_assignment():
    plan = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    outcome = plan.outcome(_answer(plan))
    assert outcome['expected'] == [('new_management_scope', None), ('new_management_role_assignment', None)]
    assert outcome['before'] == {'scope': None, 'assignment': None}
    assert outcome['after']['scope'] == {'name': NAME, 'mailboxes': ADDRESSES}
    # Read before the change: no verdict on the scope it is about to create.
    assert outcome['out_of_scope'] == []


def test_in_sync_changes_nothing_and_reports_a_mailbox_the_role_does_not_reach():
    plan = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    authorization = _in_scope()
    authorization['scanner@contoso.com'] = [{'RoleName': SMTP_ROLE, 'InScope': False}]
    outcome = plan.outcome(_answer(plan, scope={'Name': NAME, 'RecipientFilter': FILTER.upper()}, assignment=_assignment(),
                                   authorization=authorization))
    assert outcome['expected'] == []
    assert outcome['out_of_scope'] == ['scanner@contoso.com']


def test_a_changed_list_sets_the_filter_and_keeps_the_assignment():
    plan = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    outcome = plan.outcome(_answer(plan, scope={'Name': NAME, 'RecipientFilter': "(PrimarySmtpAddress -eq 'alerts@contoso.com')"},
                                   assignment=_assignment()))
    assert outcome['expected'] == [('set_management_scope', None)]
    assert outcome['before']['scope']['mailboxes'] == ['alerts@contoso.com']


def test_an_assignment_with_another_scope_is_replaced():
    plan = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    outcome = plan.outcome(_answer(plan, scope={'Name': NAME, 'RecipientFilter': FILTER}, assignment=_assignment(scope='Everyone')))
    assert outcome['expected'] == [('remove_management_role_assignment', None), ('new_management_role_assignment', None)]


def test_without_the_exchange_principal_no_assignment_is_planned():
    plan = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    outcome = plan.outcome(_answer(plan, principal=False))
    assert outcome['principal_in_exchange'] is False
    assert outcome['expected'] == [('new_management_scope', None)]


def test_a_failed_read_is_not_an_empty_answer():
    plan = SmtpRbacPlan(SP, NAME, NAME, ADDRESSES)
    with pytest.raises(ConfigError, match='Get-ManagementScope .* failed: throttled'):
        plan.outcome(_answer(plan, failed_read={'message': 'throttled', 'not_found': False}))


def test_absent_removes_assignment_then_scope_and_nothing_when_gone():
    plan = SmtpRbacPlan(SP, NAME, NAME, [], state='absent')
    outcome = plan.outcome(_answer(plan, scope={'Name': NAME, 'RecipientFilter': FILTER}, assignment=_assignment()))
    assert outcome['expected'] == [('remove_management_role_assignment', None), ('remove_management_scope', None)]
    assert outcome['after'] == {'scope': None, 'assignment': None}
    assert plan.outcome(_answer(plan))['expected'] == []
