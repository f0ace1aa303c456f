"""AWX: the configuration-as-code playbook against awx.awx's own specs, jobs through ansible-runner, the EE build context."""

import json
import os
import stat
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from awx import (AWX_PREFIX, CONFIGURE, action_group, awx_collections_path, collections_path_with_awx, load_definition,
                 module_docs, option_problems, render_injectors, run_job)
from playbook import BIN, REPO, run_playbook
from roles import write_inventory


def configure_plays():
    with open(CONFIGURE) as handle:
        return yaml.safe_load(handle)


def awx_tasks(plays):
    """(module, args) for every awx.awx task of the plays."""
    for play in plays:
        for task in play.get('tasks', []):
            for key, args in task.items():
                if key.startswith('awx.awx.'):
                    yield key, args


def optional(options):
    """The options with nothing required: for module_defaults and definitions, which give only some of them."""
    return dict((name, dict(spec, required=False)) for name, spec in options.items())


@pytest.fixture(scope='module')
def awx_specs():
    plays = configure_plays()
    used = set(module for module, args in awx_tasks(plays))
    return module_docs(used)


def test_configure_playbook_uses_only_awx_awx_options(awx_specs):
    plays = configure_plays()
    problems = []
    seen = set()
    for module, args in awx_tasks(plays):
        seen.add(module.rsplit('.', 1)[1])
        problems += option_problems(module, args, awx_specs[module])
    assert not problems, '\n'.join(problems)
    assert {'credential_type', 'credential', 'project', 'inventory', 'host', 'job_template'} <= seen
    # module_defaults reach a module only through a group it is in, and each default must be an option of each.
    group = set(action_group('controller'))
    for play in plays:
        defaults = play['module_defaults']['group/awx.awx.controller']
        for module in dict(awx_tasks([play])):
            assert module in group, module
            assert not option_problems(module, defaults, optional(awx_specs[module]))


def test_job_template_definitions_are_job_template_options_and_all_reach_the_task(awx_specs):
    options = awx_specs['awx.awx.job_template']
    task = [args for module, args in awx_tasks(configure_plays()) if module == 'awx.awx.job_template']
    assert len(task) == 1
    passed = set(name for name, value in task[0].items() if value == '{{ item.%s }}' % name)
    for template in load_definition('job_templates.yml'):
        problems = option_problems('job_template ' + template['name'], template, optional(options))
        assert not problems, problems
        assert set(template) <= passed, 'defined but not passed on: %s' % (set(template) - passed)
    credential_type = load_definition('credential_type.yml')
    assert not option_problems('credential_type', {'kind': credential_type['kind']}, optional(awx_specs['awx.awx.credential_type']))


def test_configure_playbook_syntax():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path_with_awx())
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '--syntax-check', '-i',
                           os.path.join(REPO, 'playbooks', 'inventory', 'example.yml'), CONFIGURE],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.path.exists(os.path.join(awx_collections_path(), AWX_PREFIX, 'plugins', 'modules', 'job_template.py'))


def certificate_pem(path):
    with open(path) as handle:
        return handle.read()


def test_injectors_render_like_awx(tmp_path):
    credential_type = load_definition('credential_type.yml')
    pem = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'
    with_cert = render_injectors(credential_type, {'tenant_id': 'contoso.onmicrosoft.com', 'client_id': 'c',
                                                   'client_certificate': pem, 'client_secret': ''}, tmp_path / 'a')
    path = with_cert.env['AZURE_CLIENT_CERTIFICATE_PATH']
    assert path == with_cert.files['template.client_certificate'] and open(path).read() == pem
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Inputs left empty come out empty, which the modules take as unset; the cloud falls back to global.
    assert with_cert.env['M365_CLIENT_SECRET_FILE'] == '' and with_cert.env['M365_CA_PATH'] == ''
    assert with_cert.env['M365_CLOUD'] == 'global' and with_cert.extra_vars == {'mailbox_access_cloud': 'global'}
    with_secret = render_injectors(credential_type, {'tenant_id': 't', 'client_id': 'c', 'client_secret': 's3cret',
                                                     'cloud': 'usgovhigh'}, tmp_path / 'b')
    # The secret goes into a private file, not into the job's environment.
    secret_file = with_secret.env['M365_CLIENT_SECRET_FILE']
    assert open(secret_file).read() == 's3cret' and stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert 's3cret' not in with_secret.env.values() and with_secret.env['AZURE_CLIENT_CERTIFICATE_PATH'] == ''
    assert open(with_secret.extra_vars_file).read() == "!unsafe 'mailbox_access_cloud': !unsafe 'usgovhigh'\n"


def endpoint_hosts(sandbox):
    """host:port of the sandbox's login and Graph endpoints, as an AWX admin would allow them in the credential."""
    return ','.join(sorted(set(urlsplit(url).netloc for url in (sandbox.authority_url, sandbox.graph_url))))


