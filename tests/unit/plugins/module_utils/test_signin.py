"""A person's sign-in on the controller: the token cache file and its lock, the auth kind, and how a refusal of a
person's call is explained (by the scope or the Entra role it lacks)."""

import base64
import json
import os
import stat
import threading
import time

import pytest
import requests

from ansible_collections.m365.mail_oauth.plugins.module_utils import signin
from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import AUTH_KINDS, CREDENTIAL_OPTIONS, credentials_from_params
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph_client import _error_from_response
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.action import delegated_user


GA = '62e90394-69f5-4237-9190-012177145e10'
TENANT = '6f1c2a4e-0000-4000-8000-000000000001'


def response(status, body):
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()  # pylint: disable=protected-access
    return resp


def jwt(claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip('=')
    return '%s.%s.sig' % (part({'alg': 'none'}), part(claims))


PERSON = {'upn': 'helpdesk@contoso.onmicrosoft.com', 'oid': 'o', 'tid': TENANT, 'scp': 'User.Read', 'wids': []}


def test_a_missing_scope_is_named_with_what_the_token_has():
    text = signin.explain_denied(PERSON, 'Application.ReadWrite.All')
    assert 'lacks the Graph delegated permission (scope) Application.ReadWrite.All (it has User.Read;' in text
    assert 'helpdesk@contoso.onmicrosoft.com' in text


def test_with_the_scope_a_missing_role_is_named():
    claims = dict(PERSON, scp='Directory.AccessAsUser.All', wids=['29232cdf-9323-42fd-ade2-1d097af3e4de'])
    text = signin.explain_denied(claims, 'Application.ReadWrite.All')
    assert 'one of Application Administrator, Cloud Application Administrator, Global Administrator' in text
    assert 'holds Exchange Administrator' in text


def test_graph_refusal_of_a_person_reads_differently_from_an_app_refusal():
    body = {'error': {'code': 'Authorization_RequestDenied', 'message': 'Insufficient privileges to complete the operation.'}}
    app = _error_from_response('POST', 'https://graph/v1.0/applications', response(403, body))
    person = _error_from_response('POST', 'https://graph/v1.0/applications', response(403, body), PERSON)
    assert 'lacks the Graph application permission Application.ReadWrite.All' in app.msg
    assert 'lacks the Graph delegated permission (scope) Application.ReadWrite.All' in person.msg
    # An app's claims (roles, no scp) keep today's words.
    assert _error_from_response('POST', 'https://graph/v1.0/applications', response(403, body), {'roles': []}).msg == app.msg


def test_role_names_of_wids():
    assert signin.role_names([GA, 'unknown-id']) == ['Global Administrator', 'unknown-id']


def test_token_cache_is_one_auth_kind_in_the_table():
    assert ('person', 'token_cache') in AUTH_KINDS and 'token_cache' in CREDENTIAL_OPTIONS
    creds = credentials_from_params({'tenant_id': TENANT, 'token_cache': '/tmp/c.json'},
                                    environ={'AZURE_CLIENT_ID': '11111111-1111-1111-1111-111111111111'})
    # The admin app's AZURE_CLIENT_ID is not the person's public client.
    assert (creds.kind, creds.client_id, creds.delegated) == ('person', signin.DEFAULT_PUBLIC_CLIENT_ID, True)
    with pytest.raises(ConfigError, match='tenant_id is required with token_cache'):
        credentials_from_params({'token_cache': '/tmp/c.json'}, environ={})


def test_a_supplied_person_token_is_delegated_and_an_app_token_is_not():
    person = credentials_from_params({'access_token': jwt(dict(PERSON, appid='a'))}, environ={})
    app = credentials_from_params({'access_token': jwt({'tid': TENANT, 'roles': ['Application.ReadWrite.All']})}, environ={})
    assert person.delegated and not app.delegated
    assert person.tenant_id == TENANT


def test_exchange_connects_a_person_by_upn_and_an_app_by_organization():
    assert delegated_user(jwt(dict(PERSON, aud='https://outlook.office365.com'))) == PERSON['upn']
    assert delegated_user(jwt({'roles': ['Exchange.ManageAsApp']})) is None
    assert delegated_user('not-a-jwt') is None
    with pytest.raises(ConfigError, match='UserPrincipalName'):
        delegated_user(jwt({'scp': 'Exchange.Manage'}))


def test_cache_file_and_directory_are_private(tmp_path):
    cache = signin.TokenCacheFile(str(tmp_path / 'new' / 'tokens.json'))
    with cache.locked() as tokens:
        tokens.add({'client_id': 'c', 'scope': ['s'], 'token_endpoint': 'https://login/t/oauth2/v2.0/token',
                    'response': {'access_token': 'at', 'token_type': 'Bearer', 'expires_in': 3600}})
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cache.path)).st_mode) == 0o700


def test_a_cache_readable_by_others_is_refused(tmp_path):
    path = tmp_path / 'tokens.json'
    path.write_text('{}')
    os.chmod(str(path), 0o644)
    with pytest.raises(ConfigError, match='readable by others'):
        with signin.TokenCacheFile(str(path)).locked():
            pass


def test_the_lock_makes_a_second_reader_wait(tmp_path):
    path = str(tmp_path / 'tokens.json')
    order = []
    entered = threading.Event()

    def second():
        entered.wait(5)
        with signin.TokenCacheFile(path).locked():
            order.append('second')

    thread = threading.Thread(target=second)
    thread.start()
    with signin.TokenCacheFile(path).locked():
        entered.set()
        time.sleep(0.5)
        order.append('first')
    thread.join(5)
    assert order == ['first', 'second']
