# -*- coding: utf-8 -*-
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PowerShell that runs on the Windows (or pwsh) host.

Two texts: BOOTSTRAP goes on the command line (it must stay far below the
~3,000 characters an -EncodedCommand can carry), and the runner goes on stdin
together with its JSON payload, so tokens and passwords never reach a command
line or a process list. PowerShell is kept as Python strings because
validate-modules cannot cope with .ps1 files outside modules.
"""

import base64
import json

from ansible_collections.m365.mail_oauth.plugins.plugin_utils.exchange_operations import OPERATIONS

PROTOCOL_VERSION = 1
BOOTSTRAP_MARKER = '#m365.mail_oauth:bootstrap:%d' % PROTOCOL_VERSION
RUNNER_MARKER = '#m365.mail_oauth:runner:%d' % PROTOCOL_VERSION

# Line 1 of stdin is the runner, line 2 the payload, both base64 of UTF-8 so
# the console code page of the host cannot mangle non-ASCII names.
BOOTSTRAP = BOOTSTRAP_MARKER + r"""
$ErrorActionPreference = 'Stop'
$l = @($input | ForEach-Object { [string]$_ } | Where-Object { $_.Trim() })
$e = [Text.Encoding]::UTF8
$r = [ScriptBlock]::Create($e.GetString([Convert]::FromBase64String($l[0])))
& $r -PayloadJson $e.GetString([Convert]::FromBase64String($l[1]))
"""

_RUNNER_BODY = r"""
param([string]$PayloadJson)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$AllowList = __ALLOW_LIST__

$result = [ordered]@{
    version = __VERSION__
    failed = $false
    msg = $null
    error = $null
    connected = $false
    disconnected = $false
    module_version = $null
    module_installed = $false
    stopped = $false
    stopped_at = $null
    skipped = 0
    conditional_skips = 0
    results = [System.Collections.Generic.List[object]]::new()
    warnings = [System.Collections.Generic.List[string]]::new()
}

function Get-RunnerError {
    param($Record)
    [ordered]@{
        message = $Record.Exception.Message
        type = $Record.Exception.GetType().FullName
        category = [string]$Record.CategoryInfo.Category
        error_id = [string]$Record.FullyQualifiedErrorId
    }
}

function ConvertTo-RunnerValue {
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [string] -or $Value -is [bool] -or $Value -is [int] -or $Value -is [long]) { return $Value }
    if ($Value -is [enum] -or $Value -is [guid]) { return $Value.ToString() }
    if ($Value -is [System.Collections.IEnumerable]) {
        $items = @(foreach ($item in $Value) { ConvertTo-RunnerValue -Value $item })
        return ,$items
    }
    return $Value.ToString()
}

function ConvertTo-RunnerRow {
    param($InputObject, [string[]]$Property)
    $row = [ordered]@{}
    foreach ($name in $Property) {
        $prop = $InputObject.PSObject.Properties[$name]
        if ($prop) { $row[$name] = ConvertTo-RunnerValue -Value $prop.Value } else { $row[$name] = $null }
    }
    $row
}

function Assert-RunnerValue {
    param([string]$Op, [string]$Name, $Spec, $Value)
    $bad = $false
    switch ($Spec.Type) {
        'identity' { $bad = ($Value -isnot [string]) -or [string]::IsNullOrWhiteSpace($Value) }
        'string' { $bad = ($Value -isnot [string]) -or [string]::IsNullOrWhiteSpace($Value) }
        'guid' {
            $parsed = [guid]::Empty
            $bad = ($Value -isnot [string]) -or -not [guid]::TryParse($Value, [ref]$parsed)
        }
        'result_size' { $bad = -not (($Value -is [string] -and $Value -eq 'Unlimited') -or $Value -is [int] -or $Value -is [long]) }
        'bool' { $bad = $Value -isnot [bool] }
        'nullable_bool' { $bad = ($null -ne $Value) -and ($Value -isnot [bool]) }
        'enum' { $bad = ($Value -isnot [string]) -or ($Spec.Choices -notcontains $Value) }
        'enum_list' {
            foreach ($item in @($Value)) {
                if (($item -isnot [string]) -or ($Spec.Choices -notcontains $item)) { $bad = $true }
            }
        }
        default { $bad = $true }
    }
    if ($bad) { throw ('{0}: parameter {1} does not match type {2}' -f $Op, $Name, $Spec.Type) }
}

