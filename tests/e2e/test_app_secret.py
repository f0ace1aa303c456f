"""Secret values never reach output: -vvvv, diff, check mode, results; they reach dest (0600) and no_log registers only."""

import json
import os
import stat
import subprocess
import sys

from playbook import LOG_DIR, play, run_playbook

APP = 'secret-hygiene'
VAULT_PASSWORD = 'vault-pass-Zq81'


def tasks(tmp_path, rotate_before=10, remove_old=False, lifetime=60):
    return [
        {'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': APP, 'display_name': 'Secret hygiene'}},
        {'name': 'secret to file', 'm365.mail_oauth.app_secret': {
            'unique_name': APP, 'display_name': 'poller', 'expires_in_days': lifetime, 'rotate_before_days': rotate_before,
            'remove_old': remove_old, 'dest': str(tmp_path / 'poller.json')}},
        {'name': 'secret to vault file', 'm365.mail_oauth.app_secret': {
            'unique_name': APP, 'display_name': 'vaulted', 'dest': str(tmp_path / 'vaulted.yml'), 'dest_format': 'value',
            'vault_password': VAULT_PASSWORD, 'vault_id': 'mail'}},
        {'name': 'secret returned', 'm365.mail_oauth.app_secret': {
            'unique_name': APP, 'display_name': 'returned', 'return_secret': True}, 'no_log': True, 'register': 'returned'},
        {'name': 'keep the returned value', 'ansible.builtin.copy': {
            'content': '{{ returned.secret | default("") }}', 'dest': str(tmp_path / 'returned.txt'), 'mode': '0600'},
         'no_log': True, 'when': 'returned.secret_created'},
        {'name': 'show what may be shown', 'ansible.builtin.debug': {'msg': 'secret {{ returned.key_id }} ends {{ returned.end_date_time }}'}},
    ]


def vault_view(path):
    password_file = path.parent / 'vault-pass'
    password_file.write_text(VAULT_PASSWORD)
    vault = os.path.join(os.path.dirname(sys.executable), 'ansible-vault')
    return subprocess.run([vault, 'view', '--vault-password-file', str(password_file), str(path)],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_secret_values_never_in_output(tenant, auth, tmp_path):
    runs = [run_playbook(tmp_path, play(tasks(tmp_path)), 'hygiene-create', extra_vars=auth, verbosity=4, diff=True)]
    assert runs[0].rc == 0, runs[0]
    values = {
        'poller': json.loads((tmp_path / 'poller.json').read_text())['client_secret'],
        'vaulted': vault_view(tmp_path / 'vaulted.yml'),
        'returned': (tmp_path / 'returned.txt').read_text(),
    }
    for name in ('poller.json', 'vaulted.yml', 'returned.txt'):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    assert all(len(v) >= 30 for v in values.values()), values.keys()
    assert (tmp_path / 'vaulted.yml').read_text().startswith('$ANSIBLE_VAULT;1.2;AES256;mail')

    runs.append(run_playbook(tmp_path, play(tasks(tmp_path)), 'hygiene-check', extra_vars=auth, verbosity=4, diff=True, check=True))
    assert runs[-1].rc == 0 and runs[-1].changed == 0, runs[-1]
    # Force a rotation of 'poller' that removes the old one: a new value, written over the file.
    runs.append(run_playbook(tmp_path, play(tasks(tmp_path, rotate_before=61, remove_old=True, lifetime=90)), 'hygiene-rotate',
                             extra_vars=auth, verbosity=4, diff=True))
    assert runs[-1].rc == 0, runs[-1]
    values['rotated'] = json.loads((tmp_path / 'poller.json').read_text())['client_secret']
    assert values['rotated'] != values['poller']
    state = tenant.state(tenant.tenant(0)['tenant_id'])
    app = [a for a in state['applications'] if a.get('uniqueName') == APP][0]
    assert [c['displayName'] for c in app['passwordCredentials']].count('poller') == 1

    values['admin'] = auth['m365_auth']['client_secret']
    values['vault password'] = VAULT_PASSWORD
    leaks = []
    names = set()
    for run in runs:
        stem = [f for f in os.listdir(LOG_DIR) if f.endswith('.results.jsonl') and run.results_path.endswith(f)]
        names.update(stem)
        texts = {'output': run.output}
        if os.path.exists(run.results_path):
            texts['results'] = open(run.results_path).read()
        for where, text in texts.items():
            for name, value in values.items():
                if value in text:
                    leaks.append('%s value in %s of %s' % (name, where, run.name))
    assert not leaks, leaks
    assert 'the output has been hidden' in runs[0].stdout


def secret_task(dest, **options):
    return {'name': 'secret', 'm365.mail_oauth.app_secret': dict(
        {'unique_name': APP, 'display_name': 'poller', 'expires_in_days': 60, 'rotate_before_days': 10, 'dest': str(dest)}, **options)}


def test_handover_file_missing_while_the_secret_is_current(tenant, auth, tmp_path):
    """A second controller (another dest) gets the file or a failure that says how - never ok without a file."""
    register = {'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': APP, 'display_name': 'Secret hygiene'}}
    first = run_playbook(tmp_path, play([register, secret_task(tmp_path / 'first.json')]), 'missing-first', extra_vars=auth)
    assert first.rc == 0, first
    second = run_playbook(tmp_path, play([secret_task(tmp_path / 'second.json')]), 'missing-second', extra_vars=auth)
    assert second.rc != 0 and 'dest_missing=rotate' in second.output and 'Traceback' not in second.output, second
    assert not (tmp_path / 'second.json').exists()
    rotated = run_playbook(tmp_path, play([secret_task(tmp_path / 'second.json', dest_missing='rotate')]), 'missing-rotate',
                           extra_vars=auth)
    assert rotated.rc == 0 and rotated.changed == 1, rotated
    value = json.loads((tmp_path / 'second.json').read_text())
    assert value['key_id'] != json.loads((tmp_path / 'first.json').read_text())['key_id']


