# Test fake of Microsoft's ExchangeOnlineManagement v3 module, for the m365 sandbox only.
#
# The real v3 module turns every cmdlet into POST https://outlook.office365.com/adminapi/beta/{tenant}/InvokeCommand
# with {"CmdletInput": {"CmdletName": ..., "Parameters": {...}}} and a bearer token for https://outlook.office365.com;
# this fake does the same against the sandbox, so the collection's runner (plugins/plugin_utils/exchange/runner.ps1) is exercised
# unchanged. Every behaviour cites its source in tests/sandbox/README.md ("Exchange Online REST fake"); what
# no source shows is marked weak there.
#
# Where the sandbox is comes from the environment the emulated Windows host (m365_sandbox/winrm/host_env.py)
# sets up:
#   M365_SANDBOX_EXCHANGE_URL  base URL standing for both https://outlook.office365.com and the login service
#   M365_SANDBOX_COMMAND       id of the WinRM command, sent as a header so the sandbox can tie calls to it
#   M365_SANDBOX_WINDOWS       set on the emulated Windows host: -CertificateThumbprint is Windows-only
#   M365_SANDBOX_CERT_STORE    directory standing for Cert:\ (CurrentUser\My\<THUMBPRINT>.pem, LocalMachine\My\...)
#   M365_SANDBOX_DRIVE_C       directory standing for C:\ (certificate files named with Windows paths)
#   M365_SANDBOX_RETRY_SCALE   factor on Retry-After so throttling tests stay fast (the real module waits in full)
#   IDENTITY_ENDPOINT, IDENTITY_HEADER  the managed identity endpoint, as App Service/Automation expose it
# TLS trust comes from SSL_CERT_FILE (a bundle with the sandbox CA), which .NET on Linux honours.

Set-StrictMode -Version 3.0

