"""The allow-list refuses bad operations before anything leaves the controller."""

import json

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import runner_protocol
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import InvalidOperation, validate_operation, validate_operations
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.payload import build_payload, connection_payload

GUID = '66666666-7777-4888-8999-000000000000'


@pytest.mark.parametrize('operation,needle', [
    ({'op': 'Invoke-Expression'}, 'not in the allow-list'),
    ({'op': 'get_mailbox', 'params': {'Filter': 'x'}}, "'Filter' is not allowed"),
    ({'op': 'get_service_principal', 'params': {'Identity': ''}}, 'it is empty'),
    ({'op': 'get_service_principal', 'params': {'Identity': None}}, 'leave it out'),
    ({'op': 'get_service_principal', 'params': {'Identity': '  '}}, 'it is empty'),
    ({'op': 'get_mailbox', 'params': {'Identity': 'a\nb'}}, 'control characters'),
    ({'op': 'get_mailbox', 'params': {'Identity': ' a'}}, 'leading or trailing'),
    ({'op': 'get_mailbox', 'params': {'Identity': 'x' * 300}}, 'longer than'),
    ({'op': 'get_mailbox', 'params': {'Identity': 5}}, 'must be a string'),
    ({'op': 'new_service_principal', 'params': {'AppId': 'not-a-guid', 'ObjectId': GUID}}, 'must be a GUID'),
    ({'op': 'new_service_principal', 'params': {'AppId': GUID}}, 'missing required parameter(s) ObjectId'),
    ({'op': 'add_mailbox_permission', 'params': {'Identity': 'a', 'User': GUID, 'AccessRights': ['FullAcess']}}, "unknown value(s) 'FullAcess'"),
    ({'op': 'add_mailbox_permission', 'params': {'Identity': 'a', 'User': GUID, 'AccessRights': []}}, 'non-empty list'),
    ({'op': 'add_mailbox_permission', 'params': {'Identity': 'a', 'User': GUID, 'AccessRights': 'FullAccess', 'AutoMapping': 'no'}},
     'must be a boolean'),
    ({'op': 'add_mailbox_permission', 'params': {'Identity': 'a', 'User': GUID, 'AccessRights': 'FullAccess', 'InheritanceType': 'Some'}},
     'must be one of'),
    ({'op': 'add_recipient_permission', 'params': {'Identity': 'a', 'Trustee': GUID, 'AccessRights': ['FullAccess']}}, 'allowed: SendAs'),
    ({'op': 'get_transport_config', 'for_each': ['a']}, 'does not take a for_each'),
    ({'op': 'get_mailbox_permission', 'params': {'Identity': 'a'}, 'for_each': ['b']}, 'not both'),
    ({'op': 'get_mailbox_permission', 'for_each': 'a'}, 'must be a list'),
    ({'op': 'get_mailbox_permission', 'for_each': ['ok', '']}, 'it is empty'),
    ({'op': 'get_mailbox', 'params': {'ResultSize': 0}}, "'Unlimited'"),
    ({'op': 'get_mailbox', 'extra': 1}, 'unknown operation keys'),
    ('get_mailbox', 'must be a mapping'),
])
def test_bad_operations_are_refused(operation, needle):
    with pytest.raises(InvalidOperation) as info:
        validate_operation(operation)
    assert needle in str(info.value)


def test_good_operations_are_normalised():
    checked = validate_operations([
        {'op': 'get_service_principal'},
        {'op': 'new_service_principal', 'params': {'AppId': GUID.upper(), 'ObjectId': GUID}},
        {'op': 'add_mailbox_permission', 'for_each': ['a@x', 'b@x'], 'params': {'User': GUID, 'AccessRights': 'FullAccess', 'AutoMapping': False}},
        {'op': 'set_cas_mailbox', 'for_each': [], 'params': {'SmtpClientAuthenticationDisabled': None}},
        {'op': 'get_mailbox', 'params': {'ResultSize': 'Unlimited'}},
    ])
    assert checked[0] == {'op': 'get_service_principal', 'params': {}}
    assert checked[1]['params']['AppId'] == GUID
    assert checked[2]['params']['AccessRights'] == ['FullAccess'] and checked[2]['for_each'] == ['a@x', 'b@x']
    assert checked[3]['params'] == {'SmtpClientAuthenticationDisabled': None}


def test_operation_index_is_named():
    with pytest.raises(InvalidOperation, match='operation 1:'):
        validate_operations([{'op': 'get_transport_config'}, {'op': 'nope'}])


INJECTIONS = [
    "user1'; Remove-Mailbox -Identity * -Confirm:$false; '",
    'user1"; Remove-Mailbox *; "',
    '$(Remove-Mailbox -Identity x)',
    '@{a=1}',
    '`$env:COMPUTERNAME',
    'x -Confirm:$false',
]


