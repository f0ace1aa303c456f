# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PowerShell that runs on the Windows (or pwsh) host.

Two texts: BOOTSTRAP goes on the command line (it must stay far below the
~3,000 characters an -EncodedCommand can carry); the runner
(exchange_runner.ps1 beside this file, a real script so that Pester, editors
and linters see it) goes on stdin together with the allow-list and the JSON
payload, so tokens and passwords never reach a command line or a process
list. The .ps1 lives in plugin_utils, not modules: it is a payload the
action plugins send, not an Ansible PowerShell module.
"""

import base64
import json
import os

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange.operations import OPERATIONS

PROTOCOL_VERSION = 2
BOOTSTRAP_MARKER = '#m365.mail_oauth:bootstrap:%d' % PROTOCOL_VERSION
RUNNER_MARKER = '#m365.mail_oauth:runner:%d' % PROTOCOL_VERSION
RUNNER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'runner.ps1')

# Stdin: line 1 the runner, line 2 the allow-list, line 3 the payload, each
# base64 of UTF-8 so the console code page of the host cannot mangle them.
# Before anything else the bootstrap checks the language mode with only what
# ConstrainedLanguage allows (App Control / WDAC hosts): there the method
# calls below fail with an opaque message, so it answers in the runner's own
# JSON shape and names the way out. Then, as ansible-core's own bootstrap
# does, it asks for UTF-8 on the console, and turns pwsh 7's ANSI colours off
# so error text reaches the controller plain.
BOOTSTRAP = BOOTSTRAP_MARKER + r"""
$m = [string]$ExecutionContext.SessionState.LanguageMode
if ($m -ne 'FullLanguage') {
'{"version":%(version)d,"failed":true,"language_mode":"' + $m + '","msg":"PowerShell on this host runs in ' + $m +
' mode (App Control for Business, WDAC or AppLocker), which cannot run the Exchange Online steps. Use a host ' +
'without that policy, or run the Exchange tasks on the controller with pwsh (delegate_to: localhost)."}'
exit 1
}
$ErrorActionPreference = 'Stop'
try { [Console]::OutputEncoding = New-Object Text.UTF8Encoding $false } catch { }
if ($PSStyle) { $PSStyle.OutputRendering = 'PlainText' }
$l = @($input | ForEach-Object { [string]$_ } | Where-Object { $_.Trim() })
if ($l.Count -lt 3) {
'{"version":%(version)d,"failed":true,"msg":"the runner, its allow-list and its payload did not all arrive on ' +
'stdin (' + $l.Count + ' of 3 lines); the connection may have cut stdin short"}'
exit 1
}
$e = [Text.Encoding]::UTF8
$r = [ScriptBlock]::Create($e.GetString([Convert]::FromBase64String($l[0])))
& $r -AllowListJson $e.GetString([Convert]::FromBase64String($l[1])) -PayloadJson $e.GetString([Convert]::FromBase64String($l[2]))
""" % {'version': PROTOCOL_VERSION}


def allow_list_json(operations=None):
    """The allow-list as the runner reads it (ConvertTo-RunnerAllowList)."""
    operations = OPERATIONS if operations is None else operations
    return json.dumps(operations, separators=(',', ':'), sort_keys=True)


def runner_script():
    """The full runner text that travels on stdin."""
    with open(RUNNER_PATH, encoding='utf-8') as handle:
        return handle.read()


def build_stdin(payload, script=None):
    """Encode runner, allow-list and payload as the three base64 lines the bootstrap reads."""
    script = runner_script() if script is None else script
    document = json.dumps(payload, separators=(',', ':'), sort_keys=True)
    lines = [base64.b64encode(text.encode('utf-8')) for text in (script, allow_list_json(), document)]
    return b'\n'.join(lines) + b'\n'


def parse_stdin(data):
    """Decode what build_stdin produced: (script, allow-list, payload)."""
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    if len(lines) < 3:
        raise ValueError('expected three base64 lines on stdin, got %d' % len(lines))
    script = base64.b64decode(lines[0]).decode('utf-8')
    allow_list = json.loads(base64.b64decode(lines[1]).decode('utf-8'))
    payload = json.loads(base64.b64decode(lines[2]).decode('utf-8'))
    return script, allow_list, payload
