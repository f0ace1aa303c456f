#m365.mail_oauth:runner:2
# Copyright: m365.mail_oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The runner of m365.mail_oauth's Exchange actions.
#
# What it reads: its two parameters, nothing else. The bootstrap (runner_protocol.py) reads this text, the
# allow-list and the payload from stdin and calls it with -AllowListJson and -PayloadJson:
#   allow-list (operations.py): per operation its cmdlet, whether it writes, its bulk parameter, its kind,
#     the properties it returns and the typed parameters it takes;
#   payload (exchange_session.py): version; connection (the login, min_version, install_module, module_scope and
#     module_help: the module rule with its words); retry (attempts, delay, max_delay); sessions (max,
#     keys_per_session); operations; progress (optional, true or absent). The controller decides every runtime
#     constant: the runner keeps no defaults and refuses a payload without one (Assert-RunnerPayload; the
#     controller's fault, not the task's).
# What it does: connects once (Connect-ExchangeOnline), runs the allow-listed operations in order (writes only
# where the conditions the controller sent hold), always disconnects. With sessions.max above 1 and enough
# mailboxes, a bulk step's keys are spread over that many Exchange sessions (the main one plus worker runspaces,
# each with its own Connect-ExchangeOnline), one mailbox always in the same session; conditions and for_each_from
# are still decided here, in the main one. Every step takes one path (Invoke-RunnerStep): one session is the
# parallel path with no workers.
# What it prints on stdout, nothing else (a cmdlet's host output, warnings and progress records are silenced):
#   with payload.progress, while a bulk step runs: "#m365.mail_oauth:progress <op> <done>/<total>" lines, about
#     every 5 % of the step's keys and at its end; every key of the step counts, one its conditions skip too;
#   last, exactly one line: the result (New-RunnerResult) as ASCII-only JSON.
# Its state: one run context (New-RunnerContext) handed as a parameter to each function that needs part of it;
# no function reads a variable it was not given, and worker runspaces get what they use as arguments.
# Dot-sourced without arguments (Pester) it only defines its functions.
#
# Windows PowerShell 5.1 runs it on real hosts: no syntax or API that 5.1 lacks (tests/powershell checks),
# and ASCII only (5.1 reads a BOM-less file as ANSI).
param([string]$PayloadJson, [string]$AllowListJson)

# The payload version this runner speaks (exchange_runner.PROTOCOL_VERSION): a function, so that every runspace
# that holds the runner's functions has it.
function Get-RunnerVersion { 2 }

# For the tests that dot-source this file.
$RunnerVersion = Get-RunnerVersion

function New-RunnerResult {
    [ordered]@{
        version = Get-RunnerVersion
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
        sessions = 1
        results = New-Object System.Collections.Generic.List[object]
        warnings = New-Object System.Collections.Generic.List[string]
    }
}

# One run's state, handed to the functions that need it. Result: the answer being built. AllowList: the operations
# (ConvertTo-RunnerAllowList). Retry: attempts, delay, max_delay (Assert-RunnerPayload). ByKey: each result by
# "op_index|key" (case-insensitive, as Exchange identities are) for the conditions. Commands: the main session's
# Get-Command per cmdlet. Workers: the worker runspaces (sessions 2..k). SessionOf: which session each key goes
# to (case-insensitive), SessionNext: the next one on first sight. Progress: the shared progress table.
function New-RunnerContext {
    [pscustomobject]@{
        Result = New-RunnerResult
        AllowList = $null
        Retry = $null
        ByKey = @{}
        Commands = @{}
        Workers = @()
        SessionOf = @{}
        SessionNext = 0
        Progress = New-RunnerProgress -Enabled $false
    }
}

# The allow-list arrives as JSON (operations.py renders it); 5.1's ConvertFrom-Json has no
# -AsHashtable, so the objects become hashtables here, case-insensitive like PowerShell's parameter names.
function ConvertTo-RunnerAllowList {
    param([string]$Json)
    $table = @{}
    foreach ($op in (ConvertFrom-Json -InputObject $Json).PSObject.Properties) {
        $params = @{}
        if ($null -ne $op.Value.params) {
            foreach ($p in $op.Value.params.PSObject.Properties) {
                $params[$p.Name] = @{ Type = [string]$p.Value.type; Choices = @($p.Value.choices | Where-Object { $null -ne $_ }) }
            }
        }
        $table[$op.Name] = @{
            Cmdlet = [string]$op.Value.cmdlet
            Write = [bool]$op.Value.write
            Bulk = $op.Value.bulk
            Confirm = [bool]$op.Value.confirm
            Kind = [string]$op.Value.kind
            Select = @($op.Value.select | Where-Object { $null -ne $_ })
            Params = $params
        }
    }
    $table
}

# Exchange Online's v3 module (REST) reports a missing object as a plain error record of category
# NotSpecified whose CategoryInfo.Reason is ManagementObjectNotFoundException and whose message reads
# "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't ...";
# older remote PowerShell carried the type itself. This is the one place that decides "not found": the
# controller reads the not_found flag of each error instead of guessing again.
function Test-RunnerNotFound {
    param([string]$Message, [string]$Reason, [string]$Type)
    $pattern = '(^|\.)ManagementObjectNotFoundException$'
    if ($Reason -match $pattern -or $Type -match $pattern) { return $true }
    $parts = $Message.Split('|')
    return ($parts.Count -ge 3 -and $parts[1].Trim() -match $pattern)
}

