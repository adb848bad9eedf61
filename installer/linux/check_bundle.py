"""Checks after a PyInstaller build that the bundle holds THIS checkout's app code.

``python installer/linux/check_bundle.py WORKDIR ROOT``: WORKDIR is PyInstaller's work
folder of the spec (``build/pyinstaller/timbre_studio``), ROOT the checkout. Its
``PYZ-00.toc`` lists every pure module bundled with the file it came from. Every
``backend``/``desktop`` module must come from ROOT (an editable install of another
checkout in the same venv would otherwise slip in), and every module of ROOT's
``backend``/``desktop`` packages must be there (the job and command modules are imported
by name, so only the spec's hidden imports bring them). Exit status 1 with the modules
named when not.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

APP_PACKAGES = ("backend", "desktop")


def bundled_modules(workdir: Path) -> dict[str, str]:
    """Module name -> source path of every pure module in the PYZ table of contents."""
    toc = ast.literal_eval((workdir / "PYZ-00.toc").read_text(encoding="utf-8"))
    found: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, tuple) and len(node) == 3 and node[2] == "PYMODULE":
            found[str(node[0])] = str(node[1])
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)

    walk(toc)
    return found


def source_modules(root: Path) -> set[str]:
    names = set()
    for package in APP_PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def problems(workdir: Path, root: Path) -> list[str]:
    modules = bundled_modules(workdir)
    app = {n: p for n, p in modules.items() if n.split(".")[0] in APP_PACKAGES}
    root = root.resolve()
    out = [f"{name} comes from {path}, not from {root}" for name, path in sorted(app.items())
           if not Path(path).resolve().is_relative_to(root)]
    out += [f"{name} is not in the bundle" for name in sorted(source_modules(root) - set(app))]
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: check_bundle.py WORKDIR ROOT", file=sys.stderr)
        return 2
    found = problems(Path(argv[0]), Path(argv[1]))
    for line in found:
        print(f"check_bundle: {line}", file=sys.stderr)
    if not found:
        print(f"check_bundle: every backend/desktop module is bundled from {argv[1]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
