"""Fixtures of the lease and secret rotation tests: the fakes of graph_fakes.py put in place of Microsoft and time."""

import pytest

from ansible_collections.m365.mail_oauth.plugins.module_utils.errors import AuthError
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import lease as lease_mod
from ansible_collections.m365.mail_oauth.plugins.module_utils.graph import secret_rotation

from graph_fakes import APP_ID, TENANT, FakeClock, FakeGraph


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(lease_mod, 'time', fake)
    monkeypatch.setattr(secret_rotation, 'time', fake)
    return fake


@pytest.fixture
def graph(clock, monkeypatch):
    fake = FakeGraph(clock)

    class FakeTokens(object):
        """The token endpoint: a client-credentials request works with a secret the application has."""

        def __init__(self, credentials, session, retry_timeout=300):
            assert credentials.client_id == APP_ID and credentials.tenant_id == TENANT
            self.secret = credentials.client_secret

        def token(self, resource):
            if self.secret not in fake.values.values():
                raise AuthError('AADSTS7000215: Invalid client secret provided')
            return 'token-for-%s' % resource

    monkeypatch.setattr(secret_rotation, 'TokenProvider', FakeTokens)
    return fake


@pytest.fixture
def private_dir(tmp_path):
    directory = tmp_path / 'handover'
    directory.mkdir(mode=0o700)
    return directory
