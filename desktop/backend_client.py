"""BackendClient: runs ``python -m backend serve`` in a QProcess and speaks JSON Lines to it.

stdout carries protocol lines only; stderr carries the backend's logs, which
are forwarded line by line through ``sig_stderr``. Nothing here blocks the GUI
except ``stop()``, which waits up to ~3 s for a clean shutdown at exit.

The process, its exit and the restart policy live in the ``BackendProcess`` the
client owns (``client.process``, desktop/backend_process.py): the client
connects to its signals (protocol lines, a new launch, lost requests and jobs)
and passes on its state, log, stderr and crash signals as its own. The Qt-free
bookkeeping of pending requests and jobs is in desktop/components/request_book.py.
This module sends requests, reads the protocol lines and delivers each answer and
event.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from backend.protocol import (
    PROTOCOL_VERSION,
    Error,
    Event,
    Hello,
    Request,
    Result,
    Unparsed,
    parse_line,
)
from desktop.backend_process import (
    E_BACKEND_CRASHED,
    E_BACKEND_STOPPED,
    STDERR_TAIL,
    BackendProcess,
    default_command,
)
from desktop.components.backend_logic import (
    CRASHED,
    READY,
    STOPPED,
    RestartPolicy,
    protocol_problem,
)
from desktop.components.job_handle import JobHandle
from desktop.components.request_book import (
    READY_WAIT_S,
    ErrorCallback,
    JobBook,
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


class BackendClient(QObject):
    state_changed = Signal(str)       # starting, ready, crashed, restarting, stopped
    sig_log = Signal(str, str)        # level, message (the backend's log events and ours)
    sig_stderr = Signal(str)          # one line of the backend's stderr
    sig_crashed = Signal(str, bool)   # what happened (+ last stderr lines), will restart
    sig_hello = Signal(object)        # protocol.Hello
    sig_event = Signal(object)        # protocol.Event (every event)

    def __init__(self, parent: QObject | None = None, *, command: Sequence[str] | None = None,
                 process_factory: Callable[[], QProcess] | None = None,
                 restart_policy: RestartPolicy | None = None,
                 stop_timeout_ms: int = 3000) -> None:
        super().__init__(parent)
        self.process = BackendProcess(self, command=command, process_factory=process_factory,
                                      restart_policy=restart_policy,
                                      stop_timeout_ms=stop_timeout_ms)
        self._hello: Hello | None = None
        self._book = RequestBook()
        self.jobs = JobBook()  # a JobHandle per job: the pages and the Jobs panel watch them
        self.startup_seconds: float | None = None  # start() -> hello, last launch
        self.commands: list[str] = []  # from the backend.ready event
        self.ready_info: dict[str, Any] = {}  # the backend.ready event's data
        self._connect_process(self.process)

    def _connect_process(self, process: BackendProcess) -> None:
        process.state_changed.connect(self.state_changed)
        process.sig_log.connect(self.sig_log)
        process.sig_stderr.connect(self.sig_stderr)
        process.sig_crashed.connect(self.sig_crashed)
        process.sig_line.connect(self._dispatch_line)
        process.sig_launching.connect(self._on_launch)
        process.sig_requests_lost.connect(self._fail_all)
        process.sig_jobs_lost.connect(self._fail_running_jobs)

    # the process ------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self.process.state

    @property
    def last_crash_message(self) -> str:
        return self.process.last_crash_message

    def stderr_tail(self) -> list[str]:
        return self.process.stderr_tail()

    def start(self) -> None:
        """Start the backend (no-op if it is already running)."""
        self.process.start()

    def restart(self) -> None:
        """The user's Restart action: forget past crashes and start again."""
        self.process.restart()

    def stop(self) -> None:
        """Send ``shutdown``, wait up to ``stop_timeout_ms``, then kill. Blocks (at exit only)."""
        self.process.stop(Request(id=self._book.new_id("s"), cmd="shutdown"))

    @property
    def hello(self) -> Hello | None:
        return self._hello

    # requests ---------------------------------------------------------------
    def request(self, cmd: str, args: dict | None = None,
                on_result: ResultCallback | None = None,
                on_error: ErrorCallback | None = None) -> str:
        """Send a command; exactly one of the callbacks runs later. Returns the request id."""
        req = self._book.add(cmd, args, on_result, on_error)
        req_id, state = req.id, self.process.state
        if state == READY and self.process.running:
            self._send(req)
        elif state == CRASHED or (state == STOPPED and self.process.stopped_by_user):
            msg = ("the backend is not running (it crashed); use Restart" if
                   state == CRASHED else "the backend is not running")
            code = E_BACKEND_CRASHED if state == CRASHED else E_BACKEND_STOPPED
            QTimer.singleShot(0, lambda: self._fail(req_id, code, msg))
        else:
            self._book.queue.append(req)  # sent when hello arrives
        return req_id

    def start_job(self, kind: str, args: dict) -> JobHandle:
        """Send ``job.start``; the returned handle follows the job from its first event
        (state ``requested``, then ``running``/``paused``, then ``ok``/``failed``/
        ``cancelled``; a refused start is ``failed`` with ``refused`` set)."""
        req_id = self.request("job.start", {"kind": kind, "args": dict(args)},
                              lambda result: self._on_job_start_result(req_id, result),
                              lambda err: self.jobs.refused(req_id, err))
        return self.jobs.requested(req_id, kind, args)  # before any answer can be read

    def _on_job_start_result(self, req_id: str, result: dict) -> None:
        handle = self.jobs.replied(req_id, result)
        if handle is not None:
            self._send_pending_cancel(handle)

    def cancel_job(self, job: JobHandle | str) -> str | None:
        """``job.cancel`` for a handle (sent once its job id is known) or a job id."""
        handle = job if isinstance(job, JobHandle) else self.jobs.by_job_id(job)
        if handle is None:
            return self.request("job.cancel", {"job_id": str(job)})
        handle.request_cancel()
        return self._send_pending_cancel(handle)

    def _send(self, req: Request) -> None:
        self._book.mark_sent(req.id)
        self.process.write(req)

    def _flush_queue(self) -> None:
        for req in self._book.take_queue():
            if self._book.is_pending(req.id):
                self._send(req)

    def _fail(self, req_id: str, code: str, message: str) -> None:
        self._complete(Error(id=req_id, code=code, message=message))

    def _fail_all(self, code: str, message: str, sent_only: bool = False) -> None:
        """Answer every pending request (only those sent: ``sent_only``) with an error."""
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
        if req is not None and self.process.running:
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

    # what the process reports ------------------------------------------------------
    def _on_launch(self) -> None:
        """A new process is about to start: forget what the last one said."""
        self._hello = None
        self.ready_info = {}
        self._book.on_launch()

    def _fail_running_jobs(self, what: str) -> None:
        """The process went away: every running job ends as failed."""
        for handle in self.jobs.running():
            self._on_event(Event("job.finished", {
                "job_id": handle.job_id, "kind": handle.kind, "status": "failed",
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
        problem = protocol_problem(hello.protocol, PROTOCOL_VERSION)
        if problem:
            self.sig_log.emit("error", problem)
        self.startup_seconds = self.process.seconds_since_launch()
        self.process.set_ready()
        self.sig_hello.emit(hello)
        self._flush_queue()

    def _on_event(self, ev: Event) -> None:
        if ev.event == "log":
            level, message = str(ev.data.get("level", "info")), str(ev.data.get("message", ""))
            self.process.last_error.note(level, message)
            self.sig_log.emit(level, message)
        elif ev.event == "backend.ready":
            self.ready_info = dict(ev.data)  # torch, cuda, cuda_version: for Help ▸ About
            cmds = ev.data.get("commands")
            self.commands = [str(c) for c in cmds] if isinstance(cmds, list) else []
            self._book.backend_ready = True  # requests waiting for a retry go on their timer
        self._follow_job(ev)
        self.sig_event.emit(ev)

    def _follow_job(self, ev: Event) -> None:
        """The event's JobHandle takes it (and tells the page that follows it)."""
        try:
            handle = self.jobs.apply(ev.event, ev.data)
        except Exception:
            self.sig_log.emit("error", f"a job handler raised on {ev.event}:\n"
                                       f"{traceback.format_exc()}")
            return
        if handle is not None and ev.event == "job.started":
            self._send_pending_cancel(handle)

    def _send_pending_cancel(self, handle: JobHandle) -> str | None:
        """A cancel asked before the job id was known goes out once it is (once)."""
        if (not handle.cancel_requested or handle.cancel_sent or handle.finished
                or not handle.job_id):
            return None
        handle.cancel_sent = True
        return self.request("job.cancel", {"job_id": handle.job_id})
