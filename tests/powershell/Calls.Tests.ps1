# How the runner calls the cmdlets: retries on throttling, stops after a failed write, always disconnects,
# shapes errors (not_found decided once, from Exchange's real error shape), keeps hostile values as data,
# and renders ASCII-only JSON deep enough for AccessRights. Windows PowerShell 5.1 syntax only, ASCII only.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'throttling' {
    BeforeEach {
        Reset-ExoStub
        $global:ExoStub.Data.Calls = 0
        Mock Start-Sleep { }
    }

    It 'retries a throttled call with backoff until it succeeds' {
        $global:ExoStub.Data.FailTimes = 2
        Set-ExoHandler 'Get-TransportConfig' {
            param($p, $name)
            $global:ExoStub.Data.Calls++
            if ($global:ExoStub.Data.Calls -le $global:ExoStub.Data.FailTimes) { Write-ErrorMessage (New-ExoStubError -Kind Throttled) }
            [pscustomobject]@{ SmtpClientAuthenticationDisabled = $true }
        }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Retry '{"attempts":4,"delay":1.5,"max_delay":2}'
        $answer.results[0].ok | Should -BeTrue
        $answer.results[0].attempts | Should -Be 3
        $answer.results[0].output[0].SmtpClientAuthenticationDisabled | Should -BeTrue
        @(Get-ExoCall 'Get-TransportConfig').Count | Should -Be 3
        Should -Invoke Start-Sleep -Times 2 -Exactly
        Should -Invoke Start-Sleep -Times 1 -Exactly -ParameterFilter { $Seconds -eq 1.5 }
        Should -Invoke Start-Sleep -Times 1 -Exactly -ParameterFilter { $Seconds -eq 2 }
    }

    It 'gives up after the attempts and reports the throttling error' {
        Set-ExoHandler 'Get-TransportConfig' { param($p, $name) $global:ExoStub.Data.Calls++; Write-ErrorMessage (New-ExoStubError -Kind Throttled) }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Retry '{"attempts":3,"delay":0,"max_delay":0}'
        $answer.failed | Should -BeFalse
        $answer.results[0].ok | Should -BeFalse
        $answer.results[0].attempts | Should -Be 3
        $answer.results[0].error.error_id | Should -BeLike 'ThrottlingError*'
        $answer.results[0].error.category | Should -Be 'LimitsExceeded'
        $answer.results[0].error.not_found | Should -BeFalse
        $global:ExoStub.Data.Calls | Should -Be 3
    }

    It 'recognises throttling by <Label>' -TestCases @(
        @{ Label = 'the message'; Message = 'The server is busy. Server Busy, try later'; Id = 'x'; Category = 'NotSpecified' }
        @{ Label = 'HTTP 429'; Message = 'Response status code does not indicate success: 429'; Id = 'x'; Category = 'NotSpecified' }
        @{ Label = 'MicroDelay'; Message = 'MicroDelay applied'; Id = 'x'; Category = 'NotSpecified' }
        @{ Label = 'the concurrency limit'; Message = 'you have exceeded the maximum number of concurrent requests'; Id = 'x'; Category = 'NotSpecified' }
        @{ Label = 'the error id'; Message = 'The request was refused'; Id = 'ThrottlingError,Microsoft.Exchange.Management.RestApiClient'; Category = 'NotSpecified' }
        @{ Label = 'the category LimitsExceeded alone'; Message = 'The request was refused'; Id = 'x'; Category = 'LimitsExceeded' }
    ) {
        param($Label, $Message, $Id, $Category)
        $global:ExoStub.Data.Message = $Message
        $global:ExoStub.Data.Id = $Id
        $global:ExoStub.Data.Category = $Category
        Set-ExoHandler 'Get-TransportConfig' {
            param($p, $name)
            $data = $global:ExoStub.Data
            $data.Calls++
            if ($data.Calls -eq 1) {
                Write-ErrorMessage (New-Object System.Management.Automation.ErrorRecord (New-Object System.Exception $data.Message), $data.Id, $data.Category, $null)
            }
        }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]'
        $answer.results[0].ok | Should -BeTrue
        $answer.results[0].attempts | Should -Be 2
    }

    It 'Test-RunnerThrottled: the category LimitsExceeded is throttling on its own; the same record as NotSpecified is not' {
        $exception = New-Object System.Exception 'The request was refused'
        $limits = New-Object System.Management.Automation.ErrorRecord $exception, 'x', 'LimitsExceeded', $null
        $other = New-Object System.Management.Automation.ErrorRecord $exception, 'x', 'NotSpecified', $null
        Test-RunnerThrottled -Record $limits | Should -BeTrue
        Test-RunnerThrottled -Record $other | Should -BeFalse
    }

    It 'does not retry other errors' {
        Set-ExoHandler 'Get-ServicePrincipal' { param($p, $name) $global:ExoStub.Data.Calls++; Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object 'sp') }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_service_principal","params":{"Identity":"sp"}}]'
        $answer.results[0].attempts | Should -Be 1
        $global:ExoStub.Data.Calls | Should -Be 1
        Should -Invoke Start-Sleep -Times 0 -Exactly
    }
}

