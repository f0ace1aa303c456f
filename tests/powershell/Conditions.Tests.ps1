# Conditional writes, decided on the host by the runner alone (the comment block "conditional writes" in
# exchange/operations.py): when (rows none/some, match, missing, key) and for_each_from (match, except).
# Windows PowerShell 5.1 syntax only, ASCII only.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $FullMatch = '{"AccessRights":"FullAccess","IsInherited":false,"Deny":false}'
    $Exists = '{"read":0,"key":null,"rows":"some","match":{}}'

    # Reads (0: the principal, 1: FullAccess of each mailbox) and one bulk write guarded by $When.
    function Invoke-GuardedWrite {
        param([string]$Write = 'add_mailbox_permission', [string]$Mailboxes = '["a@contoso.com","b@contoso.com","c@contoso.com"]', [string]$When, [string]$WriteMailboxes)
        if (-not $WriteMailboxes) { $WriteMailboxes = $Mailboxes }
        Invoke-TestRunner -Operations ('[{"op":"get_service_principal","params":{"Identity":"sp"}},' +
            '{"op":"get_mailbox_permission","for_each":' + $Mailboxes + ',"params":{"User":"sp"}},' +
            '{"op":"' + $Write + '","for_each":' + $WriteMailboxes + ',"params":{"User":"sp","AccessRights":["FullAccess"]},"when":' + $When + '}]')
    }
}

