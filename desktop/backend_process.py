"""BackendProcess: the backend's QProcess, its output lines, its exit and restart policy.

The base of ``BackendClient``: it starts ``python -m backend serve`` (or any
command), splits stdout into protocol lines (handed to ``_dispatch_line``) and
stderr into log lines (``sig_stderr``), and decides what an exit means. When
the process exits without being asked to, pending requests fail with
``backend_crashed``, running jobs get a synthetic failed ``job.finished``,
``state_changed("crashed")`` and ``sig_crashed(message, will_restart)`` are
emitted, and the backend is started again after a short back-off
("restarting"). After ``max_restarts`` crashes within a minute it stays
"crashed" until ``restart()`` is called.

The subclass supplies the request side: ``_dispatch_line``, ``_on_launch``,
``_shutdown_id``, ``_fail_all`` and ``_fail_running_jobs``.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from backend.protocol import Request, encode
from desktop.components.backend_logic import (
    CRASHED,
    RESTARTING,
    STARTING,
    STOPPED,
    LastError,
    LineSplitter,
    RestartPolicy,
    exit_description,
)

E_BACKEND_CRASHED = "backend_crashed"
E_BACKEND_STOPPED = "backend_stopped"
STDERR_TAIL = 20


def default_command() -> list[str]:
    return [sys.executable, "-m", "backend", "serve"]


class BackendProcess(QObject):
    state_changed = Signal(str)
    sig_log = Signal(str, str)        # level, message
    sig_stderr = Signal(str)          # one line of the backend's stderr
    sig_crashed = Signal(str, bool)   # what happened (+ the last error logged), restart?

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
        self._out = LineSplitter()
        self._err = LineSplitter()
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self.last_error = LastError()  # what the crash banner quotes
        self._started_at = 0.0
        self.last_crash_message = ""

    # hooks of the request side: BackendClient implements them (QObject classes cannot
    # use ABCMeta, so a missing override fails loudly here instead) -------------------
    def _dispatch_line(self, line: str) -> None:
        """One protocol line from the backend's stdout."""
        raise NotImplementedError

    def _on_launch(self) -> None:
        """A new process is about to start: forget what the last one said."""
        raise NotImplementedError

    def _shutdown_id(self) -> str:
        """Send ``shutdown`` and return its request id."""
        raise NotImplementedError

    def _fail_all(self, code: str, message: str, *, sent_only: bool = False) -> None:
        """Answer every pending request with an error (the process went away)."""
        raise NotImplementedError

    def _fail_running_jobs(self, what: str) -> None:
        """Report every running job as failed (the process went away)."""
        raise NotImplementedError

    # state ------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

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
        self._on_launch()
        self._out, self._err = LineSplitter(), LineSplitter()
        self._stderr_tail.clear()
        self.last_error.reset()
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
            self._write(proc, Request(id=self._shutdown_id(), cmd="shutdown"))
            proc.closeWriteChannel()
            if not proc.waitForFinished(self.stop_timeout_ms):
                self.sig_log.emit("warning", "the backend did not stop in time; killing it")
                proc.kill()
                proc.waitForFinished(1000)
        if self._proc is proc:  # finished was not delivered (never started)
            self._proc = None
            self._set_state(STOPPED)
            self._fail_all(E_BACKEND_STOPPED, "the backend was stopped")

    def _write(self, proc: QProcess, req: Request) -> None:
        if proc.write(encode(req).encode("utf-8")) < 0:
            self.sig_log.emit("error", f"could not write to the backend: {proc.errorString()}")

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
            self.last_error.feed(line)
            self.sig_stderr.emit(line)

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
        last = self.last_error.last
        message = what + (f".\nThe last error it logged: {last}" if last else
                          ". It logged no error; its last lines are in the Log panel."
                          if self._stderr_tail else " (it wrote nothing to stderr)")
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

    def _on_restart_timer(self) -> None:
        if self._state == RESTARTING and self._proc is None and not self._user_stopped:
            self.sig_log.emit("info", "restarting the backend")
            self._launch()
