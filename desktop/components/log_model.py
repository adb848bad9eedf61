"""A bounded log buffer for the log panel (Qt-free)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

LEVELS = ("debug", "info", "warning", "error", "critical")


@dataclass(frozen=True)
class LogEntry:
    time: float
    level: str
    source: str
    message: str

    def format(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.time))
        return f"{stamp} {self.level.upper():<7} [{self.source}] {self.message}"


def normalise_level(level: str) -> str:
    level = (level or "info").lower()
    if level == "warn":
        return "warning"
    return level if level in LEVELS else "info"


class LogModel:
    """Keeps the newest ``capacity`` entries; listeners get each new entry."""

    def __init__(self, capacity: int = 2000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._listeners: list[Callable[[LogEntry], None]] = []
        self.dropped = 0

    @property
    def capacity(self) -> int:
        return self._entries.maxlen or 0

    def subscribe(self, listener: Callable[[LogEntry], None]) -> None:
        self._listeners.append(listener)

    def add(self, level: str, message: str, source: str = "desktop",
            when: float | None = None) -> LogEntry:
        if len(self._entries) == self.capacity:
            self.dropped += 1
        entry = LogEntry(time.time() if when is None else when, normalise_level(level),
                         source, message.rstrip("\n"))
        self._entries.append(entry)
        for listener in list(self._listeners):
            listener(entry)
        return entry

    def entries(self, min_level: str = "debug") -> list[LogEntry]:
        floor = LEVELS.index(normalise_level(min_level))
        return [e for e in self._entries if LEVELS.index(e.level) >= floor]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(list(self._entries))

    def clear(self) -> None:
        self._entries.clear()
