"""The execution environment built for real and run as AWX runs it: ansible-runner, podman, the job's private data dir.

The image is the offline variant of execution-environment.yml (tests/ee/variant.py): a Debian base made by
debootstrap, PowerShell from the packed archive and the sandbox's fake ExchangeOnlineManagement. Jobs run the
repository's playbooks in it with the Exchange host on localhost inside the container, against the sandbox on the
host (the container shares the host's network).
"""

import json
import os
import socket
import sys
import threading

import pytest

import ee
import secret_scan
from awx import load_definition
from exchange_play import exchange_state, exchange_stats, full_access_holders
from playbook import REPO
from test_awx import sandbox_credential
from test_credential_leaks import CERT_PASSWORD, encrypted_admin_certificate

from m365_sandbox.winrm.host_env import SYSTEM_BUNDLES

APP = 'role-mail-app'
# Build and job times of this session, printed at its end (tests/output/ee/timings.json).
TIMINGS = {}


@pytest.fixture(scope='session')
def ee_image():
    ee.need_podman()
    try:
        tag = ee.ee_image(TIMINGS)
    except ee.BuildFailed as error:
        pytest.fail(str(error), pytrace=False)
    TIMINGS['image'] = tag
    TIMINGS['image_size_mb'] = ee.image_size_mb(tag)
    yield tag
    os.makedirs(ee.LOG_DIR, exist_ok=True)
    with open(os.path.join(ee.LOG_DIR, 'timings.json'), 'w') as handle:
        json.dump(TIMINGS, handle, indent=2)


def test_offline_variant_differs_from_the_definition_only_in_where_things_come_from():
    definition = ee.variant.relocate(ee.load_definition())
    offline = ee.offline_definition('localhost/m365-ee-base:bookworm-test')
    assert offline['images'] == {'base_image': {'name': 'localhost/m365-ee-base:bookworm-test'}}
    assert definition['images']['base_image']['name'].startswith('docker.io/')
    # The same collection tarball, plus the archive, its wrapper and the fake module.
    files = offline['additional_build_files']
    assert files[:1] == definition['additional_build_files'] and files[0]['src'].startswith(REPO + '/.build/dist/')
    assert [(os.path.basename(f['src']), f['dest']) for f in files[1:]] == [
        (os.path.basename(ee.POWERSHELL_ARCHIVE), 'powershell'), ('pwsh', 'powershell'), ('ExchangeOnlineManagement', 'modules/ExchangeOnlineManagement')]
    steps, offline_steps = definition['additional_build_steps']['append_final'], offline['additional_build_steps']['append_final']
    powershell = [s for s in steps if 'packages.microsoft.com' in s]
    module = [s for s in steps if 'Install-Module' in s]
    assert len(powershell) == 1 and len(module) == 1
    assert [s for s in offline_steps if s not in steps] == [
        'ADD _build/powershell/%s /opt/microsoft/powershell/7/' % os.path.basename(ee.POWERSHELL_ARCHIVE),
        'COPY _build/powershell/pwsh /usr/bin/pwsh',
        'COPY _build/modules/ExchangeOnlineManagement /usr/local/share/powershell/Modules/ExchangeOnlineManagement']
    assert [s for s in steps if s not in offline_steps] == powershell + module
    # ... in the same place: every other step keeps its order, the check that both are there comes after them.
    assert [s for s in offline_steps if s in steps] == [s for s in steps if s not in powershell + module]
    assert 'Import-Module ExchangeOnlineManagement' in offline_steps[-1]
    # Nothing else differs.
    for key in ('images', 'additional_build_files'):
        definition.pop(key), offline.pop(key)
    definition['additional_build_steps'].pop('append_final'), offline['additional_build_steps'].pop('append_final')
    assert offline == definition


def test_variant_refuses_a_definition_it_does_not_recognise():
    definition = ee.load_definition()
    steps = definition['additional_build_steps']['append_final']
    definition['additional_build_steps']['append_final'] = [step for step in steps if 'Install-Module' not in step]
    with pytest.raises(ValueError, match='Install-Module'):
        ee.variant.offline(definition, 'b', ee.POWERSHELL_ARCHIVE)


