"""Where the tests, the sandbox's emulated Windows host, the demo and the bench find PowerShell.

PWSH if set, else pwsh on PATH, else the project's shared copy (../shared/tools/powershell/pwsh beside the
repository). Without any, tests that need it skip with one line that says how to install it; under CI=true
a missing pwsh fails the run instead (require_pwsh).
"""

import os
import shutil

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SHARED_PWSH = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'tools', 'powershell', 'pwsh')
INSTALL_HINT = ('PowerShell 7 (pwsh) was not found: install it (Microsoft\'s packages, or `dotnet tool install --global PowerShell`) '
                'and put it on PATH, or point PWSH at it')


def find_pwsh():
    """The pwsh executable to run, or None."""
    explicit = os.environ.get('PWSH')
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else shutil.which(explicit)
    found = shutil.which('pwsh')
    if found:
        return found
    return SHARED_PWSH if os.access(SHARED_PWSH, os.X_OK) else None


def require_pwsh():
    """find_pwsh(), or raise with the install hint (tests turn that into a skip, or a failure under CI)."""
    found = find_pwsh()
    if not found:
        raise FileNotFoundError(INSTALL_HINT)
    return found
