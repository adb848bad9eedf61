"""Qt-free bookkeeping of the backend client: requests awaiting an answer, and jobs.

``RequestBook`` holds every request that has not had its ``result`` or
``error`` yet, the requests queued until the backend says hello, and the
requests re-sent while the backend's command modules are still loading (an
``unknown_command`` error before ``backend.ready``). ``JobWatch`` follows the
running jobs and hands each ``job.finished`` to whoever waits for it, even
when the event arrives before the ``job.start`` result.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from backend.protocol import E_UNKNOWN_COMMAND, Error, Request, Result

READY_WAIT_S = 15.0
KEEP_FINISHED = 100

ResultCallback = Callable[[dict], None]
ErrorCallback = Callable[[Error], None]
FinishedCallback = Callable[[dict], None]


@dataclass
class PendingRequest:
    req: Request
    on_result: ResultCallback | None
    on_error: ErrorCallback | None
    sent: bool = False

    @property
    def cmd(self) -> str:
        return self.req.cmd


class RequestBook:
    """Requests that still wait for their one answer (no I/O, no timers)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 ready_wait_s: float = READY_WAIT_S) -> None:
        self._clock = clock
        self.ready_wait_s = ready_wait_s
        self._ids = itertools.count(1)
        self.pending: dict[str, PendingRequest] = {}
        self.queue: list[Request] = []
        self.backend_ready = False
        self._wait_ready: dict[str, tuple[Request, float]] = {}  # id -> (request, first try)

    def new_id(self, prefix: str) -> str:
        """A fresh id; one counter for every prefix, so ids never repeat."""
        return f"{prefix}{next(self._ids)}"

    def add(self, cmd: str, args: dict | None, on_result: ResultCallback | None,
            on_error: ErrorCallback | None) -> Request:
        req = Request(id=self.new_id("d"), cmd=cmd, args=dict(args or {}))
        self.pending[req.id] = PendingRequest(req, on_result, on_error)
        return req

    def is_pending(self, req_id: str) -> bool:
        return req_id in self.pending

    def mark_sent(self, req_id: str) -> None:
        pending = self.pending.get(req_id)
        if pending is not None:
            pending.sent = True

    def take_queue(self) -> list[Request]:
        """The queued requests (the queue is emptied); check ``is_pending`` before sending."""
        queue, self.queue = self.queue, []
        return queue

    def prune_queue(self) -> None:
        """Drop queued requests that were answered (failed) meanwhile."""
        self.queue = [r for r in self.queue if r.id in self.pending]

    def snapshot(self) -> list[tuple[str, PendingRequest]]:
        return list(self.pending.items())

    def pop(self, req_id: str) -> PendingRequest | None:
        """Forget a request that got its answer (None if it was not pending)."""
        self._wait_ready.pop(req_id, None)
        return self.pending.pop(req_id, None)

    def on_launch(self) -> None:
        """A new backend process: it has not loaded its commands yet."""
        self.backend_ready = False
        self._wait_ready = {}

    def should_retry(self, msg: Result | Error) -> bool:
        """True when ``msg`` is an ``unknown_command`` error that came before
        ``backend.ready`` and the request has waited less than ``ready_wait_s``:
        the caller re-sends it later (see ``waiting``) instead of answering."""
        if (self.backend_ready or not isinstance(msg, Error) or msg.code != E_UNKNOWN_COMMAND
                or msg.id not in self.pending):
            return False
        now = self._clock()
        first = self._wait_ready.get(msg.id, (None, now))[1]
        if now - first > self.ready_wait_s:
            self._wait_ready.pop(msg.id, None)
            return False  # give up: the caller gets the unknown_command error
        self._wait_ready[msg.id] = (self.pending[msg.id].req, first)
        return True

    def waiting(self, req_id: str) -> Request | None:
        """The request to re-send, if it still waits for ``backend.ready``."""
        entry = self._wait_ready.get(req_id)
        if entry is None or req_id not in self.pending:
            return None
        return entry[0]


class JobWatch:
    """Running jobs (id -> kind) and the callbacks waiting for their ``job.finished``."""

    def __init__(self, keep_finished: int = KEEP_FINISHED) -> None:
        self.running: dict[str, str] = {}
        self._watchers: dict[str, FinishedCallback] = {}
        self._recent: OrderedDict[str, dict] = OrderedDict()
        self._keep = keep_finished

    def track(self, event: str, data: dict) -> None:
        job_id = str(data.get("job_id", ""))
        if event == "job.started":
            self.running[job_id] = str(data.get("kind", ""))
        elif event == "job.finished":
            self.running.pop(job_id, None)

    def take_running(self) -> dict[str, str]:
        """The running jobs, forgotten here (the backend that ran them is gone)."""
        running, self.running = self.running, {}
        return running

    def watch(self, job_id: str, on_finished: FinishedCallback) -> dict | None:
        """Wait for ``job_id`` to finish; its ``job.finished`` data if that already came
        (the caller calls ``on_finished`` itself then)."""
        done = self._recent.pop(job_id, None)
        if done is None:
            self._watchers[job_id] = on_finished
        return done

    def finished(self, data: dict) -> FinishedCallback | None:
        """The callback waiting for this ``job.finished``; without one the data is kept
        (the most recent ``keep_finished``) for a later ``watch``."""
        job_id = str(data.get("job_id", ""))
        watcher = self._watchers.pop(job_id, None)
        if watcher is None:
            self._recent[job_id] = data
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        return watcher
