"""The module side of the credential hand-off: a reference in a secret option becomes the secret, the file is gone."""

import json
import os

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils import credential_handoff as handoff
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError

OPTIONS = ['client_secret', 'client_certificate_password', 'access_token']


def write(tmp_path, secrets, mode=0o600, name=None):
    path = tmp_path / (name or handoff.file_name('ab' * 16))
    path.write_text(handoff.payload(secrets))
    path.chmod(mode)
    return str(path)


def test_reference_is_replaced_by_the_secret_and_the_file_removed(tmp_path):
    path = write(tmp_path, {'client_secret': 's3cret', 'client_certificate_password': 1234})
    params = {'client_secret': handoff.reference(path), 'client_certificate_password': handoff.reference(path),
              'access_token': None, 'tenant_id': 't'}
    handed = handoff.resolve(params, OPTIONS)
    assert params == {'client_secret': 's3cret', 'client_certificate_password': '1234', 'access_token': None, 'tenant_id': 't'}
    assert handed == {'client_secret': 's3cret', 'client_certificate_password': '1234'}
    assert not os.path.exists(path)


def test_no_reference_leaves_params_alone(tmp_path):
    params = {'client_secret': 'plain', 'access_token': None}
    assert handoff.resolve(params, OPTIONS) == {} and params == {'client_secret': 'plain', 'access_token': None}


@pytest.mark.parametrize('case', ['other name', 'relative', 'group readable', 'symlink', 'missing'])
def test_only_a_private_file_of_the_collection_is_read(tmp_path, case):
    path = write(tmp_path, {'client_secret': 's'}, mode=0o640 if case == 'group readable' else 0o600,
                 name='secrets.json' if case == 'other name' else None)
    if case == 'relative':
        path = os.path.basename(path)
    if case == 'symlink':
        target = write(tmp_path, {'client_secret': 's'}, name=handoff.file_name('cd' * 16))
        os.unlink(path)
        os.symlink(target, path)
    if case == 'missing':
        os.unlink(path)
    with pytest.raises(ConfigError) as raised:
        handoff.resolve({'client_secret': handoff.reference(path)}, OPTIONS)
    assert path in raised.value.msg
    if case in ('other name', 'group readable', 'symlink'):
        assert os.path.lexists(path if case != 'relative' else tmp_path / path), 'a refused file was removed'


def test_a_reference_to_a_missing_option_is_refused(tmp_path):
    path = write(tmp_path, {'client_secret': 's'})
    with pytest.raises(ConfigError, match='lacks access_token'):
        handoff.resolve({'access_token': handoff.reference(path)}, OPTIONS)
    assert json.loads(handoff.payload({'a': 'b'})) == {'a': 'b'}


def test_a_secret_injected_as_a_file_is_read_from_the_file_the_variable_names(tmp_path):
    path = tmp_path / 'secret'
    path.write_text('s3cret\n')
    assert handoff.secret_from_env_file('client_secret', {'M365_CLIENT_SECRET_FILE': str(path)}) == 's3cret'
    assert handoff.secret_from_env_file('client_secret', {'M365_CLIENT_SECRET_FILE': ''}) is None
    assert handoff.secret_from_env_file('access_token', {'M365_CLIENT_SECRET_FILE': str(path)}) is None
    with pytest.raises(ConfigError, match='M365_CLIENT_SECRET_FILE names .*missing'):
        handoff.secret_from_env_file('client_secret', {'M365_CLIENT_SECRET_FILE': str(tmp_path / 'missing')})


def test_credentials_from_the_environment_take_the_secret_from_its_file(tmp_path):
    from ansible_collections.m365.mail_oauth.plugins.module_utils.auth import sign_in_credentials
    path = tmp_path / 'secret'
    path.write_text('from-a-file')
    environ = {'AZURE_TENANT_ID': 'contoso.onmicrosoft.com', 'AZURE_CLIENT_ID': '11111111-1111-4111-8111-111111111111',
               'M365_CLIENT_SECRET_FILE': str(path)}
    credentials = sign_in_credentials({'cloud': 'global'}, environ)
    assert credentials.kind == 'secret' and credentials.client_secret == 'from-a-file' and credentials.source == 'environment'
