"""The Exchange actions build their Graph client like the modules do (graph_client.build_client): the same
retry_timeout check and validate_certs warning, the secrets of the credentials known to the action. Nothing is sent."""

import os

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.argspec import GRAPH_AUTH_SPEC
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.graph import ControllerGraph

PARAMS = dict((name, option.get('default')) for name, option in GRAPH_AUTH_SPEC.items())
PARAMS.update(tenant_id='11111111-aaaa-4aaa-8aaa-000000000001', client_id='0b0b0b0b-2222-4222-8222-000000000002',
              client_secret='a-client-secret')


@pytest.fixture(autouse=True)
def test_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(('M365_', 'AZURE_')):
            monkeypatch.delenv(name)
    # validate_certs=false is only accepted where the environment allows it, as a test harness's does.
    monkeypatch.setenv('M365_ALLOW_CUSTOM_ENDPOINTS', '1')


def test_validate_certs_false_warns_through_the_action():
    warnings = []
    graph = ControllerGraph(dict(PARAMS, validate_certs=False, retry_timeout=7, request_timeout=9), warn=warnings.append)
    assert graph.secrets() == [] and graph.calls == 0
    client = graph.client
    assert warnings == ['validate_certs is false: the TLS certificates of the login and Graph endpoints are not verified']
    assert client.session.verify is False and client.request_timeout == 9
    assert graph.secrets() == ['a-client-secret']


def test_a_negative_retry_timeout_is_refused():
    with pytest.raises(ConfigError) as err:
        _client = ControllerGraph(dict(PARAMS, retry_timeout=-1), warn=[].append).client
    assert 'retry_timeout must be 0 or more' in err.value.msg


def test_without_a_warn_function_the_warning_goes_to_ansible_display(monkeypatch):
    from ansible.utils.display import Display  # pylint: disable=import-outside-toplevel
    shown = []
    monkeypatch.setattr(Display, 'warning', lambda self, msg, *args, **kwargs: shown.append(msg))
    _client = ControllerGraph(dict(PARAMS, validate_certs=False)).client
    assert len(shown) == 1 and 'validate_certs is false' in shown[0]
