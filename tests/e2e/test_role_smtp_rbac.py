"""A send-only app through Exchange's RBAC for Applications (mailbox_access_smtp_access=rbac), through the shipped playbooks:
scope and assignment instead of FullAccess and the Entra SMTP.SendAsApp, rerun, audit, switching from full_access, refusals,
deprovision."""

import json
import os

from playbook import run_playbook
from roles import PLAYBOOKS, write_inventory

PROVISION = os.path.join(PLAYBOOKS, 'provision.yml')
AUDIT = os.path.join(PLAYBOOKS, 'audit.yml')
DEPROVISION = os.path.join(PLAYBOOKS, 'deprovision.yml')
SMTP_SEND_AS_APP = '7146a1f0-8703-45b3-9eae-527a64c00995'  # the Office 365 Exchange Online app role (sandbox catalog)
ROLE = 'Application SMTP.SendAsApp'
RBAC = {'mailbox_access_protocols': ['smtp'], 'mailbox_access_smtp_access': 'rbac'}


def app_and_principal(sandbox, name='role-mail-app'):
    state = sandbox.state(sandbox.tenant(0)['tenant_id'])
    app = [a for a in state['applications'] if a.get('uniqueName') == name][0]
    principal = [sp for sp in state['servicePrincipals'] if sp['appId'] == app['appId']][0]
    return app, principal, state


def exchange_state(sandbox):
    return sandbox.control('GET', 'tenants/%s/exchange' % sandbox.tenant(0)['tenant_id'])


def full_access(state, principal_id):
    return sorted(upn for upn, mailbox in state['mailboxes'].items()
                  if any(p['User'] == principal_id and 'FullAccess' in p['AccessRights'] for p in mailbox['permissions']))


def entra_smtp(state, principal_id):
    return [a for a in state['appRoleAssignments'] if a['principalId'] == principal_id and a['appRoleId'] == SMTP_SEND_AS_APP]