Describe 'stop after a failed write' {
    BeforeEach {
        Reset-ExoStub
        Use-FakeTenant
        foreach ($m in 'a', 'b', 'c', 'd') { Add-FakeMailbox ($m + '@contoso.com') }
        $global:ExoStub.Data.Fail['Add-MailboxPermission|b@contoso.com'] = 'Other'
    }

    It 'skips the rest of that write and every later step, and says where it stopped' {
        $answer = Invoke-TestRunner -Operations ('[{"op":"add_mailbox_permission","for_each":["a@contoso.com","b@contoso.com","c@contoso.com","d@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"]}},' +
            '{"op":"add_recipient_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"Trustee":"sp","AccessRights":["SendAs"]}},' +
            '{"op":"get_mailbox","for_each":["a@contoso.com"]},{"op":"set_service_principal","params":{"Identity":"sp","DisplayName":"x"}}]')
        $answer.failed | Should -BeFalse
        $answer.stopped | Should -BeTrue
        $answer.stopped_at.op_index | Should -Be 0
        $answer.stopped_at.op | Should -Be 'add_mailbox_permission'
        $answer.stopped_at.key | Should -Be 'b@contoso.com'
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'b@contoso.com')
        @(Get-ExoCall 'Add-RecipientPermission').Count | Should -Be 0
        @(Get-ExoCall 'Get-Mailbox').Count | Should -Be 0
        @(Get-ExoCall 'Set-ServicePrincipal').Count | Should -Be 0
        # c, d of the failed write; a, b of the next; one read key; one single write.
        $answer.skipped | Should -Be 6
        @($answer.results | ForEach-Object { $_.ok }) | Should -Be @($true, $false)
        $answer.disconnected | Should -BeTrue
    }

    It 'counts a skipped step without keys as one' {
        $answer = Invoke-TestRunner -Operations ('[{"op":"add_mailbox_permission","for_each":["b@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"]}},' +
            '{"op":"set_cas_mailbox","for_each":[],"params":{"ImapEnabled":false}},{"op":"get_transport_config"}]')
        $answer.stopped | Should -BeTrue
        $answer.skipped | Should -Be 2
    }

    It 'a write that finds its mailbox gone does not stop the others (that key is answered as not found)' {
        $global:ExoStub.Data.Fail['Add-MailboxPermission|b@contoso.com'] = 'NotFound'
        $answer = Invoke-TestRunner -Operations ('[{"op":"add_mailbox_permission","for_each":["a@contoso.com","b@contoso.com","c@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"]}},' +
            '{"op":"set_service_principal","params":{"Identity":"sp","DisplayName":"x"}}]')
        $answer.stopped | Should -BeFalse
        $answer.skipped | Should -Be 0
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'b@contoso.com', 'c@contoso.com')
        @($answer.results | ForEach-Object { $_.ok }) | Should -Be @($true, $false, $true, $true)
        $answer.results[1].error.not_found | Should -BeTrue
        @(Get-ExoCall 'Set-ServicePrincipal').Count | Should -Be 1
    }

    It 'a failed read does not stop anything' {
        $global:ExoStub.Data.Fail['Get-Mailbox|a@contoso.com'] = 'Other'
        $answer = Invoke-TestRunner -Operations '[{"op":"get_mailbox","for_each":["a@contoso.com","c@contoso.com"]},{"op":"add_mailbox_permission","for_each":["c@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"]}}]'
        $answer.stopped | Should -BeFalse
        $answer.skipped | Should -Be 0
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('c@contoso.com')
    }
}

