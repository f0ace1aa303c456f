"""A person signs in by device code through ansible-playbook (the test approves the code as that person through the
sandbox, as someone at the browser would), then the Graph modules run as them; a rerun reuses the token cache."""

import os
import re
import subprocess
import sys
import threading
import time

import pytest
import yaml

from exchange_play import WINDOWS, exchange_state, exchange_stats, inventory, mail_app
from playbook import Run, playbook_invocation, run_playbook

PROMPT = re.compile(r'To sign in, use a web browser to open the page (\S+) and enter the code ([A-Z0-9]+) to authenticate')


def _endpoints(tenant):
    return {'authority_url': tenant.authority_url, 'graph_url': tenant.graph_url, 'ca_path': tenant.ca_path}


def sign_in_play(tenant, cache, require_roles=None, more_tasks=(), tenant_index=0):
    endpoints = _endpoints(tenant)
    sign_in = dict(endpoints, tenant_id=tenant.tenant(tenant_index)['tenant_id'], token_cache=str(cache), timeout=60)
    if require_roles:
        sign_in['require_roles'] = require_roles
    defaults = dict(endpoints, tenant_id=tenant.tenant(tenant_index)['tenant_id'], token_cache=str(cache))
    return [{'name': 'person play', 'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/m365.mail_oauth.graph': defaults},
             'tasks': [{'name': 'sign in', 'm365.mail_oauth.sign_in': sign_in, 'register': 'person'}] + list(more_tasks)}]


