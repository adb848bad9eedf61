"""Qt-free pieces of the backend client: line splitting, restart policy, status text,
the last error the backend logged (for the crash banner)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from backend.protocol import Hello

STARTING = "starting"
READY = "ready"
CRASHED = "crashed"
STOPPED = "stopped"
RESTARTING = "restarting"


class LineSplitter:
    """Collects bytes and hands back complete lines (without b"\\n", decoded UTF-8).

    A line is decoded only once complete, so a multi-byte character split
    across two reads survives. A line longer than ``max_line`` bytes is cut.
    """

    def __init__(self, max_line: int = 16 * 1024 * 1024) -> None:
        self._buf = bytearray()
        self._max = max_line

    def feed(self, data: bytes) -> list[str]:
        self._buf.extend(data)
        lines: list[str] = []
        while True:
            idx = self._buf.find(b"\n")
            if idx < 0:
                break
            raw = bytes(self._buf[:idx])
            del self._buf[: idx + 1]
            lines.append(raw.rstrip(b"\r").decode("utf-8", errors="replace"))
        if len(self._buf) > self._max:
            lines.append(bytes(self._buf).decode("utf-8", errors="replace"))
            self._buf.clear()
        return lines

    def flush(self) -> list[str]:
        """The unterminated rest (at process exit)."""
        if not self._buf:
            return []
        rest = bytes(self._buf).decode("utf-8", errors="replace")
        self._buf.clear()
        return [rest]


class RestartPolicy:
    """At most ``max_restarts`` automatic restarts within ``window_s`` seconds."""

    def __init__(self, max_restarts: int = 3, window_s: float = 60.0,
                 backoff_s: Sequence[float] = (0.5, 1.5, 3.0)) -> None:
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.backoff_s = tuple(backoff_s) or (0.5,)
        self._crashes: list[float] = []

    def on_crash(self, now: float | None = None) -> float | None:
        """Record a crash; the delay before restarting, or None to stay crashed."""
        now = time.monotonic() if now is None else now
        self._crashes = [t for t in self._crashes if now - t < self.window_s]
        if len(self._crashes) >= self.max_restarts:
            return None
        self._crashes.append(now)
        return self.backoff_s[min(len(self._crashes) - 1, len(self.backoff_s) - 1)]

    def reset(self) -> None:
        self._crashes.clear()


# "2025-01-31 10:22:05,123 ERROR backend.jobs.extract: message" (backend/server.py's format)
_LOG_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)$")
_TRACEBACK = "Traceback (most recent call last):"


class LastError:
    """The last error the backend logged: an ERROR or CRITICAL log line on stderr, a
    ``log`` event at level error, or the last line of a traceback (``KeyError: 'x'``).
    Info and warning lines, and a traceback's frames, are not errors."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.last = ""
        self._in_traceback = False

    def feed(self, line: str) -> None:
        """One stderr line."""
        text = line.rstrip()
        if not text:
            return
        if text.startswith(_TRACEBACK):
            self._in_traceback = True
            return
        if self._in_traceback:
            if text[0].isspace() or text.startswith(("During handling", "The above exception")):
                return
            self._in_traceback = False
            self.last = text  # the exception: "RuntimeError: CUDA error: out of memory"
            return
        match = _LOG_LINE.match(text)
        if match and match["level"] in ("ERROR", "CRITICAL"):
            self.last = match["message"]

    def note(self, level: str, message: str) -> None:
        """A ``log`` event."""
        if level in ("error", "critical") and message.strip():
            self.last = message.strip()


def _gb(value: Any) -> str:
    if not isinstance(value, (int, float)) or value <= 0:
        return "?"
    gb = value / 1024**3
    return f"{gb:.1f}" if gb < 10 else f"{gb:.0f}"


def device_text(hello: Hello | None) -> str:
    """"GPU: <name> (<mem> GB)" for the first CUDA device, else "CPU: <name>"."""
    devices = hello.devices if hello is not None else []
    for dev in devices:
        if dev.get("kind") == "cuda":
            return f"GPU: {dev.get('name', 'CUDA')} ({_gb(dev.get('memory_bytes'))} GB)"
    for dev in devices:
        if dev.get("kind") == "cpu":
            return f"CPU: {dev.get('name', 'CPU')}"
    return "CPU"


def status_text(state: str, hello: Hello | None) -> str:
    if state == READY:
        return f"Ready — {device_text(hello)}"
    return {
        STARTING: "Backend starting…",
        RESTARTING: "Backend crashed — restarting",
        CRASHED: "Backend crashed — use Backend ▸ Restart",
        STOPPED: "Backend stopped",
    }.get(state, state)


def exit_description(exit_code: int, crashed_by_signal: bool) -> str:
    if crashed_by_signal:
        return "the backend process was killed or crashed (no exit code)"
    return f"the backend process exited unexpectedly with code {exit_code}"


def protocol_problem(backend_protocol: int, expected: int) -> str:
    """What to tell the user when the backend speaks another protocol version ("" if none)."""
    if backend_protocol == expected:
        return ""
    return (f"The backend speaks protocol version {backend_protocol}, but this app expects "
            f"version {expected}: jobs may not be followed correctly. Install the app and the "
            "backend from the same release.")