Describe 'connect once, always disconnect' {
    BeforeEach { Reset-ExoStub }

    It 'disconnects after a normal run' {
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]'
        $answer.connected | Should -BeTrue
        $answer.disconnected | Should -BeTrue
        $answer.module_version | Should -Be '9.9.9'
        @(Get-ExoCall | ForEach-Object { $_.Name }) | Should -Be @('Connect-ExchangeOnline', 'Get-TransportConfig', 'Disconnect-ExchangeOnline')
        [bool](Get-ExoCall 'Disconnect-ExchangeOnline')[0].Params.Confirm | Should -BeFalse
    }

    It 'disconnects when a step throws out of the run' {
        # A value that cannot be turned into text makes the runner itself throw while recording the result.
        Set-ExoHandler 'Get-TransportConfig' {
            param($p, $name)
            $value = New-Object psobject
            $value | Add-Member -MemberType ScriptMethod -Name ToString -Value { throw 'property exploded' } -Force
            [pscustomobject]@{ SmtpClientAuthenticationDisabled = $value }
        }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"},{"op":"get_mailbox","for_each":["a"]}]'
        $answer.failed | Should -BeTrue
        $answer.msg | Should -BeLike '*property exploded*'
        $answer.disconnected | Should -BeTrue
        @(Get-ExoCall 'Get-Mailbox').Count | Should -Be 0
        @(Get-ExoCall | ForEach-Object { $_.Name })[-1] | Should -Be 'Disconnect-ExchangeOnline'
    }

    It 'disconnects when a cmdlet is missing from the session' {
        Mock Get-Command { throw (New-Object System.Management.Automation.CommandNotFoundException 'The term ''Get-TransportConfig'' is not recognized') } -ParameterFilter { $Name -eq 'Get-TransportConfig' }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]'
        $answer.failed | Should -BeTrue
        $answer.error.not_found | Should -BeFalse
        $answer.disconnected | Should -BeTrue
    }

    It 'does not disconnect what it could not connect, and fails with the reason' {
        Set-ExoHandler 'Connect-ExchangeOnline' { param($p, $name) throw 'UnAuthorized' }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]'
        $answer.failed | Should -BeTrue
        $answer.msg | Should -Be 'UnAuthorized'
        $answer.connected | Should -BeFalse
        $answer.disconnected | Should -BeFalse
        @(Get-ExoCall 'Disconnect-ExchangeOnline').Count | Should -Be 0
        @(Get-ExoCall 'Get-TransportConfig').Count | Should -Be 0
    }

    It 'turns a failed disconnect into a warning' {
        Set-ExoHandler 'Disconnect-ExchangeOnline' { param($p, $name) throw 'socket closed' }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]'
        $answer.failed | Should -BeFalse
        $answer.disconnected | Should -BeFalse
        @($answer.warnings) | Should -Contain 'Disconnect-ExchangeOnline failed: socket closed'
    }

    It 'reuses an existing session without connecting or disconnecting' {
        Set-ExoHandler 'Get-ConnectionInformation' { param($p, $name) [pscustomobject]@{ State = 'Connected' } }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Connection (New-TestConnection -Override @{ auth = 'existing_session'; min_version = '3.0.0' } -Remove 'access_token')
        $answer.failed | Should -BeFalse
        @(Get-ExoCall | ForEach-Object { $_.Name }) | Should -Be @('Get-ConnectionInformation', 'Get-TransportConfig')
    }

    It 'refuses a module older than min_version without install_module' {
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Connection (New-TestConnection -Override @{ min_version = '10.0.0' })
        $answer.failed | Should -BeTrue
        $answer.msg | Should -BeLike 'ExchangeOnlineManagement 10.0.0 or later is not installed on this host (found: 9.9.9)*'
        @(Get-ExoCall).Count | Should -Be 0
    }

    # module_help is the controller's (module_utils/exchange_module.py): the runner picks the command by its PowerShell.
    It 'names the install command that fits PowerShell <ps>: <expected>' -TestCases @(
        @{ ps = '5.1.19041.4291'; expected = 'OLD' }
        @{ ps = '7.4.6'; expected = 'OLD' }
        @{ ps = '7.6.0'; expected = 'NEW' }
    ) {
        param($ps, $expected)
        Mock Get-RunnerShellVersion { [version]$ps }
        # old_shell_max above 10.0.0: this case is about the command, not the limit.
        $help = @{ reason = 'the tasks need 10.0.0 or later (min_version)'; old_shell_max = '99.0.0' }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Connection (New-TestConnection -Override @{ min_version = '10.0.0'; module_help = $help })
        $answer.failed | Should -BeTrue
        $answer.msg | Should -BeLike ('*(found: 9.9.9); the tasks need 10.0.0 or later (min_version). On this host (*): {0}, or set install_module to install it' -f $expected)
        @(Get-ExoCall).Count | Should -Be 0
    }

    It 'below PowerShell 7.6 installs and imports nothing past old_shell_max (3.10 cannot load there)' {
        Mock Get-RunnerShellVersion { [version]'5.1.19041.4291' }
        Mock Install-Module { $global:RunnerInstallArgs = $PesterBoundParameters }
        Mock Import-Module { $global:RunnerImportArgs = $PesterBoundParameters } -ParameterFilter { $Name -eq 'ExchangeOnlineManagement' }
        $global:RunnerInstallArgs = $null
        $global:RunnerImportArgs = $null
        $null = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Connection (New-TestConnection -Override @{ install_module = $true; module_help = @{ old_shell_max = '3.9.2' } })
        # The stub module is 9.9.9: past the limit, so it counts as missing and the 3.9 line is installed.
        $global:RunnerInstallArgs.MaximumVersion | Should -Be ([version]'3.9.2')
        $global:RunnerInstallArgs.MinimumVersion | Should -Be ([version]'3.1.0')
        $global:RunnerImportArgs.MaximumVersion | Should -Be ([version]'3.9.2')
    }

    It 'on PowerShell 7.6 keeps the newest module (no maximum)' {
        Mock Get-RunnerShellVersion { [version]'7.6.0' }
        Mock Install-Module { $global:RunnerInstallArgs = $PesterBoundParameters }
        $global:RunnerInstallArgs = $null
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Connection (New-TestConnection -Override @{ install_module = $true; module_help = @{ old_shell_max = '3.9.2' } })
        $answer.failed | Should -BeFalse
        $global:RunnerInstallArgs | Should -BeNullOrEmpty
    }

    It 'refuses a min_version past old_shell_max below PowerShell 7.6, naming the way out' {
        Mock Get-RunnerShellVersion { [version]'7.4.6' }
        Mock Install-Module { throw 'must not install' }
        $help = @{ reason = 'the tasks need 3.10.0 or later (min_version)'; old_shell_max = '3.9.2' }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]' -Connection (New-TestConnection -Override @{ min_version = '3.10.0'; install_module = $true; module_help = $help })
        $answer.failed | Should -BeTrue
        $answer.msg | Should -BeLike 'ExchangeOnlineManagement 3.10.0 or later cannot run on this host''s PowerShell*OLD, or set install_module*'
        Should -Invoke Install-Module -Times 0
        @(Get-ExoCall).Count | Should -Be 0
    }

    It 'reads its own PowerShell version without a label' {
        (Get-RunnerShellVersion) | Should -BeOfType [version]
        (Get-RunnerShellVersion).Major | Should -Be $PSVersionTable.PSVersion.Major
    }
}