class Watched(object):
    """ansible-playbook running in the background; its output read as it comes."""

    def __init__(self, tmp_path, plays, name, inventory_path=None, **invocation):
        # invocation: playbook_invocation's extra_vars, check, diff, env.
        args, env, self.results_path, self.log_path = playbook_invocation(tmp_path, plays, name, inventory=inventory_path, **invocation)
        self.name, self.args = name, args
        self.started = time.time()
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines, self.err_lines = [], []
        # One reader per pipe, and nothing else reads them: communicate() beside a reader would take lines from it.
        self.readers = [threading.Thread(target=self._read, args=(pipe, into), daemon=True)
                        for pipe, into in ((self.proc.stdout, self.lines), (self.proc.stderr, self.err_lines))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(pipe, into):
        for line in pipe:
            into.append(line)

    def prompt_code(self, seconds=60):
        """The user code of the prompt, or None when the play ended without one."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            for line in list(self.lines):
                match = PROMPT.search(line)
                if match:
                    return match.group(2)
            if self.proc.poll() is not None:
                return None
            time.sleep(0.1)
        raise AssertionError('no device code prompt within %d s:\n%s' % (seconds, ''.join(self.lines)))

    def wait_for_prompt(self, seconds=60):
        code = self.prompt_code(seconds)
        if code is None:
            raise AssertionError('no device code prompt:\n' + ''.join(self.lines))
        return code

    def finish(self, seconds=120):
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        for reader in self.readers:
            reader.join(10)
        proc = subprocess.CompletedProcess(self.args, self.proc.returncode, ''.join(self.lines), ''.join(self.err_lines))
        return Run(self.name, self.args, proc, time.time() - self.started, self.results_path)


@pytest.fixture
def person_tenant(tenant):
    tenant.config(device_code_interval=1)
    return tenant


def _app(unique_name):
    options = {'unique_name': unique_name, 'display_name': 'made by a person'}
    return {'name': 'create as the person', 'm365.mail_oauth.azure_app_registration': options}


def test_device_code_sign_in_then_graph_as_the_person_and_a_rerun_uses_the_cache(person_tenant, tmp_path):
    tenant = person_tenant
    cache = tmp_path / 'cache' / 'tokens.json'
    plays = sign_in_play(tenant, cache, require_roles=['Global Administrator', 'Application Administrator'],
                         more_tasks=[_app('made-by-person')])
    run = Watched(tmp_path, plays, 'sign-in')
    code = run.wait_for_prompt()
    # The prompt is out while the task still waits for the person.
    assert run.proc.poll() is None
    assert tenant.pending_user_codes() == [code]
    tenant.device_login(tenant.global_admin(), user_code=code)
    result = run.finish()
    assert result.rc == 0, result
    person = result.results()['sign in']['localhost']
    assert person['username'] == tenant.global_admin() and person['signed_in'] is True
    assert person['roles'] == ['Global Administrator'] and 'Application.ReadWrite.All' in person['scopes']
    assert os.stat(str(cache)).st_mode & 0o777 == 0o600
    assert os.stat(str(cache.parent)).st_mode & 0o777 == 0o700
    apps = [a for a in tenant.state(tenant.tenant()['tenant_id'])['applications'] if a.get('uniqueName') == 'made-by-person']
    assert len(apps) == 1
    # Nothing secret in the output: no token, no refresh token.
    with open(str(cache)) as handle:
        stored = yaml.safe_load(handle)
    secrets = [v['secret'] for kind in ('AccessToken', 'RefreshToken') for v in stored[kind].values()]
    assert secrets and not any(s in result.output for s in secrets)
    # Rerun: the cache answers, no prompt, nothing to change.
    again = run_playbook(tmp_path, plays, 'sign-in-again', timeout=120)
    assert again.rc == 0 and again.changed == 0, again
    assert 'enter the code' not in again.output
    assert again.results()['sign in']['localhost']['signed_in'] is False


@pytest.mark.parametrize('outcome', ['declined', 'expired', 'blocked'])
def test_a_declined_expired_or_blocked_sign_in_fails_clearly_and_writes_nothing(person_tenant, tmp_path, outcome):
    tenant = person_tenant
    if outcome == 'expired':
        tenant.config(device_code_lifetime=2, device_code_interval=1)
    if outcome == 'blocked':
        tenant.drift({'action': 'block_device_code'})
    cache = tmp_path / 'tokens.json'
    run = Watched(tmp_path, sign_in_play(tenant, cache, more_tasks=[_app('never-made')]), 'sign-in-' + outcome)
    code = run.wait_for_prompt()
    if outcome != 'expired':
        tenant.device_login(tenant.global_admin(), user_code=code, approve=outcome != 'declined')
    result = run.finish()
    assert result.rc != 0
    failure = result.results()['sign in']['localhost']
    words = {'declined': ['declined', 'nothing was changed'], 'expired': ['not entered in time', 'nothing was changed'],
             'blocked': ['AADSTS53003', 'Conditional Access', 'az account get-access-token', 'client_secret']}[outcome]
    assert all(w in failure['msg'] for w in words), failure['msg']
    assert 'Traceback' not in result.output
    assert not [a for a in tenant.state(tenant.tenant()['tenant_id'])['applications'] if a.get('uniqueName') == 'never-made']


def test_a_person_without_the_role_is_stopped_before_anything_is_created(person_tenant, tmp_path):
    tenant = person_tenant
    helpdesk = 'helpdesk@' + tenant.tenant()['domain']
    tenant.add_person(helpdesk, roles=['Exchange Administrator'])
    run = Watched(tmp_path, sign_in_play(tenant, tmp_path / 'tokens.json', require_roles=['Global Administrator', 'Application Administrator'],
                                         more_tasks=[_app('not-by-helpdesk')]), 'sign-in-no-role')
    tenant.device_login(helpdesk, user_code=run.wait_for_prompt())
    result = run.finish()
    assert result.rc != 0
    msg = result.results()['sign in']['localhost']['msg']
    assert helpdesk in msg and 'Global Administrator, Application Administrator' in msg and 'holds Exchange Administrator' in msg
    assert not [a for a in tenant.state(tenant.tenant()['tenant_id'])['applications'] if a.get('uniqueName') == 'not-by-helpdesk']


def test_a_person_whose_role_graph_refuses_is_told_which_role(person_tenant, tmp_path):
    """Without require_roles, Graph's 403 for a person is explained by the role the person lacks."""
    tenant = person_tenant
    helpdesk = 'helpdesk@' + tenant.tenant()['domain']
    tenant.add_person(helpdesk)
    run = Watched(tmp_path, sign_in_play(tenant, tmp_path / 'tokens.json', more_tasks=[_app('refused')]), 'sign-in-403')
    tenant.device_login(helpdesk, user_code=run.wait_for_prompt())
    result = run.finish()
    assert result.rc != 0
    msg = result.results()['create as the person']['localhost']['msg']
    assert 'Authorization_RequestDenied' in msg and helpdesk in msg
    assert 'one of Application Administrator, Cloud Application Administrator, Global Administrator' in msg


def test_a_supplied_person_token_without_the_scope_is_explained(tenant, tmp_path):
    """A person's token from outside (az account get-access-token) carries scp, not roles: accepted, and a refusal names
    the scope it lacks in the words of the app checks."""
    token = tenant.person_token(tenant.global_admin(), ['User.Read'])
    plays = [{'name': 'token play', 'hosts': 'localhost', 'gather_facts': False,
              'module_defaults': {'group/m365.mail_oauth.graph': dict(_endpoints(tenant), access_token=token)},
              'tasks': [_app('by-token')]}]
    result = run_playbook(tmp_path, plays, 'person-token', timeout=120)
    assert result.rc != 0
    msg = result.results()['create as the person']['localhost']['msg']
    # The first call is the lookup: the read permission is what it lacks.
    assert 'lacks the Graph delegated permission (scope) Application.Read.All' in msg and 'it has User.Read;' in msg
    assert token not in result.output
    good = tenant.person_token(tenant.global_admin(), ['Application.ReadWrite.All'])
    plays[0]['module_defaults']['group/m365.mail_oauth.graph']['access_token'] = good
    assert run_playbook(tmp_path, plays, 'person-token-good', timeout=120).rc == 0


def _exchange_as_person(tenant, tmp_path, person, app, name):
    cache = tmp_path / (name + '.json')
    defaults = dict(_endpoints(tenant), tenant_id=tenant.tenant()['tenant_id'], token_cache=str(cache))
    plays = sign_in_play(tenant, cache, more_tasks=[{'name': 'sp', 'delegate_to': WINDOWS,
                                                     'm365.mail_oauth.exchange_service_principal': {'app_id': app['app_id']}}])
    plays[0]['module_defaults']['group/m365.mail_oauth.exchange'] = defaults
    run = Watched(tmp_path, plays, name, inventory_path=inventory(tmp_path, tenant))
    tenant.device_login(person, user_code=run.wait_for_prompt())
    return run.finish(seconds=180)


def test_exchange_runs_as_the_signed_in_person(person_tenant, tmp_path):
    """Connect-ExchangeOnline -AccessToken <the person's token> -UserPrincipalName <the person> on the Windows host."""
    tenant = person_tenant
    app = mail_app(tenant)
    result = _exchange_as_person(tenant, tmp_path, tenant.global_admin(), app, 'exchange-person')
    assert result.rc == 0, result
    assert result.results()['sp']['localhost']['changed'] is True
    assert app['sp_object_id'] in [sp['ObjectId'] for sp in exchange_state(tenant)['service_principals']]
    params = exchange_stats(tenant)['exchange']['connect_params']
    assert params and all('UserPrincipalName' in p and 'AccessToken' in p and 'Organization' not in p for p in params)


def test_exchange_refuses_a_person_without_an_exchange_role(person_tenant, tmp_path):
    tenant = person_tenant
    apps = 'apps@' + tenant.tenant()['domain']
    tenant.add_person(apps, roles=['Application Administrator'])
    app = mail_app(tenant)
    result = _exchange_as_person(tenant, tmp_path, apps, app, 'exchange-no-role')
    assert result.rc != 0
    msg = result.results()['sp']['localhost']['msg']
    assert apps in msg and 'Exchange Administrator' in msg, msg
    assert app['sp_object_id'] not in [sp['ObjectId'] for sp in exchange_state(tenant)['service_principals']]


def test_two_forks_share_one_sign_in(person_tenant, tmp_path):
    """Two hosts (forks) sign in to the same tenant at once: one prompts, the other waits on the cache lock and then finds
    the tokens; one code, one approval."""
    tenant = person_tenant
    path = tmp_path / 'two.ini'
    path.write_text(''.join('%s ansible_connection=local ansible_python_interpreter=%s\n' % (name, sys.executable)
                            for name in ('first', 'second')))
    plays = sign_in_play(tenant, tmp_path / 'shared.json')
    plays[0]['hosts'] = 'all'
    run = Watched(tmp_path, plays, 'two-forks', inventory_path=path)
    code = run.wait_for_prompt()
    time.sleep(1.5)
    assert tenant.pending_user_codes() == [code]
    tenant.device_login(tenant.global_admin(), user_code=code)
    result = run.finish()
    assert result.rc == 0, result
    assert len(PROMPT.findall(result.output)) == 1
    answers = result.results()['sign in']
    assert sorted(a['signed_in'] for a in answers.values()) == [False, True]
    assert set(a['username'] for a in answers.values()) == {tenant.global_admin()}


def test_one_cache_two_tenants_each_its_own_person(person_tenant, tmp_path):
    """Tenants share a cache file, never a person: the second tenant prompts for its own sign-in, then both rerun silently."""
    tenant = person_tenant
    cache = tmp_path / 'shared.json'
    for index in (0, 1):
        run = Watched(tmp_path, sign_in_play(tenant, cache, tenant_index=index), 'tenant-%d' % index)
        tenant.device_login(tenant.global_admin(index), user_code=run.wait_for_prompt(), tenant_index=index)
        result = run.finish()
        assert result.rc == 0, result
        assert result.results()['sign in']['localhost']['username'] == tenant.global_admin(index)
    for index in (0, 1):
        again = run_playbook(tmp_path, sign_in_play(tenant, cache, tenant_index=index), 'tenant-again-%d' % index, timeout=120)
        assert again.rc == 0 and 'enter the code' not in again.output, again
        answer = again.results()['sign in']['localhost']
        assert (answer['username'], answer['tenant_id']) == (tenant.global_admin(index), tenant.tenant(index)['tenant_id'])
