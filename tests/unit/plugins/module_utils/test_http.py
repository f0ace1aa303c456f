from ansible_collections.m365.mail_oauth.plugins.module_utils.http import make_session


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
