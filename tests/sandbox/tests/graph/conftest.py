import os
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from m365_sandbox.client import SandboxHandle  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def sandbox_process(tmp_path_factory):
    handle = SandboxHandle(str(tmp_path_factory.mktemp('sandbox')), tenants=2, mailboxes=3)
    with handle:
        yield handle


@pytest.fixture()
def sandbox(sandbox_process):
    """The shared sandbox, reset to its seeded state for each test."""
    sandbox_process.reset()
    yield sandbox_process


@pytest.fixture()
def graph(sandbox):
    """A requests session on Graph with the admin's token (tenant 0)."""
    session = sandbox.session()
    session.headers['Authorization'] = 'Bearer ' + sandbox.admin_token()
    session.base = sandbox.graph_url + '/v1.0'
    yield session
    session.close()
