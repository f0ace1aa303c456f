"""The offline variant of execution-environment.yml, generated (never kept by hand) for machines without registries.

It changes where three things come from and nothing else (tests/e2e/test_ee.py checks that):
- the base image: a local Debian bookworm made by debootstrap instead of docker.io/library/debian:bookworm;
- PowerShell: the packed archive of ../shared/tools/powershell instead of Microsoft's Debian packages;
- ExchangeOnlineManagement: the sandbox's fake (tests/sandbox/powershell) instead of the PowerShell Gallery, so
  such an image is a test image only.
Its file paths become absolute (relocate), as the variant is written outside the repository.
"""

import copy
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# How the definition's steps are recognised: each mark must be in exactly one append_final step.
POWERSHELL_MARK = 'packages.microsoft.com'
MODULE_MARK = 'Install-Module'
PWSH_WRAPPER = os.path.join(REPO, 'tests', 'ee', 'pwsh')
FAKE_MODULE = os.path.join(REPO, 'tests', 'sandbox', 'powershell', 'ExchangeOnlineManagement')
INSTALL_DIR = '/opt/microsoft/powershell/7'  # where Microsoft's package installs PowerShell 7
ALL_USERS_MODULES = '/usr/local/share/powershell/Modules'  # Install-Module -Scope AllUsers on Linux


def _step(steps, mark):
    found = [i for i, step in enumerate(steps) if mark in step]
    if len(found) != 1:
        raise ValueError('execution-environment.yml: expected one append_final step with %r, found %d' % (mark, len(found)))
    return found[0]


def relocate(definition):
    """The definition with its files named by absolute paths (ansible-builder reads them relative to the definition)."""
    moved = copy.deepcopy(definition)
    for entry in moved.get('additional_build_files', []):
        entry['src'] = os.path.join(REPO, entry['src'])
    for kind in ('python', 'system'):
        if isinstance(moved['dependencies'].get(kind), str):
            moved['dependencies'][kind] = os.path.join(REPO, moved['dependencies'][kind])
    return moved


def offline(definition, base_image, powershell_archive):
    """The definition with the local base image, PowerShell from powershell_archive and the fake module."""
    variant = relocate(definition)
    variant['images']['base_image']['name'] = base_image
    variant.setdefault('additional_build_files', []).extend([
        {'src': powershell_archive, 'dest': 'powershell'},
        {'src': PWSH_WRAPPER, 'dest': 'powershell'},
        {'src': FAKE_MODULE, 'dest': 'modules/ExchangeOnlineManagement'},  # a folder's contents go into dest
    ])
    steps = variant['additional_build_steps']['append_final']
    # ADD unpacks a local .tar.xz.
    powershell = ['ADD _build/powershell/%s %s/' % (os.path.basename(powershell_archive), INSTALL_DIR),
                  'COPY _build/powershell/pwsh /usr/bin/pwsh']
    module = ['COPY _build/modules/ExchangeOnlineManagement %s/ExchangeOnlineManagement' % ALL_USERS_MODULES]
    for mark, replacement in ((POWERSHELL_MARK, powershell), (MODULE_MARK, module)):
        index = _step(steps, mark)
        steps[index:index + 1] = replacement
    return variant