Describe 'when' {
    BeforeEach {
        Reset-ExoStub
        Use-FakeTenant
        $global:ExoStub.Data.Principals['sp'] = $true
        Add-FakeMailbox 'a@contoso.com'
        Add-FakeMailbox 'b@contoso.com' -Full @(New-FullRow 'b@contoso.com')
        Add-FakeMailbox 'c@contoso.com' -Full @(New-FullRow 'c@contoso.com' -User 'someone-else')
    }

    It 'rows none: writes only where no row matches' {
        $answer = Invoke-GuardedWrite -When ('[' + $Exists + ',{"read":1,"rows":"none","match":' + $FullMatch + '}]')
        $answer.failed | Should -BeFalse
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'c@contoso.com')
        $answer.conditional_skips | Should -Be 1
        @($answer.results | Where-Object { $_.op -eq 'add_mailbox_permission' } | ForEach-Object { $_.key }) | Should -Be @('a@contoso.com', 'c@contoso.com')
    }

    It 'rows some: writes only where a row matches' {
        $answer = Invoke-GuardedWrite -Write 'remove_mailbox_permission' -When ('[' + $Exists + ',{"read":1,"rows":"some","match":' + $FullMatch + '}]')
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('b@contoso.com')
        $answer.conditional_skips | Should -Be 2
    }

    It 'an empty match: rows some holds for any row, rows none only without rows' {
        # c's only entry is someone else's: the read asks with -User sp, so c has no rows.
        Invoke-GuardedWrite -When '[{"read":1,"rows":"some","match":{}}]' | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('b@contoso.com')
        Reset-ExoCalls
        Invoke-GuardedWrite -When '[{"read":1,"rows":"none"}]' | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'c@contoso.com')
    }

    It 'matches a value inside a list field' {
        $global:ExoStub.Data.Full['a@contoso.com'] = @(New-FullRow 'a@contoso.com' -Rights @('ReadPermission', 'FullAccess'))
        $global:ExoStub.Data.Full['c@contoso.com'] = @(New-FullRow 'c@contoso.com' -Rights @('ReadPermission'))
        Invoke-GuardedWrite -When ('[{"read":1,"rows":"none","match":' + $FullMatch + '}]') | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('c@contoso.com')
    }

    It 'matches a value inside a comma-separated field' {
        $global:ExoStub.Data.Full['a@contoso.com'] = @(New-FullRow 'a@contoso.com' -Rights 'ReadPermission, FullAccess')
        $global:ExoStub.Data.Full['b@contoso.com'] = @(New-FullRow 'b@contoso.com' -Rights 'ReadPermission,ChangeOwner')
        $global:ExoStub.Data.Full['c@contoso.com'] = @(New-FullRow 'c@contoso.com' -Rights 'FullAccess')
        Invoke-GuardedWrite -When ('[{"read":1,"rows":"none","match":' + $FullMatch + '}]') | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('b@contoso.com')
    }

    It 'does not take a part of a value for the value' {
        $global:ExoStub.Data.Full['a@contoso.com'] = @(New-FullRow 'a@contoso.com' -Rights 'FullAccessDenied')
        Invoke-GuardedWrite -Mailboxes '["a@contoso.com"]' -When ('[{"read":1,"rows":"none","match":' + $FullMatch + '}]') | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com')
    }

    It 'compares values and keys case-insensitively' {
        $global:ExoStub.Data.Full['a@contoso.com'] = @(New-FullRow 'a@contoso.com' -Rights @('FULLACCESS'))
        Invoke-GuardedWrite -Mailboxes '["A@Contoso.COM","b@contoso.com"]' -WriteMailboxes '["a@contoso.com","B@CONTOSO.com","c@contoso.com"]' -When '[{"read":1,"rows":"some","match":{"AccessRights":"fullaccess"}}]' | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'B@CONTOSO.com')
    }

    It 'matches booleans: an inherited or a deny entry is not FullAccess held' {
        $global:ExoStub.Data.Full['a@contoso.com'] = @(New-FullRow 'a@contoso.com' -Inherited $true)
        $global:ExoStub.Data.Full['b@contoso.com'] = @(New-FullRow 'b@contoso.com' -Deny $true)
        $global:ExoStub.Data.Full['c@contoso.com'] = @(New-FullRow 'c@contoso.com')
        Invoke-GuardedWrite -When ('[{"read":1,"rows":"none","match":' + $FullMatch + '}]') | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'b@contoso.com')
    }

    It 'needs every condition to hold' {
        $global:ExoStub.Data.Principals.Clear()
        $answer = Invoke-GuardedWrite -When ('[' + $Exists + ',{"read":1,"rows":"none","match":' + $FullMatch + '}]')
        @(Get-ExoCall 'Add-MailboxPermission').Count | Should -Be 0
        $answer.conditional_skips | Should -Be 3
        $answer.failed | Should -BeFalse
    }

    It 'a fixed key looks at that key of the read for every write key' {
        $answer = Invoke-GuardedWrite -When $('[' + $Exists + ']')
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'b@contoso.com', 'c@contoso.com')
        $answer.conditional_skips | Should -Be 0
    }

    It 'a fixed key names one key of a bulk read' {
        Invoke-GuardedWrite -When '[{"read":1,"key":"B@contoso.com","rows":"some","match":{}}]' | Out-Null
        @(Get-ExoCall 'Add-MailboxPermission').Count | Should -Be 3
        Reset-ExoCalls
        Invoke-GuardedWrite -When '[{"read":1,"key":"a@contoso.com","rows":"some","match":{}}]' | Out-Null
        @(Get-ExoCall 'Add-MailboxPermission').Count | Should -Be 0
    }

    It 'skips a key the read never looked at' {
        $answer = Invoke-GuardedWrite -Mailboxes '["a@contoso.com"]' -WriteMailboxes '["a@contoso.com","z@contoso.com"]' -When '[{"read":1,"rows":"none"}]'
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com')
        $answer.conditional_skips | Should -Be 1
    }

    It 'missing skip (the default): a mailbox that is not found is skipped' {
        $answer = Invoke-GuardedWrite -Mailboxes '["a@contoso.com","gone@contoso.com"]' -When '[{"read":1,"rows":"none"}]'
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com')
        $answer.conditional_skips | Should -Be 1
        ($answer.results | Where-Object { $_.key -eq 'gone@contoso.com' }).error.not_found | Should -BeTrue
        Reset-ExoCalls
        Invoke-GuardedWrite -Mailboxes '["a@contoso.com","gone@contoso.com"]' -When '[{"read":1,"rows":"none","missing":"skip"}]' | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com')
    }

    It 'missing act: not found counts as no rows' {
        Invoke-GuardedWrite -Mailboxes '["a@contoso.com","gone@contoso.com"]' -When '[{"read":1,"rows":"none","missing":"act"}]' | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'gone@contoso.com')
        Reset-ExoCalls
        Invoke-GuardedWrite -Mailboxes '["gone@contoso.com"]' -When '[{"read":1,"rows":"some","missing":"act"}]' | Out-Null
        @(Get-ExoCall 'Add-MailboxPermission').Count | Should -Be 0
    }

    It 'missing act: any other failure of the read still skips' {
        $global:ExoStub.Data.Fail['Get-MailboxPermission|b@contoso.com'] = 'Other'
        $answer = Invoke-GuardedWrite -When '[{"read":1,"rows":"none","missing":"act"}]'
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'c@contoso.com')
        ($answer.results | Where-Object { $_.op_index -eq 1 -and $_.key -eq 'b@contoso.com' }).error.not_found | Should -BeFalse
    }

    It 'missing act with each not-found form of the v3 module: <Kind>' -TestCases @(@{ Kind = 'NotFound' }, @{ Kind = 'NotFoundEmpty' }, @{ Kind = 'NotFound94914C' }) {
        param($Kind)
        $global:ExoStub.Data.Fail['Get-MailboxPermission|b@contoso.com'] = $Kind
        Invoke-GuardedWrite -When '[{"read":1,"rows":"none","missing":"act"}]' | Out-Null
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('a@contoso.com', 'b@contoso.com', 'c@contoso.com')
    }

    It 'creates the service principal on a first provision (missing act)' {
        $global:ExoStub.Data.Principals.Clear()
        $ops = '[{"op":"get_service_principal","params":{"Identity":"66666666-7777-4888-8999-000000000001"}},' +
            '{"op":"new_service_principal","params":{"AppId":"66666666-7777-4888-8999-000000000000","ObjectId":"66666666-7777-4888-8999-000000000001","DisplayName":"Mail app"},"when":[{"read":0,"key":null,"rows":"none","missing":"act"}]}]'
        $answer = Invoke-TestRunner -Operations $ops
        $answer.failed | Should -BeFalse
        $answer.results[0].ok | Should -BeFalse
        $answer.results[0].error.not_found | Should -BeTrue
        $calls = @(Get-ExoCall 'New-ServicePrincipal')
        $calls.Count | Should -Be 1
        $calls[0].Params.AppId | Should -BeExactly '66666666-7777-4888-8999-000000000000'
        $calls[0].Params.ObjectId | Should -BeExactly '66666666-7777-4888-8999-000000000001'
        $calls[0].Params.DisplayName | Should -BeExactly 'Mail app'
        # Second run: it exists now, nothing is created.
        Reset-ExoCalls
        $global:ExoStub.Data.Principals['66666666-7777-4888-8999-000000000001'] = $true
        $answer = Invoke-TestRunner -Operations $ops
        @(Get-ExoCall 'New-ServicePrincipal').Count | Should -Be 0
        $answer.conditional_skips | Should -Be 1
    }
}

