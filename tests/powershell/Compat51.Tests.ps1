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

Describe 'these tests themselves' {
    It '<Name> has nothing 5.1 lacks and is ASCII' -TestCases $OwnFiles {
        param($Name, $Path)
        Get-Ps51Problem -Text ([IO.File]::ReadAllText($Path)) -Name $Name | Should -BeNullOrEmpty
    }
}

Describe 'the checker can fail' {
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
    ) {
        param($Label, $Snippet)
        Get-Ps51Problem -Text $Snippet | Should -BeNullOrEmpty
    }
}
