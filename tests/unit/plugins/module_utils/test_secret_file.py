import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils import secret_file
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


def _writer_tag(pid, start):
    return '%s-%d-%s' % (secret_file._host_tag(), pid, start)  # pylint: disable=protected-access


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    dest = tmp_path / 'secret.json'
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    child.wait()
    # The name a writer killed between create and rename leaves: its pid is gone now.
    dead = tmp_path / ('.secret.json.%s.ab12cd' % _writer_tag(child.pid, secret_file.process_start(os.getpid())))
    dead.write_text('{"client_secret": "left by a killed run"}')
    write_private_file(str(dest), 'new value')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['secret.json']


def test_a_running_writers_temporary_file_and_foreign_files_are_kept(tmp_path):
    dest = tmp_path / 'secret.json'
    kept = [
        '.secret.json.%s.ab12cd' % _writer_tag(os.getpid(), secret_file.process_start(os.getpid())),  # writing now
        '.secret.json.%s.ab12cd' % _writer_tag(os.getpid(), 'x'),  # a writer without /proc that still runs
        '.secret.json.0000000z-1-1.ab12cd',  # not a name we write
        '.secret.json.ab12cd',  # the old naming: whose it is cannot be told
        '.other.json.%s.ab12cd' % _writer_tag(999999999, '1'),  # another file's
    ]
    for name in kept:
        (tmp_path / name).write_text('x')
    assert secret_file.remove_stale_temporaries(str(dest)) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def test_another_hosts_temporary_file_is_kept(tmp_path, monkeypatch):
    dest = tmp_path / 'secret.json'
    name = '.secret.json.%s.ab12cd' % _writer_tag(999999999, '1')
    (tmp_path / name).write_text('x')
    monkeypatch.setattr(secret_file.socket, 'gethostname', lambda: 'another-controller')
    assert secret_file.remove_stale_temporaries(str(dest)) == []
    monkeypatch.undo()
    assert secret_file.remove_stale_temporaries(str(dest)) == [name]