Describe 'for_each_from' {
    BeforeEach {
        Reset-ExoStub
        Use-FakeTenant
        $global:ExoStub.Data.Principals['sp'] = $true
        Add-FakeMailbox 'listed@contoso.com' -Full @(New-FullRow 'listed')
        Add-FakeMailbox 'stray@contoso.com' -Full @(New-FullRow 'stray')
        Add-FakeMailbox 'inherited@contoso.com' -Full @(New-FullRow 'inherited' -Inherited $true)
        Add-FakeMailbox 'Upper@Contoso.com' -Full @(New-FullRow 'upper' -Rights 'ReadPermission, FullAccess')
        Add-FakeMailbox 'none@contoso.com'
        $global:ExoStub.Data.Aliases['upper'] = 'UPPER@contoso.COM'
    }

    It 'writes to the keys of matching rows minus the except field, case-insensitively' {
        $answer = Invoke-TestRunner -Operations ('[{"op":"find_mailbox_permission","params":{"User":"sp"}},' +
            '{"op":"get_mailbox","for_each":["listed@contoso.com","upper"]},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All"},' +
            '"for_each_from":{"read":0,"match":' + $FullMatch + ',"except":{"read":1,"field":"UserPrincipalName"}}}]')
        $answer.failed | Should -BeFalse
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('stray@contoso.com')
        $call = (Get-ExoCall 'Remove-MailboxPermission')[0].Params
        $call.User | Should -BeExactly 'sp'
        [bool]$call.Confirm | Should -BeFalse
        @($call.AccessRights) | Should -Be @('FullAccess')
    }

    It 'without except: every key with a matching row, once' {
        Invoke-TestRunner -Operations ('[{"op":"find_mailbox_permission","params":{"User":"sp"}},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"]},"for_each_from":{"read":0,"match":' + $FullMatch + '}}]') | Out-Null
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('listed@contoso.com', 'stray@contoso.com', 'Upper@Contoso.com')
    }

    It 'an except read that failed (not not-found) takes every key away: any found mailbox may be the one it names' {
        # The listed mailbox answered a transient error: its canonical name is unknown, so no key is known not to be it.
        $global:ExoStub.Data.Fail['Get-Mailbox|listed@contoso.com'] = 'Other'
        $answer = Invoke-TestRunner -Operations ('[{"op":"find_mailbox_permission","params":{"User":"sp"}},' +
            '{"op":"get_mailbox","for_each":["listed@contoso.com","upper"]},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"]},' +
            '"for_each_from":{"read":0,"match":' + $FullMatch + ',"except":{"read":1,"field":"UserPrincipalName"}}}]')
        @(Get-ExoCall 'Remove-MailboxPermission').Count | Should -Be 0
        $answer.failed | Should -BeFalse
        $read = @($answer.results | Where-Object { $_.op -eq 'get_mailbox' -and $_.key -eq 'listed@contoso.com' })[0]
        $read.ok | Should -BeFalse
        $read.error.message | Should -BeLike '*maximum allowed access control entries*'
    }

    It 'an except read that found no mailbox excludes nothing: a mailbox that does not exist holds nothing to keep' {
        $answer = Invoke-TestRunner -Operations ('[{"op":"find_mailbox_permission","params":{"User":"sp"}},' +
            '{"op":"get_mailbox","for_each":["listed@contoso.com","gone@contoso.com"]},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"]},' +
            '"for_each_from":{"read":0,"match":' + $FullMatch + ',"except":{"read":1,"field":"UserPrincipalName"}}}]')
        @($answer.results | Where-Object { $_.op -eq 'get_mailbox' -and $_.key -eq 'gone@contoso.com' })[0].error.not_found | Should -BeTrue
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('stray@contoso.com', 'Upper@Contoso.com')
    }

    It 'follows a failed read: no keys, no write, no failure' {
        Set-ExoHandler 'Get-EXOMailbox' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind Other -Object 'list') }
        $answer = Invoke-TestRunner -Operations ('[{"op":"find_mailbox_permission","params":{"User":"sp"}},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"]},"for_each_from":{"read":0,"match":{}},"when":[{"read":0,"key":null,"rows":"none"}]}]')
        $answer.failed | Should -BeFalse
        $answer.stopped | Should -BeFalse
        @($answer.results).Count | Should -Be 1
        $answer.results[0].ok | Should -BeFalse
        $answer.results[0].key | Should -BeNullOrEmpty
        @(Get-ExoCall 'Remove-MailboxPermission').Count | Should -Be 0
    }

    It 'follows a bulk read where some keys failed: only the keys read well' {
        $global:ExoStub.Data.Fail['Get-MailboxPermission|stray@contoso.com'] = 'Other'
        $answer = Invoke-TestRunner -Operations ('[{"op":"get_mailbox_permission","for_each":["listed@contoso.com","stray@contoso.com","gone@contoso.com"],"params":{"User":"sp"}},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"]},"for_each_from":{"read":0,"match":{}}}]')
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('listed@contoso.com')
        $answer.failed | Should -BeFalse
    }

    It 'with when: the conditions apply to each key found' {
        $global:ExoStub.Data.Principals.Clear()
        $answer = Invoke-TestRunner -Operations ('[{"op":"get_service_principal","params":{"Identity":"sp"}},{"op":"find_mailbox_permission","params":{"User":"sp"}},' +
            '{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"]},"for_each_from":{"read":1,"match":' + $FullMatch + '},"when":[' + $Exists + ']}]')
        @(Get-ExoCall 'Remove-MailboxPermission').Count | Should -Be 0
        $answer.conditional_skips | Should -Be 3
    }
}