$script:Connection = $null
$script:WebSession = $null
$script:Audiences = @{
    'O365Default' = 'https://outlook.office365.com'
    'O365USGovGCCHigh' = 'https://outlook.office365.us'
    'O365USGovDoD' = 'https://outlook-dod.office365.us'
    'O365China' = 'https://partner.outlook.cn'
}
# The real module retries throttled calls itself a few times before it raises (count not published: weak).
$script:ThrottleAttempts = 3
# Parameters every advanced function has; they steer PowerShell, they are never sent to Exchange.
$script:CommonParameters = @(
    [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
)

function Get-SandboxBaseUrl {
    $base = $env:M365_SANDBOX_EXCHANGE_URL
    if (-not $base) { throw 'M365_SANDBOX_EXCHANGE_URL is not set: this fake ExchangeOnlineManagement only talks to the m365 sandbox' }
    $base.TrimEnd('/')
}

function Get-SandboxHeaders {
    param([string]$Token, [string]$Audience)
    $headers = @{ 'X-ResponseFormat' = 'json'; 'Accept' = 'application/json' }
    if ($Token) { $headers['Authorization'] = 'Bearer ' + $Token }
    # Which Exchange host (per ExchangeEnvironmentName) this request stands for: one sandbox URL serves them all.
    if ($Audience) { $headers['X-M365-Sandbox-Audience'] = $Audience }
    if ($env:M365_SANDBOX_COMMAND) { $headers['X-M365-Sandbox-Command'] = $env:M365_SANDBOX_COMMAND }
    if ($script:Connection) { $headers['connection-id'] = $script:Connection.ConnectionId }
    $headers
}

# One HTTP exchange with the sandbox; HTTP errors come back as responses, network failures throw.
function Invoke-SandboxRequest {
    param([string]$Method, [string]$Uri, [hashtable]$Headers, $Body, [string]$ContentType = 'application/json')
    if ($null -eq $script:WebSession) { $script:WebSession = New-Object Microsoft.PowerShell.Commands.WebRequestSession }
    $request = @{
        Method = $Method; Uri = $Uri; Headers = $Headers; WebSession = $script:WebSession
        SkipHttpErrorCheck = $true; UseBasicParsing = $true; ErrorAction = 'Stop'
    }
    if ($null -ne $Body) { $request['Body'] = $Body; $request['ContentType'] = $ContentType }
    $ProgressPreference = 'SilentlyContinue'
    Invoke-WebRequest @request
}

function ConvertFrom-SandboxJson {
    param($Response)
    $text = [string]$Response.Content
    if (-not $text.Trim([char]0).Trim()) { return $null }
    try { ConvertFrom-Json -InputObject $text } catch { $null }
}

function ConvertTo-Base64Url {
    param([byte[]]$Bytes)
    [Convert]::ToBase64String($Bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
}

# The error record as the real v3 module writes a service error: a plain exception, category NotSpecified,
# CategoryInfo.Reason the Exchange exception's short name, and ErrorId "[Server=..,RequestId=..,TimeStamp=..]".
# The function's name is what makes the FullyQualifiedErrorId end in ",Write-ErrorMessage", as the real one does.
function Write-ErrorMessage {
    param([string]$Message, [string]$ErrorId, [string]$Reason, [string]$Category = 'NotSpecified')
    $exception = New-Object System.Exception $Message
    Write-Error -Exception $exception -ErrorId $ErrorId -Category $Category -CategoryReason $Reason
}

function Get-ServiceErrorId {
    param($Response)
    $server = [string]$Response.Headers['X-CalculatedBETarget']
    if (-not $server) { $server = 'SANDBOX' }
    $requestId = [string]$Response.Headers['request-id']
    '[Server={0},RequestId={1},TimeStamp={2}]' -f $server, $requestId, [DateTime]::UtcNow.ToString('ddd, dd MMM yyyy HH:mm:ss \G\M\T', [Globalization.CultureInfo]::InvariantCulture)
}

# Turns an HTTP answer that is not a success into the caller's error; returns $true when it wrote one.
function Write-ServiceError {
    param($Response)
    $status = [int]$Response.StatusCode
    $document = ConvertFrom-SandboxJson -Response $Response
    $message = ''
    if ($document -and $document.PSObject.Properties['error']) {
        $message = [string]$document.error.message
        if ($document.error.PSObject.Properties['details'] -and @($document.error.details).Count -gt 0) {
            $message = [string]@($document.error.details)[0].message
        }
    }
    if ($status -eq 403 -and -not $message) {
        # The service answers 403 with a body of NUL bytes for a cmdlet the caller may not run.
        $message = 'The operation could not be performed: the service refused the request (403 Forbidden).'
    }
    if (-not $message) { $message = 'The service answered HTTP {0}.' -f $status }
    # "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|text": the middle field names the reason.
    $reason = 'Exception'
    $parts = $message.Split('|')
    if ($parts.Count -ge 3 -and $parts[1].Trim()) { $reason = $parts[1].Trim().Split('.')[-1] }
    elseif ($status -eq 401) { $reason = 'UnauthorizedAccessException' }
    Write-ErrorMessage -Message $message -ErrorId (Get-ServiceErrorId -Response $Response) -Reason $reason
}

function Assert-SandboxConnected {
    param([string]$Name)
    if ($null -eq $script:Connection) {
        throw ("Connect-ExchangeOnline must be called before {0}: there is no connection to Exchange Online." -f $Name)
    }
    $names = @($script:Connection.CommandName)
    # -CommandName loads only the named cmdlets (the Get-EXO* ones ship with the module and are always there).
    if ($names.Count -gt 0 -and $Name -notlike 'Get-EXO*' -and $names -notcontains $Name) {
        $exception = New-Object System.Management.Automation.CommandNotFoundException (
            "The term '{0}' is not recognized as a name of a cmdlet, function, script file, or executable program." -f $Name)
        throw (New-Object System.Management.Automation.ErrorRecord $exception, 'CommandNotFoundException', 'ObjectNotFound', $Name)
    }
    Assert-SandboxRbacCommand -Name $Name
}

function ConvertTo-ExoParameterValue {
    param($Value)
    if ($Value -is [System.Management.Automation.SwitchParameter]) { return [bool]$Value }
    if ($Value -is [System.Security.SecureString]) { return [System.Net.NetworkCredential]::new('', $Value).Password }
    if ($Value -is [array]) { return ,@($Value | ForEach-Object { ConvertTo-ExoParameterValue -Value $_ }) }
    $Value
}

# Rows as the real module writes them: PSCustomObjects with the service's property names; the
# "X@odata.type" annotations that mark collections are not properties.
function ConvertTo-ExoRow {
    param($Row)
    $out = [ordered]@{}
    foreach ($prop in $Row.PSObject.Properties) {
        if ($prop.Name -like '*@odata.*') { continue }
        $value = $prop.Value
        if ($Row.PSObject.Properties[$prop.Name + '@odata.type']) { $value = [string[]]@($value) }
        $out[$prop.Name] = $value
    }
    [pscustomobject]$out
}

# The one call every cmdlet makes: InvokeCommand, following @odata.nextLink, warnings as PowerShell
# warnings, throttling retried here (honouring Retry-After) before it becomes the caller's error.
function Invoke-ExoCommand {
    param([string]$Name, [hashtable]$Bound)
    Assert-SandboxConnected -Name $Name
    $parameters = [ordered]@{}
    foreach ($key in $Bound.Keys) {
        if ($script:CommonParameters -contains $key) { continue }
        $parameters[$key] = ConvertTo-ExoParameterValue -Value $Bound[$key]
    }
    $body = ConvertTo-Json -Depth 10 -Compress -InputObject @{ CmdletInput = @{ CmdletName = $Name; Parameters = $parameters } }
    $uri = '{0}/adminapi/beta/{1}/InvokeCommand' -f (Get-SandboxBaseUrl), $script:Connection.TenantID
    $attempt = 0
    while ($uri) {
        $response = Invoke-SandboxRequest -Method 'POST' -Uri $uri -Headers (Get-SandboxHeaders -Token $script:Connection.Token -Audience $script:Connection.ConnectionUri) -Body $body
        $status = [int]$response.StatusCode
        if ($status -eq 429) {
            $attempt++
            $wait = 1
            $header = [string]$response.Headers['Retry-After']
            if ($header) { $wait = [double]$header }
            if ($attempt -lt $script:ThrottleAttempts) {
                $scale = 1.0
                if ($env:M365_SANDBOX_RETRY_SCALE) { $scale = [double]$env:M365_SANDBOX_RETRY_SCALE }
                Start-Sleep -Milliseconds ([int]($wait * 1000 * $scale))
                continue
            }
            $document = ConvertFrom-SandboxJson -Response $response
            $text = 'The request was throttled (TooManyRequests).'
            if ($document -and $document.PSObject.Properties['error']) { $text = [string]$document.error.message }
            Write-ErrorMessage -Message $text -ErrorId 'ThrottlingError' -Reason 'ThrottlingException' -Category 'LimitsExceeded'
            return
        }
        if ($status -ne 200) {
            Write-ServiceError -Response $response
            return
        }
        $attempt = 0
        $document = ConvertFrom-SandboxJson -Response $response
        foreach ($warning in @($document.'@adminapi.warnings')) {
            if ($warning) { Write-Warning -Message ([string]$warning) }
        }
        foreach ($row in @($document.value)) {
            if ($null -ne $row) { ConvertTo-ExoRow -Row $row }
        }
        $uri = $null
        if ($document.PSObject.Properties['@odata.nextLink']) { $uri = [string]$document.'@odata.nextLink' }
    }
}

# -- Connecting ---------------------------------------------------------------------------------------

# A Windows path such as C:\certs\admin.pfx names a file under the emulated host's C: directory.
function Resolve-SandboxPath {
    param([string]$Path)
    if ($Path -match '^([A-Za-z]):[\\/](.*)$' -and $env:M365_SANDBOX_DRIVE_C -and $Matches[1] -eq 'C') {
        return Join-Path $env:M365_SANDBOX_DRIVE_C ($Matches[2] -replace '\\', '/')
    }
    $Path
}

function Get-SandboxCertificateByThumbprint {
    param([string]$Thumbprint)
    if (-not $env:M365_SANDBOX_WINDOWS) {
        throw 'CertificateThumbprint is supported only on Windows: the certificate store it reads exists only there. Use -CertificateFilePath or -Certificate on this platform.'
    }
    $wanted = $Thumbprint.Replace(' ', '').ToUpperInvariant()
    # The real module looks in CurrentUser\My, then LocalMachine\My.
    foreach ($store in 'CurrentUser', 'LocalMachine') {
        $path = Join-Path $env:M365_SANDBOX_CERT_STORE (Join-Path $store (Join-Path 'My' ($wanted + '.pem')))
        if (Test-Path -LiteralPath $path) {
            return [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile($path)
        }
    }
    throw ("No certificate found with thumbprint {0} in the CurrentUser or LocalMachine certificate store." -f $Thumbprint)
}

# Client credentials with a certificate: an RS256 assertion with x5t, as MSAL builds it.
function Get-SandboxCertificateToken {
    param([string]$AppId, [string]$Tenant, $Certificate, [string]$Resource)
    if (-not $Certificate.HasPrivateKey) { throw 'The certificate has no private key: app-only authentication needs one.' }
    $tokenUri = '{0}/{1}/oauth2/v2.0/token' -f (Get-SandboxBaseUrl), $Tenant
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $header = @{ alg = 'RS256'; typ = 'JWT'; x5t = (ConvertTo-Base64Url -Bytes $Certificate.GetCertHash()) }
    $claims = @{ aud = $tokenUri; iss = $AppId; sub = $AppId; jti = [guid]::NewGuid().ToString(); nbf = $now; iat = $now; exp = $now + 600 }
    $utf8 = [Text.Encoding]::UTF8
    $unsigned = (ConvertTo-Base64Url -Bytes $utf8.GetBytes((ConvertTo-Json -Compress $header))) + '.' +
        (ConvertTo-Base64Url -Bytes $utf8.GetBytes((ConvertTo-Json -Compress $claims)))
    $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
    $signature = $rsa.SignData($utf8.GetBytes($unsigned), [Security.Cryptography.HashAlgorithmName]::SHA256,
        [Security.Cryptography.RSASignaturePadding]::Pkcs1)
    $form = @{
        client_id = $AppId; scope = $Resource + '/.default'; grant_type = 'client_credentials'
        client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        client_assertion = $unsigned + '.' + (ConvertTo-Base64Url -Bytes $signature)
    }
    $response = Invoke-SandboxRequest -Method 'POST' -Uri $tokenUri -Headers @{} -Body $form -ContentType 'application/x-www-form-urlencoded'
    $answer = ConvertFrom-SandboxJson -Response $response
    if ([int]$response.StatusCode -ne 200) {
        $text = 'the token request failed'
        if ($answer -and $answer.PSObject.Properties['error_description']) { $text = [string]$answer.error_description }
        throw ('UnAuthorized: {0}' -f $text)
    }
    [string]$answer.access_token
}

function Get-SandboxManagedIdentityToken {
    param([string]$Resource, [string]$AccountId)
    if (-not $env:IDENTITY_ENDPOINT) { throw 'ManagedIdentity: no managed identity endpoint is available on this host (IDENTITY_ENDPOINT is not set).' }
    $uri = '{0}?api-version=2019-08-01&resource={1}' -f $env:IDENTITY_ENDPOINT, [uri]::EscapeDataString($Resource + '/')
    if ($AccountId) { $uri += '&client_id=' + [uri]::EscapeDataString($AccountId) }
    $response = Invoke-SandboxRequest -Method 'GET' -Uri $uri -Headers @{ 'X-IDENTITY-HEADER' = [string]$env:IDENTITY_HEADER } -Body $null
    if ([int]$response.StatusCode -ne 200) { throw ('ManagedIdentity: the managed identity endpoint answered HTTP {0}' -f [int]$response.StatusCode) }
    [string](ConvertFrom-SandboxJson -Response $response).access_token
}

function Get-SandboxTokenClaims {
    param([string]$Token)
    $parts = $Token.Split('.')
    if ($parts.Count -lt 2) { return $null }
    $payload = $parts[1].Replace('-', '+').Replace('_', '/')
    $payload += '=' * ((4 - $payload.Length % 4) % 4)
    try { ConvertFrom-Json -InputObject ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload))) } catch { $null }
}

