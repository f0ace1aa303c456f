"""The Exchange model follows Exchange Online's own behaviour."""

import pytest

from m365_sandbox.exchange import CmdletError, ExchangeOrg
from m365_sandbox.exchange.cmdlets import invoke
from m365_sandbox.testing import fill_to_ace_limit

SP = '66666666-7777-4888-8999-000000000000'
APP = '11111111-2222-4333-8444-555555555555'


@pytest.fixture
def org():
    org = ExchangeOrg('tid', 'contoso.onmicrosoft.com', ['user%d@contoso.onmicrosoft.com' % n for n in range(1, 4)])
    invoke(org, 'New-ServicePrincipal', {'AppId': APP, 'ObjectId': SP, 'DisplayName': 'mail app'})
    return org


def test_new_service_principal_accepts_any_ids_but_not_duplicates(org):
    # Exchange does not check ids against Entra ID: an application's object id is accepted too.
    out, _warnings = invoke(org, 'New-ServicePrincipal', {'AppId': '22222222-2222-4222-8222-222222222222', 'ObjectId': '33333333-3333-4333-8333-333333333333'})
    assert out[0]['ObjectId'] == '33333333-3333-4333-8333-333333333333'
    with pytest.raises(CmdletError, match='already exists'):
        invoke(org, 'New-ServicePrincipal', {'AppId': APP, 'ObjectId': '44444444-4444-4444-8444-444444444444'})


@pytest.mark.parametrize('params', [{}, {'Identity': None}, {'Identity': ''}])
def test_get_service_principal_without_identity_lists_all(org, params):
    invoke(org, 'New-ServicePrincipal', {'AppId': '22222222-2222-4222-8222-222222222222', 'ObjectId': '33333333-3333-4333-8333-333333333333'})
    out, _warnings = invoke(org, 'Get-ServicePrincipal', params)
    assert len(out) == 2


def test_get_service_principal_by_app_id_object_id_or_name(org):
    for key in (APP, SP, 'mail app', SP.upper()):
        assert invoke(org, 'Get-ServicePrincipal', {'Identity': key})[0][0]['AppId'] == APP
    with pytest.raises(CmdletError, match="couldn't be found on"):
        invoke(org, 'Get-ServicePrincipal', {'Identity': 'nope'})


def test_unknown_mailbox_is_an_error(org):
    with pytest.raises(CmdletError) as info:
        invoke(org, 'Get-MailboxPermission', {'Identity': 'ghost@contoso.onmicrosoft.com'})
    assert info.value.message == ("The operation couldn't be performed because object 'ghost@contoso.onmicrosoft.com' couldn't be found on "
                                  "'SN6PR00MB0001.NAMPRD00.PROD.OUTLOOK.COM'.")
    # Exchange Online's REST answer: 404, details "Ex6F9304|...ManagementObjectNotFoundException|..." (no ObjectNotFound category).
    assert (info.value.status, info.value.code, info.value.reason) == (404, 'Ex6F9304', 'ManagementObjectNotFoundException')
    assert info.value.wire_message().startswith('Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|')


def test_add_is_idempotent_with_a_warning(org):
    params = {'Identity': 'user1@contoso.onmicrosoft.com', 'User': SP, 'AccessRights': ['FullAccess'], 'AutoMapping': False}
    out, warnings = invoke(org, 'Add-MailboxPermission', params)
    assert out[0]['User'] == SP and warnings == []
    out, warnings = invoke(org, 'Add-MailboxPermission', params)
    assert out == [] and warnings == ['An existing permission entry was found for user: %s.' % SP]
    rows, _warnings = invoke(org, 'Get-MailboxPermission', {'Identity': 'user1', 'User': APP})
    assert rows == [{'Identity': 'user1', 'User': SP, 'AccessRights': ['FullAccess'], 'IsInherited': False, 'Deny': False, 'InheritanceType': 'All'}]


