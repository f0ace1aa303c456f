"""Fixtures of the sandbox's Graph and login tests: one sandbox server process (HTTPS, no WinRM host) per session."""

import pytest

from m365_sandbox.client import SandboxHandle


@pytest.fixture(scope='session')
def graph_sandbox_process(tmp_path_factory):
    handle = SandboxHandle(str(tmp_path_factory.mktemp('sandbox')), tenants=2, mailboxes=3)
    with handle:
        yield handle


@pytest.fixture()
def seeded_sandbox(graph_sandbox_process):
    """The session's sandbox server, reset to its seeded state for each test."""
    graph_sandbox_process.reset()
    yield graph_sandbox_process


@pytest.fixture()
def graph(seeded_sandbox):
    """A requests session on Graph with the admin's token (tenant 0)."""
    session = seeded_sandbox.session()
    session.headers['Authorization'] = 'Bearer ' + seeded_sandbox.admin_token()
    session.base = seeded_sandbox.graph_url + '/v1.0'
    yield session
    session.close()