# Whether an error's text names this value as the object Exchange could not find: quoted ('<x>' in "object '<x>'
# couldn't be found", "<x>" in 'Couldn't find object "<x>"'), or leading ("<x> wasn't found.", the on-premises
# wording for a -User that does not resolve; shared/reference/exchange-online-rest.md). Case-insensitive.
function Test-RunnerNamesObject {
    param([string]$Message, [string]$Value)
    if ([string]::IsNullOrEmpty($Value)) { return $false }
    $parts = $Message.Split('|')
    $text = $Message
    if ($parts.Count -ge 3) { $text = ($parts[2..($parts.Count - 1)] -join '|') }
    $name = [regex]::Escape($Value)
    return ($text -match ('[''"]' + $name + '[''"]')) -or ($text -match ('^\s*' + $name + '\s+wasn''t found'))
}

# A not-found from a call with -User/-Trustee may be about the principal, not the mailbox: a service principal
# created moments ago is not known to Exchange's directory yet. Decided from the object the message names, never
# from the exception alone: the principal when the text names it and not the -Identity.
function Get-RunnerError {
    param($Record, $Params)
    $message = [string]$Record.Exception.Message
    $type = $Record.Exception.GetType().FullName
    $reason = [string]$Record.CategoryInfo.Reason
    $notFound = Test-RunnerNotFound -Message $message -Reason $reason -Type $type
    $principalNotFound = $false
    if ($notFound -and $Params) {
        $principal = [string]$Params['User']
        if (-not $principal) { $principal = [string]$Params['Trustee'] }
        if ((Test-RunnerNamesObject -Message $message -Value $principal) -and -not (Test-RunnerNamesObject -Message $message -Value ([string]$Params['Identity']))) {
            $notFound = $false
            $principalNotFound = $true
        }
    }
    [ordered]@{
        message = $message
        type = $type
        category = [string]$Record.CategoryInfo.Category
        reason = $reason
        error_id = [string]$Record.FullyQualifiedErrorId
        not_found = $notFound
        principal_not_found = $principalNotFound
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
        'result_size' { $bad = -not (($Value -is [string] -and $Value -eq 'Unlimited') -or (($Value -is [int] -or $Value -is [long]) -and $Value -gt 0)) }
        'bool' { $bad = $Value -isnot [bool] }
        # A switch the operation always sets (-Delegating): false would ask for something else.
        'switch' { $bad = ($Value -isnot [bool]) -or (-not $Value) }
        'nullable_bool' { $bad = ($null -ne $Value) -and ($Value -isnot [bool]) }
        'enum' { $bad = ($Value -isnot [string]) -or ($Spec.Choices -notcontains $Value) }
        'enum_list' {
            $bad = @($Value).Count -eq 0
            foreach ($item in @($Value)) {
                if (($item -isnot [string]) -or ($Spec.Choices -notcontains $item)) { $bad = $true }
            }
        }
        default { $bad = $true }
    }
    if ($bad) { throw ('{0}: parameter {1} does not match type {2}' -f $Op, $Name, $Spec.Type) }
}

function Get-RunnerPlan {
    param($Operations, [hashtable]$AllowList)
    $index = 0
    # Whether each earlier operation writes: a condition may only look at what a read found.
    $isWrite = @{}
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
        if ($from -and -not $definition.Bulk) { throw ('operation {0}: {1} does not take a for_each list' -f $index, $name) }
        if (($when.Count -or $from) -and -not $definition.Write) { throw ('operation {0}: only writes take conditions' -f $index) }
        $refs = @($when | ForEach-Object { $_.read }) + @($from | Where-Object { $_ } | ForEach-Object { $_.read })
        $refs += @($from | Where-Object { $_ -and $_.except } | ForEach-Object { $_.except.read })
        foreach ($ref in $refs) {
            if (($ref -isnot [int] -and $ref -isnot [long]) -or $ref -lt 0 -or $ref -ge $index -or $isWrite[[int]$ref]) {
                throw ('operation {0}: a condition must name an earlier read' -f $index)
            }
        }
        [pscustomobject]@{
            Index = $index; Name = $name; Definition = $definition; Params = $params; HasForeach = $hasForeach; Values = $values
            When = $when; From = $from
        }
        $isWrite[$index] = $definition.Write
        $index++
    }
}

