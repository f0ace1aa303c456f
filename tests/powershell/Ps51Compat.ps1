# What Windows PowerShell 5.1 lacks, found with the PowerShell parser's AST. Dot-source it; then
# Get-Ps51Problem -Text <script> [-Name <label>] returns one line per problem (none: compatible).
# Works on 5.1 itself too: there a 7-only operator is a parse error, which is reported as well.
# Windows PowerShell 5.1 syntax only, ASCII only.

# Commands 5.1 does not have, and parameters it does not have on commands it has (named in full or by a prefix).
# An exact parameter name binds before a prefix (PowerShell's resolution, CommandInfo.ResolveParameter on Microsoft
# Learn): Select-Object -Skip is Skip, which 5.1 has, not SkipIndex; Ps51ExactNames knows the names.
$Ps51MissingCommands = @('Join-String', 'Get-Error', 'Test-Json', 'ConvertFrom-Markdown', 'Get-Uptime', 'Remove-Alias', 'Remove-Service')
$Ps51MissingParameters = @{
    'ForEach-Object' = @('Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob')
    'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
    'ConvertTo-Json' = @('EscapeHandling', 'AsArray', 'EnumsAsStrings')
    'Get-Content' = @('AsByteStream')
    'Set-Content' = @('AsByteStream')
    'Select-Object' = @('SkipIndex')
    'Start-Sleep' = @('Duration')
}
$Ps51CommandAliases = @{ '%' = 'ForEach-Object'; 'foreach' = 'ForEach-Object' }
$Ps51Variables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR')

# The parameter names and aliases of a command that both this shell and 5.1 have (the commands of
# Ps51MissingParameters are all in 5.1), minus the ones 5.1 lacks.
function Get-Ps51ExactName {
    param([string]$Command)
    $names = @()
    $info = Get-Command -Name $Command -ErrorAction SilentlyContinue
    if ($info) {
        foreach ($parameter in $info.Parameters.Values) { $names += $parameter.Name; $names += @($parameter.Aliases) }
    }
    @($names | Where-Object { $Ps51MissingParameters[$Command] -notcontains $_ })
}

function Get-Ps51Problem {
    param([string]$Text, [string]$Name = 'script')
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors)
    $problems = New-Object System.Collections.Generic.List[string]
    foreach ($e in @($errors)) {
        if ($null -ne $e) { $problems.Add(('{0}:{1}: parse error: {2}' -f $Name, $e.Extent.StartLineNumber, $e.Message)) }
    }
    $lines = $Text -split "`n"
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -match '[^\x00-\x7F]') { $problems.Add(('{0}:{1}: non-ASCII character (5.1 reads a BOM-less file as ANSI)' -f $Name, ($i + 1))) }
    }
    $nodes = $ast.FindAll({ $true }, $true)
    foreach ($node in $nodes) {
        $kind = $node.GetType().Name
        $line = $node.Extent.StartLineNumber
        $what = $null
        switch ($kind) {
            'TernaryExpressionAst' { $what = 'ternary operator a ? b : c' }
            'PipelineChainAst' { $what = 'pipeline chain && / ||' }
            'BinaryExpressionAst' { if ([string]$node.Operator -eq 'QuestionQuestion') { $what = 'null-coalescing operator ??' } }
            'AssignmentStatementAst' { if ([string]$node.Operator -eq 'QuestionQuestionEquals') { $what = 'null-coalescing assignment ??=' } }
            'NamedBlockAst' { if ([string]$node.BlockKind -eq 'Clean') { $what = 'clean block' } }
            'VariableExpressionAst' {
                # ($PSStyle is 7-only too, but fine behind a test of itself: "if ($PSStyle) { ... }".)
                if ($Ps51Variables -contains $node.VariablePath.UserPath) { $what = ('automatic variable ${0} (PowerShell 6+)' -f $node.VariablePath.UserPath) }
            }
            'CommandAst' {
                $command = $node.GetCommandName()
                if ($command) {
                    if ($Ps51CommandAliases.ContainsKey($command)) { $command = $Ps51CommandAliases[$command] }
                    if ($Ps51MissingCommands -contains $command) { $what = ('command {0} (PowerShell 6+)' -f $command) }
                    foreach ($key in $Ps51MissingParameters.Keys) {
                        if ($key -ne $command) { continue }
                        $exact = Get-Ps51ExactName -Command $command
                        foreach ($element in $node.CommandElements) {
                            if ($element.GetType().Name -ne 'CommandParameterAst') { continue }
                            # A name 5.1 has, in full: that parameter, whatever longer ones it begins.
                            if ($exact -contains $element.ParameterName) { continue }
                            foreach ($missing in $Ps51MissingParameters[$key]) {
                                if ($element.ParameterName.Length -ge 2 -and $missing.StartsWith($element.ParameterName, [StringComparison]::OrdinalIgnoreCase)) {
                                    $what = ('{0} -{1} (PowerShell 6+)' -f $command, $missing)
                                }
                            }
                        }
                    }
                }
            }
        }
        if (-not $what -and $null -ne $node.PSObject.Properties['NullConditional'] -and $node.NullConditional) { $what = 'null-conditional member access ?. / ?[]' }
        if ($what) { $problems.Add(('{0}:{1}: {2}' -f $Name, $line, $what)) }
    }
    @($problems | Select-Object -Unique)
}
