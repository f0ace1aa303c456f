import socket
import time

import pytest
import requests

from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import resolve_cloud
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import GraphError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import GraphClient
from ansible_collections.m365.mail_oauth.plugins.module_utils.http import (
    REFUSED, UNKNOWN_HOST, host_port, make_session, unreachable_in_text, unreachable_message, unreachable_reason)


def closed_port():
    """A loopback port nobody listens on. Unit tests ship in the built collection, which has no sandbox package (the
    e2e tests use the sandbox's own copy of this helper), so this small copy stays here."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_ca_path_wins_over_requests_ca_bundle(monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    session = make_session(ca_path='/tmp/sandbox-ca.pem')
    settings = session.merge_environment_settings('https://graph.example', {}, None, None, None)
    assert settings['verify'] == '/tmp/sandbox-ca.pem'


def test_validate_certs_false_wins(monkeypatch):
    monkeypatch.setenv('CURL_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    session = make_session(validate_certs=False)
    assert session.merge_environment_settings('https://graph.example', {}, None, None, None)['verify'] is False


def test_default_keeps_environment(monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/corp/bundle.pem')
    session = make_session()
    assert session.merge_environment_settings('https://graph.example', {}, None, None, None)['verify'] == '/corp/bundle.pem'


# -- what a failed connection means (real sockets: a closed loopback port, a name that cannot resolve) --------------


def test_a_refused_connection_is_recognised():
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        requests.get('https://127.0.0.1:%d/x' % closed_port(), timeout=5)
    assert unreachable_reason(caught.value) == REFUSED


def test_an_unknown_host_is_recognised():
    # .invalid never resolves (RFC 2606).
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        requests.get('https://no-such-host.invalid/x', timeout=5)
    assert unreachable_reason(caught.value) == UNKNOWN_HOST


def test_other_failures_are_not_called_unreachable():
    assert unreachable_reason(requests.exceptions.ReadTimeout('read timed out')) is None
    assert unreachable_reason(requests.exceptions.ConnectionError('Connection aborted: reset by peer')) is None


def test_host_port_and_message_name_the_endpoint_and_the_fix():
    assert host_port('https://login.microsoftonline.com/contoso') == 'login.microsoftonline.com:443'
    assert host_port('http://127.0.0.1:8080/x') == '127.0.0.1:8080'
    msg = unreachable_message('Graph GET /applications', 'https://127.0.0.1:9/v1.0', REFUSED, 3, 2.4)
    assert '127.0.0.1:9 refused the connection' in msg and '3 tries in 2 s' in msg and 'graph_url' in msg
    assert 'does not resolve' in unreachable_message('x', 'https://a.invalid', UNKNOWN_HOST)


def test_a_refused_graph_endpoint_fails_in_seconds_naming_the_host():
    """Measured before: a closed port was retried for the whole retry_timeout (118 s) without a word."""
    port = closed_port()

    class Tokens:
        def token(self, resource):
            return 'x'

    cloud = resolve_cloud('global', graph_url='https://127.0.0.1:%d' % port)
    client = GraphClient(Tokens(), cloud, requests.Session(), retry_timeout=300)
    started = time.monotonic()
    with pytest.raises(GraphError) as caught:
        client.get('applications')
    assert time.monotonic() - started < 8
    assert '127.0.0.1:%d refused the connection' % port in caught.value.msg and '3 tries' in caught.value.msg


def test_the_exchange_hosts_words_for_an_unreachable_endpoint():
    """.NET's and PowerShell's words on the host (the doctor reads the runner's messages with the same lists)."""
    assert unreachable_in_text('No such host is known. (outlook.office365.com:443)') == UNKNOWN_HOST
    assert unreachable_in_text('Unable to connect to the remote server') == REFUSED
    assert unreachable_in_text("The role assigned to application x isn't supported in this scenario") is None