function Connect-ExchangeOnline {
    [CmdletBinding(DefaultParameterSetName = 'AppOnly')]
    param(
        [string]$ConnectionUri,
        [string]$AzureADAuthorizationEndpointUri,
        [ValidateSet('O365Default', 'O365USGovGCCHigh', 'O365USGovDoD', 'O365GermanyCloud', 'O365China')]
        [string]$ExchangeEnvironmentName = 'O365Default',
        [string]$DelegatedOrganization,
        [string]$Prefix,
        [string[]]$CommandName,
        [string[]]$FormatTypeName,
        [string]$AccessToken,
        [string]$AppId,
        [System.Security.Cryptography.X509Certificates.X509Certificate2]$Certificate,
        [string]$CertificateFilePath,
        [System.Security.SecureString]$CertificatePassword,
        [string]$CertificateThumbprint,
        [switch]$ManagedIdentity,
        [string]$ManagedIdentityAccountId,
        [string]$Organization,
        [uint32]$PageSize = 1000,
        [switch]$ShowBanner = $true,
        [switch]$ShowProgress,
        [switch]$SkipLoadingFormatData,
        [switch]$SkipLoadingCmdletHelp,
        [string]$UserPrincipalName
    )
    if ($ShowBanner) {
        Write-Host 'This V3 EXO PowerShell module contains new REST API backed Exchange Online cmdlets which do not require WinRM. (sandbox fake)'
    }
    $resource = $script:Audiences[$ExchangeEnvironmentName]
    if (-not $resource) { throw ("The Exchange environment '{0}' is not served by the sandbox." -f $ExchangeEnvironmentName) }
    $isCertificate = $false
    if ($AccessToken) {
        # The cmdlet's help: "Depending on the type of access token, you need to use this parameter with the Organization,
        # DelegatedOrganization, or UserPrincipalName parameter." (the error text: weak, from a vendor's knowledge base).
        if (-not ($Organization -or $DelegatedOrganization -or $UserPrincipalName)) {
            throw 'Either one of Organization, DelegatedOrganization or UserPrincipalName should be provided with the AccessToken'
        }
        $token = $AccessToken
    }
    elseif ($ManagedIdentity) {
        if (-not $Organization) { throw 'Organization is required for ManagedIdentity authentication.' }
        $token = Get-SandboxManagedIdentityToken -Resource $resource -AccountId $ManagedIdentityAccountId
    }
    elseif ($AppId -and ($Certificate -or $CertificateFilePath -or $CertificateThumbprint)) {
        if (-not $Organization) { throw 'Organization is required for app-only authentication with a certificate.' }
        if ($CertificateThumbprint) { $Certificate = Get-SandboxCertificateByThumbprint -Thumbprint $CertificateThumbprint }
        elseif ($CertificateFilePath) {
            $path = Resolve-SandboxPath -Path $CertificateFilePath
            if (-not (Test-Path -LiteralPath $path)) { throw ("Could not find the certificate file '{0}'." -f $CertificateFilePath) }
            $password = $null
            if ($CertificatePassword) { $password = [System.Net.NetworkCredential]::new('', $CertificatePassword).Password }
            $Certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @(
                $path, $password, [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::EphemeralKeySet)
        }
        $token = Get-SandboxCertificateToken -AppId $AppId -Tenant $Organization -Certificate $Certificate -Resource $resource
        $isCertificate = $true
    }
    else {
        # Interactive and device logins need a browser or a person: not on a test host.
        throw 'The sandbox fake of Connect-ExchangeOnline supports -AccessToken, -AppId with a certificate, and -ManagedIdentity only.'
    }
    $claims = Get-SandboxTokenClaims -Token $token
    $tenant = $Organization
    if (-not $tenant -and $claims) { $tenant = [string]$claims.tid }
    if (-not $tenant) { throw 'Organization is required when the access token names no tenant.' }

    # Sandbox stand-in for the start-up requests the real module makes on Connect (fetching the cmdlet
    # list with the token): lets the sandbox check the token, apply connect faults and count connections.
    $bound = @($PSBoundParameters.Keys | Where-Object { $script:CommonParameters -notcontains $_ } | Sort-Object)
    $connectBody = ConvertTo-Json -Compress -InputObject @{ Parameters = $bound; CommandName = @($CommandName | Where-Object { $_ }) }
    $uri = '{0}/adminapi/beta/{1}/_sandbox/Connect' -f (Get-SandboxBaseUrl), $tenant
    $response = Invoke-SandboxRequest -Method 'POST' -Uri $uri -Headers (Get-SandboxHeaders -Token $token -Audience $resource) -Body $connectBody
    if ([int]$response.StatusCode -ne 200) {
        $document = ConvertFrom-SandboxJson -Response $response
        $text = 'UnAuthorized'
        if ($document -and $document.PSObject.Properties['error']) { $text = [string]$document.error.message }
        throw $text
    }
    $answer = ConvertFrom-SandboxJson -Response $response
    $appId = $AppId
    if (-not $appId -and $claims) { $appId = [string]$claims.appid }
    $expiry = [DateTime]::UtcNow.AddHours(1)
    if ($claims -and $claims.PSObject.Properties['exp']) { $expiry = [DateTimeOffset]::FromUnixTimeSeconds([long]$claims.exp).UtcDateTime }
    $script:Connection = [pscustomobject]@{
        ConnectionId = [guid]::NewGuid().ToString()
        Token = $token
        TenantID = [string]$answer.TenantId
        Organization = $Organization
        UserPrincipalName = $UserPrincipalName
        AppId = $appId
        CommandName = @($CommandName | Where-Object { $_ })
        RbacCommands = Get-SandboxRbacCommands -Answer $answer
        ConnectionUri = $resource
        TokenExpiryTimeUTC = $expiry
        CertificateAuthentication = $isCertificate
        PageSize = $PageSize
        Prefix = $Prefix
    }
}

function Disconnect-ExchangeOnline {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([string]$ConnectionId, [string]$ModulePrefix)
    if ($null -eq $script:Connection) { return }
    if (-not $PSCmdlet.ShouldProcess('Exchange Online session', 'Disconnect')) { return }
    $connection = $script:Connection
    # Sandbox stand-in (the real module only drops its token and temporary module): lets the sandbox count disconnects.
    $uri = '{0}/adminapi/beta/{1}/_sandbox/Disconnect' -f (Get-SandboxBaseUrl), $connection.TenantID
    try { $null = Invoke-SandboxRequest -Method 'POST' -Uri $uri -Headers (Get-SandboxHeaders -Token $connection.Token -Audience $connection.ConnectionUri) -Body '{}' }
    finally { $script:Connection = $null }
}

function Get-ConnectionInformation {
    [CmdletBinding()]
    param([string[]]$ConnectionId, [string[]]$ModulePrefix)
    if ($null -eq $script:Connection) { return }
    $c = $script:Connection
    [pscustomobject]@{
        ConnectionId = $c.ConnectionId
        State = 'Connected'
        Id = 1
        Name = 'ExchangeOnline_1'
        UserPrincipalName = $c.UserPrincipalName
        ConnectionUri = $c.ConnectionUri
        AzureAdAuthorizationEndpointUri = 'https://login.microsoftonline.com/organizations'
        TokenExpiryTimeUTC = $c.TokenExpiryTimeUTC
        CertificateAuthentication = $c.CertificateAuthentication
        ModuleName = 'tmpEXO_sandbox'
        ModulePrefix = $c.Prefix
        Organization = $c.Organization
        DelegatedOrganization = $null
        AppId = $c.AppId
        PageSize = $c.PageSize
        TenantID = $c.TenantID
        TokenStatus = 'Active'
        ConnectionUsedForInbuiltCmdlets = $true
        IsEopSession = $false
    }
}

# -- The cmdlets the collection's allow-list names (plugins/plugin_utils/exchange/operations.py) ------
# Parameter names and which ones prompt follow each cmdlet's Microsoft Learn page; values are sent as
# given and the service checks them (wrong enum values answer 400, as the real service does).

function Get-ServicePrincipal {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, [string]$Organization)
    Invoke-ExoCommand -Name 'Get-ServicePrincipal' -Bound $PSBoundParameters
}