function Get-RunnerPlan {
    param($Operations)
    $index = 0
    foreach ($operation in $Operations) {
        $name = [string]$operation.op
        if (-not $AllowList.ContainsKey($name)) { throw ("operation {0}: '{1}' is not in the allow-list" -f $index, $name) }
        $definition = $AllowList[$name]
        $params = @{}
        if ($null -ne $operation.params) {
            foreach ($prop in $operation.params.PSObject.Properties) {
                if (-not $definition.Params.ContainsKey($prop.Name)) {
                    throw ('operation {0}: parameter {1} is not allowed for {2}' -f $index, $prop.Name, $name)
                }
                Assert-RunnerValue -Op $name -Name $prop.Name -Spec $definition.Params[$prop.Name] -Value $prop.Value
                $params[$prop.Name] = $prop.Value
            }
        }
        $hasForeach = $null -ne $operation.PSObject.Properties['for_each']
        $values = @()
        if ($hasForeach) {
            if (-not $definition.Bulk) { throw ('operation {0}: {1} does not take a for_each list' -f $index, $name) }
            if ($null -ne $operation.for_each) { $values = @($operation.for_each) }
            foreach ($value in $values) {
                Assert-RunnerValue -Op $name -Name $definition.Bulk -Spec $definition.Params[$definition.Bulk] -Value $value
            }
        }
        if ($definition.Confirm) { $params['Confirm'] = $false }
        $when = @()
        if ($null -ne $operation.PSObject.Properties['when']) { $when = @($operation.when) }
        $from = $null
        if ($null -ne $operation.PSObject.Properties['for_each_from']) { $from = $operation.for_each_from; $hasForeach = $true }
        if (($when.Count -or $from) -and -not $definition.Write) { throw ('operation {0}: only writes take conditions' -f $index) }
        foreach ($ref in @(@($when | ForEach-Object { $_.read }) + @($from | Where-Object { $_ } | ForEach-Object { $_.read }))) {
            if (($ref -isnot [int] -and $ref -isnot [long]) -or $ref -lt 0 -or $ref -ge $index) {
                throw ('operation {0}: a condition must name an earlier read' -f $index)
            }
        }
        [pscustomobject]@{
            Index = $index; Name = $name; Definition = $definition; Params = $params; HasForeach = $hasForeach; Values = $values
            When = $when; From = $from
        }
        $index++
    }
}

function Test-RunnerThrottled {
    param($Record)
    [string]$Record.Exception.Message -match 'throttl|TooManyRequests|Server ?Busy|\b429\b|MicroDelay'
}

function Invoke-RunnerCall {
    param([string]$Cmdlet, [hashtable]$Params, $Retry)
    $command = Get-Command -Name $Cmdlet -ErrorAction Stop
    $attempt = 0
    while ($true) {
        $attempt++
        $callWarnings = $null
        try {
            $output = @(& $command @Params -ErrorAction Stop -WarningAction SilentlyContinue -WarningVariable callWarnings)
            $texts = @($callWarnings | ForEach-Object { [string]$_ })
            return [pscustomobject]@{ Ok = $true; Output = $output; Warnings = $texts; Error = $null; Attempts = $attempt }
        }
        catch {
            $record = $_
            if ($attempt -lt $Retry.Attempts -and (Test-RunnerThrottled -Record $record)) {
                Start-Sleep -Seconds ([Math]::Min($Retry.MaxDelay, $Retry.Delay * [Math]::Pow(2, $attempt - 1)))
                continue
            }
            $texts = @($callWarnings | ForEach-Object { [string]$_ })
            $details = Get-RunnerError -Record $record
            return [pscustomobject]@{ Ok = $false; Output = @(); Warnings = $texts; Error = $details; Attempts = $attempt }
        }
    }
}

