# The script a capable admin would write instead of the role (issue 16), kept as the benchmark's second
# baseline: connect once, then Add-MailboxPermission for every mailbox in a list, with no reads and no checks,
# so a rerun writes everything again. bench/run.py sends it over WinRM (pywinrm's run_ps) to the same emulated
# Windows host as the role, with these variables set in front of it:
#   $AppId, $Organization, $CertificatePath, $CertificatePassword  the admin app's certificate login
#   $User          the mail app's service principal (its object id)
#   $MailboxFile   a text file on the host, one mailbox per line (C:\bench\mailboxes.txt)
# Windows PowerShell 5.1 syntax, ASCII only.
$ErrorActionPreference = 'Stop'
$path = $MailboxFile
# The emulated host keeps C:\ under M365_SANDBOX_DRIVE_C (a sandbox stand-in; on Windows this changes nothing).
if ($env:M365_SANDBOX_DRIVE_C -and $path -match '^C:\\(.*)$') { $path = Join-Path $env:M365_SANDBOX_DRIVE_C ($Matches[1] -replace '\\', '/') }
$password = ConvertTo-SecureString -String $CertificatePassword -AsPlainText -Force
Connect-ExchangeOnline -AppId $AppId -CertificateFilePath $CertificatePath -CertificatePassword $password -Organization $Organization -ShowBanner:$false
$done = 0
$failed = 0
try {
    foreach ($mailbox in Get-Content -Path $path) {
        if (-not $mailbox.Trim()) { continue }
        try {
            Add-MailboxPermission -Identity $mailbox -User $User -AccessRights FullAccess -InheritanceType All -AutoMapping $false -WarningAction SilentlyContinue | Out-Null
            $done++
        }
        catch {
            $failed++
            Write-Warning ('{0}: {1}' -f $mailbox, $_.Exception.Message)
        }
    }
}
finally {
    Disconnect-ExchangeOnline -Confirm:$false
}
'oneshot done={0} failed={1}' -f $done, $failed
