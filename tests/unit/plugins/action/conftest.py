"""The fixture of the Exchange action plugins' unit tests (exchange_action_stubs.py holds the stubs)."""

import functools

import pytest

from exchange_action_stubs import build_action


@pytest.fixture
def exchange_action(monkeypatch):
    """exchange_action(name, args, check_mode=False, diff=False, principals=...) -> (ActionModule, StubSession)."""
    return functools.partial(build_action, monkeypatch)