Describe 'find_mailbox_permission (find by user)' {
    BeforeEach {
        Reset-ExoStub
        Use-FakeTenant
        Add-FakeMailbox 'a@contoso.com' -Full @((New-FullRow 'a' -Rights @('FullAccess', 'ReadPermission')), (New-FullRow 'a' -User 'other'))
        Add-FakeMailbox 'b@contoso.com'
        Add-FakeMailbox 'c@contoso.com' -Full @(New-FullRow 'c' -Inherited $true)
        Add-FakeMailbox 'd@contoso.com'
        $global:ExoStub.Data.Fail['Get-EXOMailboxPermission|d@contoso.com'] = 'NotFound'
    }

    It 'lists every mailbox once and asks each one, answering one result per mailbox with rows' {
        $answer = Invoke-TestRunner -Operations '[{"op":"find_mailbox_permission","params":{"User":"sp"}}]'
        $answer.failed | Should -BeFalse
        $list = @(Get-ExoCall 'Get-EXOMailbox')
        $list.Count | Should -Be 1
        $list[0].Params.ResultSize | Should -BeExactly 'Unlimited'
        Get-ExoCallIdentity 'Get-EXOMailboxPermission' | Should -Be @('a@contoso.com', 'b@contoso.com', 'c@contoso.com', 'd@contoso.com')
        @(Get-ExoCall 'Get-EXOMailboxPermission' | ForEach-Object { $_.Params.User } | Sort-Object -Unique) | Should -Be @('sp')
        @($answer.results | ForEach-Object { $_.key }) | Should -Be @('a@contoso.com', 'c@contoso.com')
        @($answer.results[0].output).Count | Should -Be 1
        @($answer.results[0].output[0].AccessRights) | Should -Be @('FullAccess', 'ReadPermission')
        $answer.results[0].op | Should -Be 'find_mailbox_permission'
    }

    It 'turns a failure on one mailbox into a warning and goes on' {
        $answer = Invoke-TestRunner -Operations '[{"op":"find_mailbox_permission","params":{"User":"sp"}}]'
        @($answer.warnings).Count | Should -Be 1
        $answer.warnings[0] | Should -BeLike 'd@contoso.com: Ex6F9304|*'
    }

    It 'find_recipient_permission asks Get-RecipientPermission with -Trustee' {
        $global:ExoStub.Data.SendAs['b@contoso.com'] = @(New-SendAsRow 'b')
        $answer = Invoke-TestRunner -Operations '[{"op":"find_recipient_permission","params":{"Trustee":"sp"}}]'
        @($answer.results | ForEach-Object { $_.key }) | Should -Be @('b@contoso.com')
        @(Get-ExoCall 'Get-RecipientPermission' | ForEach-Object { $_.Params.Trustee } | Sort-Object -Unique) | Should -Be @('sp')
    }
}

