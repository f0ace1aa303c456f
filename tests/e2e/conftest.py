"""End-to-end fixtures: the sandbox tenant, started once, reset before every test."""

import pytest

from m365_sandbox.client import SandboxHandle

from playbook import sandbox_auth


@pytest.fixture(scope='session')
def sandbox_server(tmp_path_factory):
    # winrm_port=0: the emulated Windows/Exchange host runs inside the sandbox process, for the Exchange tests.
    handle = SandboxHandle(state_dir=str(tmp_path_factory.mktemp('sandbox')), tenants=2, mailboxes=5, winrm_port=0)
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def tenant(sandbox_server):
    """A clean tenant for one test: seeded state, no faults, counters at zero."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


@pytest.fixture
def auth(tenant):
    return {'m365_auth': sandbox_auth(tenant)}