function New-ServicePrincipal {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory)][string]$AppId, [Parameter(Mandatory)][string]$ObjectId, [string]$DisplayName, [string]$Organization)
    if ($PSCmdlet.ShouldProcess($AppId)) { Invoke-ExoCommand -Name 'New-ServicePrincipal' -Bound $PSBoundParameters }
}

function Set-ServicePrincipal {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [Parameter(Mandatory)][string]$DisplayName)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Set-ServicePrincipal' -Bound $PSBoundParameters }
}

function Remove-ServicePrincipal {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-ServicePrincipal' -Bound $PSBoundParameters }
}

function Get-Mailbox {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, $ResultSize, [string]$Filter, [string[]]$RecipientTypeDetails)
    Invoke-ExoCommand -Name 'Get-Mailbox' -Bound $PSBoundParameters
}

function Get-EXOMailbox {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, $ResultSize, [string]$Filter, [string[]]$Properties, [string[]]$PropertySets,
        [string[]]$RecipientTypeDetails, [string]$UserPrincipalName, [string]$PrimarySmtpAddress, [string]$ExternalDirectoryObjectId)
    Invoke-ExoCommand -Name 'Get-EXOMailbox' -Bound $PSBoundParameters
}

function Get-MailboxPermission {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [string]$User, [switch]$Owner, $ResultSize)
    Invoke-ExoCommand -Name 'Get-MailboxPermission' -Bound $PSBoundParameters
}

