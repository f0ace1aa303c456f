import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import permissions as perms

EXO = '00000002-0000-0ff1-ce00-000000000000'
GRAPH = '00000003-0000-0000-c000-000000000000'
IMAP = '5e5addcd-3e8d-4e90-baf5-964efab2b20a'
POP = 'cb842b43-da6e-4506-86fe-bb12199c656d'
USER_READ = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'

RESOURCE = {'id': 'sp-exo', 'appId': EXO, 'displayName': 'Office 365 Exchange Online',
            'appRoles': [{'id': IMAP, 'value': 'IMAP.AccessAsApp', 'allowedMemberTypes': ['Application'], 'isEnabled': True},
                         {'id': POP, 'value': 'POP.AccessAsApp', 'allowedMemberTypes': ['Application'], 'isEnabled': True},
                         {'id': 'x', 'value': 'User.Only', 'allowedMemberTypes': ['User'], 'isEnabled': True}],
            'oauth2PermissionScopes': [{'id': 's1', 'value': 'EWS.AccessAsUser.All', 'isEnabled': True}]}
DEFAULT_REQUIRED = [{'resourceAppId': GRAPH, 'resourceAccess': [{'id': USER_READ, 'type': 'Scope'}]}]


def test_resolve_is_case_insensitive_and_canonical():
    roles, scopes = perms.resolve_permissions(RESOURCE, ['imap.accessasapp'], [])
    assert [r['value'] for r in roles] == ['IMAP.AccessAsApp'] and scopes == []


def test_unknown_names_fail_listing_valid_ones():
    with pytest.raises(ConfigError) as err:
        perms.resolve_permissions(RESOURCE, ['IMAP.AccesAsApp'], [])
    msg = err.value.msg
    assert 'application_permissions' in msg and "'IMAP.AccesAsApp'" in msg
    assert 'IMAP.AccessAsApp, POP.AccessAsApp' in msg and 'User.Only' not in msg


def test_merge_keeps_other_resources_unless_exclusive():
    wanted = {(IMAP, 'Role')}
    merged = perms.merge_required(DEFAULT_REQUIRED, EXO, wanted, exclusive=False, remove=False)
    assert perms.normalized(merged) == [(EXO, [(IMAP, 'Role')]), (GRAPH, [(USER_READ, 'Scope')])]
    exclusive = perms.merge_required(merged, EXO, wanted, exclusive=True, remove=False)
    assert perms.normalized(exclusive) == [(EXO, [(IMAP, 'Role')])]


def test_merge_remove_drops_empty_entry():
    required = [{'resourceAppId': EXO, 'resourceAccess': [{'id': IMAP, 'type': 'Role'}]}]
    assert perms.merge_required(required, EXO, {(IMAP, 'Role')}, exclusive=False, remove=True) == []


def test_merge_is_stable_for_idempotence():
    required = perms.merge_required([], EXO, {(POP, 'Role'), (IMAP, 'Role')}, exclusive=False, remove=False)
    again = perms.merge_required(required, EXO, {(IMAP, 'Role'), (POP, 'Role')}, exclusive=False, remove=False)
    assert perms.normalized(required) == perms.normalized(again)
