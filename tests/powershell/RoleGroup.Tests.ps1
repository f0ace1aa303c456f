# The role group operations (issue 20): how the runner calls them and decides, from the reads in the same payload,
# which of exchange_role_group's writes are due. Windows PowerShell 5.1 syntax only, ASCII only.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    $Group = 'admin group'
    $Sp = '66666666-7777-4888-8999-000000000001'
    # exchange_role_group's first round trip (role_group_plan.operations) for one member.
    function Get-RoleGroupPlan {
        $members = '{"read":1,"rows":"none","match":{"ExternalDirectoryObjectId":"' + $Sp + '"},"missing":"act"},' +
            '{"read":1,"rows":"none","match":{"Name":"' + $Sp + '"},"missing":"act"},' +
            '{"read":1,"rows":"none","match":{"Identity":"' + $Sp + '"},"missing":"act"}'
        '[{"op":"get_role_group","params":{"Identity":"' + $Group + '"}},' +
        '{"op":"get_role_group_member","params":{"Identity":"' + $Group + '"}},' +
        '{"op":"get_service_principal","params":{"Identity":"' + $Sp + '"}},' +
        '{"op":"new_role_group","params":{"Name":"' + $Group + '","Roles":["Mail Recipients","Role Management"]},' +
        '"when":{"read":0,"rows":"none","match":{},"missing":"act"}},' +
        '{"op":"add_role_group_member","params":{"Identity":"' + $Group + '","Member":"' + $Sp + '"},' +
        '"when":[{"read":2,"rows":"some","match":{}},' + $members + ']}]'
    }
}

Describe 'role group operations' {
    BeforeEach {
        Reset-ExoStub
        Set-ExoHandler 'Get-ServicePrincipal' { param($p, $name) [pscustomobject]@{ Identity = $p.Identity; ObjectId = $p.Identity } }
    }

    It 'creates a missing group with its roles as a list, then adds the member, in one connection' {
        Set-ExoHandler 'Get-RoleGroup' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
        Set-ExoHandler 'Get-RoleGroupMember' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
        $answer = Invoke-TestRunner -Operations (Get-RoleGroupPlan)
        $answer.failed | Should -BeFalse
        $new = (Get-ExoCall 'New-RoleGroup')[0].Params
        $new.Name | Should -BeExactly 'admin group'
        @($new.Roles) | Should -Be @('Mail Recipients', 'Role Management')
        (Get-ExoCall 'Add-RoleGroupMember')[0].Params.Member | Should -BeExactly $Sp
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 1
    }

    It 'adds nothing when a member row names the principal in <Field>' -TestCases @(
        @{ Field = 'ExternalDirectoryObjectId' }, @{ Field = 'Name' }, @{ Field = 'Identity' }
    ) {
        param($Field)
        $global:ExoStub.Data.Field = $Field
        Set-ExoHandler 'Get-RoleGroup' { param($p, $name) [pscustomobject]@{ Name = $p.Identity; Roles = @('Mail Recipients') } }
        Set-ExoHandler 'Get-RoleGroupMember' {
            param($p, $name)
            $row = [ordered]@{ Identity = 'someone'; Name = 'someone'; ExternalDirectoryObjectId = 'other' }
            $row[$global:ExoStub.Data.Field] = '66666666-7777-4888-8999-000000000001'
            [pscustomobject]$row
        }
        $answer = Invoke-TestRunner -Operations (Get-RoleGroupPlan)
        $answer.failed | Should -BeFalse
        @(Get-ExoCall 'New-RoleGroup').Count | Should -Be 0
        @(Get-ExoCall 'Add-RoleGroupMember').Count | Should -Be 0
    }

    It 'adds no member Exchange does not know, and no group over a read that failed' {
        Set-ExoHandler 'Get-ServicePrincipal' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
        Set-ExoHandler 'Get-RoleGroup' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind Other -Object $p.Identity) }
        Set-ExoHandler 'Get-RoleGroupMember' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind NotFound -Object $p.Identity) }
        $answer = Invoke-TestRunner -Operations (Get-RoleGroupPlan)
        @(Get-ExoCall 'New-RoleGroup').Count | Should -Be 0
        @(Get-ExoCall 'Add-RoleGroupMember').Count | Should -Be 0
    }

    It 'removes a group and a member without a prompt, and refuses a role outside the allow-list before connecting' {
        $answer = Invoke-TestRunner -Operations ('[{"op":"remove_role_group_member","params":{"Identity":"g","Member":"m"}},' +
            '{"op":"remove_role_group","params":{"Identity":"g"}}]')
        $answer.failed | Should -BeFalse
        [bool](Get-ExoCall 'Remove-RoleGroup')[0].Params.Confirm | Should -BeFalse
        [bool](Get-ExoCall 'Remove-RoleGroupMember')[0].Params.Confirm | Should -BeFalse
        Reset-ExoStub
        $refused = Invoke-TestRunner -Operations '[{"op":"new_role_group","params":{"Name":"g","Roles":["Organization Management"]}}]'
        $refused.failed | Should -BeTrue
        $refused.msg | Should -BeLike '*new_role_group: parameter Roles*'
        @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 0
    }
}

