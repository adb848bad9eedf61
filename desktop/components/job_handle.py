"""JobHandle: one backend job as the desktop follows it, from the request to the end (Qt-free).

A page that starts a job gets a handle from ``BackendClient.start_job`` (state
``requested``). The backend's ``job.started`` names the ``job.start`` request
(``request_id``), so the handle takes the job id from the first event; later events
are matched by job id (``JobBook`` in desktop/components/request_book.py does the
matching). Jobs started by someone else get a handle from their ``job.started``.

Every event of the job (``job.*``, ``train.*``, ``log`` lines with its ``job_id``)
goes through ``apply``; the handle keeps the state, stage, progress, ETA, messages,
result and error, bumps ``revision`` and calls its listeners
``fn(handle, event, data)``. Besides the protocol's event names a listener sees
``refused`` (the ``job.start`` got an error reply: state ``failed``, ``refused`` set)
and ``cancel_requested``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REQUESTED = "requested"
RUNNING = "running"
PAUSED = "paused"
OK = "ok"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED_STATES = (OK, FAILED, CANCELLED)
REFUSED_EVENT = "refused"
CANCEL_EVENT = "cancel_requested"
MAX_MESSAGES = 200

Listener = Callable[["JobHandle", str, dict[str, Any]], None]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def fmt_eta(seconds: float | None) -> str:
    """"42 s", "3 min 05 s", "2 h 07 min"; "" when unknown."""
    if seconds is None or seconds < 0:
        return ""
    secs = int(round(seconds))
    if secs < 60:
        return f"{secs} s"
    if secs < 3600:
        return f"{secs // 60} min {secs % 60:02d} s"
    return f"{secs // 3600} h {secs % 3600 // 60:02d} min"


class JobHandle:
    def __init__(self, kind: str, args: dict[str, Any] | None = None, *,
                 request_id: str | None = None, job_id: str | None = None) -> None:
        self.kind = kind
        self.args: dict[str, Any] = dict(args or {})
        self.request_id = request_id  # None: started by someone else
        self.job_id = job_id
        self.state = REQUESTED if job_id is None else RUNNING
        self.stage = ""
        self.detail = ""  # what the stage works on now (a file name), when the job says
        self.done: float = 0
        self.total: float = 0
        self.eta: float | None = None
        self.messages: list[str] = []  # log lines addressed to this job
        self.result: dict[str, Any] = {}
        self.error: dict[str, Any] = {}  # {code, message, details} when failed
        self.refused = False  # the job.start request itself failed: no job ran
        self.cancel_requested = False
        self.cancel_sent = False  # BackendClient sent job.cancel for it
        self.seconds: float | None = None
        self.revision = 0
        self._listeners: list[Listener] = []

    def __repr__(self) -> str:
        return (f"JobHandle({self.kind!r}, request_id={self.request_id!r}, "
                f"job_id={self.job_id!r}, state={self.state!r})")

    # listeners ------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self, event: str, data: dict[str, Any]) -> None:
        """Tell every listener; one that raises does not keep the others from hearing."""
        self.revision += 1
        failure: Exception | None = None
        for listener in list(self._listeners):
            try:
                listener(self, event, data)
            except Exception as exc:  # re-raised below, after the others heard it
                failure = failure or exc
        if failure is not None:
            raise failure

    # what it is -------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def active(self) -> bool:
        """Requested or running (paused included): the page waits for it."""
        return not self.finished

    @property
    def fraction(self) -> float | None:
        """0..1 when the total is known, else None (an indeterminate bar)."""
        if self.state == OK:
            return 1.0
        if self.total > 0:
            return max(0.0, min(1.0, self.done / self.total))
        return None

    def eta_text(self) -> str:
        return "" if self.finished or self.state == PAUSED else fmt_eta(self.eta)

    @property
    def error_code(self) -> str:
        return str(self.error.get("code") or "")

    @property
    def error_message(self) -> str:
        """The error's message ("" unless failed; "cancelled" when cancelled)."""
        if self.state == CANCELLED:
            return "cancelled"
        if self.state != FAILED:
            return ""
        return str(self.error.get("message") or self.error.get("code") or "failed")

    # the request -----------------------------------------------------------------------
    def refuse(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        """The ``job.start`` got an error reply (or never reached a backend)."""
        if self.finished:
            return
        self.state, self.refused = FAILED, True
        self.error = {"code": code, "message": message, "details": details or {}}
        self._changed(REFUSED_EVENT, dict(self.error))

    def bind(self, job_id: str) -> bool:
        """The job id, from ``job.started`` or the ``job.start`` reply; True if it was new."""
        if self.job_id is not None or self.finished:
            return False
        self.job_id = job_id
        self.state = RUNNING
        return True

    def request_cancel(self) -> None:
        if self.finished or self.cancel_requested:
            return
        self.cancel_requested = True
        self._changed(CANCEL_EVENT, {})

    # events --------------------------------------------------------------------------------
    def apply(self, event: str, data: dict[str, Any]) -> bool:
        """One event of this job; False when it changed nothing (a late line)."""
        if self.finished:
            return False  # a late line never revives a finished job
        handler = _HANDLERS.get(event)
        if handler is not None:
            handler(self, data)
        self._changed(event, data)
        return True

    def _started(self, data: dict[str, Any]) -> None:
        job_id = data.get("job_id")
        if isinstance(job_id, str) and job_id:
            self.bind(job_id)
        self.kind = str(data.get("kind") or self.kind)
        if isinstance(data.get("args"), dict) and not self.args:
            self.args = dict(data["args"])
        self.stage = self.stage or "starting"

    def _progress(self, data: dict[str, Any]) -> None:
        stage = str(data.get("stage") or self.stage)
        self.detail = str(data.get("detail") or "") if "detail" in data or stage != self.stage \
            else self.detail
        self.stage = stage
        done, total = _num(data.get("done")), _num(data.get("total"))
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        self.eta = _num(data.get("eta"))

    def _paused(self, data: dict[str, Any]) -> None:
        self.state = PAUSED if data.get("paused") else RUNNING

    def _log(self, data: dict[str, Any]) -> None:
        self.messages.append(str(data.get("message", "")))
        del self.messages[:-MAX_MESSAGES]

    def _finished(self, data: dict[str, Any]) -> None:
        status = data.get("status")
        self.state = status if status in FINISHED_STATES else FAILED
        self.kind = str(data.get("kind") or self.kind)
        self.eta = None
        if isinstance(data.get("result"), dict):
            self.result = data["result"]
        err = data.get("error")
        if isinstance(err, dict):
            self.error = {"code": err.get("code"), "message": err.get("message"),
                          "details": err.get("details") or {}}
        elif self.state == FAILED:
            self.error = {"code": None, "message": str(err or "unknown error"), "details": {}}
        self.seconds = _num(data.get("seconds"))
        self.stage = {OK: "done", FAILED: "failed", CANCELLED: "cancelled"}[self.state]


_HANDLERS: dict[str, Callable[[JobHandle, dict[str, Any]], None]] = {
    "job.started": JobHandle._started,
    "job.progress": JobHandle._progress,
    "job.paused": JobHandle._paused,
    "job.finished": JobHandle._finished,
    "log": JobHandle._log,
}
