"""Shared by every test: the collection importable as ansible_collections.m365.mail_oauth, the sandbox package, and the
fixture modules shared by several folders.

pytest reads pytest_plugins only from a top-level conftest, so this file names the fixture modules; folder conftests
keep only fixtures no other folder uses. Fixture names say what they give (see tests/README.md): `sandbox_server`
(tests/e2e, a sandbox process with its WinRM host), `seeded_sandbox` (tests/sandbox/tests/graph), `inprocess_sandbox`
(m365_sandbox.testing, no server). The built collection ships tests/unit without tests/sandbox, so the sandbox's
fixtures load only where the sandbox is.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
LINK = os.path.join(COLLECTIONS, 'ansible_collections', 'm365', 'mail_oauth')
SANDBOX = os.path.join(REPO, 'tests', 'sandbox')


def _ensure_collection_link():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK)


_ensure_collection_link()
for path in (COLLECTIONS, SANDBOX):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS

# The emulated Exchange host's fixtures (emulator, host, inprocess_sandbox, winrm_host, collections_dir) for
# tests/sandbox/tests/exchange and tests/integration.
pytest_plugins = ['m365_sandbox.testing'] if os.path.isdir(SANDBOX) else []