def test_a_failing_build_fails_with_the_tools_own_message(tmp_path):
    log = str(tmp_path / 'build.log')
    with pytest.raises(ee.BuildFailed) as raised:
        ee.logged([sys.executable, '-c', 'import sys; print("step 1"); sys.exit("Error: no such image quay.invalid/x")'], log)
    assert 'Error: no such image quay.invalid/x' in str(raised.value) and log in str(raised.value)


def test_a_missing_base_image_fails_the_build_with_podmans_message(ee_image):
    with pytest.raises(ee.BuildFailed) as raised:
        ee.ee_image(base='localhost/m365-no-such-base:none')
    message = str(raised.value)
    assert 'localhost/m365-no-such-base:none' in message and 'Error' in message and 'timeout' not in message, message
    assert os.path.join(REPO, 'tests', 'output', 'ee', 'image-') in message


@pytest.mark.parametrize('ci', ['', 'true'])
def test_without_podman_or_root_the_tests_skip_with_the_hint_or_fail_under_ci(monkeypatch, ci):
    monkeypatch.setattr(ee.shutil, 'which', lambda name: None)
    monkeypatch.setenv('CI', ci)
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception) as raised:
        ee.need_podman()
    assert 'tests/ee/install.sh' in str(raised.value) and 'make test' in str(raised.value)


def exchange_env(sandbox, private_data_dir):
    """The job environment the fake module needs: where the sandbox's Exchange endpoint is and trust in its CA.
    A real EE talks to outlook.office365.com with the system's trust store and needs neither."""
    system = next((path for path in SYSTEM_BUNDLES if os.path.isfile(path)), None)
    bundle = os.path.join(str(private_data_dir), 'env', 'exchange-ca.pem')
    os.makedirs(os.path.dirname(bundle), exist_ok=True)
    with open(bundle, 'wb') as out:
        out.write((open(system, 'rb').read() if system else b'') + b'\n' + open(sandbox.ca_path, 'rb').read())
    return {'SSL_CERT_FILE': ee.container_path(bundle, private_data_dir), 'NO_COLOR': '1',
            'M365_SANDBOX_EXCHANGE_URL': sandbox.base_url, 'M365_SANDBOX_RETRY_SCALE': '0.01'}


