# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the doctor asks the PowerShell host: its facts (one short read-only script) and the Exchange role (the runner).

The facts script is the whole command (no stdin) and uses only what ConstrainedLanguage allows, so a locked-down
host still answers and the doctor can name its language mode. The role check is two allow-listed reads through the
runner, as every Exchange action sends them: Get-ServicePrincipal (Role Management) and Get-Mailbox -ResultSize 1
(Mail Recipients); a not-found answer counts as a success (the cmdlet ran).
"""

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange import transport

FACTS_SCRIPT = r"""$m = [string]$ExecutionContext.SessionState.LanguageMode
$v = @(Get-Module -ListAvailable -Name ExchangeOnlineManagement | ForEach-Object { [string]$_.Version }) -join ','
$f = @{ m365_doctor = 1; language_mode = $m; modules = $v }
$f.ps_version = [string]$PSVersionTable.PSVersion
$f.edition = [string]$PSVersionTable.PSEdition
ConvertTo-Json -Compress -InputObject $f
"""

UNREACHABLE_FIX = ('check the host\'s address and port (ansible_host, ansible_port), that its WinRM listener runs (winrm quickconfig; '
                   '5986 for HTTPS) or pwsh is installed (ssh), the firewall, and the credentials (ansible_user, ansible_password)')


def read_facts(action, interpreter=None):
    """{ps_version, edition, language_mode, modules: [versions]} of the task's host; PowerShellTransportError when unreachable."""
    raw = transport.run_json(action, FACTS_SCRIPT, None, interpreter=interpreter)
    if raw.get('m365_doctor') != 1:
        raise transport.PowerShellTransportError('the PowerShell host answered something else than the doctor\'s facts: %r'
                                                            % (dict((k, v) for k, v in raw.items() if k != '_stderr'),))
    raw['modules'] = [v for v in str(raw.get('modules') or '').split(',') if v]
    return raw


def role_reads(client_id):
    """Harmless reads that need the roles the playbooks use; never an empty -Identity (that would list every object)."""
    reads = [{'op': 'get_mailbox', 'params': {'ResultSize': 1}}]
    if client_id:
        reads.insert(0, {'op': 'get_service_principal', 'params': {'Identity': client_id}})
    return reads
