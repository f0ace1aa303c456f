# The real bootstrap in a child PowerShell, as the WinRM host runs it: -EncodedCommand, three base64 lines on
# stdin, the stub ExchangeOnlineManagement found on PSModulePath. The children start together in the first
# BeforeAll (about half a second each) and each Describe waits for its own.
# Windows PowerShell 5.1 syntax only, ASCII only (non-ASCII text is built from code points).

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Marker = Join-Path ([IO.Path]::GetTempPath()) ('m365-pester-' + [guid]::NewGuid().ToString('n'))
    $Hostile = @(
        ("'; Set-Content -Path '" + $Marker + "-1' -Value pwned #"),
        ('$(Set-Content -Path ''' + $Marker + '-2'' -Value pwned)'),
        '$(Write-Host pwned)'
    )
    $Cp437 = '[Console]::OutputEncoding = [Text.Encoding]::GetEncoding(437)' + "`n"
    $Noise = $ChildStubSetup + @'
$global:ExoStub.ImportNoise = $true
$global:ExoStub.Handlers['Connect-ExchangeOnline'] = {
    Write-Host 'Connect banner: This V3 EXO PowerShell module contains new REST API backed Exchange Online cmdlets'
    Write-Host '----------------------------------------------------------------------------------------'
    Write-Output 'connect output noise'
    Write-Warning 'connect warning'
    Write-Information 'connect information' -InformationAction Continue
    Write-Progress -Activity 'Connecting' -Status 'half way' -PercentComplete 50
}
$global:ExoStub.Handlers['Get-Mailbox'] = {
    param($p)
    Write-Host ('host output for ' + $p.Identity)
    Write-Warning 'mailbox warning'
    Write-Information 'mailbox information' -InformationAction Continue
    [pscustomobject]@{ Identity = $p.Identity; UserPrincipalName = $p.Identity; DisplayName = $p.Identity }
}
$global:ExoStub.Handlers['Get-MailboxPermission'] = {
    param($p)
    Write-Host 'permission host output'
    New-FullRow -Mailbox $p.Identity -Rights @('FullAccess', 'ReadPermission')
}
$global:ExoStub.Handlers['Disconnect-ExchangeOnline'] = {
    Write-Host 'Disconnected. Bye.'
    Write-Output 'disconnect output noise'
    Write-Warning 'disconnect warning'
}
'@
    $mailboxes = '[' + ((@($NonAsciiName) + $Hostile | ForEach-Object { ConvertTo-JsonString $_ }) -join ',') + ']'
    $NoisyPayload = New-TestPayload -Operations ('[{"op":"get_mailbox","for_each":' + $mailboxes + '},' +
        '{"op":"get_mailbox_permission","for_each":[' + (ConvertTo-JsonString $NonAsciiName) + '],"params":{"User":"sp"}}]')
    $SimplePayload = New-TestPayload -Operations ('[{"op":"get_mailbox","for_each":[' + (ConvertTo-JsonString $NonAsciiName) + ']}]')
    $Late437 = $ChildStubSetup + '$global:ExoStub.Data.Name = ' + "'" + $NonAsciiName + "'`n" + @'
$global:ExoStub.Handlers['Connect-ExchangeOnline'] = {
    [Console]::OutputEncoding = [Text.Encoding]::GetEncoding(437)
    [Console]::Error.WriteLine('raw:' + $global:ExoStub.Data.Name)
}
$global:ExoStub.Handlers['Get-Mailbox'] = { param($p) [pscustomobject]@{ Identity = $p.Identity; UserPrincipalName = $p.Identity } }
'@
    $TypeData = $ChildStubSetup + @'