# The runtime constants are the controller's (exchange_session.py decides them, one place): the runner keeps no
# default of its own and refuses a payload that lacks one, before it connects. Such a payload is a fault of the
# collection's controller side (an action plugin and a runner that do not match), never of the task.
function Get-RunnerPayloadValue {
    param($Payload, [string]$Path, [string]$Kind)
    $value = $Payload
    foreach ($name in $Path.Split('.')) {
        if ($null -eq $value -or $null -eq $value.PSObject.Properties[$name]) { $value = $null; break }
        $value = $value.PSObject.Properties[$name].Value
    }
    $whole = ($value -is [int] -or $value -is [long])
    $number = $whole -or $value -is [double] -or $value -is [decimal]
    $parsed = $null
    switch ($Kind) {
        'count' { $ok = $whole -and $value -ge 1; $want = 'a whole number of at least 1' }
        'seconds' { $ok = $number -and $value -ge 0; $want = 'a number of seconds, 0 or more' }
        'version' { $ok = ($value -is [string]) -and [version]::TryParse($value, [ref]$parsed); $want = 'a version like 3.1.0' }
        'text' { $ok = ($value -is [string]) -and -not [string]::IsNullOrWhiteSpace($value); $want = 'a text' }
        'bool' { $ok = $value -is [bool]; $want = 'true or false' }
        default { throw ('Get-RunnerPayloadValue: unknown kind {0}' -f $Kind) }
    }
    if (-not $ok) {
        $got = 'nothing'
        if ($null -ne $value) { $got = ConvertTo-Json -InputObject $value -Compress -Depth 2 }
        throw (('{0} must be {1} (got {2}): the controller decides it and sends it in every payload; this is a fault of ' +
            'the m365.mail_oauth collection (its action plugin and its runner do not match), not of the task') -f $Path, $want, $got)
    }
    $value
}

# Every runtime constant of the payload, checked; the retry settings as the run context keeps them.
function Assert-RunnerPayload {
    param($Payload)
    foreach ($path in 'sessions.max', 'sessions.keys_per_session', 'retry.attempts') { [void](Get-RunnerPayloadValue -Payload $Payload -Path $path -Kind 'count') }
    foreach ($path in 'retry.delay', 'retry.max_delay') { [void](Get-RunnerPayloadValue -Payload $Payload -Path $path -Kind 'seconds') }
    foreach ($path in 'connection.min_version', 'connection.module_help.ps_version', 'connection.module_help.old_shell_max') {
        [void](Get-RunnerPayloadValue -Payload $Payload -Path $path -Kind 'version')
    }
    foreach ($path in 'connection.auth', 'connection.module_scope', 'connection.module_help.reason', 'connection.module_help.old_shell', 'connection.module_help.new_shell') {
        [void](Get-RunnerPayloadValue -Payload $Payload -Path $path -Kind 'text')
    }
    [void](Get-RunnerPayloadValue -Payload $Payload -Path 'connection.install_module' -Kind 'bool')
    [pscustomobject]@{ Attempts = [int]$Payload.retry.attempts; Delay = [double]$Payload.retry.delay; MaxDelay = [double]$Payload.retry.max_delay }
}

# The v3 module retries 429 itself and only then raises (ErrorId ThrottlingError, category LimitsExceeded);
# the text varies by service, so the runner retries on any of these words too.
function Test-RunnerThrottled {
    param($Record)
    $text = @([string]$Record.Exception.Message, [string]$Record.FullyQualifiedErrorId, [string]$Record.CategoryInfo.Category) -join ' '
    $text -match 'throttl|TooManyRequests|Server ?Busy|\b429\b|MicroDelay|LimitsExceeded|maximum number of concurrent requests'
}

function Invoke-RunnerCall {
    param([string]$Cmdlet, [hashtable]$Params, $Retry, [hashtable]$Commands)
    # One Get-Command per cmdlet and session (Commands: the run context's, or a worker's own): on a fast service the
    # lookup costs about as much as the call.
    $command = $null
    if ($null -ne $Commands) { $command = $Commands[$Cmdlet] }
    if ($null -eq $command) {
        $command = Get-Command -Name $Cmdlet -ErrorAction Stop
        if ($null -ne $Commands) { $Commands[$Cmdlet] = $command }
    }
    $attempt = 0
    while ($true) {
        $attempt++
        $callWarnings = $null
        try {
            # 6>$null: whatever a cmdlet writes with Write-Host must not reach stdout, which carries only the answer.
            $output = @(& $command @Params -ErrorAction Stop -WarningAction SilentlyContinue -WarningVariable callWarnings 6>$null)
            $texts = @(foreach ($warning in $callWarnings) { [string]$warning })
            return [pscustomobject]@{ Ok = $true; Output = $output; Warnings = $texts; Error = $null; Attempts = $attempt }
        }
        catch {
            $record = $_
            if ($attempt -lt $Retry.Attempts -and (Test-RunnerThrottled -Record $record)) {
                Start-Sleep -Seconds ([Math]::Min($Retry.MaxDelay, $Retry.Delay * [Math]::Pow(2, $attempt - 1)))
                continue
            }
            $texts = @(foreach ($warning in $callWarnings) { [string]$warning })
            $details = Get-RunnerError -Record $record -Params $Params
            return [pscustomobject]@{ Ok = $false; Output = @(); Warnings = $texts; Error = $details; Attempts = $attempt }
        }
    }
}

# -- Progress ----------------------------------------------------------------------------------------
# With payload.progress, a bulk step prints "#m365.mail_oauth:progress <op> <done>/<total>" lines on stdout as
# its keys are done, straight to the console so that they leave while the run goes on: about every 5 %, that is
# every Ceiling(total / 20) keys (Floor would print a line per key below 40 keys: 30 keys, 30 lines), and at the
# end. Total and done count every key of the step (Invoke-RunnerStep), a key its conditions skip too; a controller that reads the output as it arrives (WinRM Receive) shows them. The answer stays the
# last line. One synchronized table, shared by every session's runspace (which sees none of this file's variables).
function New-RunnerProgress {
    param([bool]$Enabled)
    [hashtable]::Synchronized(@{ Enabled = $Enabled; Prefix = '#m365.mail_oauth:progress '; Op = ''; Total = 0; Done = 0; Next = 0; Every = 1 })
}

