"""The ways in: a ready token, the AZURE_* environment (AWX), TLS settings; and paging."""

from playbook import play, run_playbook, sandbox_auth
from test_entra_modules import provision_tasks

REGISTER = [{'name': 'register', 'm365.mail_oauth.azure_app_registration': {
    'unique_name': 'auth-app', 'display_name': 'Auth app'}, 'register': 'app'}]


def endpoints(sandbox, **extra):
    base = {'authority_url': sandbox.authority_url, 'graph_url': sandbox.graph_url, 'ca_path': sandbox.ca_path}
    base.update(extra)
    return base


def test_ready_access_token(tenant, tmp_path):
    token = tenant.admin_token()
    task = {'name': 'register', 'm365.mail_oauth.azure_app_registration': dict(
        endpoints(tenant), access_token=token, unique_name='auth-app', display_name='Auth app')}
    run = run_playbook(tmp_path, play([task], auth=False), 'token', verbosity=4)
    assert run.rc == 0 and run.changed == 1, run
    assert run.results()['register']['localhost']['tenant_id'] == tenant.tenant(0)['tenant_id']
    assert token not in run.output


def test_environment_credentials_as_awx_injects_them(tenant, tmp_path):
    auth = sandbox_auth(tenant)
    env = {'AZURE_TENANT': auth['tenant_id'], 'AZURE_CLIENT_ID': auth['client_id'], 'AZURE_SECRET': auth['client_secret'],
           'M365_AUTHORITY_URL': auth['authority_url'], 'M365_GRAPH_URL': auth['graph_url'], 'M365_CA_PATH': auth['ca_path']}
    run = run_playbook(tmp_path, play(REGISTER, auth=False), 'env', env=env)
    assert run.rc == 0 and run.changed == 1, run


def test_wrong_ca_fails_clearly_and_validate_certs_false_warns(tenant, tmp_path):
    wrong = dict(sandbox_auth(tenant), ca_path='/etc/ssl/certs/ca-certificates.crt')
    run = run_playbook(tmp_path, play(REGISTER), 'wrong-ca', extra_vars={'m365_auth': wrong})
    assert run.rc != 0, run
    assert 'ca_path' in run.output and 'Traceback' not in run.output, run
    insecure = play([{'name': 'register', 'm365.mail_oauth.azure_app_registration': dict(
        sandbox_auth(tenant), validate_certs=False, ca_path=None, unique_name='auth-app', display_name='Auth app')}], auth=False)
    del insecure[0]['tasks'][0]['m365.mail_oauth.azure_app_registration']['ca_path']
    run = run_playbook(tmp_path, insecure, 'insecure')
    assert run.rc == 0, run
    assert 'validate_certs is false' in run.output


def test_paging_with_one_item_per_page(tenant, auth, tmp_path):
    tenant.config(page_size=1)
    for _index in range(3):
        tenant.seed_application({'displayName': 'Mail OAuth e2e'})
    first = run_playbook(tmp_path, play(provision_tasks(tmp_path / 's.json')), 'paging', extra_vars=auth)
    assert first.rc == 0, first
    assert first.results()['register']['localhost']['same_display_name_count'] == 3
    again = run_playbook(tmp_path, play(provision_tasks(tmp_path / 's.json')), 'paging-again', extra_vars=auth)
    assert again.rc == 0 and again.changed == 0, again


def test_managed_identity_as_app_service_exposes_it(tenant, tmp_path):
    identity = tenant.info['managed_identity']
    env = {'IDENTITY_ENDPOINT': identity['endpoint'], 'IDENTITY_HEADER': identity['header']}
    task = {'name': 'register', 'm365.mail_oauth.azure_app_registration': dict(
        endpoints(tenant), managed_identity=True, unique_name='mi-app', display_name='MI app'), 'register': 'app'}
    run = run_playbook(tmp_path, play([task], auth=False), 'managed-identity', env=env, verbosity=3)
    assert run.rc == 0 and run.changed == 1, run
    assert run.results()['register']['localhost']['tenant_id'] == identity['tenant_id']
    assert tenant.stats()['token'].get('managed_identity', 0) >= 1
    assert identity['header'] not in run.output