function Get-EXOMailboxPermission {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, [string]$User, $ResultSize, [string]$UserPrincipalName, [string]$PrimarySmtpAddress,
        [string]$ExternalDirectoryObjectId)
    Invoke-ExoCommand -Name 'Get-EXOMailboxPermission' -Bound $PSBoundParameters
}

function Add-MailboxPermission {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [string]$User, [string[]]$AccessRights,
        [ValidateSet('All', 'Children', 'Descendents', 'None', 'SelfAndChildren')][string]$InheritanceType, [bool]$AutoMapping,
        [switch]$Deny, [string]$Owner)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Add-MailboxPermission' -Bound $PSBoundParameters }
}

function Remove-MailboxPermission {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [string]$User, [string[]]$AccessRights,
        [ValidateSet('All', 'Children', 'Descendents', 'None', 'SelfAndChildren')][string]$InheritanceType, [switch]$Deny,
        [switch]$ResetDefault, [string]$Owner, [switch]$BypassMasterAccountSid)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-MailboxPermission' -Bound $PSBoundParameters }
}

function Get-RecipientPermission {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, [string]$Trustee, [string[]]$AccessRights, $ResultSize)
    Invoke-ExoCommand -Name 'Get-RecipientPermission' -Bound $PSBoundParameters
}

