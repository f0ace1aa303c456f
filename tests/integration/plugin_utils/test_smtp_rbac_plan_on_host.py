"""SMTP through RBAC for Applications: the plan's payload run by the real runner in pwsh against the sandbox, in one session,
and the controller's own plan from the rows it read agreeing with what the runner did."""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeResult
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.smtp_rbac_plan import SmtpRbacPlan, default_name, scope_addresses

from m365_sandbox.exchange import rbac
from m365_sandbox.testing import MAILBOXES, SP, TENANT

APP = '11111111-2222-4333-8444-555555555555'
NAME = default_name(APP)


def _principal(host):
    assert not host.run_runner([{'op': 'new_service_principal', 'params': {'AppId': APP, 'ObjectId': SP}}])['failed']


def _run(host, plan):
    raw = host.run_runner(plan.reads + plan.writes)
    assert not raw['failed'], raw['msg']
    answer = ExchangeResult(raw, plan.reads + plan.writes, len(plan.reads))
    done = [(r['op'], r['key']) for r in raw['results'] if r['op_index'] >= len(plan.reads) and r['ok']]
    # The controller reads the same rows and comes to the same writes.
    outcome = plan.outcome(answer)
    assert outcome['expected'] == done
    return raw, outcome


def test_scope_and_assignment_are_made_once_then_adopted(host):
    _principal(host)
    org = host.exchange.org(TENANT)
    plan = SmtpRbacPlan(SP, NAME, NAME, scope_addresses(MAILBOXES[:3]))
    _raw, first = _run(host, plan)
    assert [op for op, _key in first['expected']] == ['new_management_scope', 'new_management_role_assignment']
    assert rbac.smtp_rbac_mailboxes(org, org.find_service_principal(SP)) == sorted(MAILBOXES[:3])
    raw, again = _run(host, plan)
    assert again['expected'] == [] and raw['conditional_skips'] == 4
    assert again['out_of_scope'] == []
    # A changed list changes the filter in place; the assignment stays.
    _raw, changed = _run(host, SmtpRbacPlan(SP, NAME, NAME, scope_addresses(MAILBOXES[1:2])))
    assert changed['expected'] == [('set_management_scope', None)]
    assert rbac.smtp_rbac_mailboxes(org, org.find_service_principal(SP)) == [MAILBOXES[1]]


def test_a_filter_exchange_refuses_stops_before_the_assignment(host):
    _principal(host)
    plan = SmtpRbacPlan(SP, NAME, NAME, scope_addresses(MAILBOXES[:1]))
    plan.writes[0]['params']['RecipientRestrictionFilter'] = "PrimarySmtpAddress -eq"
    raw = host.run_runner(plan.reads + plan.writes)
    assert raw['stopped'] and raw['stopped_at']['op'] == 'new_management_scope'
    assert 'Invalid filter syntax' in raw['results'][-1]['error']['message']
    org = host.exchange.org(TENANT)
    assert not org.role_assignments and not org.management_scopes


def test_absent_removes_assignment_then_scope(host):
    _principal(host)
    _run(host, SmtpRbacPlan(SP, NAME, NAME, scope_addresses(MAILBOXES[:2])))
    _raw, gone = _run(host, SmtpRbacPlan(SP, NAME, NAME, [], state='absent'))
    assert [op for op, _key in gone['expected']] == ['remove_management_role_assignment', 'remove_management_scope']
    org = host.exchange.org(TENANT)
    assert not org.role_assignments and not org.management_scopes
    _raw, nothing = _run(host, SmtpRbacPlan(SP, NAME, NAME, [], state='absent'))
    assert nothing['expected'] == []
