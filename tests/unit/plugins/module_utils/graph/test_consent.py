"""api_permission's plans: which app role assignments (admin consent for application permissions) and which tenant-wide
delegated grants it would write, and consent() carrying them out or planning them in check mode."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.consent import (
    Namer, consent, plan_grants, plan_role_assignments,
)

IMAP = '5e5addcd-3e8d-4e90-baf5-964efab2b20a'
POP = 'cb842b43-da6e-4506-86fe-bb12199c656d'
SMTP = '8b5ff3c1-6c7c-4e9f-9b23-a0d7b4c1b0f3'
MAIL_READ = '810c84a8-4a9e-49e6-bf7d-12d183f40d01'
EXO = {'id': 'sp-exo', 'appId': '00000002-0000-0ff1-ce00-000000000000', 'displayName': 'Office 365 Exchange Online',
       'appRoles': [{'id': IMAP, 'value': 'IMAP.AccessAsApp'}, {'id': POP, 'value': 'POP.AccessAsApp'},
                    {'id': SMTP, 'value': 'SMTP.SendAsApp'}],
       'oauth2PermissionScopes': [{'id': 's-ews', 'value': 'EWS.AccessAsUser.All'}, {'id': 's-imap', 'value': 'IMAP.AccessAsUser.All'}]}
GRAPH = {'id': 'sp-graph', 'appId': '00000003-0000-0000-c000-000000000000', 'displayName': 'Microsoft Graph',
         'appRoles': [{'id': MAIL_READ, 'value': 'Mail.Read'}], 'oauth2PermissionScopes': [{'id': 's-user', 'value': 'User.Read'}]}
PRINCIPAL = {'id': 'sp-mail-app', 'appId': 'app-mail'}
APP = {'id': 'app-object', 'appId': 'app-mail'}


def role(role_id):
    return [r for r in EXO['appRoles'] + GRAPH['appRoles'] if r['id'] == role_id][0]


def scope(value):
    return {'id': 's-' + value, 'value': value}


def assignment(assignment_id, resource, role_id):
    return {'id': assignment_id, 'resourceId': resource['id'], 'appRoleId': role_id, 'principalId': PRINCIPAL['id']}


def grant(grant_id, resource, scopes, consent_type='AllPrincipals'):
    return {'id': grant_id, 'clientId': PRINCIPAL['id'], 'resourceId': resource['id'], 'scope': scopes,
            'consentType': consent_type, 'principalId': None if consent_type == 'AllPrincipals' else 'user-1'}


# plan_role_assignments ----------------------------------------------------------------------------------------------

def test_roles_missing_are_assigned():
    to_add, to_delete = plan_role_assignments([], EXO, [role(IMAP), role(SMTP)], exclusive=False, remove=False)
    assert to_add == sorted([IMAP, SMTP]) and to_delete == []


def test_roles_present_already_need_nothing():
    held = [assignment('a1', EXO, IMAP), assignment('a2', EXO, SMTP)]
    assert plan_role_assignments(held, EXO, [role(SMTP), role(IMAP)], exclusive=False, remove=False) == ([], [])


def test_only_the_missing_role_is_added_and_extras_stay_without_exclusive():
    held = [assignment('a1', EXO, IMAP), assignment('a2', EXO, POP), assignment('a3', GRAPH, MAIL_READ)]
    to_add, to_delete = plan_role_assignments(held, EXO, [role(IMAP), role(SMTP)], exclusive=False, remove=False)
    assert to_add == [SMTP] and to_delete == []


def test_exclusive_deletes_every_other_assignment_on_every_resource():
    held = [assignment('a1', EXO, IMAP), assignment('a2', EXO, POP), assignment('a3', GRAPH, MAIL_READ)]
    to_add, to_delete = plan_role_assignments(held, EXO, [role(IMAP), role(SMTP)], exclusive=True, remove=False)
    assert to_add == [SMTP]
    assert [a['id'] for a in to_delete] == ['a2', 'a3']


def test_exclusive_keys_on_resource_and_role_together():
    # The same role id held on another resource is not the wanted assignment.
    held = [assignment('a1', GRAPH, IMAP)]
    to_add, to_delete = plan_role_assignments(held, EXO, [role(IMAP)], exclusive=True, remove=False)
    assert to_add == [IMAP] and [a['id'] for a in to_delete] == ['a1']


def test_remove_deletes_only_the_named_roles_on_the_resource():
    held = [assignment('a1', EXO, IMAP), assignment('a2', EXO, POP), assignment('a3', GRAPH, MAIL_READ), assignment('a4', GRAPH, IMAP)]
    # exclusive does not widen a removal.
    for exclusive in (False, True):
        to_add, to_delete = plan_role_assignments(held, EXO, [role(IMAP), role(SMTP)], exclusive=exclusive, remove=True)
        assert to_add == [] and [a['id'] for a in to_delete] == ['a1']


def test_remove_of_roles_not_held_is_nothing():
    assert plan_role_assignments([assignment('a2', EXO, POP)], EXO, [role(IMAP)], exclusive=False, remove=True) == ([], [])


# plan_grants --------------------------------------------------------------------------------------------------------

def test_grant_missing_is_created_with_sorted_scopes():
    writes = plan_grants([], EXO, [scope('IMAP.AccessAsUser.All'), scope('EWS.AccessAsUser.All')], exclusive=False, remove=False)
    assert writes == [(None, 'EWS.AccessAsUser.All IMAP.AccessAsUser.All')]


def test_grant_present_already_needs_nothing():
    mine = grant('g1', EXO, 'IMAP.AccessAsUser.All EWS.AccessAsUser.All')
    assert plan_grants([mine], EXO, [scope('EWS.AccessAsUser.All'), scope('IMAP.AccessAsUser.All')], False, False) == []
    assert plan_grants([mine], EXO, [scope('EWS.AccessAsUser.All')], exclusive=False, remove=False) == []


def test_grant_with_a_missing_scope_is_widened_and_others_kept():
    mine = grant('g1', EXO, 'EWS.AccessAsUser.All')
    other = grant('g2', GRAPH, 'User.Read')
    writes = plan_grants([mine, other], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=False, remove=False)
    assert writes == [(mine, 'EWS.AccessAsUser.All IMAP.AccessAsUser.All')]


def test_no_wanted_scopes_writes_nothing_without_exclusive():
    assert plan_grants([grant('g1', EXO, 'EWS.AccessAsUser.All')], EXO, [], exclusive=False, remove=False) == []
    assert plan_grants([], EXO, [], exclusive=False, remove=False) == []


def test_exclusive_narrows_the_grant_and_deletes_grants_on_other_resources():
    mine = grant('g1', EXO, 'EWS.AccessAsUser.All IMAP.AccessAsUser.All')
    other = grant('g2', GRAPH, 'User.Read')
    writes = plan_grants([mine, other], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=True, remove=False)
    assert writes == [(mine, 'IMAP.AccessAsUser.All'), (other, None)]


def test_exclusive_with_no_scopes_deletes_the_grant():
    # The role's case: application permissions only, so the default delegated User.Read consent goes.
    mine = grant('g1', EXO, 'EWS.AccessAsUser.All')
    other = grant('g2', GRAPH, 'User.Read')
    assert plan_grants([mine, other], EXO, [], exclusive=True, remove=False) == [(mine, None), (other, None)]


def test_exclusive_creates_when_only_other_resources_have_grants():
    other = grant('g2', GRAPH, 'User.Read')
    writes = plan_grants([other], EXO, [scope('EWS.AccessAsUser.All')], exclusive=True, remove=False)
    assert writes == [(other, None), (None, 'EWS.AccessAsUser.All')]


def test_remove_takes_the_named_scopes_out_and_deletes_an_emptied_grant():
    mine = grant('g1', EXO, 'EWS.AccessAsUser.All IMAP.AccessAsUser.All')
    assert plan_grants([mine], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=False, remove=True) == [(mine, 'EWS.AccessAsUser.All')]
    only = grant('g1', EXO, 'IMAP.AccessAsUser.All')
    assert plan_grants([only], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=False, remove=True) == [(only, None)]


def test_remove_never_creates_and_ignores_scopes_not_held():
    assert plan_grants([], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=False, remove=True) == []
    mine = grant('g1', EXO, 'EWS.AccessAsUser.All')
    assert plan_grants([mine], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=False, remove=True) == []


def test_per_user_grants_are_never_touched():
    per_user = grant('g3', EXO, 'EWS.AccessAsUser.All', consent_type='Principal')
    per_user_other = grant('g4', GRAPH, 'User.Read', consent_type='Principal')
    writes = plan_grants([per_user, per_user_other], EXO, [scope('IMAP.AccessAsUser.All')], exclusive=True, remove=False)
    assert writes == [(None, 'IMAP.AccessAsUser.All')]


# consent ------------------------------------------------------------------------------------------------------------

class FakeModule:
    def __init__(self, check_mode=False, exclusive=False, state='present'):
        self.check_mode = check_mode
        self.params = {'exclusive': exclusive, 'state': state}


class RecordingClient:
    """Records writes; a read is an error (every resource the test needs is known to the Namer)."""

    def __init__(self):
        self.calls = []

    def post(self, path, body, **_kwargs):
        self.calls.append(('POST', path, body))

    def patch(self, path, body, **_kwargs):
        self.calls.append(('PATCH', path, body))

    def delete(self, path, **_kwargs):
        self.calls.append(('DELETE', path))

    def get(self, path, **_kwargs):
        raise AssertionError('unexpected read of %s' % path)


def run_consent(module, roles, scopes=(), assignments=(), grants=(), has_principal=True):
    """consent() as run() calls it; without a service principal there are no assignments or grants either (None)."""
    client = RecordingClient()
    result = {'changed': False}
    principal, assignments, grants = (PRINCIPAL, list(assignments), list(grants)) if has_principal else (None, None, None)
    before, after = consent(module, client, APP, EXO, list(roles), list(scopes), result, Namer(client, [EXO, GRAPH]),
                            principal, assignments, grants)
    return before, after, result, client.calls


def test_consent_grants_the_missing_roles_and_reports_before_and_after():
    held = [assignment('a1', EXO, IMAP)]
    before, after, result, calls = run_consent(FakeModule(), [role(IMAP), role(SMTP)], assignments=held)
    assert result['changed'] is True and result['service_principal_id'] == PRINCIPAL['id']
    assert before == {'Office 365 Exchange Online': ['IMAP.AccessAsApp']}
    assert after == {'Office 365 Exchange Online': ['IMAP.AccessAsApp', 'SMTP.SendAsApp']}
    assert calls == [('POST', 'servicePrincipals/sp-exo/appRoleAssignedTo',
                      {'principalId': PRINCIPAL['id'], 'resourceId': 'sp-exo', 'appRoleId': SMTP})]


def test_consent_already_given_changes_nothing():
    held = [assignment('a1', EXO, IMAP)]
    before, after, result, calls = run_consent(FakeModule(exclusive=True), [role(IMAP)], assignments=held)
    assert result['changed'] is False and calls == [] and before == after


def test_exclusive_consent_revokes_extras_and_the_delegated_grant():
    held = [assignment('a1', EXO, IMAP), assignment('a3', GRAPH, MAIL_READ)]
    grants = [grant('g2', GRAPH, 'User.Read')]
    before, after, result, calls = run_consent(FakeModule(exclusive=True), [role(IMAP)], assignments=held, grants=grants)
    assert result['changed'] is True
    assert before == {'Microsoft Graph': ['Mail.Read'], 'Office 365 Exchange Online': ['IMAP.AccessAsApp']}
    assert after == {'Office 365 Exchange Online': ['IMAP.AccessAsApp']}
    assert calls == [('DELETE', 'servicePrincipals/sp-graph/appRoleAssignedTo/a3'), ('DELETE', 'oauth2PermissionGrants/g2')]


def test_consent_writes_grants_create_patch_and_delete():
    grants = [grant('g1', EXO, 'EWS.AccessAsUser.All IMAP.AccessAsUser.All')]
    _b, _a, _r, calls = run_consent(FakeModule(state='absent'), [], scopes=[scope('IMAP.AccessAsUser.All')], grants=grants)
    assert calls == [('PATCH', 'oauth2PermissionGrants/g1', {'scope': 'EWS.AccessAsUser.All'})]
    _b, _a, _r, calls = run_consent(FakeModule(), [], scopes=[scope('EWS.AccessAsUser.All')])
    assert calls == [('POST', 'oauth2PermissionGrants', {'clientId': PRINCIPAL['id'], 'consentType': 'AllPrincipals',
                                                         'resourceId': 'sp-exo', 'scope': 'EWS.AccessAsUser.All'})]


def test_consent_removal_revokes_only_the_named_roles():
    held = [assignment('a1', EXO, IMAP), assignment('a2', EXO, POP)]
    _before, after, result, calls = run_consent(FakeModule(state='absent'), [role(IMAP)], assignments=held)
    assert result['changed'] is True and after == {'Office 365 Exchange Online': ['POP.AccessAsApp']}
    assert calls == [('DELETE', 'servicePrincipals/sp-exo/appRoleAssignedTo/a1')]


def test_check_mode_plans_the_same_and_writes_nothing():
    held = [assignment('a3', GRAPH, MAIL_READ)]
    before, after, result, calls = run_consent(FakeModule(check_mode=True, exclusive=True), [role(IMAP)], assignments=held,
                                               grants=[grant('g2', GRAPH, 'User.Read')])
    assert result['changed'] is True and calls == []
    assert before == {'Microsoft Graph': ['Mail.Read']} and after == {'Office 365 Exchange Online': ['IMAP.AccessAsApp']}


def test_check_mode_without_a_service_principal_plans_the_consent():
    before, after, result, calls = run_consent(FakeModule(check_mode=True), [role(SMTP), role(IMAP)], has_principal=False)
    assert result['changed'] is True and calls == [] and 'service_principal_id' not in result
    assert before == {} and after == {'Office 365 Exchange Online': ['IMAP.AccessAsApp', 'SMTP.SendAsApp']}


def test_check_mode_without_a_service_principal_and_nothing_to_grant():
    for module, roles in ((FakeModule(check_mode=True), []), (FakeModule(check_mode=True, state='absent'), [role(IMAP)])):
        before, after, result, _calls = run_consent(module, roles, has_principal=False)
        assert result['changed'] is False and before == {} and after == {}


def test_without_a_service_principal_consent_fails_with_the_fix():
    with pytest.raises(ConfigError) as err:
        run_consent(FakeModule(), [role(IMAP)], has_principal=False)
    assert 'has no service principal' in err.value.msg and 'azure_app_registration' in err.value.msg
