"""mail_oauth_check through real ansible-playbook, logging in to real Dovecot and Postfix with sandbox tokens.

The mail application is created in the sandbox with the collection's own modules, so its tokens carry the roles
that admin consent really granted; special tokens (wrong audience, expired) come from the sandbox's mint API.
A missing Dovecot or Postfix fails these tests (tests/mailservers/install.sh installs them).
"""

import json
import os
import sys

import pytest

from playbook import REPO, play, run_playbook

sys.path.insert(0, os.path.join(REPO, 'tests', 'mailservers'))
from mailserver_harness import MailServers  # noqa: E402  pylint: disable=wrong-import-position

APP = 'mail-check-e2e'
EXCHANGE = 'https://outlook.office365.com'
ROLES = ('IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp')


@pytest.fixture(scope='module')
def servers(sandbox_server):
    with MailServers(sandbox_server.info['signing_kid'], sandbox_server.info['signing_public_key_path']) as running:
        yield running


@pytest.fixture(scope='module')
def mail_app(sandbox_server, servers, tmp_path_factory):
    """The mail application, created once through the collection's modules, with consent for the three roles."""
    sandbox_server.reset()
    workdir = tmp_path_factory.mktemp('mail-app')
    dest = workdir / 'secret.json'
    tasks = [
        {'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': APP, 'display_name': 'Mail check e2e'}},
        {'name': 'secret', 'm365.mail_oauth.app_secret': {'unique_name': APP, 'display_name': 'mail-client', 'dest': str(dest)}},
        {'name': 'permissions', 'm365.mail_oauth.api_permission': {
            'unique_name': APP, 'application_permissions': list(ROLES), 'admin_consent': True}},
    ]
    from playbook import sandbox_auth  # pylint: disable=import-outside-toplevel
    run = run_playbook(workdir, play(tasks), 'mail-app', extra_vars={'m365_auth': sandbox_auth(sandbox_server)})
    assert run.rc == 0, run
    stored = json.loads(dest.read_text())
    mailboxes = sandbox_server.tenant(0)['mailboxes']
    servers.trust_client(stored['client_id'])
    servers.allow(mailboxes[:2])
    yield {'client_id': stored['client_id'], 'client_secret': stored['client_secret'], 'tenant_id': stored['tenant_id'],
           'mailboxes': mailboxes}
    sandbox_server.reset()


def check(tmp_path, name, sandbox_server, servers, app, check_mode=False, verbosity=0, **options):
    """One mail_oauth_check task (registered as `result`, ignore_errors so the result is always recorded)."""
    args = {
        'tenant_id': app['tenant_id'], 'client_id': app['client_id'], 'client_secret': '{{ mail_secret }}',
        'authority_url': sandbox_server.authority_url, 'ca_path': sandbox_server.ca_path, 'mailboxes': [app['mailboxes'][0]],
        'protocols': ['imap', 'pop', 'smtp'], 'wait_timeout': 0,
    }
    args.update(servers.endpoints)
    args.update(options)
    args = dict((k, v) for k, v in args.items() if v is not None)
    tasks = [{'name': 'check', 'm365.mail_oauth.mail_oauth_check': args, 'register': 'result', 'ignore_errors': True}]
    run = run_playbook(tmp_path, play(tasks, auth=False), name, extra_vars={'mail_secret': app['client_secret']},
                       check=check_mode, verbosity=verbosity)
    assert run.rc == 0, run
    result = run.results()['check']['localhost']
    assert result.get('changed') is False, run
    return run, result


def assert_no_secrets(run, app, extra=()):
    text = run.output
    with open(run.results_path) as handle:
        text += handle.read()
    for value in (app['client_secret'],) + tuple(extra):
        assert value not in text
    # A JWT starts with eyJ (base64 of '{"'), an XOAUTH2 string with dXNlcj (base64 of 'user').
    assert 'eyJ' not in text and 'dXNlcj' not in text


def causes(result):
    return dict(((c['mailbox'], c['protocol']), c['cause']) for c in result['checks'])


def test_good_token_logs_in_on_all_three_protocols_even_in_check_mode(tmp_path, sandbox_server, servers, mail_app):
    run, result = check(tmp_path, 'mail-good', sandbox_server, servers, mail_app, check_mode=True, verbosity=4)
    assert not result['failed'] and result['ok'], run
    assert [(c['protocol'], c['ok'], c['cause']) for c in result['checks']] == [
        ('imap', True, 'ok'), ('pop', True, 'ok'), ('smtp', True, 'ok')]
    assert result['token']['aud'] == EXCHANGE and result['token']['audience_ok']
    assert sorted(result['token']['roles']) == sorted(ROLES)
    assert result['token']['app_id'] == mail_app['client_id'] and result['token']['signature_checked'] is False
    assert result['token']['expires_in'] > 3000 and not result['token']['problems']
    assert 'SELECT INBOX' in result['checks'][0]['answer'] and '235' in result['checks'][2]['answer']
    assert_no_secrets(run, mail_app)


