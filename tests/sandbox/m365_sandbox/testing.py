"""Test fixtures around the sandbox, shared by its own tests (tests/sandbox/tests) and the collection's integration tests
(tests/integration): an in-process sandbox with the WinRM host, reset per test; conftests import the fixtures from here.

Fixtures for the emulated Exchange Online: one in-process sandbox (HTTPS + WinRM) per module, reset per test.

Tests that run PowerShell need pwsh: without it they skip with the install hint, except under CI=true where
they fail (a CI without pwsh would otherwise pass by testing nothing).
"""

import base64
import json
import os
import subprocess

import pytest
import requests

from m365_sandbox.exchange.standalone import FakeSandbox, FakeTenant, collection_path
from m365_sandbox.pwsh import INSTALL_HINT, find_pwsh

TENANT = 'tenant1.onmicrosoft.com'
OTHER = 'tenant2.onmicrosoft.com'
SP = '66666666-7777-4888-8999-000000000000'
MAILBOXES = ['user%d@%s' % (n, TENANT) for n in range(1, 6)]


def closed_port():
    """A loopback port nobody listens on (bound, then closed): a refused connection for the unreachable-endpoint tests."""
    import socket
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def need_pwsh():
    found = find_pwsh()
    if found:
        return found
    if os.environ.get('CI') == 'true':
        pytest.fail(INSTALL_HINT)
    pytest.skip(INSTALL_HINT)
    return None


class Emulator:
    """The sandbox, its WinRM listener and helpers to reach them."""

    def __init__(self, sandbox, stop):
        self.sandbox = sandbox
        self.stop = stop
        self.exchange = sandbox.exchange
        self.counters = stop.counters
        self.port = stop.port
        self.disk = stop.disk

    def tenant(self, key=TENANT):
        return self.sandbox.directory.tenant(key)

    def token(self, key=TENANT, **claims):
        return self.sandbox.issue_token(self.tenant(key), **claims)

    def rest(self, cmdlet, params=None, token=None, tenant=TENANT, version='beta', url=None, headers=None):
        """One raw InvokeCommand request: the requests.Response."""
        body = {'CmdletInput': {'CmdletName': cmdlet, 'Parameters': params or {}}}
        url = url or '%s/adminapi/%s/%s/InvokeCommand' % (self.sandbox.base_url, version, tenant)
        headers = dict(headers or {}, Authorization='Bearer ' + (token if token is not None else self.token()))
        return requests.post(url, json=body, headers=headers, verify=os.path.join(self.sandbox.state_dir, 'ca.pem'), timeout=30)

    def pwsh(self, script, stdin=b'', command_id='TEST', **env_changes):
        """Run a script in pwsh as the emulated Windows host would: (stdout text, stderr text, exit code).

        env_changes: variables to set, or to remove when None (e.g. M365_SANDBOX_WINDOWS=None: a Linux host).
        """
        encoded = base64.b64encode(script.encode('utf-16-le')).decode('ascii')
        env = self.disk.environment(command_id, self.exchange.faults.module_version)
        for name, value in env_changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        result = subprocess.run([need_pwsh(), '-NoProfile', '-NonInteractive', '-EncodedCommand', encoded], input=stdin, capture_output=True,
                                env=env, timeout=300, check=False)
        return result.stdout.decode('utf-8', 'replace'), result.stderr.decode('utf-8', 'replace'), result.returncode

    def run_runner(self, operations, **connection):
        """The collection's real bootstrap and runner in pwsh, with a payload for these operations: the runner's answer."""
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import payload as runner_payload, runner_protocol
        settings = dict(runner_payload.module_payload('access_token', '3.1.0'), auth='access_token', organization=TENANT, access_token=self.token())
        settings.update(connection)
        # Not build_payload: these tests send what Python would refuse (a cmdlet off the list, half a connection) to see
        # the runner refuse it too. The runtime settings still come from the one place that decides them; one session.
        payload = dict(runner_payload.runtime_payload(sessions=1, retry={'attempts': 3, 'delay': 0.01, 'max_delay': 0.05}),
                       version=runner_protocol.PROTOCOL_VERSION, connection=settings, operations=operations)
        stdout, stderr, _rc = self.pwsh(runner_protocol.BOOTSTRAP, runner_protocol.build_stdin(payload))
        lines = [line for line in stdout.splitlines() if line.strip()]
        assert lines, stderr
        return json.loads(lines[-1])


@pytest.fixture(scope='module')
def emulator():
    from m365_sandbox.winrm import start_winrm  # pylint: disable=import-outside-toplevel
    sandbox = FakeSandbox([FakeTenant('11111111-aaaa-4aaa-8aaa-000000000001', TENANT, mailbox_count=5),
                           FakeTenant('22222222-aaaa-4aaa-8aaa-000000000002', OTHER, mailbox_count=2)])
    stop = start_winrm(sandbox, users={'ansible': 'Passw0rd!'})
    try:
        yield Emulator(sandbox, stop)
    finally:
        stop()


@pytest.fixture
def host(emulator):
    """The emulator, reset to the seeded tenants, no faults, counters at zero."""
    emulator.sandbox.reset()
    yield emulator
    emulator.sandbox.reset()


COLLECTIONS = collection_path()


@pytest.fixture
def collections_dir():
    return COLLECTIONS


@pytest.fixture
def sandbox():
    return FakeSandbox([FakeTenant('11111111-aaaa-4aaa-8aaa-000000000001', TENANT, mailbox_count=5)])


@pytest.fixture
def winrm_host(sandbox):
    from m365_sandbox.winrm import start_winrm  # pylint: disable=import-outside-toplevel
    stop = start_winrm(sandbox, users={'ansible': 'Passw0rd!'})
    stop.sandbox = sandbox
    yield stop
    stop()


def fill_to_ace_limit(mailbox):
    """Give an emulated mailbox as many permission entries as Exchange allows: the next add fails (and is no not-found)."""
    from .exchange import ACE_LIMIT  # pylint: disable=import-outside-toplevel
    while len(mailbox.aces) < ACE_LIMIT:
        mailbox.aces.append({'principal': ('user', 'filler%d' % len(mailbox.aces)), 'rights': ['ReadPermission'], 'deny': False,
                             'inheritance': 'All', 'inherited': False, 'automapping': False})
