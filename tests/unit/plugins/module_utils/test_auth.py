import base64
import json

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import sign_in_credentials, decode_jwt_claims
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

TENANT = '6f1c2a4e-0000-4000-8000-000000000001'
CLIENT = '0b6f2c11-7c5e-4d8f-9c1e-1a2b3c4d5e6f'


def params(**kw):
    base = dict(tenant_id=None, client_id=None, client_secret=None, client_certificate_path=None,
                client_certificate_password=None, client_certificate_thumbprint=None, access_token=None,
                managed_identity=None, managed_identity_client_id=None, cloud='global', authority_url=None, graph_url=None)
    base.update(kw)
    return base


def jwt(claims):
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('=')
    return 'eyJhbGciOiJub25lIn0.%s.sig' % body


def test_options_win_and_environment_credentials_are_ignored_then():
    env = {'AZURE_CLIENT_SECRET': 'from-env', 'AZURE_TENANT_ID': TENANT, 'AZURE_CLIENT_ID': CLIENT}
    creds = sign_in_credentials(params(client_certificate_path='/x.pem'), env)
    assert creds.kind == 'certificate'
    assert creds.client_secret is None
    # identity fields still come from the environment
    assert creds.tenant_id == TENANT and creds.client_id == CLIENT


def test_environment_used_when_no_credential_option():
    env = {'AZURE_SECRET': 's3cret', 'AZURE_TENANT': TENANT, 'AZURE_CLIENT_ID': CLIENT}
    creds = sign_in_credentials(params(), env)
    assert (creds.kind, creds.client_secret, creds.tenant_id, creds.source) == ('secret', 's3cret', TENANT, 'environment')
    assert creds.secrets() == ['s3cret']


def test_missing_credentials_name_the_options():
    with pytest.raises(ConfigError) as err:
        sign_in_credentials(params(tenant_id=TENANT, client_id=CLIENT), {})
    assert 'client_secret' in err.value.msg and 'AZURE_CLIENT_SECRET' in err.value.msg


@pytest.mark.parametrize('tenant', ['not a tenant', '1234', '6f1c2a4e-0000-4000-8000-00000000000'])
def test_malformed_tenant(tenant):
    with pytest.raises(ConfigError) as err:
        sign_in_credentials(params(tenant_id=tenant, client_id=CLIENT, client_secret='x'), {})
    assert 'tenant_id' in err.value.msg and 'GUID' in err.value.msg


def test_domain_tenant_and_malformed_client_id():
    assert sign_in_credentials(params(tenant_id='contoso.onmicrosoft.com', client_id=CLIENT, client_secret='x'), {})
    with pytest.raises(ConfigError) as err:
        sign_in_credentials(params(tenant_id=TENANT, client_id='abc', client_secret='x'), {})
    assert 'client_id' in err.value.msg


def test_access_token_gives_tenant_and_client():
    token = jwt({'tid': TENANT, 'appid': CLIENT})
    creds = sign_in_credentials(params(access_token=token), {})
    assert (creds.kind, creds.tenant_id, creds.client_id) == ('access_token', TENANT, CLIENT)
    assert decode_jwt_claims(token)['tid'] == TENANT
    with pytest.raises(ConfigError):
        sign_in_credentials(params(access_token='Bearer nonsense'), {})


def test_cloud_overrides():
    creds = sign_in_credentials(params(tenant_id=TENANT, client_id=CLIENT, client_secret='x', cloud='usgovhigh',
                                       graph_url='https://localhost:8443/'), {'M365_ALLOW_CUSTOM_ENDPOINTS': 'localhost:8443'})
    assert creds.cloud.graph == 'https://localhost:8443'
    assert creds.cloud.login == 'https://login.microsoftonline.us'
    assert creds.cloud.exchange_environment == 'O365USGovGCCHigh'
