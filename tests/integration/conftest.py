"""The collection's integration tests: its PowerShell transport, runner and plans against the sandbox's emulated Windows
host (WinRM, real pwsh, the fake ExchangeOnlineManagement module). Not shipped: they need the sandbox.
"""

import os
import sys

SANDBOX = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', 'sandbox'))
if SANDBOX not in sys.path:
    sys.path.insert(0, SANDBOX)

# pylint: disable=wrong-import-position,unused-import
from m365_sandbox.testing import COLLECTIONS, collections_dir, emulator, host, sandbox, winrm_host  # noqa: E402,F401

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
