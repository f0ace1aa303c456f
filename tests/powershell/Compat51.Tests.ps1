# Windows PowerShell 5.1 runs the runner on real hosts: the runner, the bootstrap and these tests use nothing
# 5.1 lacks, and are ASCII. The checker is Get-Ps51Problem (Ps51Compat.ps1), proven able to fail below.
# Windows PowerShell 5.1 syntax only, ASCII only.

BeforeDiscovery {
    $Root = Split-Path -Parent $PSScriptRoot | Split-Path -Parent
    $OwnFiles = @(Get-ChildItem -Path $PSScriptRoot -Recurse -Include '*.ps1', '*.psm1', '*.psd1' | ForEach-Object {
            @{ Name = $_.FullName.Substring($Root.Length + 1); Path = $_.FullName }
        })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'Ps51Compat.ps1')
}

Describe 'the texts that reach a Windows host' {
    It 'the runner has nothing 5.1 lacks and is ASCII' {
        Get-Ps51Problem -Text ([IO.File]::ReadAllText($RunnerPath)) -Name 'runner.ps1' | Should -BeNullOrEmpty
    }

    It 'the bootstrap has nothing 5.1 lacks and is ASCII' {
        Get-Ps51Problem -Text $BootstrapText -Name 'BOOTSTRAP' | Should -BeNullOrEmpty
    }

    It 'the runner calls cmdlets only by splatting, never by evaluating text' {
        $text = [IO.File]::ReadAllText($RunnerPath)
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($text, [ref]$null, [ref]$null)
        $commands = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true) | ForEach-Object { $_.GetCommandName() })
        foreach ($forbidden in 'Invoke-Expression', 'iex', 'Invoke-Command', 'icm', 'Add-Type', 'New-Module') { $commands | Should -Not -Contain $forbidden }
        $text | Should -Not -Match '\[ScriptBlock\]::Create|AddScript|NewScriptBlock|InvokeScript'
        $text | Should -Match ([regex]::Escape('& $command @Params'))
    }

    It 'the runner starts with its marker and disconnects in finally' {
        $text = [IO.File]::ReadAllText($RunnerPath)
        $text | Should -Match '^#m365\.mail_oauth:runner:\d+\r?\n'
        $BootstrapText | Should -Match '^#m365\.mail_oauth:bootstrap:\d+\r?\n'
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($text, [ref]$null, [ref]$null)
        $finally = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.TryStatementAst] -and $null -ne $n.Finally }, $true))
        @($finally | Where-Object { $_.Finally.Extent.Text -match 'Disconnect-ExchangeOnline' }).Count | Should -Be 1
    }
}

# The runner's state is one run context passed as a parameter (issue 22): no function reads a variable it was not
# given (a parameter, or assigned in that function: loop variables, locals), no $global: or $script: anywhere, so that
# nothing leans on PowerShell's dynamic scope, which a worker runspace does not share.
Describe 'the runner''s functions read only what they are given' {
    BeforeAll {
        function Get-UnboundRead {
            param([string]$Text)
            # Automatic variables and preference variables set by the function itself.
            $automatic = @('_', 'PSItem', 'true', 'false', 'null', 'PSVersionTable', 'args', 'Matches')
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$null, [ref]$null)
            $functions = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true))
            foreach ($function in $functions) {
                $bound = @{}
                foreach ($parameter in @($function.FindAll({ param($n) $n -is [System.Management.Automation.Language.ParameterAst] }, $true))) {
                    $bound[$parameter.Name.VariablePath.UserPath] = $true
                }
                foreach ($assignment in @($function.FindAll({ param($n) $n -is [System.Management.Automation.Language.AssignmentStatementAst] }, $true))) {
                    $target = $assignment.Left
                    if ($target -is [System.Management.Automation.Language.ConvertExpressionAst]) { $target = $target.Child }
                    if ($target -is [System.Management.Automation.Language.VariableExpressionAst]) { $bound[$target.VariablePath.UserPath] = $true }
                }
                foreach ($loop in @($function.FindAll({ param($n) $n -is [System.Management.Automation.Language.ForEachStatementAst] }, $true))) {
                    $bound[$loop.Variable.VariablePath.UserPath] = $true
                }
                foreach ($read in @($function.FindAll({ param($n) $n -is [System.Management.Automation.Language.VariableExpressionAst] }, $true))) {
                    $name = $read.VariablePath.UserPath
                    if ($read.VariablePath.IsGlobal -or $read.VariablePath.IsScript -or -not ($bound.ContainsKey($name) -or $automatic -contains $name)) {
                        '{0}: ${1} (line {2})' -f $function.Name, $read.VariablePath.ToString(), $read.Extent.StartLineNumber
                    }
                }
            }
        }
    }

    It 'no function of the runner reads a variable it was not given' {
        @(Get-UnboundRead -Text ([IO.File]::ReadAllText($RunnerPath))) | Should -Be @()
    }

    It 'the check finds a read of the caller''s variable, $global: and $script:' {
        @(Get-UnboundRead -Text 'function f { param($a) $a + $result.x }') | Should -Be @('f: $result (line 1)')
        @(Get-UnboundRead -Text 'function f { $global:result = 1 }') | Should -Be @('f: $global:result (line 1)')
        @(Get-UnboundRead -Text 'function f { $x = 1; $script:x }') | Should -Be @('f: $script:x (line 1)')
        @(Get-UnboundRead -Text 'function f { param($a) foreach ($i in $a) { $i }; $b = 2; $b; $_ }') | Should -Be @()
    }
}