function Start-RunnerProgress {
    param($Progress, [string]$Op, [int]$Total)
    if (-not $Progress -or -not $Progress.Enabled) { return }
    [System.Threading.Monitor]::Enter($Progress.SyncRoot)
    try {
        $Progress.Op = $Op
        $Progress.Total = $Total
        $Progress.Done = 0
        $Progress.Every = [int][Math]::Max(1, [Math]::Ceiling($Total / 20))
        $Progress.Next = $Progress.Every
    }
    finally { [System.Threading.Monitor]::Exit($Progress.SyncRoot) }
}

function Step-RunnerProgress {
    param($Progress, [int]$Count = 1)
    if (-not $Progress -or -not $Progress.Enabled) { return }
    [System.Threading.Monitor]::Enter($Progress.SyncRoot)
    try {
        $Progress.Done += $Count
        if ($Progress.Done -ge $Progress.Next -or $Progress.Done -eq $Progress.Total) {
            while ($Progress.Next -le $Progress.Done) { $Progress.Next += $Progress.Every }
            [Console]::Out.WriteLine(('{0}{1} {2}/{3}' -f $Progress.Prefix, $Progress.Op, $Progress.Done, $Progress.Total))
            [Console]::Out.Flush()
        }
    }
    finally { [System.Threading.Monitor]::Exit($Progress.SyncRoot) }
}

# A failed write stops the run (the next writes may depend on it, and a broken session or permission would
# fail them all), except where Exchange said the object is not there: that mailbox's absence is its answer,
# as a failed read's would be, and the other keys go on (a deleted mailbox must not halt a write-only plan).
function Test-RunnerStops {
    param($Call, [bool]$Write)
    if ($Call.Ok -or -not $Write) { return $false }
    return -not ($Call.Error -and $Call.Error.not_found)
}

function Add-RunnerResult {
    param($Run, $Step, $Key, $Call)
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
    $Run.Result.results.Add($entry)
    $Run.ByKey[('{0}|{1}' -f $Step.Index, $Key)] = $entry
}

function Get-RunnerFieldValue {
    param($Value)
    if ($Value -is [string] -and $Value.Contains(',')) { return @(foreach ($part in $Value.Split(',')) { $part.Trim() }) }
    return @(foreach ($item in @($Value)) { [string]$item })
}

function Test-RunnerRowMatch {
    param($Row, $Match)
    if ($null -eq $Match) { return $true }
    foreach ($field in $Match.PSObject.Properties) {
        if ((Get-RunnerFieldValue -Value $Row[$field.Name]) -notcontains [string]$field.Value) { return $false }
    }
    return $true
}

function Test-RunnerAnyRow {
    param($Rows, $Match)
    foreach ($row in $Rows) {
        if (Test-RunnerRowMatch -Row $row -Match $Match) { return $true }
    }
    return $false
}

# Whether every when-condition of a step lets its write run for this key (a step without conditions: yes).
function Test-RunnerWhen {
    param($Step, $Key, [hashtable]$ByKey)
    foreach ($condition in $Step.When) {
        if (-not (Test-RunnerCondition -Condition $condition -Key $Key -ByKey $ByKey)) { return $false }
    }
    return $true
}

function Test-RunnerCondition {
    param($Condition, $Key, [hashtable]$ByKey)
    if ($null -ne $Condition.PSObject.Properties['key']) { $Key = $Condition.key }
    $found = $ByKey[('{0}|{1}' -f $Condition.read, $Key)]
    if ($null -eq $found) { return $false }
    $rows = @($found.output)
    if (-not $found.ok) {
        if (($Condition.missing -ne 'act') -or -not $found.error.not_found) { return $false }
        $rows = @()
    }
    $some = Test-RunnerAnyRow -Rows $rows -Match $Condition.match
    if ($Condition.rows -eq 'some') { return $some }
    return -not $some
}

# The keys of a for_each_from step. Its except read lists what must be kept (exclusive: the listed mailboxes, by
# canonical name); a key of it whose read failed for any reason but not-found has no canonical name, so any found
# key may be that mailbox: the step then takes no key at all (a failed read is not an empty answer) and the
# controller reports the failed read. Not found: the mailbox does not exist, so it holds nothing to keep.
function Get-RunnerKeysFrom {
    param($From, $Results)
    $excluded = @{}
    if ($From.except) {
        foreach ($entry in $Results) {
            if ($entry.op_index -ne $From.except.read) { continue }
            if ($entry.ok) {
                foreach ($row in $entry.output) { $excluded[[string]$row[$From.except.field]] = $true }
            }
            elseif (-not ($entry.error -and $entry.error.not_found)) { return }
        }
    }
    $seen = @{}
    # ToArray(), not @(): @() over a List[object] throws 'Argument types do not match' in pwsh 7.6 (PowerShell#27558).
    foreach ($entry in $Results.ToArray()) {
        if ($entry.op_index -ne $From.read -or -not $entry.ok -or $null -eq $entry.key) { continue }
        if ($excluded.ContainsKey([string]$entry.key) -or $seen.ContainsKey([string]$entry.key)) { continue }
        if (Test-RunnerAnyRow -Rows $entry.output -Match $From.match) {
            $seen[[string]$entry.key] = $true
            [string]$entry.key
        }
    }
}