Describe 'errors as the v3 module shapes them' {
    It 'not_found for <Kind>' -TestCases @(@{ Kind = 'NotFound' }, @{ Kind = 'NotFoundEmpty' }, @{ Kind = 'NotFound94914C' }) {
        param($Kind)
        Reset-ExoStub
        $global:ExoStub.Data.Kind = $Kind
        Set-ExoHandler 'Get-ServicePrincipal' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind $global:ExoStub.Data.Kind -Object $p.Identity) }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_service_principal","params":{"Identity":"sp1"}}]'
        $error0 = $answer.results[0].error
        $answer.results[0].ok | Should -BeFalse
        $error0.not_found | Should -BeTrue
        $error0.category | Should -Be 'NotSpecified'
        $error0.reason | Should -Be 'ManagementObjectNotFoundException'
        $error0.error_id | Should -Match '^\[Server=AM6PR06MB5795,RequestId=[0-9a-f-]+,TimeStamp=[^\]]+\],Write-ErrorMessage$'
        $error0.message | Should -BeLike "*sp1*"
    }

    It 'Test-RunnerNotFound reads the reason, the type and the middle field of the message' {
        $long = "The operation couldn't be performed because object 'x' couldn't be found on 'y'."
        Test-RunnerNotFound -Message ('Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|' + $long) -Reason 'Exception' -Type 'System.Exception' | Should -BeTrue
        Test-RunnerNotFound -Message ('Ex94914C|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|Couldn''t find object "x".') -Reason '' -Type '' | Should -BeTrue
        Test-RunnerNotFound -Message ('||' + $long) -Reason 'ManagementObjectNotFoundException' -Type 'System.Exception' | Should -BeTrue
        Test-RunnerNotFound -Message 'x' -Reason '' -Type 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException' | Should -BeTrue
        Test-RunnerNotFound -Message 'x' -Reason 'ManagementObjectNotFoundException' -Type '' | Should -BeTrue
    }

    It 'Test-RunnerNotFound says no to <Label>' -TestCases @(
        @{ Label = 'another exception in the middle field'; Message = '|System.InvalidOperationException|The mailbox has reached the limit of 500 ACEs.'; Reason = 'Exception'; Type = 'System.Exception' }
        @{ Label = 'the name in the text only'; Message = 'Ex1|System.Exception|wrapped ManagementObjectNotFoundException'; Reason = 'Exception'; Type = 'System.Exception' }
        @{ Label = 'a look-alike type'; Message = 'x'; Reason = 'NotManagementObjectNotFoundException'; Type = 'System.Exception' }
        @{ Label = 'a plain message'; Message = "Couldn't find object x"; Reason = 'RuntimeException'; Type = 'System.Management.Automation.RuntimeException' }
        @{ Label = 'an empty message'; Message = ''; Reason = ''; Type = '' }
    ) {
        param($Label, $Message, $Reason, $Type)
        Test-RunnerNotFound -Message $Message -Reason $Reason -Type $Type | Should -BeFalse
    }

    It 'a CommandNotFoundException (category ObjectNotFound) is not not_found' {
        Reset-ExoStub
        Set-ExoHandler 'Get-TransportConfig' { param($p, $name) Invoke-CmdletThatDoesNotExist -Identity x }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_transport_config"}]'
        $error0 = $answer.results[0].error
        $error0.category | Should -Be 'ObjectNotFound'
        $error0.type | Should -Be 'System.Management.Automation.CommandNotFoundException'
        $error0.not_found | Should -BeFalse
        $record = $null
        try { Get-Command -Name 'Get-NoSuchCmdlet' -ErrorAction Stop } catch { $record = $_ }
        (Get-RunnerError -Record $record).not_found | Should -BeFalse
    }

    It 'a -User that does not resolve is the principal''s, not the mailbox''s (<Kind>)' -TestCases @(
        @{ Kind = 'UserNotFound' }, @{ Kind = 'NotFound' }, @{ Kind = 'NotFoundEmpty' }, @{ Kind = 'NotFound94914C' }) {
        param($Kind)
        Reset-ExoStub
        $global:ExoStub.Data.Kind = $Kind
        Set-ExoHandler 'Add-MailboxPermission' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind $global:ExoStub.Data.Kind -Object $p.User) }
        $answer = Invoke-TestRunner -Operations ('[{"op":"add_mailbox_permission","for_each":["a@contoso.com","b@contoso.com"],' +
            '"params":{"User":"66666666-7777-4888-8999-000000000001","AccessRights":["FullAccess"]}}]')
        $error0 = $answer.results[0].error
        $error0.not_found | Should -BeFalse
        $error0.principal_not_found | Should -BeTrue
        $error0.message | Should -BeLike '*66666666-7777-4888-8999-000000000001*'
        # Every write needs the principal: the run stops instead of failing the same way on each mailbox.
        $answer.stopped | Should -BeTrue
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com')
    }

    It 'a not-found that names the mailbox stays the mailbox''s (<Kind>), with or without -User' -TestCases @(
        @{ Kind = 'NotFound' }, @{ Kind = 'NotFoundEmpty' }, @{ Kind = 'NotFound94914C' }, @{ Kind = 'UserNotFound' }) {
        param($Kind)
        Reset-ExoStub
        $global:ExoStub.Data.Kind = $Kind
        Set-ExoHandler 'Add-MailboxPermission' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind $global:ExoStub.Data.Kind -Object $p.Identity) }
        Set-ExoHandler 'Get-MailboxPermission' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind $global:ExoStub.Data.Kind -Object $p.Identity) }
        $answer = Invoke-TestRunner -Operations ('[{"op":"get_mailbox_permission","for_each":["gone@contoso.com"],"params":{"User":"sp"}},' +
            '{"op":"add_mailbox_permission","for_each":["gone@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"]}}]')
        foreach ($entry in @($answer.results)) {
            $entry.error.not_found | Should -BeTrue
            $entry.error.principal_not_found | Should -BeFalse
        }
        $answer.stopped | Should -BeFalse
    }

    It 'Test-RunnerNamesObject finds the quoted or leading name, case-insensitively, and nothing else' {
        Test-RunnerNamesObject -Message "||The operation couldn't be performed because object 'SP-1' couldn't be found on 'x'." -Value 'sp-1' | Should -BeTrue
        Test-RunnerNamesObject -Message 'Ex94914C|T|Couldn''t find object "sp-1". Please make sure' -Value 'sp-1' | Should -BeTrue
        Test-RunnerNamesObject -Message '|T|sp-1 wasn''t found. Please make sure you''ve typed it correctly.' -Value 'sp-1' | Should -BeTrue
        Test-RunnerNamesObject -Message "||The operation couldn't be performed because object 'sp-10' couldn't be found on 'x'." -Value 'sp-1' | Should -BeFalse
        Test-RunnerNamesObject -Message '|T|a.b wasn''t found.' -Value 'a*b' | Should -BeFalse
        Test-RunnerNamesObject -Message 'anything' -Value '' | Should -BeFalse
    }

    It 'another service error is not not_found' {
        Reset-ExoStub
        Set-ExoHandler 'Add-MailboxPermission' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind Other -Object $p.Identity) }
        $answer = Invoke-TestRunner -Operations '[{"op":"add_mailbox_permission","for_each":["a"],"params":{"User":"sp","AccessRights":["FullAccess"]}}]'
        $answer.results[0].error.not_found | Should -BeFalse
        $answer.results[0].error.message | Should -BeLike '*maximum allowed access control entries of 500*'
    }

    It 'keeps the warnings of a call with its result' {
        Reset-ExoStub
        Set-ExoHandler 'Remove-MailboxPermission' {
            param($p, $name)
            Write-Warning ('Can''t remove the access control entry on the object "' + $p.Identity + '" for account "sp" because the ACE doesn''t exist on the object.')
        }
        $answer = Invoke-TestRunner -Operations '[{"op":"remove_mailbox_permission","for_each":["a"],"params":{"User":"sp","AccessRights":["FullAccess"]}}]'
        $answer.results[0].ok | Should -BeTrue
        @($answer.results[0].warnings) | Should -Be @('Can''t remove the access control entry on the object "a" for account "sp" because the ACE doesn''t exist on the object.')
    }
}