Describe 'a plan as mailbox_permission_plan.py builds it (exclusive, FullAccess and SendAs)' {
    BeforeEach {
        Reset-ExoStub
        Use-FakeTenant
        $global:ExoStub.Data.Principals['sp'] = $true
        Add-FakeMailbox 'a@contoso.com' -Full @(New-FullRow 'a')
        Add-FakeMailbox 'b@contoso.com' -SendAs @(New-SendAsRow 'b')
        Add-FakeMailbox 'old@contoso.com' -Full @(New-FullRow 'old') -SendAs @(New-SendAsRow 'old')
    }

    It 'adds what is missing on the listed mailboxes and removes what the others hold' {
        # PermissionPlan('sp', ['a@contoso.com', 'b@contoso.com'], ['FullAccess', 'SendAs'], exclusive=True): reads + writes.
        $ops = '[{"op":"get_service_principal","params":{"Identity":"sp"}},{"op":"get_mailbox_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"User":"sp"}},{"op":"get_recipient_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"Trustee":"sp","AccessRights":["SendAs"]}},{"op":"find_mailbox_permission","params":{"User":"sp"}},{"op":"find_recipient_permission","params":{"Trustee":"sp"}},{"op":"get_mailbox","for_each":["a@contoso.com","b@contoso.com"]},{"op":"add_mailbox_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All","AutoMapping":false},"when":[{"read":0,"key":null,"rows":"some","match":{}},{"read":1,"rows":"none","match":{"AccessRights":"FullAccess","IsInherited":false,"Deny":false}}]},{"op":"add_recipient_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"Trustee":"sp","AccessRights":["SendAs"]},"when":[{"read":0,"key":null,"rows":"some","match":{}},{"read":2,"rows":"none","match":{"AccessRights":"SendAs"}}]},{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All"},"for_each_from":{"read":3,"match":{"AccessRights":"FullAccess","IsInherited":false,"Deny":false},"except":{"read":5,"field":"UserPrincipalName"}},"when":[{"read":0,"key":null,"rows":"some","match":{}}]},{"op":"remove_recipient_permission","params":{"Trustee":"sp","AccessRights":["SendAs"]},"for_each_from":{"read":4,"match":{"AccessRights":"SendAs"},"except":{"read":5,"field":"UserPrincipalName"}},"when":[{"read":0,"key":null,"rows":"some","match":{}}]}]'
        $answer = Invoke-TestRunner -Operations $ops
        $answer.failed | Should -BeFalse
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('b@contoso.com')
        Get-ExoCallIdentity 'Add-RecipientPermission' | Should -Be @('a@contoso.com')
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('old@contoso.com')
        Get-ExoCallIdentity 'Remove-RecipientPermission' | Should -Be @('old@contoso.com')
        $answer.conditional_skips | Should -Be 2
    }

    It 'absent + exclusive (deprovision): a failed read of a listed mailbox keeps every unlisted removal back, the listed ones still go' {
        $global:ExoStub.Data.Fail['Get-Mailbox|a@contoso.com'] = 'Other'
        # PermissionPlan('sp', ['a@contoso.com'], ['FullAccess'], state='absent', exclusive=True): reads + writes.
        $ops = '[{"op":"get_service_principal","params":{"Identity":"sp"}},{"op":"get_mailbox_permission","for_each":["a@contoso.com"],"params":{"User":"sp"}},{"op":"find_mailbox_permission","params":{"User":"sp"}},{"op":"get_mailbox","for_each":["a@contoso.com"]},{"op":"remove_mailbox_permission","for_each":["a@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All"},"when":[{"read":0,"key":null,"rows":"some","match":{}},{"read":1,"rows":"some","match":{"AccessRights":"FullAccess","IsInherited":false,"Deny":false}}]},{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All"},"for_each_from":{"read":2,"match":{"AccessRights":"FullAccess","IsInherited":false,"Deny":false},"except":{"read":3,"field":"UserPrincipalName"}},"when":[{"read":0,"key":null,"rows":"some","match":{}}]}]'
        $answer = Invoke-TestRunner -Operations $ops
        $answer.failed | Should -BeFalse
        Get-ExoCallIdentity 'Remove-MailboxPermission' | Should -Be @('a@contoso.com')
    }

    It 'protocols: a mailbox whose read failed gets no Set-CASMailbox (switching IMAP off is a removal too)' {
        $global:ExoStub.Data.Fail['Get-CASMailbox|a@contoso.com'] = 'Other'
        Set-ExoHandler 'Get-CASMailbox' {
            param($p, $name)
            Invoke-ExoStubHandler -Handler 'FailCheck' -Params $p -Name $name
            [pscustomobject]@{ Identity = $p.Identity; ImapEnabled = $true; PopEnabled = $true; SmtpClientAuthenticationDisabled = $null }
        }
        $answer = Invoke-TestRunner -Operations ('[{"op":"get_cas_mailbox","for_each":["a@contoso.com","b@contoso.com"]},' +
            '{"op":"set_cas_mailbox","for_each":["a@contoso.com","b@contoso.com"],"params":{"ImapEnabled":false},"when":{"read":0,"rows":"none","match":{"ImapEnabled":false}}}]')
        $answer.failed | Should -BeFalse
        Get-ExoCallIdentity 'Set-CASMailbox' | Should -Be @('b@contoso.com')
    }

    It 'a listed mailbox whose read failed (a transient 500) loses nothing; the other listed mailboxes still get theirs' {
        $global:ExoStub.Data.Fail['Get-Mailbox|a@contoso.com'] = 'Other'
        $ops = '[{"op":"get_service_principal","params":{"Identity":"sp"}},{"op":"get_mailbox_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"User":"sp"}},{"op":"get_recipient_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"Trustee":"sp","AccessRights":["SendAs"]}},{"op":"find_mailbox_permission","params":{"User":"sp"}},{"op":"find_recipient_permission","params":{"Trustee":"sp"}},{"op":"get_mailbox","for_each":["a@contoso.com","b@contoso.com"]},{"op":"add_mailbox_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All","AutoMapping":false},"when":[{"read":0,"key":null,"rows":"some","match":{}},{"read":1,"rows":"none","match":{"AccessRights":"FullAccess","IsInherited":false,"Deny":false}}]},{"op":"add_recipient_permission","for_each":["a@contoso.com","b@contoso.com"],"params":{"Trustee":"sp","AccessRights":["SendAs"]},"when":[{"read":0,"key":null,"rows":"some","match":{}},{"read":2,"rows":"none","match":{"AccessRights":"SendAs"}}]},{"op":"remove_mailbox_permission","params":{"User":"sp","AccessRights":["FullAccess"],"InheritanceType":"All"},"for_each_from":{"read":3,"match":{"AccessRights":"FullAccess","IsInherited":false,"Deny":false},"except":{"read":5,"field":"UserPrincipalName"}},"when":[{"read":0,"key":null,"rows":"some","match":{}}]},{"op":"remove_recipient_permission","params":{"Trustee":"sp","AccessRights":["SendAs"]},"for_each_from":{"read":4,"match":{"AccessRights":"SendAs"},"except":{"read":5,"field":"UserPrincipalName"}},"when":[{"read":0,"key":null,"rows":"some","match":{}}]}]'
        $answer = Invoke-TestRunner -Operations $ops
        $answer.failed | Should -BeFalse
        $answer.stopped | Should -BeFalse
        Get-ExoCallIdentity 'Add-MailboxPermission' | Should -Be @('b@contoso.com')
        Get-ExoCallIdentity 'Add-RecipientPermission' | Should -Be @('a@contoso.com')
        @(Get-ExoCall 'Remove-MailboxPermission').Count | Should -Be 0
        @(Get-ExoCall 'Remove-RecipientPermission').Count | Should -Be 0
    }
}
