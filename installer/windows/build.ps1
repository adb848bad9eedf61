<#
.SYNOPSIS
  Build Timbre Studio's Windows installer: environment, PyInstaller bundle, smoke test,
  Inno Setup installer and SHA-256 files.

.DESCRIPTION
  Run from anywhere on a Windows 10/11 x64 machine with the Python 3.11 launcher (py)
  and Inno Setup 6.3 or newer:

    powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 -Flavour cpu
    powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 -Flavour cuda

  Steps: a virtual environment build\venv-<flavour> with Python 3.11; torch (the version
  pyproject.toml pins) from the PyTorch wheel index of the flavour; the project with its
  build extra (pip install .[build]); a check that the obsolete "typing" backport is
  absent; PyInstaller on installer\timbre_studio.spec with TIMBRE_FLAVOUR set; a smoke
  test of the frozen backend ("TimbreStudio.exe backend serve" must answer hello);
  optionally the app's --self-test; ISCC on installer\windows\TimbreStudio.iss; SHA-256
  files. Output: dist\installer\TimbreStudio-<version>-<flavour>-Setup.exe (the CUDA
  flavour also -Setup-1.bin, -2.bin, ...), each with a .sha256 file, and
  TimbreStudio-<version>-<flavour>-SHA256SUMS.txt. Any failure stops the script.

.PARAMETER Flavour
  cpu: the CPU build of torch (the whole app, no NVIDIA libraries).
  cuda: the CUDA 13.0 build of torch (index cu130), which covers NVIDIA cards from
  Turing (RTX 20) to Blackwell (RTX 50, sm_120). torch 2.13 publishes no cu128 wheels.

.PARAMETER Python
  A python.exe of Python 3.11 to create the environment with (default: py -3.11).