function Add-RunnerResult {
    param($Step, $Key, $Call)
    $rows = @(foreach ($item in $Call.Output) { ConvertTo-RunnerRow -InputObject $item -Property $Step.Definition.Select })
    $entry = [ordered]@{
        op_index = $Step.Index
        op = $Step.Name
        key = $Key
        ok = $Call.Ok
        output = $rows
        warnings = $Call.Warnings
        error = $Call.Error
        attempts = $Call.Attempts
    }
    $result.results.Add($entry)
    $byKey[('{0}|{1}' -f $Step.Index, $Key)] = $entry
}

function Invoke-RunnerFindByUser {
    param($Step, $Retry)
    $list = Invoke-RunnerCall -Cmdlet 'Get-EXOMailbox' -Params @{ ResultSize = 'Unlimited' } -Retry $Retry
    if (-not $list.Ok) { Add-RunnerResult -Step $Step -Key $null -Call $list; return }
    foreach ($mailbox in $list.Output) {
        $params = $Step.Params.Clone()
        $params['Identity'] = [string]$mailbox.UserPrincipalName
        $call = Invoke-RunnerCall -Cmdlet $Step.Definition.Cmdlet -Params $params -Retry $Retry
        if (-not $call.Ok) { $result.warnings.Add(('{0}: {1}' -f $params.Identity, $call.Error.message)) }
        elseif ($call.Output.Count -gt 0) { Add-RunnerResult -Step $Step -Key $params.Identity -Call $call }
    }
}

function Get-RunnerFieldValue {
    param($Value)
    if ($Value -is [string] -and $Value.Contains(',')) { return @($Value.Split(',') | ForEach-Object { $_.Trim() }) }
    return @(@($Value) | ForEach-Object { [string]$_ })
}

function Test-RunnerRowMatch {
    param($Row, $Match)
    if ($null -eq $Match) { return $true }
    foreach ($field in $Match.PSObject.Properties) {
        if ((Get-RunnerFieldValue -Value $Row[$field.Name]) -notcontains [string]$field.Value) { return $false }
    }
    return $true
}

function Test-RunnerNotFound {
    param($Details)
    (@($Details.category, $Details.error_id, $Details.type) -join ' ') -match 'NotFound'
}

function Test-RunnerCondition {
    param($Condition, $Key)
    if ($null -ne $Condition.PSObject.Properties['key']) { $Key = $Condition.key }
    $found = $byKey[('{0}|{1}' -f $Condition.read, $Key)]
    if ($null -eq $found) { return $false }
    $rows = @($found.output)
    if (-not $found.ok) {
        if (($Condition.missing -ne 'act') -or -not (Test-RunnerNotFound -Details $found.error)) { return $false }
        $rows = @()
    }
    $some = @($rows | Where-Object { Test-RunnerRowMatch -Row $_ -Match $Condition.match }).Count -gt 0
    if ($Condition.rows -eq 'some') { return $some }
    return -not $some
}

function Get-RunnerKeysFrom {
    param($From)
    $excluded = @{}
    if ($From.except) {
        foreach ($entry in $result.results) {
            if ($entry.op_index -eq $From.except.read -and $entry.ok) {
                foreach ($row in $entry.output) { $excluded[[string]$row[$From.except.field]] = $true }
            }
        }
    }
    $seen = @{}
    foreach ($entry in @($result.results)) {
        if ($entry.op_index -ne $From.read -or -not $entry.ok -or $null -eq $entry.key) { continue }
        if ($excluded.ContainsKey([string]$entry.key) -or $seen.ContainsKey([string]$entry.key)) { continue }
        if (@($entry.output | Where-Object { Test-RunnerRowMatch -Row $_ -Match $From.match }).Count -gt 0) {
            $seen[[string]$entry.key] = $true
            [string]$entry.key
        }
    }
}

