"""Certificates: the admin app signs in with one; app_secret uploads, keeps and rotates the mail app's ones."""

import datetime

import msal
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from playbook import play, run_playbook

APP = 'cert-app'


def make_certificate(path, name, days=365):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                     + cert.public_bytes(serialization.Encoding.PEM))
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def cert_task(path, name='Mail cert', remove_old=False):
    return {'name': 'certificate ' + name, 'm365.mail_oauth.app_secret': {
        'unique_name': APP, 'type': 'certificate', 'certificate_path': str(path), 'display_name': name, 'remove_old': remove_old},
        'register': 'cert'}


def keys(sandbox):
    state = sandbox.state(sandbox.tenant(0)['tenant_id'])
    app = [a for a in state['applications'] if a.get('uniqueName') == APP][0]
    return app, app['keyCredentials']


def test_admin_certificate_auth_and_mail_app_certificates(tenant, tmp_path):
    admin = tenant.tenant(0)['admin']
    cert_auth = {'m365_auth': {'tenant_id': tenant.tenant(0)['domain'], 'client_id': admin['client_id'],
                               'authority_url': tenant.authority_url, 'graph_url': tenant.graph_url, 'ca_path': tenant.ca_path}}
    first_pem, second_pem, other_pem = tmp_path / 'first.pem', tmp_path / 'second.pem', tmp_path / 'other.pem'
    first = make_certificate(first_pem, 'mail-first')
    second = make_certificate(second_pem, 'mail-second')
    make_certificate(other_pem, 'other')

    def run(name, tasks, **kw):
        plays = play(tasks, auth=False)
        plays[0]['module_defaults'] = {'group/m365.mail_oauth.graph': {
            'tenant_id': '{{ m365_auth.tenant_id }}', 'client_id': '{{ m365_auth.client_id }}',
            'client_certificate_path': admin['certificate_path'], 'authority_url': '{{ m365_auth.authority_url }}',
            'graph_url': '{{ m365_auth.graph_url }}', 'ca_path': '{{ m365_auth.ca_path }}'}}
        return run_playbook(tmp_path, plays, name, extra_vars=cert_auth, **kw)

    register = {'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': APP, 'display_name': 'Cert app'},
                'register': 'app'}
    created = run('cert-create', [register, cert_task(first_pem), cert_task(other_pem, name='Other cert')])
    assert created.rc == 0, created
    # tenant_id given as the domain still returns the GUID
    assert created.results()['register']['localhost']['tenant_id'] == tenant.tenant(0)['tenant_id']
    assert created.results()['certificate Mail cert']['localhost']['thumbprint'] == first
    app, stored = keys(tenant)
    assert len(stored) == 2

    again = run('cert-rerun', [register, cert_task(first_pem), cert_task(other_pem, name='Other cert')])
    assert again.rc == 0 and again.changed == 0, again

    # The uploaded certificate really signs the mail app in (client assertion checked by the token service).
    pem = first_pem.read_text()
    session = tenant.session()
    client = msal.ConfidentialClientApplication(app['appId'], client_credential={'private_key': pem, 'thumbprint': first},
                                                authority=tenant.authority(0), http_client=session, instance_discovery=False)
    token = client.acquire_token_for_client(scopes=['https://outlook.office365.com/.default'])
    assert 'access_token' in token, token

    rotate = run('cert-rotate', [cert_task(second_pem, remove_old=True)], diff=True)
    assert rotate.rc == 0 and rotate.changed == 1, rotate
    stored = keys(tenant)[1]
    names = sorted(k['displayName'] for k in stored)
    assert names == ['Mail cert', 'Other cert'], names  # the other certificate is never wiped
    result = rotate.results()['certificate Mail cert']['localhost']
    assert result['thumbprint'] == second and len(result['removed_key_ids']) == 1

    check = run('cert-check', [cert_task(second_pem, remove_old=True)], check=True)
    assert check.rc == 0 and check.changed == 0, check