# Issue 26: the group's delegating assignment of an application role (role_group_plan.operations with delegating roles).
Describe 'delegating role assignments of a role group' {
    BeforeAll {
        $Smtp = 'Application SMTP.SendAsApp'
        function Get-DelegatingPlan {
            '[{"op":"get_role_group","params":{"Identity":"' + $Group + '"}},' +
            '{"op":"get_delegating_role_assignment","params":{"RoleAssignee":"' + $Group + '","Delegating":true}},' +
            '{"op":"new_delegating_role_assignment","params":{"Role":"' + $Smtp + '","SecurityGroup":"' + $Group + '","Delegating":true},' +
            '"when":{"read":1,"rows":"none","match":{"Role":"' + $Smtp + '"},"missing":"act"}}]'
        }
    }
    BeforeEach {
        Reset-ExoStub
        Set-ExoHandler 'Get-RoleGroup' { param($p, $name) [pscustomobject]@{ Name = $p.Identity; Roles = @('Role Management') } }
    }

    It 'reads only delegating assignments and makes a missing one with -SecurityGroup and the -Delegating switch' {
        Set-ExoHandler 'Get-ManagementRoleAssignment' { param($p, $name) }
        $answer = Invoke-TestRunner -Operations (Get-DelegatingPlan)
        $answer.failed | Should -BeFalse
        $read = (Get-ExoCall 'Get-ManagementRoleAssignment')[0].Params
        $read.RoleAssignee | Should -BeExactly 'admin group'
        $read.Delegating | Should -BeOfType [bool]
        $read.Delegating | Should -BeTrue
        $new = (Get-ExoCall 'New-ManagementRoleAssignment')[0].Params
        $new.Role | Should -BeExactly 'Application SMTP.SendAsApp'
        $new.SecurityGroup | Should -BeExactly 'admin group'
        [bool]$new.Delegating | Should -BeTrue
        $new.ContainsKey('App') | Should -BeFalse
    }

    It 'makes none when a delegating assignment of the role is there, whatever the case Exchange shows' {
        Set-ExoHandler 'Get-ManagementRoleAssignment' { param($p, $name) [pscustomobject]@{ Role = 'application smtp.sendasapp'; RoleAssignmentDelegationType = 'DelegatingOrgWide' } }
        $answer = Invoke-TestRunner -Operations (Get-DelegatingPlan)
        $answer.failed | Should -BeFalse
        @(Get-ExoCall 'New-ManagementRoleAssignment').Count | Should -Be 0
    }

    It 'makes none over a read that failed for another reason than not-found' {
        Set-ExoHandler 'Get-ManagementRoleAssignment' { param($p, $name) Write-ErrorMessage (New-ExoStubError -Kind Other -Object $p.RoleAssignee) }
        $answer = Invoke-TestRunner -Operations (Get-DelegatingPlan)
        @(Get-ExoCall 'New-ManagementRoleAssignment').Count | Should -Be 0
    }

    It 'refuses a -Delegating switch set to false, and a management role, before connecting' {
        foreach ($params in @(
                ('{"Role":"' + $Smtp + '","SecurityGroup":"g","Delegating":false}'),
                '{"Role":"Mail Recipients","SecurityGroup":"g","Delegating":true}')) {
            Reset-ExoStub
            $refused = Invoke-TestRunner -Operations ('[{"op":"new_delegating_role_assignment","params":' + $params + '}]')
            $refused.failed | Should -BeTrue
            $refused.msg | Should -BeLike '*new_delegating_role_assignment: parameter *'
            @(Get-ExoCall 'Connect-ExchangeOnline').Count | Should -Be 0
        }
    }
}
