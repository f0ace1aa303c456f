"""The role's check of a mailbox list for the SMTP management scope: the rule of m365.mail_oauth.smtp_rbac itself."""

from ansible_collections.m365.mail_oauth.plugins.filter.smtp_scope_problem import FilterModule, smtp_scope_problem


def test_addresses_pass_and_other_identities_are_named_with_the_fix():
    assert smtp_scope_problem(['scanner@contoso.com', 'Alerts@Contoso.com']) == ''
    problem = smtp_scope_problem(['scanner@contoso.com', 'helpdesk'])
    assert "'helpdesk'" in problem and 'primary SMTP address' in problem
    assert 'at least one mailbox' in smtp_scope_problem([])
    assert FilterModule().filters()['smtp_scope_problem'] is smtp_scope_problem