# This host's PowerShell version as [version] (5.1's PSVersion is one; 7's is a semantic version with a label).
function Get-RunnerShellVersion {
    [version](([string]$PSVersionTable.PSVersion) -replace '[-+].*$', '')
}

# Why the module is needed and how to install it here. The words come from the controller (module_utils/exchange_module.py,
# the doctor's rule): the runner only picks the command that fits this host's PowerShell (below 7.6: the 3.9 line).
function Get-RunnerModuleAdvice {
    param($Settings)
    $help = $Settings.module_help
    $command = [string]$help.new_shell
    if ((Get-RunnerShellVersion) -lt [version][string]$help.ps_version) { $command = [string]$help.old_shell }
    return ('; {0}. On this host ({1} {2}): {3}, or set install_module to install it' -f [string]$help.reason, $PSVersionTable.PSEdition, [string]$PSVersionTable.PSVersion, $command)
}

# The newest module version this host's PowerShell can load, or $null for no limit (PowerShell 7.6 and later).
function Get-RunnerModuleMaximum {
    param($Settings)
    $help = $Settings.module_help
    if ((Get-RunnerShellVersion) -ge [version][string]$help.ps_version) { return $null }
    return [version][string]$help.old_shell_max
}

# The newest installed ExchangeOnlineManagement no newer than Maximum ($null: any), or $null.
function Get-RunnerInstalledModule {
    param($Maximum)
    Get-Module -ListAvailable -Name ExchangeOnlineManagement | Where-Object { (-not $Maximum) -or ($_.Version -le $Maximum) } |
        Sort-Object -Property Version -Descending | Select-Object -First 1
}

# The module, installed first when allowed; sets module_version and module_installed of Result (a worker passes one
# of its own, which nobody reads: only the main session installs).
function Import-RunnerModule {
    param($Settings, $Result)
    $minimum = [version][string]$Settings.min_version
    # Below PowerShell 7.6 the newest module (3.10 and later) cannot load: install and import only the last line that
    # can (module_help.old_shell_max, the controller's rule), else Install-Module would fetch one this host refuses.
    $maximum = Get-RunnerModuleMaximum -Settings $Settings
    if ($maximum -and ($minimum -gt $maximum)) {
        throw ('ExchangeOnlineManagement {0} or later cannot run on this host''s PowerShell {1}{2}' -f $minimum, [string]$PSVersionTable.PSVersion, (Get-RunnerModuleAdvice -Settings $Settings))
    }
    $module = Get-RunnerInstalledModule -Maximum $maximum
    if ((-not $module) -or ($module.Version -lt $minimum)) {
        if (-not $Settings.install_module) {
            $found = 'none'
            if ($module) { $found = [string]$module.Version }
            throw ('ExchangeOnlineManagement {0} or later is not installed on this host (found: {1}){2}' -f $minimum, $found, (Get-RunnerModuleAdvice -Settings $Settings))
        }
        $install = @{ Name = 'ExchangeOnlineManagement'; MinimumVersion = $minimum; Scope = [string]$Settings.module_scope; Force = $true; AllowClobber = $true; ErrorAction = 'Stop' }
        if ($maximum) { $install['MaximumVersion'] = $maximum }
        Install-Module @install 3>$null 6>$null | Out-Null
        $module = Get-RunnerInstalledModule -Maximum $maximum
        $Result.module_installed = $true
    }
    $import = @{ Name = 'ExchangeOnlineManagement'; MinimumVersion = $minimum; ErrorAction = 'Stop' }
    if ($maximum) { $import['MaximumVersion'] = $maximum }
    Import-Module @import 3>$null 6>$null | Out-Null
    $Result.module_version = [string]$module.Version
}

# Connect-ExchangeOnline with the payload's login; $false for an existing session (not ours to disconnect).
function Connect-RunnerSession {
    param($Settings, [string[]]$CommandName)
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
        'access_token' {
            $connect['AccessToken'] = [string]$Settings.access_token
            # Connect-ExchangeOnline -AccessToken takes -Organization with an app's token, -UserPrincipalName with a person's.
            if ($Settings.user_principal_name) {
                $connect['UserPrincipalName'] = [string]$Settings.user_principal_name
                $connect.Remove('Organization')
            }
        }
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
    Connect-ExchangeOnline @connect 3>$null 6>$null | Out-Null
    return $true
}

# -- Parallel sessions ------------------------------------------------------------------------------
# Microsoft's sample "Connect to Exchange Online PowerShell in C#" runs a RunspacePool of 3 and warns not to
# change one object from several runspaces at once: each worker runspace here connects on its own, and a
# mailbox always goes to the same session (round-robin on first sight), so no two sessions touch it.
# Runspaces, not ForEach-Object -Parallel, which Windows PowerShell 5.1 lacks.

