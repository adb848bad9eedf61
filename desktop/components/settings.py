"""User settings: recent projects, last-used folders and the window layout.

``AppSettings`` is Qt-free and stores plain JSON values through a small
``SettingsStore`` interface. ``JsonSettingsStore`` (a JSON file, written
atomically) lives here; ``desktop.ui.qsettings_store.QSettingsStore`` adapts
QSettings for the app.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any, Protocol

from backend.fsutil import atomic_write_json

MAX_RECENT = 10


class SettingsStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


class MemorySettingsStore:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


class JsonSettingsStore:
    """Settings in one JSON file; every ``set`` rewrites it atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._values: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._values = loaded
        except (OSError, ValueError):
            self._values = {}  # missing or unreadable: start fresh, rewrite on next set

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, self._values)


def default_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "timbre-studio"


class AppSettings:
    """Typed access to the values the desktop remembers between runs."""

    def __init__(self, store: SettingsStore) -> None:
        self.store = store

    # recent projects -----------------------------------------------------
    def recent_projects(self) -> list[str]:
        value = self.store.get("recent_projects", [])
        if not isinstance(value, list):
            return []
        return [p for p in value if isinstance(p, str) and p]

    def add_recent_project(self, path: str) -> None:
        path = os.path.normpath(path)
        items = [p for p in self.recent_projects() if os.path.normpath(p) != path]
        self.store.set("recent_projects", [path, *items][:MAX_RECENT])

    def remove_recent_project(self, path: str) -> None:
        path = os.path.normpath(path)
        items = [p for p in self.recent_projects() if os.path.normpath(p) != path]
        self.store.set("recent_projects", items)

    def last_project(self) -> str | None:
        recent = self.recent_projects()
        return recent[0] if recent else None

    # last folders (per purpose: "open_project", "new_project", "import", ...) -------
    def last_folder(self, purpose: str, default: str | None = None) -> str:
        """The folder last used for ``purpose`` while it still exists, else ``default``
        (else the home folder)."""
        folders = self.store.get("last_folders", {})
        value = folders.get(purpose) if isinstance(folders, dict) else None
        if isinstance(value, str) and value and Path(value).is_dir():
            return value
        return default or str(Path.home())

    def set_last_folder(self, purpose: str, folder: str) -> None:
        folders = self.store.get("last_folders", {})
        folders = dict(folders) if isinstance(folders, dict) else {}
        folders[purpose] = folder
        self.store.set("last_folders", folders)

    # window layout (Qt's saveGeometry/saveState/QSplitter.saveState bytes, by name) -----
    def layout_state(self, name: str) -> bytes | None:
        value = self.store.get(f"layout.{name}")
        if not isinstance(value, str):
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None

    def set_layout_state(self, name: str, data: bytes) -> None:
        self.store.set(f"layout.{name}", base64.b64encode(bytes(data)).decode("ascii"))
