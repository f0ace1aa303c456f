# Parallel Exchange sessions (payload.sessions): how many sessions a run opens, one mailbox always in the same
# session, results merged back in key order, a failed write stopping only its own session's writes, a session
# that cannot connect left out, every session disconnected. The workers are real runspaces that import the stub
# module from PSModulePath (Common.ps1) and share the test's state through the AppDomain.
# Windows PowerShell 5.1 syntax only, ASCII only.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    function New-Mailboxes {
        param([int]$Count)
        @(1..$Count | ForEach-Object { 'm{0:d2}@contoso.com' -f $_ })
    }

    # Reads for every mailbox, then a conditional FullAccess add where the read found nothing (mailbox_permission's shape).
    function Get-ConvergeOperations {
        param([string[]]$Mailboxes)
        $list = ($Mailboxes | ForEach-Object { '"' + $_ + '"' }) -join ','
        '[{"op":"get_service_principal","params":{"Identity":"sp"}},' +
        '{"op":"get_mailbox_permission","for_each":[' + $list + '],"params":{"User":"sp"}},' +
        '{"op":"add_mailbox_permission","for_each":[' + $list + '],"params":{"User":"sp","AccessRights":["FullAccess"],"AutoMapping":false},' +
        '"when":[{"read":0,"key":null,"rows":"some","match":{}},{"read":1,"rows":"none","match":{"AccessRights":"FullAccess"}}]}]'
    }

    function Invoke-ParallelRunner {
        param([string]$Operations, [string]$Sessions = '{"max":3,"keys_per_session":2}', [string]$Connection = $ConnectionJson)
        Invoke-TestRunner -Operations $Operations -Sessions $Sessions -Connection $Connection
    }

    # The runner in this process with payload.progress, its progress lines caught from the console.
    function Invoke-ProgressRunner {
        param([string]$Operations, [string]$Sessions)
        $payload = (New-TestPayload -Operations $Operations -Sessions $Sessions) -replace '^\{', '{"progress":true,'
        $writer = New-Object System.IO.StringWriter
        $console = [Console]::Out
        [Console]::SetOut($writer)
        try { $answer = Invoke-ExoRunner -PayloadJson $payload -AllowListJson $AllowListJson }
        finally { [Console]::SetOut($console) }
        [pscustomobject]@{ Answer = $answer; Lines = @($writer.ToString() -split "`r?`n" | Where-Object { $_ -ne '' }) }
    }
}

AfterAll {
    [AppDomain]::CurrentDomain.SetData('M365ExoStub', $null)
}

