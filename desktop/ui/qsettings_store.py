"""``SettingsStore`` on QSettings: values are stored as JSON text, so lists stay lists."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings


class QSettingsStore:
    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.qsettings.value(f"json/{key}")
        if not isinstance(raw, str):
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default

    def set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(f"json/{key}", json.dumps(value, ensure_ascii=False))
        self.qsettings.sync()
