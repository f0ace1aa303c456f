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
    if not password:
        raise ConfigError('the vault password is empty')
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


def read_vault_password_file(path):
    try:
        with open(path, 'r') as handle:
            return handle.read().strip()
    except (IOError, OSError) as exc:
        raise ConfigError('vault_password_file %s cannot be read: %s' % (path, exc.strerror or exc))