.PARAMETER TorchIndex
  Another PyTorch wheel index (for example https://download.pytorch.org/whl/cu132).

.PARAMETER Iscc
  The path of ISCC.exe, when Inno Setup 6 is not in one of its default folders.

.PARAMETER SelfTestDir
  A folder prepared for "TimbreStudio.exe --self-test DIR" (takes\, model.pth; see the
  bundle's smoke test); when given, the frozen app's self-test must pass too.

.PARAMETER SkipInstaller
  Stop after the bundle and its smoke test.
#>
[CmdletBinding()]
param(
    [ValidateSet('cpu', 'cuda')]
    [string]$Flavour = 'cpu',
    [string]$Python = '',
    [string]$TorchIndex = '',
    [string]$Iscc = '',
    [string]$SelfTestDir = '',
    [switch]$SkipInstaller
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# native commands are checked one by one (Invoke-Checked) on every PowerShell version
$PSNativeCommandUseErrorActionPreference = $false

$TorchIndexes = @{
    'cpu'  = 'https://download.pytorch.org/whl/cpu'
    'cuda' = 'https://download.pytorch.org/whl/cu130'
}
$ExeName = 'TimbreStudio.exe'
$Spec = 'installer\timbre_studio.spec'
$IssScript = 'installer\windows\TimbreStudio.iss'
$BundleDir = 'dist\TimbreStudio'
$OutputDir = 'dist\installer'
$Checks = 'installer\windows\build_checks.py'

function Invoke-Checked {
    # Run a native command; stop the build with its name when it fails.
    param([string]$What, [string]$Exe, [string[]]$ArgList = @())
    Write-Host "==> $What" -ForegroundColor Cyan
    & $Exe @ArgList
    if ($LASTEXITCODE -ne 0) {
        throw "$What failed (exit code $LASTEXITCODE): $Exe $($ArgList -join ' ')"
    }
}

function Get-Output {
    # Run a native command and return its standard output (trimmed); stop when it fails.
    param([string]$What, [string]$Exe, [string[]]$ArgList = @())
    $out = & $Exe @ArgList
    if ($LASTEXITCODE -ne 0) {
        throw "$What failed (exit code $LASTEXITCODE): $Exe $($ArgList -join ' ')"
    }
    return (($out | Out-String).Trim())
}

function Find-Python311 {
    if ($Python) {
        if (-not (Test-Path -LiteralPath $Python -PathType Leaf)) {
            throw "-Python '$Python' is not a file: give the full path of a Python 3.11 python.exe"
        }
        $exe = $Python
    } else {
        if (-not (Get-Command py -ErrorAction SilentlyContinue)) {
            throw 'The Python launcher (py) is not installed: install Python 3.11 from python.org ' +
                  '(with the launcher) or pass -Python C:\path\to\python.exe'
        }
        $exe = Get-Output 'finding Python 3.11 with py -3.11 (install it from python.org, or pass -Python)' 'py' @(
            '-3.11', '-c', 'import sys; print(sys.executable)')
    }
    # no double quotes inside arguments: Windows PowerShell 5.1 mangles them
    $version = Get-Output 'asking Python its version' $exe @('-c', 'import sys; print(*sys.version_info[:2], sep=chr(46))')
    if ($version -ne '3.11') {
        throw "$exe is Python $version; Timbre Studio is built with Python 3.11"
    }
    return $exe
}

function Find-Iscc {
    if ($Iscc) {
        if (-not (Test-Path -LiteralPath $Iscc -PathType Leaf)) { throw "-Iscc '$Iscc' is not a file" }
        return $Iscc
    }
    $candidates = @()
    foreach ($base in @(${env:ProgramFiles(x86)}, $env:ProgramFiles, (Join-Path $env:LOCALAPPDATA 'Programs'))) {
        if ($base) { $candidates += (Join-Path $base 'Inno Setup 6\ISCC.exe') }
    }
    foreach ($candidate in $candidates) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    $onPath = Get-Command ISCC.exe -ErrorAction SilentlyContinue
    if ($onPath) { return $onPath.Source }
    throw "ISCC.exe (Inno Setup 6) not found in: $($candidates -join '; '). " +
          'Install Inno Setup 6.3 or newer from https://jrsoftware.org/isdl.php or pass -Iscc PATH'
}

function Start-Bundle {
    # Start the frozen app with redirected pipes (works for a windowed exe too, where
    # PowerShell's & would not wait). Returns the process.
    param([string]$Exe, [string]$Arguments, [string]$DataDir)
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $Exe
    $psi.Arguments = $Arguments
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.EnvironmentVariables['TIMBRE_DATA_DIR'] = $DataDir
    return [System.Diagnostics.Process]::Start($psi)
}

function Test-BackendHello {
    # "TimbreStudio.exe backend serve" must print hello first (docs/protocol.md) and end
    # when its standard input closes; the torch it reports must be the flavour's.
    param([string]$Exe, [string]$Version, [string]$DataDir)
    Write-Host "==> smoke test: $Exe backend serve" -ForegroundColor Cyan
    $proc = Start-Bundle $Exe 'backend serve' $DataDir
    $stderr = $proc.StandardError.ReadToEndAsync()
    $first = $proc.StandardOutput.ReadLineAsync()
    if (-not $first.Wait(180000)) {
        $proc.Kill()
        throw "the frozen backend sent nothing within 180 s; its log:`n$($stderr.Result)"
    }
    $line = $first.Result
    $null = $proc.StandardOutput.ReadToEndAsync()  # keep the pipe drained until it ends
    try { $proc.StandardInput.Close() } catch [System.IO.IOException] { }  # already gone
    if (-not $proc.WaitForExit(60000)) {
        $proc.Kill()
        throw 'the frozen backend did not end within 60 s of its standard input closing'
    }
    if (-not $line) { throw "the frozen backend ended without a hello; its log:`n$($stderr.Result)" }
    $hello = $line | ConvertFrom-Json
    if ($hello.type -ne 'hello') { throw "the frozen backend's first line is not hello: $line" }
    if ($hello.backend -ne $Version) {
        throw "the frozen backend says version $($hello.backend), pyproject.toml says $Version"
    }
    $wanted = if ($Flavour -eq 'cuda') { '\+cu\d+$' } else { '\+cpu$' }
    if ($hello.torch -notmatch $wanted) {
        throw "the $Flavour bundle carries torch $($hello.torch) (expected a match for $wanted)"
    }
    Write-Host "    hello: backend $($hello.backend), torch $($hello.torch), protocol $($hello.protocol)"
}

function Test-SelfTest {
    param([string]$Exe, [string]$Dir, [string]$DataDir)
    Write-Host "==> self-test: $Exe --self-test $Dir" -ForegroundColor Cyan
    $report = Join-Path $Dir 'self-test.json'
    if (Test-Path -LiteralPath $report) { Remove-Item -LiteralPath $report }
    $proc = Start-Bundle $Exe ('--self-test "' + $Dir + '"') $DataDir
    try { $proc.StandardInput.Close() } catch [System.IO.IOException] { }
    $stderr = $proc.StandardError.ReadToEndAsync()
    $null = $proc.StandardOutput.ReadToEndAsync()
    if (-not $proc.WaitForExit(600000)) { $proc.Kill(); throw 'the self-test did not finish within 10 minutes' }
    if ($proc.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $report)) {
        throw "the self-test failed (exit code $($proc.ExitCode)); see $report; log:`n$($stderr.Result)"
    }
    $result = Get-Content -LiteralPath $report -Raw -Encoding UTF8 | ConvertFrom-Json
    if (-not $result.ok) { throw "the self-test reports failure: see $report" }
}

function Write-Checksums {
    # <file>.sha256 per file and one SHA256SUMS list, in sha256sum's format
    # ("<hash>  <name>"), so "sha256sum -c" checks them on Linux too.
    param([System.IO.FileInfo[]]$Files, [string]$ListPath)
    $lines = @()
    foreach ($file in $Files) {
        $hash = (Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
        $line = "$hash  $($file.Name)"
        Set-Content -LiteralPath ($file.FullName + '.sha256') -Value $line -Encoding ascii
        $lines += $line
        Write-Host "    $line"
    }
    Set-Content -LiteralPath $ListPath -Value $lines -Encoding ascii
}

$Root = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..\..')).Path
Push-Location -LiteralPath $Root
try {
    $pythonExe = Find-Python311
    $venv = Join-Path $Root "build\venv-$Flavour"
    $venvPython = Join-Path $venv 'Scripts\python.exe'
    if (-not (Test-Path -LiteralPath $venvPython -PathType Leaf)) {
        Invoke-Checked "creating the environment $venv" $pythonExe @('-m', 'venv', $venv)
    }
    Invoke-Checked 'updating pip' $venvPython @('-m', 'pip', 'install', '--upgrade', 'pip')

    $torchVersion = Get-Output 'reading the torch pin from pyproject.toml' $venvPython @($Checks, 'torch-pin')
    $index = if ($TorchIndex) { $TorchIndex } else { $TorchIndexes[$Flavour] }
    # torch first, from the flavour's index; "pip install ." then finds torch==<pin>
    # satisfied (a local label such as +cu130 matches the plain pin) and keeps it
    Invoke-Checked "installing torch $torchVersion ($Flavour) from $index" $venvPython @(
        '-m', 'pip', 'install', "torch==$torchVersion", '--index-url', $index)
    Invoke-Checked 'installing Timbre Studio with its build extra' $venvPython @(
        '-m', 'pip', 'install', '.[build]')

    $torchCuda = Get-Output 'asking torch for its CUDA version' $venvPython @($Checks, 'torch-cuda')
    if ($Flavour -eq 'cuda' -and $torchCuda -eq 'none') {
        throw "the cuda flavour got a CPU-only torch from $index; check -TorchIndex"
    }
    if ($Flavour -eq 'cpu' -and $torchCuda -ne 'none') {
        throw "the cpu flavour got a CUDA $torchCuda torch; delete $venv and build again"
    }
    # The obsolete PyPI "typing" backport shadows the standard library's typing module
    # and PyInstaller refuses to run with it (see shared notes on resemblyzer).
    $typing = Get-Output 'looking for the typing backport' $venvPython @($Checks, 'typing')
    if ($typing -ne 'absent') {
        throw "the obsolete 'typing' $typing backport is installed in $venv (PyInstaller " +
              "refuses it): remove it with `"$venvPython -m pip uninstall -y typing`" and " +
              'drop the dependency that pulled it in'
    }

    $version = Get-Output 'reading the version' $venvPython @('installer\version_info.py')
    $numeric = Get-Output 'reading the numeric version' $venvPython @('installer\version_info.py', '--numeric')
    Write-Host "Timbre Studio $version ($numeric), flavour $Flavour, torch $torchVersion (CUDA $torchCuda)"

    $env:TIMBRE_FLAVOUR = $Flavour
    Invoke-Checked "PyInstaller ($Flavour)" $venvPython @('-m', 'PyInstaller', '--noconfirm',
        '--distpath', 'dist', '--workpath', "build\pyinstaller-$Flavour", $Spec)
    $exe = Join-Path $Root (Join-Path $BundleDir $ExeName)
    if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) { throw "PyInstaller made no $exe" }

    # the data folder the frozen app gets: the caller's TIMBRE_DATA_DIR (assets for a
    # self-test), else a fresh one with a space and a non-ASCII letter, as users have
    $dataDir = $env:TIMBRE_DATA_DIR
    if (-not $dataDir) {
        $dataDir = Join-Path ([System.IO.Path]::GetTempPath()) ('Timbre smoke ' + [char]0x00E9 + " $Flavour")
    }
    New-Item -ItemType Directory -Force -Path $dataDir | Out-Null
    Test-BackendHello $exe $version $dataDir
    if ($SelfTestDir) {
        $selfTestFolder = (Resolve-Path -LiteralPath $SelfTestDir).Path
        Test-SelfTest $exe $selfTestFolder $dataDir
    }
    if ($SkipInstaller) { Write-Host "Bundle ready: $(Split-Path $exe)"; return }

    $isccExe = Find-Iscc
    $base = "TimbreStudio-$version-$Flavour-Setup"
    $outDir = Join-Path $Root $OutputDir
    New-Item -ItemType Directory -Force -Path $outDir | Out-Null
    # slices of an earlier build of this version must not be mixed into the new one
    Get-ChildItem -LiteralPath $outDir -File |
        Where-Object { $_.Name -like "$base.exe*" -or $_.Name -like "$base-*.bin*" } |
        Remove-Item
    Invoke-Checked 'Inno Setup' $isccExe @("/DAppVersion=$version", "/DAppNumericVersion=$numeric",
        "/DFlavour=$Flavour", $IssScript)

    $setup = Get-Item -LiteralPath (Join-Path $outDir "$base.exe")
    $slices = @(Get-ChildItem -LiteralPath $outDir -File -Filter "$base-*.bin" | Sort-Object Name)
    if ($Flavour -eq 'cuda' -and $slices.Count -eq 0) { throw "no $base-*.bin slices next to $($setup.Name)" }
    Write-Host '==> SHA-256' -ForegroundColor Cyan
    Write-Checksums (@($setup) + $slices) (Join-Path $outDir "TimbreStudio-$version-$Flavour-SHA256SUMS.txt")
    Write-Host "Installer ready: $($setup.FullName)" -ForegroundColor Green
    if ($slices.Count -gt 0) { Write-Host "Ship the $($slices.Count) .bin file(s) next to it, in the same folder." }
} finally {
    Pop-Location
}