def test_untrusted_handover_directory_and_planted_marker(tenant, auth, tmp_path):
    """A directory others can write to is refused; a .pending marker someone else planted is never trusted."""
    register = {'name': 'register', 'm365.mail_oauth.azure_app_registration': {'unique_name': APP, 'display_name': 'Secret hygiene'}}
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(shared, 0o777)
    refused = run_playbook(tmp_path, play([register, secret_task(shared / 'poller.json')]), 'untrusted-dir', extra_vars=auth)
    assert refused.rc != 0 and 'writable by other users' in refused.output and 'Traceback' not in refused.output, refused
    assert not list(shared.iterdir())

    sticky = tmp_path / 'sticky'
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    dest = sticky / 'poller.json'
    assert run_playbook(tmp_path, play([register, secret_task(dest)]), 'sticky-create', extra_vars=auth).rc == 0
    grace = run_playbook(tmp_path, play([secret_task(dest, force_rotate=True, remove_old=True, remove_old_grace_days=7)]),
                         'sticky-rotate', extra_vars=auth)
    assert grace.rc == 0, grace
    state = tenant.state(tenant.tenant(0)['tenant_id'])
    before = sorted(c['keyId'] for c in [a for a in state['applications'] if a.get('uniqueName') == APP][0]['passwordCredentials']
                    if c['displayName'] == 'poller')
    # Another user plants a marker claiming a run was interrupted a minute ago, and makes the file unreadable to us.
    planted = sticky / 'poller.json.pending'
    planted.write_text(json.dumps({'started': '2000-01-01T00:00:00Z', 'display_name': 'poller', 'token': 'x' * 32}))
    os.chown(planted, 4242, 4242)
    dest.write_text('$ANSIBLE_VAULT;1.1;AES256\n00\n')
    rerun = run_playbook(tmp_path, play([secret_task(dest, remove_old=True, remove_old_grace_days=7)]), 'sticky-rerun',
                         extra_vars=auth)
    state = tenant.state(tenant.tenant(0)['tenant_id'])
    after = sorted(c['keyId'] for c in [a for a in state['applications'] if a.get('uniqueName') == APP][0]['passwordCredentials']
                   if c['displayName'] == 'poller')
    assert after == before, (before, after, rerun)
    assert rerun.rc == 0 and 'not trusted' in rerun.output, rerun
