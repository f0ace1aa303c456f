"""The role ends with a real XOAUTH2 login (Dovecot/Postfix), and the audit reports a login that stopped working.

What Exchange enforces (the app's service principal, FullAccess on the mailbox) is mirrored from the emulated
Exchange host into Dovecot's allow-list by a background thread, with a lag, the way permissions propagate in
Microsoft 365: the check has to wait for it.
"""

import json
import os
import sys
import threading

import pytest

from playbook import REPO, run_playbook
from roles import PLAYBOOKS, write_inventory

sys.path.insert(0, os.path.join(REPO, 'tests', 'mailservers'))
from mailserver_harness import MailServers  # noqa: E402  pylint: disable=wrong-import-position

APP = 'role-mail-app'


class ExchangeMirror(threading.Thread):
    """Copies FullAccess from the emulated Exchange into Dovecot's allow-list, and trusts the app's tokens."""

    def __init__(self, sandbox, servers, lag=1.0):
        super().__init__(daemon=True)
        self.sandbox, self.servers, self.lag = sandbox, servers, lag
        self.stopped = threading.Event()

    def sync(self):
        tenant_id = self.sandbox.tenant(0)['tenant_id']
        apps = [a for a in self.sandbox.state(tenant_id)['applications'] if a.get('uniqueName') == APP]
        if not apps:
            return
        self.servers.trust_client(apps[0]['appId'])
        exchange = self.sandbox.control('GET', 'tenants/%s/exchange' % tenant_id)
        ids = set(sp['ObjectId'] for sp in exchange['service_principals'] if sp['AppId'] == apps[0]['appId'])
        self.servers.allow(sorted(upn for upn, mailbox in exchange['mailboxes'].items()
                                  if any(p['User'] in ids and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions'])))

    def run(self):
        while not self.stopped.wait(self.lag):
            self.sync()


@pytest.fixture
def mirrored(tenant):
    with MailServers(tenant.info['signing_kid'], tenant.info['signing_public_key_path']) as servers:
        mirror = ExchangeMirror(tenant, servers)
        mirror.start()
        yield servers
        mirror.stopped.set()
        mirror.join(5)


def test_provision_proves_the_login_and_audit_reports_a_broken_one(tenant, mirrored, tmp_path):
    servers = mirrored
    verify = {'imap_host': 'localhost', 'imap_port': servers.imap_port, 'pop_host': 'localhost', 'pop_port': servers.pop_port,
              'smtp_host': 'localhost', 'smtp_port': servers.smtp_port, 'mail_ca_path': servers.ca_path, 'login_timeout': 10}
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, tenants=1, exchange=True,
                                mailbox_access_protocols=['imap', 'pop', 'smtp'], mailbox_access_verify_login=True,
                                mailbox_access_verify_timeout=60, mailbox_access_verify_options=verify)
    first = run_playbook(tmp_path, os.path.join(PLAYBOOKS, 'provision.yml'), 'login-provision', inventory=inventory)
    assert first.rc == 0, first
    checks = first.results()["Log in to every mailbox with the app's token (IMAP/POP/SMTP, XOAUTH2)"]
    result = checks['tenant1']
    assert result['ok'] and len(result['checks']) == 9, result
    assert 'every login works' in first.stdout

    # FullAccess on one mailbox goes away behind Ansible's back: the audit's login check says what is wrong.
    victim = tenant.tenant(0)['mailboxes'][2]
    app = [a for a in tenant.state(tenant.tenant(0)['tenant_id'])['applications'] if a.get('uniqueName') == APP][0]
    tenant.control('POST', 'tenants/%s/exchange/mailbox_permissions' % tenant.tenant(0)['tenant_id'],
                   {'remove': True, 'Identity': victim, 'User': app['appId']})
    reports = tmp_path / 'reports'
    audit = run_playbook(tmp_path, os.path.join(PLAYBOOKS, 'audit.yml'), 'login-audit', inventory=inventory, check=True,
                         extra_vars={'mailbox_access_verify_timeout': 5}, env={'M365_AUDIT_REPORT_DIR': str(reports)})
    assert audit.rc == 0, audit
    report = json.loads((reports / 'tenant1.json').read_text())
    assert report['mailboxes']['without_access'] == [victim], report
    failed = report['login_check']['failed']
    assert sorted(set(f['mailbox'] for f in failed)) == [victim], report
    assert set(f['cause'] for f in failed) <= {'access_denied', 'not_connected'}, failed
    assert any('FullAccess' in f['diagnosis'] for f in failed), failed