Update-TypeData -TypeName System.Object[] -MemberType ScriptProperty -MemberName Count -Value { $this.Length } -Force
$global:ExoStub.Handlers['Get-MailboxPermission'] = {
    param($p)
    New-FullRow -Mailbox $p.Identity -Rights @('FullAccess', 'ReadPermission')
    New-FullRow -Mailbox $p.Identity -Rights @('FullAccess')
}
$global:ExoStub.Handlers['Get-RecipientPermission'] = { param($p) New-SendAsRow -Mailbox $p.Identity -Rights @('SendAs') }
$global:ExoStub.Handlers['Remove-MailboxPermission'] = { param($p) Write-Warning 'the ACE doesn''t exist on the object.' }
'@
    $TypeDataPayload = New-TestPayload -Operations ('[{"op":"get_mailbox_permission","for_each":["a@contoso.com"],"params":{"User":"sp"}},' +
        '{"op":"get_recipient_permission","for_each":["a@contoso.com"],"params":{"Trustee":"sp"}},' +
        '{"op":"remove_mailbox_permission","for_each":["a@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"]}}]')

    # payload.progress: a bulk step prints progress lines as it goes; with 3 sessions (40 keys, 2 per session) and alone.
    $ProgressKeys = @(1..40 | ForEach-Object { '"p{0:d2}@contoso.com"' -f $_ }) -join ','
    $ProgressOps = '[{"op":"get_mailbox","for_each":[' + $ProgressKeys + ']}]'
    $ProgressParallel = '{"version":' + $RunnerVersion + ',"connection":' + $ConnectionJson + ',"retry":{"attempts":1,"delay":0,"max_delay":0},' +
        '"sessions":{"max":3,"keys_per_session":2},"progress":true,"operations":' + $ProgressOps + '}'
    $ProgressAlone = '{"version":' + $RunnerVersion + ',"connection":' + $ConnectionJson + ',"retry":{"attempts":1,"delay":0,"max_delay":0},' +
        '"sessions":' + $SessionsJson + ',"progress":true,"operations":[{"op":"get_mailbox","for_each":["a@contoso.com","b@contoso.com","c@contoso.com"]}]}'

    $Children = @{
        ProgressParallel = Start-ChildBootstrap -Payload $ProgressParallel -Prefix $ChildStubSetup
        ProgressAlone = Start-ChildBootstrap -Payload $ProgressAlone -Prefix $ChildStubSetup
        Noisy437 = Start-ChildBootstrap -Payload $NoisyPayload -Prefix ($Cp437 + $Noise)
        Utf8 = Start-ChildBootstrap -Payload $SimplePayload -Prefix $Noise
        Late437 = Start-ChildBootstrap -Payload $SimplePayload -Prefix $Late437
        Constrained = Start-ChildBootstrap -Payload $SimplePayload -Prefix ($ChildStubSetup + '$ExecutionContext.SessionState.LanguageMode = ''ConstrainedLanguage''')
        TypeData = Start-ChildBootstrap -Payload $TypeDataPayload -Prefix $TypeData
    }

    function Assert-OneAsciiJsonLine {
        param($Run)
        $Run.Lines.Count | Should -Be 1 -Because ('stdout was: ' + $Run.Stdout + ' stderr: ' + $Run.Stderr)
        $Run.Stdout.TrimEnd("`r", "`n") | Should -BeExactly $Run.Lines[0]
        @($Run.Bytes | Where-Object { $_ -gt 0x7e -or ($_ -lt 0x20 -and $_ -ne 10 -and $_ -ne 13) }).Count | Should -Be 0
        $Run.Lines[0] | Should -Match '^\{.*\}$'
        ConvertFrom-Json -InputObject $Run.Lines[0]
    }
}

AfterAll {
    foreach ($child in $Children.Values) { if (-not $child.Process.HasExited) { $child.Process.Kill() } }
    Remove-Item -Path ($Marker + '*') -Force -ErrorAction SilentlyContinue
}

Describe 'stdout carries exactly one line, whatever the cmdlets print (console code page 437)' {
    BeforeAll {
        $Run = Wait-ChildBootstrap $Children.Noisy437
        $Answer = Assert-OneAsciiJsonLine $Run
    }

    It 'is one line of ASCII JSON and the run succeeded' {
        $Run.ExitCode | Should -Be 0
        $Answer.failed | Should -BeFalse
        $Answer.connected | Should -BeTrue
        $Answer.disconnected | Should -BeTrue
        @($Answer.results).Count | Should -Be 5
    }

    It 'lets no banner, host output, output noise, warning or information through' {
        foreach ($text in 'banner', '-----', 'host output', 'output noise', 'connect warning', 'information', 'Bye', 'while importing', 'half way') {
            $Run.Stdout | Should -Not -BeLike ('*' + $text + '*')
        }
    }

    It 'keeps the warning of a call in its result instead' {
        @($Answer.results[0].warnings) | Should -Be @('mailbox warning')
    }

    It 'brings the non-ASCII identity back intact as \u escapes' {
        $Run.Lines[0] | Should -BeLike '*j\u00fcrgen.\u00f8rsted-\u00df\u00fc@contoso.com*'
        $Answer.results[0].key | Should -BeExactly $NonAsciiName
        $Answer.results[0].output[0].UserPrincipalName | Should -BeExactly $NonAsciiName
        $Answer.results[4].key | Should -BeExactly $NonAsciiName
    }

    It 'keeps AccessRights an array' {
        @($Answer.results[4].output[0].AccessRights) | Should -Be @('FullAccess', 'ReadPermission')
    }

    It 'passes hostile identities as data and runs none of them' {
        @($Answer.results[1..3] | ForEach-Object { $_.key }) | Should -Be $Hostile
        @($Answer.results[1..3] | ForEach-Object { $_.output[0].Identity }) | Should -Be $Hostile
        Test-Path ($Marker + '-1') | Should -BeFalse
        Test-Path ($Marker + '-2') | Should -BeFalse
        # Write-Host pwned would have reached stderr or stdout; stdout is the one JSON line (above).
        $Run.Stderr | Should -Not -BeLike '*pwned*'
    }
}