# How many sessions a plan gains from: at most the payload's max, and at least keys_per_session keys of the
# largest for_each list per session, so a small task keeps exactly one Connect-ExchangeOnline. Both numbers are
# the controller's (Assert-RunnerPayload has checked them).
function Get-RunnerSessionCount {
    param($Sessions, $Plan, $Settings)
    # A session that exists already cannot be opened again in another runspace.
    if ($Settings.auth -eq 'existing_session') { return 1 }
    $keys = 0
    foreach ($step in $Plan) {
        if ($step.HasForeach -and -not $step.From) { $keys = [Math]::Max($keys, @($step.Values).Count) }
    }
    [int][Math]::Max(1, [Math]::Min([int]$Sessions.max, [Math]::Floor($keys / [int]$Sessions.keys_per_session)))
}

# A runspace that holds every function of the runner: the definitions this runspace already parsed from the
# runner's own text, copied as they are (no payload text is ever evaluated). Commands: its own Get-Command cache,
# handed to each Invoke-RunnerBatch it runs (the runspace keeps no state of the runner between calls).
function New-RunnerWorker {
    $state = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
    foreach ($item in @(Get-ChildItem -Path Function: | Where-Object { $_.Name -match '-(Exo)?Runner' })) {
        $entry = New-Object System.Management.Automation.Runspaces.SessionStateFunctionEntry -ArgumentList $item.Name, $item.ScriptBlock.ToString()
        $state.Commands.Add($entry)
    }
    $runspace = [runspacefactory]::CreateRunspace($state)
    $runspace.Open()
    [pscustomobject]@{ Runspace = $runspace; Connected = $false; Shell = $null; Handle = $null; Commands = @{} }
}

# Start a runner function in a worker without waiting; Receive-RunnerWorker collects what it wrote.
function Start-RunnerWorker {
    param($Worker, [string]$Command, [hashtable]$Arguments)
    $shell = [powershell]::Create()
    $shell.Runspace = $Worker.Runspace
    [void]$shell.AddCommand($Command)
    foreach ($name in $Arguments.Keys) { [void]$shell.AddParameter($name, $Arguments[$name]) }
    $Worker.Shell = $shell
    $Worker.Handle = $shell.BeginInvoke()
}

function Receive-RunnerWorker {
    param($Worker)
    try { $output = @($Worker.Shell.EndInvoke($Worker.Handle)) }
    finally { $Worker.Shell.Dispose(); $Worker.Shell = $null; $Worker.Handle = $null }
    $output
}

# What a worker runs first: the module (a result of its own for Import-RunnerModule to fill, which nobody reads),
# then its session.
function Connect-RunnerWorker {
    param($Settings, [string[]]$CommandName)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    Import-RunnerModule -Settings $Settings -Result (New-RunnerResult)
    [void](Connect-RunnerSession -Settings $Settings -CommandName $CommandName)
}

function Disconnect-RunnerWorker {
    Disconnect-ExchangeOnline -Confirm:$false -ErrorAction Stop 3>$null 6>$null | Out-Null
}

# Open and connect the workers (sessions 2..k) all at once while the main session connects; a worker that
# cannot connect is dropped with a warning (office-docs-powershell#10902 reports runspaces after the first
# failing to see the connection), and the run goes on with the sessions that did connect.
function Open-RunnerWorkers {
    param([int]$Count, $Settings, [string[]]$CommandName)
    $settingsCopy = $Settings.PSObject.Copy()
    # Only the main session installs the module; it has done so by now.
    $settingsCopy | Add-Member -NotePropertyName install_module -NotePropertyValue $false -Force
    $workers = @()
    for ($i = 1; $i -lt $Count; $i++) {
        $worker = New-RunnerWorker
        Start-RunnerWorker -Worker $worker -Command 'Connect-RunnerWorker' -Arguments @{ Settings = $settingsCopy; CommandName = $CommandName }
        $workers += $worker
    }
    ,$workers
}

function Wait-RunnerWorkers {
    param($Workers, $Result)
    $ready = @()
    $index = 1
    foreach ($worker in $Workers) {
        $index++
        try {
            [void](Receive-RunnerWorker -Worker $worker)
            $worker.Connected = $true
            $ready += $worker
        }
        catch {
            $message = [string]$_.Exception.Message
            if ($_.Exception.InnerException) { $message = [string]$_.Exception.InnerException.Message }
            $Result.warnings.Add(('Exchange session {0} could not connect and is not used: {1}' -f $index, $message))
            Close-RunnerWorker -Worker $worker -Result $Result
        }
    }
    ,$ready
}

function Close-RunnerWorker {
    param($Worker, $Result)
    if ($Worker.Connected) {
        try {
            Start-RunnerWorker -Worker $Worker -Command 'Disconnect-RunnerWorker' -Arguments @{}
            [void](Receive-RunnerWorker -Worker $Worker)
        }
        catch { $Result.warnings.Add(('Disconnect-ExchangeOnline failed in a parallel session: {0}' -f $_.Exception.Message)) }
        $Worker.Connected = $false
    }
    try { $Worker.Runspace.Dispose() } catch { }
}

