"""Where the admin app's credentials may go (clouds.check_endpoints), the vault password file as ansible-vault reads it,
and the WinRM/PSRP transport policy of the Exchange actions."""

import os
import subprocess
import sys

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.clouds import check_endpoints
from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.vault import read_vault_password_file, vault_encrypt
from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.transport_policy import transport_problems

ALLOW = 'M365_ALLOW_CUSTOM_ENDPOINTS'


@pytest.mark.parametrize('params,words', [
    ({'authority_url': 'https://evil.example.com'}, ['authority_url', 'known Microsoft 365 cloud', ALLOW]),
    ({'graph_url': 'https://graph.microsoft.com.evil.example'}, ['graph_url', 'known Microsoft 365 cloud']),
    ({'authority_url': 'https://login.microsoftonline.com@evil.example'}, ['authority_url', 'known']),
    ({'authority_url': 'http://login.microsoftonline.com'}, ['plain http', 'authority_url']),
    ({'graph_url': 'ftp://graph.microsoft.com'}, ['not an https:// URL']),
    ({'validate_certs': False}, ['validate_certs=false is refused', 'ca_path']),
])
def test_endpoints_refused_without_the_environment_switch(params, words):
    with pytest.raises(ConfigError) as err:
        check_endpoints(params, {})
    for word in words:
        assert word in err.value.msg


def test_known_clouds_pass_and_the_switch_allows_listed_hosts_only():
    check_endpoints({'authority_url': 'https://login.microsoftonline.us/', 'graph_url': 'https://dod-graph.microsoft.us'}, {})
    check_endpoints({'authority_url': 'https://127.0.0.1:8443', 'validate_certs': False}, {ALLOW: '1'})
    check_endpoints({'authority_url': 'https://127.0.0.1:8443', 'graph_url': 'https://proxy.corp'}, {ALLOW: '127.0.0.1:8443, proxy.corp'})
    with pytest.raises(ConfigError):
        check_endpoints({'authority_url': 'https://127.0.0.1:9999'}, {ALLOW: '127.0.0.1:8443'})
    with pytest.raises(ConfigError):
        check_endpoints({'graph_url': 'https://other.example'}, {ALLOW: '0'})


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


class FakeConnection:
    def __init__(self, name, **options):
        self._load_name = name
        self.options = options

    def get_option(self, name):
        if name not in self.options:
            raise KeyError(name)
        return self.options[name]


@pytest.mark.parametrize('connection,allow,refused,warned', [
    (FakeConnection('winrm', scheme='http', transport=['basic'], port=5985), False, True, 0),
    (FakeConnection('winrm', scheme='http', transport=['basic'], port=5985), True, False, 1),
    (FakeConnection('ansible.builtin.winrm', port=5985, transport=None), False, True, 0),  # plaintext by default over http
    (FakeConnection('winrm', scheme='http', transport=['ntlm'], port=5985), False, False, 0),
    (FakeConnection('winrm', scheme='https', transport=['basic'], port=5986,
                    _extras={'ansible_winrm_server_cert_validation': 'ignore'}), False, False, 1),
    (FakeConnection('psrp', protocol='http', auth='basic', port=5985), False, True, 0),
    (FakeConnection('psrp', protocol='https', auth='negotiate', cert_validation='ignore'), False, False, 1),
    (FakeConnection('local'), False, False, 0),
])
def test_transport_policy(connection, allow, refused, warned):
    error, warnings = transport_problems(connection, allow)
    assert bool(error) == refused, error
    assert len(warnings) == warned, warnings
    if error:
        assert 'allow_insecure_transport' in error and 'mailbox_access_winrm_allow_insecure' in error
