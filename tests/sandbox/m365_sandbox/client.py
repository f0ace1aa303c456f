"""SandboxHandle: run the sandbox as a subprocess and talk to it from tests.

    with SandboxHandle(tmp_dir) as sandbox:
        session = sandbox.session()            # requests, trusts the throwaway CA
        sandbox.set_faults({'throttle': {'every': 3}})

Requests made through `session()` / `control()` trust the sandbox CA even
when REQUESTS_CA_BUNDLE is set (the session has trust_env=False).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import requests

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SandboxError(RuntimeError):
    pass


class SandboxHandle:
    def __init__(self, state_dir=None, tenants=1, mailboxes=5, latency=None, page_size=None, token_lifetime=None,
                 winrm_port=None, extra_args=(), python=None, startup_timeout=30.0):
        self.state_dir = os.path.abspath(state_dir or tempfile.mkdtemp(prefix='m365-sandbox-'))
        self.args = ['--tenants', str(tenants), '--mailboxes', str(mailboxes)]
        if latency:
            self.args += ['--latency', ','.join('%s=%s' % item for item in latency.items())]
        if page_size:
            self.args += ['--page-size', str(page_size)]
        if token_lifetime:
            self.args += ['--token-lifetime', str(token_lifetime)]
        if winrm_port is not None:
            self.args += ['--winrm-port', str(winrm_port)]
        self.args += list(extra_args)
        self.python = python or sys.executable
        self.startup_timeout = startup_timeout
        self.process = None
        self.info = None
        self._session = None

    # Lifecycle ---------------------------------------------------------------

    @property
    def info_path(self):
        return os.path.join(self.state_dir, 'sandbox.json')

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        if os.path.exists(self.info_path):
            os.unlink(self.info_path)
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get('PYTHONPATH')]))
        cmd = [self.python, '-m', 'm365_sandbox', 'serve', '--state-dir', self.state_dir, '--parent-pid', str(os.getpid())] + self.args
        with open(os.path.join(self.state_dir, 'stdout.log'), 'ab') as out, open(os.path.join(self.state_dir, 'stderr.log'), 'ab') as err:
            self.process = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + self.startup_timeout
        while not os.path.exists(self.info_path):
            if self.process.poll() is not None:
                raise SandboxError('sandbox exited with %s: %s' % (self.process.returncode, self._stderr_tail()))
            if time.monotonic() > deadline:
                self.stop()
                raise SandboxError('sandbox did not start within %.0fs: %s' % (self.startup_timeout, self._stderr_tail()))
            time.sleep(0.05)
        with open(self.info_path, encoding='utf-8') as handle:
            self.info = json.load(handle)
        return self

    def _stderr_tail(self):
        try:
            with open(os.path.join(self.state_dir, 'stderr.log'), encoding='utf-8', errors='replace') as handle:
                return handle.read()[-2000:]
        except OSError:
            return ''

    def stop(self):
        if self._session is not None:
            self._session.close()
            self._session = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Discovery -----------------------------------------------------------------

    @property
    def base_url(self):
        return self.info['base_url']

    @property
    def authority_url(self):
        return self.info['authority_url']

    @property
    def graph_url(self):
        return self.info['graph_url']

    @property
    def ca_path(self):
        return self.info['ca_path']

    @property
    def tenants(self):
        return self.info['tenants']

    def tenant(self, index=0):
        return self.info['tenants'][index]

    def authority(self, index=0):
        return '%s/%s' % (self.authority_url, self.tenant(index)['tenant_id'])

    def session(self):
        """A requests.Session that trusts the sandbox CA (and ignores REQUESTS_CA_BUNDLE)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_path
        return session

    # Control API -------------------------------------------------------------

    def control(self, method, path, body=None):
        if self._session is None:
            self._session = self.session()
        response = self._session.request(method, '%s/_sandbox/%s' % (self.base_url, path.lstrip('/')), json=body, timeout=30)
        payload = response.json() if response.content else None
        if response.status_code >= 400:
            raise SandboxError('%s %s -> %d %s' % (method, path, response.status_code, payload))
        return payload

    def state(self, tenant_id=None):
        return self.control('GET', 'tenants/%s/state' % tenant_id if tenant_id else 'state')

    def reset(self):
        return self.control('POST', 'reset')

    def faults(self):
        return self.control('GET', 'faults')

    def set_faults(self, config):
        return self.control('POST', 'faults', config)

    def config(self, **settings):
        return self.control('POST', 'config', settings) if settings else self.control('GET', 'config')

    def stats(self):
        return self.control('GET', 'stats')

    def reset_stats(self):
        return self.control('POST', 'stats/reset')

    def seed_application(self, body, tenant_index=0):
        return self.control('POST', 'tenants/%s/applications' % self.tenant(tenant_index)['tenant_id'], body)

    def drift(self, body, tenant_index=0):
        return self.control('POST', 'tenants/%s/drift' % self.tenant(tenant_index)['tenant_id'], body)

    def mint_token(self, tenant_index=0, **body):
        return self.control('POST', 'tenants/%s/token' % self.tenant(tenant_index)['tenant_id'], body)['access_token']

    def add_person(self, upn, roles=(), tenant_index=0):
        """A person who may sign in, holding the named Entra built-in roles."""
        return self.control('POST', 'tenants/%s/people' % self.tenant(tenant_index)['tenant_id'],
                            {'userPrincipalName': upn, 'roles': list(roles)})['user']

    def global_admin(self, tenant_index=0):
        """The seeded Global Administrator's userPrincipalName."""
        people = self.tenant(tenant_index)['people']
        return next(p['userPrincipalName'] for p in people if 'Global Administrator' in p['roles'])

    def device_login(self, person, user_code=None, approve=True, tenant_index=0):
        """The person at the verification page enters the code (default: the only one waiting) and approves or declines."""
        body = {'person': person, 'approve': approve}
        if user_code:
            body['user_code'] = user_code
        return self.control('POST', 'tenants/%s/devicelogin' % self.tenant(tenant_index)['tenant_id'], body)

    def pending_user_codes(self, tenant_index=0):
        return self.control('GET', 'tenants/%s/devicelogin' % self.tenant(tenant_index)['tenant_id'])['pending']

    def person_token(self, person, scopes, resource='https://graph.microsoft.com', tenant_index=0, **body):
        """A delegated token for a person as the token endpoint would issue it."""
        return self.mint_token(tenant_index, person=person, scopes=list(scopes), resource=resource, **body)

    def admin_token(self, tenant_index=0, resource='https://graph.microsoft.com'):
        """A token for the seeded admin app from the real token endpoint (client secret)."""
        tenant = self.tenant(tenant_index)
        response = self.session().post('%s/oauth2/v2.0/token' % self.authority(tenant_index), data={
            'grant_type': 'client_credentials', 'client_id': tenant['admin']['client_id'],
            'client_secret': tenant['admin']['client_secret'], 'scope': resource.rstrip('/') + '/.default',
        }, timeout=30)
        if response.status_code != 200:
            raise SandboxError('token request failed: %s' % response.text)
        return response.json()['access_token']
