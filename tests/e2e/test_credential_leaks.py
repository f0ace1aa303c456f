"""Secrets given to the Graph modules as task options never show: not with ANSIBLE_DEBUG=1, not at -vvvv, not in the
module files ANSIBLE_KEEP_REMOTE_FILES=1 keeps. The admin secret, a certificate's password and an access token each
sign in one task; the scan covers the run's stdout, stderr, log and every file in its temporary directories.
"""

import os

from cryptography.hazmat.primitives import serialization

import secret_scan
from playbook import run_playbook

APP = 'leak-app'
CERT_PASSWORD = 'Cert-Pa55word-7Qx'


def encrypted_admin_certificate(sandbox, tmp_path):
    """The seeded admin certificate with its private key encrypted under CERT_PASSWORD."""
    with open(sandbox.tenant(0)['admin']['certificate_path'], 'rb') as handle:
        pem = handle.read()
    key = serialization.load_pem_private_key(pem, password=None)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(CERT_PASSWORD.encode()))
    certificate = pem[pem.index(b'-----BEGIN CERTIFICATE-----'):]
    path = tmp_path / 'admin-encrypted.pem'
    path.write_bytes(encrypted + certificate)
    path.chmod(0o600)
    return str(path)


def test_no_secret_in_debug_output_verbose_output_or_kept_module_files(tenant, tmp_path):
    seed = tenant.tenant(0)
    token = tenant.admin_token()
    endpoints = {'authority_url': tenant.authority_url, 'graph_url': tenant.graph_url, 'ca_path': tenant.ca_path,
                 'tenant_id': seed['tenant_id']}
    app = {'unique_name': APP, 'display_name': 'Leak test'}
    tasks = [
        {'name': 'with the client secret', 'm365.mail_oauth.azure_app_registration': dict(
            app, client_id=seed['admin']['client_id'], client_secret=seed['admin']['client_secret'], **endpoints)},
        {'name': 'with a certificate and its password', 'm365.mail_oauth.azure_app_registration': dict(
            app, client_id=seed['admin']['client_id'], client_certificate_path=encrypted_admin_certificate(tenant, tmp_path),
            client_certificate_password=CERT_PASSWORD, **endpoints)},
        {'name': 'with an access token', 'm365.mail_oauth.azure_app_registration': dict(app, access_token=token, **endpoints)},
    ]
    plays = [{'name': 'leak', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    remote_tmp = tmp_path / 'remote-tmp'
    run = run_playbook(tmp_path, plays, 'credential-leaks', verbosity=4, env={
        'ANSIBLE_DEBUG': '1', 'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': str(remote_tmp)})
    assert run.rc == 0, run
    assert run.recap['localhost']['changed'] == 1, run.recap
    kept = list(secret_scan.files_under(remote_tmp))
    found = secret_scan.find([seed['admin']['client_secret'], CERT_PASSWORD, token],
                             texts=[('stdout', run.stdout), ('stderr', run.stderr)],
                             paths=kept + list(secret_scan.files_under(tmp_path / 'ansible-tmp')) + [run.results_path])
    assert not found, found
    # The module files were kept, and they hold the arguments (a reference, not the secret).
    modules = [path for path in kept if os.path.basename(path).startswith('AnsiballZ_')]
    assert len(modules) >= 3 and all('m365-credential-file:' in open(path).read() for path in modules), kept
    assert not [path for path in kept if 'm365-credentials-' in os.path.basename(path)], 'a credential file was left behind'