function Add-RecipientPermission {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [Parameter(Mandatory)][string]$Trustee,
        [Parameter(Mandatory)][string[]]$AccessRights)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Add-RecipientPermission' -Bound $PSBoundParameters }
}

function Remove-RecipientPermission {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [Parameter(Mandatory)][string]$Trustee,
        [Parameter(Mandatory)][string[]]$AccessRights)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-RecipientPermission' -Bound $PSBoundParameters }
}

function Get-CASMailbox {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, $ResultSize, [string]$Filter)
    Invoke-ExoCommand -Name 'Get-CASMailbox' -Bound $PSBoundParameters
}

function Set-CASMailbox {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [bool]$ImapEnabled, [bool]$PopEnabled,
        [System.Nullable[bool]]$SmtpClientAuthenticationDisabled)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Set-CASMailbox' -Bound $PSBoundParameters }
}

function Get-TransportConfig {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity)
    Invoke-ExoCommand -Name 'Get-TransportConfig' -Bound $PSBoundParameters
}

# -- RBAC for Applications (issue 24): management scopes, role assignments to apps, Test-ServicePrincipalAuthorization.
# Parameters as on each cmdlet's Learn page (only the recipient-filter parameter set of the scope cmdlets and the -App
# and -SecurityGroup parameter sets of New-ManagementRoleAssignment); the service checks the filter, the names and which
# parameter set was given.

