"""The Inno Setup script and the PowerShell build script, read as text (neither Inno Setup
nor PowerShell runs here): the facts a user depends on, and that both scripts use the
names of the issue's contract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from backend import resources

ROOT = Path(__file__).resolve().parents[2]
ISS = ROOT / "installer" / "windows" / "TimbreStudio.iss"
PS1 = ROOT / "installer" / "windows" / "build.ps1"
CHECKS = ROOT / "installer" / "windows" / "build_checks.py"
APP_ID = "{6B7E2C1A-3F5D-4E8B-9A2C-7D1E5F3B9C40}"
ENTRY = re.compile(r'\s*(\w+):\s*("(?:[^"]|"")*"|[^;]*?)\s*(?:;|$)')


def _condition(expr: str, defines: dict[str, str]) -> bool:
    """The ISPP conditions this script uses: NAME ==/!= "text", joined by && or ||."""
    python = []
    for token in re.findall(r'"[^"]*"|&&|\|\||==|!=|\w+|\S', expr):
        if token in ("&&", "||"):
            python.append("and" if token == "&&" else "or")
        elif token in ("==", "!=") or token.startswith('"'):
            python.append(token)
        elif token in defines:
            python.append(repr(defines[token]))
        else:
            raise AssertionError(f"the test cannot read this ISPP condition: {expr}")
    return bool(eval(" ".join(python), {"__builtins__": {}}))  # noqa: S307 (our own tokens)


def preprocess(text: str, **given: str) -> list[str]:
    """ISCC's preprocessor, as far as TimbreStudio.iss uses it: /D defines, #ifndef,
    #define, #if, #endif, #error and {#Name}. Anything else fails the test."""
    defines, active, lines = dict(given), [True], []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            word, _, rest = line[1:].partition(" ")
            rest = rest.strip()
            if word == "ifndef":
                active.append(active[-1] and rest not in defines)
            elif word == "if":
                active.append(active[-1] and _condition(rest, defines))
            elif word == "endif":
                active.pop()
            elif word == "define" and active[-1]:
                name, _, value = rest.partition(" ")
                defines[name] = value.strip().strip('"')
            elif word == "error" and active[-1]:
                raise ValueError(rest)
            elif word not in ("define", "error"):
                raise AssertionError(f"the test cannot read the directive {line!r}")
            continue
        if active[-1]:
            lines.append(re.sub(r"\{#(\w+)\}", lambda m: defines[m[1]], raw))
    assert active == [True], "an #if without #endif"
    return lines


def parse_iss(**defines: str) -> dict[str, object]:
    """{"setup": {lowercased key: value}, "<section>": [entries as {lowercased param: value}],
    "code": the [Code] text}."""
    sections: dict[str, object] = {"setup": {}, "code": ""}
    current = None
    for line in preprocess(ISS.read_text(encoding="utf-8"), **defines):
        stripped = line.strip()
        if current == "code":
            sections["code"] += line + "\n"
            continue
        if not stripped or stripped.startswith(";"):
            continue
        if re.fullmatch(r"\[\w+\]", stripped):
            current = stripped[1:-1].lower()
            if current not in sections:
                sections[current] = []
            continue
        if current == "setup":
            key, sep, value = stripped.partition("=")
            assert sep, f"[Setup] line without '=': {line}"
            sections["setup"][key.strip().lower()] = value.strip()
        else:
            entry = {m[1].lower(): m[2].strip('"').replace('""', '"')
                     for m in ENTRY.finditer(stripped) if m[1]}
            assert entry, f"[{current}] line the test cannot read: {line}"
            sections[current].append(entry)
    return sections


@pytest.fixture(scope="module")
def cpu() -> dict[str, object]:
    return parse_iss(AppVersion="1.2.3rc1", AppNumericVersion="1.2.3.0", Flavour="cpu")


@pytest.fixture(scope="module")
def cuda() -> dict[str, object]:
    return parse_iss(AppVersion="1.2.3rc1", AppNumericVersion="1.2.3.0", Flavour="cuda")


