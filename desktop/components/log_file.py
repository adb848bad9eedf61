"""The log folder: every entry of the Log panel also goes to a file (Qt-free).

``LogFile(folder)`` appends each ``LogEntry`` (desktop messages, the backend's log
events and its stderr lines) to ``timbre-studio.log``, with the date, so a crash can be
looked at after the app is closed; at ``max_bytes`` the file becomes
``timbre-studio.log.1`` (one old file is kept). A file that cannot be written is given
up on, once, with the reason in ``error``: logging never stops the app.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from desktop.components.log_model import LogEntry

LOG_NAME = "timbre-studio.log"
MAX_BYTES = 5_000_000


def default_log_dir() -> Path:
    """Where the app keeps its log: the platform's place for application logs."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "TimbreStudio" / "logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "Timbre Studio"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "timbre-studio" / "logs"


class LogFile:
    def __init__(self, folder: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOG_NAME
        self.max_bytes = max_bytes
        self.error = ""

    def write(self, entry: LogEntry) -> None:
        if self.error:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.time))
        line = f"{stamp} {entry.level.upper():<8} [{entry.source}] {entry.message}\n"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.path.is_file() and self.path.stat().st_size > self.max_bytes:
                os.replace(self.path, self.path.with_name(LOG_NAME + ".1"))
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError as exc:
            self.error = f"cannot write the log file {self.path}: {exc.strerror or exc}"