function Get-ManagementScope {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, [switch]$Exclusive, [switch]$Orphan)
    Invoke-ExoCommand -Name 'Get-ManagementScope' -Bound $PSBoundParameters
}

function New-ManagementScope {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Name, [Parameter(Mandatory)][string]$RecipientRestrictionFilter,
        [string]$RecipientRoot, [switch]$Exclusive, [switch]$Force)
    if ($PSCmdlet.ShouldProcess($Name)) { Invoke-ExoCommand -Name 'New-ManagementScope' -Bound $PSBoundParameters }
}

function Set-ManagementScope {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [string]$RecipientRestrictionFilter, [string]$Name,
        [string]$RecipientRoot, [switch]$Force)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Set-ManagementScope' -Bound $PSBoundParameters }
}

function Remove-ManagementScope {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [switch]$Force)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-ManagementScope' -Bound $PSBoundParameters }
}

function Get-ManagementRoleAssignment {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, [string]$Role, [string]$RoleAssignee, [string]$RoleAssigneeType,
        [bool]$Delegating, [switch]$GetEffectiveUsers)
    Invoke-ExoCommand -Name 'Get-ManagementRoleAssignment' -Bound $PSBoundParameters
}

function New-ManagementRoleAssignment {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Position = 0)][string]$Name, [Parameter(Mandatory)][string]$Role, [string]$App,
        [string]$CustomResourceScope, [string]$SecurityGroup, [switch]$Delegating)
    if ($PSCmdlet.ShouldProcess($Role)) { Invoke-ExoCommand -Name 'New-ManagementRoleAssignment' -Bound $PSBoundParameters }
}

