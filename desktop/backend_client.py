"""BackendClient: runs ``python -m backend serve`` in a QProcess and speaks JSON Lines to it.

stdout carries protocol lines only; stderr carries the backend's logs, which
are forwarded line by line through ``sig_stderr``. Nothing here blocks the GUI
except ``stop()``, which waits up to ~3 s for a clean shutdown at exit.

Restart policy: when the process exits without being asked to, pending
requests fail with the error code ``backend_crashed``, running jobs get a
synthetic failed ``job.finished``, ``state_changed("crashed")`` and
``sig_crashed(message, will_restart)`` are emitted, and the backend is started
again after a short back-off ("restarting"). After ``max_restarts`` crashes
within a minute it stays "crashed" until ``restart()`` is called.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from backend.protocol import (
    E_UNKNOWN_COMMAND,
    Error,
    Event,
    Hello,
    Request,
    Result,
    Unparsed,
    encode,
    parse_line,
)
from desktop.components.backend_logic import (
    CRASHED,
    READY,
    RESTARTING,
    STARTING,
    STOPPED,
    LineSplitter,
    RestartPolicy,
    exit_description,
)

E_BACKEND_CRASHED = "backend_crashed"
E_BACKEND_STOPPED = "backend_stopped"
STDERR_TAIL = 20
READY_WAIT_S = 15.0
RETRY_MS = 300

ResultCallback = Callable[[dict], None]
ErrorCallback = Callable[[Error], None]


def default_command() -> list[str]:
    return [sys.executable, "-m", "backend", "serve"]


@dataclass
class _Pending:
    req: Request
    on_result: ResultCallback | None
    on_error: ErrorCallback | None
    sent: bool = False

    @property
    def cmd(self) -> str:
        return self.req.cmd


class BackendClient(QObject):
    state_changed = Signal(str)
    sig_hello = Signal(object)        # protocol.Hello
    sig_event = Signal(object)        # protocol.Event (every event)
    sig_job_event = Signal(object)    # protocol.Event whose name starts with "job."
    sig_log = Signal(str, str)        # level, message
    sig_stderr = Signal(str)          # one line of the backend's stderr
    sig_crashed = Signal(str, bool)   # what happened (+ last stderr lines), will restart

    def __init__(self, parent: QObject | None = None, *, command: Sequence[str] | None = None,
                 process_factory: Callable[[], QProcess] | None = None,
                 restart_policy: RestartPolicy | None = None,
                 stop_timeout_ms: int = 3000) -> None:
        super().__init__(parent)
        self._command = list(command) if command else default_command()
        self._factory = process_factory or QProcess
        self.restart_policy = restart_policy or RestartPolicy()
        self.stop_timeout_ms = stop_timeout_ms
        self._proc: QProcess | None = None
        self._dead_proc: QProcess | None = None
        self._state = STOPPED
        self._user_stopped = False
        self._hello: Hello | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._queue: list[Request] = []
        self._out = LineSplitter()
        self._err = LineSplitter()
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._running_jobs: dict[str, str] = {}
        self._finish_watchers: dict[str, Callable[[dict], None]] = {}
        self._recent_finished: OrderedDict[str, dict] = OrderedDict()
        self._started_at = 0.0
        self.startup_seconds: float | None = None  # start() -> hello, last launch
        self.commands: list[str] = []  # from the backend.ready event
        self._backend_ready = False
        self._wait_ready: dict[str, tuple[Request, float]] = {}  # id -> (request, first try)
        self.last_crash_message = ""

    # properties -----------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def hello(self) -> Hello | None:
        return self._hello

    def stderr_tail(self) -> list[str]:
        return list(self._stderr_tail)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # lifecycle --------------------------------------------------------------
    def start(self) -> None:
        """Start the backend (no-op if it is already running)."""
        if self._proc is not None:
            return
        self._user_stopped = False
        self._set_state(STARTING)
        self._launch()

    def restart(self) -> None:
        """The user's Restart action: forget past crashes and start again."""
        self.restart_policy.reset()
        if self._proc is not None:
            self.stop()
        self.start()

    def _launch(self) -> None:
        proc = self._factory()
        proc.setParent(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        env = QProcessEnvironment.systemEnvironment()
        root = str(Path(__file__).resolve().parents[1])
        old = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", root + (os.pathsep + old if old else ""))
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONUTF8", "1")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(lambda: self._on_proc_stdout(proc))
        proc.readyReadStandardError.connect(lambda: self._on_proc_stderr(proc))
        proc.finished.connect(lambda code, status: self._on_proc_finished(proc, code, status))
        proc.errorOccurred.connect(lambda err: self._on_proc_error(proc, err))
        self._proc = proc
        self._hello = None
        self._backend_ready = False
        self._wait_ready = {}
        self._out, self._err = LineSplitter(), LineSplitter()
        self._stderr_tail.clear()
        self._started_at = time.monotonic()
        proc.start(self._command[0], self._command[1:])

    def stop(self) -> None:
        """Send ``shutdown``, wait up to ``stop_timeout_ms``, then kill. Blocks (at exit only)."""
        self._user_stopped = True
        proc = self._proc
        if proc is None:
            self._set_state(STOPPED)
            self._fail_all(E_BACKEND_STOPPED, "the backend was stopped")
            return
        if proc.state() != QProcess.ProcessState.NotRunning:
            self._write(proc, Request(id=f"s{next(self._ids)}", cmd="shutdown"))
            proc.closeWriteChannel()
            if not proc.waitForFinished(self.stop_timeout_ms):
                self.sig_log.emit("warning", "the backend did not stop in time; killing it")
                proc.kill()
                proc.waitForFinished(1000)
        if self._proc is proc:  # finished was not delivered (never started)
            self._proc = None
            self._set_state(STOPPED)
            self._fail_all(E_BACKEND_STOPPED, "the backend was stopped")

    # requests ---------------------------------------------------------------
    def request(self, cmd: str, args: dict | None = None,
                on_result: ResultCallback | None = None,
                on_error: ErrorCallback | None = None) -> str:
        """Send a command; exactly one of the callbacks runs later. Returns the request id."""
        req_id = f"d{next(self._ids)}"
        req = Request(id=req_id, cmd=cmd, args=dict(args or {}))
        self._pending[req_id] = _Pending(req, on_result, on_error)
        if self._state == READY and self._proc is not None:
            self._send(req)
        elif self._state == CRASHED or (self._state == STOPPED and self._user_stopped):
            msg = ("the backend is not running (it crashed); use Restart" if
                   self._state == CRASHED else "the backend is not running")
            code = E_BACKEND_CRASHED if self._state == CRASHED else E_BACKEND_STOPPED
            QTimer.singleShot(0, lambda: self._fail(req_id, code, msg))
        else:
            self._queue.append(req)  # sent when hello arrives
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
                done = self._recent_finished.pop(job_id, None)
                if done is not None:
                    on_finished(done)
                else:
                    self._finish_watchers[job_id] = on_finished

        return self.request("job.start", {"kind": kind, "args": args}, started, on_error)

    def cancel_job(self, job_id: str, on_result: ResultCallback | None = None,
                   on_error: ErrorCallback | None = None) -> str:
        return self.request("job.cancel", {"job_id": job_id}, on_result, on_error)

    def _send(self, req: Request) -> None:
        pending = self._pending.get(req.id)
        if pending is not None:
            pending.sent = True
        if self._proc is not None:
            self._write(self._proc, req)

    def _write(self, proc: QProcess, req: Request) -> None:
        if proc.write(encode(req).encode("utf-8")) < 0:
            self.sig_log.emit("error", f"could not write to the backend: {proc.errorString()}")

    def _flush_queue(self) -> None:
        queue, self._queue = self._queue, []
        for req in queue:
            if req.id in self._pending:
                self._send(req)

    def _fail(self, req_id: str, code: str, message: str) -> None:
        self._complete(Error(id=req_id, code=code, message=message))

    def _fail_all(self, code: str, message: str, *, sent_only: bool = False) -> None:
        for req_id, pending in list(self._pending.items()):
            if pending.sent or not sent_only:
                self._fail(req_id, code, message)
        self._queue = [r for r in self._queue if r.id in self._pending]

    def _retry_after_ready(self, msg: Result | Error) -> bool:
        """Command modules load after hello: an unknown command before backend.ready is
        sent again after RETRY_MS while backend.ready has not come, for up to READY_WAIT_S."""
        if (self._backend_ready or not isinstance(msg, Error) or msg.code != E_UNKNOWN_COMMAND
                or msg.id not in self._pending):
            return False
        first = self._wait_ready.get(msg.id, (None, time.monotonic()))[1]
        if time.monotonic() - first > READY_WAIT_S:
            self._wait_ready.pop(msg.id, None)
            return False  # give up: the caller gets the unknown_command error
        self._wait_ready[msg.id] = (self._pending[msg.id].req, first)
        QTimer.singleShot(RETRY_MS, lambda rid=msg.id: self._resend_waiting(rid))
        return True

    def _resend_waiting(self, req_id: str) -> None:
        entry = self._wait_ready.get(req_id)
        if entry is not None and req_id in self._pending and self._proc is not None:
            self._send(entry[0])

    def _complete(self, msg: Result | Error, retry: bool = False) -> None:
        if retry and self._retry_after_ready(msg):
            return
        self._wait_ready.pop(msg.id or "", None)
        pending = self._pending.pop(msg.id or "", None)
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

    # process output -------------------------------------------------------------
    def _on_proc_stdout(self, proc: QProcess) -> None:
        for line in self._out.feed(bytes(proc.readAllStandardOutput().data())):
            if proc is self._proc:
                self._dispatch_line(line)

    def _on_proc_stderr(self, proc: QProcess) -> None:
        for line in self._err.feed(bytes(proc.readAllStandardError().data())):
            self._stderr_line(line)

    def _stderr_line(self, line: str) -> None:
        if line.strip():
            self._stderr_tail.append(line)
            self.sig_stderr.emit(line)

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
            self.sig_log.emit(str(ev.data.get("level", "info")), str(ev.data.get("message", "")))
        elif ev.event == "backend.ready":
            cmds = ev.data.get("commands")
            self.commands = [str(c) for c in cmds] if isinstance(cmds, list) else []
            self._backend_ready = True  # requests waiting for a retry go on their timer
        elif ev.event.startswith("job."):
            self._track_job(ev)
        self.sig_event.emit(ev)
        if ev.event.startswith("job."):
            self.sig_job_event.emit(ev)
        if ev.event == "job.finished":
            self._deliver_finished(ev.data)

    def _track_job(self, ev: Event) -> None:
        job_id = str(ev.data.get("job_id", ""))
        if ev.event == "job.started":
            self._running_jobs[job_id] = str(ev.data.get("kind", ""))
        elif ev.event == "job.finished":
            self._running_jobs.pop(job_id, None)

    def _deliver_finished(self, data: dict) -> None:
        job_id = str(data.get("job_id", ""))
        watcher = self._finish_watchers.pop(job_id, None)
        if watcher is None:
            self._recent_finished[job_id] = data
            while len(self._recent_finished) > 100:
                self._recent_finished.popitem(last=False)
            return
        try:
            watcher(data)
        except Exception:
            self.sig_log.emit("error", f"a job handler raised:\n{traceback.format_exc()}")

    # exit and crash ---------------------------------------------------------------
    def _on_proc_error(self, proc: QProcess, err: QProcess.ProcessError) -> None:
        if err == QProcess.ProcessError.FailedToStart and proc is self._proc:
            self._proc = None
            self._retire(proc)
            self._handle_exit(f"could not start the backend ({' '.join(self._command)}): "
                              f"{proc.errorString()}")
        elif err != QProcess.ProcessError.Crashed:  # a crash is handled by finished
            self.sig_log.emit("warning", f"backend process: {proc.errorString()}")

    def _on_proc_finished(self, proc: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        self._on_proc_stdout(proc)
        self._on_proc_stderr(proc)
        if proc is not self._proc:
            return
        for line in self._out.flush():
            self._dispatch_line(line)
        for line in self._err.flush():
            self._stderr_line(line)
        self._proc = None
        self._retire(proc)
        if self._user_stopped:
            self._set_state(STOPPED)
            self._fail_all(E_BACKEND_STOPPED, "the backend was stopped")
            return
        crashed = status == QProcess.ExitStatus.CrashExit
        self._handle_exit(exit_description(code, crashed))

    def _retire(self, proc: QProcess) -> None:
        """Keep the exited process until the next one exits; deleting a QProcess inside
        its own finished signal (or waitForFinished) crashes PySide."""
        old, self._dead_proc = self._dead_proc, proc
        if old is not None and old is not proc:
            old.deleteLater()

    def _handle_exit(self, what: str) -> None:
        tail = self.stderr_tail()[-8:]
        message = what + (":\n" + "\n".join(tail) if tail else " (it wrote nothing to stderr)")
        self.last_crash_message = message
        self._fail_all(E_BACKEND_CRASHED, f"the backend crashed: {what}", sent_only=True)
        self._fail_running_jobs(what)
        delay = self.restart_policy.on_crash()
        self._set_state(CRASHED)
        self.sig_log.emit("error", message)
        if delay is None:
            self._fail_all(E_BACKEND_CRASHED, f"the backend crashed: {what}")
            self.sig_crashed.emit(message + "\nIt crashed repeatedly, so it was not restarted.",
                                  False)
            return
        self.sig_crashed.emit(message, True)
        self._set_state(RESTARTING)
        QTimer.singleShot(int(delay * 1000), self._on_restart_timer)

    def _fail_running_jobs(self, what: str) -> None:
        jobs, self._running_jobs = self._running_jobs, {}
        for job_id, kind in jobs.items():
            self._on_event(Event("job.finished", {
                "job_id": job_id, "kind": kind, "status": "failed",
                "error": {"code": E_BACKEND_CRASHED, "message": f"the backend crashed: {what}"},
            }))

    def _on_restart_timer(self) -> None:
        if self._state == RESTARTING and self._proc is None and not self._user_stopped:
            self.sig_log.emit("info", "restarting the backend")
            self._launch()
