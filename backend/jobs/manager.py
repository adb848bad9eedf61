"""Runs jobs on threads and reports their lifecycle as protocol events."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from backend.jobs import JOB_MODULES, job_module
from backend.jobs.locking import hold_project
from backend.kernel import BadArgs, Emit, JobCancelled, JobContext, JobError
from backend.protocol import (
    E_BAD_ARGS,
    E_BUSY,
    E_INTERNAL,
    E_NOT_FOUND,
    E_UNKNOWN_COMMAND,
    JOB_CANCELLED,
    JOB_FAILED,
    JOB_OK,
    JOB_RUNNING,
)

log = logging.getLogger("backend.jobs")


@dataclass
class JobRecord:
    job_id: str
    kind: str
    ctx: JobContext
    key: str | None
    started: float = field(default_factory=time.time)
    status: str = JOB_RUNNING
    thread: threading.Thread | None = None
    last_progress: dict[str, Any] = field(default_factory=dict)
    held: Any = None  # the project lock, released when the job ends


class JobManager:
    def __init__(self, emit: Emit):
        self._emit = emit
        self._jobs: dict[str, JobRecord] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def start(self, args: dict, request_id: str | None = None) -> dict:
        """Validate and start a job. Its ``job.started`` event (sent before this returns,
        so before the reply) carries ``request_id``, the ``job.start`` request's id, so a
        client matches the job's events to its request from the first one."""
        kind = args.get("kind")
        if kind not in JOB_MODULES:
            raise JobError(f"unknown job kind {kind!r}; known kinds: {', '.join(JOB_MODULES)}",
                           code=E_UNKNOWN_COMMAND)
        job_args = args.get("args") or {}
        if not isinstance(job_args, dict):
            raise BadArgs("'args' must be an object")
        module = job_module(kind)
        params = module.prepare(job_args)  # BadArgs goes back as an error reply
        key_fn = getattr(module, "exclusive_key", None)
        key = key_fn(params) if key_fn else None
        with self._lock:
            if key is not None:
                for rec in self._jobs.values():
                    if rec.status == JOB_RUNNING and rec.key == key:
                        raise JobError(f"a {rec.kind} job ({rec.job_id}) is already working "
                                       f"on {key}; wait for it or cancel it", code=E_BUSY)
            job_id = f"job-{next(self._ids)}"
            held = hold_project(module, params, kind=kind, job_id=job_id, via="the app")
            ctx = JobContext(job_id, kind, self._tracking_emit(job_id))
            rec = JobRecord(job_id, kind, ctx, key, held=held)
            self._jobs[job_id] = rec
        rec.thread = threading.Thread(target=self._run, args=(rec, module, params),
                                      name=job_id, daemon=True)
        self._emit("job.started", {"job_id": job_id, "kind": kind, "args": job_args,
                                   "request_id": request_id})
        rec.thread.start()
        return {"job_id": job_id, "kind": kind}

    def _tracking_emit(self, job_id: str) -> Emit:
        def emit(event: str, data: dict) -> None:
            if event == "job.progress":
                rec = self._jobs.get(job_id)
                if rec is not None:
                    rec.last_progress = data
            self._emit(event, data)

        return emit

    def _run(self, rec: JobRecord, module: Any, params: Any) -> None:
        payload: dict[str, Any] = {"job_id": rec.job_id, "kind": rec.kind}
        try:
            result = module.run(params, rec.ctx)
        except JobCancelled:
            rec.status = JOB_CANCELLED
        except JobError as exc:
            rec.status = JOB_FAILED
            payload["error"] = {"code": exc.code, "message": exc.message, "details": exc.details}
        except Exception as exc:
            rec.status = JOB_FAILED
            log.error("job %s crashed\n%s", rec.job_id, traceback.format_exc())
            payload["error"] = {"code": E_INTERNAL, "message": f"{type(exc).__name__}: {exc}"}
        else:
            # a job that stops gracefully on cancel (training) still returns its summary
            rec.status = JOB_CANCELLED if rec.ctx.cancelled else JOB_OK
            payload["result"] = result if isinstance(result, dict) else {"value": result}
        finally:
            if rec.held is not None:  # free before job.finished: the next job may start
                rec.held.release()
        payload["status"] = rec.status
        payload["seconds"] = round(time.time() - rec.started, 3)
        self._emit("job.finished", payload)

    def cancel(self, args: dict) -> dict:
        job_id = args.get("job_id")
        rec = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if rec is None:
            raise JobError(f"no job with id {job_id!r}", code=E_NOT_FOUND)
        was_running = rec.status == JOB_RUNNING
        rec.ctx.cancel()
        return {"job_id": rec.job_id, "was_running": was_running}

    def set_paused(self, args: dict, paused: bool) -> dict:
        job_id = args.get("job_id")
        rec = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if rec is None:
            raise JobError(f"no job with id {job_id!r}", code=E_NOT_FOUND)
        module = job_module(rec.kind)
        if not getattr(module, "PAUSABLE", False):
            raise JobError(f"a {rec.kind} job cannot be paused", code=E_BAD_ARGS)
        if rec.status == JOB_RUNNING and paused:
            rec.ctx.pause()
        elif rec.status == JOB_RUNNING:
            rec.ctx.resume()
        return {"job_id": rec.job_id, "paused": rec.ctx.paused}

    def control(self, args: dict) -> dict:
        """``job.control {job_id, values}``: live controls for a running job."""
        job_id = args.get("job_id")
        rec = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if rec is None:
            raise JobError(f"no job with id {job_id!r}", code=E_NOT_FOUND)
        values = args.get("values")
        if not isinstance(values, dict):
            raise BadArgs("'values' must be an object of control names and values")
        if rec.status != JOB_RUNNING:
            raise BadArgs(f"job {rec.job_id} is not running any more ({rec.status})")
        return rec.ctx.control(values)

    def cancel_all(self) -> list[str]:
        ids = []
        for rec in list(self._jobs.values()):
            if rec.status == JOB_RUNNING:
                rec.ctx.cancel()
                ids.append(rec.job_id)
        return ids

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for rec in list(self._jobs.values()):
            if rec.thread is not None:
                rec.thread.join(max(0.0, deadline - time.monotonic()))

    def list(self) -> list[dict]:
        return [{"job_id": r.job_id, "kind": r.kind, "status": r.status, "started": r.started,
                 "progress": r.last_progress} for r in self._jobs.values()]
