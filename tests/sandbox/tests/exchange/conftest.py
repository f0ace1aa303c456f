"""The emulated Exchange Online's tests: fixtures from m365_sandbox.testing."""

from m365_sandbox.testing import emulator, host  # noqa: F401  pylint: disable=unused-import
