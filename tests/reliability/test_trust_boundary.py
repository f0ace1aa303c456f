"""Trust boundary, transport, vault and directory input: each case is a real ansible-playbook run against the sandbox
that must be refused (nothing sent, nothing created) or warn, recorded as kind=trust for the soak summary.

The runs unset M365_ALLOW_CUSTOM_ENDPOINTS where the case is about it, as on a controller whose credential or
execution environment does not allow the sandbox's endpoints; a launch-time extra var cannot set it.
"""

import os
import subprocess
import sys

import pytest

from exchange_play import exchange_play, exchange_stats, inventory as exchange_inventory, mail_app
from playbook import ALLOW_ENDPOINTS_ENV, BIN, play, run_playbook, sandbox_auth

from m365_reliability import ledger
from m365_reliability.harness import Case, slug

NO_SWITCH = {ALLOW_ENDPOINTS_ENV: ''}


def _record(name, problems):
    ledger.record('trust', name, held=not problems, problems=problems)
    assert not problems, problems


def _graph_run(rel, tmp_path, name, auth_changes, env):
    """An app registration task with the sandbox credentials plus launch-time overrides (extra vars)."""
    auth = dict((k, v) for k, v in dict(sandbox_auth(rel.sandbox), **auth_changes).items() if v is not None)
    args = dict((k, '{{ m365_auth.%s }}' % k) for k in auth)
    args.update(unique_name='trust-' + name, display_name='Trust')
    rel.sandbox.reset_stats()
    return run_playbook(tmp_path, play([{'name': 'app', 'm365.mail_oauth.azure_app_registration': args}], auth=False),
                        'trust-' + name, extra_vars={'m365_auth': auth}, env=env)


def _refused(run, stats, words):
    problems = []
    if run.rc == 0:
        problems.append('not refused')
    for word in words:
        if word not in run.output:
            problems.append('output lacks %r' % word)
    if 'Traceback' in run.output:
        problems.append('traceback')
    if stats['token_total'] or stats['graph_total']:
        problems.append('the sandbox was reached: %d token, %d Graph requests' % (stats['token_total'], stats['graph_total']))
    return problems


def _http(url):
    return 'http://' + url.split('://', 1)[1]


ENDPOINT_CASES = [
    ('launch-time authority_url to a foreign host', lambda s: {'authority_url': s.authority_url}, NO_SWITCH,
     ['authority_url', ALLOW_ENDPOINTS_ENV]),
    ('launch-time graph_url to a foreign host', lambda s: {'graph_url': s.graph_url, 'authority_url': None}, NO_SWITCH,
     ['graph_url', ALLOW_ENDPOINTS_ENV]),
    ('launch-time validate_certs=false', lambda s: {'validate_certs': False, 'authority_url': None, 'graph_url': None}, NO_SWITCH,
     ['validate_certs=false is refused']),
    ('plain http authority_url', lambda s: {'authority_url': _http(s.authority_url), 'graph_url': None},
     {ALLOW_ENDPOINTS_ENV: 'graph.microsoft.com'}, ['plain http']),
    ('plain http graph_url', lambda s: {'graph_url': _http(s.graph_url), 'authority_url': None},
     {ALLOW_ENDPOINTS_ENV: 'login.microsoftonline.com'}, ['plain http']),
    ('allowed host list names another host', lambda s: {}, {ALLOW_ENDPOINTS_ENV: 'proxy.example.com:443'},
     ['not an endpoint of a known']),
]


@pytest.mark.parametrize('label,changes,env,words', ENDPOINT_CASES, ids=[c[0] for c in ENDPOINT_CASES])
def test_credentials_go_only_to_allowed_endpoints(rel, tmp_path, label, changes, env, words):
    auth_changes = dict((k, v) for k, v in changes(rel.sandbox).items())
    run = _graph_run(rel, tmp_path, slug(label)[:30], auth_changes, env)
    _record(label, _refused(run, rel.sandbox.stats(), words))


def _exchange_run(rel, tmp_path, name, task_args, transport='basic', extra_vars=None):
    app = mail_app(rel.sandbox, 'trust-' + name)
    inventory = exchange_inventory(tmp_path, rel.sandbox, transport=transport)
    task = {'name': 'sp', 'm365.mail_oauth.exchange_service_principal': dict(app_id=app['app_id'], **task_args)}
    before = exchange_stats(rel.sandbox)['winrm'].get('bootstraps', 0)
    run = run_playbook(tmp_path, exchange_play([task]), 'trust-' + name, inventory=inventory,
                       extra_vars=dict({'m365_auth': sandbox_auth(rel.sandbox)}, **(extra_vars or {})))
    return run, exchange_stats(rel.sandbox)['winrm'].get('bootstraps', 0) - before