Describe 'parallel sessions' {
    BeforeEach {
        Reset-ExoStub
        Use-FakeTenant
        $global:ExoStub.Data.Principals['sp'] = $true
        $script:Mailboxes = New-Mailboxes -Count 9
        foreach ($m in $script:Mailboxes) { Add-FakeMailbox $m }
        # m02 already has FullAccess: no write for it.
        $global:ExoStub.Data.Full['m02@contoso.com'] = @(New-FullRow -Mailbox 'm02@contoso.com')
    }

    It 'spreads the keys over three sessions, each mailbox in one session, results in key order' {
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes)
        $answer.failed | Should -BeFalse
        $answer.sessions | Should -Be 3
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 3
        @(Get-ExoCall 'Disconnect-ExchangeOnline').Count | Should -Be 3
        @(Get-ExoCall 'Connect-ExchangeOnline' | ForEach-Object { $_.Runspace } | Sort-Object -Unique).Count | Should -Be 3
        $reads = @($answer.results | Where-Object { $_.op_index -eq 1 } | ForEach-Object { $_.key })
        $reads | Should -Be $script:Mailboxes
        $writes = @($answer.results | Where-Object { $_.op_index -eq 2 } | ForEach-Object { $_.key })
        $writes | Should -Be @($script:Mailboxes | Where-Object { $_ -ne 'm02@contoso.com' })
        $answer.conditional_skips | Should -Be 1
        # The read and the write of one mailbox ran in the same runspace, and every runspace had three mailboxes.
        $byMailbox = @{}
        foreach ($call in (Get-ExoCall 'Get-MailboxPermission')) { $byMailbox[[string]$call.Params.Identity] = $call.Runspace }
        foreach ($call in (Get-ExoCall 'Add-MailboxPermission')) { $call.Runspace | Should -Be $byMailbox[[string]$call.Params.Identity] }
        @($byMailbox.Values | Group-Object | ForEach-Object { $_.Count }) | Should -Be @(3, 3, 3)
        # The principal read, not a bulk step, ran once, in the main session.
        @(Get-ExoCall 'Get-ServicePrincipal').Count | Should -Be 1
    }

    It 'keeps one session when the task has too few keys to gain' {
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes) -Sessions '{"max":3,"keys_per_session":20}'
        $answer.sessions | Should -Be 1
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 1
        @($answer.results | Where-Object { $_.op_index -eq 2 }).Count | Should -Be 8
    }

    It 'uses as many sessions as the keys allow, up to max' {
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes) -Sessions '{"max":3,"keys_per_session":4}'
        $answer.sessions | Should -Be 2
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 2
    }

    It 'a failed write stops that session only; the answer says where and how many were skipped' {
        # Sessions get m01,m04,m07 / m02,m05,m08 / m03,m06,m09 (round-robin in first-read order); m04 fails.
        $global:ExoStub.Data.Fail['Add-MailboxPermission|m04@contoso.com'] = 'Other'
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes)
        $answer.stopped | Should -BeTrue
        $answer.stopped_at.key | Should -Be 'm04@contoso.com'
        $answer.skipped | Should -Be 1
        $done = @(Get-ExoCall 'Add-MailboxPermission' | ForEach-Object { [string]$_.Params.Identity })
        $done | Should -Not -Contain 'm07@contoso.com'
        @($done).Count | Should -Be 7
        @(Get-ExoCall 'Disconnect-ExchangeOnline').Count | Should -Be 3
    }

    It 'failed writes in two sessions: stopped_at names the first in key order, and both sessions skip the rest' {
        # m04 runs in the main session, m05 in the second (round-robin in first-read order); both fail.
        $global:ExoStub.Data.Fail['Add-MailboxPermission|m04@contoso.com'] = 'Other'
        $global:ExoStub.Data.Fail['Add-MailboxPermission|m05@contoso.com'] = 'Other'
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes)
        $answer.sessions | Should -Be 3
        $answer.stopped | Should -BeTrue
        $answer.stopped_at.op_index | Should -Be 2
        $answer.stopped_at.key | Should -Be 'm04@contoso.com'
        # m07 after m04, m08 after m05.
        $answer.skipped | Should -Be 2
        @($answer.results | Where-Object { $_.op_index -eq 2 -and -not $_.ok } | ForEach-Object { $_.key }) | Should -Be @('m04@contoso.com', 'm05@contoso.com')
    }

    It 'counts progress over every key of the step, those its conditions skip too, the same with one session or three' {
        # 9 keys: every key is a line (Ceiling(9 / 20) = 1); m02's write is skipped by its condition and still counted.
        $expected = @(1..9 | ForEach-Object { '#m365.mail_oauth:progress get_mailbox_permission {0}/9' -f $_ }) +
            @(1..9 | ForEach-Object { '#m365.mail_oauth:progress add_mailbox_permission {0}/9' -f $_ })
        foreach ($sessions in '{"max":1,"keys_per_session":2}', '{"max":3,"keys_per_session":2}') {
            Reset-ExoCalls
            $run = Invoke-ProgressRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes) -Sessions $sessions
            $run.Answer.failed | Should -BeFalse -Because $run.Answer.msg
            $run.Answer.conditional_skips | Should -Be 1
            $run.Lines | Should -Be $expected -Because $sessions
        }
    }

    It 'prints about every 5 %: 30 keys, a line every 2 keys (not a line per key)' {
        $keys = @(1..30 | ForEach-Object { 'x{0:d2}@contoso.com' -f $_ })
        foreach ($key in $keys) { Add-FakeMailbox $key }
        $list = ($keys | ForEach-Object { '"' + $_ + '"' }) -join ','
        $run = Invoke-ProgressRunner -Operations ('[{"op":"get_mailbox","for_each":[' + $list + ']}]') -Sessions '{"max":1,"keys_per_session":20}'
        $run.Answer.failed | Should -BeFalse -Because $run.Answer.msg
        $run.Lines | Should -Be @(1..15 | ForEach-Object { '#m365.mail_oauth:progress get_mailbox {0}/30' -f (2 * $_) })
    }

    It 'a write that finds its mailbox gone stops nothing, in any session' {
        $global:ExoStub.Data.Fail['Add-MailboxPermission|m04@contoso.com'] = 'NotFound'
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes)
        $answer.stopped | Should -BeFalse
        $answer.skipped | Should -Be 0
        @(Get-ExoCall 'Add-MailboxPermission').Count | Should -Be 8
        @($answer.results | Where-Object { $_.op -eq 'add_mailbox_permission' -and -not $_.ok } | ForEach-Object { $_.key }) | Should -Be @('m04@contoso.com')
    }

    It 'spreads find-by-user over the sessions and keeps the tenant order' {
        $global:ExoStub.Data.Full['m05@contoso.com'] = @(New-FullRow -Mailbox 'm05@contoso.com')
        $list = ($script:Mailboxes | ForEach-Object { '"' + $_ + '"' }) -join ','
        $ops = '[{"op":"get_mailbox","for_each":[' + $list + ']},{"op":"find_mailbox_permission","params":{"User":"sp"}}]'
        $answer = Invoke-ParallelRunner -Operations $ops
        $answer.sessions | Should -Be 3
        # The warnings say why a find-by-user call failed, should one fail.
        @($answer.warnings) | Should -Be @()
        @($answer.results | Where-Object { $_.op_index -eq 1 } | ForEach-Object { $_.key }) | Should -Be @('m02@contoso.com', 'm05@contoso.com')
        @(Get-ExoCall 'Get-EXOMailboxPermission' | ForEach-Object { $_.Runspace } | Sort-Object -Unique).Count | Should -Be 3
    }

    It 'leaves out a session that cannot connect, with a warning, and still converges' {
        $global:ExoStub.Data.Connects = 0
        $global:ExoStub.Data.Main = [runspace]::DefaultRunspace.InstanceId.ToString()
        Set-ExoHandler 'Connect-ExchangeOnline' {
            param($p, $name)
            $data = $global:ExoStub.Data
            # The first worker to connect fails, as beyond a concurrency limit; the main session always connects.
            if ([runspace]::DefaultRunspace.InstanceId.ToString() -eq $data.Main) { return }
            [System.Threading.Monitor]::Enter($data)
            try { $data.Connects++; $n = $data.Connects } finally { [System.Threading.Monitor]::Exit($data) }
            if ($n -eq 1) { throw 'You have reached the maximum number of concurrent requests per tenant' }
        }
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes)
        $answer.failed | Should -BeFalse
        $answer.sessions | Should -Be 2
        @($answer.warnings | Where-Object { $_ -like '*could not connect*' }).Count | Should -Be 1
        @($answer.results | Where-Object { $_.op_index -eq 2 }).Count | Should -Be 8
        @(Get-ExoCall 'Disconnect-ExchangeOnline').Count | Should -Be 2
    }

    It 'keeps one session for an existing session, which a new runspace cannot reuse' {
        Set-ExoHandler 'Get-ConnectionInformation' { param($p, $name) [pscustomobject]@{ State = 'Connected' } }
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes) -Connection '{"auth":"existing_session"}'
        $answer.sessions | Should -Be 1
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 0
    }

    It 'refuses sessions.max <Value>' -TestCases @(@{ Value = '0' }, @{ Value = '"3"' }, @{ Value = '2.5' }, @{ Value = 'null' }) {
        param($Value)
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes) -Sessions ('{"max":' + $Value + ',"keys_per_session":2}')
        $answer.failed | Should -BeTrue
        $answer.msg | Should -BeLike 'sessions.max must be a whole number of at least 1*'
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 0
    }

    It 'takes its limit from the controller: sessions.max 6 opens six sessions' {
        $answer = Invoke-ParallelRunner -Operations (Get-ConvergeOperations -Mailboxes $script:Mailboxes) -Sessions '{"max":6,"keys_per_session":1}'
        $answer.failed | Should -BeFalse -Because $answer.msg
        $answer.sessions | Should -Be 6
        @(Get-ExoCall 'Disconnect-ExchangeOnline').Count | Should -Be 6
    }
}
