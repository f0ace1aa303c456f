# The emulated Windows host's PowerShell Gallery: Install-Module for ExchangeOnlineManagement only.
# It sits in the host's CurrentUser module folder, which comes before PowerShellGet's on PSModulePath,
# so the runner's Install-Module call lands here (see tests/sandbox/README.md).
@{
    RootModule = 'M365SandboxGallery.psm1'
    ModuleVersion = '1.0.0'
    GUID = '0c6f9d0e-5b8e-4a57-9d8b-3f1d2f6a7c11'
    Author = 'm365.mail_oauth sandbox'
    Description = 'Test fake of Install-Module: asks the m365 sandbox to install the fake ExchangeOnlineManagement.'
    PowerShellVersion = '7.0'
    FunctionsToExport = @('Install-Module')
    CmdletsToExport = @()
    AliasesToExport = @()
    VariablesToExport = @()
}
