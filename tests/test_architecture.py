"""Import direction, lint and typing are part of the suite (CI runs them here)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKEND_FORBIDDEN = {"PySide6", "pyqtgraph", "desktop", "shiboken6"}
DESKTOP_FORBIDDEN = {"torch", "sounddevice", "soundfile", "librosa", "faiss", "pyworld",
                     "torchcrepe", "transformers"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


DESKTOP_MAY_IMPORT = ("backend.protocol", "backend.resources", "backend.devices", "backend.fsutil")


def _violations(package: str, forbidden_roots: set[str], allowed: set[str] = frozenset(),
                forbidden_prefixes: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in _imports(path):
            root = name.split(".")[0]
            if name in allowed:
                continue
            if root in forbidden_roots or name.startswith(forbidden_prefixes):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


def test_backend_never_imports_qt_or_desktop() -> None:
    assert _violations("backend", BACKEND_FORBIDDEN) == []


def test_desktop_never_imports_torch_audio_or_backend_internals() -> None:
    bad = _violations("desktop", DESKTOP_FORBIDDEN | {"backend"},
                      allowed={"backend", *DESKTOP_MAY_IMPORT})
    # `import backend` alone would run backend/__init__.py: allow only the Qt-free, torch-free
    # modules (the protocol, where the app's files are, device discovery, atomic writes)
    bad += [v for v in _violations("desktop", set(), forbidden_prefixes=("backend",))
            if not v.endswith(tuple(f" {m}" for m in DESKTOP_MAY_IMPORT))]
    assert sorted(set(bad)) == []


def test_desktop_at_run_time_loads_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys, pkgutil, importlib, desktop\n"
        "for m in pkgutil.walk_packages(desktop.__path__, 'desktop.'):\n"
        "    importlib.import_module(m.name)\n"
        f"forbidden = {sorted(DESKTOP_FORBIDDEN)!r}\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in forbidden)\n"
        "print(','.join(bad))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin",
                                           "HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


def test_backend_at_run_time_loads_no_qt() -> None:
    code = (
        "import sys, backend.server, backend.commands as c\n"
        "assert not c.load_all(), c.load_all()\n"
        "import backend.jobs as j\n"
        "[j.job_module(k) for k in j.JOB_MODULES]\n"
        "forbidden = " + repr(sorted(BACKEND_FORBIDDEN)) + "\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in forbidden)))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run the README's test command")
    return found


def test_ruff_is_clean() -> None:
    res = subprocess.run([_tool("ruff"), "check", "backend", "desktop", "tests", "bench"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict_on_protocol() -> None:
    res = subprocess.run([_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


def test_import_contracts() -> None:
    """The layers and forbidden imports of pyproject.toml's [tool.importlinter]."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "backend layers KEPT" in res.stdout
    assert "desktop.components is Qt-free KEPT" in res.stdout