def sandbox_credential(sandbox, **overrides):
    """The AWX credential for tenant 0's admin app; the sandbox's endpoints and CA go in the optional inputs."""
    tenant = sandbox.tenant(0)
    credential = {'tenant_id': tenant['tenant_id'], 'client_id': tenant['admin']['client_id'],
                  'client_secret': tenant['admin']['client_secret'], 'cloud': 'global',
                  'authority_url': sandbox.authority_url, 'graph_url': sandbox.graph_url,
                  'ca_bundle': certificate_pem(sandbox.ca_path), 'allowed_endpoint_hosts': endpoint_hosts(sandbox)}
    credential.update(overrides)
    return credential


def test_provision_and_audit_jobs_through_ansible_runner(tenant, tmp_path):
    # As AWX has it: the inventory host carries the tenant and what to do, the credential the admin app.
    inventory = write_inventory(tmp_path / 'inventory.json', tenant, tmp_path, tenants=1, mailbox_access_graph_auth={})
    templates = dict((t['playbook'], t) for t in load_definition('job_templates.yml'))
    provision, audit = templates['playbooks/provision.yml'], templates['playbooks/audit.yml']
    credential = sandbox_credential(tenant)

    def job(name, template, credential, **kwargs):
        return run_job(tmp_path / name, template['playbook'], inventory, credential, job_type=template['job_type'],
                       diff_mode=template['diff_mode'], name='awx-' + name, **kwargs)

    first = job('provision', provision, credential)
    assert first.rc == 0 and first.status == 'successful', first.output[-6000:]
    assert first.stats['changed'].get('tenant1', 0) > 0, first.stats
    assert credential['client_secret'] not in first.output
    handover = json.loads((tmp_path / 'tenant1.json').read_text())
    assert handover['tenant_id'] == tenant.tenant(0)['tenant_id'] and handover['client_secret']
    # The sandbox's CA came in through the credential's file injector, not the environment of the test.
    assert first.injected.env['M365_CA_PATH'].startswith(str(tmp_path / 'provision' / 'env'))

    again = job('rerun', provision, credential)
    assert again.rc == 0 and again.stats['changed'].get('tenant1', 0) == 0, again.output[-6000:]

    # The audit signs in with a certificate: the PEM goes through the credential's file injector.
    admin = tenant.tenant(0)['admin']
    cert_credential = sandbox_credential(tenant, client_secret='', client_certificate=certificate_pem(admin['certificate_path']))
    reports = tmp_path / 'reports'
    tenant.reset_stats()
    before = tenant.state(tenant.tenant(0)['tenant_id'])
    audited = job('audit', audit, cert_credential, env={'M365_AUDIT_REPORT_DIR': str(reports)},
                  extra_vars={'fail_on_drift': True})
    assert audited.rc == 0 and audited.status == 'successful', audited.output[-6000:]
    assert '--check' in audited.config.command and '--diff' in audited.config.command, audited.config.command
    assert audited.injected.env['AZURE_CLIENT_CERTIFICATE_PATH'] and not audited.injected.env['M365_CLIENT_SECRET_FILE']
    report = json.loads((reports / 'tenant1.json').read_text())
    assert report['tenant'] == 'tenant1' and report['drift'] is False, report
    assert tenant.state(tenant.tenant(0)['tenant_id']) == before
    assert tenant.stats()['token_total'] > 0, tenant.stats()


def test_ansible_builder_creates_a_build_context(tmp_path):
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path',
                    os.path.join(REPO, '.build', 'dist')], cwd=REPO, capture_output=True, check=True, timeout=300)
    context = tmp_path / 'context'
    proc = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', 'execution-environment.yml',
                           '-c', str(context), '--output-filename', 'Containerfile'],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / 'Containerfile').read_text()
    assert 'ansible-core==2.19.14' in containerfile and 'ansible-runner==' in containerfile
    # The no-Windows option: pwsh and ExchangeOnlineManagement are in the image, after everything else.
    assert 'apt-get install -y --no-install-recommends powershell' in containerfile
    assert 'packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb' in containerfile
    assert 'Install-Module -Name ExchangeOnlineManagement -RequiredVersion 3.' in containerfile
    assert containerfile.index('Install-Module') > containerfile.index('ansible-galaxy')
    requirements = (context / '_build' / 'requirements.txt').read_text()
    with open(os.path.join(REPO, 'requirements.txt')) as handle:
        wanted = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    for pin in wanted:
        assert pin in requirements, pin
    assert 'krb5' in (context / '_build' / 'bindep.txt').read_text()
    with open(os.path.join(REPO, 'execution-environment.yml')) as handle:
        ee = yaml.safe_load(handle)
    tarball = ee['additional_build_files'][0]['src'].rsplit('/', 1)[1]
    assert (context / '_build' / 'collections' / tarball).is_file()
    assert '/build/collections/' + tarball in (context / '_build' / 'requirements.yml').read_text()


