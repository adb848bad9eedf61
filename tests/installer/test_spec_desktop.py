"""The Linux desktop entry (installer/linux/timbre-studio.desktop) and the script that
installs it with the unpacked folder's real path (install-desktop-entry.sh), and
build.sh's refusal of the `typing` backport. Fast: no bundle is built."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "installer" / "linux"
TEMPLATE = LINUX / "timbre-studio.desktop"
INSTALLER = LINUX / "install-desktop-entry.sh"
NASTY = 'Tïmbre 声 $HOME "q" back\\slash `tick` (1)'

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux files")


def entry_keys(path: Path) -> dict[str, str]:
    """The [Desktop Entry] group's keys (raw values), refusing anything malformed."""
    keys: dict[str, str] = {}
    group = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            group = line
            continue
        assert group == "[Desktop Entry]", f"{line!r} outside the Desktop Entry group"
        key, sep, value = line.partition("=")
        assert sep and key and key not in keys, line
        keys[key] = value
    return keys


def string_value(raw: str) -> str:
    r"""A string value per the spec: \s \n \t \r \\ escapes."""
    out, chars = [], iter(raw)
    for c in chars:
        if c == "\\":
            c = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[next(chars)]
        out.append(c)
    return "".join(out)


def exec_argv(raw: str) -> list[str]:
    """The Exec key's arguments per the spec: the string value, then double-quoted
    arguments whose \\ " ` $ are backslash-escaped; field codes refused."""
    value, argv, i = string_value(raw), [], 0
    while i < len(value):
        if value[i] == " ":
            i += 1
            continue
        if value[i] == '"':
            arg, i = [], i + 1
            while value[i] != '"':
                if value[i] == "\\":
                    assert value[i + 1] in '"`$\\', f"bad escape in {value!r}"
                    i += 1
                arg.append(value[i])
                i += 1
            argv.append("".join(arg))
            i += 1
        else:
            end = value.find(" ", i)
            end = len(value) if end < 0 else end
            word = value[i:end]
            assert not set(word) & set(' \t\n"\'\\><~|&;$*?#()`%'), f"unquoted {word!r}"
            argv.append(word)
            i = end
    return argv


def validate(path: Path) -> None:
    exe = shutil.which("desktop-file-validate")
    if exe:
        proc = subprocess.run([exe, str(path)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_template_is_a_valid_desktop_entry() -> None:
    validate(TEMPLATE)
    keys = entry_keys(TEMPLATE)
    assert keys["Type"] == "Application" and keys["Name"] == "Timbre Studio"
    assert exec_argv(keys["Exec"]) == ["TimbreStudio"]
    assert keys["Icon"] == "timbre-studio" and keys["Terminal"] == "false"


def unpacked(tmp_path: Path, folder: str) -> Path:
    """An unpacked bundle folder: a fake TimbreStudio that records how it was started."""
    bundle = tmp_path / folder / "TimbreStudio"
    icon = bundle / "_internal" / "resources" / "icons" / "timbre-studio.png"
    icon.parent.mkdir(parents=True)
    icon.write_bytes(b"png")
    for f in (TEMPLATE, INSTALLER):
        shutil.copy2(f, bundle / f.name)
    exe = bundle / "TimbreStudio"
    exe.write_text('#!/bin/sh\nprintf "%s\\n" "$0" "$#" > "$RAN_FILE"\n', encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return bundle


def install(bundle: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    return subprocess.run(["sh", str(bundle / INSTALLER.name), *args], capture_output=True,
                          text=True, env={**env, "HOME": str(home)}, timeout=30)


def test_entry_names_the_real_folder_with_spaces_quotes_and_non_ascii(tmp_path: Path) -> None:
    bundle = unpacked(tmp_path, NASTY)
    home = tmp_path / "home ü"
    proc = install(bundle, home)
    assert proc.returncode == 0, proc.stderr
    entry = home / ".local" / "share" / "applications" / "timbre-studio.desktop"
    validate(entry)
    keys = entry_keys(entry)
    exe = str(bundle.resolve() / "TimbreStudio")
    assert exec_argv(keys["Exec"]) == [exe]
    assert string_value(keys["TryExec"]) == exe
    assert string_value(keys["Icon"]) == str(bundle.resolve() / "_internal" / "resources" /
                                             "icons" / "timbre-studio.png")
    assert keys["Name"] == "Timbre Studio" and "Categories" in keys
    if shutil.which("gio"):  # GLib's own parser starts it from the menu entry
        ran = tmp_path / "ran.txt"
        subprocess.run(["gio", "launch", str(entry)], check=True, timeout=30,
                       env={**os.environ, "HOME": str(home), "RAN_FILE": str(ran)})
        deadline = time.monotonic() + 10
        while not ran.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ran.read_text(encoding="utf-8").splitlines() == [exe, "0"]
    assert install(bundle, home, "--remove").returncode == 0
    assert not entry.exists()


def test_entry_refuses_a_folder_glib_cannot_start(tmp_path: Path) -> None:
    bundle = unpacked(tmp_path, "100% voice")
    proc = install(bundle, tmp_path / "home")
    assert proc.returncode == 1
    assert "contains '%'" in proc.stderr and "Move or rename the folder" in proc.stderr
    assert not (tmp_path / "home" / ".local").exists()


def test_entry_needs_the_executable_beside_it(tmp_path: Path) -> None:
    bundle = unpacked(tmp_path, "moved")
    (bundle / "TimbreStudio").unlink()
    proc = install(bundle, tmp_path / "home")
    assert proc.returncode == 1 and "No TimbreStudio executable next to this script" in proc.stderr


def test_build_refuses_the_typing_backport(tmp_path: Path) -> None:
    """resemblyzer's `typing` backport breaks PyInstaller: build.sh stops before building."""
    site = tmp_path / "site"
    dist = site / "typing-3.7.4.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: typing\nVersion: 3.7.4.3\n",
                                   encoding="utf-8")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    for name, body in (("python", f'PYTHONPATH="{site}" exec "{sys.executable}" "$@"'),
                       ("pyinstaller", 'echo "pyinstaller ran" >&2; exit 3')):
        (venv_bin / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (venv_bin / name).chmod(0o755)
    proc = subprocess.run(["bash", str(LINUX / "build.sh")], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "VENV": str(tmp_path / "venv"),
                                            "PIP_NO_INDEX": "1"})
    assert proc.returncode == 1
    assert "the obsolete 'typing' backport is installed" in proc.stderr
    assert "pip uninstall -y typing" in proc.stderr and "pyinstaller ran" not in proc.stderr