@pytest.mark.parametrize('value', INJECTIONS)
def test_injection_attempts_stay_literal_data(value):
    connection = connection_payload({'organization': 'contoso.onmicrosoft.com', 'access_token': 'tok'})
    payload = build_payload(connection, [{'op': 'get_mailbox_permission', 'for_each': [value], 'params': {'User': value}}])
    stdin = runner_protocol.build_stdin(payload)
    script, allow_list, decoded = runner_protocol.parse_stdin(stdin)
    # The runner text and the allow-list do not depend on the data, and the data comes back byte for byte.
    assert script == runner_protocol.runner_script()
    assert allow_list == runner_protocol.OPERATIONS
    assert value not in script
    assert decoded['operations'][0]['for_each'] == [value]
    assert decoded['operations'][0]['params']['User'] == value
    assert value.encode() not in stdin


def test_payload_is_one_line_of_json_per_stdin_line():
    connection = connection_payload({'organization': 'contoso.onmicrosoft.com', 'access_token': 'tok'})
    payload = build_payload(connection, [{'op': 'get_mailbox', 'params': {'Identity': 'Zoë Ünïcødé'}}])
    stdin = runner_protocol.build_stdin(payload)
    assert stdin.count(b'\n') == 3
    stdin.decode('ascii')
    assert json.dumps(runner_protocol.parse_stdin(stdin)[2], sort_keys=True) == json.dumps(payload, sort_keys=True)


@pytest.mark.parametrize('settings,needle', [
    ({}, 'authentication must be one of'),
    ({'access_token': 't'}, 'organization'),
    ({'auth': 'certificate_thumbprint', 'organization': 'o'}, 'needs app_id, certificate_thumbprint'),
    ({'auth': 'certificate_thumbprint', 'organization': 'o', 'app_id': GUID, 'certificate_thumbprint': 'xyz'}, '40 hexadecimal'),
    ({'access_token': 't', 'organization': 'o', 'environment': 'Mars'}, 'environment must be one of'),
    ({'access_token': 't', 'organization': 'o', 'min_version': '3.0.0'}, 'needs ExchangeOnlineManagement 3.1.0'),
    ({'access_token': 't', 'organization': 'o', 'min_version': 'latest'}, 'min_version'),
    ({'access_token': 't', 'organization': 'o', 'module_scope': 'Machine'}, 'module_scope'),
])
def test_bad_connection_settings(settings, needle):
    with pytest.raises(ConfigError) as info:
        connection_payload(settings)
    assert needle in str(info.value)


def test_connection_settings_per_method():
    token = connection_payload({'organization': 'o', 'access_token': 't'})
    assert token['auth'] == 'access_token' and token['min_version'] == '3.1.0' and token['environment'] == 'O365Default'
    cert = connection_payload({'organization': 'o', 'app_id': GUID, 'certificate_path': 'C:\\c.pfx', 'certificate_password': 'pw',
                               'environment': 'O365USGovGCCHigh'})
    assert cert['auth'] == 'certificate_file' and cert['certificate_password'] == 'pw' and cert['min_version'] == '3.0.0'
    assert connection_payload({'organization': 'o', 'managed_identity': True})['auth'] == 'managed_identity'
    assert connection_payload({'auth': 'existing_session'})['organization'] is None


# -- exchange_sessions: the option, and the payload's 'sessions' part ------------------------------------------

def test_sessions_default_and_payload():
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.payload import sessions_payload
    assert sessions_payload() == {'max': 3, 'keys_per_session': 20}
    assert sessions_payload(1) == {'max': 1, 'keys_per_session': 20}
    connection = connection_payload({'organization': 'contoso.onmicrosoft.com', 'access_token': 'x'})
    payload = build_payload(connection, [{'op': 'get_transport_config'}])
    assert payload['sessions'] == {'max': 3, 'keys_per_session': 20}
    assert build_payload(connection, [], sessions=sessions_payload(5))['sessions']['max'] == 5


@pytest.mark.parametrize('value', [0, 6, -1, '3', 2.5, True])
def test_sessions_refused(value):
    from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.payload import sessions_payload
    with pytest.raises(ConfigError, match='exchange_sessions'):
        sessions_payload(value)


def test_sessions_option_in_every_exchange_action_spec():
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import action_spec
    spec = action_spec({})['exchange_sessions']
    assert spec == {'type': 'int', 'choices': [1, 2, 3, 4, 5], 'default': 3}


def test_session_carries_the_option_to_the_runner():
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import runner_protocol
    from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeSession
    sent = []

    def execute(action, bootstrap, in_data, interpreter=None):
        sent.append(runner_protocol.parse_stdin(in_data)[2])
        return {'version': runner_protocol.PROTOCOL_VERSION, 'results': []}

    session = ExchangeSession(None, {'organization': 'contoso.onmicrosoft.com', 'access_token': 'x'}, execute=execute, sessions=2)
    session.read([{'op': 'get_transport_config'}])
    assert sent[0]['sessions'] == {'max': 2, 'keys_per_session': 20}
