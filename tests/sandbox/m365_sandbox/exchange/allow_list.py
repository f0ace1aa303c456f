"""The collection's allow-list, loaded by path so the sandbox needs no Ansible.

The emulated host validates operations with the same table the real runner
embeds, then runs them against the Exchange model.
"""

import importlib.util
import os

_PATH = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'plugin_utils', 'exchange_operations.py')


def _load():
    spec = importlib.util.spec_from_file_location('m365_sandbox_exchange_operations', os.path.abspath(_PATH))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


operations = _load()
OPERATIONS = operations.OPERATIONS
InvalidOperation = operations.InvalidOperation
check_value = operations.check_value