def test_basic_over_http_is_refused(rel, tmp_path):
    run, bootstraps = _exchange_run(rel, tmp_path, 'basic-http', {})
    problems = [] if run.rc != 0 else ['not refused']
    problems += [] if 'Basic authentication over plain http' in run.output and 'allow_insecure_transport' in run.output else [
        'message does not name the fix']
    problems += ['%d commands reached the host' % bootstraps] if bootstraps else []
    _record('WinRM Basic over plain http', problems)


def test_basic_over_http_acknowledged_warns(rel, tmp_path):
    run, bootstraps = _exchange_run(rel, tmp_path, 'basic-http-ack', {'allow_insecure_transport': True})
    problems = [] if run.rc == 0 else ['failed: %s' % run.stdout[-500:]]
    problems += [] if 'unencrypted' in run.output else ['no warning']
    _record('WinRM Basic over plain http, acknowledged', problems)


def _vault_case(rel, tmp_path, name, password_file_body, executable):
    case = Case(rel, tmp_path, name)
    path = tmp_path / 'vault-pass'
    path.write_text(password_file_body)
    path.chmod(0o700 if executable else 0o600)
    run = case.run('run', inventory=case.write_inventory('vault', mailbox_access_handover_vault_password_file=str(path)))
    return case, path, run


def test_vault_password_script_is_run(rel, tmp_path):
    case, path, run = _vault_case(rel, tmp_path, 'trust vault script', '#!%s\nprint("from-a-script")\n' % sys.executable, True)
    problems = [] if run.rc == 0 else ['provision failed']
    view = subprocess.run([os.path.join(BIN, 'ansible-vault'), 'view', '--vault-password-file', str(path), str(case.handover)],
                          capture_output=True, text=True, check=False)
    problems += [] if view.returncode == 0 and 'client_secret' in view.stdout else ['ansible-vault view cannot decrypt: %s' % view.stderr[-300:]]
    _record('vault password file is a script', problems)


@pytest.mark.parametrize('body', ['', '  \n\t\n'], ids=['empty', 'whitespace'])
def test_blank_vault_password_is_refused(rel, tmp_path, body):
    case, _path, run = _vault_case(rel, tmp_path, 'trust vault blank %d' % len(body), body, False)
    problems = [] if run.rc != 0 else ['not refused']
    problems += [] if 'empty or whitespace-only' in run.output else ['message lacks the reason']
    problems += ['handover written'] if case.handover.exists() else []
    problems += ['an application was created'] if case.check()['apps'] else []
    _record('vault password %s' % ('empty' if not body else 'whitespace only'), problems)


ROLE_INPUTS = [
    ('display name with U+202E', {'mailbox_access_app_display_name': 'Mail \u202eexe.gpj'}, ['U+202E']),
    ('display name over the limit', {'mailbox_access_app_display_name': 'x' * 300}, ['256']),
    ('mailbox *', {'mailbox_access_mailboxes': ['*']}, ['wildcard']),
    ('mailbox user*', {'mailbox_access_mailboxes': ['user*']}, ['wildcard']),
    ('mailbox empty', {'mailbox_access_mailboxes': ['']}, ['empty']),
    ('mailbox malformed', {'mailbox_access_mailboxes': ['a@@b']}, ['not a valid e-mail']),
]


@pytest.mark.parametrize('label,overrides,words', ROLE_INPUTS, ids=[c[0] for c in ROLE_INPUTS])
def test_directory_input_refused_before_the_first_write(rel, tmp_path, label, overrides, words):
    case = Case(rel, tmp_path, 'trust ' + label, **overrides)
    rel.sandbox.reset_stats()
    run = case.run('run')
    problems = [] if run.rc != 0 else ['not refused']
    problems += ['output lacks %r' % w for w in words if w not in run.output]
    problems += ['an application was created'] if case.check()['apps'] else []
    problems += ['Graph was called'] if rel.sandbox.stats()['graph_total'] else []
    _record(label, problems)
