"""Role names of directory_role_assignment, and api_permission's exclusive_scope: this_resource."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph.consent import plan_grants, plan_role_assignments
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import permissions as perms
from ansible_collections.m365.mail_oauth.plugins.modules.directory_role_assignment import role_template

EXO_ADMIN = '29232cdf-9323-42fd-ade2-1d097af3e4de'
GRAPH, EXO = {'id': 'graph-sp'}, {'id': 'exo-sp'}


def test_a_role_by_name_in_any_case_or_by_template_id():
    assert role_template('Exchange Administrator') == EXO_ADMIN
    assert role_template('exchange administrator') == EXO_ADMIN
    assert role_template(EXO_ADMIN.upper()) == EXO_ADMIN


def test_an_unknown_role_is_named_with_the_choices():
    with pytest.raises(ConfigError, match="'Exchange Admin'.*Exchange Administrator"):
        role_template('Exchange Admin')


def test_exclusive_on_this_resource_keeps_the_other_resources():
    held = [{'id': 'a1', 'resourceId': 'exo-sp', 'appRoleId': 'manage'}, {'id': 'a2', 'resourceId': 'graph-sp', 'appRoleId': 'extra'},
            {'id': 'a3', 'resourceId': 'graph-sp', 'appRoleId': 'wanted'}]
    assert plan_role_assignments(held, GRAPH, [{'id': 'wanted'}], exclusive=True, remove=False, keep_others=True) == ([], [held[1]])
    assert plan_role_assignments(held, GRAPH, [{'id': 'wanted'}], exclusive=True, remove=False) == ([], [held[0], held[1]])
    other = {'id': 'g1', 'resourceId': 'exo-sp', 'consentType': 'AllPrincipals', 'scope': 'EWS.AccessAsUser.All'}
    assert plan_grants([other], GRAPH, [], exclusive=True, remove=False, keep_others=True) == []
    required = [{'resourceAppId': 'exo', 'resourceAccess': [{'id': 'manage', 'type': 'Role'}]},
                {'resourceAppId': 'graph', 'resourceAccess': [{'id': 'extra', 'type': 'Role'}]}]
    merged = perms.merge_required(required, 'graph', {('wanted', 'Role')}, exclusive=True, remove=False, keep_others=True)
    assert perms.normalized(merged) == [('exo', [('manage', 'Role')]), ('graph', [('wanted', 'Role')])]
