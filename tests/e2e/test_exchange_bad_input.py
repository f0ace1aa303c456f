"""Bad input to the Exchange actions fails with a clear message, before Exchange is touched; secrets never show at -vvvv."""

import re

from exchange_play import exchange_stats, inventory, mail_app, run_exchange

JWT = re.compile(r'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.')


def test_bad_inputs_fail_before_exchange(tenant, tmp_path):
    app = mail_app(tenant)
    domain = tenant.tenant(0)['domain']
    cases = [
        ('empty list with exclusive', {'mailboxes': [], 'exclusive': True}, ['exclusive', 'empty mailbox list']),
        ('malformed identity', {'mailboxes': ['user1@' + domain, 'bad@@%s' % domain, ' padded@%s' % domain, 'user*']},
         ['malformed mailbox identity', "mailboxes[1] 'bad@@", 'mailboxes[2]', 'spaces', 'wildcard']),
        ('unknown access right', {'mailboxes': ['user1@' + domain], 'access_rights': ['FullAcess']}, ['access_rights', 'FullAcess', 'FullAccess, SendAs']),
        ('both lists', {'mailboxes': ['user1@' + domain], 'mailboxes_file': 'x.txt'}, ['mutually exclusive', 'mailboxes_file']),
        ('unreadable file', {'mailboxes_file': '/nonexistent/boxes.txt'}, ['boxes.txt']),
        ('malformed app id', {'mailboxes': ['user1@' + domain], 'app_id': 'not-a-guid'}, ['app_id', 'GUID']),
    ]
    tasks = []
    for name, options, _words in cases:
        tasks.append({'name': name, 'm365.mail_oauth.mailbox_permission': dict({'app_id': app['app_id']}, **options), 'ignore_errors': True})
    run = run_exchange(tmp_path, tenant, tasks, 'ex-bad-inputs')
    results = run.results()
    for name, _options, words in cases:
        result = results[name]['localhost']
        assert result['failed'], name
        for word in words:
            assert word in result['msg'], (name, word, result['msg'])
        assert 'Traceback' not in result['msg']
    assert 'Traceback' not in run.output
    assert exchange_stats(tenant)['winrm'].get('bootstraps', 0) == 0


def test_no_windows_host_reachable(tenant, tmp_path):
    app = mail_app(tenant)
    # A port nothing listens on: the sandbox's own HTTPS port is taken, so take a closed neighbour of it.
    closed = inventory(tmp_path, tenant, transport='ntlm', port=1)
    task = {'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes': ['user1@' + tenant.tenant(0)['domain']]}}
    run = run_exchange(tmp_path, tenant, [task], 'ex-unreachable', inventory_path=closed)
    assert run.rc != 0
    assert 'UNREACHABLE' in run.stdout and 'Cannot reach' in run.stdout and 'Traceback' not in run.stdout


def test_wrong_winrm_password_is_clear(tenant, tmp_path):
    app = mail_app(tenant)
    wrong = inventory(tmp_path, tenant, password='not-the-password')
    task = {'name': 'sp', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}}
    run = run_exchange(tmp_path, tenant, [task], 'ex-wrong-password', inventory_path=wrong)
    assert run.rc != 0 and 'Authentication to' in run.stdout and 'failed' in run.stdout


def test_token_and_certificate_password_never_in_vvvv_output(tenant, tmp_path):
    app = mail_app(tenant)
    domain = tenant.tenant(0)['domain']
    secret = tenant.tenant(0)['admin']['client_secret']
    # The emulated Windows host holds each seed's admin certificate as C:\certs\tenantN-admin.pfx (sandbox.json: windows_host).
    pfx = tenant.info['windows_host']['certificates'][0]
    pfx_password = pfx['password']
    tasks = [
        {'name': 'token', 'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}},
        {'name': 'perm', 'm365.mail_oauth.mailbox_permission': {'app_id': app['app_id'], 'mailboxes': ['user1@' + domain]}},
        {'name': 'certificate', 'm365.mail_oauth.mailbox_permission': {
            'app_id': app['app_id'], 'mailboxes': ['user1@' + domain], 'exchange_auth': 'certificate_file',
            'exchange_certificate_path': pfx['path'], 'exchange_certificate_password': pfx_password}},
    ]
    # -vvvvv: a superset of -vvvv that also prints what the winrm plugin sends.
    run = run_exchange(tmp_path, tenant, tasks, 'ex-secrets', verbosity=5)
    assert run.rc == 0, run
    assert 'ESTABLISH WINRM CONNECTION' in run.output and 'EncodedCommand' in run.output
    assert not JWT.search(run.output), JWT.search(run.output).group(0)[:40]
    assert secret not in run.output and pfx_password not in run.output
    # What Connect-ExchangeOnline was given (parameter names only, never values).
    params = exchange_stats(tenant)['exchange']['connect_params']
    assert ['AppId', 'CertificateFilePath', 'CertificatePassword', 'CommandName', 'ExchangeEnvironmentName', 'Organization', 'ShowBanner'] in params
