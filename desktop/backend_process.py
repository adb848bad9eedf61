"""BackendProcess: the backend's QProcess, its output lines, its exit and restart policy.

``BackendClient`` owns one and connects to its signals. It starts ``python -m
backend serve`` (or any command), splits stdout into protocol lines
(``sig_line``) and stderr into log lines (``sig_stderr``), and decides what an
exit means. It knows nothing of requests: it says when they are lost
(``sig_requests_lost(code, message, sent_only)``) and when running jobs are
(``sig_jobs_lost(what)``), and the client answers them. When the process exits
without being asked to, it emits ``sig_requests_lost(backend_crashed, …,
sent_only=True)``, ``sig_jobs_lost``, ``state_changed("crashed")`` and
``sig_crashed(message, will_restart)``, and starts the backend again after a
short back-off ("restarting"). After ``max_restarts`` crashes within a minute it
stays "crashed" (and the requests still queued are lost too) until
``restart()`` is called.

Every signal is delivered at once, in the order above (the client lives in the
same thread), so the client has answered what was lost before the state changes.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from backend.protocol import Request, encode
from backend.resources import backend_command, source_root
from desktop.components.backend_logic import (
    CRASHED,
    READY,
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
    return backend_command("serve")


class BackendProcess(QObject):
    state_changed = Signal(str)
    sig_log = Signal(str, str)        # level, message
    sig_stderr = Signal(str)          # one line of the backend's stderr
    sig_crashed = Signal(str, bool)   # what happened (+ the last error logged), restart?
    sig_line = Signal(str)            # one line of the backend's stdout (a protocol line)
    sig_launching = Signal()          # a new process is about to start
    sig_requests_lost = Signal(str, str, bool)  # error code, message, only those sent
    sig_jobs_lost = Signal(str)       # what happened to the process

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

    # state ------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def command(self) -> list[str]:
        """The command line the backend is started with."""
        return list(self._command)

    @property
    def running(self) -> bool:
        """A process was started and has not exited."""
        return self._proc is not None

    @property
    def stopped_by_user(self) -> bool:
        """The last ``stop()`` was asked for (no restart follows)."""
        return self._user_stopped

    @property
    def qprocess(self) -> QProcess | None:
        """The running QProcess (None when none runs)."""
        return self._proc

    def seconds_since_launch(self) -> float:
        return time.monotonic() - self._started_at

    def set_ready(self) -> None:
        """The backend said hello: it takes requests now."""
        self._set_state(READY)

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
        root = source_root()
        if root is not None:  # from source: the checkout on the path; frozen: nothing to add
            old = env.value("PYTHONPATH", "")
            env.insert("PYTHONPATH", str(root) + (os.pathsep + old if old else ""))
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONUTF8", "1")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(lambda: self._on_proc_stdout(proc))
        proc.readyReadStandardError.connect(lambda: self._on_proc_stderr(proc))
        proc.finished.connect(lambda code, status: self._on_proc_finished(proc, code, status))
        proc.errorOccurred.connect(lambda err: self._on_proc_error(proc, err))
        self._proc = proc
        self.sig_launching.emit()
        self._out, self._err = LineSplitter(), LineSplitter()
        self._stderr_tail.clear()
        self.last_error.reset()
        self._started_at = time.monotonic()
        proc.start(self._command[0], self._command[1:])

    def stop(self, farewell: Request | None = None) -> None:
        """Write ``farewell`` (the client's ``shutdown`` request) and close stdin, wait up to
        ``stop_timeout_ms``, then kill. Blocks (at exit only)."""
        self._user_stopped = True
        proc = self._proc
        if proc is None:
            self._set_state(STOPPED)
            self._lose_requests(E_BACKEND_STOPPED, "the backend was stopped")
            return
        if proc.state() != QProcess.ProcessState.NotRunning:
            if farewell is not None:
                self._write(proc, farewell)
            proc.closeWriteChannel()
            if not proc.waitForFinished(self.stop_timeout_ms):
                self.sig_log.emit("warning", "the backend did not stop in time; killing it")
                proc.kill()
                proc.waitForFinished(1000)
        if self._proc is proc:  # finished was not delivered (never started)
            self._proc = None
            self._set_state(STOPPED)
            self._lose_requests(E_BACKEND_STOPPED, "the backend was stopped")

    def write(self, req: Request) -> bool:
        """Send one request to the running backend; False (and a log line) if it cannot."""
        return self._proc is not None and self._write(self._proc, req)

    def _write(self, proc: QProcess, req: Request) -> bool:
        if proc.write(encode(req).encode("utf-8")) < 0:
            self.sig_log.emit("error", f"could not write to the backend: {proc.errorString()}")
            return False
        return True

    def _lose_requests(self, code: str, message: str, *, sent_only: bool = False) -> None:
        self.sig_requests_lost.emit(code, message, sent_only)

    # process output -------------------------------------------------------------
    def _on_proc_stdout(self, proc: QProcess) -> None:
        for line in self._out.feed(bytes(proc.readAllStandardOutput().data())):
            if proc is self._proc:
                self.sig_line.emit(line)

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
            self.sig_line.emit(line)
        for line in self._err.flush():
            self._stderr_line(line)
        self._proc = None
        self._retire(proc)
        if self._user_stopped:
            self._set_state(STOPPED)
            self._lose_requests(E_BACKEND_STOPPED, "the backend was stopped")
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
        self._lose_requests(E_BACKEND_CRASHED, f"the backend crashed: {what}", sent_only=True)
        self.sig_jobs_lost.emit(what)
        delay = self.restart_policy.on_crash()
        self._set_state(CRASHED)
        self.sig_log.emit("error", message)
        if delay is None:
            self._lose_requests(E_BACKEND_CRASHED, f"the backend crashed: {what}")
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