function Connect-RunnerExchange {
    param($Settings, [string[]]$CommandName)
    $minimum = [version]'3.0.0'
    if ($Settings.min_version) { $minimum = [version][string]$Settings.min_version }
    $module = Get-Module -ListAvailable -Name ExchangeOnlineManagement | Sort-Object -Property Version -Descending | Select-Object -First 1
    if ((-not $module) -or ($module.Version -lt $minimum)) {
        if (-not $Settings.install_module) {
            $found = 'none'
            if ($module) { $found = [string]$module.Version }
            throw ('ExchangeOnlineManagement {0} or later is not installed on this host (found: {1}); set install_module to install it' -f $minimum, $found)
        }
        $scope = 'CurrentUser'
        if ($Settings.module_scope) { $scope = [string]$Settings.module_scope }
        Install-Module -Name ExchangeOnlineManagement -MinimumVersion $minimum -Scope $scope -Force -AllowClobber -ErrorAction Stop 3>$null | Out-Null
        $module = Get-Module -ListAvailable -Name ExchangeOnlineManagement | Sort-Object -Property Version -Descending | Select-Object -First 1
        $result.module_installed = $true
    }
    Import-Module -Name ExchangeOnlineManagement -MinimumVersion $minimum -ErrorAction Stop 3>$null | Out-Null
    $result.module_version = [string]$module.Version

    if ($Settings.auth -eq 'existing_session') {
        $sessions = @(Get-ConnectionInformation -ErrorAction SilentlyContinue | Where-Object { $_.State -eq 'Connected' })
        if ($sessions.Count -eq 0) { throw 'No connected Exchange Online session exists in this PowerShell session' }
        return $false
    }

    $connect = @{ ShowBanner = $false; ErrorAction = 'Stop' }
    if ($CommandName) { $connect['CommandName'] = $CommandName }
    if ($Settings.environment) { $connect['ExchangeEnvironmentName'] = [string]$Settings.environment }
    if ($Settings.organization) { $connect['Organization'] = [string]$Settings.organization }
    switch ([string]$Settings.auth) {
        'access_token' { $connect['AccessToken'] = [string]$Settings.access_token }
        'certificate_thumbprint' {
            $connect['AppId'] = [string]$Settings.app_id
            $connect['CertificateThumbprint'] = [string]$Settings.certificate_thumbprint
        }
        'certificate_file' {
            $connect['AppId'] = [string]$Settings.app_id
            $connect['CertificateFilePath'] = [string]$Settings.certificate_path
            if ($Settings.certificate_password) {
                $connect['CertificatePassword'] = ConvertTo-SecureString -String ([string]$Settings.certificate_password) -AsPlainText -Force
            }
        }
        'managed_identity' {
            $connect['ManagedIdentity'] = $true
            if ($Settings.managed_identity_account_id) { $connect['ManagedIdentityAccountId'] = [string]$Settings.managed_identity_account_id }
        }
        default { throw ("Unknown Exchange Online authentication method '{0}'" -f $Settings.auth) }
    }
    Connect-ExchangeOnline @connect 3>$null | Out-Null
    return $true
}

