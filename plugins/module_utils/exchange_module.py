# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which ExchangeOnlineManagement a PowerShell host needs, and how to install it there: the one rule the doctor judges
a host by and the runner's message repeats (plugin_utils/exchange sends advice() in the payload; the runner only picks the
line that fits the host's PowerShell).

Facts (module release notes; shared/reference/exchange-online-rest.md): -AccessToken arrived in 3.1.0; 3.10.0 needs
PowerShell 7.6.0, so Windows PowerShell 5.1 hosts (and PowerShell below 7.6) stay on the 3.9 line, whose last release
is 3.9.2. Install-Module picks the newest version, which below PowerShell 7.6 would be one the host cannot load.

Stdlib only.
"""

import re

MIN_MODULE = '3.0.0'
MIN_MODULE_ACCESS_TOKEN = '3.1.0'
MODULE_NEEDS_PS76 = '3.10.0'
LAST_BEFORE_PS76 = '3.9.2'
PS76 = '7.6.0'


def version(text):
    """A comparable tuple of a version text ('3.9.2', '5.1.19041.4291'); None when it has no digits."""
    parts = re.findall(r'\d+', str(text or ''))[:4]
    return tuple(int(p) for p in parts) if parts else None


def plain(parts):
    return '.'.join(str(p) for p in parts)


def needed(exchange_auth='access_token', min_version=None):
    """The version the tasks need: -AccessToken's 3.1.0 (exchange_auth=access_token) or 3.0.0, or the task's min_version."""
    return plain(max(version(MIN_MODULE_ACCESS_TOKEN if exchange_auth == 'access_token' else MIN_MODULE), version(min_version) or ()))


def reason(exchange_auth='access_token', min_version=None):
    """Why that version: the words both the doctor and the runner use."""
    need = needed(exchange_auth, min_version)
    if exchange_auth == 'access_token' and need == MIN_MODULE_ACCESS_TOKEN:
        return '-AccessToken (exchange_auth=access_token) needs %s or later' % MIN_MODULE_ACCESS_TOKEN
    return 'the tasks need %s or later%s' % (need, ' (min_version)' if min_version and version(need) == version(min_version) else '')


def install_command(need, old_shell):
    """How to get version need or later on a host; old_shell: Windows PowerShell 5.1 or PowerShell below 7.6."""
    if old_shell and version(need) >= version(MODULE_NEEDS_PS76):
        return ('run the Exchange steps with PowerShell %s or later (pwsh): ExchangeOnlineManagement %s needs it, and this host\'s '
                'PowerShell is older' % (PS76, need))
    if old_shell:
        return ('Install-Module ExchangeOnlineManagement -RequiredVersion %s -Scope AllUsers (the 3.9 line: 3.10 needs PowerShell %s)'
                % (LAST_BEFORE_PS76, PS76))
    return 'Install-Module ExchangeOnlineManagement -MinimumVersion %s -Scope AllUsers' % need


def advice(exchange_auth='access_token', min_version=None):
    """The payload's module_help: the runner shows reason and old_shell's or new_shell's command by its PowerShell version,
    and below ps_version installs and imports no version newer than old_shell_max."""
    need = needed(exchange_auth, min_version)
    return {'reason': reason(exchange_auth, min_version), 'ps_version': PS76, 'old_shell_max': LAST_BEFORE_PS76,
            'old_shell': install_command(need, True), 'new_shell': install_command(need, False)}
