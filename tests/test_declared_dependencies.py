"""Every third-party module that the app, the tests or the bench scripts import comes with the
install the README names (`pip install -e .[test]`), so a fresh CI machine has it. A package
that is only on the developer's machine (PyInstaller once was) fails here, not in CI."""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import sys
from collections.abc import Mapping
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages, and installer/linux/check_bundle.py, which a test imports by name
LOCAL = {"backend", "desktop", "tests", "bench", "installer", "check_bundle"}
SCANNED = ("backend", "desktop", "tests", "bench", "installer/linux", "installer/hooks")


def _guarded_lines(tree: ast.AST) -> set[int]:
    """Lines inside `try: ... except ImportError` (an optional import with a fallback)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in {"ImportError",
                                                              "ModuleNotFoundError"}
                for h in node.handlers):
            for stmt in node.body:
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _third_party_imports() -> dict[str, str]:
    """Top-level module -> the first file:line that imports it unguarded."""
    found: dict[str, str] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            guarded = _guarded_lines(tree)
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.module
                         and node.level == 0 else [])
                for name in names:
                    top = name.split(".")[0]
                    if (top in sys.stdlib_module_names or top in LOCAL or top == "__future__"
                            or node.lineno in guarded):
                        continue
                    found.setdefault(top, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _key(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _installed_closure(dist: str, extras: tuple[str, ...]) -> set[str]:
    """The distributions that installing `dist[extras]` brings, by their metadata."""
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(dist, extras)]
    env = default_environment()
    while todo:
        name, wanted = todo.pop()
        seen.add(_key(name))
        for text in md.requires(name) or []:
            req = Requirement(text)
            ok = req.marker is None or any(
                req.marker.evaluate({**env, "extra": e}) for e in (wanted or ("",)))
            if ok and _key(req.name) not in seen:
                todo.append((req.name, tuple(req.extras)))
    return seen


@functools.cache
def _by_top_level() -> Mapping[str, list[str]]:
    return md.packages_distributions()


def _providers(module: str) -> set[str]:
    """The distributions that hold a top-level module: by their top-level names, else by
    their file lists (a lone compiled module, such as parselmouth's `.so`, is only there)."""
    named = _by_top_level().get(module)
    if named:
        return {_key(d) for d in named}
    return {_key(dist.metadata["Name"]) for dist in md.distributions()
            if any(line.startswith((f"{module}.", f"{module}/"))
                   for line in (dist.read_text("RECORD") or "").splitlines())}


def test_every_imported_package_is_declared() -> None:
    closure = _installed_closure("timbre-studio", ("test",))
    missing = []
    for module, where in sorted(_third_party_imports().items()):
        dists = _providers(module)
        if not dists & closure:
            missing.append(f"{module} (imported at {where}; installed from "
                           f"{sorted(dists) or 'nowhere'})")
    assert missing == [], ("add these to pyproject.toml's dependencies or its test extra, or "
                           "guard the import: " + "; ".join(missing))


def test_the_closure_follows_extras() -> None:
    """The walk above is what makes the check mean anything: the test extra's own packages
    and their requirements are in it, a package nobody asks for is not."""
    closure = _installed_closure("timbre-studio", ("test",))
    assert {"pytest", "torch", "pyinstaller", "altgraph"} <= closure
    assert "pyinstaller" not in _installed_closure("timbre-studio", ())