$connected = $false
# Results by "op_index|key" (case-insensitive, as Exchange identities are) for the conditions.
$byKey = @{}
try {
    $payload = ConvertFrom-Json -InputObject $PayloadJson
    if ($payload.version -ne __VERSION__) { throw ('Unsupported payload version {0}' -f $payload.version) }
    $plan = @(Get-RunnerPlan -Operations @($payload.operations))
    $retry = [pscustomobject]@{ Attempts = 4; Delay = 2; MaxDelay = 30 }
    if ($payload.retry) {
        $retry.Attempts = [int]$payload.retry.attempts
        $retry.Delay = [double]$payload.retry.delay
        $retry.MaxDelay = [double]$payload.retry.max_delay
    }
    $cmdlets = @($plan | ForEach-Object { $_.Definition.Cmdlet } | Where-Object { $_ -notlike 'Get-EXO*' } | Sort-Object -Unique)

    $connected = Connect-RunnerExchange -Settings $payload.connection -CommandName $cmdlets
    $result.connected = $true

    foreach ($step in $plan) {
        if ($step.From) { $step.Values = @(Get-RunnerKeysFrom -From $step.From) }
        if ($result.stopped) {
            $result.skipped += [Math]::Max(1, $step.Values.Count)
            continue
        }
        if ($step.Definition.Kind -eq 'find_by_user') {
            Invoke-RunnerFindByUser -Step $step -Retry $retry
            continue
        }
        $keys = @($null)
        if ($step.HasForeach) { $keys = $step.Values }
        $position = 0
        foreach ($key in $keys) {
            $position++
            if ($step.When.Count -and @($step.When | Where-Object { -not (Test-RunnerCondition -Condition $_ -Key $key) }).Count) {
                $result.conditional_skips++
                continue
            }
            $params = $step.Params.Clone()
            if ($step.HasForeach) { $params[$step.Definition.Bulk] = $key }
            $call = Invoke-RunnerCall -Cmdlet $step.Definition.Cmdlet -Params $params -Retry $retry
            Add-RunnerResult -Step $step -Key $key -Call $call
            if ((-not $call.Ok) -and $step.Definition.Write) {
                $result.stopped = $true
                $result.stopped_at = [ordered]@{ op_index = $step.Index; op = $step.Name; key = $key }
                $result.skipped += $keys.Count - $position
                break
            }
        }
    }
}
catch {
    $result.failed = $true
    $result.msg = $_.Exception.Message
    $result.error = Get-RunnerError -Record $_
}
finally {
    if ($connected) {
        try {
            Disconnect-ExchangeOnline -Confirm:$false -ErrorAction Stop 3>$null | Out-Null
            $result.disconnected = $true
        }
        catch {
            $result.warnings.Add(('Disconnect-ExchangeOnline failed: {0}' -f $_.Exception.Message))
        }
    }
}
ConvertTo-Json -InputObject $result -Depth 6 -Compress
"""


def ps_quote(value):
    """Single-quote a literal for PowerShell; only used on the allow-list's own constants."""
    return "'" + str(value).replace("'", "''").replace('\u2018', '\u2018\u2018').replace('\u2019', '\u2019\u2019') + "'"


def _ps_bool(value):
    return '$true' if value else '$false'


def _ps_list(values):
    return '@(' + ', '.join(ps_quote(v) for v in values) + ')'


def render_allow_list(operations=None):
    """Render the allow-list as a PowerShell hashtable literal."""
    operations = OPERATIONS if operations is None else operations
    lines = ['@{']
    for name in sorted(operations):
        definition = operations[name]
        params = ' '.join(
            '%s = @{ Type = %s; Choices = %s };' % (ps_quote(pname), ps_quote(spec['type']), _ps_list(spec.get('choices', [])))
            for pname, spec in sorted(definition['params'].items())
        )
        lines.append('    %s = @{' % ps_quote(name))
        lines.append('        Cmdlet = %s' % ps_quote(definition['cmdlet']))
        lines.append('        Write = %s' % _ps_bool(definition['write']))
        lines.append('        Bulk = %s' % (ps_quote(definition['bulk']) if definition['bulk'] else '$null'))
        lines.append('        Confirm = %s' % _ps_bool(definition['confirm']))
        lines.append('        Kind = %s' % ps_quote(definition['kind']))
        lines.append('        Select = %s' % _ps_list(definition['select']))
        lines.append('        Params = @{ %s }' % params)
        lines.append('    }')
    lines.append('}')
    return '\n'.join(lines)


def runner_script():
    """The full runner text that travels on stdin."""
    body = _RUNNER_BODY.replace('__ALLOW_LIST__', render_allow_list()).replace('__VERSION__', str(PROTOCOL_VERSION))
    return RUNNER_MARKER + '\n' + body.lstrip('\n')


def build_stdin(payload, script=None):
    """Encode runner and payload as the two base64 lines the bootstrap reads."""
    script = runner_script() if script is None else script
    document = json.dumps(payload, separators=(',', ':'), sort_keys=True)
    lines = [base64.b64encode(script.encode('utf-8')), base64.b64encode(document.encode('utf-8'))]
    return b'\n'.join(lines) + b'\n'


def parse_stdin(data):
    """Decode what build_stdin produced: (script, payload)."""
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError('expected two base64 lines on stdin, got %d' % len(lines))
    script = base64.b64decode(lines[0]).decode('utf-8')
    payload = json.loads(base64.b64decode(lines[1]).decode('utf-8'))
    return script, payload