def test_remove_missing_entry_is_a_warning(org):
    out, warnings = invoke(org, 'Remove-MailboxPermission', {'Identity': 'user2', 'User': SP, 'AccessRights': ['FullAccess'], 'Confirm': False})
    assert out == [] and "because the ACE doesn't exist" in warnings[0]


def test_unknown_user_and_access_right(org):
    with pytest.raises(CmdletError, match="^nobody wasn't found. Please make sure you've typed it correctly.$") as caught:
        invoke(org, 'Add-MailboxPermission', {'Identity': 'user1', 'User': 'nobody', 'AccessRights': ['FullAccess']})
    assert caught.value.reason == 'ManagementObjectNotFoundException' and caught.value.status == 404
    org.user_form = 'object'
    with pytest.raises(CmdletError, match="^The operation couldn't be performed because object 'nobody' couldn't be found on "):
        invoke(org, 'Add-MailboxPermission', {'Identity': 'user1', 'User': 'nobody', 'AccessRights': ['FullAccess']})
    with pytest.raises(CmdletError, match="Cannot bind parameter 'AccessRights'"):
        invoke(org, 'Add-MailboxPermission', {'Identity': 'user1', 'User': SP, 'AccessRights': ['Everything']})


def test_ace_limit(org):
    fill_to_ace_limit(org.find_mailbox('user1'))
    with pytest.raises(CmdletError, match='reached the limit of maximum allowed access control entries of 500'):
        invoke(org, 'Add-MailboxPermission', {'Identity': 'user1', 'User': SP, 'AccessRights': ['FullAccess']})


def test_removed_principal_leaves_orphans(org):
    invoke(org, 'Add-MailboxPermission', {'Identity': 'user1', 'User': SP, 'AccessRights': ['FullAccess']})
    invoke(org, 'Remove-ServicePrincipal', {'Identity': SP, 'Confirm': False})
    rows, _warnings = invoke(org, 'Get-MailboxPermission', {'Identity': 'user1'})
    assert rows[-1]['User'].startswith('S-1-5-21-')


def test_send_as_and_cas_and_transport_config(org):
    out, _warnings = invoke(org, 'Add-RecipientPermission', {'Identity': 'user1', 'Trustee': SP, 'AccessRights': ['SendAs'], 'Confirm': False})
    assert out[0]['Trustee'] == SP
    _out, warnings = invoke(org, 'Add-RecipientPermission', {'Identity': 'user1', 'Trustee': SP, 'AccessRights': ['SendAs']})
    assert 'already present' in warnings[0]
    _out, warnings = invoke(org, 'Set-CASMailbox', {'Identity': 'user1', 'ImapEnabled': True})
    assert 'no settings' in warnings[0]
    invoke(org, 'Set-CASMailbox', {'Identity': 'user1', 'PopEnabled': False, 'SmtpClientAuthenticationDisabled': False})
    row = invoke(org, 'Get-CASMailbox', {'Identity': 'user1'})[0][0]
    assert (row['ImapEnabled'], row['PopEnabled'], row['SmtpClientAuthenticationDisabled']) == (True, False, False)
    assert invoke(org, 'Get-TransportConfig', {})[0] == [{'SmtpClientAuthenticationDisabled': True}]


def test_get_mailbox_default_result_size_warns():
    org = ExchangeOrg('tid', 'big.example', ['u%d@big.example' % n for n in range(1005)])
    rows, warnings = invoke(org, 'Get-Mailbox', {})
    assert len(rows) == 1000 and 'ResultSize' in warnings[0]
    rows, warnings = invoke(org, 'Get-EXOMailbox', {'ResultSize': 'Unlimited'})
    assert len(rows) == 1005 and warnings == []


def test_directory_sync_adds_and_drops_mailboxes(org):
    org.sync(['user1@contoso.onmicrosoft.com', 'new@contoso.onmicrosoft.com'])
    assert sorted(org.mailboxes) == ['new@contoso.onmicrosoft.com', 'user1@contoso.onmicrosoft.com']
