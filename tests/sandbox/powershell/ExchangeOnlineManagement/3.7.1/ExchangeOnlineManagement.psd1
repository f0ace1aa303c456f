# The sandbox's stand-in for Microsoft's ExchangeOnlineManagement module (see tests/sandbox/README.md,
# "Exchange Online REST fake"). Only the commands the collection's runner uses; each one is a thin call of
# the sandbox's POST /adminapi/beta/{tenant}/InvokeCommand, as the real v3 module's REST cmdlets are.
# The emulated Windows host (m365_sandbox/winrm/host_env.py) copies this manifest with another ModuleVersion
# to emulate other installed versions; RootModule is then rewritten to the absolute path of the .psm1.
@{
    RootModule = 'ExchangeOnlineManagement.psm1'
    ModuleVersion = '3.7.1'
    GUID = 'b5eced50-afa4-455b-8a19-b3c3e5d1f6e6'
    Author = 'm365.mail_oauth sandbox'
    Description = 'Test fake of ExchangeOnlineManagement: talks to the m365 sandbox, never to Microsoft.'
    PowerShellVersion = '7.0'
    FunctionsToExport = @(
        'Connect-ExchangeOnline', 'Disconnect-ExchangeOnline', 'Get-ConnectionInformation',
        'Get-ServicePrincipal', 'New-ServicePrincipal', 'Set-ServicePrincipal', 'Remove-ServicePrincipal',
        'Get-Mailbox', 'Get-EXOMailbox', 'Get-MailboxPermission', 'Get-EXOMailboxPermission',
        'Add-MailboxPermission', 'Remove-MailboxPermission',
        'Get-RecipientPermission', 'Add-RecipientPermission', 'Remove-RecipientPermission',
        'Get-CASMailbox', 'Set-CASMailbox', 'Get-TransportConfig',
        # RBAC for Applications (issue 24)
        'Get-ManagementScope', 'New-ManagementScope', 'Set-ManagementScope', 'Remove-ManagementScope',
        'Get-ManagementRoleAssignment', 'New-ManagementRoleAssignment', 'Remove-ManagementRoleAssignment',
        'Test-ServicePrincipalAuthorization'
    )
    CmdletsToExport = @()
    AliasesToExport = @()
    VariablesToExport = @()
}
