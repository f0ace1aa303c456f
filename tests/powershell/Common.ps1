# Shared by tests/powershell/*.Tests.ps1: dot-source it in BeforeAll. Windows PowerShell 5.1 syntax only, ASCII only.
#
# It dot-sources the runner (plugins/plugin_utils/exchange/runner.ps1, or the file M365_RUNNER_PATH names, to
# try the suite against a modified copy), puts the stub ExchangeOnlineManagement (fixtures/modules) first
# on PSModulePath, and reads the allow-list and the bootstrap from fixtures/ (the same texts
# exchange/runner_protocol.py sends; tests/unit/plugin_utils/test_runner_fixtures.py keeps them identical).

$TestRoot = $PSScriptRoot
$RepoRoot = (Resolve-Path (Join-Path $TestRoot '..\..')).Path
$FixtureDir = Join-Path $TestRoot 'fixtures'
$RunnerPath = Join-Path $RepoRoot (Join-Path 'plugins' (Join-Path 'plugin_utils' (Join-Path 'exchange' 'runner.ps1')))
if ($env:M365_RUNNER_PATH) { $RunnerPath = (Resolve-Path $env:M365_RUNNER_PATH).Path }
# First: dot-sourced without arguments, its param() block sets $PayloadJson and $AllowListJson here.
. $RunnerPath
$AllowListJson = [IO.File]::ReadAllText((Join-Path $FixtureDir 'allow_list.json'))
$BootstrapText = [IO.File]::ReadAllText((Join-Path $FixtureDir 'bootstrap.ps1'))
$StubModulePath = Join-Path $FixtureDir 'modules'
if (-not (@($env:PSModulePath -split [IO.Path]::PathSeparator) -contains $StubModulePath)) {
    $env:PSModulePath = $StubModulePath + [IO.Path]::PathSeparator + $env:PSModulePath
}
$ConnectionJson = '{"auth":"access_token","access_token":"tok","organization":"contoso.onmicrosoft.com","environment":"O365Default","min_version":"3.1.0","install_module":false}'


function Reset-ExoStub {
    $global:ExoStub = @{
        Calls = New-Object System.Collections.Generic.List[object]
        Handlers = @{}
        Data = @{}
        ImportNoise = $false
    }
    # Worker runspaces of the runner (parallel sessions) read the same state from here (the stub module does).
    [AppDomain]::CurrentDomain.SetData('M365ExoStub', $global:ExoStub)
}

function Set-ExoHandler {
    param([string]$Name, [scriptblock]$ScriptBlock)
    $global:ExoStub.Handlers[$Name] = $ScriptBlock
}

# The calls the stub saw, optionally of one cmdlet.
function Get-ExoCall {
    param([string]$Name)
    @($global:ExoStub.Calls | Where-Object { (-not $Name) -or $_.Name -eq $Name })
}

function New-TestPayload {
    param([string]$Operations, [string]$Retry = '{"attempts":3,"delay":0,"max_delay":0}', [string]$Connection = $ConnectionJson)
    '{"version":' + $RunnerVersion + ',"connection":' + $Connection + ',"retry":' + $Retry + ',"operations":' + $Operations + '}'
}

# Run the runner in this process as the bootstrap would, and read its answer back from the JSON line.
# The raw line is in $global:LastRunnerJson.
function Invoke-TestRunner {
    param([string]$Operations, [string]$Retry = '{"attempts":3,"delay":0,"max_delay":0}', [string]$Connection = $ConnectionJson)
    $payload = New-TestPayload -Operations $Operations -Retry $Retry -Connection $Connection
    $global:LastRunnerJson = ConvertTo-RunnerJson -Value (Invoke-ExoRunner -PayloadJson $payload -AllowListJson $AllowListJson)
    ConvertFrom-Json -InputObject $global:LastRunnerJson
}

# A JSON string literal of any text (for hostile and non-ASCII values in payloads).
function ConvertTo-JsonString {
    param([string]$Text)
    ConvertTo-Json -InputObject $Text -Compress
}

function ConvertTo-Base64Line {
    param([string]$Text)
    [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text))
}

