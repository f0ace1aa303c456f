"""The three Entra ID modules through real ansible-playbook against the sandbox tenant."""

import json
import os
import stat

from playbook import play, run_playbook

APP = 'mail-oauth-e2e'


def provision_tasks(dest, exclusive=True, perms=('IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp')):
    return [
        {'name': 'register', 'm365.mail_oauth.azure_app_registration': {
            'unique_name': APP, 'display_name': 'Mail OAuth e2e', 'notes': 'owned by the tests'}, 'register': 'app'},
        {'name': 'secret', 'm365.mail_oauth.app_secret': {
            'unique_name': APP, 'display_name': 'imap-poller', 'expires_in_days': 90, 'rotate_before_days': 10,
            'dest': str(dest)}, 'register': 'secret'},
        {'name': 'permissions', 'm365.mail_oauth.api_permission': {
            'unique_name': APP, 'application_permissions': list(perms), 'admin_consent': True, 'exclusive': exclusive},
         'register': 'perms'},
    ]


def app_state(sandbox, name=APP):
    state = sandbox.state(sandbox.tenant(0)['tenant_id'])
    apps = [a for a in state['applications'] if a.get('uniqueName') == name]
    return state, apps


def test_create_rerun_check_and_absent(tenant, auth, tmp_path):
    dest = tmp_path / 'secret.json'
    first = run_playbook(tmp_path, play(provision_tasks(dest)), 'create', extra_vars=auth)
    assert first.rc == 0, first
    results = first.results()
    app = results['register']['localhost']
    assert app['changed'] and app['created'] and app['service_principal_id'] and app['tenant_id'] == tenant.tenant(0)['tenant_id']
    secret = results['secret']['localhost']
    assert secret['secret_created'] and secret['dest'] == str(dest)
    assert 'secret' not in secret
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    stored = json.loads(dest.read_text())
    assert stored['client_id'] == app['app_id'] and stored['tenant_id'] == app['tenant_id']
    assert stored['token_endpoint'] == '%s/oauth2/v2.0/token' % tenant.authority(0)
    assert stored['scope'] == 'https://outlook.office365.com/.default'
    assert stored['imap'] == {'host': 'outlook.office365.com', 'port': 993, 'security': 'tls', 'sasl': 'XOAUTH2'}
    assert results['permissions']['localhost']['granted'] == {
        'Office 365 Exchange Online': ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp']}

    # The value written to dest is a working credential of the new app, with the consented roles.
    token = tenant.session().post('%s/oauth2/v2.0/token' % tenant.authority(0), data={
        'grant_type': 'client_credentials', 'client_id': stored['client_id'], 'client_secret': stored['client_secret'],
        'scope': 'https://outlook.office365.com/.default'}, timeout=30).json()
    assert 'access_token' in token, token

    second = run_playbook(tmp_path, play(provision_tasks(dest)), 'rerun', extra_vars=auth)
    assert second.rc == 0 and second.changed == 0, second
    check = run_playbook(tmp_path, play(provision_tasks(dest)), 'check', extra_vars=auth, check=True, diff=True)
    assert check.rc == 0 and check.changed == 0, check
    assert len(app_state(tenant)[1]) == 1

    absent = [{'name': 'remove', 'm365.mail_oauth.azure_app_registration': {'unique_name': APP, 'state': 'absent'}}]
    checked = run_playbook(tmp_path, play(absent), 'absent-check', extra_vars=auth, check=True)
    assert checked.rc == 0 and checked.changed == 1, checked
    assert len(app_state(tenant)[1]) == 1
    gone = run_playbook(tmp_path, play(absent), 'absent', extra_vars=auth)
    assert gone.rc == 0 and gone.changed == 1, gone
    state, apps = app_state(tenant)
    assert apps == []
    assert not [sp for sp in state['servicePrincipals'] if sp.get('appId') == app['app_id']]
    again = run_playbook(tmp_path, play(absent), 'absent-again', extra_vars=auth)
    assert again.rc == 0 and again.changed == 0, again


def test_check_mode_on_empty_tenant_changes_nothing(tenant, auth, tmp_path):
    dest = tmp_path / 'secret.json'
    before = tenant.state(tenant.tenant(0)['tenant_id'])
    run = run_playbook(tmp_path, play(provision_tasks(dest)[:2]), 'check-empty', extra_vars=auth, check=True, diff=True)
    assert run.rc == 0 and run.changed == 2, run
    assert tenant.state(tenant.tenant(0)['tenant_id']) == before
    assert not dest.exists()
    assert '"unique_name": "%s"' % APP in run.stdout or "unique_name" in run.stdout


def test_no_duplicate_when_display_name_taken(tenant, auth, tmp_path):
    tenant.seed_application({'displayName': 'Mail OAuth e2e'})
    tasks = provision_tasks(tmp_path / 's.json')[:1]
    runs = [run_playbook(tmp_path, play(tasks), name, extra_vars=auth) for name in ('dup1', 'dup2')]
    assert [r.rc for r in runs] == [0, 0], runs
    assert runs[0].results()['register']['localhost']['same_display_name_count'] == 1
    assert '1 other application(s) are named Mail OAuth e2e' in runs[0].output
    assert runs[1].changed == 0
    state, apps = app_state(tenant)
    assert len(apps) == 1
    assert len([a for a in state['applications'] if a['displayName'] == 'Mail OAuth e2e']) == 2


def test_drift_is_repaired(tenant, auth, tmp_path):
    dest = tmp_path / 'secret.json'
    assert run_playbook(tmp_path, play(provision_tasks(dest)), 'create', extra_vars=auth).rc == 0
    # An admin adds User.Read back by hand and changes the display name.
    app = app_state(tenant)[1][0]
    tenant.drift({'action': 'patch_application', 'id': app['id'], 'set': {
        'displayName': 'renamed by hand',
        'requiredResourceAccess': app['requiredResourceAccess'] + [{
            'resourceAppId': '00000003-0000-0000-c000-000000000000',
            'resourceAccess': [{'id': 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', 'type': 'Scope'}]}]}})
    audit = run_playbook(tmp_path, play(provision_tasks(dest)), 'audit', extra_vars=auth, check=True, diff=True)
    assert audit.rc == 0 and audit.changed == 2, audit
    assert 'User.Read' in audit.stdout and 'renamed by hand' in audit.stdout
    fix = run_playbook(tmp_path, play(provision_tasks(dest)), 'fix', extra_vars=auth)
    assert fix.rc == 0 and fix.changed == 2, fix
    again = run_playbook(tmp_path, play(provision_tasks(dest)), 'again', extra_vars=auth)
    assert again.changed == 0, again
