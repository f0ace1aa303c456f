"""The role ends with a real XOAUTH2 login (Dovecot/Postfix), and the audit reports a login that stopped working.

What Exchange enforces is mirrored into Dovecot with a lag (tests/mailservers/exchange_mirror.py): the check has to
wait for it, as it would in Microsoft 365.
"""

import json
import os
import sys

import pytest

from playbook import REPO, run_playbook
from roles import PLAYBOOKS, write_inventory

sys.path.insert(0, os.path.join(REPO, 'tests', 'mailservers'))
from exchange_mirror import ExchangeMirror  # noqa: E402  pylint: disable=wrong-import-position
from mailserver_harness import MailServers  # noqa: E402  pylint: disable=wrong-import-position

APP = 'role-mail-app'


@pytest.fixture
def mirrored(tenant):
    with MailServers(tenant.info['signing_kid'], tenant.info['signing_public_key_path']) as servers:
        with ExchangeMirror(tenant, servers, APP):
            yield servers


def test_provision_proves_the_login_and_audit_reports_a_broken_one(tenant, mirrored, tmp_path):
    servers = mirrored
    verify = servers.endpoints
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
