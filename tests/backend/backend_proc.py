"""Drive a real ``python -m backend serve`` process from tests."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class BackendProcess:
    """A real backend process with a reader thread collecting parsed lines."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.started = time.monotonic()
        full_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve", *args], cwd=ROOT, env=full_env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.raw: list[bytes] = []
        self.stderr: list[bytes] = []
        self._next_id = 0
        self.backlog: list[dict[str, Any]] = []  # received but not yet matched
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.raw.append(raw)
            self.lines.put({**json.loads(raw), "_t": time.monotonic()})

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr.append(raw)

    def send_raw(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def send(self, cmd: str, **args: Any) -> str:
        self._next_id += 1
        rid = str(self._next_id)
        self.send_raw(json.dumps({"id": rid, "cmd": cmd, "args": args}) + "\n")
        return rid

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        return self.lines.get(timeout=timeout)

    def wait_for(self, pred: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Return the first line matching ``pred``; skipped lines stay in the backlog."""
        for i, line in enumerate(self.backlog):
            if pred(line):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching line from the backend")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(f"no matching line; unmatched: {self.backlog[-5:]}") from None
            if pred(line):
                return line
            self.backlog.append(line)

    def reply(self, rid: str, timeout: float = 30.0) -> dict[str, Any]:
        return self.wait_for(lambda m: m.get("id") == rid and m["type"] in ("result", "error"),
                             timeout)

    def event(self, name: str, timeout: float = 30.0, **match: Any) -> dict[str, Any]:
        return self.wait_for(
            lambda m: m["type"] == "event" and m["event"] == name
            and all(m["data"].get(k) == v for k, v in match.items()), timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("shutdown")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
