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
