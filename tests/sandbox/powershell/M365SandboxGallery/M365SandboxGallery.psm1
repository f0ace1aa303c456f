# Install-Module as the runner calls it (-Name -MinimumVersion -Scope -Force -AllowClobber). The sandbox
# writes the module where the chosen scope would put it on the emulated host and counts the install.
function Install-Module {
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory, Position = 0)][string[]]$Name,
        [string]$MinimumVersion,
        [string]$RequiredVersion,
        [ValidateSet('CurrentUser', 'AllUsers')][string]$Scope = 'CurrentUser',
        [string]$Repository,
        [switch]$Force,
        [switch]$AllowClobber,
        [switch]$SkipPublisherCheck
    )
    foreach ($module in $Name) {
        if ($module -ne 'ExchangeOnlineManagement') {
            throw ("No match was found for the specified search criteria and module name '{0}'. Try Get-PSRepository to see all available registered module repositories." -f $module)
        }
        if (-not $PSCmdlet.ShouldProcess($module, 'Install-Module')) { continue }
        $body = ConvertTo-Json -Compress -InputObject @{ name = $module; minimum_version = $MinimumVersion; required_version = $RequiredVersion; scope = $Scope }
        $uri = '{0}/_sandbox/exchange/host/install_module' -f $env:M365_SANDBOX_EXCHANGE_URL.TrimEnd('/')
        $null = Invoke-RestMethod -Method Post -Uri $uri -Body $body -ContentType 'application/json' -ErrorAction Stop
    }
}