# How to start this same PowerShell again: pwsh, or powershell.exe under Windows PowerShell 5.1. A pwsh
# hosted by dotnet (the global tool, ../shared/tools/powershell) is dotnet plus the path of pwsh.dll.
function Get-PowerShellCommand {
    $exe = (Get-Process -Id $PID).Path
    $arguments = ''
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $arguments = '"' + [Environment]::GetCommandLineArgs()[0] + '" ' }
    [pscustomobject]@{ FileName = $exe; Arguments = $arguments }
}

# Run the real bootstrap in a child PowerShell as a WinRM host would: -EncodedCommand, the three base64
# lines on stdin, the stub module on PSModulePath. $Prefix runs before the bootstrap (console code page,
# language mode, type data, stub handlers: see $ChildStubSetup). Start-ChildBootstrap returns at once, so
# that a test file can start all its children together; Wait-ChildBootstrap returns the exit code, stdout
# as raw bytes, as text and as lines, and stderr.
function Start-ChildBootstrap {
    # -LineCount below 3 cuts stdin short, as a connection that lost part of it would.
    param([string]$Payload, [string]$Prefix = '', [string]$Runner, [int]$LineCount = 3)
    if (-not $Runner) { $Runner = [IO.File]::ReadAllText($RunnerPath) }
    $command = $Prefix + "`n" + $BootstrapText
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command))
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $shell = Get-PowerShellCommand
    $info.FileName = $shell.FileName
    $info.Arguments = $shell.Arguments + '-NoProfile -NonInteractive -EncodedCommand ' + $encoded
    $info.UseShellExecute = $false
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.EnvironmentVariables['PSModulePath'] = $env:PSModulePath
    $process = [System.Diagnostics.Process]::Start($info)
    $buffer = New-Object System.IO.MemoryStream
    $child = [pscustomobject]@{
        Process = $process
        Buffer = $buffer
        Copy = $process.StandardOutput.BaseStream.CopyToAsync($buffer)
        Errors = $process.StandardError.ReadToEndAsync()
    }
    $lines = @((ConvertTo-Base64Line $Runner), (ConvertTo-Base64Line $AllowListJson), (ConvertTo-Base64Line $Payload))
    $stdin = (@($lines | Select-Object -First $LineCount) -join "`n") + "`n"
    $process.StandardInput.Write($stdin)
    $process.StandardInput.Close()
    $child
}

function Wait-ChildBootstrap {
    param($Child)
    if (-not $Child.Process.WaitForExit(90000)) { $Child.Process.Kill(); throw 'the child PowerShell did not finish within 90 s' }
    $Child.Copy.Wait()
    $bytes = $Child.Buffer.ToArray()
    $text = [Text.Encoding]::UTF8.GetString($bytes)
    [pscustomobject]@{
        ExitCode = $Child.Process.ExitCode
        Bytes = $bytes
        Stdout = $text
        Lines = @(($text -split "`r?`n") | Where-Object { $_ -ne '' })
        Stderr = $Child.Errors.Result
    }
}

function Invoke-ChildBootstrap {
    param([string]$Payload, [string]$Prefix = '', [string]$Runner)
    Wait-ChildBootstrap (Start-ChildBootstrap -Payload $Payload -Prefix $Prefix -Runner $Runner)
}

# The start of a child's prefix: the stub's state, as Reset-ExoStub makes it here.
$ChildStubSetup = '$global:ExoStub = @{ Calls = New-Object System.Collections.Generic.List[object]; Handlers = @{}; Data = @{}; ImportNoise = $false }' + "`n"

# Non-ASCII test data, built from code points so that this file stays ASCII.
$NonAsciiName = 'j' + [char]0x00FC + 'rgen.' + [char]0x00F8 + 'rsted-' + [char]0x00DF + [char]0x00FC + '@contoso.com'

