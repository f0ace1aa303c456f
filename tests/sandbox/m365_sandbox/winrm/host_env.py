"""The emulated Windows host's disk and environment, for the real pwsh its commands run in.

Under STATE_DIR/windows-host:
    C/                      stands for C:\\ (certs\\tenantN-admin.pfx: each seed's admin certificate, password in sandbox.json)
    Cert/CurrentUser/My/    stands for Cert:\\CurrentUser\\My (THUMBPRINT.pem: each seed's admin key and certificate)
    AppData/powershell/Modules/   the CurrentUser module folder (XDG_DATA_HOME points pwsh here): the fake gallery,
                            and ExchangeOnlineManagement once Install-Module put it there
    Modules-VERSION/        the AllUsers module folder with ExchangeOnlineManagement VERSION (Faults.module_version)
    ca-bundle.pem           the machine's CA bundle plus the sandbox CA (SSL_CERT_FILE: .NET on Linux honours it)
"""

import os
import re
import secrets
import shutil
import threading

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from .. import pki

POWERSHELL_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'powershell'))
FAKE_MODULE = 'ExchangeOnlineManagement'
FAKE_VERSION = '3.7.1'
FAKE_MANIFEST = os.path.join(POWERSHELL_DIR, FAKE_MODULE, FAKE_VERSION, FAKE_MODULE + '.psd1')
FAKE_ROOT_MODULE = os.path.join(POWERSHELL_DIR, FAKE_MODULE, FAKE_VERSION, FAKE_MODULE + '.psm1')
GALLERY = os.path.join(POWERSHELL_DIR, 'M365SandboxGallery')
SYSTEM_BUNDLES = ('/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem')


def _manifest(version):
    """The fake module's manifest as VERSION, its RootModule pointing at the one .psm1."""
    with open(FAKE_MANIFEST, encoding='utf-8') as handle:
        text = handle.read()
    text = re.sub(r"ModuleVersion = '[^']*'", "ModuleVersion = '%s'" % version, text)
    return re.sub(r"RootModule = '[^']*'", "RootModule = '%s'" % FAKE_ROOT_MODULE.replace("'", "''"), text)


def _write_module(folder, version):
    target = os.path.join(folder, FAKE_MODULE, version)
    os.makedirs(target, exist_ok=True)
    path = os.path.join(target, FAKE_MODULE + '.psd1')
    if not os.path.exists(path):
        with open(path + '.tmp', 'w', encoding='utf-8') as handle:
            handle.write(_manifest(version))
        os.replace(path + '.tmp', path)


class WindowsHostDisk:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.root = os.path.join(sandbox.state_dir, 'windows-host')
        self.drive_c = os.path.join(self.root, 'C')
        self.cert_store = os.path.join(self.root, 'Cert')
        self.app_data = os.path.join(self.root, 'AppData')
        self.user_modules = os.path.join(self.app_data, 'powershell', 'Modules')
        self.ca_bundle = os.path.join(self.root, 'ca-bundle.pem')
        self.lock = threading.Lock()
        self.certificates = []
        self._setup()

    def _setup(self):
        os.makedirs(self.user_modules, exist_ok=True)
        link = os.path.join(self.user_modules, 'M365SandboxGallery')
        if not os.path.lexists(link):
            os.symlink(GALLERY, link)
        bundle = b''
        for path in [os.environ.get('SSL_CERT_FILE')] + list(SYSTEM_BUNDLES):
            if path and os.path.isfile(path):
                with open(path, 'rb') as handle:
                    bundle = handle.read()
                break
        with open(os.path.join(self.sandbox.state_dir, 'ca.pem'), 'rb') as handle:
            bundle += b'\n' + handle.read()
        pki.write_public(self.ca_bundle, bundle)
        for seed in getattr(self.sandbox, 'seeds', []):
            self._add_certificate(seed)

    def _add_certificate(self, seed):
        with open(seed.certificate_path, 'rb') as handle:
            pem = handle.read()
        key = serialization.load_pem_private_key(pem, password=None)
        cert = x509.load_pem_x509_certificate(pem[pem.index(b'-----BEGIN CERTIFICATE-----'):])
        thumbprint = seed.certificate_thumbprint.upper()
        store = os.path.join(self.cert_store, 'CurrentUser', 'My')
        os.makedirs(store, exist_ok=True)
        pki.write_private(os.path.join(store, thumbprint + '.pem'), pem)
        password = secrets.token_urlsafe(12)
        name = 'tenant%d-admin.pfx' % seed.index
        os.makedirs(os.path.join(self.drive_c, 'certs'), exist_ok=True)
        pfx = pkcs12.serialize_key_and_certificates(b'admin', key, cert, None, serialization.BestAvailableEncryption(password.encode()))
        pki.write_private(os.path.join(self.drive_c, 'certs', name), pfx)
        self.certificates.append({'tenant_id': seed.tenant_id, 'path': 'C:\\certs\\' + name, 'password': password,
                                  'thumbprint': thumbprint})

    # -- modules --------------------------------------------------------------
    def all_users_modules(self, version):
        """The AllUsers module folder holding ExchangeOnlineManagement VERSION (None: no such module)."""
        if not version:
            folder = os.path.join(self.root, 'Modules-none')
            os.makedirs(folder, exist_ok=True)
            return folder
        if version == FAKE_VERSION:
            # The fake module's own folder, as checked in.
            return POWERSHELL_DIR
        return self._versioned(version)

    def _versioned(self, version):
        folder = os.path.join(self.root, 'Modules-%s' % version)
        with self.lock:
            _write_module(folder, version)
        return folder

    def install_module(self, version):
        """Install-Module: the module lands in the CurrentUser folder (both scopes, see the README)."""
        with self.lock:
            _write_module(self.user_modules, version or FAKE_VERSION)

    def reset(self):
        """Forget what Install-Module put there (a sandbox reset rebuilds the host as seeded)."""
        with self.lock:
            shutil.rmtree(os.path.join(self.user_modules, FAKE_MODULE), ignore_errors=True)

    # -- environment ----------------------------------------------------------
    def environment(self, command_id, module_version):
        env = dict(os.environ)
        for name in list(env):
            # The sandbox's own Python settings mean nothing on the emulated Windows host.
            if name.startswith(('PYTEST', 'PYTHON', 'ANSIBLE')):
                env.pop(name)
        env.update({
            'PSModulePath': self.all_users_modules(module_version),
            'XDG_DATA_HOME': self.app_data,
            'SSL_CERT_FILE': self.ca_bundle,
            'NO_COLOR': '1',
            'M365_SANDBOX_EXCHANGE_URL': self.sandbox.base_url,
            'M365_SANDBOX_COMMAND': command_id,
            'M365_SANDBOX_WINDOWS': '1',
            'M365_SANDBOX_CERT_STORE': self.cert_store,
            'M365_SANDBOX_DRIVE_C': self.drive_c,
            'M365_SANDBOX_RETRY_SCALE': '0.01',
            'IDENTITY_ENDPOINT': self.sandbox.base_url + '/msi/token',
            'IDENTITY_HEADER': getattr(self.sandbox, 'identity_header', ''),
        })
        return env