def configure_offline(tmp_path, name, extra_vars, inventory=None, limit='localhost', start_at=None):
    """awx_configure.yml against a controller that is not there: every awx.awx call fails to connect, and its
    result still shows the arguments it would have sent."""
    env = {'ANSIBLE_COLLECTIONS_PATH': collections_path_with_awx()}
    extra_args = ['--limit', limit] + (['--start-at-task', start_at] if start_at else [])
    extra_vars = dict(extra_vars, awx_controller_host='http://127.0.0.1:9')
    run = run_playbook(tmp_path, CONFIGURE, name, inventory=inventory, env=env, extra_args=extra_args, extra_vars=extra_vars)
    assert run.rc != 0, run
    return run


def test_configure_playbook_sends_tenant_variables_but_no_credentials(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({
        'tenants': {'hosts': {'contoso': {
            'mailbox_access_tenant_id': 'contoso.onmicrosoft.com', 'mailbox_access_mailboxes': ['a@contoso.com'],
            'mailbox_access_graph_auth': {'client_id': 'x', 'client_secret': 'GRAPH-SECRET-1'},
            'mailbox_access_exchange_auth': {'exchange_certificate_password': 'EXO-SECRET-2'},
            'mailbox_access_exchange_host': 'exchange-admin-01'}}},
        'windows': {'hosts': {'exchange-admin-01': {
            'ansible_connection': 'winrm', 'ansible_winrm_transport': 'ntlm', 'ansible_user': 'svc',
            'ansible_password': 'WINRM-SECRET-3', 'ansible_winrm_password': 'WINRM-SECRET-4',
            'ansible_winrm_pass': 'WINRM-SECRET-7', 'ansible_psrp_pass': 'PSRP-SECRET-8', 'ansible_become_pass': 'BECOME-SECRET-9'}}}}))
    # The limit skips the first play (localhost): its first failure would end the run before the hosts play.
    run = configure_offline(tmp_path, 'awx-configure-hosts', inventory=inventory, limit='tenants:windows', extra_vars={
        'awx_controller_oauthtoken': 'OAUTH-TOKEN-6', 'm365_admin_tenant_id': 't', 'm365_admin_client_id': 'c',
        'm365_admin_client_secret': 'ADMIN-SECRET-5', 'm365_awx_project_url': 'https://git.invalid/x'})
    hosts = run.results()['Host with its variables']
    sent = dict((host, result['invocation']['module_args']['variables']) for host, result in hosts.items())
    assert sent == {
        'contoso': {'mailbox_access_tenant_id': 'contoso.onmicrosoft.com', 'mailbox_access_mailboxes': ['a@contoso.com'],
                    'mailbox_access_exchange_host': 'exchange-admin-01'},
        'exchange-admin-01': {'ansible_connection': 'winrm', 'ansible_winrm_transport': 'ntlm', 'ansible_user': 'svc'}}, sent
    for secret in ('GRAPH-SECRET-1', 'EXO-SECRET-2', 'WINRM-SECRET-3', 'WINRM-SECRET-4', 'ADMIN-SECRET-5', 'OAUTH-TOKEN-6',
                   'WINRM-SECRET-7', 'PSRP-SECRET-8', 'BECOME-SECRET-9'):
        assert secret not in run.output, secret
    # ... and the run says which it left out, and where they belong.
    message = run.results()['Connection secrets stay out of the AWX inventory']['exchange-admin-01']['msg']
    for name in ('ansible_password', 'ansible_winrm_pass', 'ansible_psrp_pass', 'ansible_become_pass'):
        assert name in message, message
    assert 'machine credential' in message


def test_configure_playbook_job_templates_get_the_definitions(tmp_path):
    run = configure_offline(tmp_path, 'awx-configure-templates', start_at='Job templates',
                            extra_vars={'m365_awx_machine_credential': 'Exchange host'})
    sent = dict((item['item']['name'], item['invocation']['module_args'])
                for item in run.results()['Job templates']['localhost']['results'])
    for template in load_definition('job_templates.yml'):
        args = sent[template['name']]
        assert dict((k, args[k]) for k in template) == template, args
        assert args['credentials'] == ['M365 mail OAuth admin app', 'Exchange host']
        assert (args['project'], args['inventory'], args['execution_environment']) == (
            'M365 mail OAuth', 'M365 tenants', 'M365 mail OAuth EE')


# The repository's build files (galaxy.yml is not in the built collection, so this is no unit test of it).
def test_execution_environment_installs_this_collection_version():
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(REPO, 'execution-environment.yml')) as handle:
        ee = yaml.safe_load(handle)
    tarball = '%s-%s-%s.tar.gz' % (galaxy['namespace'], galaxy['name'], galaxy['version'])
    assert [entry['src'] for entry in ee['additional_build_files']] == ['.build/dist/' + tarball]
    assert [c['name'] for c in ee['dependencies']['galaxy']['collections']] == ['/build/collections/' + tarball]
    with open(os.path.join(REPO, 'meta', 'execution-environment.yml')) as handle:
        collection_ee = yaml.safe_load(handle)
    for entry in collection_ee['dependencies'].values():
        assert os.path.exists(os.path.join(REPO, entry)), entry
