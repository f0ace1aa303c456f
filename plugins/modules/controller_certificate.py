#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: controller_certificate
short_description: A private key and self-signed certificate for an app credential, made where the module runs
version_added: 0.1.0
description:
  - Generates an RSA private key and a self-signed certificate into one PEM file of mode 0600 (written atomically), the
    form C(client_certificate_path) of the Graph modules and the Exchange actions reads. The private key never leaves
    the file; upload only the certificate (M(m365.mail_oauth.app_secret) with C(type=certificate) reads it from the
    same file).
  - A certificate that is valid for more than O(rotate_before_days) is left alone. One that expires sooner (or a file
    without a key and certificate) is replaced by a new key and certificate; the old file is kept beside it as
    C(<path>.<old thumbprint>) (mode 0600) so the old key still works until its certificate expires - upload the new
    certificate next to the old one (overlap), as M(m365.mail_oauth.app_secret) does.
  - Run it on the controller (C(delegate_to) localhost), like the Graph modules.
author:
  - m365.mail_oauth contributors (@m365-mail-oauth)
options:
  path:
    description:
      - The PEM file for the private key and the certificate. Its directory must exist and be writable only by this user;
        checked before anything is made.
    type: path
    required: true
  subject:
    description: Common name of a new certificate.
    type: str
    default: m365 mail_oauth admin
  valid_days:
    description: Lifetime of a new certificate in days .
    type: int
    default: 365
  rotate_before_days:
    description: Replace the certificate when it expires within this many days.
    type: int
    default: 30
  key_size:
    description: RSA key size.
    type: int
    choices: [2048, 3072, 4096]
    default: 2048
  passphrase:
    description:
      - Encrypt the private key in the file with this passphrase (give it as C(client_certificate_password) to the modules).
    type: str
attributes:
  check_mode:
    support: full
    description: Says whether a key and certificate would be made; writes nothing.
  diff_mode:
    support: full
    description: Thumbprint and expiry of the certificate before and after; never the key.
seealso:
  - module: m365.mail_oauth.app_secret
requirements:
  - cryptography
'''

EXAMPLES = r'''
- name: The admin identity's key and certificate on the controller
  m365.mail_oauth.controller_certificate:
    path: ~/.ansible/m365_mail_oauth/contoso-admin.pem
  delegate_to: localhost
  register: admin_certificate
'''

RETURN = r'''
path:
  description: Absolute path of the PEM file (private key and certificate).
  returned: always
  type: str
thumbprint:
  description: SHA-1 thumbprint (hex) of the certificate in the file after the run; in check mode, of the current one.
  returned: when a certificate exists
  type: str
not_after:
  description: Expiry of that certificate (ISO 8601, UTC).
  returned: when a certificate exists
  type: str
previous_path:
  description: Where the replaced file was kept.
  returned: when a certificate was replaced
  type: str
'''

import datetime
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import ConfigError
from ansible_collections.m365.mail_oauth.plugins.module_utils.secret_file import check_destination, write_private_file

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def read_certificate(path):
    """The certificate in path, or None when the file is missing or holds no key and certificate."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError('path %s cannot be read: %s' % (path, exc.strerror or exc))
    if b'PRIVATE KEY-----' not in data or b'-----BEGIN CERTIFICATE-----' not in data:
        return None
    try:
        return x509.load_pem_x509_certificate(data[data.index(b'-----BEGIN CERTIFICATE-----'):])
    except ValueError:
        return None


def describe(cert):
    if cert is None:
        return {}
    return {'thumbprint': cert.fingerprint(hashes.SHA1()).hex(),  # nosec - SHA-1 is what Entra ID names keys by
            'not_after': cert.not_valid_after_utc.strftime('%Y-%m-%dT%H:%M:%SZ')}


def make_pem(subject, valid_days, key_size, passphrase):
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = _utc_now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=valid_days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    encryption = serialization.BestAvailableEncryption(passphrase.encode('utf-8')) if passphrase else serialization.NoEncryption()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return key_pem + cert.public_bytes(serialization.Encoding.PEM), cert


def run(module):
    params = module.params
    path = os.path.abspath(params['path'])  # type path: ~ already expanded
    if params['valid_days'] < 1 or params['rotate_before_days'] < 0 or params['rotate_before_days'] >= params['valid_days']:
        raise ConfigError('valid_days (%d) must be positive and longer than rotate_before_days (%d)'
                          % (params['valid_days'], params['rotate_before_days']))
    if params['passphrase'] is not None and not params['passphrase'].strip():
        raise ConfigError('passphrase is empty: give a passphrase or leave it unset')
    check_destination(path, option='path')
    current = read_certificate(path)
    result = {'changed': False, 'path': path}
    due = current is None or current.not_valid_after_utc - _utc_now() <= datetime.timedelta(days=params['rotate_before_days'])
    before = describe(current)
    after = before
    if due:
        result['changed'] = True
        if module.check_mode:
            after = {'thumbprint': '(new)', 'not_after': '(in %d days)' % params['valid_days']}
        else:
            pem, cert = make_pem(params['subject'], params['valid_days'], params['key_size'], params['passphrase'])
            if os.path.exists(path):
                # The old key stays usable until its certificate expires (the overlap); only this user can read it.
                previous = '%s.%s' % (path, before.get('thumbprint') or 'previous')
                with open(path, 'rb') as handle:
                    write_private_file(previous, handle.read())
                result['previous_path'] = previous
            write_private_file(path, pem)
            after = describe(cert)
    result.update(after if not module.check_mode else before)
    result['diff'] = {'before': before, 'after': after}
    return result


def main():
    module = AnsibleModule(argument_spec=dict(
        path=dict(type='path', required=True),
        subject=dict(type='str', default='m365 mail_oauth admin'),
        valid_days=dict(type='int', default=365),
        rotate_before_days=dict(type='int', default=30),
        key_size=dict(type='int', choices=[2048, 3072, 4096], default=2048),
        passphrase=dict(type='str', no_log=True),
    ), supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'))
    try:
        module.exit_json(**run(module))
    except ConfigError as exc:
        module.fail_json(msg=exc.msg)


if __name__ == '__main__':
    main()
