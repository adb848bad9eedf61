"""BackendClient: runs ``python -m backend serve`` in a QProcess and speaks JSON Lines to it.

stdout carries protocol lines only; stderr carries the backend's logs, which
are forwarded line by line through ``sig_stderr``. Nothing here blocks the GUI
except ``stop()``, which waits up to ~3 s for a clean shutdown at exit.

The process, its exit and the restart policy live in ``BackendProcess`` (the
base class, see desktop/backend_process.py); the Qt-free bookkeeping of
pending requests and jobs in desktop/components/request_book.py. This module
sends requests, reads the protocol lines and delivers each answer and event.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from backend.protocol import Error, Event, Hello, Request, Result, Unparsed, parse_line
from desktop.backend_process import (
    E_BACKEND_CRASHED,
    E_BACKEND_STOPPED,
    STDERR_TAIL,
    BackendProcess,
    default_command,
)
from desktop.components.backend_logic import CRASHED, READY, STOPPED, RestartPolicy
from desktop.components.request_book import (
    READY_WAIT_S,
    ErrorCallback,
    JobWatch,
    PendingRequest,
    RequestBook,
    ResultCallback,
)

RETRY_MS = 300

_Pending = PendingRequest  # the old name

__all__ = [
    "E_BACKEND_CRASHED", "E_BACKEND_STOPPED", "READY_WAIT_S", "RETRY_MS", "STDERR_TAIL",
    "BackendClient", "ErrorCallback", "ResultCallback", "default_command",
]


class BackendClient(BackendProcess):
    # state_changed, sig_log, sig_stderr and sig_crashed come from BackendProcess
    sig_hello = Signal(object)        # protocol.Hello
    sig_event = Signal(object)        # protocol.Event (every event)
    sig_job_event = Signal(object)    # protocol.Event whose name starts with "job."

    def __init__(self, parent: QObject | None = None, *, command: Sequence[str] | None = None,
                 process_factory: Callable[[], QProcess] | None = None,
                 restart_policy: RestartPolicy | None = None,
                 stop_timeout_ms: int = 3000) -> None:
        super().__init__(parent, command=command, process_factory=process_factory,
                         restart_policy=restart_policy, stop_timeout_ms=stop_timeout_ms)
        self._hello: Hello | None = None
        self._book = RequestBook()
        self._jobs = JobWatch()
        self.startup_seconds: float | None = None  # start() -> hello, last launch
        self.commands: list[str] = []  # from the backend.ready event
        self.ready_info: dict[str, Any] = {}  # the backend.ready event's data

    @property
    def hello(self) -> Hello | None:
        return self._hello

    # requests ---------------------------------------------------------------
    def request(self, cmd: str, args: dict | None = None,
                on_result: ResultCallback | None = None,
                on_error: ErrorCallback | None = None) -> str:
        """Send a command; exactly one of the callbacks runs later. Returns the request id."""
        req = self._book.add(cmd, args, on_result, on_error)
        req_id = req.id
        if self._state == READY and self._proc is not None:
            self._send(req)
        elif self._state == CRASHED or (self._state == STOPPED and self._user_stopped):
            msg = ("the backend is not running (it crashed); use Restart" if
                   self._state == CRASHED else "the backend is not running")
            code = E_BACKEND_CRASHED if self._state == CRASHED else E_BACKEND_STOPPED
            QTimer.singleShot(0, lambda: self._fail(req_id, code, msg))
        else:
            self._book.queue.append(req)  # sent when hello arrives
        return req_id

    def start_job(self, kind: str, args: dict, on_started: Callable[[str], None] | None = None,
                  on_error: ErrorCallback | None = None,
                  on_finished: Callable[[dict], None] | None = None) -> str:
        """``job.start``; ``on_started(job_id)``, later ``on_finished(job.finished data)``."""

        def started(result: dict) -> None:
            job_id = str(result.get("job_id", ""))
            if on_started is not None:
                on_started(job_id)
            if on_finished is not None:
                done = self._jobs.watch(job_id, on_finished)
                if done is not None:
                    on_finished(done)

        return self.request("job.start", {"kind": kind, "args": args}, started, on_error)

    def cancel_job(self, job_id: str, on_result: ResultCallback | None = None,
                   on_error: ErrorCallback | None = None) -> str:
        return self.request("job.cancel", {"job_id": job_id}, on_result, on_error)

    def _send(self, req: Request) -> None:
        self._book.mark_sent(req.id)
        if self._proc is not None:
            self._write(self._proc, req)

    def _flush_queue(self) -> None:
        for req in self._book.take_queue():
            if self._book.is_pending(req.id):
                self._send(req)

    def _fail(self, req_id: str, code: str, message: str) -> None:
        self._complete(Error(id=req_id, code=code, message=message))

    def _fail_all(self, code: str, message: str, *, sent_only: bool = False) -> None:
        for req_id, pending in self._book.snapshot():
            if pending.sent or not sent_only:
                self._fail(req_id, code, message)
        self._book.prune_queue()

    def _retry_after_ready(self, msg: Result | Error) -> bool:
        """Command modules load after hello: an unknown command before backend.ready is
        sent again after RETRY_MS while backend.ready has not come, for up to READY_WAIT_S."""
        if not self._book.should_retry(msg):
            return False
        QTimer.singleShot(RETRY_MS, lambda rid=msg.id: self._resend_waiting(rid))
        return True

    def _resend_waiting(self, req_id: str) -> None:
        req = self._book.waiting(req_id)
        if req is not None and self._proc is not None:
            self._send(req)

    def _complete(self, msg: Result | Error, retry: bool = False) -> None:
        if retry and self._retry_after_ready(msg):
            return
        pending = self._book.pop(msg.id or "")
        if pending is None:
            if isinstance(msg, Error):
                self.sig_log.emit("error", f"backend error: {msg.message}")
            return
        callback: Any = pending.on_result if isinstance(msg, Result) else pending.on_error
        if callback is None:
            if isinstance(msg, Error):
                self.sig_log.emit("error", f"'{pending.cmd}' failed: {msg.message}")
            return
        try:
            callback(msg.result if isinstance(msg, Result) else msg)
        except Exception:
            self.sig_log.emit("error", f"a handler for '{pending.cmd}' raised:\n"
                                       f"{traceback.format_exc()}")

    # hooks of BackendProcess --------------------------------------------------------
    def _on_launch(self) -> None:
        self._hello = None
        self.ready_info = {}
        self._book.on_launch()

    def _shutdown_id(self) -> str:
        return self._book.new_id("s")

    def _fail_running_jobs(self, what: str) -> None:
        for job_id, kind in self._jobs.take_running().items():
            self._on_event(Event("job.finished", {
                "job_id": job_id, "kind": kind, "status": "failed",
                "error": {"code": E_BACKEND_CRASHED, "message": f"the backend crashed: {what}"},
            }))

    # protocol lines -------------------------------------------------------------
    def _dispatch_line(self, line: str) -> None:
        if not line.strip():
            return
        msg = parse_line(line)
        if isinstance(msg, Hello):
            self._on_hello(msg)
        elif isinstance(msg, (Result, Error)):
            self._complete(msg, retry=True)
        elif isinstance(msg, Event):
            self._on_event(msg)
        elif isinstance(msg, Unparsed):
            self.sig_log.emit("warning", f"unreadable line from the backend ({msg.reason}): "
                                         f"{msg.line[:300]}")
        else:
            self.sig_log.emit("warning", f"unexpected message from the backend: {line[:300]}")

    def _on_hello(self, hello: Hello) -> None:
        self._hello = hello
        self.startup_seconds = time.monotonic() - self._started_at
        self._set_state(READY)
        self.sig_hello.emit(hello)
        self._flush_queue()

    def _on_event(self, ev: Event) -> None:
        if ev.event == "log":
            level, message = str(ev.data.get("level", "info")), str(ev.data.get("message", ""))
            self.last_error.note(level, message)
            self.sig_log.emit(level, message)
        elif ev.event == "backend.ready":
            self.ready_info = dict(ev.data)  # torch, cuda, cuda_version: for Help ▸ About
            cmds = ev.data.get("commands")
            self.commands = [str(c) for c in cmds] if isinstance(cmds, list) else []
            self._book.backend_ready = True  # requests waiting for a retry go on their timer
        elif ev.event.startswith("job."):
            self._jobs.track(ev.event, ev.data)
        self.sig_event.emit(ev)
        if ev.event.startswith("job."):
            self.sig_job_event.emit(ev)
        if ev.event == "job.finished":
            self._deliver_finished(ev.data)

    def _deliver_finished(self, data: dict) -> None:
        watcher = self._jobs.finished(data)
        if watcher is None:
            return
        try:
            watcher(data)
        except Exception:
            self.sig_log.emit("error", f"a job handler raised:\n{traceback.format_exc()}")