Describe 'hostile values stay data' {
    BeforeEach {
        Reset-ExoStub
        $global:Pwned = $null
        Set-ExoHandler 'Get-MailboxPermission' { param($p, $name) New-FullRow -Mailbox $p.Identity -User $p.User }
    }

    It 'passes <Value> to the cmdlet as the exact string and runs nothing else' -TestCases @(
        @{ Value = "'; Remove-Item -Recurse / #" }
        @{ Value = '$(Set-Variable -Name Pwned -Value 1 -Scope Global)' }
        @{ Value = '$(Write-Host pwned)' }
        @{ Value = '"; Set-Variable -Name Pwned -Value 2 -Scope Global; "' }
        @{ Value = '`$env:COMPUTERNAME' }
        @{ Value = '@{a=1}' }
        @{ Value = 'x -Confirm:$false' }
        @{ Value = '& { $global:Pwned = 3 }' }
    ) {
        param($Value)
        Mock Remove-Item { $global:Pwned = 'Remove-Item' }
        Mock Write-Host { $global:Pwned = 'Write-Host' }
        $json = ConvertTo-JsonString $Value
        $answer = Invoke-TestRunner -Operations ('[{"op":"get_mailbox_permission","for_each":[' + $json + '],"params":{"User":' + $json + '}}]')
        $answer.failed | Should -BeFalse
        $calls = @(Get-ExoCall 'Get-MailboxPermission')
        $calls.Count | Should -Be 1
        $calls[0].Params.Identity | Should -BeExactly $Value
        $calls[0].Params.User | Should -BeExactly $Value
        @($calls[0].Params.Keys | Sort-Object) | Should -Be @('Identity', 'User')
        $answer.results[0].key | Should -BeExactly $Value
        $answer.results[0].output[0].User | Should -BeExactly $Value
        $global:Pwned | Should -BeNullOrEmpty
        Should -Invoke Remove-Item -Times 0 -Exactly
        @(Get-ExoCall | ForEach-Object { $_.Name }) | Should -Be @('Connect-ExchangeOnline', 'Get-MailboxPermission', 'Disconnect-ExchangeOnline')
    }
}

