"""The fake ExchangeOnlineManagement module through real pwsh: error records, warnings, output types, logins."""

import json

from m365_sandbox.testing import MAILBOXES, SP, TENANT

# The token reaches pwsh in its environment, never on its command line: the soak samples every process's command line
# (-EncodedCommand decoded) for tokens, and a test's token there would count against the run it overlaps.
CONNECT = ("Import-Module ExchangeOnlineManagement -ErrorAction Stop\n"
           "Connect-ExchangeOnline -AccessToken $env:M365_TEST_TOKEN -Organization '%s' -ShowBanner:$false\n")
RECORD = ('function Get-Record($r) { [ordered]@{ type = $r.Exception.GetType().FullName; '
          'category = [string]$r.CategoryInfo.Category; reason = [string]$r.CategoryInfo.Reason; '
          'id = [string]$r.FullyQualifiedErrorId; message = $r.Exception.Message } }\n')


def _json(host, script, **env):
    stdout, stderr, rc = host.pwsh(RECORD + script, **env)
    assert rc == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


def test_error_record_warning_and_output_types(host):
    script = CONNECT % TENANT + '''
$out = [ordered]@{}
try { Get-MailboxPermission -Identity 'ghost@%(tenant)s' -ErrorAction Stop } catch { $out.error = Get-Record $_ }
$null = New-ServicePrincipal -AppId '%(sp)s' -ObjectId '%(sp)s'
$row = Add-MailboxPermission -Identity '%(mailbox)s' -User '%(sp)s' -AccessRights FullAccess -ErrorAction Stop
$out.types = [ordered]@{ row = $row.GetType().FullName; rights = $row.AccessRights.GetType().FullName
    inherited = $row.IsInherited.GetType().FullName }
$out.annotations = @($row.PSObject.Properties.Name | Where-Object { $_ -like '*@odata*' })
Remove-MailboxPermission -Identity '%(other)s' -User '%(sp)s' -AccessRights FullAccess -Confirm:$false `
    -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop
$out.warnings = @($w | ForEach-Object { [string]$_ })
try { Remove-MailboxPermission -Identity '%(mailbox)s' -User '%(sp)s' -AccessRights FullAccess -ErrorAction Stop }
catch { $out.prompt = [string]$_.Exception.Message }
Disconnect-ExchangeOnline -Confirm:$false
try { Get-TransportConfig -ErrorAction Stop } catch { $out.disconnected = [string]$_.Exception.Message }
$out | ConvertTo-Json -Depth 5 -Compress
''' % {'tenant': TENANT, 'sp': SP, 'mailbox': MAILBOXES[0], 'other': MAILBOXES[1]}
    out = _json(host, script, M365_TEST_TOKEN=host.token())
    error = out['error']
    # What the real v3 module raises: a plain exception, category NotSpecified, the Exchange type as the reason.
    assert (error['type'], error['category'], error['reason']) == ('System.Exception', 'NotSpecified', 'ManagementObjectNotFoundException')
    assert error['id'].startswith('[Server=') and error['id'].endswith('],Write-ErrorMessage') and 'RequestId=' in error['id']
    assert error['message'].startswith('Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation')
    assert out['types'] == {'row': 'System.Management.Automation.PSCustomObject', 'rights': 'System.String[]', 'inherited': 'System.Boolean'}
    assert out['annotations'] == []
    assert out['warnings'] == ['Can\'t remove the access control entry on the object "user2" for account "%s" because the ACE doesn\'t exist '
                               'on the object.' % SP]
    # Remove-* prompts (ConfirmImpact High) unless -Confirm:$false; a non-interactive host cannot answer.
    assert 'NonInteractive' in out['prompt']
    assert 'Connect-ExchangeOnline' in out['disconnected']
    stats = host.exchange.counters.as_dict()
    assert (stats['connections'], stats['disconnections']) == (1, 1)
    assert stats['connect_params'] == [['AccessToken', 'Organization', 'ShowBanner']]


def test_throttling_is_retried_then_raised(host):
    host.exchange.faults.configure(throttle_every=1, throttle_retry_after=2)
    out = _json(host, CONNECT % TENANT + '''
try { Get-TransportConfig -ErrorAction Stop; 'no error' } catch { Get-Record $_ | ConvertTo-Json -Compress }''', M365_TEST_TOKEN=host.token())
    assert (out['category'], out['id']) == ('LimitsExceeded', 'ThrottlingError,Write-ErrorMessage')
    assert 'TooManyRequests' in out['message']
    stats = host.exchange.counters.as_dict()
    # The module tried three times, told to wait 2 s each time (scaled down on the emulated host).
    assert stats['cmdlets'] == {'Get-TransportConfig': 3} and stats['throttled'] == 3 and stats['sleeps'] == 6


def test_certificate_file_thumbprint_and_managed_identity_logins(host):
    admin = host.sandbox.seeds[0]
    pfx = host.disk.certificates[0]
    script = '''
Import-Module ExchangeOnlineManagement -ErrorAction Stop
$out = [ordered]@{}
function Try-Connect([hashtable]$p) {
    try { Connect-ExchangeOnline @p -Organization '%(tenant)s' -ShowBanner:$false -ErrorAction Stop; $c = Get-ConnectionInformation
          Disconnect-ExchangeOnline -Confirm:$false; 'ok ' + $c.State + ' ' + $c.CertificateAuthentication } catch { 'failed: ' + $_.Exception.Message }
}
function Get-Secure([string]$text) { ConvertTo-SecureString $text -AsPlainText -Force }
$out.file = Try-Connect @{ AppId = '%(app)s'; CertificateFilePath = '%(path)s'; CertificatePassword = (Get-Secure '%(password)s') }
$out.wrong_password = Try-Connect @{ AppId = '%(app)s'; CertificateFilePath = '%(path)s'; CertificatePassword = (Get-Secure 'nope') }
$out.thumbprint = Try-Connect @{ AppId = '%(app)s'; CertificateThumbprint = '%(thumbprint)s' }
$out.unknown_thumbprint = Try-Connect @{ AppId = '%(app)s'; CertificateThumbprint = ('A' * 40) }
$out.managed_identity = Try-Connect @{ ManagedIdentity = $true }
$out | ConvertTo-Json -Compress
''' % {'tenant': TENANT, 'app': admin.admin_client_id, 'path': pfx['path'], 'password': pfx['password'], 'thumbprint': admin.certificate_thumbprint}
    out = _json(host, script)
    assert out['file'] == 'ok Connected True' and out['thumbprint'] == 'ok Connected True' and out['managed_identity'] == 'ok Connected False'
    assert out['wrong_password'].startswith('failed') and 'thumbprint AAAA' in out['unknown_thumbprint']
    assert host.exchange.counters.as_dict()['connections'] == 3
    # Off Windows the real module has no certificate store to read.
    linux = _json(host, script, M365_SANDBOX_WINDOWS=None)
    assert 'only on Windows' in linux['thumbprint'] and linux['file'] == 'ok Connected True'


def test_connect_refuses_a_token_without_the_role(host):
    stdout, _stderr, _rc = host.pwsh(RECORD + "Import-Module ExchangeOnlineManagement\ntry { Connect-ExchangeOnline -AccessToken $env:M365_TEST_TOKEN "
                                     "-Organization '%s' -ShowBanner:$false -ErrorAction Stop } catch { $_.Exception.Message }" % TENANT,
                                     M365_TEST_TOKEN=host.token(roles=()))
    assert "isn't supported in this scenario" in stdout
    assert host.exchange.counters.as_dict()['connect_failures'] == 1