# -- One path for every step ---------------------------------------------------------------------------
# One session's share of a step: the cmdlet once per item (Position, Key), in order; a failed write ends this share.
# Bulk: the parameter that takes the key ($null: a step without keys, called once as it is).
function Invoke-RunnerBatch {
    param([string]$Cmdlet, [hashtable]$Params, [string]$Bulk, $Items, $Retry, [bool]$Write, $Progress, [hashtable]$Commands)
    foreach ($item in $Items) {
        $params = $Params.Clone()
        if ($Bulk) { $params[$Bulk] = $item.Key }
        $call = Invoke-RunnerCall -Cmdlet $Cmdlet -Params $params -Retry $Retry -Commands $Commands
        Step-RunnerProgress -Progress $Progress
        [pscustomobject]@{ Position = $item.Position; Key = $item.Key; Call = $call }
        if (Test-RunnerStops -Call $call -Write $Write) { break }
    }
}

# Items spread over the main session and Workers (none: every item runs here, in order), each session's share
# run at once; a key goes to the session it went to first (Run.SessionOf), round-robin on first sight. Returns
# the outcomes in position order and how many items the sessions left unattempted after their own failed write.
function Invoke-RunnerSpread {
    param($Run, $Workers, [string]$Cmdlet, [hashtable]$Params, [string]$Bulk, $Items, [bool]$Write, $Progress, [int]$Positions)
    $count = 1 + @($Workers).Count
    $shares = @()
    for ($i = 0; $i -lt $count; $i++) { $shares += ,(New-Object System.Collections.Generic.List[object]) }
    foreach ($item in $Items) {
        $session = 0
        if ($count -gt 1) {
            $name = [string]$item.Key
            if (-not $Run.SessionOf.ContainsKey($name)) { $Run.SessionOf[$name] = $Run.SessionNext % $count; $Run.SessionNext++ }
            $session = $Run.SessionOf[$name]
        }
        $shares[$session].Add($item)
    }
    $started = @()
    for ($i = 1; $i -lt $count; $i++) {
        if ($shares[$i].Count -eq 0) { continue }
        $worker = $Workers[$i - 1]
        Start-RunnerWorker -Worker $worker -Command 'Invoke-RunnerBatch' -Arguments @{
            Cmdlet = $Cmdlet; Params = $Params; Bulk = $Bulk; Items = $shares[$i].ToArray(); Retry = $Run.Retry; Write = $Write; Progress = $Progress
            Commands = $worker.Commands }
        $started += [pscustomobject]@{ Worker = $worker; Share = $shares[$i] }
    }
    # Each outcome in the slot of its position (0 .. Positions-1): key order back without sorting.
    $slots = New-Object 'object[]' $Positions
    $skipped = 0
    $done = @(Invoke-RunnerBatch -Cmdlet $Cmdlet -Params $Params -Bulk $Bulk -Items $shares[0].ToArray() -Retry $Run.Retry -Write $Write -Progress $Progress `
        -Commands $Run.Commands)
    $skipped += $shares[0].Count - $done.Count
    foreach ($outcome in $done) { $slots[$outcome.Position] = $outcome }
    $failure = $null
    foreach ($job in $started) {
        try { $done = @(Receive-RunnerWorker -Worker $job.Worker) }
        catch { if (-not $failure) { $failure = $_ }; $done = @() }
        $skipped += $job.Share.Count - $done.Count
        foreach ($outcome in $done) { $slots[$outcome.Position] = $outcome }
    }
    if ($failure) { throw $failure }
    $outcomes = @(foreach ($slot in $slots) { if ($null -ne $slot) { $slot } })
    [pscustomobject]@{ Outcomes = $outcomes; Skipped = $skipped }
}

# Every step, bulk or not, on this one path. Its keys: for_each (or for_each_from, resolved before), the tenant's
# mailboxes for find-by-user, or the one $null key of a step without keys. The conditions are decided here, in the
# main session, for every key first (they look only at earlier reads, all done by now); the keys that pass are
# spread over the sessions (a step without keys stays in the main one); the answers are added in key order.
# Progress counts every key of a bulk step: one its conditions skip is done at once.
# Stopped: the first failed write in key order, whichever session ran it; skipped: the keys whose conditions held
# but that a failed write left unattempted.
function Invoke-RunnerStep {
    param($Run, $Step)
    $definition = $Step.Definition
    $findByUser = $definition.Kind -eq 'find_by_user'
    $bulk = $null
    $keys = @($null)
    if ($findByUser) {
        $list = Invoke-RunnerCall -Cmdlet 'Get-EXOMailbox' -Params @{ ResultSize = 'Unlimited' } -Retry $Run.Retry -Commands $Run.Commands
        if (-not $list.Ok) { Add-RunnerResult -Run $Run -Step $Step -Key $null -Call $list; return }
        $bulk = 'Identity'
        $keys = @(foreach ($mailbox in $list.Output) { [string]$mailbox.UserPrincipalName })
    }
    elseif ($Step.HasForeach) {
        $bulk = $definition.Bulk
        $keys = @($Step.Values)
    }
    $workers = @()
    $progress = $null
    if ($bulk) {
        $workers = $Run.Workers
        $progress = $Run.Progress
        Start-RunnerProgress -Progress $progress -Op $Step.Name -Total $keys.Count
    }
    $items = New-Object System.Collections.Generic.List[object]
    $position = 0
    $conditionalSkips = 0
    foreach ($key in $keys) {
        if (Test-RunnerWhen -Step $Step -Key $key -ByKey $Run.ByKey) { $items.Add([pscustomobject]@{ Position = $position; Key = $key }) }
        else { $conditionalSkips++ }
        $position++
    }
    $Run.Result.conditional_skips += $conditionalSkips
    if ($conditionalSkips) { Step-RunnerProgress -Progress $progress -Count $conditionalSkips }
    if ($items.Count -eq 0) { return }
    $spread = Invoke-RunnerSpread -Run $Run -Workers $workers -Cmdlet $definition.Cmdlet -Params $Step.Params -Bulk $bulk -Items $items.ToArray() `
        -Write $definition.Write -Progress $progress -Positions $keys.Count
    foreach ($outcome in $spread.Outcomes) {
        if ($findByUser) {
            # Find-by-user reads every mailbox: one that fails is a warning, one without the user's rows no result.
            if (-not $outcome.Call.Ok) { $Run.Result.warnings.Add(('{0}: {1}' -f $outcome.Key, $outcome.Call.Error.message)) }
            elseif ($outcome.Call.Output.Count -gt 0) { Add-RunnerResult -Run $Run -Step $Step -Key $outcome.Key -Call $outcome.Call }
            continue
        }
        Add-RunnerResult -Run $Run -Step $Step -Key $outcome.Key -Call $outcome.Call
        if ((Test-RunnerStops -Call $outcome.Call -Write $definition.Write) -and -not $Run.Result.stopped) {
            $Run.Result.stopped = $true
            $Run.Result.stopped_at = [ordered]@{ op_index = $Step.Index; op = $Step.Name; key = $outcome.Key }
        }
    }
    $Run.Result.skipped += $spread.Skipped
}

# One run: connect, run the plan, always disconnect. Returns the result document; never throws.
function Invoke-ExoRunner {
    param([string]$PayloadJson, [string]$AllowListJson)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    $run = New-RunnerContext
    $answer = $run.Result
    $connected = $false
    try {
        $run.AllowList = ConvertTo-RunnerAllowList -Json $AllowListJson
        $payload = ConvertFrom-Json -InputObject $PayloadJson
        if ($payload.version -ne (Get-RunnerVersion)) { throw ('Unsupported payload version {0}' -f $payload.version) }
        $plan = @(Get-RunnerPlan -Operations @($payload.operations) -AllowList $run.AllowList)
        $run.Retry = Assert-RunnerPayload -Payload $payload
        $run.Progress.Enabled = ($payload.progress -eq $true)
        $cmdlets = @($plan | ForEach-Object { $_.Definition.Cmdlet } | Where-Object { $_ -notlike 'Get-EXO*' } | Sort-Object -Unique)

        $sessionCount = Get-RunnerSessionCount -Sessions $payload.sessions -Plan $plan -Settings $payload.connection
        Import-RunnerModule -Settings $payload.connection -Result $answer
        # The workers connect while the main session does: the connect time is paid once in wall time.
        if ($sessionCount -gt 1) { $run.Workers = Open-RunnerWorkers -Count $sessionCount -Settings $payload.connection -CommandName $cmdlets }
        try { $connected = Connect-RunnerSession -Settings $payload.connection -CommandName $cmdlets }
        finally { if ($run.Workers.Count) { $run.Workers = Wait-RunnerWorkers -Workers $run.Workers -Result $answer } }
        $answer.connected = $true
        $answer.sessions = 1 + $run.Workers.Count

        foreach ($step in $plan) {
            if ($step.From) { $step.Values = @(Get-RunnerKeysFrom -From $step.From -Results $answer.results) }
            if ($answer.stopped) {
                $answer.skipped += [Math]::Max(1, $step.Values.Count)
                continue
            }
            Invoke-RunnerStep -Run $run -Step $step
        }
    }
    catch {
        $answer.failed = $true
        $answer.msg = [string]$_.Exception.Message
        $answer.error = Get-RunnerError -Record $_
    }
    finally {
        foreach ($worker in $run.Workers) { Close-RunnerWorker -Worker $worker -Result $answer }
        if ($connected) {
            try {
                Disconnect-ExchangeOnline -Confirm:$false -ErrorAction Stop 3>$null 6>$null | Out-Null
                $answer.disconnected = $true
            }
            catch {
                $answer.warnings.Add(('Disconnect-ExchangeOnline failed: {0}' -f $_.Exception.Message))
            }
        }
    }
    $answer
}

# The answer as one line of ASCII-only JSON: stdout goes out in the console code page (437 or another OEM
# page over some WinRM clients and ssh), which would turn "j\u00fcrgen" into "j?rgen"; \uXXXX survives every path.
function ConvertTo-RunnerJson {
    param($Value)
    $json = ConvertTo-Json -InputObject $Value -Depth 12 -Compress
    $escape = [System.Text.RegularExpressions.MatchEvaluator] { param($m) '\u{0:x4}' -f [int][char]$m.Value }
    [regex]::Replace($json, '[^\x00-\x7f]', $escape)
}

if ($PayloadJson) {
    ConvertTo-RunnerJson -Value (Invoke-ExoRunner -PayloadJson $PayloadJson -AllowListJson $AllowListJson)
}