def tenant_inventory(sandbox, handover_dir, **overrides):
    """One tenant host, as AWX has it (no credentials: the job's credential provides them), its Exchange steps on
    localhost inside the container; the handover goes to a folder exposed to the jobs, so that the next job finds it."""
    tenant = sandbox.tenant(0)
    host = {'mailbox_access_tenant_id': tenant['tenant_id'], 'mailbox_access_app_unique_name': APP,
            'mailbox_access_app_display_name': 'Role mail app', 'mailbox_access_protocols': ['imap', 'smtp'],
            'mailbox_access_mailboxes': tenant['mailboxes'][:3], 'mailbox_access_exchange_host': 'localhost',
            'mailbox_access_handover_dest': os.path.join(str(handover_dir), 'tenant1.json')}
    host.update(overrides)
    return {'tenants': {'hosts': {'tenant1': host}},
            'all': {'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}}}}


def templates():
    return dict((t['playbook'], t) for t in load_definition('job_templates.yml'))


def job(tmp_path, name, image, template, credential, sandbox, **kwargs):
    pdd = tmp_path / name
    envvars = dict(exchange_env(sandbox, pdd), **kwargs.pop('envvars', {}))
    exposed = tmp_path / 'exposed'
    os.makedirs(exposed, exist_ok=True)
    run = ee.run_job(pdd, image, template['playbook'], kwargs.pop('inventory', None) or tenant_inventory(sandbox, exposed), credential,
                     envvars=envvars, job_type=template['job_type'], diff_mode=template['diff_mode'], exposed=[str(exposed)],
                     ident='%s-%d' % (name, os.getpid()), **kwargs)
    TIMINGS['job_%s_s' % name] = run.seconds
    return run


def secrets_of(sandbox):
    admin = sandbox.tenant(0)['admin']
    return [admin['client_secret']]


def assert_no_secret(run, secrets):
    texts, paths = run.outputs()
    assert any('job_events' in path for path in paths), paths
    found = secret_scan.find(secrets, texts=texts, paths=paths)
    assert not found, found


def test_provision_in_the_ee_then_rerun_changes_nothing(tenant, tmp_path, ee_image):
    credential = sandbox_credential(tenant)
    template = templates()['playbooks/provision.yml']
    tenant.control('POST', 'exchange/stats/reset')
    first = job(tmp_path, 'provision', ee_image, template, credential, tenant)
    assert first.rc == 0 and first.status == 'successful', first
    assert first.stats['changed'].get('tenant1', 0) > 0, first.stats
    # Inside the container: the credential's files are named by their container path.
    assert first.injected.env['M365_CA_PATH'].startswith(str(tmp_path / 'provision' / 'env'))
    assert 'M365_CA_PATH: /runner/env/' in (tmp_path / 'provision' / 'env' / 'envvars').read_text()
    # The same tenant state as the controller run (tests/e2e/test_role_exchange_on_controller.py).
    app = [a for a in tenant.state(tenant.tenant(0)['tenant_id'])['applications'] if a.get('uniqueName') == APP][0]
    state = exchange_state(tenant)
    principals = [sp for sp in state['service_principals'] if sp['AppId'] == app['appId']]
    assert len(principals) == 1, state['service_principals']
    assert full_access_holders(state, principals[0]['ObjectId']) == sorted(tenant.tenant(0)['mailboxes'][:3])
    for upn in tenant.tenant(0)['mailboxes'][:3]:
        assert state['mailboxes'][upn]['cas']['ImapEnabled'] is True and state['mailboxes'][upn]['cas']['PopEnabled'] is False, state['mailboxes'][upn]
    stats = exchange_stats(tenant)
    assert stats['exchange']['connections'] == 3 and stats['winrm'].get('commands', 0) == 0, stats
    handover = json.loads((tmp_path / 'exposed' / 'tenant1.json').read_text())
    assert handover['tenant_id'] == tenant.tenant(0)['tenant_id'] and handover['client_id'] == app['appId']
    assert_no_secret(first, secrets_of(tenant))

    # The rerun as the most talkative job there is: ANSIBLE_DEBUG=1, -vvvv, and every module file kept (in the private
    # data dir, so the scan below reads them too). None of it may show the secret or a token.
    again = job(tmp_path, 'rerun', ee_image, template, credential, tenant, verbosity=4, envvars={
        'ANSIBLE_DEBUG': '1', 'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': '/runner/remote-tmp'})
    assert again.rc == 0 and again.status == 'successful', again
    assert [path for path in again.outputs()[1] if os.path.basename(path).startswith('AnsiballZ_')], 'no module file kept'
    assert 'EXEC /bin/sh -c' in again.stdout and 'done with _execute_module' in again.stdout + again.runner_output, again
    assert again.stats['changed'] == {} or again.stats['changed'].get('tenant1', 0) == 0, again.stats
    assert again.stats['ok'].get('tenant1', 0) > 0, again.stats
    assert_no_secret(again, secrets_of(tenant))


def test_audit_in_the_ee_leaves_the_drift_report_in_the_artifacts(tenant, tmp_path, ee_image):
    # A certificate whose key has a password: both reach the job as the credential's files.
    pem = open(encrypted_admin_certificate(tenant, tmp_path)).read()
    credential = sandbox_credential(tenant, client_secret='', client_certificate=pem, client_certificate_password=CERT_PASSWORD)
    template = templates()['playbooks/audit.yml']
    before = tenant.state(tenant.tenant(0)['tenant_id'])
    # The reports go into the job's artifacts folder (a path AWX would mount into jobs for them).
    audited = job(tmp_path, 'audit', ee_image, template, credential, tenant, survey={'fail_on_drift': False},
                  envvars={'M365_AUDIT_REPORT_DIR': '/runner/artifacts/audit-reports'})
    assert audited.rc == 0 and audited.status == 'successful', audited
    command = json.loads(open(os.path.join(audited.artifacts, 'command')).read())['command']
    assert '--check' in command and '--diff' in command and 'podman' in command[0], command
    report = json.loads((tmp_path / 'audit' / 'artifacts' / 'audit-reports' / 'tenant1.json').read_text())
    # Nothing provisioned yet: the app is missing, which is drift.
    assert report['tenant'] == 'tenant1' and report['drift'] is True and report['findings'], report
    drift_events = [e for e in audited.events() if e.get('event_data', {}).get('task') == 'Drift of this tenant'
                    and e['event'] == 'runner_on_ok']
    assert drift_events and drift_events[0]['event_data']['res']['msg'] == report['findings'], drift_events
    assert tenant.state(tenant.tenant(0)['tenant_id']) == before
    assert audited.injected.env['M365_CLIENT_CERTIFICATE_PASSWORD_FILE'].startswith(str(tmp_path / 'audit' / 'env'))
    assert_no_secret(audited, secrets_of(tenant) + [CERT_PASSWORD, pem.split('-----')[2].strip()[:64]])


class Decoy:
    """A listener standing for the attacker's endpoint: counts every connection it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.sock.close()


REACH = "{{ lookup('ansible.builtin.file', lookup('ansible.builtin.env', 'M365_CLIENT_SECRET_FILE')) }}"


def test_a_survey_answer_cannot_reach_the_admin_credential(tenant, tmp_path, ee_image):
    """A launcher who may only answer the survey: AWX writes the answers to env/extravars tagged !unsafe, so a
    template in them stays text, and the role refuses it as not a boolean before any request."""
    credential = sandbox_credential(tenant)
    tenant.reset_stats()
    run = job(tmp_path, 'survey-attack', ee_image, templates()['playbooks/provision.yml'], credential, tenant,
              survey={'mailbox_access_verify_login': REACH})
    assert run.rc != 0, run
    assert "The value '%s' is not a valid boolean" % REACH in run.stdout, run
    stats = tenant.stats()
    assert stats['token_total'] == 0 and stats['graph_total'] == 0, stats
    assert_no_secret(run, [credential['client_secret']])


def test_launch_time_extra_vars_cannot_send_the_admin_credential_elsewhere(tenant, tmp_path, ee_image):
    """Even free-form extra vars (the job templates do not ask for them) that name another login and Graph endpoint
    are refused before a request: only the credential or the EE can allow a non-Microsoft host."""
    credential = sandbox_credential(tenant)
    decoy = Decoy()
    tenant.reset_stats()
    try:
        evil = 'https://127.0.0.1:%d' % decoy.port
        extra = {'mailbox_access_graph_auth': {'authority_url': evil, 'graph_url': evil}, 'mailbox_access_app_display_name': REACH}
        run = job(tmp_path, 'endpoint-attack', ee_image, templates()['playbooks/provision.yml'], credential, tenant, survey=extra)
    finally:
        decoy.close()
    assert run.rc != 0, run
    assert decoy.connections == 0, 'the admin credential went to the launcher\'s endpoint'
    assert 'M365_ALLOW_CUSTOM_ENDPOINTS' in run.stdout and '127.0.0.1:%d' % decoy.port in run.stdout, run
    stats = tenant.stats()
    assert stats['token_total'] == 0 and stats['graph_total'] == 0, stats
    assert_no_secret(run, [credential['client_secret']])
    assert not [a for a in tenant.state(tenant.tenant(0)['tenant_id'])['applications'] if a.get('uniqueName') == APP]


def test_without_the_module_or_pwsh_the_exchange_task_says_what_is_missing(tenant, tmp_path, ee_image):
    """An image without ExchangeOnlineManagement (an empty folder mounted over it), then one whose pwsh is not where
    the task looks: the first Exchange task fails naming what is missing, after the Graph steps."""
    credential = sandbox_credential(tenant)
    template = templates()['playbooks/provision.yml']
    empty = tmp_path / 'empty'
    empty.mkdir()
    no_module = job(tmp_path, 'no-module', ee_image, template, credential, tenant,
                    volumes=[(str(empty), '/usr/local/share/powershell/Modules/ExchangeOnlineManagement')])
    assert no_module.rc != 0, no_module
    assert 'ExchangeOnlineManagement 3.1.0 or later is not installed on this host' in no_module.stdout, no_module
    assert 'Traceback' not in no_module.stdout
    no_pwsh = job(tmp_path, 'no-pwsh', ee_image, template, credential, tenant,
                  inventory=tenant_inventory(tenant, tmp_path / 'exposed', mailbox_access_exchange_auth={'powershell_interpreter': '/opt/none/pwsh'}))
    assert no_pwsh.rc != 0, no_pwsh
    assert 'PowerShell (/opt/none/pwsh) is not installed on the Exchange host' in no_pwsh.stdout, no_pwsh
    assert 'Traceback' not in no_pwsh.stdout
    for run in (no_module, no_pwsh):
        assert_no_secret(run, [credential['client_secret']])
