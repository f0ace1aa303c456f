"""Glue between the CLI and the optional extra listeners (WinRM emulator)."""

import importlib
import secrets


def winrm_listener(port, host='127.0.0.1'):
    """Return start(sandbox) -> stop for the WinRM emulator, or None when it is not installed.

    The emulator lives in m365_sandbox.winrm (another engineer's package); it
    exposes `start_listener(sandbox, port)` or `start_winrm(sandbox, host, port, users)`.
    """
    try:
        module = importlib.import_module('m365_sandbox.winrm')
    except ImportError:
        return None
    custom = getattr(module, 'start_listener', None)
    if custom is not None:
        return lambda sandbox: custom(sandbox, port)
    start_winrm = getattr(module, 'start_winrm', None)
    if start_winrm is None:
        return None

    def start(sandbox):
        username, password = 'ansible', secrets.token_urlsafe(12)
        stop = start_winrm(sandbox, host=host, port=port, users={username: password})
        sandbox.info['winrm'] = {'host': host, 'port': getattr(stop, 'port', port), 'username': username, 'password': password}
        return stop

    return start