# A small tenant behind the stub cmdlets, in $global:ExoStub.Data:
#   Principals  identity -> $true                 (Get-ServicePrincipal; otherwise not found)
#   Mailboxes   UPNs in order                     (Get-EXOMailbox -ResultSize Unlimited)
#   Aliases     identity -> UPN                   (Get-Mailbox resolves other spellings)
#   Full        mailbox -> rows                   (Get-MailboxPermission, Get-EXOMailboxPermission; -User filters)
#   SendAs      mailbox -> rows                   (Get-RecipientPermission; -Trustee filters)
#   Fail        'Cmdlet|identity' -> error kind   (New-ExoStubError kinds; any cmdlet, reads and writes)
# A mailbox is one that has a Full entry (possibly an empty list). Writes only record their call.
function Use-FakeTenant {
    $data = $global:ExoStub.Data
    $data.Principals = @{}
    $data.Mailboxes = New-Object System.Collections.Generic.List[string]
    $data.Aliases = @{}
    $data.Full = @{}
    $data.SendAs = @{}
    $data.Fail = @{}
    $fail = {
        param($p, $name)
        $kind = $global:ExoStub.Data.Fail[$name + '|' + [string]$p.Identity]
        if ($kind) { Write-ErrorMessage (New-ExoStubError -Kind $kind -Object ([string]$p.Identity)) }
    }
    Set-ExoHandler 'FailCheck' $fail
    Set-ExoHandler 'Get-ServicePrincipal' {
        param($p, $name)
        Invoke-ExoStubHandler -Handler 'FailCheck' -Params $p -Name $name
        if (-not $global:ExoStub.Data.Principals.ContainsKey([string]$p.Identity)) { Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
        [pscustomobject]@{ Identity = $p.Identity; DisplayName = 'App ' + $p.Identity; AppId = '66666666-7777-4888-8999-000000000000'; ObjectId = '66666666-7777-4888-8999-000000000001' }
    }
    $permission = {
        param($p, $name)
        Invoke-ExoStubHandler -Handler 'FailCheck' -Params $p -Name $name
        $table = $global:ExoStub.Data.Full
        $filter = $p.User
        if ($name -eq 'Get-RecipientPermission') { $table = $global:ExoStub.Data.SendAs; $filter = $p.Trustee }
        if (-not $global:ExoStub.Data.Full.ContainsKey([string]$p.Identity)) { Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
        foreach ($row in @($table[[string]$p.Identity])) {
            if ($null -eq $row) { continue }
            $who = $row.User
            if ($name -eq 'Get-RecipientPermission') { $who = $row.Trustee }
            if ((-not $filter) -or $who -eq $filter) { $row }
        }
    }
    Set-ExoHandler 'Get-MailboxPermission' $permission
    Set-ExoHandler 'Get-EXOMailboxPermission' $permission
    Set-ExoHandler 'Get-RecipientPermission' $permission
    $mailbox = {
        param($p, $name)
        Invoke-ExoStubHandler -Handler 'FailCheck' -Params $p -Name $name
        $data = $global:ExoStub.Data
        if ($p.ContainsKey('Identity')) {
            $upn = [string]$p.Identity
            if ($data.Aliases.ContainsKey($upn)) { $upn = $data.Aliases[$upn] }
            if (-not $data.Full.ContainsKey($upn)) { Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
            [pscustomobject]@{ Identity = $upn.Split('@')[0]; UserPrincipalName = $upn; PrimarySmtpAddress = $upn }
        }
        else {
            foreach ($upn in $data.Mailboxes) { [pscustomobject]@{ Identity = $upn.Split('@')[0]; UserPrincipalName = $upn; PrimarySmtpAddress = $upn } }
        }
    }
    Set-ExoHandler 'Get-Mailbox' $mailbox
    Set-ExoHandler 'Get-EXOMailbox' $mailbox
    foreach ($write in @('New-ServicePrincipal', 'Set-ServicePrincipal', 'Remove-ServicePrincipal', 'Add-MailboxPermission', 'Remove-MailboxPermission',
            'Add-RecipientPermission', 'Remove-RecipientPermission', 'Set-CASMailbox')) {
        Set-ExoHandler $write $fail
    }
}

# Add a mailbox to the fake tenant (listed by Get-EXOMailbox unless -Hidden).
function Add-FakeMailbox {
    param([string]$Upn, [object[]]$Full = @(), [object[]]$SendAs = @(), [switch]$Hidden)
    $data = $global:ExoStub.Data
    if (-not $Hidden) { $data.Mailboxes.Add($Upn) }
    $data.Full[$Upn] = $Full
    $data.SendAs[$Upn] = $SendAs
}

# The identities a cmdlet was called for, in order.
function Get-ExoCallIdentity {
    param([string]$Name)
    @(Get-ExoCall $Name | ForEach-Object { [string]$_.Params.Identity })
}

# Forget the calls so far, keep handlers and data.
function Reset-ExoCalls {
    $global:ExoStub.Calls.Clear()
}