Describe 'non-ASCII answers survive any console encoding' {
    It 'with the console left as the bootstrap sets it (UTF-8)' {
        $run = Wait-ChildBootstrap $Children.Utf8
        $answer = Assert-OneAsciiJsonLine $run
        $answer.results[0].key | Should -BeExactly $NonAsciiName
        $answer.results[0].output[0].UserPrincipalName | Should -BeExactly $NonAsciiName
    }

    It 'with code page 437 forced after the bootstrap, where raw text does not survive' {
        $run = Wait-ChildBootstrap $Children.Late437
        $answer = Assert-OneAsciiJsonLine $run
        $answer.failed | Should -BeFalse
        $answer.results[0].output[0].UserPrincipalName | Should -BeExactly $NonAsciiName
        # The control: the same name written raw in that code page comes out mangled.
        $run.Stderr | Should -BeLike '*raw:*'
        $run.Stderr.Contains($NonAsciiName) | Should -BeFalse
    }
}

Describe 'the bootstrap checks the language mode first' {
    It 'answers one JSON line, failed, naming ConstrainedLanguage' {
        $run = Wait-ChildBootstrap $Children.Constrained
        $answer = Assert-OneAsciiJsonLine $run
        $run.ExitCode | Should -Be 1
        $answer.failed | Should -BeTrue
        $answer.version | Should -Be $RunnerVersion
        $answer.language_mode | Should -Be 'ConstrainedLanguage'
        $answer.msg | Should -BeLike '*ConstrainedLanguage mode*'
        $answer.msg | Should -BeLike '*delegate_to: localhost*'
    }
}

Describe 'the bootstrap checks that all of stdin arrived' {
    It 'answers one JSON line, failed, when the payload line is missing' {
        $run = Wait-ChildBootstrap (Start-ChildBootstrap -Payload (New-TestPayload -Operations '[]') -LineCount 2)
        $answer = Assert-OneAsciiJsonLine $run
        $run.ExitCode | Should -Be 1
        $answer.failed | Should -BeTrue
        $answer.msg | Should -BeLike '*2 of 3 lines*'
    }
}

Describe 'arrays under Windows PowerShell 5.1 type data (an extra Count on System.Object[])' {
    BeforeAll {
        $Run = Wait-ChildBootstrap $Children.TypeData
        $Answer = Assert-OneAsciiJsonLine $Run
    }

    It 'the run succeeded' {
        $Answer.failed | Should -BeFalse -Because $Answer.msg
    }

    It 'serialises AccessRights as plain JSON arrays' {
        $Run.Lines[0] | Should -Match ([regex]::Escape('"AccessRights":["FullAccess","ReadPermission"]'))
        $Run.Lines[0] | Should -Match ([regex]::Escape('"AccessRights":["FullAccess"]'))
        $Run.Lines[0] | Should -Match ([regex]::Escape('"AccessRights":["SendAs"]'))
    }

    It 'serialises no array as {"value":[...],"Count":n}' {
        $Run.Lines[0] | Should -Not -Match '"value":'
        $Run.Lines[0] | Should -Not -Match '"Count":'
    }

    It 'keeps results, output and warnings arrays' {
        $Run.Lines[0] | Should -Match ([regex]::Escape('"warnings":["the ACE doesn''t exist on the object."]'))
        $Run.Lines[0] | Should -Match '"results":\[\{'
        $Run.Lines[0] | Should -Match '"output":\[\{'
    }
}

Describe 'progress lines while a bulk step runs (payload.progress)' {
    It 'prints about every 5 % over all sessions, in order, then the answer as the last line' {
        $run = Wait-ChildBootstrap $Children.ProgressParallel
        $progress = @($run.Lines | Select-Object -SkipLast 1)
        $progress.Count | Should -Be 20 -Because ('stdout was: ' + $run.Stdout + ' stderr: ' + $run.Stderr)
        foreach ($line in $progress) { $line | Should -Match '^#m365\.mail_oauth:progress get_mailbox \d+/40$' }
        $counts = @($progress | ForEach-Object { [int]($_ -replace '^.* (\d+)/40$', '$1') })
        $counts | Should -Be @(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40)
        $answer = ConvertFrom-Json -InputObject $run.Lines[-1]
        $answer.failed | Should -BeFalse -Because $answer.msg
        $answer.sessions | Should -Be 3
    }

    It 'prints every key of a short step in one session' {
        $run = Wait-ChildBootstrap $Children.ProgressAlone
        @($run.Lines | Select-Object -SkipLast 1) | Should -Be @('#m365.mail_oauth:progress get_mailbox 1/3', '#m365.mail_oauth:progress get_mailbox 2/3',
            '#m365.mail_oauth:progress get_mailbox 3/3')
        (ConvertFrom-Json -InputObject $run.Lines[-1]).failed | Should -BeFalse
    }
}
