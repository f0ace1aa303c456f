"""Unit-test fixtures: the collection importable, and a fake directory with the WinRM/Exchange emulator.

tests/unit/sandbox/conftest.py overrides `sandbox` with the real sandbox process for the Graph side.
"""

import os
import sys

import pytest

SANDBOX = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', 'sandbox'))
if SANDBOX not in sys.path:
    sys.path.insert(0, SANDBOX)

from m365_sandbox.exchange.standalone import FakeSandbox, FakeTenant, collection_path  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS = collection_path()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


@pytest.fixture
def collections_dir():
    return COLLECTIONS


@pytest.fixture
def sandbox():
    return FakeSandbox([FakeTenant('11111111-aaaa-4aaa-8aaa-000000000001', 'tenant1.onmicrosoft.com', mailbox_count=5)])


@pytest.fixture
def winrm_host(sandbox):
    from m365_sandbox.winrm import start_winrm  # pylint: disable=import-outside-toplevel
    stop = start_winrm(sandbox, users={'ansible': 'Passw0rd!'})
    stop.sandbox = sandbox
    yield stop
    stop()