def test_per_user_install_without_admin(cpu) -> None:
    setup = cpu["setup"]
    assert setup["privilegesrequired"] == "lowest"
    assert "privilegesrequiredoverridesallowed" not in setup  # no way to ask for admin
    # {autopf} is {userpf} (%LOCALAPPDATA%\Programs) in the non-admin mode that lowest gives
    folder = setup["defaultdirname"]
    assert re.fullmatch(r"\{(autopf|userpf)\}\\[A-Za-z]+", folder), folder
    assert len(folder) < 25
    for entry in cpu["icons"]:
        assert re.match(r"\{(auto|user)(programs|desktop)\}\\", entry["name"]), entry
    assert "registry" not in cpu  # nothing written outside the user's own hive


def test_identity_icon_and_bundle(cpu) -> None:
    setup = cpu["setup"]
    assert setup["appid"].replace("{{", "{") == APP_ID
    assert setup["appname"] == "Timbre Studio"
    assert setup["sourcedir"] == "..\\.."  # the checkout, seen from installer\windows
    source_dir = (ISS.parent / "..\\..".replace("\\", "/")).resolve()
    assert source_dir == ROOT
    icon = setup["setupiconfile"]
    assert (source_dir / icon.replace("\\", "/")).is_file(), icon
    assert setup["uninstalldisplayicon"] == "{app}\\TimbreStudio.exe"
    (files,) = cpu["files"]
    assert files["source"] == "dist\\TimbreStudio\\*"
    assert {"recursesubdirs", "createallsubdirs", "ignoreversion"} <= set(files["flags"].split())
    assert setup["outputbasefilename"] == "TimbreStudio-1.2.3rc1-cpu-Setup"
    assert setup["outputdir"] == "dist\\installer"


def test_version_comes_from_the_build_script_with_defaults(cpu) -> None:
    assert cpu["setup"]["appversion"] == "1.2.3rc1"
    assert cpu["setup"]["versioninfoversion"] == "1.2.3.0"
    assert cpu["setup"]["versioninfoproducttextversion"] == "1.2.3rc1"
    bare = parse_iss()["setup"]
    assert re.fullmatch(r"\d+(\.\d+){3}", bare["versioninfoversion"])
    assert bare["outputbasefilename"] == f"TimbreStudio-{bare['appversion']}-cpu-Setup"


def test_shortcuts_and_run_after_install(cpu) -> None:
    targets = {e["name"]: e for e in cpu["icons"]}
    start = targets["{autoprograms}\\Timbre Studio"]
    desktop = targets["{autodesktop}\\Timbre Studio"]
    assert start["filename"] == desktop["filename"] == "{app}\\TimbreStudio.exe"
    assert "tasks" not in start and desktop["tasks"] == "desktopicon"
    assert [t["name"] for t in cpu["tasks"]] == ["desktopicon"]
    (run,) = cpu["run"]
    assert run["filename"] == "{app}\\TimbreStudio.exe"
    assert {"postinstall", "skipifsilent", "nowait"} <= set(run["flags"].split())


def test_disk_spanning_for_the_cuda_bundle_only(cpu, cuda) -> None:
    setup = cuda["setup"]
    assert setup["diskspanning"] == "yes"
    # Inno: slices from 262144 to 2,100,000,000 bytes in every 6.x release; a 5 GB bundle
    # is over the 4,200,000,000 bytes a Setup.exe may hold without spanning
    assert 262144 <= int(setup["diskslicesize"]) <= 2_100_000_000
    assert setup["slicesperdisk"] == "1"
    assert setup["outputbasefilename"] == "TimbreStudio-1.2.3rc1-cuda-Setup"
    assert "diskspanning" not in cpu["setup"]  # the CPU flavour stays one Setup.exe
    with pytest.raises(ValueError, match="cpu or cuda"):
        parse_iss(Flavour="rocm")


def test_64_bit_compression_and_running_app(cpu) -> None:
    setup = cpu["setup"]
    assert setup["architecturesallowed"] == setup["architecturesinstallin64bitmode"] == (
        "x64compatible")
    assert setup["compression"].startswith("lzma2")
    assert setup["solidcompression"] == "no"
    assert setup["closeapplications"] == "yes"