def test_send_only_app_rerun_audit_and_deprovision(tenant, tmp_path):
    mailboxes = tenant.tenant(0)['mailboxes'][:3]
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, tenants=1, exchange=True, **RBAC)
    first = run_playbook(tmp_path, PROVISION, 'rbac-create', inventory=inventory)
    assert first.rc == 0, first
    app, principal, state = app_and_principal(tenant)
    name = 'm365-mail_oauth-smtp-' + app['appId'].lower()
    exchange = exchange_state(tenant)
    assert [(s['Name'], s['Members']) for s in exchange['management_scopes']] == [(name, sorted(m.lower() for m in mailboxes))]
    assert [(a['Name'], a['Role'], a['CustomResourceScope']) for a in exchange['role_assignments']] == [(name, ROLE, name)]
    # The app sends as exactly these mailboxes, reads none of them, and holds no Entra SMTP.SendAsApp.
    assert exchange['smtp_rbac'][exchange['service_principals'][0]['Identity']] == sorted(m.lower() for m in mailboxes)
    assert full_access(exchange, principal['id']) == []
    assert entra_smtp(state, principal['id']) == []
    again = run_playbook(tmp_path, PROVISION, 'rbac-rerun', inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again

    reports = tmp_path / 'reports'
    env = {'M365_AUDIT_REPORT_DIR': str(reports)}
    clean = run_playbook(tmp_path, AUDIT, 'rbac-audit-clean', inventory=inventory, check=True, diff=True, env=env,
                         extra_vars={'fail_on_drift': True})
    assert clean.rc == 0, clean
    assert json.loads((reports / 'tenant1.json').read_text())['drift'] is False

    # A fourth mailbox joins the list: the audit reports the scope that does not cover it yet (and changes nothing).
    added = tenant.tenant(0)['mailboxes'][3]
    wider = write_inventory(tmp_path / 'wider.json', tenant, tmp_path, tenants=1, exchange=True,
                            mailbox_access_mailboxes=mailboxes + [added], **RBAC)
    audit = run_playbook(tmp_path, AUDIT, 'rbac-audit-drift', inventory=wider, check=True, diff=True, env=env)
    assert audit.rc == 0, audit
    report = json.loads((reports / 'tenant1.json').read_text())
    assert report['drift'] is True and report['smtp_rbac']['scope_missing'] == [added.lower()], report
    assert any('does not cover listed mailboxes: %s' % added.lower() in f for f in report['findings']), report
    assert [s['Members'] for s in exchange_state(tenant)['management_scopes']] == [sorted(m.lower() for m in mailboxes)]

    gone = run_playbook(tmp_path, DEPROVISION, 'rbac-deprovision', inventory=inventory,
                        extra_vars={'mailbox_access_deprovision_confirm': True})
    assert gone.rc == 0, gone
    exchange = exchange_state(tenant)
    assert exchange['management_scopes'] == [] and exchange['role_assignments'] == [] and exchange['service_principals'] == []


def test_switching_a_full_access_app_to_rbac_removes_what_it_no_longer_needs(tenant, tmp_path):
    mailboxes = tenant.tenant(0)['mailboxes'][:3]
    before = write_inventory(tmp_path / 'full.json', tenant, tmp_path, tenants=1, exchange=True, mailbox_access_protocols=['smtp'])
    first = run_playbook(tmp_path, PROVISION, 'switch-full', inventory=before)
    assert first.rc == 0, first
    _app, principal, state = app_and_principal(tenant)
    assert full_access(exchange_state(tenant), principal['id']) == sorted(mailboxes)
    assert len(entra_smtp(state, principal['id'])) == 1

    after = write_inventory(tmp_path / 'rbac.json', tenant, tmp_path, tenants=1, exchange=True, **RBAC)
    switched = run_playbook(tmp_path, PROVISION, 'switch-rbac', inventory=after)
    assert switched.rc == 0, switched
    _app, principal, state = app_and_principal(tenant)
    exchange = exchange_state(tenant)
    assert full_access(exchange, principal['id']) == []
    assert entra_smtp(state, principal['id']) == []
    assert len(exchange['management_scopes']) == 1 and len(exchange['role_assignments']) == 1
    again = run_playbook(tmp_path, PROVISION, 'switch-rerun', inventory=after)
    assert again.rc == 0 and again.changed == 0, again


def test_switching_an_rbac_app_back_to_full_access_removes_scope_and_assignment(tenant, tmp_path):
    mailboxes = tenant.tenant(0)['mailboxes'][:3]
    rbac = write_inventory(tmp_path / 'rbac.json', tenant, tmp_path, tenants=1, exchange=True, **RBAC)
    first = run_playbook(tmp_path, PROVISION, 'back-rbac', inventory=rbac)
    assert first.rc == 0, first
    assert len(exchange_state(tenant)['role_assignments']) == 1

    full = write_inventory(tmp_path / 'full.json', tenant, tmp_path, tenants=1, exchange=True, mailbox_access_protocols=['smtp'])
    reports = tmp_path / 'reports'
    audit = run_playbook(tmp_path, AUDIT, 'back-audit', inventory=full, check=True, diff=True,
                         env={'M365_AUDIT_REPORT_DIR': str(reports)})
    assert audit.rc == 0, audit
    report = json.loads((reports / 'tenant1.json').read_text())
    assert report['drift'] is True and report['smtp_rbac'].get('leftover', '').startswith('m365-mail_oauth-smtp-'), report
    assert len(exchange_state(tenant)['role_assignments']) == 1  # the audit changed nothing

    switched = run_playbook(tmp_path, PROVISION, 'back-full', inventory=full)
    assert switched.rc == 0, switched
    _app, principal, state = app_and_principal(tenant)
    exchange = exchange_state(tenant)
    assert exchange['management_scopes'] == [] and exchange['role_assignments'] == []
    assert full_access(exchange, principal['id']) == sorted(mailboxes)
    assert len(entra_smtp(state, principal['id'])) == 1
    again = run_playbook(tmp_path, PROVISION, 'back-rerun', inventory=full)
    assert again.rc == 0 and again.changed == 0, again


def test_imap_and_smtp_through_rbac_keep_full_access_for_imap(tenant, tmp_path):
    mailboxes = tenant.tenant(0)['mailboxes'][:2]
    inventory = write_inventory(tmp_path / 'mixed.json', tenant, tmp_path, tenants=1, exchange=True, mailbox_access_mailboxes=mailboxes,
                                mailbox_access_protocols=['imap', 'smtp'], mailbox_access_smtp_access='rbac')
    made = run_playbook(tmp_path, PROVISION, 'mixed', inventory=inventory)
    assert made.rc == 0, made
    _app, principal, state = app_and_principal(tenant)
    exchange = exchange_state(tenant)
    assert full_access(exchange, principal['id']) == sorted(mailboxes)
    assert entra_smtp(state, principal['id']) == []
    assert len(exchange['role_assignments']) == 1


def test_rbac_without_smtp_or_with_a_mailbox_the_scope_cannot_name_is_refused_before_anything(tenant, tmp_path):
    imap_only = write_inventory(tmp_path / 'imap.json', tenant, tmp_path, tenants=1, exchange=True,
                                mailbox_access_protocols=['imap'], mailbox_access_smtp_access='rbac')
    refused = run_playbook(tmp_path, PROVISION, 'rbac-imap', inventory=imap_only)
    assert refused.rc != 0 and 'RBAC for Applications has a role for SMTP, none for IMAP or POP' in refused.output, refused
    alias = write_inventory(tmp_path / 'alias.json', tenant, tmp_path, tenants=1, exchange=True,
                            mailbox_access_mailboxes=['user1'], **RBAC)
    refused = run_playbook(tmp_path, PROVISION, 'rbac-alias', inventory=alias)
    assert refused.rc != 0 and "'user1'" in refused.output and 'primary SMTP address' in refused.output, refused
    state = tenant.state(tenant.tenant(0)['tenant_id'])
    assert not [a for a in state['applications'] if a.get('uniqueName') == 'role-mail-app']
    assert exchange_state(tenant)['management_scopes'] == []


def test_login_check_proves_smtp_in_scope_and_a_refusal_outside_it(tenant, tmp_path):
    """A real XOAUTH2 SMTP login (Postfix) works for a listed mailbox and is refused for another, with the app's own token."""
    import sys  # pylint: disable=import-outside-toplevel
    from playbook import REPO  # pylint: disable=import-outside-toplevel
    sys.path.insert(0, os.path.join(REPO, 'tests', 'mailservers'))
    from exchange_mirror import ExchangeMirror  # pylint: disable=import-outside-toplevel
    from mailserver_harness import MailServers  # pylint: disable=import-outside-toplevel
    mailboxes = tenant.tenant(0)['mailboxes'][:3]
    outside = tenant.tenant(0)['mailboxes'][3]
    with MailServers(tenant.info['signing_kid'], tenant.info['signing_public_key_path']) as servers:
        with ExchangeMirror(tenant, servers, 'role-mail-app'):
            inventory = write_inventory(tmp_path / 'login.json', tenant, tmp_path, tenants=1, exchange=True,
                                        mailbox_access_verify_login=True, mailbox_access_verify_timeout=60,
                                        mailbox_access_verify_options=servers.endpoints,
                                        mailbox_access_verify_refused=[outside], **RBAC)
            made = run_playbook(tmp_path, PROVISION, 'rbac-login', inventory=inventory)
            assert made.rc == 0, made
    result = made.results()["Log in to every mailbox with the app's token (IMAP/POP/SMTP, XOAUTH2)"]['tenant1']
    assert result['ok'], result
    # The token carries no SMTP.SendAsApp: the login works through the role assignment's scope alone.
    assert 'SMTP.SendAsApp' not in result['token']['roles'] and result['token']['problems'] == [], result['token']
    logins = dict((c['mailbox'], c) for c in result['checks'])
    assert all(logins[m]['ok'] and logins[m]['expected'] == 'login' for m in mailboxes), logins
    refused = logins[outside]
    assert refused['expected'] == 'refused' and refused['ok'] and not refused['logged_in'], refused
    assert refused['cause'] == 'out_of_scope' and 'management scope' in refused['diagnosis'], refused
