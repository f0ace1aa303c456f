"""Every payload carries the runtime settings the runner needs, decided in payload.py alone (the runner keeps no defaults)."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import payload, runner_protocol
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.args import EXCHANGE_CONNECTION_SPEC
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.session import ExchangeSession

GUID = '11111111-2222-4333-8444-555555555555'
SETTINGS = {
    'access_token': {'organization': 'o', 'access_token': 't'},
    'certificate_thumbprint': {'organization': 'o', 'app_id': GUID, 'certificate_thumbprint': 'a' * 40},
    'certificate_file': {'organization': 'o', 'app_id': GUID, 'certificate_path': 'C:\\c.pfx'},
    'managed_identity': {'organization': 'o', 'managed_identity': True},
    'existing_session': {'auth': 'existing_session'},
}


def test_every_login_method_is_covered():
    assert set(SETTINGS) == set(payload.AUTH_METHODS)


@pytest.mark.parametrize('auth', sorted(SETTINGS))
def test_every_connection_carries_the_module_rule(auth):
    connection = payload.connection_payload(SETTINGS[auth])
    assert connection['auth'] == auth
    assert connection['min_version'] == (payload.MIN_VERSION_ACCESS_TOKEN if auth == 'access_token' else payload.MIN_VERSION_DEFAULT)
    assert connection['module_help'] and connection['module_help']['reason']


def test_a_given_min_version_is_sent_as_given_and_checked():
    assert payload.connection_payload(dict(SETTINGS['managed_identity'], min_version='3.5.0'))['min_version'] == '3.5.0'
    with pytest.raises(ConfigError, match='3.1.0 or later'):
        payload.connection_payload(dict(SETTINGS['access_token'], min_version='3.0.0'))


def test_every_payload_carries_sessions_and_retry():
    built = payload.build_payload(payload.connection_payload(SETTINGS['access_token']), [{'op': 'get_transport_config'}])
    assert built['sessions'] == {'max': payload.DEFAULT_SESSIONS, 'keys_per_session': payload.KEYS_PER_SESSION}
    assert built['retry'] == payload.DEFAULT_RETRY and set(built['retry']) == {'attempts', 'delay', 'max_delay'}
    built = payload.build_payload(built['connection'], [], retry={'delay': 0.5}, sessions=payload.sessions_payload(1))
    assert built['sessions']['max'] == 1 and built['retry'] == dict(payload.DEFAULT_RETRY, delay=0.5)


def test_the_session_sends_them_on_every_round_trip():
    sent = []

    def execute(action, script, in_data, interpreter=None):
        sent.append(runner_protocol.parse_stdin(in_data)[2])
        return {'version': runner_protocol.PROTOCOL_VERSION, 'results': []}

    session = ExchangeSession(object(), SETTINGS['certificate_file'], execute=execute, sessions=2)
    session.read([{'op': 'get_transport_config'}])
    session.converge([{'op': 'get_transport_config'}], [], check_mode=True)
    assert len(sent) == 2
    for document in sent:
        assert document['sessions'] == {'max': 2, 'keys_per_session': payload.KEYS_PER_SESSION}
        assert document['retry'] == payload.DEFAULT_RETRY
        assert document['connection']['min_version'] == payload.MIN_VERSION_DEFAULT and document['connection']['module_help']


def test_the_option_offers_exactly_the_session_limits_the_payload_accepts():
    option = EXCHANGE_CONNECTION_SPEC['exchange_sessions']
    assert option['choices'] == list(range(1, payload.MAX_SESSIONS + 1)) and option['default'] == payload.DEFAULT_SESSIONS
    for value in option['choices']:
        assert payload.sessions_payload(value)['max'] == value
    for value in (0, payload.MAX_SESSIONS + 1, True, '3'):
        with pytest.raises(ConfigError, match='exchange_sessions'):
            payload.sessions_payload(value)


def test_the_runtime_and_module_parts_alone_for_payloads_built_by_hand():
    runtime = payload.runtime_payload(sessions=1, retry={'attempts': 3})
    assert runtime == {'sessions': {'max': 1, 'keys_per_session': payload.KEYS_PER_SESSION}, 'retry': dict(payload.DEFAULT_RETRY, attempts=3)}
    assert payload.module_payload('access_token')['min_version'] == payload.MIN_VERSION_ACCESS_TOKEN
