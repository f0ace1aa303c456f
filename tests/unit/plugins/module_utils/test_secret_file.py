import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import check_destination, write_private_file
from ansible_collections.m365.mail_oauth.plugins.module_utils.vault import vault_encrypt


def test_private_file_is_0600_and_replaced_atomically(tmp_path):
    dest = tmp_path / 'secret.json'
    dest.write_text('old')
    os.chmod(dest, 0o644)
    write_private_file(str(dest), 'new value')
    assert dest.read_text() == 'new value'
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ['secret.json']


def test_missing_directory_fails_before_anything(tmp_path):
    with pytest.raises(ConfigError) as err:
        check_destination(str(tmp_path / 'nope' / 'secret'))
    assert 'does not exist' in err.value.msg and 'dest' in err.value.msg


@pytest.mark.parametrize('vault_id', [None, 'mail'])
def test_vault_text_decrypts_with_real_ansible_vault(tmp_path, vault_id):
    text = vault_encrypt('{"client_secret": "abc8Q~xyz"}\n', 'pass-w0rd', vault_id)
    assert text.startswith('$ANSIBLE_VAULT;1.2;AES256;mail' if vault_id else '$ANSIBLE_VAULT;1.1;AES256')
    vaulted = tmp_path / 'v.json'
    vaulted.write_text(text)
    password = tmp_path / 'pw'
    password.write_text('pass-w0rd\n')
    vault_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-vault')
    out = subprocess.run([vault_bin, 'view', '--vault-password-file', str(password), str(vaulted)],
                         capture_output=True, text=True, check=True)
    assert out.stdout == '{"client_secret": "abc8Q~xyz"}\n'
