# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Encrypt to the ansible-vault format (1.1/1.2, AES256), readable by ansible-vault and vars files.

Modules cannot import ansible.parsing.vault (it is not shipped to the module),
so the encrypt side of the documented format is implemented here; the tests
decrypt the result with the real ansible-vault.
"""

import binascii
import hashlib
import hmac
import os
import stat
import subprocess

try:
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError


def vault_encrypt(plaintext, password, vault_id=None):
    """The vault text of plaintext (str) under password (str)."""
    if not HAS_CRYPTOGRAPHY:
        raise ConfigError('the python library cryptography is needed to vault-encrypt the destination file')
    if not password or not password.strip():
        raise ConfigError('the vault password (vault_password) is empty or whitespace only: refusing to write the secret '
                          'under it; give a real password')
    salt = os.urandom(32)
    derived = PBKDF2HMAC(algorithm=hashes.SHA256(), length=80, salt=salt, iterations=10000).derive(password.encode('utf-8'))
    cipher_key, hmac_key, iv = derived[:32], derived[32:64], derived[64:80]
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode('utf-8')) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cipher_key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    signature = hmac.new(hmac_key, ciphertext, hashlib.sha256).hexdigest().encode('ascii')
    body = binascii.hexlify(b'\n'.join([binascii.hexlify(salt), signature, binascii.hexlify(ciphertext)])).decode('ascii')
    header = '$ANSIBLE_VAULT;1.2;AES256;%s' % vault_id if vault_id else '$ANSIBLE_VAULT;1.1;AES256'
    lines = [body[i:i + 80] for i in range(0, len(body), 80)]
    return '\n'.join([header] + lines) + '\n'


def _is_executable(path):
    # ansible.utils.path.is_executable: any execute bit.
    return bool(os.stat(path).st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def _run_password_script(path, vault_id):
    """stdout of the script, as ansible-vault runs it (a *-client script also gets --vault-id)."""
    command = [path]
    if os.path.splitext(path)[0].endswith('-client'):
        command += ['--vault-id', vault_id or 'default']
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ConfigError('vault_password_file %s is executable, so it is run as ansible-vault would, and running it failed '
                          '(%s); if it is not a script, remove its execute bit (chmod a-x)' % (path, exc.strerror or exc))
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise ConfigError('vault password script %s exited with %s: %s' % (
            path, proc.returncode, stderr.decode('utf-8', 'replace').strip()[:300]))
    return stdout.strip(b'\r\n')


def read_vault_password_file(path, vault_id=None):
    """The vault password exactly as ansible-vault --vault-password-file reads it.

    An executable file is a script whose stdout is the password; any other file holds it, surrounding
    whitespace stripped. An empty or whitespace-only password is refused (it would leave the secret readable).
    """
    try:
        if os.path.isdir(path):
            raise ConfigError('vault_password_file %s is a directory; give the password file or script' % path)
        if _is_executable(path):
            data = _run_password_script(path, vault_id)
            kind = 'script printed'
        else:
            with open(path, 'rb') as handle:
                data = handle.read().strip()
            kind = 'file holds'
    except (IOError, OSError) as exc:
        raise ConfigError('vault_password_file %s cannot be read: %s' % (path, exc.strerror or exc))
    password = data.decode('utf-8', 'surrogateescape')
    if not password.strip():
        raise ConfigError('vault_password_file %s %s an empty or whitespace-only password: refusing to write the secret '
                          'under it; put the vault password in the file (or print it from the script)' % (path, kind))
    return password
