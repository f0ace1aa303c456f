"""Fixtures of the reliability suite: the tests/e2e helpers importable, one sandbox with the Exchange host, the ledger."""

import os
import sys

import pytest

E2E = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'e2e')
if E2E not in sys.path:
    sys.path.insert(0, E2E)

# pylint: disable=wrong-import-position
from m365_sandbox.client import SandboxHandle  # noqa: E402

from m365_reliability import ledger  # noqa: E402
from m365_reliability.harness import Suite, clear_faults, reset_counters  # noqa: E402


@pytest.fixture(scope='session')
def suite(tmp_path_factory):
    """One sandbox for the whole suite; cases use their own application each, so it is reset only once."""
    ledger.start()
    handle = SandboxHandle(state_dir=str(tmp_path_factory.mktemp('reliability-sandbox')), tenants=2, mailboxes=5, winrm_port=0)
    handle.start()
    handle.reset()
    yield Suite(handle)
    handle.stop()


@pytest.fixture
def rel(suite):
    """The suite with faults off and counters at zero, before and after the test."""
    clear_faults(suite.sandbox)
    reset_counters(suite.sandbox)
    yield suite
    clear_faults(suite.sandbox)


def pytest_collection_modifyitems(config, items):
    """M365_SHARD=k/n keeps every n-th test from the k-th: make soak runs n pytest processes, each with its own sandbox."""
    shard = os.environ.get('M365_SHARD')
    if not shard:
        return
    index, count = (int(part) for part in shard.split('/'))
    mine = [item for position, item in enumerate(items) if position % count == index]
    config.hook.pytest_deselected(items=[item for item in items if item not in mine])
    items[:] = mine
