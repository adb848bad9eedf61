"""The job kernel: the contract every job follows, its error types and its context.

The lowest layer of the backend beside ``fsutil`` and ``protocol``: the server, the CLI,
the job modules and the libraries under them (assets, dataset, features) all import it.

A job module (``backend/jobs/<kind>.py``) provides:

- ``prepare(args: dict) -> Params``: pure validation, no side effects. Raises
  ``BadArgs`` with a message that names the argument or file at fault.
- ``run(params, ctx: JobContext) -> dict``: does the work, reports through
  ``ctx`` and returns a JSON-serialisable summary. Calls ``ctx.check()``
  often (at least every ~0.5 s) so cancel takes effect within a second.
- ``add_cli_arguments(parser)`` and ``args_from_cli(ns) -> dict`` for its CLI verb.
- ``project_folder(params) -> Path | None`` for a job that writes a project: the server
  and the CLI hold that project's lock around ``run`` (``backend/jobs/locking.py``), so a
  second job on it, in any process, gets ``busy``.
- ``exclusive_key(params) -> str | None`` (optional): jobs of this server with the same
  key do not run at once (assets: one job per asset).

A running job that takes live controls (``live``: key, gate, block size...) registers a
handler with ``ctx.on_control(fn)``; the built-in ``job.control`` calls it with the values
sent and replies with what it returns (``{applied, restart_needed}``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from backend.protocol import E_BAD_ARGS, E_CANCELLED, E_INTERNAL


class JobError(Exception):
    """A job failure with a protocol error code and a human message."""

    code = E_INTERNAL

    def __init__(self, message: str, *, code: str | None = None,
                 details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class BadArgs(JobError):
    code = E_BAD_ARGS


class JobCancelled(JobError):
    code = E_CANCELLED

    def __init__(self, message: str = "cancelled by the user"):
        super().__init__(message)


Emit = Callable[[str, dict[str, Any]], None]
ControlHandler = Callable[[dict[str, Any]], dict[str, Any]]


class JobContext:
    """What a running job sees: progress, logs, metrics and cancellation."""

    def __init__(self, job_id: str, kind: str, emit: Emit, *, min_interval: float = 0.1):
        self.job_id = job_id
        self.kind = kind
        self._emit = emit
        self._cancel = threading.Event()
        self._pause = threading.Event()
        self._min_interval = min_interval
        self._last_progress = 0.0
        self._stage_started: dict[str, float] = {}
        self._control: ControlHandler | None = None

    # live controls ------------------------------------------------------
    def on_control(self, handler: ControlHandler | None) -> None:
        """Accept ``job.control`` values while running (``None``: stop accepting)."""
        self._control = handler

    def control(self, values: dict[str, Any]) -> dict[str, Any]:
        """Hand ``values`` to the job's handler; ``BadArgs`` when it takes none."""
        handler = self._control
        if handler is None:
            raise BadArgs(f"a {self.kind} job takes no controls while it runs")
        return handler(values)

    # cancellation -------------------------------------------------------
    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise ``JobCancelled`` if the user asked to cancel."""
        if self._cancel.is_set():
            raise JobCancelled()

    # pause (jobs that support it call ``wait_if_paused`` between steps) ---
    def pause(self) -> None:
        self._pause.set()
        self._emit("job.paused", {"job_id": self.job_id, "paused": True})

    def resume(self) -> None:
        self._pause.clear()
        self._emit("job.paused", {"job_id": self.job_id, "paused": False})

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def wait_if_paused(self) -> None:
        """Block while paused; return at once when cancelled."""
        while self._pause.is_set() and not self._cancel.is_set():
            self._cancel.wait(0.1)

    # reporting ----------------------------------------------------------
    def progress(self, stage: str, done: float, total: float, *, force: bool = False,
                 **extra: Any) -> None:
        now = time.monotonic()
        started = self._stage_started.setdefault(stage, now)
        final = total > 0 and done >= total
        if not (force or final) and now - self._last_progress < self._min_interval:
            return
        self._last_progress = now
        eta = None
        if total > 0 and 0 < done < total:
            eta = round((now - started) * (total - done) / done, 1)
        data = {"job_id": self.job_id, "stage": stage, "done": done, "total": total,
                "eta": eta, **extra}
        self._emit("job.progress", data)

    def log(self, message: str, level: str = "info", **extra: Any) -> None:
        self._emit("log", {"job_id": self.job_id, "level": level, "message": message, **extra})

    def metrics(self, values: dict[str, Any]) -> None:
        self._emit("job.metrics", {"job_id": self.job_id, **values})

    def event(self, name: str, data: dict[str, Any]) -> None:
        self._emit(name, {"job_id": self.job_id, **data})