def test_token_without_roles_names_missing_consent(tmp_path, sandbox_server, servers, mail_app):
    tenant_id = mail_app['tenant_id']
    for role in ROLES:
        sandbox_server.drift({'action': 'remove_app_role_assignment', 'appId': mail_app['client_id'], 'resource': EXCHANGE, 'role': role})
    try:
        # wait_timeout > 0: the module retries with a fresh token each round, then gives up with the cause.
        run, result = check(tmp_path, 'mail-noroles', sandbox_server, servers, mail_app, wait_timeout=8)
    finally:
        for role in ROLES:
            sandbox_server.drift({'action': 'add_app_role_assignment', 'appId': mail_app['client_id'], 'resource': EXCHANGE, 'role': role})
    assert tenant_id
    assert result['failed'] and not result['ok'], run
    assert set(causes(result).values()) == {'consent_missing'}
    assert result['token']['has_roles_claim'] is False and result['token']['problems'] == ['consent_missing']
    assert all(c['attempts'] >= 2 for c in result['checks']), result['checks']
    assert 'admin consent' in result['checks'][0]['diagnosis'] and 'consent_missing' in result['msg']
    assert 'AUTHENTICATIONFAILED' in result['checks'][0]['answer']
    assert_no_secrets(run, mail_app)


def test_token_for_wrong_audience(tmp_path, sandbox_server, servers, mail_app):
    token = sandbox_server.mint_token(appId=mail_app['client_id'], resource='https://graph.microsoft.com', roles=list(ROLES))
    run, result = check(tmp_path, 'mail-audience', sandbox_server, servers, mail_app, client_secret=None, access_token=token,
                        wait_timeout=30, verbosity=4)
    assert result['failed'], run
    assert set(causes(result).values()) == {'wrong_audience'}
    # A supplied token cannot be renewed, so waiting is pointless: one attempt despite wait_timeout.
    assert all(c['attempts'] == 1 for c in result['checks'])
    assert "'https://graph.microsoft.com'" in result['checks'][0]['diagnosis']
    assert_no_secrets(run, mail_app, extra=(token,))


def test_expired_token(tmp_path, sandbox_server, servers, mail_app):
    token = sandbox_server.mint_token(appId=mail_app['client_id'], resource=EXCHANGE, iat_offset=-7200)
    run, result = check(tmp_path, 'mail-expired', sandbox_server, servers, mail_app, client_secret=None, access_token=token,
                        protocols=['imap', 'smtp'])
    assert result['failed'], run
    assert set(causes(result).values()) == {'token_expired'}
    assert result['token']['expired'] and result['token']['expires_in'] < 0
    assert 'expired at' in result['checks'][0]['diagnosis'] and 'token_expired' in result['msg']
    assert_no_secrets(run, mail_app, extra=(token,))


def test_mailbox_without_fullaccess(tmp_path, sandbox_server, servers, mail_app):
    allowed, denied = mail_app['mailboxes'][0], mail_app['mailboxes'][3]
    run, result = check(tmp_path, 'mail-fullaccess', sandbox_server, servers, mail_app, mailboxes=[allowed, denied],
                        protocols=['imap', 'pop'], fail_on_error=False)
    # Report only: the task succeeds and says what is wrong.
    assert not result['failed'] and result['ok'] is False and result['failed_checks'] == 2, run
    assert causes(result) == {(allowed, 'imap'): 'ok', (allowed, 'pop'): 'ok',
                              (denied, 'imap'): 'access_denied', (denied, 'pop'): 'access_denied'}
    diagnosis = [c['diagnosis'] for c in result['checks'] if not c['ok']][0]
    assert 'FullAccess on %s' % denied in diagnosis and 'New-ServicePrincipal' in diagnosis
    assert result['token']['service_principal_id'] in diagnosis


def test_smtp_auth_disabled_answers_535(tmp_path, sandbox_server, servers, mail_app):
    run, result = check(tmp_path, 'mail-smtpoff', sandbox_server, servers, mail_app, protocols=['smtp'],
                        smtp_port=servers.smtp_disabled_port, wait_timeout=30)
    assert result['failed'], run
    entry = result['checks'][0]
    assert entry['cause'] == 'smtp_auth_disabled' and entry['answer'].startswith('535 5.7.139'), entry
    assert entry['attempts'] == 1 and 'SmtpClientAuthenticationDisabled' in entry['diagnosis']


def test_server_ready_only_after_a_delay(tmp_path, sandbox_server, servers, mail_app):
    late = servers.start_later(6, mailboxes=mail_app['mailboxes'][:1], clients=[mail_app['client_id']])
    run, result = check(tmp_path, 'mail-late', sandbox_server, servers, mail_app, protocols=['imap', 'pop'],
                        imap_port=late.imap_port, pop_port=late.pop_port, wait_timeout=60)
    assert not result['failed'] and result['ok'], run
    for entry in result['checks']:
        # The first tries met a closed port; the later ones the server that came up meanwhile.
        assert entry['ok'] and entry['attempts'] > 1 and entry['seconds'] > 1, entry


def test_bad_input_fails_before_any_login(tmp_path, sandbox_server, servers, mail_app):
    run, result = check(tmp_path, 'mail-badinput', sandbox_server, servers, mail_app, mailboxes=['two words@x'], wait_timeout=-1)
    assert result['failed'] and 'wait_timeout must be 0 or more' in result['msg'], run
