"""A sandbox in this process, for tests that drive the WinRM emulator from Python (tests/sandbox/tests, tests/integration).

FakeSandbox is a real server.Sandbox (HTTPS login service, Graph and the
Exchange REST endpoint) with the tenant ids and domains a test chooses; its
HTTPS server starts when start_winrm() needs it and stops with the emulator.
issue_token() mints real sandbox tokens with the claims a test chooses.
"""

import os
import tempfile

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


class FakeTenant:
    def __init__(self, tenant_id, domain, mailbox_count=5):
        self.tenant_id = tenant_id
        self.domain = domain
        self.mailbox_count = mailbox_count


def FakeSandbox(tenants=None):  # pylint: disable=invalid-name
    """A not-yet-started in-process Sandbox with these tenants (default: tenant1.onmicrosoft.com, 5 mailboxes)."""
    from ..server import Sandbox  # pylint: disable=import-outside-toplevel

    class _InProcessSandbox(Sandbox):
        def issue_token(self, tenant, roles=('Exchange.ManageAsApp',), audience='https://outlook.office365.com', lifetime=3600, appid=None):
            """A signed token for the tenant's admin app with exactly these roles (lifetime may be negative: expired)."""
            seed = self.seed_for(tenant.tenant_id)
            with self.directory.lock:
                app = tenant.app_by('appId', appid or seed.admin_client_id)
                if lifetime < 0:
                    return self.tokens.mint(tenant, app, audience, roles=list(roles), lifetime=3600, iat_offset=lifetime - 3600)
                return self.tokens.mint(tenant, app, audience, roles=list(roles), lifetime=lifetime)

    tenants = tenants or [FakeTenant('11111111-aaaa-4aaa-8aaa-000000000001', 'tenant1.onmicrosoft.com')]
    return _InProcessSandbox(tempfile.mkdtemp(prefix='m365-sandbox-'), host='127.0.0.1',
                             tenants=[(t.tenant_id, t.domain, t.mailbox_count) for t in tenants])


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