Describe 'these tests themselves' {
    It '<Name> has nothing 5.1 lacks and is ASCII' -TestCases $OwnFiles {
        param($Name, $Path)
        Get-Ps51Problem -Text ([IO.File]::ReadAllText($Path)) -Name $Name | Should -BeNullOrEmpty
    }
}

Describe 'the checker can fail' {
    It 'follows PowerShell: an exact parameter name binds before a longer one it begins (Select-Object -Skip)' {
        (Get-Command Select-Object).ResolveParameter('Skip').Name | Should -Be 'Skip'
    }

    It 'finds <Label>' -TestCases @(
        @{ Label = 'null-coalescing ??'; Snippet = '$a = $b ?? 1' }
        @{ Label = 'null-coalescing assignment ??='; Snippet = '$a ??= 1' }
        @{ Label = 'null-conditional member ?.'; Snippet = '${a}?.Length' }
        @{ Label = 'null-conditional method ?.()'; Snippet = '${a}?.ToString()' }
        @{ Label = 'null-conditional index ?[]'; Snippet = '${a}?[0]' }
        @{ Label = 'ternary'; Snippet = '$a = $b ? 1 : 2' }
        @{ Label = 'pipeline chain &&'; Snippet = 'Get-Item x && Get-Item y' }
        @{ Label = 'pipeline chain ||'; Snippet = 'Get-Item x || Get-Item y' }
        @{ Label = 'ForEach-Object -Parallel'; Snippet = '1..3 | ForEach-Object -Parallel { $_ }' }
        @{ Label = '% -Parallel'; Snippet = '1..3 | % -Parallel { $_ } -ThrottleLimit 2' }
        @{ Label = 'ConvertFrom-Json -AsHashtable'; Snippet = '$x | ConvertFrom-Json -AsHashtable' }
        @{ Label = 'ConvertFrom-Json -AsHash (a prefix)'; Snippet = 'ConvertFrom-Json -InputObject $x -AsHash' }
        @{ Label = 'ConvertFrom-Json -Depth'; Snippet = 'ConvertFrom-Json $x -Depth 5' }
        @{ Label = 'ConvertTo-Json -EscapeHandling'; Snippet = 'ConvertTo-Json $x -EscapeHandling EscapeNonAscii' }
        @{ Label = 'Join-String'; Snippet = '$a | Join-String -Separator ","' }
        @{ Label = 'Select-Object -SkipIndex'; Snippet = '$a | Select-Object -SkipIndex 1' }
        @{ Label = 'Select-Object -SkipI (a prefix of SkipIndex only)'; Snippet = '$a | Select-Object -SkipI 1' }
        @{ Label = 'ConvertFrom-Json -AsHashtable in full'; Snippet = 'ConvertFrom-Json -InputObject $x -AsHashtable' }
        @{ Label = 'Get-Error'; Snippet = 'Get-Error -Newest 1' }
        @{ Label = '$IsWindows'; Snippet = 'if ($IsWindows) { 1 }' }
        @{ Label = '$IsLinux'; Snippet = 'if ($IsLinux) { 1 }' }
        @{ Label = '$IsMacOS'; Snippet = 'if ($IsMacOS) { 1 }' }
        @{ Label = 'a clean block'; Snippet = 'function f { process { 1 } clean { 2 } }' }
        @{ Label = 'a non-ASCII character'; Snippet = '$a = ''caf' + [char]0x00E9 + '''' }
        @{ Label = 'a non-ASCII dash'; Snippet = 'Get-Item ' + [char]0x2013 + 'Path x' }
        @{ Label = 'a parse error'; Snippet = 'function f { param($a' }
    ) {
        param($Label, $Snippet)
        $problems = @(Get-Ps51Problem -Text ('# ok' + "`n" + $Snippet) -Name 'snippet')
        $problems.Count | Should -BeGreaterThan 0 -Because $Label
        $problems[0] | Should -BeLike 'snippet:2: *'
    }

    It 'accepts what 5.1 has: <Label>' -TestCases @(
        @{ Label = '::new()'; Snippet = '$l = [System.Collections.Generic.List[string]]::new()' }
        @{ Label = 'ConvertTo-Json -Depth -Compress'; Snippet = 'ConvertTo-Json -InputObject $x -Depth 12 -Compress' }
        @{ Label = 'a foreach statement'; Snippet = 'foreach ($a in $b) { $a }' }
        @{ Label = 'ForEach-Object -Process'; Snippet = '1..3 | ForEach-Object -Process { $_ }' }
        @{ Label = '-and / -or'; Snippet = 'if ($a -and $b -or $c) { 1 }' }
        @{ Label = 'a guarded $PSStyle'; Snippet = 'if ($PSStyle) { $PSStyle.OutputRendering = ''PlainText'' }' }
        @{ Label = 'the operators inside strings'; Snippet = '$s = ''a ?? b && c ?. d''' }
        @{ Label = 'a variable named like a keyword'; Snippet = '$clean = 1' }
        @{ Label = 'Select-Object -Skip (exact: Skip, not SkipIndex)'; Snippet = '$a | Select-Object -Skip 1' }
        @{ Label = 'Select-Object -skip in lower case'; Snippet = '$a | Select-Object -skip 1 -First 2' }
        @{ Label = 'Select-Object -SkipLast'; Snippet = '$a | Select-Object -SkipLast 1' }
    ) {
        param($Label, $Snippet)
        Get-Ps51Problem -Text $Snippet | Should -BeNullOrEmpty
    }
}
