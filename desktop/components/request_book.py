"""Qt-free bookkeeping of the backend client: requests awaiting an answer, and jobs.

``RequestBook`` holds every request that has not had its ``result`` or
``error`` yet, the requests queued until the backend says hello, and the
requests re-sent while the backend's command modules are still loading (an
``unknown_command`` error before ``backend.ready``). ``JobBook`` holds a
``JobHandle`` (desktop/components/job_handle.py) for every job and routes each
event to it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.protocol import E_UNKNOWN_COMMAND, Error, Request, Result
from desktop.components.job_handle import JobHandle, Listener

READY_WAIT_S = 15.0
KEEP_FINISHED = 100

ResultCallback = Callable[[dict[str, Any]], None]
ErrorCallback = Callable[[Error], None]


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

    def add(self, cmd: str, args: dict[str, Any] | None, on_result: ResultCallback | None,
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


class InFlight:
    """Queries asked and not answered yet, by key: a refresh asks each one once while its
    answer is on its way (one Prepare click used to send ``project.slices`` three times)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def ask(self, key: str, send: Callable[[ResultCallback, ErrorCallback], object],
            done: ResultCallback, failed: ErrorCallback) -> bool:
        """``send(on_result, on_error)`` unless ``key`` is in flight; False when it was."""
        if key in self._keys:
            return False
        self._keys.add(key)

        def on_result(result: dict[str, Any]) -> None:
            self._keys.discard(key)
            done(result)

        def on_error(err: Error) -> None:
            self._keys.discard(key)
            failed(err)

        send(on_result, on_error)
        return True


class JobBook:
    """Every job the client knows, as ``JobHandle`` objects: one source of truth for the
    pages and the Jobs panel.

    ``requested`` makes the handle when ``job.start`` is sent; ``apply`` routes each
    event: ``job.started`` to the handle of its ``request_id`` (a new handle when no
    request of ours matches: a job started by someone else), every later event by job
    id. ``replied`` / ``refused`` take the ``job.start`` answer. Listeners
    (``subscribe(fn(handle, event, data))``) hear about every handle; the most recent
    ``keep_finished`` finished handles are kept.
    """

    def __init__(self, keep_finished: int = KEEP_FINISHED) -> None:
        self._handles: list[JobHandle] = []
        self._by_request: dict[str, JobHandle] = {}
        self._by_job: dict[str, JobHandle] = {}
        self._listeners: list[Listener] = []
        self._keep = keep_finished

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, handle: JobHandle, event: str, data: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            listener(handle, event, data)

    def handles(self) -> list[JobHandle]:
        return list(self._handles)

    def running(self) -> list[JobHandle]:
        """Handles whose job runs in the backend (its id is known, it has not finished)."""
        return [h for h in self._handles if h.job_id is not None and not h.finished]

    def by_job_id(self, job_id: str) -> JobHandle | None:
        return self._by_job.get(job_id)

    def by_request_id(self, request_id: str) -> JobHandle | None:
        return self._by_request.get(request_id)

    def _add(self, handle: JobHandle) -> JobHandle:
        self._handles.append(handle)
        handle.subscribe(self._notify)
        self._prune()
        return handle

    def requested(self, request_id: str, kind: str, args: dict[str, Any]) -> JobHandle:
        handle = self._add(JobHandle(kind, args, request_id=request_id))
        self._by_request[request_id] = handle
        self._notify(handle, "requested", {})
        return handle

    def refused(self, request_id: str, err: Error) -> JobHandle | None:
        handle = self._by_request.pop(request_id, None)
        if handle is not None:
            handle.refuse(err.code, err.message, err.details)
        return handle

    def replied(self, request_id: str, result: dict[str, Any]) -> JobHandle | None:
        """The ``job.start`` result; binds the job id if ``job.started`` did not."""
        handle = self._by_request.pop(request_id, None)
        job_id = str(result.get("job_id") or "")
        if handle is not None and job_id and handle.bind(job_id):
            self._by_job[job_id] = handle
            handle.apply("job.started", {"job_id": job_id, "kind": result.get("kind")})
        return handle

    def apply(self, event: str, data: dict[str, Any]) -> JobHandle | None:
        """Route one event to its handle (None: no job of ours, e.g. audio events)."""
        job_id = data.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            return None
        if event == "job.started":
            return self._started(job_id, data)
        handle = self._by_job.get(job_id)
        if handle is not None:
            handle.apply(event, data)
        return handle

    def _started(self, job_id: str, data: dict[str, Any]) -> JobHandle:
        rid = data.get("request_id")
        handle = self._by_request.get(str(rid)) if rid is not None else None
        if handle is None or handle.job_id not in (None, job_id):
            handle = self._add(JobHandle(str(data.get("kind") or ""), None, job_id=job_id))
        self._by_job[job_id] = handle  # ids restart with a new backend: this one is new
        handle.apply("job.started", data)
        return handle

    def clear_finished(self) -> list[JobHandle]:
        gone = [h for h in self._handles if h.finished]
        self._forget(gone)
        return gone

    def _prune(self) -> None:
        finished = [h for h in self._handles if h.finished]
        self._forget(finished[:max(0, len(finished) - self._keep)])

    def _forget(self, gone: list[JobHandle]) -> None:
        for handle in gone:
            self._handles.remove(handle)
            handle.unsubscribe(self._notify)
            if handle.job_id is not None and self._by_job.get(handle.job_id) is handle:
                del self._by_job[handle.job_id]
