"""ansible-playbook, the real winrm connection plugin, the transport and the emulated host together."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
TENANT = 'tenant1.onmicrosoft.com'
SP_APP = '11111111-2222-4333-8444-555555555555'
SP_OBJECT = '66666666-7777-4888-8999-000000000000'


def _run(tmp_path, collections_dir, port, token, operations, transport='ntlm', password='Passw0rd!', verbosity='-v', calls=None):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text(textwrap.dedent('''\
        [windows]
        emulated ansible_host=127.0.0.1
        [windows:vars]
        ansible_connection=winrm
        ansible_port=%d
        ansible_winrm_scheme=http
        ansible_winrm_transport=%s
        ansible_user=ansible
        ansible_password=%s
        ''' % (port, transport, password)))
    task_args = {'connection': {'organization': TENANT, 'access_token': token}}
    if calls is not None:
        task_args['calls'] = calls
    else:
        task_args['operations'] = operations
    (tmp_path / 'args.json').write_text(json.dumps(task_args))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(textwrap.dedent('''\
        - hosts: windows
          gather_facts: false
          vars:
            probe_args: "{{ lookup('file', 'args.json') | from_json }}"
          tasks:
            - name: Run Exchange operations on the emulated host
              exchange_probe: "{{ probe_args }}"
              register: probe
            - name: Save the answer
              copy:
                content: "{{ probe | to_json }}"
                dest: "%s"
              delegate_to: localhost
        ''' % (tmp_path / 'answer.json')))
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_dir,
        'ANSIBLE_ACTION_PLUGINS': os.path.join(HERE, 'fixtures', 'action_plugins'),
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
    })
    proc = subprocess.run([ANSIBLE_PLAYBOOK, verbosity, '-i', str(inventory), str(playbook)], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    answer_path = tmp_path / 'answer.json'
    answer = json.loads(answer_path.read_text()) if answer_path.exists() else None
    return proc, answer


@pytest.mark.parametrize('transport', ['ntlm', 'basic'])
def test_playbook_runs_operations_over_winrm(tmp_path, collections_dir, winrm_host, transport):
    sandbox = winrm_host.sandbox
    tenant = sandbox.directory.tenant(TENANT)
    token = sandbox.issue_token(tenant)
    mailboxes = ['user%d@%s' % (n, TENANT) for n in range(1, 6)]
    calls = [
        [{'op': 'new_service_principal', 'params': {'AppId': SP_APP, 'ObjectId': SP_OBJECT, 'DisplayName': "O'Brien; Remove-Mailbox -Confirm:$false"}},
         {'op': 'add_mailbox_permission', 'for_each': mailboxes,
          'params': {'User': SP_OBJECT, 'AccessRights': ['FullAccess'], 'InheritanceType': 'All', 'AutoMapping': False}}],
        [{'op': 'get_mailbox_permission', 'for_each': mailboxes + ['ghost@' + TENANT], 'params': {'User': SP_OBJECT}}],
    ]
    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, token, None, transport=transport, verbosity='-vvvvv', calls=calls)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert answer['round_trips'] == 2
    write, read = answer['answers']
    assert not write['failed'] and not write['stopped']
    assert [r['ok'] for r in write['results']] == [True] * 6
    assert write['results'][0]['output'][0]['DisplayName'] == "O'Brien; Remove-Mailbox -Confirm:$false"
    by_key = dict((r['key'], r) for r in read['results'])
    assert all(by_key[m]['output'][0]['AccessRights'] == ['FullAccess'] for m in mailboxes)
    assert "couldn't be found" in by_key['ghost@' + TENANT]['error']['message']

    stats = winrm_host.exchange.counters.as_dict()
    assert stats['round_trips'] == 2 and stats['connections'] == 2 and stats['disconnections'] == 2
    assert stats['cmdlets'] == {'New-ServicePrincipal': 1, 'Add-MailboxPermission': 5, 'Get-MailboxPermission': 6}
    wire = winrm_host.counters.as_dict()
    assert wire['bootstraps'] == 2 and wire.get('unrecognised', 0) == 0
    # The token travels on stdin only: never in -vvvvv output.
    assert token not in proc.stdout and token not in proc.stderr
    assert 'EncodedCommand' in proc.stdout


def test_playbook_reports_bad_token_as_failed_task(tmp_path, collections_dir, winrm_host):
    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, 'not-a-token', [{'op': 'get_transport_config'}])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert answer['answers'][0]['failed'] is True
    assert 'UnAuthorized' in answer['answers'][0]['msg']
    assert winrm_host.exchange.counters.as_dict()['connections'] == 0


def test_playbook_wrong_winrm_password_is_unreachable(tmp_path, collections_dir, winrm_host):
    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, 'x', [{'op': 'get_transport_config'}], password='wrong')
    assert proc.returncode != 0
    assert answer is None
    assert 'UNREACHABLE' in proc.stdout
    assert 'credentials were rejected' in proc.stdout


def test_playbook_no_host_listening_is_unreachable(tmp_path, collections_dir, winrm_host):
    winrm_host()  # stop it: nothing listens on the port any more
    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, 'x', [{'op': 'get_transport_config'}], transport='basic')
    assert proc.returncode != 0 and answer is None
    assert 'UNREACHABLE' in proc.stdout


def test_playbook_bad_operation_fails_before_connecting(tmp_path, collections_dir, winrm_host):
    token = winrm_host.sandbox.issue_token(winrm_host.sandbox.directory.tenant(TENANT))
    operations = [{'op': 'add_mailbox_permission', 'for_each': ['user1@' + TENANT], 'params': {'User': SP_OBJECT, 'AccessRights': ['Everything']}}]
    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, token, operations)
    assert 'Everything' in proc.stdout and 'FullAccess' in proc.stdout
    assert winrm_host.counters.as_dict().get('bootstraps', 0) == 0
    assert answer is None


def test_dropped_connection_mid_write_then_rerun_converges(tmp_path, collections_dir, winrm_host):
    token = winrm_host.sandbox.issue_token(winrm_host.sandbox.directory.tenant(TENANT))
    mailboxes = ['user%d@%s' % (n, TENANT) for n in range(1, 6)]
    operations = [{'op': 'add_mailbox_permission', 'for_each': mailboxes, 'params': {'User': mailboxes[0], 'AccessRights': ['FullAccess']}}]
    winrm_host.exchange.faults.configure(drop_after_writes=2, drop_mode='winrm')
    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, token, operations)
    assert answer is None and 'UNREACHABLE' in proc.stdout
    assert 'broke while PowerShell was running' in proc.stdout and 'run again to converge' in proc.stdout
    org = winrm_host.exchange.org(TENANT)
    granted = [m for m in mailboxes if any(p['User'] == mailboxes[0] and p['AccessRights'] == ['FullAccess']
                                           for p in org.snapshot()['mailboxes'][m]['permissions'][1:])]
    assert granted == mailboxes[:2]

    proc, answer = _run(tmp_path, collections_dir, winrm_host.port, token, operations)
    assert proc.returncode == 0, proc.stdout[-3000:]
    warnings = [r['warnings'] for r in answer['answers'][0]['results']]
    assert [bool(w) for w in warnings] == [True, True, False, False, False]
