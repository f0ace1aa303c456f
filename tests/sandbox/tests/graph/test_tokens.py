import jwt
import msal
import pytest

GRAPH = 'https://graph.microsoft.com'
EXCHANGE = 'https://outlook.office365.com'


def _msal(seeded_sandbox, credential, client_id=None, tenant_index=0):
    tenant = seeded_sandbox.tenant(tenant_index)
    return msal.ConfidentialClientApplication(
        client_id or tenant['admin']['client_id'], authority=seeded_sandbox.authority(tenant_index),
        client_credential=credential, http_client=seeded_sandbox.session(), instance_discovery=False)


def _claims(token, seeded_sandbox):
    with open(seeded_sandbox.info['signing_public_key_path'], 'rb') as handle:
        key = handle.read()
    return jwt.decode(token, key, algorithms=['RS256'], options={'verify_aud': False})


def test_msal_secret_token_has_graph_claims(seeded_sandbox):
    tenant = seeded_sandbox.tenant()
    result = _msal(seeded_sandbox, tenant['admin']['client_secret']).acquire_token_for_client([GRAPH + '/.default'])
    assert 'access_token' in result, result
    assert jwt.get_unverified_header(result['access_token'])['kid'] == seeded_sandbox.info['signing_kid']
    claims = _claims(result['access_token'], seeded_sandbox)
    assert claims['aud'] == GRAPH
    assert claims['iss'] == 'https://sts.windows.net/%s/' % tenant['tenant_id']
    assert claims['tid'] == tenant['tenant_id']
    assert claims['appid'] == claims['azp'] == tenant['admin']['client_id']
    assert claims['idtyp'] == 'app' and claims['ver'] == '1.0' and claims['appidacr'] == '1'
    assert claims['oid'] == claims['sub']
    assert set(claims['roles']) >= {'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'}
    assert claims['exp'] > claims['iat'] == claims['nbf']


def test_msal_certificate_token_for_exchange(seeded_sandbox):
    tenant = seeded_sandbox.tenant()
    with open(tenant['admin']['certificate_path'], encoding='ascii') as handle:
        pem = handle.read()
    key = pem[:pem.index('-----BEGIN CERTIFICATE-----')]
    app = _msal(seeded_sandbox, {'private_key': key, 'thumbprint': tenant['admin']['certificate_thumbprint']})
    result = app.acquire_token_for_client([EXCHANGE + '/.default'])
    assert 'access_token' in result, result
    claims = _claims(result['access_token'], seeded_sandbox)
    assert claims['aud'] == EXCHANGE
    assert claims['roles'] == ['Exchange.ManageAsApp']
    assert claims['appidacr'] == '2'


def test_msal_certificate_with_sha256_thumbprint(seeded_sandbox):
    tenant = seeded_sandbox.tenant()
    with open(tenant['admin']['certificate_path'], encoding='ascii') as handle:
        pem = handle.read()
    split = pem.index('-----BEGIN CERTIFICATE-----')
    # Given the public certificate and no thumbprint, msal signs PS256 with x5t#S256.
    app = _msal(seeded_sandbox, {'private_key': pem[:split], 'public_certificate': pem[split:]})
    result = app.acquire_token_for_client([GRAPH + '/.default'])
    assert 'access_token' in result, result


def test_wrong_secret_is_aadsts7000215(seeded_sandbox):
    result = _msal(seeded_sandbox, 'not-the-secret').acquire_token_for_client([GRAPH + '/.default'])
    assert result['error'] == 'invalid_client'
    assert 7000215 in result['error_codes']
    assert result['error_description'].startswith('AADSTS7000215:')


def test_expired_secret_is_aadsts7000222(seeded_sandbox):
    tenant = seeded_sandbox.tenant()
    seeded_sandbox.drift({'action': 'expire_passwords', 'appId': tenant['admin']['client_id']})
    result = _msal(seeded_sandbox, tenant['admin']['client_secret']).acquire_token_for_client([GRAPH + '/.default'])
    assert result['error_codes'] == [7000222]


def test_unknown_client_and_resource(seeded_sandbox):
    result = _msal(seeded_sandbox, 'x', client_id='11111111-2222-3333-4444-555555555555').acquire_token_for_client([GRAPH + '/.default'])
    assert result['error'] == 'unauthorized_client' and result['error_codes'] == [700016]
    tenant = seeded_sandbox.tenant()
    result = _msal(seeded_sandbox, tenant['admin']['client_secret']).acquire_token_for_client(['https://nowhere.example/.default'])
    assert result['error'] == 'invalid_resource' and result['error_codes'] == [500011]


def test_unknown_tenant_fails_discovery(seeded_sandbox):
    with pytest.raises(ValueError):
        msal.ConfidentialClientApplication('x', authority=seeded_sandbox.authority_url + '/00000000-1111-2222-3333-444444444444',
                                           client_credential='s', http_client=seeded_sandbox.session(), instance_discovery=False)
    response = seeded_sandbox.session().post(seeded_sandbox.authority_url + '/nosuch/oauth2/v2.0/token', data={'grant_type': 'client_credentials'})
    assert response.status_code == 400 and response.json()['error_codes'] == [90002]


def test_tenants_are_separate(seeded_sandbox):
    other = seeded_sandbox.tenant(1)
    result = _msal(seeded_sandbox, other['admin']['client_secret'], client_id=other['admin']['client_id']).acquire_token_for_client([GRAPH + '/.default'])
    assert 'error' in result
    result = _msal(seeded_sandbox, other['admin']['client_secret'], client_id=other['admin']['client_id'], tenant_index=1).acquire_token_for_client(
        [GRAPH + '/.default'])
    assert _claims(result['access_token'], seeded_sandbox)['tid'] == other['tenant_id']


def test_token_endpoint_down(seeded_sandbox):
    seeded_sandbox.set_faults({'token_endpoint_down': True})
    response = seeded_sandbox.session().post(seeded_sandbox.authority() + '/oauth2/v2.0/token', data={'grant_type': 'client_credentials'})
    assert response.status_code == 503
    assert response.headers['Retry-After']
    assert seeded_sandbox.stats()['token']['unavailable'] == 1


def test_graph_refuses_expired_and_foreign_tokens(seeded_sandbox):
    session = seeded_sandbox.session()
    url = seeded_sandbox.graph_url + '/v1.0/applications'
    expired = seeded_sandbox.mint_token(lifetime=60, iat_offset=-3600)
    response = session.get(url, headers={'Authorization': 'Bearer ' + expired})
    assert response.status_code == 401
    assert response.json()['error']['code'] == 'InvalidAuthenticationToken'
    exo = seeded_sandbox.admin_token(resource=EXCHANGE)
    assert session.get(url, headers={'Authorization': 'Bearer ' + exo}).status_code == 401
    assert session.get(url).json()['error']['message'] == 'Access token is empty.'