Describe 'the JSON answer' {
    BeforeEach { Reset-ExoStub }

    It 'keeps AccessRights arrays as arrays at the depth of results.output' {
        Set-ExoHandler 'Get-MailboxPermission' {
            param($p, $name)
            New-FullRow -Mailbox $p.Identity -Rights @('FullAccess', 'ReadPermission')
            New-FullRow -Mailbox $p.Identity -Rights @('FullAccess')
        }
        Set-ExoHandler 'Get-RecipientPermission' { param($p, $name) New-SendAsRow -Mailbox $p.Identity -Rights @() }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_mailbox_permission","for_each":["a"],"params":{"User":"sp"}},{"op":"get_recipient_permission","for_each":["a"],"params":{"Trustee":"sp"}}]'
        $global:LastRunnerJson | Should -Match ([regex]::Escape('"AccessRights":["FullAccess","ReadPermission"]'))
        $global:LastRunnerJson | Should -Match ([regex]::Escape('"AccessRights":["FullAccess"]'))
        $global:LastRunnerJson | Should -Match ([regex]::Escape('"AccessRights":[]'))
        $global:LastRunnerJson | Should -Not -BeLike '*System.Object*'
        $global:LastRunnerJson | Should -Not -BeLike '*"value":*'
        ,$answer.results[0].output[1].AccessRights | Should -BeOfType [object[]]
    }

    It 'renders enums, GUIDs, dates and nested objects as strings' {
        Set-ExoHandler 'Get-ServicePrincipal' {
            param($p, $name)
            [pscustomobject]@{ Identity = [guid]'66666666-7777-4888-8999-000000000000'; DisplayName = [System.DayOfWeek]::Monday; AppId = (Get-Date -Year 2026 -Month 1 -Day 2); ObjectId = [pscustomobject]@{ deep = @{ deeper = 1 } } }
        }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_service_principal","params":{"Identity":"sp"}}]'
        $row = $answer.results[0].output[0]
        $row.Identity | Should -BeExactly '66666666-7777-4888-8999-000000000000'
        $row.DisplayName | Should -BeExactly 'Monday'
        $row.AppId | Should -BeOfType [string]
        $row.ObjectId | Should -BeOfType [string]
    }

    It 'returns only the allow-list select columns, null where a row lacks one' {
        Set-ExoHandler 'Get-ServicePrincipal' { param($p, $name) [pscustomobject]@{ Identity = 'sp'; Secret = 'hunter2' } }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_service_principal","params":{"Identity":"sp"}}]'
        @($answer.results[0].output[0].PSObject.Properties | ForEach-Object { $_.Name }) | Should -Be @('Identity', 'DisplayName', 'AppId', 'ObjectId')
        $global:LastRunnerJson | Should -Not -BeLike '*hunter2*'
    }

    It 'is one line of ASCII with \uXXXX for anything else, and reads back to the same text' {
        Set-ExoHandler 'Get-Mailbox' { param($p, $name) [pscustomobject]@{ Identity = $p.Identity; DisplayName = 'J' + [char]0x00FC + 'rgen ' + [char]0x4E2D + [char]0xD83D + [char]0xDE00; UserPrincipalName = $p.Identity } }
        $json = ConvertTo-JsonString $NonAsciiName
        $answer = Invoke-TestRunner -Operations ('[{"op":"get_mailbox","for_each":[' + $json + ']}]')
        $global:LastRunnerJson | Should -Not -Match '[^\x20-\x7e]'
        $global:LastRunnerJson | Should -BeLike '*j\u00fcrgen.\u00f8rsted-\u00df\u00fc@contoso.com*'
        $global:LastRunnerJson | Should -BeLike '*\u4e2d\ud83d\ude00*'
        $answer.results[0].key | Should -BeExactly $NonAsciiName
        $answer.results[0].output[0].UserPrincipalName | Should -BeExactly $NonAsciiName
        $answer.results[0].output[0].DisplayName | Should -BeExactly ('J' + [char]0x00FC + 'rgen ' + [char]0x4E2D + [char]0xD83D + [char]0xDE00)
        (Get-ExoCall 'Get-Mailbox')[0].Params.Identity | Should -BeExactly $NonAsciiName
    }

    It 'keeps quotes, backslashes and control characters escaped on one line' {
        Set-ExoHandler 'Get-Mailbox' { param($p, $name) [pscustomobject]@{ Identity = $p.Identity; DisplayName = "a`"b\c`r`nd`te<&>'" } }
        $answer = Invoke-TestRunner -Operations '[{"op":"get_mailbox","for_each":["x"]}]'
        $global:LastRunnerJson | Should -Not -Match '[\r\n]'
        $answer.results[0].output[0].DisplayName | Should -BeExactly "a`"b\c`r`nd`te<&>'"
    }
}

Describe 'PowerShell 7.6 array-subexpression bug (PowerShell/PowerShell#27558)' {
    It 'Get-RunnerKeysFrom works on the result lists New-RunnerResult makes (RUNNER BUG on pwsh 7.6: @($result.results) throws "Argument types do not match")' -Tag 'RunnerBug' {
        $result = New-RunnerResult
        $result.results.Add([ordered]@{ op_index = 0; key = 'a@contoso.com'; ok = $true; output = @([ordered]@{ AccessRights = @('FullAccess') }) })
        $keys = @(Get-RunnerKeysFrom -From ([pscustomobject]@{ read = 0; match = $null }) -Results $result.results)
        $keys | Should -Be @('a@contoso.com')
    }
}
