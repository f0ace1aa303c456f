"""A tiny stand-in for the sandbox, to run the Exchange host and WinRM alone.

Tests use it until (and besides) the Graph sandbox: tenants with a mailbox
list, and opaque tokens whose claims the test chooses.
"""

import os
import secrets
import tempfile
import threading
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


class FakeTenant:
    def __init__(self, tenant_id, domain, mailbox_count=5):
        self.tenant_id = tenant_id
        self.domain = domain
        self.users = ['user%d@%s' % (n, domain) for n in range(1, mailbox_count + 1)]
        self.extensions = {}

    def mailboxes(self):
        return list(self.users)


class FakeDirectory:
    def __init__(self, tenants):
        self.lock = threading.RLock()
        self.tenants = dict((t.tenant_id, t) for t in tenants)

    def tenant(self, key):
        if not key:
            return None
        key = key.lower()
        for tenant in self.tenants.values():
            if key in (tenant.tenant_id.lower(), tenant.domain.lower()):
                return tenant
        return None


class FakeSandbox:
    """directory + verify_token: what start_winrm needs from the real sandbox."""

    def __init__(self, tenants=None):
        self.directory = FakeDirectory(tenants or [FakeTenant('11111111-aaaa-4aaa-8aaa-000000000001', 'tenant1.onmicrosoft.com')])
        self._tokens = {}

    def issue_token(self, tenant, roles=('Exchange.ManageAsApp',), audience='https://outlook.office365.com', lifetime=3600, appid=None):
        token = 'eyJ0eXAiOiJKV1QifQ.' + secrets.token_urlsafe(24)
        self._tokens[token] = {'aud': audience, 'tid': tenant.tenant_id, 'roles': list(roles), 'exp': time.time() + lifetime,
                               'appid': appid or '99999999-0000-4000-8000-000000000001'}
        return token

    def verify_token(self, token):
        claims = self._tokens.get(token)
        if claims is None:
            raise ValueError('signature verification failed')
        return dict(claims)


def collection_path():
    """A directory to put on sys.path / ANSIBLE_COLLECTIONS_PATH that holds m365.mail_oauth."""
    parent = os.path.dirname(REPO_ROOT)
    if os.path.basename(parent) == 'm365' and os.path.basename(os.path.dirname(parent)) == 'ansible_collections' \
            and os.path.basename(REPO_ROOT) == 'mail_oauth':
        return os.path.dirname(os.path.dirname(parent))
    base = tempfile.mkdtemp(prefix='m365-collections-')
    os.makedirs(os.path.join(base, 'ansible_collections', 'm365'))
    os.symlink(REPO_ROOT, os.path.join(base, 'ansible_collections', 'm365', 'mail_oauth'))
    return base
