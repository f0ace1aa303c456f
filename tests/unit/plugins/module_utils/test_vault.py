"""The vault password file as ansible-vault reads it (vault.read_vault_password_file), and vault_encrypt's refusals."""

import os
import subprocess
import sys

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.vault import read_vault_password_file, vault_encrypt


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text('#!%s\n%s\n' % (sys.executable, body))
    path.chmod(0o700)
    return str(path)


def test_executable_password_file_is_run_like_ansible_vault(tmp_path):
    script = _script(tmp_path, 'vault-pass.py', "print('from-the-script')")
    assert read_vault_password_file(script) == 'from-the-script'
    client = _script(tmp_path, 'vault-client.py', "import sys; print('id=' + sys.argv[2])")
    assert read_vault_password_file(client, 'mail') == 'id=mail'
    assert read_vault_password_file(client) == 'id=default'
    # The result opens with the real ansible-vault given the same file.
    vaulted = tmp_path / 'handover.json'
    vaulted.write_text(vault_encrypt('{"a": 1}\n', read_vault_password_file(script)))
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-vault'), 'view', '--vault-password-file', script,
                          str(vaulted)], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout == '{"a": 1}\n', out.stderr


@pytest.mark.parametrize('content', ['', '   \n', '\n\n'])
def test_empty_or_blank_password_is_refused(tmp_path, content):
    plain = tmp_path / 'pass'
    plain.write_text(content)
    with pytest.raises(ConfigError) as err:
        read_vault_password_file(str(plain))
    assert 'empty or whitespace-only' in err.value.msg
    with pytest.raises(ConfigError):
        read_vault_password_file(_script(tmp_path, 'blank.py', 'print(%r)' % content))
    with pytest.raises(ConfigError):
        vault_encrypt('x', content or ' ')


def test_failing_script_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        read_vault_password_file(_script(tmp_path, 'fail.py', 'import sys; sys.exit(3)'))
    assert 'exited with 3' in err.value.msg