def test_uninstall_keeps_projects_data_and_settings_unless_asked(cpu, monkeypatch) -> None:
    # nothing outside {app} is deleted by a section: only the [Code] question can
    for section in ("uninstalldelete", "installdelete"):
        for entry in cpu.get(section, []):
            assert entry["name"].startswith("{app}\\"), entry
    code = cpu["code"]
    # the data folder the uninstaller offers to remove is the app's on Windows
    folder = re.search(r"ExpandConstant\('\{localappdata\}\\(\w+)'\)", code)[1]
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delenv(resources.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("LOCALAPPDATA", "C:/Users/Zoë Ann/AppData/Local")
    assert resources.data_dir() == Path("C:/Users/Zoë Ann/AppData/Local") / folder
    from desktop.components.log_file import default_log_dir

    assert default_log_dir().parent == resources.data_dir()  # logs go with the data
    # the settings key is QSettings' for the organisation the window uses
    window = (ROOT / "desktop" / "ui" / "main_window.py").read_text(encoding="utf-8")
    org = re.search(r'QSettings\("([^"]+)", "Timbre Studio"\)', window)[1]
    assert f"RegDeleteKeyIncludingSubkeys(HKCU, 'Software\\{org}')" in code
    assert code.count("RegDeleteKey") == 1
    # asked once, No by default, never in a silent uninstall; deletion only after a Yes
    ask = code.index("function AskToRemoveUserData")
    assert code.index("if UninstallSilent then", ask) < code.index("SuppressibleMsgBox", ask)
    assert "MB_YESNO or MB_DEFBUTTON2, IDNO) = IDYES" in code
    assert "never removed" in code
    assert "RemoveUserData := AskToRemoveUserData" in code
    assert re.search(r"and RemoveUserData then\s+begin\s+if DirExists\(DataDir\)", code)
    assert code.count("DelTree(") == 1 and "DelTree(DataDir," in code


# ---- build.ps1 -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ps1() -> str:
    return PS1.read_text(encoding="utf-8")


def test_build_script_flavours_and_torch_indexes(ps1: str) -> None:
    assert re.search(r"\[ValidateSet\('cpu', 'cuda'\)\]\s*\[string\]\$Flavour = 'cpu'", ps1)
    assert "'cpu'  = 'https://download.pytorch.org/whl/cpu'" in ps1
    cuda = re.search(r"'cuda' = 'https://download\.pytorch\.org/whl/cu(\d+)'", ps1)
    assert int(cuda[1]) >= 128  # CUDA 12.8 or newer: Blackwell (RTX 50, sm_120) kernels
    assert "'--index-url', $index" in ps1 and "'.[build]'" in ps1
    assert ps1.index("'--index-url', $index") < ps1.index("'.[build]'")  # torch first
    assert "$env:TIMBRE_FLAVOUR = $Flavour" in ps1


def test_build_script_stops_on_every_error(ps1: str) -> None:
    assert "$ErrorActionPreference = 'Stop'" in ps1 and "Set-StrictMode -Version Latest" in ps1
    lines = ps1.splitlines()
    calls = [n for n, line in enumerate(lines) if re.match(r"\s*(\$\w+ = )?& ", line)]
    assert len(calls) == 2  # the two helpers every native command goes through
    for n in calls:
        assert "if ($LASTEXITCODE -ne 0)" in lines[n + 1], lines[n]
    # Windows PowerShell 5.1 reads a .ps1 without BOM in the ANSI code page, and mangles
    # double quotes inside native arguments: ASCII only, none in single-quoted arguments
    assert ps1.isascii()
    for line in lines:
        if "@(" in line and ("Invoke-Checked" in line or "Get-Output" in line):
            assert not re.search(r"'[^']*\"[^']*'", line), line


def test_build_script_uses_the_contract_names(ps1: str, cuda) -> None:
    assert "$Spec = 'installer\\timbre_studio.spec'" in ps1
    assert "'-m', 'PyInstaller', '--noconfirm'" in ps1 and "'--distpath', 'dist'" in ps1
    assert "$ExeName = 'TimbreStudio.exe'" in ps1
    assert "$BundleDir = 'dist\\TimbreStudio'" in ps1
    assert f"$OutputDir = '{cuda['setup']['outputdir']}'" in ps1
    assert '$base = "TimbreStudio-$version-$Flavour-Setup"' in ps1
    # every /D the script passes is a define the .iss reads
    passed = set(re.findall(r'"/D(\w+)=', ps1))
    read = set(re.findall(r"#ifndef (\w+)", ISS.read_text(encoding="utf-8")))
    assert passed == {"AppVersion", "AppNumericVersion", "Flavour"} and passed <= read
    assert "$IssScript = 'installer\\windows\\TimbreStudio.iss'" in ps1
    assert "'backend serve'" in ps1 and "$hello.type -ne 'hello'" in ps1
    assert "Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256" in ps1
    assert "Inno Setup 6\\ISCC.exe" in ps1


def test_build_checks_answer_what_the_script_asks(tmp_path: Path) -> None:
    def ask(what: str, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "PYTHONUTF8": "1"}
        if extra_path:
            env["PYTHONPATH"] = str(extra_path)
        return subprocess.run([sys.executable, str(CHECKS), what], capture_output=True,
                              text=True, timeout=60, env=env, check=False)

    pin = re.search(r'"torch==([^"]+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert ask("torch-pin").stdout.strip() == pin
    assert ask("typing").stdout.strip() == "absent"
    fake = tmp_path / "site"
    (fake / "typing-3.7.4.3.dist-info").mkdir(parents=True)
    (fake / "typing-3.7.4.3.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: typing\nVersion: 3.7.4.3\n")
    assert ask("typing", fake).stdout.strip() == "3.7.4.3"
    assert ask("nonsense").returncode == 2


def test_install_doc_names_what_the_scripts_make(ps1: str, cuda) -> None:
    doc = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    assert "TimbreStudio-<version>-<flavour>-Setup.exe" in doc
    assert "TimbreStudio-<version>-<flavour>-SHA256SUMS.txt" in doc
    index = re.search(r"'cuda' = '(https://download\.pytorch\.org/whl/(cu\d+))'", ps1)
    assert f"`{index[2]}`" in doc and f"+{index[2]}" in doc
    assert f"{int(cuda['setup']['diskslicesize']):,} bytes" in doc
    assert "%LOCALAPPDATA%\\Programs\\TimbreStudio" in doc
    assert "HKEY_CURRENT_USER\\Software\\TimbreStudio" in doc
    assert "**No** is the default" in doc and "never removed" in doc
    for command in ("Get-FileHash", "certutil -hashfile", "sha256sum -c"):
        assert command in doc
    linux = doc[doc.index("\n## Linux\n"):]
    for made in ("linux-x86_64.tar.gz", ".sha256", "install-desktop-entry.sh", "--remove",
                 "installer/linux/build.sh"):
        assert made in linux
    for script in ("build.sh", "install-desktop-entry.sh", "smoke.sh"):
        assert (ROOT / "installer" / "linux" / script).is_file()


def _unbalanced(text: str) -> list[str]:
    """Brackets of a PowerShell script that do not pair up, outside comments and strings
    (a syntax check for a machine without PowerShell: a lost brace fails here)."""
    pairs, stack, problems = {"}": "{", ")": "(", "]": "["}, [], []
    token = re.compile(r"<#.*?#>|#[^\n]*|'(?:[^']|'')*'|\"(?:`.|[^\"`])*\"|`.|[{}()\[\]]|\n",
                       re.DOTALL)
    line = 1
    for m in token.finditer(text):
        piece = m[0]
        if piece in "{([":
            stack.append((piece, line))
        elif piece in "})]":
            if not stack or stack[-1][0] != pairs[piece]:
                problems.append(f"line {line}: unexpected {piece}")
            else:
                stack.pop()
        line += piece.count("\n")
    return problems + [f"line {n}: {c} never closed" for c, n in stack]


def test_build_script_brackets_pair_up(ps1: str) -> None:
    assert _unbalanced(ps1) == []
    assert _unbalanced("if ($a) { foo(\n") == ["line 1: { never closed", "line 1: ( never closed"]
    assert _unbalanced("# { not code\n'}' \"(\" <# ] #>") == []