function Remove-ManagementRoleAssignment {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [switch]$Force)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-ManagementRoleAssignment' -Bound $PSBoundParameters }
}

function Test-ServicePrincipalAuthorization {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [string]$Resource)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Test-ServicePrincipalAuthorization' -Bound $PSBoundParameters }
}

# -- Role groups (issue 20: the admin identity's least-privilege Exchange role) ------------------------
# The real module's session holds only the cmdlets the caller's management roles allow; any other is "not
# recognized" (README, "Role groups": medium). The sandbox's Connect answers that list as "Cmdlets" when an
# app's role comes from role groups; the Get-EXO* cmdlets ship with the module and reach the service (403).

function Get-SandboxRbacCommands {
    param($Answer)
    if ($Answer -and $Answer.PSObject.Properties['Cmdlets']) { return ,@($Answer.Cmdlets) }
    return $null
}

function Assert-SandboxRbacCommand {
    param([string]$Name)
    $allowed = $script:Connection.RbacCommands
    if ($null -eq $allowed -or $Name -like 'Get-EXO*' -or $allowed -contains $Name) { return }
    $exception = New-Object System.Management.Automation.CommandNotFoundException (
        "The term '{0}' is not recognized as a name of a cmdlet, function, script file, or executable program." -f $Name)
    throw (New-Object System.Management.Automation.ErrorRecord $exception, 'CommandNotFoundException', 'ObjectNotFound', $Name)
}

function Get-RoleGroup {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$Identity, $ResultSize, [string]$Filter)
    Invoke-ExoCommand -Name 'Get-RoleGroup' -Bound $PSBoundParameters
}

function New-RoleGroup {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Name, [string[]]$Roles, [string[]]$Members, [string]$Description,
        [string]$DisplayName, [string[]]$ManagedBy, [string]$CustomRecipientWriteScope, [string]$CustomConfigWriteScope)
    if ($PSCmdlet.ShouldProcess($Name)) { Invoke-ExoCommand -Name 'New-RoleGroup' -Bound $PSBoundParameters }
}

function Remove-RoleGroup {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [switch]$BypassSecurityGroupManagerCheck)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-RoleGroup' -Bound $PSBoundParameters }
}

function Get-RoleGroupMember {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, $ResultSize)
    Invoke-ExoCommand -Name 'Get-RoleGroupMember' -Bound $PSBoundParameters
}

function Add-RoleGroupMember {
    [CmdletBinding(SupportsShouldProcess)]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [Parameter(Mandatory)][string]$Member,
        [switch]$BypassSecurityGroupManagerCheck)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Add-RoleGroupMember' -Bound $PSBoundParameters }
}

function Remove-RoleGroupMember {
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param([Parameter(Mandatory, Position = 0)][string]$Identity, [Parameter(Mandatory)][string]$Member,
        [switch]$BypassSecurityGroupManagerCheck)
    if ($PSCmdlet.ShouldProcess($Identity)) { Invoke-ExoCommand -Name 'Remove-RoleGroupMember' -Bound $PSBoundParameters }
}
